"""SQLite files: consistent copies while others write, and checks that a file is a smallcrm
database of a schema this version knows.

Copies use SQLite's online backup API (`sqlite3.Connection.backup`): one step, inside a read
transaction, so the copy is a snapshot of one moment even while other processes commit (in WAL
mode writers are not blocked). Copies are written to a private temporary file beside the target
and renamed over it, so a crash never leaves half a backup under the final name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from smallcrm.errors import DatabaseError
from smallcrm.store.engine import BUSY_TIMEOUT_S
from smallcrm.store.migrations import HEAD, REVISIONS

SQLITE_HEADER = b"SQLite format 3\x00"
# Tables every smallcrm schema has had since the first revision.
CORE_TABLES = frozenset({"contact", "company", "lead", "activity", "followup", "user_account"})


def private_file(path: Path) -> None:
    """Create `path` empty and readable by its owner only (0600), failing if it exists."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    return conn


def copy_database(source: Path, dest: Path, *, check: bool = True) -> None:
    """A consistent copy of the live database `source` at `dest` (0600, a single file in
    rollback-journal mode), replacing `dest` atomically."""
    if not source.is_file():
        raise DatabaseError(f"{source} does not exist")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    try:
        private_file(tmp)
    except OSError as error:
        raise DatabaseError(f"cannot write {dest}: {error.strerror or error}") from None
    try:
        src = _connect(source)
        dst = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            src.backup(dst)  # all pages in one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")
            if check:
                problems = [r[0] for r in dst.execute("PRAGMA quick_check")]
                if problems != ["ok"]:
                    raise DatabaseError(f"the copy of {source} is damaged: {problems[0]}")
        finally:
            dst.close()
            src.close()
        os.replace(tmp, dest)
        _sync_dir(dest.parent)
    except sqlite3.Error as error:
        raise DatabaseError(f"cannot copy {source}: {error}") from None
    except OSError as error:
        raise DatabaseError(f"cannot write {dest}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _sync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def scratch_copy(source: Path, directory: Path) -> Iterator[Path]:
    """A private copy of `source` (and its WAL, if any) to inspect and change; the original
    is only read. Removed afterwards."""
    if not source.exists():
        raise DatabaseError(f"{source} does not exist")
    if source.is_dir():
        raise DatabaseError(f"{source} is a directory, not a database file")
    try:
        with source.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise DatabaseError(f"cannot read {source}: {error.strerror or error}") from None
    if header != SQLITE_HEADER:
        raise DatabaseError(f"{source} is not a smallcrm database (not an SQLite file)")
    work = Path(tempfile.mkdtemp(prefix=".smallcrm-restore-", dir=directory))
    try:
        work.chmod(0o700)
        copy = work / "candidate.db"
        shutil.copyfile(source, copy)
        wal = source.with_name(source.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        copy.chmod(0o600)
        yield copy
    except OSError as error:
        raise DatabaseError(f"cannot copy {source}: {error.strerror or error}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def check_file(path: Path, shown: str | None = None) -> str:
    """The schema revision of the smallcrm database at `path` (a scratch copy: it may be
    changed); DatabaseError when it is damaged, not smallcrm's, or from a newer smallcrm."""
    name = shown or str(path)
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            problems = [r[0] for r in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise DatabaseError(f"{name} is damaged: {problems[0]}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables or not CORE_TABLES <= tables:
                raise DatabaseError(f"{name} is not a smallcrm database")
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            # Leave the scratch copy as one file, whatever journal mode it had.
            conn.execute("PRAGMA journal_mode = DELETE")
        finally:
            conn.close()
    except sqlite3.DatabaseError as error:
        raise DatabaseError(f"{name} is not a smallcrm database ({error})") from None
    revision = row[0] if row else None
    if revision is None:
        raise DatabaseError(f"{name} is not a smallcrm database (no schema revision)")
    if revision not in REVISIONS:
        raise DatabaseError(
            f"{name} was written by a newer smallcrm (schema {revision}; this one knows up to "
            f"{HEAD}); upgrade smallcrm to restore it"
        )
    return revision


def replace_contents(source: Path, live: Path) -> None:
    """Make the live database hold exactly what `source` holds, through SQLite (the backup API
    into the live file), so other connections see the change instead of a swapped file."""
    try:
        src = sqlite3.connect(str(source), isolation_level=None)
        dst = _connect(live)
        try:
            mode = dst.execute("PRAGMA journal_mode").fetchone()[0]
            _match_page_size(src, dst.execute("PRAGMA page_size").fetchone()[0])
            src.backup(dst)
            if dst.execute("PRAGMA journal_mode").fetchone()[0] != mode:
                dst.execute(f"PRAGMA journal_mode = {mode}")
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
            src.close()
    except sqlite3.Error as error:
        raise DatabaseError(f"cannot restore into {live}: {error}") from None


def _match_page_size(source: sqlite3.Connection, size: int) -> None:
    """Rewrite the private copy `source` with pages of `size` bytes: the backup API cannot
    change the page size of a file in WAL mode (a backup from before smallcrm made its files
    with 16 KB pages has 4 KB ones)."""
    if source.execute("PRAGMA page_size").fetchone()[0] == size:
        return
    source.execute("PRAGMA journal_mode = DELETE")
    source.execute(f"PRAGMA page_size = {int(size)}")
    source.execute("VACUUM")


def is_healthy(path: Path) -> bool:
    """Whether `path` is an SQLite file that opens and passes a quick check."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return False
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                return False
        conn = _connect(path)
        try:
            return [r[0] for r in conn.execute("PRAGMA quick_check")] == ["ok"]
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False


def copy_file(source: Path, dest: Path) -> None:
    """A byte copy (for a file SQLite cannot read), private to the user."""
    try:
        private_file(dest)
        shutil.copyfile(source, dest)
    except OSError as error:
        raise DatabaseError(f"cannot copy {source} to {dest}: {error.strerror or error}") from None


def replace_file(source: Path, live: Path) -> None:
    """Put a copy of `source` in place of a live file SQLite cannot use (damaged, or junk)."""
    tmp = live.with_name(f".{live.name}.{os.getpid()}.restore")
    try:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        private_file(tmp)
        shutil.copyfile(source, tmp)
        for companion in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                live.with_name(live.name + companion).unlink()
        os.replace(tmp, live)
        _sync_dir(live.parent)
    except OSError as error:
        raise DatabaseError(f"cannot restore into {live}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()

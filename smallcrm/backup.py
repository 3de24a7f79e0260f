"""Backups of an SQLite database: on demand, automatically once a day, and restores.

`backup` copies the live database consistently while others write. `restore` checks the file
(SQLite, intact, a smallcrm schema this version knows) on a private scratch copy before anything
is replaced, upgrades that copy to the current schema, erases again everyone forgotten since the
backup was made (tombstones), keeps the database it replaces as a dated copy beside it, and only
then writes the restored contents into the live file.

Automatic backups: with `backup.keep = N` in the config (N > 0), the first time a front end
opens a database on a day, a copy goes to `<data dir>/backups/` and only the newest N are kept.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from smallcrm import records, settings
from smallcrm.errors import DatabaseError, Invalid, SmallCrmError
from smallcrm.values import local_zone

if TYPE_CHECKING:
    from smallcrm.store import Db

# The store (and SQLAlchemy with it) is imported by the functions that use it, so that asking
# whether today's backup is due (`todays_target`) stays cheap.


@dataclass(frozen=True)
class Restored:
    source: str
    revision: str
    kept: str
    erasures_reapplied: int


def _sqlite_path(db: Db, what: str) -> Path:
    path = db.path
    if db.dialect != "sqlite" or path is None:
        raise Invalid(
            f"{what} works on SQLite databases; back up a PostgreSQL database with pg_dump"
        )
    return path.resolve()


def _stamp() -> str:
    return datetime.now(local_zone()).strftime("%Y%m%d-%H%M%S")


def backup(db: Db, dest: str | Path) -> records.Backup:
    """Copy the database to DEST (a file, or a directory to put a dated file in), 0600."""
    from smallcrm.store import backup as files

    if db.path is None:  # a team database: pg_dump (smallcrm.transfer knows the server side)
        from smallcrm import transfer

        return transfer.dump_server_database(db, dest)
    source = _sqlite_path(db, "db backup")
    target = Path(dest).expanduser()
    if target.is_dir():
        target = target / f"{source.stem}-{_stamp()}{source.suffix or '.db'}"
    if not target.parent.is_dir():
        raise Invalid(f"directory {target.parent} does not exist")
    if target.exists() and target.resolve() == source:
        raise Invalid(f"{target} is the database itself; back it up to another file")
    files.copy_database(source, target)
    return records.Backup(path=str(target), size=target.stat().st_size, revision=db.revision())


def restore(target: Db | str | None, source: str | Path) -> Restored:
    """Replace a database's contents with the backup SOURCE after checking it thoroughly; the
    replaced database is kept beside it as `<name>.before-restore-<time>.db`.

    `target` is an open Db, or what --db says (None: SMALLCRM_DB, the config, the default):
    a database too damaged to open can be restored over too."""
    from smallcrm.store import Db, open_db
    from smallcrm.store import backup as files

    db = target if isinstance(target, Db) else None
    if db is not None:
        live = _sqlite_path(db, "db restore")
    else:
        from smallcrm.store.engine import sqlite_path

        path = sqlite_path(settings.database_target(target))  # type: ignore[arg-type]
        if path is None:
            raise Invalid("db restore works on SQLite databases; use pg_restore for PostgreSQL")
        live = path.resolve()
    candidate = Path(source).expanduser()
    if candidate.exists() and candidate.resolve() == live:
        raise Invalid(f"{candidate} is the database itself")
    if not live.parent.is_dir():
        raise Invalid(f"directory {live.parent} does not exist")
    from smallcrm import privacy

    stones = _current_tombstones(db, live)
    with files.scratch_copy(candidate, live.parent) as scratch:
        revision = files.check_file(scratch, shown=str(candidate))
        restored = open_db(str(scratch))  # upgrades an older schema in place
        try:
            erased = privacy.reapply_erasures(restored, stones)
        finally:
            restored.dispose()  # the last connection closing folds the WAL into the file
        kept = ""
        healthy = files.is_healthy(live)
        if live.exists() and live.stat().st_size > 0:
            name = f"{live.stem}.before-restore-{_stamp()}{live.suffix or '.db'}"
            kept_path = live.with_name(name)
            if healthy:
                files.copy_database(live, kept_path, check=False)
            else:
                files.copy_file(live, kept_path)
            kept = str(kept_path)
        if db is not None:
            db.dispose()
        if healthy:
            files.replace_contents(scratch, live)
        else:
            files.replace_file(scratch, live)
    if db is not None:
        db.dispose()
    return Restored(str(candidate), revision, kept, erased)


def check_backup(source: str | Path, directory: str | Path | None = None) -> str:
    """The schema revision of the backup SOURCE; DatabaseError when it cannot be restored."""
    from smallcrm.store import backup as files

    candidate = Path(source).expanduser()
    work = Path(directory) if directory else settings.data_dir()
    if not work.is_dir():
        work = candidate.parent if candidate.parent.is_dir() else Path(".")
    with files.scratch_copy(candidate, work) as scratch:
        return files.check_file(scratch, shown=str(candidate))


def _current_tombstones(db: Db | None, live: Path) -> list[dict]:
    from smallcrm import privacy
    from smallcrm.store import backup as files
    from smallcrm.store import open_db

    if db is None and not files.is_healthy(live):
        return []
    try:
        if db is not None:
            return privacy.tombstones(db)
        current = open_db(str(live), upgrade=False)
        try:
            return privacy.tombstones(current)
        finally:
            current.dispose()
    except SmallCrmError:
        return []  # an older schema (no erasures yet) or a damaged file: nothing to carry over


# --- automatic daily backups ----------------------------------------------------------------


def backups_dir() -> Path:
    return settings.data_dir() / "backups"


def _prefix(path: Path) -> str:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:8]
    return f"{path.stem}-{digest}-"


def _keep() -> int:
    value = settings.setting("backup.keep", 0)
    try:
        keep = int(value)
    except (TypeError, ValueError):
        raise Invalid(f"backup.keep must be a whole number, not {value!r}") from None
    return max(keep, 0)


def automatic_backups(db: Db) -> list[Path]:
    """The automatic backups of this database, oldest first."""
    path = db.path
    if db.dialect != "sqlite" or path is None:
        return []
    prefix = _prefix(path.resolve())
    directory = backups_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"{prefix}*.db") if p.is_file())


def todays_target(path: Path) -> Path | None:
    """Where today's automatic backup of the SQLite file at `path` goes, if `backup.keep` asks
    for them and it is not made yet; None otherwise. Loads no database code."""
    if _keep() <= 0:
        return None
    path = path.resolve()
    day = datetime.now(local_zone()).strftime("%Y-%m-%d")
    target = backups_dir() / f"{_prefix(path)}{day}.db"
    return None if target.exists() else target


def due(path: Path) -> bool:
    """Whether opening the SQLite file at `path` through the store would make today's
    automatic backup. Any doubt counts as due, so the store opens it and makes (or reports)
    the backup. For the paths that read the file without the store (export, import)."""
    try:
        return todays_target(path) is not None
    except Exception:  # not a number, an unreadable config: the store reports it
        return True


def daily_if_due(db: Db) -> Path | None:
    """Make today's automatic backup if `backup.keep` asks for them and there is none yet.

    Cheap when not due (one stat). Never raises: a failed backup is reported on stderr and
    the command goes on."""
    from smallcrm.store import backup as files

    try:
        path = db.path
        if db.dialect != "sqlite" or path is None:
            return None
        target = todays_target(path)
        if target is None:
            return None
        keep = _keep()
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        files.copy_database(path, target)
        for old in automatic_backups(db)[:-keep]:
            old.unlink(missing_ok=True)
        return target
    except (SmallCrmError, OSError) as error:
        message = str(error) if isinstance(error, DatabaseError | Invalid) else repr(error)
        print(f"warning: automatic backup failed: {message}", file=sys.stderr)
        return None

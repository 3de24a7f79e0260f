"""Moving a whole CRM between databases, and backing up a team (PostgreSQL) database.

`copy_database` is `smallcrm db copy --to URL`: a solo SQLite CRM goes into an empty team
database (or any database into any other, a team database into a file included). Every row of
every table is copied with its id, so every link, stage change and extra field stays exactly
as it was; the id sequences are then moved past the copied ids and the search index is built
anew. It all happens in one transaction of the target: a failed copy leaves it empty.

This module and smallcrm/store are the only places that look inside a database URL.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy import exc as sa_exc
from sqlmodel import Session, SQLModel

from smallcrm import records
from smallcrm.errors import DatabaseError, Invalid
from smallcrm.store import Db, history, open_db, search_index
from smallcrm.store.engine import normalize_url, sqlite_path
from smallcrm.store.maintenance import reset_id_sequences

# Rows every new database is born with (the default pipeline); a copy replaces them.
SEED_TABLES = frozenset({"pipeline", "stage"})
BATCH = 1000


@dataclass(frozen=True)
class CopyReport:
    source: str
    target: str
    counts: dict[str, int]  # table -> rows copied, in copy order

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def tables() -> list[Table]:
    """Every table of the CRM, parents before children (search_index is rebuilt, not copied)."""
    from smallcrm.store import tables

    tables.load_all()
    return list(SQLModel.metadata.sorted_tables)


def has_password(target: str) -> bool:
    """Whether a URL carries a password (which belongs in PGPASSWORD or ~/.pgpass instead)."""
    if sqlite_path(target) is not None:
        return False
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return bool(make_url(normalize_url(target)).password)
    except ArgumentError:
        return False


def same_database(first: str, second: str) -> bool:
    first_path, second_path = sqlite_path(first), sqlite_path(second)
    if first_path is not None or second_path is not None:
        if first_path is None or second_path is None:
            return False
        return first_path.resolve() == second_path.resolve()
    return normalize_url(first).rstrip("/") == normalize_url(second).rstrip("/")


def copy_database(
    source: Db, target: str, *, on_table: Callable[[str, int], None] | None = None
) -> CopyReport:
    """Copy every record of `source` into the empty database `target` (created and migrated
    when new). `on_table(name, rows)` is told as each table is done."""
    if same_database(source.target, target):
        raise Invalid("the target is the database being copied; name another one")
    destination = open_db(target)
    try:
        counts: dict[str, int] = {}
        with destination.write() as out, source.read() as src:
            history.suspend(out)  # the copied history comes along; the copy adds none
            _require_empty(out, destination)
            for table in reversed(tables()):
                out.execute(delete(table))
            for table in tables():
                counts[table.name] = _copy_table(src, out, table)
                if on_table is not None:
                    on_table(table.name, counts[table.name])
            reset_id_sequences(out)
            search_index.rebuild(out)
            _verify(out, counts)
        return CopyReport(source.display_name(), destination.display_name(), counts)
    finally:
        destination.dispose()


def _count(session: Session, table: Table) -> int:
    return session.execute(select(func.count()).select_from(table)).scalar_one()


def _require_empty(session: Session, db: Db) -> None:
    filled = [
        f"{count} {table.name}"
        for table in tables()
        if table.name not in SEED_TABLES and (count := _count(session, table))
    ]
    if filled:
        raise Invalid(
            f"database {db.display_name()} already holds data ({', '.join(filled)} rows); "
            "copy into a new, empty database"
        )


def _copy_table(src: Session, out: Session, table: Table) -> int:
    order = list(table.primary_key.columns) or list(table.columns)
    rows = src.execute(select(table).order_by(*order).execution_options(yield_per=BATCH))
    names = list(rows.keys())
    copied = 0
    for batch in rows.partitions(BATCH):
        try:
            out.execute(insert(table), [dict(zip(names, row, strict=True)) for row in batch])
        except sa_exc.DBAPIError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise DatabaseError(f"cannot copy table {table.name}: {reason}") from None
        copied += len(batch)
    return copied


def _verify(out: Session, counts: dict[str, int]) -> None:
    for table in tables():
        found = _count(out, table)
        if found != counts[table.name]:
            raise DatabaseError(
                f"copy check failed: {table.name} has {found} rows, expected "
                f"{counts[table.name]}; nothing was copied"
            )


# --- Backups of a server database -------------------------------------------------------------


def is_server_database(db: Db) -> bool:
    return db.path is None


def find_pg_dump() -> str | None:
    """pg_dump on PATH, else the newest one a Debian/Ubuntu server package installed."""
    found = shutil.which("pg_dump")
    if found:
        return found
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_dump")
    candidates.sort(key=_version_of, reverse=True)
    return candidates[0] if candidates else None


def _version_of(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(p) for p in part.split(".") if p.isdigit())


def _conninfo(target: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    from sqlalchemy.engine import make_url

    url = make_url(normalize_url(target))
    fields: dict[str, str] = {}
    for key, value in url.query.items():
        fields[key] = value if isinstance(value, str) else value[-1]
    for key, value in (
        ("host", url.host),
        ("port", url.port),
        ("user", url.username),
        ("dbname", url.database),
    ):
        if value is not None:
            fields[key] = str(value)
    conninfo = " ".join(f"{key}='{_libpq_quoted(value)}'" for key, value in fields.items())
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return conninfo, env


def _libpq_quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def libpq_uri(target: str) -> str:
    """The URL as libpq tools (psql, pg_dump, pg_restore) take it, without the password."""
    from sqlalchemy.engine import make_url

    url = make_url(normalize_url(target)).set(drivername="postgresql", password=None)
    return url.render_as_string(hide_password=False)


def manual_dump_command(db: Db, path: str | Path) -> str:
    return (
        f"pg_dump --format=custom --file '{path}' '{libpq_uri(db.target)}' "
        "(with the password in PGPASSWORD or ~/.pgpass)"
    )


def restore_hint(db: Db, path: str | Path) -> str:
    return f"pg_restore --clean --if-exists --no-owner --dbname '{libpq_uri(db.target)}' '{path}'"


def dump_server_database(db: Db, dest: str | Path) -> records.Backup:
    """A consistent snapshot of a PostgreSQL database by pg_dump (custom format; restore it
    with pg_restore) in DEST, a file or a directory for a dated one; private to the user
    (0600). The password reaches pg_dump through its environment, never its arguments."""
    if not is_server_database(db):
        raise Invalid(f"{db.display_name()} is a file; back it up as a file")
    target = Path(dest).expanduser()
    if target.is_dir():
        from datetime import datetime

        from smallcrm.values import local_zone

        name = _database_name(db.target) or "smallcrm"
        target = target / f"{name}-{datetime.now(local_zone()):%Y%m%d-%H%M%S}.dump"
    if not target.parent.is_dir():
        raise Invalid(f"directory {target.parent} does not exist")
    pg_dump = find_pg_dump()
    if pg_dump is None:
        raise DatabaseError(
            "pg_dump is not installed; install the PostgreSQL client tools (Debian/Ubuntu: "
            "apt-get install postgresql-client) and run this again, or run "
            + manual_dump_command(db, target)
        )
    conninfo, env = _conninfo(db.target)
    fd, scratch = tempfile.mkstemp(prefix=".smallcrm-backup-", dir=target.parent)
    os.close(fd)
    try:
        done = subprocess.run(
            [pg_dump, "--format=custom", "--no-password", f"--file={scratch}",
             f"--dbname={conninfo}"],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["failed"])[0]
            password = env.get("PGPASSWORD")
            if password:
                reason = reason.replace(password, "***")
            raise DatabaseError(f"pg_dump: {reason.removeprefix('pg_dump: ')}")
        os.chmod(scratch, 0o600)
        os.replace(scratch, target)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
    return records.Backup(path=str(target), size=target.stat().st_size, revision=db.revision())


def _database_name(target: str) -> str | None:
    from sqlalchemy.engine import make_url

    return make_url(normalize_url(target)).database

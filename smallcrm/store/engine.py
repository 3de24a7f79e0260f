"""Turn a database target (path or URL) into a configured SQLAlchemy engine.

Everything dialect-specific about connections lives here: SQLite gets WAL, foreign keys, a busy
timeout, synchronous=NORMAL and a `BEGIN IMMEDIATE` for every write transaction (pysqlite's own
implicit BEGIN is turned off, since a deferred BEGIN loses writes to "database is locked" when
several processes read-then-write).

PostgreSQL gets the same guarantee: every write transaction first takes one transaction-level
advisory lock, so writers queue exactly as they do behind SQLite's write lock, and the
read-then-write steps of the services (unique checks, find-or-create, version checks) see every
commit made before them. A team of reps writes a few rows a minute; serialising writers costs
nothing there and removes every race between check and insert. Readers take no lock and see one
consistent snapshot (REPEATABLE READ). Lock waits give up after the same 15 s as SQLite's busy
timeout, with the same "busy" message.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError

from smallcrm.errors import DatabaseError
from smallcrm.store.waits import BUSY_TIMEOUT_S, WRITE_RETRY_S

CONNECT_TIMEOUT_S = 10
BEGIN_OPTION = "smallcrm_begin"
# pg_advisory_xact_lock key of the writers' lock: "smallcrm" as a 64-bit integer. Advisory locks
# are per database, so two team databases on one server never wait for each other.
WRITE_LOCK_KEY = 0x736D616C6C63726D
# URL schemes people type for PostgreSQL; all of them mean the psycopg 3 driver.
_POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def is_url(target: str) -> bool:
    return "://" in target


def sqlite_path(target: str) -> Path | None:
    """The file behind a SQLite target, or None for a server database."""
    if not is_url(target):
        return Path(target).expanduser()
    try:
        url = make_url(normalize_url(target))
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite":
        return None
    return Path(url.database).expanduser() if url.database else None


def prepare_sqlite_file(path: Path) -> bool:
    """Make sure the file can be opened; create it private to the user. True when it is new."""
    if path.exists():
        if path.is_dir():
            raise DatabaseError(f"{path} is a directory, not a database file")
        return path.stat().st_size == 0
    parent = path.parent
    if not parent.exists():
        raise DatabaseError(f"directory {parent} does not exist")
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600)
    os.close(fd)
    return True


def normalize_url(target: str) -> str:
    """`postgres://` and `postgresql://` mean psycopg 3 (the driver smallcrm ships with)."""
    for scheme in _POSTGRES_SCHEMES:
        if target.startswith(scheme):
            return "postgresql+psycopg://" + target[len(scheme) :]
    return target


def make_engine(target: str) -> Engine:
    path = sqlite_path(target)
    if path is not None:
        return _sqlite_engine(path)
    try:
        url = make_url(normalize_url(target))
    except ArgumentError:
        raise DatabaseError(f"cannot read database URL {redact(target)!r}") from None
    try:
        if url.get_backend_name() == "postgresql":
            return _postgres_engine(url)
        return create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # unknown driver names and the like
        raise DatabaseError(f"cannot use database {redact(target)}: {exc}") from None


def reader_options(engine: Engine) -> dict[str, str]:
    """Execution options of read-only units of work: no write lock, one snapshot."""
    options = {BEGIN_OPTION: "DEFERRED"}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    return options


def _postgres_engine(url: URL) -> Engine:
    engine = create_engine(
        url,
        pool_pre_ping=True,
        # A rep's process uses one connection at a time; keep few open on a shared server.
        pool_size=2,
        max_overflow=3,
        connect_args={"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "smallcrm"},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Give up waiting for a lock (the writers' lock, a row lock) as SQLite's busy timeout does.
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{BUSY_TIMEOUT_S}s'")
        dbapi_connection.commit()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        if connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE") == "IMMEDIATE":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")

    return engine


#: Page size of a new SQLite file. 16 KB pages took 15% off writing a million imported contacts
#: (the search index's blobs and the tables' records pack into fewer pages and b-tree levels)
#: and cost nothing measurable on small writes, searches or lookups by id.
PAGE_SIZE = 16384


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        # A new (empty) file starts in WAL. An existing one is switched by open_db only once
        # it is known to be ours: switching rewrites the header of a file we may refuse.
        if cursor.execute("PRAGMA page_count").fetchone()[0] == 0:
            cursor.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # fixed once in WAL mode
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        _begin_with_retry(connection, mode)

    return engine


def _begin_with_retry(connection, mode: str) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import OperationalError

    from smallcrm.store.loading import begin_retrying, locked

    begin_retrying(
        lambda: connection.exec_driver_sql(f"BEGIN {mode}"),
        lambda error: isinstance(error, OperationalError) and locked(str(error.orig)),
        WRITE_RETRY_S,
    )


def redact(url: str) -> str:
    """A URL fit for messages: the password replaced by ***."""
    if not is_url(url):
        return url
    try:
        return make_url(normalize_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable URL>"

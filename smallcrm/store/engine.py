"""Turn a database target (path or URL) into a configured SQLAlchemy engine.

Everything dialect-specific about connections lives here: SQLite gets WAL, foreign keys, a busy
timeout, synchronous=NORMAL and a `BEGIN IMMEDIATE` for every write transaction (pysqlite's own
implicit BEGIN is turned off, since a deferred BEGIN loses writes to "database is locked" when
several processes read-then-write).
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from smallcrm.errors import DatabaseError

BUSY_TIMEOUT_S = 15
BEGIN_OPTION = "smallcrm_begin"


def is_url(target: str) -> bool:
    return "://" in target


def sqlite_path(target: str) -> Path | None:
    """The file behind a SQLite target, or None for a server database."""
    if not is_url(target):
        return Path(target).expanduser()
    url = make_url(target)
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


def make_engine(target: str) -> Engine:
    path = sqlite_path(target)
    if path is not None:
        return _sqlite_engine(path)
    try:
        url = make_url(target)
    except ArgumentError:
        raise DatabaseError(f"cannot read database URL {redact(target)!r}") from None
    try:
        return create_engine(url, pool_pre_ping=True, future=True)
    except Exception as exc:  # unknown driver names and the like
        raise DatabaseError(f"cannot use database {redact(target)}: {exc}") from None


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
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # type: ignore[no-untyped-def]
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def redact(url: str) -> str:
    """A URL fit for messages: the password replaced by ***."""
    if not is_url(url):
        return url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unreadable URL>"

"""Open a database, run work in short transactions, keep the schema current."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from smallcrm.errors import DatabaseError, Invalid
from smallcrm.store import (
    history,  # registers the change listeners
    tables,
)
from smallcrm.store.engine import (
    make_engine,
    prepare_sqlite_file,
    reader_options,
    redact,
    sqlite_path,
)
from smallcrm.store.migrations import HEAD, REVISIONS


class Db:
    """One database: hands out sessions that live exactly as long as one unit of work."""

    def __init__(self, target: str, engine: Engine) -> None:
        self.target = target
        self.engine = engine
        self._reader = engine.execution_options(**reader_options(engine))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def path(self) -> Path | None:
        return sqlite_path(self.target)

    def display_name(self) -> str:
        return redact(self.target)

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (BEGIN IMMEDIATE on SQLite), committed when the block ends."""
        tables.load_all()  # the unit of work orders its writes by every table's foreign keys
        with _translated_errors(self), Session(self.engine, expire_on_commit=False) as session:
            history.enable(session)  # every change made here is recorded (store/history.py)
            with session.begin():
                yield session

    @contextlib.contextmanager
    def write_attached(self, attached: Mapping[str, str]) -> Iterator[Session]:
        """:meth:`write` with other SQLite files ATTACHed to its connection for the
        transaction, each under its schema name (`attached`: name -> path), so one statement
        can copy rows from them (bulk imports). SQLite only; SQLite refuses ATTACH and DETACH
        inside a transaction, so they happen just before BEGIN IMMEDIATE and after the end."""
        if self.dialect != "sqlite":
            raise ValueError("write_attached needs a SQLite database")
        tables.load_all()
        with _translated_errors(self), self.engine.connect() as conn:
            raw = conn.connection.driver_connection  # no transaction begun yet
            names = []
            try:
                for name, path in attached.items():
                    if not name.isidentifier():
                        raise ValueError(f"bad schema name {name!r}")
                    raw.execute(f'ATTACH DATABASE ? AS "{name}"', (str(path),))
                    names.append(name)
                with Session(bind=conn, expire_on_commit=False) as session:
                    history.enable(session)
                    with session.begin():
                        yield session
            finally:
                if conn.in_transaction():  # an error before the session ended its transaction
                    conn.rollback()
                try:
                    for name in names:
                        raw.execute(f'DETACH DATABASE "{name}"')
                except Exception:  # never hand a connection with a stray schema back to the pool
                    conn.invalidate()

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work that takes no write lock and holds no snapshot afterwards."""
        with _translated_errors(self), Session(self._reader, expire_on_commit=False) as session:
            with session.begin():
                yield session

    def revision(self) -> str | None:
        with _translated_errors(self), self._reader.connect() as conn:
            return _current_revision(conn)

    def dispose(self) -> None:
        self.engine.dispose()


@contextlib.contextmanager
def _translated_errors(db: Db) -> Iterator[None]:
    try:
        yield
    except sa_exc.OperationalError as error:
        raise DatabaseError(_describe(db, error)) from None
    except sa_exc.DatabaseError as error:
        if isinstance(error, sa_exc.IntegrityError):
            raise
        raise DatabaseError(_describe(db, error)) from None
    except UnicodeEncodeError:  # a lone surrogate (undecodable bytes) reached the driver
        raise Invalid("cannot store text holding bytes that are not valid UTF-8") from None


def _describe(db: Db, error: sa_exc.DBAPIError) -> str:
    from smallcrm.store.loading import describe_error  # only on an error: not at start-up

    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    return describe_error(db.display_name(), reason)


def open_db(target: str, *, upgrade: bool = True) -> Db:
    """Open (creating and migrating when new) the database at `target`, a path or a URL.

    A database of an older schema is upgraded in place when `upgrade`; one written by a newer
    smallcrm is refused untouched.
    """
    path = sqlite_path(target)
    if path is not None:
        prepare_sqlite_file(path)
    db = Db(target, make_engine(target))
    try:
        revision = db.revision()
        if revision == HEAD:
            _ensure_wal(db)
            return db
        if revision is not None and revision not in REVISIONS:
            raise DatabaseError(
                f"database {db.display_name()} was written by a newer smallcrm "
                f"(schema {revision}); upgrade smallcrm to use it"
            )
        if revision is None and _has_foreign_tables(db):
            # Another process may have created the schema since we looked.
            revision = db.revision()
            if revision is None:
                raise DatabaseError(f"{db.display_name()} is not a smallcrm database")
            if revision == HEAD:
                _ensure_wal(db)
                return db
        if revision is not None and not upgrade:
            raise DatabaseError(
                f"database {db.display_name()} has schema {revision}; run `smallcrm db migrate`"
            )
        migrate(db)
        _ensure_wal(db)
        return db
    except BaseException:
        db.dispose()
        raise


def upgrade_db(target: str) -> tuple[str | None, str]:
    """Create or upgrade the database at `target`; returns (revision before, after)."""
    path = sqlite_path(target)
    if path is not None:
        prepare_sqlite_file(path)
    db = Db(target, make_engine(target))
    try:
        result = migrate(db)
        _ensure_wal(db)
        return result
    finally:
        db.dispose()


def _ensure_wal(db: Db) -> None:
    """Put a SQLite file that proved to be ours in WAL mode (new files start in it; an old or
    restored one may not be). Runs outside any transaction, as SQLite requires."""
    if db.dialect != "sqlite":
        return
    import sqlite3

    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()
    except sqlite3.Error as error:
        raise DatabaseError(f"database {db.display_name()}: cannot use WAL mode: {error}") from None
    finally:
        raw.close()


def migrate(db: Db) -> tuple[str | None, str]:
    """Upgrade to the newest schema in one write transaction; returns (before, after)."""
    from smallcrm.store.migrations.runner import upgrade_to_head

    with _translated_errors(db), db.engine.begin() as conn:
        before = _current_revision(conn)
        if before is not None and before not in REVISIONS:
            raise DatabaseError(
                f"database {db.display_name()} was written by a newer smallcrm "
                f"(schema {before}); upgrade smallcrm to use it"
            )
        if before != HEAD:
            upgrade_to_head(conn)
    return before, HEAD


def _current_revision(conn) -> str | None:  # type: ignore[no-untyped-def]
    # A savepoint, because PostgreSQL aborts the whole transaction on a missing table.
    try:
        with conn.begin_nested():
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except (sa_exc.OperationalError, sa_exc.ProgrammingError) as error:
        message = str(error.orig)
        if "no such table" in message or "does not exist" in message:
            return None
        raise
    return row[0] if row else None


def _has_foreign_tables(db: Db) -> bool:
    from sqlalchemy import inspect

    with db._reader.connect() as conn:
        names = set(inspect(conn).get_table_names())
    return bool(names - {"alembic_version"})

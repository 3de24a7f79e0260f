"""What an import of contacts reads while it validates: companies by name, contacts by email or
by name, users. Standard library only, so a contacts import validates before (or without) the
database stack loading; the same statements run through a store session on either dialect
(PostgreSQL, or a SQLite file the import could not read itself).

tests/test_import_quick.py compares imports validated both ways.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from smallcrm.errors import DatabaseError
from smallcrm.store import fastread, loading


class Reads:
    """Read statements on one connection: a store session's (SQLite or PostgreSQL, SQL in the
    driver's own parameter style) or a plain sqlite3 connection's."""

    def __init__(self, conn: Any, *, sqlite: bool, driver: bool) -> None:
        self.conn = conn
        self.sqlite = sqlite
        self.driver = driver  # a SQLAlchemy connection, run with exec_driver_sql

    @classmethod
    def of_file(cls, conn: sqlite3.Connection) -> Reads:
        """Reads on a plain sqlite3 connection to a smallcrm file."""
        return cls(conn, sqlite=True, driver=False)

    @classmethod
    def of(cls, session: Any) -> Reads:
        """`session` itself if it is Reads, else reads through a store session's connection."""
        if isinstance(session, Reads):
            return session
        conn = session.connection()
        return cls(conn, sqlite=conn.dialect.name == "sqlite", driver=True)

    def all(self, sqlite: str, postgres: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of the statement for this dialect (`:name` / `%(name)s` parameters)."""
        if not self.driver:
            return self.conn.execute(sqlite, params).fetchall()  # type: ignore[no-any-return]
        return [
            tuple(row)
            for row in self.conn.exec_driver_sql(sqlite if self.sqlite else postgres, params)
        ]


def _keys(reads: Reads, keys: Sequence[str]) -> Any:
    """Many keys as one parameter: a JSON array for SQLite's json_each, an array for PostgreSQL."""
    return json.dumps(list(keys)) if reads.sqlite else list(keys)


def companies_named(reads: Reads, keys: Sequence[str]) -> list[tuple[int, str]]:
    """(id, name) of the companies whose lower(name) is one of `keys`, in one statement."""
    if not keys:
        return []
    return reads.all(  # type: ignore[return-value]
        "SELECT id, name FROM company WHERE lower(name) IN (SELECT value FROM json_each(:keys))",
        "SELECT id, name FROM company WHERE lower(name) = ANY(%(keys)s)",
        {"keys": _keys(reads, keys)},
    )


def companies_folded(reads: Reads, key: str, limit: int) -> list[tuple[int, str]]:
    """(id, name) of up to `limit` companies whose lower(name) is `key`."""
    return reads.all(  # type: ignore[return-value]
        "SELECT id, name FROM company WHERE lower(name) = :key LIMIT :limit",
        "SELECT id, name FROM company WHERE lower(name) = %(key)s LIMIT %(limit)s",
        {"key": key, "limit": int(limit)},
    )


def contacts_with_emails(reads: Reads, keys: Sequence[str]) -> list[tuple[int, str]]:
    """(id, lower(email)) of the contacts whose lower-cased email is one of `keys`, in one
    statement however many keys (an import checks 2,000 at a time). Uses the lower() index."""
    if not keys:
        return []
    return reads.all(  # type: ignore[return-value]
        "SELECT id, lower(email) FROM contact "
        "WHERE lower(email) IN (SELECT value FROM json_each(:keys))",
        "SELECT id, lower(email) FROM contact WHERE lower(email) = ANY(%(keys)s)",
        {"keys": _keys(reads, keys)},
    )


def contacts_named_without_email(reads: Reads, keys: Sequence[str]) -> list[tuple[int, str]]:
    """(id, lower(name)) of the contacts without email whose lower(name) is one of `keys`,
    by id."""
    if not keys:
        return []
    return reads.all(  # type: ignore[return-value]
        "SELECT id, lower(name) FROM contact WHERE email IS NULL "
        "AND lower(name) IN (SELECT value FROM json_each(:keys)) ORDER BY id",
        "SELECT id, lower(name) FROM contact WHERE email IS NULL "
        "AND lower(name) = ANY(%(keys)s) ORDER BY id",
        {"keys": _keys(reads, keys)},
    )


def user(reads: Reads, who: str) -> tuple[int, str] | None:
    """(id, login) of the user `who` names by id, login or email, as smallcrm.users finds
    them (`me` is for the caller to resolve)."""
    who = who.strip()
    if who.isascii() and who.isdigit() and len(who) < 19:
        rows = reads.all(
            "SELECT id, login FROM user_account WHERE id = :id",
            "SELECT id, login FROM user_account WHERE id = %(id)s",
            {"id": int(who)},
        )
        if rows:
            return rows[0][0], rows[0][1]
    rows = reads.all(
        "SELECT id, login FROM user_account WHERE login = :who ORDER BY id LIMIT 1",
        "SELECT id, login FROM user_account WHERE login = %(who)s ORDER BY id LIMIT 1",
        {"who": who.lower()},
    )
    if not rows and "@" in who:
        rows = reads.all(
            "SELECT id, login FROM user_account WHERE lower(email) = :who ORDER BY id LIMIT 1",
            "SELECT id, login FROM user_account WHERE lower(email) = %(who)s ORDER BY id LIMIT 1",
            {"who": who.lower()},
        )
    return (rows[0][0], rows[0][1]) if rows else None


class FileReads:
    """A smallcrm SQLite file read with the standard library, one short read transaction at a
    time (as a store session's `Db.read`). Opened again after :meth:`dispose`, so each side of
    a fork has its own connection."""

    dialect = "sqlite"

    def __init__(self, path: Path, name: str) -> None:
        self.path = path
        self.name = name  # as messages show the database (the target as given)
        self.conn: sqlite3.Connection | None = None

    @classmethod
    def open(cls, path: Path, name: str) -> FileReads | None:
        """Reads of the file at `path`, or None unless it is a smallcrm database of this
        schema in WAL mode (see :func:`smallcrm.store.fastread.connect`)."""
        conn = fastread.connect(path)
        if conn is None:
            return None
        reads = cls(path, name)
        reads.conn = conn
        return reads

    @contextlib.contextmanager
    def read(self) -> Iterator[Reads]:
        if self.conn is None:
            self.conn = fastread.connect(self.path)
            if self.conn is None:  # replaced or migrated meanwhile
                raise DatabaseError(f"database {self.name} changed during the import; try again")
        try:
            self.conn.execute("BEGIN")
            try:
                yield Reads.of_file(self.conn)
            finally:
                self.conn.execute("COMMIT")
        except sqlite3.Error as error:
            raise DatabaseError(loading.describe_error(self.name, str(error))) from None

    def dispose(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

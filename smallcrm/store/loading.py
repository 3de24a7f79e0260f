"""Loading many rows into a local (SQLite) database file in one transaction: the statements,
over any `execute(sql, params)` (a sqlite3 connection's, or a store connection's
`exec_driver_sql`).

Standard library only. smallcrm.store.bulk and smallcrm.store.search_index run these
statements through the store; :func:`write_contacts` runs them on a sqlite3 connection of its
own, so an import of contacts into a local file writes without loading SQLAlchemy, SQLModel
and the tables (~0.3 s: a tenth of importing 100,000 contacts).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from smallcrm.errors import DatabaseError
from smallcrm.store.migrations import HEAD
from smallcrm.store.waits import BUSY_TIMEOUT_S, WRITE_RETRY_S

#: (sql, params=()) -> a cursor (fetchall, fetchone)
Execute = Callable[..., Any]

#: Helper threads SQLite may sort with while it builds an index after a bulk load (the
#: second core is idle then): 5-15% off rebuilding the indexes of a million contacts.
SORT_THREADS = min(2, os.cpu_count() or 1) - 1

# --- the search index's documents ----------------------------------------------------------

#: Search document kinds: a record's document is `id * 4 + code`.
SEARCH_KINDS: dict[str, int] = {"contact": 0, "company": 1, "lead": 2, "activity": 3}
#: Each kind's documents: (doc_id, title, body), by SELECT over its table.
SEARCH_SOURCES = {
    "contact": """
        SELECT c.id * 4 + 0 AS doc_id, c.name AS title,
               COALESCE(c.email, '') || ' ' || COALESCE(c.phone, '') || ' ' ||
               COALESCE(c.title, '') || ' ' || COALESCE(co.name, '') || ' ' ||
               COALESCE(c.note, '') AS body
        FROM contact c LEFT JOIN company co ON co.id = c.company_id""",
    "company": """
        SELECT co.id * 4 + 1, co.name,
               COALESCE(co.domain, '') || ' ' || COALESCE(co.industry, '') || ' ' ||
               COALESCE(co.city, '') || ' ' || COALESCE(co.country, '') || ' ' ||
               COALESCE(co.note, '')
        FROM company co""",
    "lead": """
        SELECT l.id * 4 + 2, l.title,
               COALESCE(c.name, '') || ' ' || COALESCE(co.name, '') || ' ' ||
               COALESCE(l.lost_reason, '')
        FROM lead l LEFT JOIN contact c ON c.id = l.contact_id
                    LEFT JOIN company co ON co.id = l.company_id""",
    "activity": """
        SELECT a.id * 4 + 3, a.summary, COALESCE(a.body, '')
        FROM activity a""",
}
SEARCH_ID_COLUMN = {"contact": "c.id", "company": "co.id", "lead": "l.id", "activity": "a.id"}
#: Records whose documents are added by one statement at most (PostgreSQL makes them in
#: Python, so this bounds its memory).
INDEX_STEP = 20_000
#: From this many new documents on, they are added with FTS5's bulk settings.
BULK_DOCUMENTS = 5000

# FTS5 settings for adding many documents in one transaction: a larger in-memory hash of
# pending terms (fewer, larger segments written), and no merging while they go in: each flush
# of the hash leaves a segment on the first level, up to CRISIS_MERGE of them (a million
# contacts leave ~50). Merging them as they came rewrote every term again: 3 of the 11 s the
# search documents of a million contacts took. Searches over those ~50 segments take within
# 10% of the time over one merged segment. Restored afterwards, so that the writes that
# follow merge the segments a little each (automerge) rather than one writer all at once.
# Leaves as large as the file's pages hold (FTS5's default, 4050 bytes, fits a 4 KB page): on
# 16 KB pages a million contacts' documents went in 0.4 s faster (medians of 3 runs).
_FTS_BULK = {"hashsize": 8 * 1024 * 1024, "automerge": 0}
_FTS_DEFAULT = {"hashsize": 1024 * 1024, "automerge": 4, "pgsz": 4050}
_FTS_LEAF_SLACK = 4096 - _FTS_DEFAULT["pgsz"]  # what a page keeps beside an FTS5 leaf
#: Segments on one level that make FTS5 merge them all at once in the write that adds one
#: more (its default is 16). Kept, not restored: with 16, the first edit after a bulk load
#: would merge everything the load left (seconds, on a million contacts).
CRISIS_MERGE = 64


def search_insert_sql(kind: str, where: str, key: str = "rowid") -> str:
    return f"INSERT INTO search_index ({key}, title, body) {SEARCH_SOURCES[kind]} {where}"


def search_range(kind: str, first_id: int, last_id: int) -> str:
    """WHERE clause of the `kind` records with ids first_id..last_id."""
    return f"WHERE {SEARCH_ID_COLUMN[kind]} BETWEEN {int(first_id)} AND {int(last_id)}"


@contextlib.contextmanager
def fts_bulk_settings(execute: Execute, try_set: Callable[[str, object], bool]) -> Iterator[None]:
    """FTS5's settings for adding many documents in this transaction, restored afterwards;
    `try_set(name, value)` sets one, False when this SQLite does not know it."""
    before = dict(
        execute(
            "SELECT k, v FROM search_index_config WHERE k IN ('hashsize', 'automerge', 'pgsz')"
        ).fetchall()
    )
    page = execute("PRAGMA page_size").fetchone()[0]
    bulk = {**_FTS_BULK, "pgsz": max(page - _FTS_LEAF_SLACK, _FTS_DEFAULT["pgsz"])}
    changed = [name for name, value in bulk.items() if try_set(name, value)]
    try_set("crisismerge", CRISIS_MERGE)
    yield  # on an error the transaction rolls back, the settings with it
    for name in changed:
        try_set(name, before.get(name, _FTS_DEFAULT[name]))
        if name not in before:  # the config table as it was
            execute("DELETE FROM search_index_config WHERE k = ?", (name,))


FTS_SET = "INSERT INTO search_index(search_index, rank) VALUES (?, ?)"


# --- tables --------------------------------------------------------------------------------

#: Rows one `INSERT … SELECT` copies from the scratch file.
COPY_BATCH = 20_000


def staged_insert_sql(
    table: str, names: Sequence[str], selected: Sequence[str], *, schema: str, link: str | None
) -> str:
    """INSERT into `table` of the scratch file's rows to insert (ATTACHed as `schema`) whose
    lines are in [:first_line, :end_line), as `selected` (SQL over the staged columns and
    `ids.id`, the id given to the key in the staged column `link`) makes them."""
    joined = f' LEFT JOIN "{schema}".ids AS ids ON ids.key = "{link}"' if link else ""
    return (
        f"INSERT INTO {table} ({', '.join(names)}) "
        f'SELECT {", ".join(selected)} FROM "{schema}".staged AS staged{joined} '
        "WHERE action = 'insert' AND line >= :first_line AND line < :end_line ORDER BY line"
    )


def copy_batches(
    execute: Execute, scratch: Any, sql: str, values: Mapping[str, Any], batch: int = COPY_BATCH
) -> Iterator[int]:
    """Run a :func:`staged_insert_sql` statement over the scratch file's rows to insert,
    `batch` of them at a time; yields the rows each copied."""
    starts = scratch.insert_starts(batch)
    for i, first in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else 2**62
        yield execute(sql, {**values, "first_line": first, "end_line": end}).rowcount


#: Rows from which a load that outnumbers the rows already in its table is written as a bulk
#: load: with the table's indexes built afterwards (:func:`indexes_rebuilt`), and outside the
#: WAL (:func:`outside_wal`).
BULK_ROWS = 5000


def dominates(execute: Execute, table: str, adding: int) -> bool:
    """Whether adding `adding` rows to `table` is a bulk load: as many rows as it has or more,
    and not a handful."""
    if adding < BULK_ROWS:
        return False
    return adding >= (execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0)


@contextlib.contextmanager
def indexes_rebuilt(execute: Execute, table: str, adding: int) -> Iterator[None]:
    """Load `adding` rows into `table` with its indexes dropped and built again afterwards,
    when that is cheaper: SQLite builds an index from sorted keys several times faster than it
    inserts the same keys one by one, but only pays off when the rows added outnumber those
    already there. Same transaction: a failure (a unique index refusing) rolls it all back."""
    if not dominates(execute, table, adding):
        yield
        return
    found = execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table,),
    ).fetchall()
    for name, _ in found:
        execute(f'DROP INDEX "{name}"')
    yield
    # A sort takes as much memory as the page cache may: keep it small, spill to temp files.
    before = execute("PRAGMA cache_size").fetchone()[0]
    execute("PRAGMA cache_size = -16384")
    execute(f"PRAGMA threads = {SORT_THREADS}")
    for _, sql in found:
        execute(sql)
    execute("PRAGMA threads = 0")
    execute(f"PRAGMA cache_size = {int(before)}")


@contextlib.contextmanager
def large_cache(execute: Execute, megabytes: int = 24) -> Iterator[None]:
    """A larger page cache for this write: a bulk insert into indexed tables (contact's
    email and name indexes) otherwise evicts and rereads the same pages."""
    before = execute("PRAGMA cache_size").fetchone()[0]
    execute(f"PRAGMA cache_size = -{int(megabytes) * 1024}")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            execute(f"PRAGMA cache_size = {int(before)}")


def utc_text(moment: datetime) -> str:
    """A time as the store keeps it in SQLite: UTC, `2026-03-01 10:00:00.000000`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def spans_json(spans: Sequence[Sequence[int]]) -> str:
    """Id spans as smallcrm.store.history records them."""
    return json.dumps([list(s) for s in spans], separators=(",", ":"))


def describe_error(name: str, reason: str) -> str:
    """A database error as one line for the user (the store's words, for either way in)."""
    if "file is not a database" in reason:
        return f"{name} is not a smallcrm database"
    if locked(reason) or "lock timeout" in reason:  # PostgreSQL's lock_timeout
        return f"database {name} is busy (locked by another program); try again"
    return f"database {name}: {reason}"


# --- an import of contacts, without the store --------------------------------------------


class Stale(Exception):
    """The file is not of this schema any more: the store's write (which upgrades or refuses
    it) takes over."""


@dataclass(frozen=True)
class ContactsLoad:
    """What smallcrm.importing.people.Contacts hands over to write its staged rows."""

    scratch: Any  # smallcrm.store.scratch.Scratch
    inserts: Mapping[str, str]  # contact column -> SQL over the staged columns, :base, :me
    constants: Mapping[str, Any]  # contact column -> the value every new contact gets
    link: str  # the staged column naming a company this import creates
    companies: Sequence[tuple[str, str]]  # (key, name) of the companies to create, in order
    login: str  # the importing user, as smallcrm.settings.current_login gives it


def write_contacts(
    path: Path,
    load: ContactsLoad,
    progress: Callable[[int, int], None] | None = None,
    *,
    name: str | None = None,
) -> int:
    """Write an import of contacts into the SQLite file at `path` as
    smallcrm.importing.kinds.Kind.write does through the store (new rows only, no tags), in
    one transaction; returns the contacts inserted. Raises Stale when the file changed schema
    since it was validated. Errors name the database `name` (its path unless given)."""
    shown = str(path) if name is None else name
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as error:
        raise _described(shown, error) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute('ATTACH DATABASE ? AS "scratch"', (load.scratch.path,))
        try:
            with outside_wal(conn) if _bulk(conn, load) else contextlib.nullcontext():
                begin_retrying(
                    lambda: conn.execute("BEGIN IMMEDIATE"),
                    lambda error: (
                        isinstance(error, sqlite3.OperationalError) and locked(str(error))
                    ),
                    WRITE_RETRY_S,
                )
                try:
                    done = _write_contacts(conn, load, progress)
                    conn.execute("COMMIT")
                finally:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
        finally:
            with contextlib.suppress(sqlite3.Error):  # the connection is closed below anyway
                conn.execute('DETACH DATABASE "scratch"')
        return done
    except sqlite3.Error as error:
        raise _described(shown, error) from None
    finally:
        conn.close()


def _bulk(conn: sqlite3.Connection, load: ContactsLoad) -> bool:
    try:
        return dominates(conn.execute, "contact", load.scratch.counts().get("insert", 0))
    except sqlite3.OperationalError:  # no such table: _write_contacts finds the file Stale
        return False


@contextlib.contextmanager
def outside_wal(conn: sqlite3.Connection) -> Iterator[bool]:
    """Run the transaction inside with the main database in rollback-journal mode, if no other
    connection has the file open (SQLite refuses to leave WAL mode otherwise), and put it back
    in WAL mode afterwards; yields whether it left WAL mode.

    In WAL mode, each page of a bulk load is written twice (to the WAL, then by the checkpoint
    into the file) and flushed to disk twice: 3.5 of the 26 s a million contacts took. With a
    rollback journal the new pages go into the file once; only the pages the load changes are
    copied to the journal first. The price: a reader that opens the file while the load
    writes waits for it (up to its busy timeout) rather than reading what was there before, so
    bulk loads only. A crash in between leaves a hot journal that the next connection rolls
    back, and a file in rollback-journal mode that the store's open_db puts back in WAL mode."""
    conn.execute("PRAGMA busy_timeout = 0")  # open elsewhere: keep to WAL mode, now
    try:
        left = conn.execute("PRAGMA main.journal_mode = DELETE").fetchone()[0] == "delete"
    except sqlite3.OperationalError as error:
        if not locked(str(error)):
            raise
        left = False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    if not left:
        yield False
        return
    # NORMAL is safe from corruption in WAL mode only; a rollback journal needs FULL.
    conn.execute("PRAGMA main.synchronous = FULL")
    try:
        yield True
    finally:
        with contextlib.suppress(sqlite3.OperationalError):  # busy: open_db switches it back
            conn.execute("PRAGMA main.journal_mode = WAL")
            conn.execute("PRAGMA main.synchronous = NORMAL")


def _described(name: str, error: sqlite3.Error) -> DatabaseError:
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
    return DatabaseError(describe_error(name, reason))


def begin_retrying(
    begin: Callable[[], object], busy: Callable[[Exception], bool], seconds: float
) -> None:
    """Run `begin` (a BEGIN), again while `busy(error)` says another writer holds the lock,
    until `seconds` have passed in all; the waits between grow from 50 ms to 1 s."""
    deadline = time.monotonic() + seconds
    delay = 0.05
    while True:
        try:
            begin()
            return
        except Exception as error:
            if not busy(error) or time.monotonic() + delay >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def locked(reason: str) -> bool:
    """Whether SQLite's error message says the database is locked by another connection."""
    return "locked" in reason or "busy" in reason


def _write_contacts(
    conn: sqlite3.Connection, load: ContactsLoad, progress: Callable[[int, int], None] | None
) -> int:
    execute = conn.execute
    row = execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None or row[0] != HEAD:
        raise Stale
    me = _me(conn, load.login)
    record = _History(conn, load.login.strip().lower())
    inserting = load.scratch.counts().get("insert", 0)
    done = 0
    with large_cache(execute):
        if load.companies:
            _create_companies(conn, load.companies, me, record)
        if inserting:
            ids = _take_ids(conn, "contact", inserting)
            constants = {f"const_{i}": _stored(v) for i, v in enumerate(load.constants.values())}
            names = ["id", *load.inserts, *load.constants]
            selected = [":base + ord", *load.inserts.values(), *(f":{c}" for c in constants)]
            sql = staged_insert_sql("contact", names, selected, schema="scratch", link=load.link)
            values = {"base": ids.start, "me": me, **constants}
            with indexes_rebuilt(execute, "contact", inserting):
                for copied in copy_batches(execute, load.scratch, sql, values):
                    done += copied
                    if progress:
                        progress(done, inserting)
            record.bulk_insert("contact", ids)
            _index_documents(conn, "contact", ids)
    if progress:
        progress(inserting, inserting)
    return done


def _stored(value: Any) -> Any:
    return utc_text(value) if isinstance(value, datetime) else value


def _me(conn: sqlite3.Connection, login: str) -> int:
    """The importing user's id, the user created on first use (as smallcrm.users.me)."""
    from smallcrm.store import lookups

    found = lookups.user(lookups.Reads.of_file(conn), login)
    if found is not None:
        return found[0]
    cursor = conn.execute(
        "INSERT INTO user_account (login, name, email, created_at) VALUES (?, ?, NULL, ?)",
        (login.lower(), login, utc_text(datetime.now(UTC))),
    )
    return int(cursor.lastrowid or 0)


def _take_ids(conn: sqlite3.Connection, table: str, count: int) -> range:
    """The next `count` ids of `table` (the write lock is ours: nobody else takes them)."""
    largest = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0] or 0
    return range(largest + 1, largest + 1 + count)


def _create_companies(
    conn: sqlite3.Connection, companies: Sequence[tuple[str, str]], me: int, record: _History
) -> None:
    """The companies the contacts name that do not exist yet, once each, with their ids
    given to their keys in the scratch file (as Contacts.before_inserts)."""
    stamp = utc_text(datetime.now(UTC))
    ids = _take_ids(conn, "company", len(companies))
    conn.executemany(
        "INSERT INTO company (id, name, owner_id, version, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(i, name, me, 1, stamp, stamp) for i, (_, name) in zip(ids, companies, strict=True)],
    )
    record.bulk_insert("company", ids)
    conn.executemany(
        'INSERT OR REPLACE INTO "scratch".ids VALUES (?, ?)',
        [(key, i) for i, (key, _) in zip(ids, companies, strict=True)],
    )
    _index_documents(conn, "company", ids)


def _index_documents(conn: sqlite3.Connection, kind: str, ids: range) -> None:
    """Search documents for records just inserted with these ids (as bulk.index_new)."""

    def try_set(name: str, value: object) -> bool:
        conn.execute("SAVEPOINT fts_setting")
        try:
            conn.execute(FTS_SET, (name, value))
        except sqlite3.Error:
            conn.execute("ROLLBACK TO fts_setting")
            return False
        finally:
            conn.execute("RELEASE fts_setting")
        return True

    many = len(ids) >= BULK_DOCUMENTS
    with fts_bulk_settings(conn.execute, try_set) if many else contextlib.nullcontext():
        for start in range(ids.start, ids.stop, INDEX_STEP):
            last = min(start + INDEX_STEP, ids.stop) - 1
            conn.execute(search_insert_sql(kind, search_range(kind, start, last)))


class _History:
    """This transaction's changeset (action `import`) and its rows of ids inserted, as
    smallcrm.store.history.record_bulk writes them, so `smallcrm undo` takes it back."""

    def __init__(self, conn: sqlite3.Connection, user: str) -> None:
        self.conn = conn
        self.user = user
        self.changeset: int | None = None

    def bulk_insert(self, kind: str, ids: range) -> None:
        if self.changeset is None:
            cursor = self.conn.execute(
                "INSERT INTO changeset (at, user_login, action) VALUES (?, ?, 'import')",
                (utc_text(datetime.now(UTC)), self.user),
            )
            self.changeset = int(cursor.lastrowid or 0)
        self.conn.execute(
            "INSERT INTO change (changeset_id, kind, record_id, op, field, old, new, "
            "contact_id, company_id, lead_id) "
            "VALUES (?, ?, NULL, 'bulk_insert', NULL, NULL, ?, NULL, NULL, NULL)",
            (self.changeset, kind, spans_json([[ids.start, ids.stop - 1]])),
        )

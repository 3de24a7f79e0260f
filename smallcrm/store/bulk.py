"""Bulk loading for imports and bulk reading for exports: many rows, few statements.

An import validates every row before it takes the write lock. The validated rows wait in a
:class:`Scratch` file (a private SQLite file in the temp directory, whatever the real database
is), so memory does not grow with the input. The write phase takes the rows already shaped as
the target table's rows (ids, links and defaults computed by SQL over the scratch file). On
SQLite the scratch file is ATTACHed to the write connection and one `INSERT … SELECT` a batch
copies them (:func:`copy_staged`); elsewhere they are selected back and handed to a
:class:`Loader`: one INSERT, run as DBAPI `executemany` a batch at a time. Ids are reserved up
front (:class:`IdReserver`) as one consecutive range, so tags, the search index and the
history record need nothing read back.

Values cross the scratch file in a *portable* form (text, numbers, NULL: booleans as 0/1, JSON
as text, dates and times as ISO 8601 text); the loader turns a column into what the driver
takes only where the two differ.

:func:`contact_rows` streams contacts for a CSV export on one cursor, their tags aggregated by
the database, cells a spreadsheet would run neutralised in SQL.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
import tempfile
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Table, func, select
from sqlmodel import Session

from smallcrm.store import fastread, history, search_index
from smallcrm.store.tables import UTCDateTime

PREFIX = 7  # staged rows: line, key1, key2, action, existing, raw, ord, then the values


def _bind_none_directly() -> None:
    """Let sqlite3 bind None without its adaptation lookup.

    The stdlib module looks every parameter that is not an int, float, str or bytes up in its
    adapters, and for None then probes `__adapt__` and `__conform__` before binding NULL:
    about half the cost of staging a row, whose cells are mostly empty. An adapter that
    returns None unchanged is found at once and binds the same NULL."""
    key = (type(None), sqlite3.PrepareProtocol)
    if key not in sqlite3.adapters:
        # A C function that returns None for None (no Python frame per cell): an empty
        # dict's `get`, which nothing can fill.
        sqlite3.register_adapter(type(None), _NOTHING.get)


_NOTHING: Mapping[Any, Any] = types.MappingProxyType({})


#: Helper threads SQLite may sort with while it builds an index after a bulk load (the
#: second core is idle then): 5-15% off rebuilding the indexes of a million contacts.
SORT_THREADS = min(2, os.cpu_count() or 1) - 1

SCRATCH_PREFIX = "smallcrm-import-"
#: A scratch folder untouched this long belongs to an import that was killed (kill -9, a
#: crash, a power cut): no import runs for a day, and a running one writes its file always.
ABANDONED_AFTER_S = 24 * 3600


def sweep_abandoned_scratch(now: float | None = None) -> None:
    """Remove this user's scratch folders that killed imports left in the temp directory."""
    now = time.time() if now is None else now
    home = tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(home) if n.startswith(SCRATCH_PREFIX)]
    except OSError:
        return
    for name in names:
        folder = os.path.join(home, name)
        with contextlib.suppress(OSError):
            info = os.lstat(folder)
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != getattr(os, "getuid", int)():
                continue
            files = [os.path.join(folder, f) for f in os.listdir(folder)]
            newest = max([info.st_mtime, *(os.lstat(f).st_mtime for f in files)])
            if now - newest < ABANDONED_AFTER_S:
                continue
            for file in files:
                os.unlink(file)
            os.rmdir(folder)


class Scratch:
    """A throw-away SQLite file holding an import's validated rows until they are written.

    Table `staged`: one row per valid input row (its file line, one or two duplicate keys, the
    action decided for it, the id of the record it duplicates, the raw cells when a later
    check may still reject it, its number among the rows to insert), then one column per
    name in `columns`. Table `bad`: the
    invalid rows. Table `ids`: keys resolved to record ids during the write (new companies).
    """

    def __init__(self, columns: Sequence[str], path: str | None = None) -> None:
        # In a private directory of its own, named until closed: the write phase ATTACHes it
        # to the database's connection to copy the rows over in SQL (see :func:`copy_staged`).
        # A `path` given is a part staged by another process, inside the main file's folder.
        if path is None:
            sweep_abandoned_scratch()
        self.folder = tempfile.mkdtemp(prefix=SCRATCH_PREFIX) if path is None else None
        self.path = path or os.path.join(self.folder or "", "scratch.db")
        self.columns = list(columns)
        self.attached: tuple[Any, str] | None = None
        self._counts: dict[str, int] | None = None  # counts() until the rows change
        _bind_none_directly()
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        try:
            self.conn.execute("PRAGMA journal_mode = OFF")
            self.conn.execute("PRAGMA synchronous = OFF")
            self.conn.execute("PRAGMA cache_size = -8000")  # 8 MB, whatever the file size
            data = "".join(f', "{name}"' for name in self.columns)
            self.conn.execute(
                "CREATE TABLE staged (line INTEGER PRIMARY KEY, key1 TEXT, key2 TEXT, "
                f"action TEXT, existing INTEGER, raw TEXT, ord INTEGER{data})"
            )
            self.conn.execute("CREATE TABLE bad (line INTEGER PRIMARY KEY, error TEXT, raw TEXT)")
            self.conn.execute("CREATE TABLE ids (key TEXT PRIMARY KEY, id INTEGER) WITHOUT ROWID")
            self.conn.execute("BEGIN")
        except BaseException:
            self.close()
            raise
        marks = ", ".join("?" * (PREFIX + len(self.columns)))
        self._insert = f"INSERT INTO staged VALUES ({marks})"

    def stage(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (line, key1, key2, action, existing, raw, ord, *values); `ord` numbers the
        rows to insert from 0 in file order (see :meth:`renumber`), raw may be None."""
        self._counts = None
        self.conn.executemany(self._insert, rows)

    def reject(self, rows: Iterable[tuple[int, str, str]]) -> None:
        self._counts = None
        self.conn.executemany("INSERT OR REPLACE INTO bad VALUES (?, ?, ?)", rows)

    def commit(self) -> None:
        """Keep what was staged so far (a part is read by the process that absorbs it)."""
        if self.conn.in_transaction:
            self.conn.execute("COMMIT")

    def part_path(self, name: str) -> str:
        """Where another process may stage a part of the rows (see :meth:`absorb`)."""
        if self.folder is None:
            raise ValueError("a part has no parts")
        return os.path.join(self.folder, f"{name}.db")

    def absorb(self, path: str, ord_offset: int) -> None:
        """Add the rows a part (a Scratch file with the same columns, of later lines) staged,
        its rows to insert numbered on from `ord_offset`."""
        self._counts = None
        self.commit()
        self.conn.execute("ATTACH DATABASE ? AS part", (path,))
        try:
            data = "".join(f', "{name}"' for name in self.columns)
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT INTO staged SELECT line, key1, key2, action, existing, raw, ord + ?"
                f"{data} FROM part.staged ORDER BY line",
                (ord_offset,),
            )
            self.conn.execute("INSERT OR REPLACE INTO bad SELECT * FROM part.bad")
            self.conn.execute("COMMIT")
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.conn.execute("DETACH DATABASE part")

    def finish_staging(self) -> None:
        self.commit()
        self.conn.execute(f"PRAGMA threads = {SORT_THREADS}")
        self.conn.execute("CREATE INDEX ix_key1 ON staged (key1) WHERE key1 IS NOT NULL")
        self.conn.execute("CREATE INDEX ix_key2 ON staged (key2) WHERE key2 IS NOT NULL")

    def repeated(self, key: str = "key1") -> list[tuple[int, int]]:
        """(line, first line with the same key) for every row whose key came earlier."""
        return self.conn.execute(
            f"SELECT s.line, f.first FROM staged s JOIN "
            f"(SELECT {key} AS k, MIN(line) AS first FROM staged WHERE {key} IS NOT NULL "
            f"GROUP BY {key} HAVING COUNT(*) > 1) f ON s.{key} = f.k "
            f"WHERE s.line > f.first ORDER BY s.line"
        ).fetchall()

    def set_action(self, changes: Iterable[tuple[str, int]]) -> None:
        changes = list(changes)
        if changes:
            self._counts = None
            self.conn.executemany("UPDATE staged SET action = ? WHERE line = ?", changes)

    def renumber(self) -> None:
        """Number the rows to insert 0, 1, … again after some changed their action."""
        self.conn.execute(
            "UPDATE staged SET ord = NULL WHERE action != 'insert' AND ord IS NOT NULL"
        )
        self.conn.execute(
            "UPDATE staged SET ord = n.ord FROM (SELECT line, row_number() OVER "
            "(ORDER BY line) - 1 AS ord FROM staged WHERE action = 'insert') AS n "
            "WHERE staged.line = n.line"
        )

    def move_to_bad(self, line: int, error: str, raw: str) -> None:
        self._counts = None
        self.conn.execute("DELETE FROM staged WHERE line = ?", (line,))
        self.conn.execute("INSERT OR REPLACE INTO bad VALUES (?, ?, ?)", (line, error, raw))

    def row(self, line: int) -> tuple[Any, ...] | None:
        return self.conn.execute("SELECT * FROM staged WHERE line = ?", (line,)).fetchone()

    def counts(self) -> dict[str, int]:
        """Rows by action, `bad` (invalid) and `total`."""
        if self._counts is None:
            found = dict(self.conn.execute("SELECT action, COUNT(*) FROM staged GROUP BY action"))
            found["bad"] = self.conn.execute("SELECT COUNT(*) FROM bad").fetchone()[0]
            found["total"] = sum(found.values())
            self._counts = found
        return dict(self._counts)

    def rows(self, action: str, batch: int = 500) -> Iterator[list[tuple[Any, ...]]]:
        """Staged rows with this action in file order, a batch at a time."""
        cursor = self.conn.execute("SELECT * FROM staged WHERE action = ? ORDER BY line", (action,))
        while chunk := cursor.fetchmany(batch):
            yield chunk

    def inserts(
        self,
        expressions: Sequence[str],
        params: Mapping[str, Any],
        *,
        link: str | None = None,
        batch: int = 5000,
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows to insert, in file order, as `expressions` over the staged columns make
        them: `ord` is a row's number among them, from 0; `ids.id` is the id :meth:`set_ids`
        gave the key in the staged column `link`."""
        joined = f' LEFT JOIN ids ON ids.key = "{link}"' if link else ""
        cursor = self.conn.execute(
            f"SELECT {', '.join(expressions)} FROM staged{joined} "
            "WHERE action = 'insert' ORDER BY line",
            dict(params),
        )
        while chunk := cursor.fetchmany(batch):
            yield chunk

    def set_ids(self, pairs: Iterable[tuple[str, int]]) -> None:
        if self.attached is not None:
            conn, schema = self.attached
            sql = f'INSERT OR REPLACE INTO "{schema}".ids VALUES (?, ?)'
            conn.exec_driver_sql(sql, [tuple(pair) for pair in pairs])
            return
        self.conn.executemany("INSERT OR REPLACE INTO ids VALUES (?, ?)", pairs)

    def attached_to(self, conn: Any, schema: str) -> None:
        """The file is ATTACHed as `schema` to `conn`, whose write transaction now locks it:
        what is written to it until :meth:`close` goes through `conn` (reading stays here)."""
        self.attached = (conn, schema)

    def bad(self, limit: int | None = None) -> Iterator[tuple[int, str, str]]:
        sql = "SELECT line, error, raw FROM bad ORDER BY line"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        yield from self.conn.execute(sql)

    def insert_starts(self, every: int) -> list[int]:
        """The line of every `every`-th row to insert (ord 0, every, 2 * every, …)."""
        return [
            line
            for (line,) in self.conn.execute(
                "SELECT line FROM staged WHERE action = 'insert' AND ord % ? = 0 ORDER BY line",
                (int(every),),
            )
        ]

    def close(self) -> None:
        self.conn.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        if self.folder is not None:
            with contextlib.suppress(OSError):
                os.rmdir(self.folder)


# --------------------------------------------------------------------------------------------
# Writing


def _converter(column: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """Portable value -> driver value for one column, or None when they are the same."""
    kind = column.type
    proc = kind.dialect_impl(dialect).bind_processor(dialect)
    sqlite = dialect.name == "sqlite"
    if isinstance(kind, UTCDateTime):
        if proc is None:
            return datetime.fromisoformat
        return lambda value: proc(datetime.fromisoformat(value))
    if isinstance(kind, Boolean):
        return None if sqlite else bool  # SQLite stores 0/1 as given
    if isinstance(kind, JSON):
        if sqlite:
            return None  # stored as the JSON text itself
        return (lambda value: proc(json.loads(value))) if proc else json.loads
    if isinstance(kind, Date):
        return None if sqlite else date.fromisoformat  # SQLite stores ISO dates
    return None


class Loader:
    """One INSERT into `table`: `columns` come from each row (portable values), `constants`
    (Python values) are the same for every row. With `record`, the ids inserted (column `id`)
    go into the history, so `smallcrm undo` can take an import back."""

    def __init__(
        self,
        session: Session,
        table: Table,
        columns: Sequence[str],
        constants: Mapping[str, Any] | None = None,
        *,
        record: bool = True,
    ) -> None:
        self.session = session
        self.table = table
        self.conn = session.connection()
        dialect = self.conn.dialect
        constants = dict(constants or {})
        names = [*columns, *constants]
        self.names = names
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.sql = (
            f"INSERT INTO {table.name} ({', '.join(names)}) "
            f"VALUES ({', '.join([mark] * len(names))})"
        )
        self.converters = [
            (i, conv)
            for i, name in enumerate(columns)
            if (conv := _converter(table.c[name], dialect))
        ]
        self.constants = tuple(
            _driver_value(table.c[name], dialect, value) for name, value in constants.items()
        )
        self.id_at = list(columns).index("id") if record and "id" in columns else None

    def run(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.converters:
            converted = []
            for row in rows:
                values = list(row)
                for i, conv in self.converters:
                    if values[i] is not None:
                        values[i] = conv(values[i])
                converted.append(values)
            rows = converted
        consts = self.constants
        params = [(*row, *consts) for row in rows] if consts else [tuple(row) for row in rows]
        self.conn.exec_driver_sql(self.sql, params)
        if self.id_at is not None:
            at = self.id_at
            history.record_bulk(self.session, self.table.name, [row[at] for row in rows])


def can_attach(db: Any) -> bool:
    """Whether `db` can ATTACH a scratch file to its write transaction (Db.write_attached)."""
    return bool(db.dialect == "sqlite")


def copy_staged(
    loader: Loader,
    scratch: Scratch,
    expressions: Sequence[str],
    params: Mapping[str, Any],
    *,
    schema: str = "scratch",
    link: str | None = None,
    batch: int = 20_000,
) -> Iterator[int]:
    """Insert the scratch file's rows to insert with `loader`'s INSERT, as
    :meth:`Scratch.inserts` selects them, but in SQL: `INSERT … SELECT` over the scratch file
    ATTACHed as `schema` (SQLite, a loader without converters). Yields the rows copied by
    each statement, `batch` rows at a time."""
    if loader.converters or loader.conn.dialect.name != "sqlite":
        raise ValueError("copy_staged needs SQLite and values stored as staged")
    names = list(params)
    constants = {f"const_{i}": value for i, value in enumerate(loader.constants)}
    selected = [*expressions, *(f":{name}" for name in constants)]
    joined = f' LEFT JOIN "{schema}".ids AS ids ON ids.key = "{link}"' if link else ""
    sql = (
        f"INSERT INTO {loader.table.name} ({', '.join(loader.names)}) "
        f'SELECT {", ".join(selected)} FROM "{schema}".staged AS staged{joined} '
        "WHERE action = 'insert' AND line >= :first_line AND line < :end_line ORDER BY line"
    )
    starts = scratch.insert_starts(batch)
    values = {**{name: params[name] for name in names}, **constants}
    for i, first in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else 2**62
        result = loader.conn.exec_driver_sql(sql, {**values, "first_line": first, "end_line": end})
        yield result.rowcount


def folded_matches(
    session: Session, table: Table, column: str, keys: Sequence[str]
) -> list[tuple[int, str]]:
    """(id, lower(column)) of the rows of `table` whose lower-cased `column` is one of
    `keys`, in one statement however many keys (an import checks 2,000 at a time): SQLite
    reads them from one JSON array, PostgreSQL from one array. Uses the lower() index."""
    if not keys:
        return []
    conn = session.connection()
    name, field = table.name, table.c[column].name
    if conn.dialect.name == "sqlite":
        sql = (
            f'SELECT id, lower("{field}") FROM "{name}" '
            f'WHERE lower("{field}") IN (SELECT value FROM json_each(?))'
        )
        found = conn.exec_driver_sql(sql, (json.dumps(list(keys)),))
    else:
        sql = f'SELECT id, lower("{field}") FROM "{name}" WHERE lower("{field}") = ANY(%(keys)s)'
        found = conn.exec_driver_sql(sql, {"keys": list(keys)})
    return [(row[0], row[1]) for row in found]


def _driver_value(column: Any, dialect: Any, value: Any) -> Any:
    if value is None:
        return None
    proc = column.type.dialect_impl(dialect).bind_processor(dialect)
    return proc(value) if proc is not None else value


def insert_rows(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows of portable values (see the module docstring)."""
    Loader(session, table, columns).run(rows)


class IdReserver:
    """Ids for rows about to be inserted, so links can be written without reading back.

    `take(n)` gives n consecutive ids. SQLite: the write transaction (BEGIN IMMEDIATE) holds the
    only write lock, so the ids after the largest in use are ours. PostgreSQL: every writer
    holds the writers' advisory lock (store/engine.py), so moving the table's sequence past
    the range cannot race another smallcrm writer.
    """

    def __init__(self, session: Session, table: Table) -> None:
        self.table = table
        self.conn = session.connection()
        self.next_id: int | None = None

    def take(self, count: int) -> range:
        if count <= 0:
            return range(0)
        if self.conn.dialect.name == "sqlite":
            if self.next_id is None:
                largest = self.conn.execute(select(func.max(self.table.c.id))).scalar()
                self.next_id = (largest or 0) + 1
            first = self.next_id
            self.next_id += count
            return range(first, first + count)
        sequence = f"pg_get_serial_sequence('{self.table.name}', 'id')"
        last = self.conn.exec_driver_sql(
            f"SELECT setval({sequence}, nextval({sequence}) + {int(count) - 1})"
        ).scalar()
        return range(int(last) - count + 1, int(last) + 1)


def index_new(session: Session, kind: str, ids: range) -> None:
    """Add search documents for records just inserted with these consecutive ids."""
    step = 20_000  # bounds memory on PostgreSQL, where documents are made in Python
    many = len(ids) >= 5000
    with search_index.bulk_loading(session) if many else contextlib.nullcontext():
        for start in range(ids.start, ids.stop, step):
            search_index.index_range(session, kind, start, min(start + step, ids.stop) - 1)


def record_inserted(session: Session, table: Table, ids: range) -> None:
    """Put rows inserted with these consecutive ids into this transaction's history."""
    history.record_bulk(session, table.name, ids)


@contextlib.contextmanager
def indexes_rebuilt(session: Session, table: Table, adding: int) -> Iterator[None]:
    """Load `adding` rows into `table` with its indexes dropped and built again afterwards,
    when that is cheaper: SQLite builds an index from sorted keys several times faster than it
    inserts the same keys one by one, but only pays off when the rows added outnumber those
    already there. Same transaction: a failure (a unique index refusing) rolls it all back."""
    conn = session.connection()
    if conn.dialect.name != "sqlite" or adding < 5000:
        yield
        return
    present = conn.exec_driver_sql(f"SELECT max(rowid) FROM {table.name}").scalar() or 0
    if adding < present:
        yield
        return
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table.name,),
    ).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    # A sort takes as much memory as the page cache may: keep it small, spill to temp files.
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size = -16384")
    conn.exec_driver_sql(f"PRAGMA threads = {SORT_THREADS}")
    for _, sql in found:
        conn.exec_driver_sql(sql)
    conn.exec_driver_sql("PRAGMA threads = 0")
    conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


@contextlib.contextmanager
def large_cache(session: Session, megabytes: int = 24) -> Iterator[None]:
    """A larger page cache for this write: a bulk insert into indexed tables (contact's
    email and name indexes) otherwise evicts and rereads the same pages."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(megabytes) * 1024}")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


# --------------------------------------------------------------------------------------------
# Reading for export

#: Columns of :func:`contact_rows`, in order: a contact record's fields, then `extra`.
CONTACT_COLUMNS = fastread.COLUMNS


def contact_rows(
    session: Session,
    *,
    include_do_not_contact: bool = False,
    neutralise: Sequence[str] = (),  # single characters
    company_id: int | None = None,
    owner_id: int | None = None,
    stage: str | None = None,
    tag: str | None = None,
    search: str | None = None,
    limit: int | None = None,
    utc_text: bool = False,
    extra: bool = True,
    batch: int = 2000,
) -> Iterator[list[tuple[Any, ...]]]:
    """Contacts by id for a CSV export, a batch of tuples (CONTACT_COLUMNS) at a time, from
    one cursor. Tags are one `a, b` text, consent and do-not-contact `true`/`false`; text
    starting with one of `neutralise` (after any `'`) gets a leading `'`. Times and `extra`
    come as the driver gives them (ISO text from SQLite; with `utc_text`, SQLite writes them
    as Python's `isoformat()` of the UTC time does). Without `extra` the rows end before it.
    The filters are those of `contact list`, resolved to ids; `search` is its full-text
    query."""
    conn = session.connection()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        tags = (
            "(SELECT string_agg(t.name, ', ' ORDER BY t.name) FROM contact_tag ct "
            "JOIN tag t ON t.id = ct.tag_id WHERE ct.contact_id = c.id)"
        )
    else:
        tags = (
            "(SELECT group_concat(name, ', ') FROM (SELECT t.name FROM contact_tag ct "
            "JOIN tag t ON t.id = ct.tag_id WHERE ct.contact_id = c.id ORDER BY t.name))"
        )
    params: dict[str, Any] = {}
    source = fastread.contact_sources(tags)
    if utc_text and not postgres:
        for name in ("created_at", "updated_at"):
            source[name] = fastread.iso_utc(source[name])
    if neutralise:
        for name in fastread.CONTACT_TEXT:
            source[name] = fastread.neutralised(source[name], neutralise, sqlite=not postgres)
    where = ["1 = 1"]
    if not include_do_not_contact:
        where.append("NOT c.do_not_contact")
    for column, value in (("company_id", company_id), ("owner_id", owner_id), ("stage", stage)):
        if value is not None:
            where.append(f"c.{column} = :{column}")
            params[column] = value
    if tag is not None:
        where.append(
            "c.id IN (SELECT ct.contact_id FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id "
            "WHERE t.name = :tag)"
        )
        params["tag"] = tag
    if search is not None:
        hits = search_index.matching_ids(session, search, "contact")
        if hits is None:
            return
        found = str(hits.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        if postgres:  # escaped for psycopg's %-style; text() below escapes it once more
            found = found.replace("%%", "%")
        where.append(f"c.id IN ({found})")
    chosen = CONTACT_COLUMNS if extra else CONTACT_COLUMNS[:-1]
    sql = (
        f"SELECT {', '.join(source[name] for name in chosen)} FROM contact c "
        "LEFT JOIN company co ON co.id = c.company_id "
        "LEFT JOIN user_account u ON u.id = c.owner_id "
        f"WHERE {' AND '.join(where)} ORDER BY c.id"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    if postgres:  # a server-side cursor: rows arrive as they are read, not all at once
        from sqlalchemy import text

        result = conn.execution_options(stream_results=True).execute(text(sql), params)
        while chunk := result.fetchmany(batch):
            yield [tuple(row) for row in chunk]
        return
    cursor = conn.connection.driver_connection.execute(sql, params)  # type: ignore[union-attr]
    try:
        while chunk := cursor.fetchmany(batch):
            yield chunk
    finally:
        with contextlib.suppress(sqlite3.ProgrammingError):  # the session may be gone
            cursor.close()

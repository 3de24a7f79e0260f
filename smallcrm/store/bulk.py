"""Bulk loading for imports and bulk reading for exports: many rows, few statements.

An import validates every row before it takes the write lock. The validated rows wait in a
scratch file (:class:`smallcrm.store.scratch.Scratch`), so memory does not grow with the
input. The write phase takes the rows already shaped as
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
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Table, func, select
from sqlmodel import Session

from smallcrm.store import fastread, history, loading, search_index
from smallcrm.store.loading import BULK_DOCUMENTS, COPY_BATCH, INDEX_STEP, staged_insert_sql
from smallcrm.store.scratch import Scratch
from smallcrm.store.tables import UTCDateTime

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
    batch: int = COPY_BATCH,
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
    sql = staged_insert_sql(loader.table.name, loader.names, selected, schema=schema, link=link)
    values = {**{name: params[name] for name in names}, **constants}
    yield from loading.copy_batches(loader.conn.exec_driver_sql, scratch, sql, values, batch)


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
    many = len(ids) >= BULK_DOCUMENTS
    with search_index.bulk_loading(session) if many else contextlib.nullcontext():
        for start in range(ids.start, ids.stop, INDEX_STEP):
            search_index.index_range(session, kind, start, min(start + INDEX_STEP, ids.stop) - 1)


def record_inserted(session: Session, table: Table, ids: range) -> None:
    """Put rows inserted with these consecutive ids into this transaction's history."""
    history.record_bulk(session, table.name, ids)


@contextlib.contextmanager
def indexes_rebuilt(session: Session, table: Table, adding: int) -> Iterator[None]:
    """:func:`smallcrm.store.loading.indexes_rebuilt` on SQLite; elsewhere nothing."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    with loading.indexes_rebuilt(conn.exec_driver_sql, table.name, adding):
        yield


@contextlib.contextmanager
def large_cache(session: Session) -> Iterator[None]:
    """:func:`smallcrm.store.loading.large_cache` on SQLite; elsewhere nothing."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    with loading.large_cache(conn.exec_driver_sql):
        yield


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

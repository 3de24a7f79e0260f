"""The full-text search index: the only dialect-specific SQL of the store.

One document per contact, company, lead and activity, keyed by `id * 4 + kind` so a record's
document is found without scanning (each kind's SELECT of its documents, and FTS5's settings
for bulk loads, are in smallcrm.store.loading, which imports write without the store). SQLite
uses FTS5; PostgreSQL a tsvector column with a GIN index. User input never reaches either
query language: it is cut into words, and each word is matched as a prefix, all words
required.

Both dialects must find the same records for the same query. FTS5's `unicode61` tokenizer cuts
and folds the SQLite documents; for PostgreSQL the same cutting and folding is done here, in
Python (`terms`), and the words go into the tsvector as lexemes as they are, never through a
text-search parser or dictionary (whose rules differ: the default parser keeps
`ada@example.com` as one token). Query words are made the same way and quoted as lexemes, so
nothing a user types is ever tsquery syntax.
"""

from __future__ import annotations

import contextlib
import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from smallcrm.store.loading import (
    FTS_SET,
    SEARCH_ID_COLUMN,
    SEARCH_KINDS,
    SEARCH_SOURCES,
    fts_bulk_settings,
    search_insert_sql,
    search_range,
)

KINDS = SEARCH_KINDS
KIND_NAMES = {code: name for name, code in KINDS.items()}
_WORD = re.compile(r"[^\W_]+")
# Bound the work a pasted paragraph can cause; a dozen words already narrow any CRM.
MAX_WORDS = 12
# Longer words are cut (in documents and queries alike): PostgreSQL refuses lexemes over 2 KB.
MAX_WORD_CHARS = 200
# A PostgreSQL tsvector holds at most 1 MB; a document's distinct words stop well before that.
MAX_DOC_BYTES = 512 * 1024


@functools.cache
def _fold_table() -> dict[int, str | None]:
    """What FTS5's `unicode61 remove_diacritics 2` does beyond lower-casing, as str.translate
    wants it: Latin letters lose their diacritics, the combining marks it drops vanish.
    (Measured against FTS5 code point by code point; tests compare the two.)"""
    table: dict[int, str | None] = {}
    for first, last in ((0xC0, 0x24F), (0x1E00, 0x1EFF)):
        for code in range(first, last + 1):
            parts = unicodedata.normalize("NFD", chr(code).lower())
            if (
                len(parts) > 1
                and parts[0].isascii()
                and all(unicodedata.category(p) == "Mn" for p in parts[1:])
            ):
                table[code] = parts[0]
    for kept in ("\u01e0", "\u01e1"):  # Ǡ ǡ keep their marks in FTS5
        table.pop(ord(kept), None)
    table.update({0x17F: "s", 0x1E9B: "s", 0x3C2: "\u03c3"})  # long s, final sigma
    # FTS5 case-folds these Greek letter variants (and the micro sign) as casefold() does.
    table.update({code: chr(code).casefold() for code in (0xB5, *range(0x3D0, 0x3F6))
                  if chr(code).casefold() != chr(code).lower()})  # fmt: skip
    for mark in (
        *range(0x300, 0x305), *range(0x306, 0x30D), 0x30F, 0x311, 0x31B, *range(0x323, 0x329),
        0x32D, 0x32E, 0x330, 0x331,
    ):  # fmt: skip
        table[mark] = None
    return table


def fold(text: str) -> str:
    """Text as the index compares it: lower case, Latin diacritics removed."""
    return text.lower().translate(_fold_table())


def words(query: str) -> list[str]:
    """The words of a query as the index sees them (punctuation and syntax dropped)."""
    return [w[:MAX_WORD_CHARS] for w in _WORD.findall(fold(query))[:MAX_WORDS]]


def terms(title: str, body: str) -> str:
    """A document as a PostgreSQL tsvector literal: each distinct word once, weight A when it
    is in the title (so title matches rank first, as FTS5's bm25 ranks short fields first)."""
    seen: dict[str, bool] = {}
    size = 0
    for in_title, field in ((True, title), (False, body)):
        for word in _WORD.findall(fold(field or "")):
            word = word[:MAX_WORD_CHARS]
            if word not in seen and size < MAX_DOC_BYTES:
                seen[word] = in_title
                size += len(word.encode()) + 8
    # Positions run up to 16383 in a tsvector; ranking needs no more than the weight.
    return " ".join(
        f"'{_quoted(word)}':{min(i, 16383)}{'A' if in_title else ''}"
        for i, (word, in_title) in enumerate(seen.items(), start=1)
    )


def create(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TABLE search_index (doc_id BIGINT PRIMARY KEY, title TEXT NOT NULL, "
            "body TEXT NOT NULL, tsv tsvector NOT NULL)"
        )
        conn.exec_driver_sql("CREATE INDEX ix_search_index_tsv ON search_index USING GIN (tsv)")


def drop(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_index")


def _key_column(conn: Connection) -> str:
    return "rowid" if conn.dialect.name == "sqlite" else "doc_id"


def _insert_sql(conn: Connection, kind: str, where: str) -> str:
    return search_insert_sql(kind, where, _key_column(conn))


_PG_INSERT = text(
    "INSERT INTO search_index (doc_id, title, body, tsv) "
    "VALUES (:doc_id, :title, :body, CAST(:tsv AS tsvector))"
)


def _index(conn: Connection, kind: str, where: str) -> None:
    """Insert the documents of the `kind` records that `where` selects."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(_insert_sql(conn, kind, where))
        return
    rows = conn.exec_driver_sql(f"{SEARCH_SOURCES[kind]} {where}").all()
    if rows:
        conn.execute(
            _PG_INSERT,
            [
                {"doc_id": doc, "title": title, "body": body, "tsv": terms(title, body)}
                for doc, title, body in rows
            ],
        )


def rebuild(session: Session) -> None:
    """Index every record again; after bulk loads this beats per-row upkeep by far."""
    conn = session.connection()
    conn.exec_driver_sql("DELETE FROM search_index")
    for kind in KINDS:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(_insert_sql(conn, kind, ""))
            continue
        # In slices of ids, so memory stays flat however large the CRM.
        id_column = SEARCH_ID_COLUMN[kind]
        table = _TABLE[kind]
        last = conn.exec_driver_sql(f"SELECT MAX(id) FROM {table}").scalar() or 0
        for start in range(0, last, _SLICE):
            _index(conn, kind, f"WHERE {id_column} > {start} AND {id_column} <= {start + _SLICE}")


_TABLE = {"contact": "contact", "company": "company", "lead": "lead", "activity": "activity"}
_SLICE = 5000


def refresh(session: Session, kind: str, ids: Iterable[int]) -> None:
    """Re-index records after they were created or changed, and the records showing their name."""
    id_list = sorted(set(ids))
    if not id_list:
        return
    conn = session.connection()
    _reindex(conn, kind, id_list)
    for dependant, column in _DEPENDANTS.get(kind, ()):
        found: list[int] = []
        for chunk in _chunks(id_list):
            rows = conn.exec_driver_sql(
                f"SELECT id FROM {dependant} WHERE {column} IN ({_joined(chunk)})"
            )
            found.extend(row[0] for row in rows)
        _reindex(conn, dependant, found)


def index_range(session: Session, kind: str, first_id: int, last_id: int) -> None:
    """Add documents for records with ids first_id..last_id that were just bulk-inserted
    (they have none yet): one INSERT … SELECT, however many records."""
    _index(session.connection(), kind, search_range(kind, first_id, last_id))


@contextlib.contextmanager
def bulk_loading(session: Session) -> Iterator[None]:
    """Settings for adding many documents in this transaction (SQLite; elsewhere nothing)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return

    def try_set(name: str, value: object) -> bool:
        try:
            with conn.begin_nested():
                conn.exec_driver_sql(FTS_SET, (name, value))
        except DBAPIError:
            return False
        return True

    with fts_bulk_settings(conn.exec_driver_sql, try_set):
        yield


# Documents that include another record's name: re-index them when that record changes.
_DEPENDANTS = {
    "company": (("contact", "company_id"), ("lead", "company_id")),
    "contact": (("lead", "contact_id"),),
}


def _reindex(conn: Connection, kind: str, ids: Sequence[int]) -> None:
    for chunk in _chunks(ids):
        _delete(conn, kind, chunk)
        _index(conn, kind, f"WHERE {SEARCH_ID_COLUMN[kind]} IN ({_joined(chunk)})")


def _joined(ids: Sequence[int]) -> str:
    return ", ".join(str(int(i)) for i in ids)


def remove(session: Session, kind: str, ids: Iterable[int]) -> None:
    conn = session.connection()
    for chunk in _chunks(sorted(set(ids))):
        _delete(conn, kind, chunk)


def _delete(conn: Connection, kind: str, ids: Sequence[int]) -> None:
    docs = _joined([int(i) * 4 + KINDS[kind] for i in ids])
    conn.exec_driver_sql(f"DELETE FROM search_index WHERE {_key_column(conn)} IN ({docs})")


def purge_deleted_text(session: Session) -> None:
    """Merge the index so text of removed documents no longer lingers in its pages."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("INSERT INTO search_index(search_index) VALUES ('optimize')")


def matching(
    session: Session, query: str, kinds: Iterable[str] | None = None, limit: int | None = None
) -> list[tuple[str, int]]:
    """(kind, id) of the documents holding every word of `query` as a prefix, best first."""
    query_words = words(query)
    if not query_words:
        return []
    conn = session.connection()
    codes = sorted(KINDS[k] for k in (kinds or KINDS))
    kind_filter = ", ".join(str(c) for c in codes)
    params: dict[str, object] = {}
    if conn.dialect.name == "sqlite":
        params["q"] = " ".join(f'"{t}"*' for t in query_words)
        sql = (
            "SELECT rowid FROM search_index WHERE search_index MATCH :q "
            f"AND rowid % 4 IN ({kind_filter}) ORDER BY rank"
        )
    else:
        # Quoted lexemes with the prefix flag, cast without any parser: `'word':*`. Words hold
        # letters and digits only; quotes and backslashes are doubled all the same.
        params["q"] = " & ".join(f"'{_quoted(t)}':*" for t in query_words)
        sql = (
            "SELECT doc_id FROM search_index WHERE tsv @@ CAST(:q AS tsquery) "
            f"AND doc_id % 4 IN ({kind_filter}) "
            "ORDER BY ts_rank(tsv, CAST(:q AS tsquery)) DESC, doc_id"
        )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = conn.execute(text(sql), params)
    return [(KIND_NAMES[doc % 4], doc // 4) for (doc,) in rows]


def _quoted(word: str) -> str:
    return word.replace("\\", "\\\\").replace("'", "''")


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def matching_ids(session: Session, query: str, kind: str):  # type: ignore[no-untyped-def]
    """The ids of `kind` records holding every word of `query` as a prefix, as a subquery for
    `col(Table.id).in_(...)`; None when the query has no words. The hits stay in the database:
    a common prefix can match a million contacts, more than a statement can take as values."""
    from sqlalchemy import Integer, column

    query_words = words(query)
    if not query_words:
        return None
    code = KINDS[kind]
    if session.connection().dialect.name == "sqlite":
        sql = text(
            "SELECT rowid / 4 AS id FROM search_index "
            f"WHERE search_index MATCH :q AND rowid % 4 = {code}"
        ).bindparams(q=" ".join(f'"{t}"*' for t in query_words))
    else:
        sql = text(
            "SELECT doc_id / 4 AS id FROM search_index "
            f"WHERE tsv @@ CAST(:q AS tsquery) AND doc_id % 4 = {code}"
        ).bindparams(q=" & ".join(f"'{_quoted(t)}':*" for t in query_words))
    return sql.columns(column("id", Integer))


def newest_matching(
    session: Session, query: str, kind: str, *, limit: int, offset: int = 0
) -> list[int]:
    """One page of the ids of `kind` records matching `query`, newest (highest id) first.

    SQLite's full-text index hands its rows over in id order and stops at the page, so a word
    that matches half a million contacts costs no more than a rare one."""
    query_words = words(query)
    if not query_words:
        return []
    code = KINDS[kind]
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        sql = (
            "SELECT rowid FROM search_index WHERE search_index MATCH :q "
            f"AND rowid % 4 = {code} ORDER BY rowid DESC"
        )
        params = {"q": " ".join(f'"{t}"*' for t in query_words)}
    else:
        sql = (
            "SELECT doc_id FROM search_index WHERE tsv @@ CAST(:q AS tsquery) "
            f"AND doc_id % 4 = {code} ORDER BY doc_id DESC"
        )
        params = {"q": " & ".join(f"'{_quoted(t)}':*" for t in query_words)}
    sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
    return [doc // 4 for (doc,) in conn.execute(text(sql), params)]

"""The full-text search index: the only dialect-specific SQL of the store.

One document per contact, company, lead and activity, keyed by `id * 4 + kind` so a record's
document is found without scanning. SQLite uses FTS5; PostgreSQL a tsvector column with a GIN
index. User input never reaches either query language: it is cut into words, and each word is
matched as a prefix, all words required.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

KINDS: dict[str, int] = {"contact": 0, "company": 1, "lead": 2, "activity": 3}
KIND_NAMES = {code: name for name, code in KINDS.items()}
_WORD = re.compile(r"[^\W_]+")
# Bound the work a pasted paragraph can cause; a dozen words already narrow any CRM.
MAX_WORDS = 12

_SOURCES = {
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
_ID_COLUMN = {"contact": "c.id", "company": "co.id", "lead": "l.id", "activity": "a.id"}


def words(query: str) -> list[str]:
    """The words of a query as the index sees them (punctuation and syntax dropped)."""
    return _WORD.findall(query.lower())[:MAX_WORDS]


def create(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE search_index USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3')"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TABLE search_index (doc_id BIGINT PRIMARY KEY, title TEXT NOT NULL, "
            "body TEXT NOT NULL, tsv tsvector GENERATED ALWAYS AS "
            "(to_tsvector('simple', title || ' ' || body)) STORED)"
        )
        conn.exec_driver_sql("CREATE INDEX ix_search_index_tsv ON search_index USING GIN (tsv)")


def drop(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE IF EXISTS search_index")


def _key_column(conn: Connection) -> str:
    return "rowid" if conn.dialect.name == "sqlite" else "doc_id"


def _insert_sql(conn: Connection, kind: str, where: str) -> str:
    key = _key_column(conn)
    return f"INSERT INTO search_index ({key}, title, body) {_SOURCES[kind]} {where}"


def rebuild(session: Session) -> None:
    """Index every record again; after bulk loads this beats per-row upkeep by far."""
    conn = session.connection()
    conn.exec_driver_sql("DELETE FROM search_index")
    for kind in KINDS:
        conn.exec_driver_sql(_insert_sql(conn, kind, ""))


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


# Documents that include another record's name: re-index them when that record changes.
_DEPENDANTS = {
    "company": (("contact", "company_id"), ("lead", "company_id")),
    "contact": (("lead", "contact_id"),),
}


def _reindex(conn: Connection, kind: str, ids: Sequence[int]) -> None:
    for chunk in _chunks(ids):
        _delete(conn, kind, chunk)
        where = f"WHERE {_ID_COLUMN[kind]} IN ({_joined(chunk)})"
        conn.exec_driver_sql(_insert_sql(conn, kind, where))


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
    terms = words(query)
    if not terms:
        return []
    conn = session.connection()
    codes = sorted(KINDS[k] for k in (kinds or KINDS))
    kind_filter = ", ".join(str(c) for c in codes)
    params: dict[str, object] = {}
    if conn.dialect.name == "sqlite":
        params["q"] = " ".join(f'"{t}"*' for t in terms)
        sql = (
            "SELECT rowid FROM search_index WHERE search_index MATCH :q "
            f"AND rowid % 4 IN ({kind_filter}) ORDER BY rank"
        )
    else:
        params["q"] = " & ".join(f"{t}:*" for t in terms)
        sql = (
            "SELECT doc_id FROM search_index WHERE tsv @@ to_tsquery('simple', :q) "
            f"AND doc_id % 4 IN ({kind_filter}) "
            "ORDER BY ts_rank(tsv, to_tsquery('simple', :q)) DESC, doc_id"
        )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    rows = conn.execute(text(sql), params)
    return [(KIND_NAMES[doc % 4], doc // 4) for (doc,) in rows]


def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]

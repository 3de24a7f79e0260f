"""Search across contacts, companies, leads and activity text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from smallcrm import records
from smallcrm.store import Db, search_index
from smallcrm.store.tables import Activity, Company, Contact, Lead

DEFAULT_LIMIT = 50
_TABLES: dict[str, Any] = {
    "contact": Contact,
    "company": Company,
    "lead": Lead,
    "activity": Activity,
}
_TITLE_FIELD = {"contact": "name", "company": "name", "lead": "title", "activity": "summary"}


def search(db: Db, query: str, *, limit: int | None = DEFAULT_LIMIT) -> list[records.SearchHit]:
    """Records holding every word of QUERY (each as a word prefix), best matches first.

    Each hit names the contact and company it concerns. The query is literal text: quotes,
    operators and punctuation are never query syntax.
    """
    with db.read() as session:
        found = search_index.matching(session, query, limit=limit)
        rows: dict[tuple[str, int], Any] = {}
        for kind, table in _TABLES.items():
            ids = [i for k, i in found if k == kind]
            if ids:
                for row in session.exec(select(table).where(col(table.id).in_(ids))):
                    rows[kind, row.id] = row
        contact_names = _names(session, Contact, _linked(rows, "contact"))
        company_names = _names(session, Company, _linked(rows, "company"))
    hits = []
    for key in found:
        row = rows.get(key)
        if row is not None:
            contact_id, company_id = _links(key[0], row)
            hits.append(
                records.SearchHit(
                    kind=key[0],
                    id=row.id,
                    title=getattr(row, _TITLE_FIELD[key[0]]),
                    detail=_detail(key[0], row),
                    contact_id=contact_id,
                    contact=contact_names.get(contact_id) if contact_id else None,
                    company_id=company_id,
                    company=company_names.get(company_id) if company_id else None,
                )
            )
    return hits


def _links(kind: str, row: Any) -> tuple[int | None, int | None]:
    if kind == "contact":
        return row.id, row.company_id
    if kind == "company":
        return None, row.id
    return row.contact_id, row.company_id


def _linked(rows: dict[tuple[str, int], Any], which: str) -> set[int]:
    index = 0 if which == "contact" else 1
    return {i for (kind, _), row in rows.items() if (i := _links(kind, row)[index])}


def _names(session: Session, table: Any, ids: Iterable[int]) -> dict[int, str]:
    ids = list(ids)
    if not ids:
        return {}
    return dict(session.exec(select(table.id, table.name).where(col(table.id).in_(ids))).all())


def _detail(kind: str, row: Any) -> str | None:
    if kind == "contact":
        return row.email
    if kind == "company":
        return row.domain
    if kind == "lead":
        return row.status
    return row.kind

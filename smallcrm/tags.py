"""Tags on contacts, companies and leads."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, SQLModel, col, delete, select

from smallcrm.errors import Invalid
from smallcrm.store.tables import CompanyTag, ContactTag, LeadTag, Tag

_LINKS: dict[str, tuple[type[SQLModel], str]] = {
    "contact": (ContactTag, "contact_id"),
    "company": (CompanyTag, "company_id"),
    "lead": (LeadTag, "lead_id"),
}


def clean(names: Iterable[str]) -> list[str]:
    """Tags as stored: trimmed, lower case, unique, in the order given; commas split tags."""
    seen: dict[str, None] = {}
    for name in names:
        for part in str(name).split(","):
            tag = part.strip().lower()
            if len(tag) > 100:
                raise Invalid(f"tag '{tag[:20]}…' is longer than 100 characters")
            if tag:
                seen[tag] = None
    return list(seen)


def _tag_ids(session: Session, names: Sequence[str], create: bool) -> list[int]:
    if not names:
        return []
    found = {t.name: t.id for t in session.exec(select(Tag).where(col(Tag.name).in_(names)))}
    if create:
        for name in names:
            if name not in found:
                tag = Tag(name=name)
                session.add(tag)
                session.flush()
                found[name] = tag.id
    return [found[n] for n in names if n in found]


def add(session: Session, kind: str, record_id: int, names: Iterable[str]) -> None:
    link, column = _LINKS[kind]
    existing = set(tags_of(session, kind, [record_id]).get(record_id, []))
    wanted = [n for n in clean(names) if n not in existing]
    for tag_id in _tag_ids(session, wanted, create=True):
        session.add(link(**{column: record_id, "tag_id": tag_id}))
    session.flush()


def remove(session: Session, kind: str, record_id: int, names: Iterable[str]) -> None:
    link, column = _LINKS[kind]
    ids = _tag_ids(session, clean(names), create=False)
    if ids:
        session.exec(
            delete(link).where(getattr(link, column) == record_id, col(link.tag_id).in_(ids))
        )


def replace(session: Session, kind: str, record_id: int, names: Iterable[str]) -> None:
    link, column = _LINKS[kind]
    session.exec(delete(link).where(getattr(link, column) == record_id))
    add(session, kind, record_id, names)


def tags_of(session: Session, kind: str, ids: Sequence[int]) -> dict[int, list[str]]:
    link, column = _LINKS[kind]
    result: dict[int, list[str]] = {}
    if not ids:
        return result
    owner = getattr(link, column)
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        rows = session.exec(
            select(owner, Tag.name)
            .join(Tag, Tag.id == link.tag_id)
            .where(col(owner).in_(chunk))
            .order_by(Tag.name)
        )
        for record_id, name in rows:
            result.setdefault(record_id, []).append(name)
    return result


def ids_with_tag(kind: str, name: str):  # type: ignore[no-untyped-def]
    """A subquery of the ids of `kind` records carrying the tag `name`."""
    link, column = _LINKS[kind]
    return (
        select(getattr(link, column))
        .join(Tag, Tag.id == link.tag_id)
        .where(Tag.name == name.strip().lower())
    )


def move(session: Session, kind: str, from_id: int, to_id: int) -> None:
    """Give `to_id` every tag of `from_id` (for merges)."""
    names = tags_of(session, kind, [from_id]).get(from_id, [])
    add(session, kind, to_id, names)

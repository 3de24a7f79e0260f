"""Companies: the accounts contacts work for and leads are sold to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from smallcrm import records, refs, tags, users
from smallcrm.common import check_version, clean_name, clean_text, touch
from smallcrm.errors import Duplicate, Invalid
from smallcrm.store import Db, search_index
from smallcrm.store.tables import Activity, Company, Contact, Lead, User, now_utc
from smallcrm.values import RELATIONSHIP_TYPES, choice

TEXT_FIELDS = ("domain", "industry", "city", "country", "territory", "phone")
EDITABLE = (*TEXT_FIELDS, "name", "relationship", "owner", "note", "extra")


def _relationship(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    return choice(value, RELATIONSHIP_TYPES, "relationship type")


def _domain(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    domain = value.strip().lower()
    for prefix in ("https://", "http://", "www."):
        domain = domain.removeprefix(prefix)
    domain = domain.split("/")[0]
    if "." not in domain or " " in domain:
        raise Invalid(f"invalid domain '{value}'")
    return domain


def _check_unique(session: Session, name: str, domain: str | None, except_id: int | None) -> None:
    query = select(Company.id, Company.name).where(func.lower(Company.name) == func.lower(name))
    if except_id is not None:
        query = query.where(Company.id != except_id)
    same = session.exec(query).first()
    if same is None and not name.isascii():
        # SQLite's lower() folds ASCII letters only: "école" and "ÉCOLE" are compared here.
        same_length = select(Company.id, Company.name).where(func.length(Company.name) == len(name))
        if except_id is not None:
            same_length = same_length.where(Company.id != except_id)
        wanted = name.casefold()
        same = next((r for r in session.exec(same_length) if r[1].casefold() == wanted), None)
    if same:
        raise Duplicate(f"company '{same[1]}' already exists (id {same[0]})")
    if domain:
        query = select(Company.id, Company.name).where(Company.domain == domain)
        if except_id is not None:
            query = query.where(Company.id != except_id)
        same = session.exec(query).first()
        if same:
            raise Duplicate(f"company '{same[1]}' (id {same[0]}) already has domain {domain}")


def add(
    db: Db,
    name: str,
    *,
    domain: str | None = None,
    industry: str | None = None,
    city: str | None = None,
    country: str | None = None,
    territory: str | None = None,
    relationship: str | None = None,
    phone: str | None = None,
    owner: str | None = None,
    tags_: Sequence[str] = (),
    note: str | None = None,
    extra: dict[str, Any] | None = None,
) -> records.Company:
    name = clean_name(name, "company")
    domain, relationship = _domain(domain), _relationship(relationship)
    tag_names = tags.clean(tags_)
    texts = {"industry": industry, "city": city, "country": country, "territory": territory}
    with db.write() as session:
        _check_unique(session, name, domain, None)
        owner_row = users.resolve(session, owner) if owner else users.me(session)
        now = now_utc()
        row = Company(
            name=name,
            domain=domain,
            relationship=relationship,
            phone=(phone or "").strip() or None,
            note=clean_text(note, "note"),
            owner_id=owner_row.id,
            extra=extra or None,
            created_at=now,
            updated_at=now,
            **{k: (v or "").strip() or None for k, v in texts.items()},
        )
        session.add(row)
        session.flush()
        tags.add(session, "company", row.id, tag_names)
        search_index.refresh(session, "company", [row.id])
        return load(session, row.id)


def to_record(row: Company, owner: str | None, tag_names: list[str]) -> records.Company:
    return records.Company(
        id=row.id,
        name=row.name,
        domain=row.domain,
        industry=row.industry,
        city=row.city,
        country=row.country,
        territory=row.territory,
        relationship=row.relationship,
        phone=row.phone,
        note=row.note,
        owner_id=row.owner_id,
        owner=owner,
        tags=tag_names,
        extra=dict(row.extra or {}),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _records(session: Session, rows: Sequence[Any]) -> list[records.Company]:
    tag_map = tags.tags_of(session, "company", [row[0].id for row in rows])
    return [to_record(c, owner, tag_map.get(c.id, [])) for c, owner in rows]


def _base_query():  # type: ignore[no-untyped-def]
    return select(Company, User.name).outerjoin(User, User.id == Company.owner_id)


def load(session: Session, company_id: int) -> records.Company:
    return _records(session, session.exec(_base_query().where(Company.id == company_id)).all())[0]


def get(db: Db, ref: str) -> records.Company:
    with db.read() as session:
        return load(session, refs.company(session, ref).id)


def list_companies(
    db: Db,
    *,
    search: str | None = None,
    tag: str | None = None,
    owner: str | None = None,
    relationship: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[records.Company]:
    with db.read() as session:
        query = _base_query()
        if search and search.strip():
            hits = [i for _, i in search_index.matching(session, search, ["company"])]
            if not hits:
                return []
            query = query.where(col(Company.id).in_(hits))
        if tag:
            query = query.where(col(Company.id).in_(tags.ids_with_tag("company", tag)))
        if owner:
            owner_row = users.find(session, owner)
            query = query.where(Company.owner_id == (owner_row.id if owner_row else -1))
        if relationship:
            query = query.where(Company.relationship == _relationship(relationship))
        query = query.order_by(func.lower(Company.name), Company.id).offset(offset).limit(limit)
        return _records(session, session.exec(query).all())


def edit(
    db: Db, ref: str, *, expected_version: int | None = None, **changes: Any
) -> records.Company:
    unknown = set(changes) - set(EDITABLE) - {"tags", "add_tags", "remove_tags"}
    if unknown:
        raise Invalid(f"cannot edit {', '.join(sorted(unknown))} of a company")
    with db.write() as session:
        row = refs.company(session, ref)
        session.refresh(row, with_for_update=True)
        check_version(row, expected_version, "company")
        for key, value in changes.items():
            if key == "name":
                row.name = clean_name(value, "company")
            elif key == "domain":
                row.domain = _domain(value)
            elif key == "relationship":
                row.relationship = _relationship(value)
            elif key == "owner":
                row.owner_id = users.resolve(session, value).id
            elif key == "note":
                row.note = clean_text(value, "note")
            elif key == "extra":
                row.extra = {**(row.extra or {}), **(value or {})} or None
            elif key in TEXT_FIELDS:
                setattr(row, key, (value or "").strip() or None)
        _check_unique(session, row.name, row.domain, row.id)
        touch(row)
        session.add(row)
        session.flush()
        if "tags" in changes:
            tags.replace(session, "company", row.id, changes["tags"] or [])
        tags.add(session, "company", row.id, changes.get("add_tags") or [])
        tags.remove(session, "company", row.id, changes.get("remove_tags") or [])
        search_index.refresh(session, "company", [row.id])
        return load(session, row.id)


def delete(db: Db, ref: str) -> records.Company:
    """Delete a company and its own activities; its contacts and leads stay, unlinked."""
    with db.write() as session:
        row = refs.company(session, ref)
        record = load(session, row.id)
        activity_ids = session.exec(select(Activity.id).where(Activity.company_id == row.id)).all()
        contact_ids = session.exec(select(Contact.id).where(Contact.company_id == row.id)).all()
        lead_ids = session.exec(select(Lead.id).where(Lead.company_id == row.id)).all()
        search_index.remove(session, "activity", activity_ids)
        search_index.remove(session, "company", [row.id])
        session.delete(row)
        session.flush()
        search_index.refresh(session, "contact", contact_ids)
        search_index.refresh(session, "lead", lead_ids)
        return record

"""Contacts: the people the team sells to."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from smallcrm import records, refs, settings, tags, users
from smallcrm.common import check_version, clean_name, clean_text, touch
from smallcrm.errors import Duplicate, Invalid, NotFound
from smallcrm.store import Db, search_index
from smallcrm.store.tables import Activity, Company, Contact, FollowUp, Lead, User, now_utc
from smallcrm.values import LIFECYCLE_STAGES, choice, normalize_phone, validate_email

EDITABLE = (
    "name", "email", "phone", "company", "title", "stage", "owner", "note",
    "consent", "do_not_contact", "extra",
)  # fmt: skip


def _email(value: str | None) -> str | None:
    return validate_email(value) if value and value.strip() else None


def _phone(value: str | None) -> str | None:
    return normalize_phone(value, settings.phone_region()) if value and value.strip() else None


def _stage(value: str | None) -> str | None:
    return choice(value, LIFECYCLE_STAGES, "lifecycle stage") if value and value.strip() else None


def _check_email_free(session: Session, email: str | None, except_id: int | None = None) -> None:
    if not email:
        return
    query = select(Contact.id).where(func.lower(Contact.email) == func.lower(email))
    if except_id is not None:
        query = query.where(Contact.id != except_id)
    other = session.exec(query).first()
    if other is not None:
        raise Duplicate(f"a contact with email {email} already exists (id {other})")


def find_or_create_company(session: Session, name_or_ref: str, owner_id: int | None) -> Company:
    """The company a REF names, or a new one of that name when none matches."""
    try:
        return refs.company(session, name_or_ref)
    except NotFound:
        if name_or_ref.strip().isdigit():
            raise
    now = now_utc()
    company = Company(
        name=clean_name(name_or_ref, "company"),
        owner_id=owner_id,
        created_at=now,
        updated_at=now,
    )
    session.add(company)
    session.flush()
    search_index.refresh(session, "company", [company.id])
    return company


def add(
    db: Db,
    name: str,
    *,
    email: str | None = None,
    phone: str | None = None,
    company: str | None = None,
    title: str | None = None,
    stage: str | None = None,
    owner: str | None = None,
    tags_: Sequence[str] = (),
    note: str | None = None,
    consent: bool = False,
    do_not_contact: bool = False,
    extra: dict[str, Any] | None = None,
) -> records.Contact:
    name = clean_name(name, "contact")
    email, phone, stage = _email(email), _phone(phone), _stage(stage)
    tag_names = tags.clean(tags_)
    with db.write() as session:
        _check_email_free(session, email)
        owner_row = users.resolve(session, owner) if owner else users.me(session)
        company_row = find_or_create_company(session, company, owner_row.id) if company else None
        now = now_utc()
        row = Contact(
            name=name,
            email=email,
            phone=phone,
            title=(title or "").strip() or None,
            company_id=company_row.id if company_row else None,
            stage=stage,
            owner_id=owner_row.id,
            note=clean_text(note, "note"),
            consent=consent,
            do_not_contact=do_not_contact,
            extra=extra or None,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        tags.add(session, "contact", row.id, tag_names)
        search_index.refresh(session, "contact", [row.id])
        return load(session, row.id)


def _base_query():  # type: ignore[no-untyped-def]
    return (
        select(Contact, Company.name, User.name)
        .outerjoin(Company, Company.id == Contact.company_id)
        .outerjoin(User, User.id == Contact.owner_id)
    )


def _records(session: Session, rows: Sequence[Any]) -> list[records.Contact]:
    tag_map = tags.tags_of(session, "contact", [row[0].id for row in rows])
    return [to_record(c, company, owner, tag_map.get(c.id, [])) for c, company, owner in rows]


def to_record(
    row: Contact, company: str | None, owner: str | None, tag_names: list[str]
) -> records.Contact:
    return records.Contact(
        id=row.id,
        name=row.name,
        email=row.email,
        phone=row.phone,
        company_id=row.company_id,
        company=company,
        title=row.title,
        stage=row.stage,
        owner_id=row.owner_id,
        owner=owner,
        tags=tag_names,
        note=row.note,
        consent=bool(row.consent),
        do_not_contact=bool(row.do_not_contact),
        extra=dict(row.extra or {}),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def load(session: Session, contact_id: int) -> records.Contact:
    rows = session.exec(_base_query().where(Contact.id == contact_id)).all()
    return _records(session, rows)[0]


def get(db: Db, ref: str) -> records.Contact:
    with db.read() as session:
        return load(session, refs.contact(session, ref).id)


def list_contacts(
    db: Db,
    *,
    search: str | None = None,
    tag: str | None = None,
    company: str | None = None,
    stage: str | None = None,
    owner: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    order: str = "name",
) -> list[records.Contact]:
    """Contacts matching every filter given; `search` is full-text with prefix words."""
    with db.read() as session:
        query = _base_query()
        if search and search.strip():
            if order == "newest" and limit is not None and not (tag or company or stage or owner):
                # The index pages itself in this order: no need to collect every hit first.
                ids = search_index.newest_matching(
                    session, search, "contact", limit=limit, offset=offset
                )
                if not ids:
                    return []
                page = query.where(col(Contact.id).in_(ids)).order_by(col(Contact.id).desc())
                return _records(session, session.exec(page).all())
            hits = search_index.matching_ids(session, search, "contact")
            if hits is None:
                return []
            query = query.where(col(Contact.id).in_(hits))
        if tag:
            query = query.where(col(Contact.id).in_(tags.ids_with_tag("contact", tag)))
        if company:
            query = query.where(Contact.company_id == refs.company(session, company).id)
        if stage:
            query = query.where(Contact.stage == _stage(stage))
        if owner:
            owner_row = users.find(session, owner)
            query = query.where(Contact.owner_id == (owner_row.id if owner_row else -1))
        query = query.order_by(*_ORDER.get(order, _ORDER["name"])).offset(offset).limit(limit)
        return _records(session, session.exec(query).all())


_ORDER = {
    "name": (func.lower(Contact.name), Contact.id),
    "id": (Contact.id,),
    "recent": (col(Contact.updated_at).desc(), col(Contact.id).desc()),
    "newest": (col(Contact.id).desc(),),
    # NULLS LAST spelled out: SQLite puts NULLs first and PostgreSQL last by default.
    "company": (func.lower(Company.name).nulls_last(), func.lower(Contact.name), Contact.id),
    # Along the lifecycle (lead before customer), not alphabetically; no stage last.
    "stage": (
        case(
            {stage: place for place, stage in enumerate(LIFECYCLE_STAGES)},
            value=Contact.stage,
            else_=len(LIFECYCLE_STAGES),
        ),
        func.lower(Contact.name),
        Contact.id,
    ),
}


def count(db: Db, *, search: str | None = None) -> int:
    with db.read() as session:
        if search and search.strip():
            return len(search_index.matching(session, search, ["contact"]))
        return session.exec(select(func.count()).select_from(Contact)).one()


def edit(
    db: Db, ref: str, *, expected_version: int | None = None, **changes: Any
) -> records.Contact:
    """Change the given fields; `tags` replaces, `add_tags`/`remove_tags` adjust."""
    unknown = set(changes) - set(EDITABLE) - {"tags", "add_tags", "remove_tags"}
    if unknown:
        raise Invalid(f"cannot edit {', '.join(sorted(unknown))} of a contact")
    with db.write() as session:
        row = refs.contact(session, ref)
        session.refresh(row, with_for_update=True)
        check_version(row, expected_version, "contact")
        _apply(session, row, changes)
        touch(row)
        session.add(row)
        session.flush()
        if "tags" in changes:
            tags.replace(session, "contact", row.id, changes["tags"] or [])
        tags.add(session, "contact", row.id, changes.get("add_tags") or [])
        tags.remove(session, "contact", row.id, changes.get("remove_tags") or [])
        search_index.refresh(session, "contact", [row.id])
        return load(session, row.id)


def _apply(session: Session, row: Contact, changes: dict[str, Any]) -> None:
    for key, value in changes.items():
        if key in ("tags", "add_tags", "remove_tags"):
            continue
        if key == "name":
            row.name = clean_name(value, "contact")
        elif key == "email":
            # Check before assigning: the check's query would flush the new email first and
            # hit the unique index (an IntegrityError instead of Duplicate).
            email = _email(value)
            _check_email_free(session, email, except_id=row.id)
            row.email = email
        elif key == "phone":
            row.phone = _phone(value)
        elif key == "stage":
            row.stage = _stage(value)
        elif key == "company":
            row.company_id = (
                find_or_create_company(session, value, row.owner_id).id
                if value and value.strip()
                else None
            )
        elif key == "owner":
            row.owner_id = users.resolve(session, value).id
        elif key == "extra":
            row.extra = {**(row.extra or {}), **(value or {})} or None
        elif key in ("consent", "do_not_contact"):
            setattr(row, key, bool(value))
        elif key == "note":
            row.note = clean_text(value, "note")
        else:
            setattr(row, key, (value or "").strip() or None)


def delete(db: Db, ref: str) -> records.Contact:
    """Delete a contact with its activities and follow-ups; its leads stay, unlinked."""
    with db.write() as session:
        row = refs.contact(session, ref)
        record = load(session, row.id)
        activity_ids = session.exec(select(Activity.id).where(Activity.contact_id == row.id)).all()
        search_index.remove(session, "activity", activity_ids)
        search_index.remove(session, "contact", [row.id])
        lead_ids = session.exec(select(Lead.id).where(Lead.contact_id == row.id)).all()
        session.delete(row)
        session.flush()
        search_index.refresh(session, "lead", lead_ids)
        return record


def merge(db: Db, keep: str, other: str) -> records.Contact:
    """Fold OTHER into KEEP: its history, leads, follow-ups and tags move; empty fields fill."""
    with db.write() as session:
        kept = refs.contact(session, keep)
        gone = refs.contact(session, other)
        if kept.id == gone.id:
            raise Invalid("cannot merge a contact into itself")
        for table in (Activity, FollowUp, Lead):
            for item in session.exec(select(table).where(table.contact_id == gone.id)).all():
                item.contact_id = kept.id
                session.add(item)
        tags.move(session, "contact", gone.id, kept.id)
        gone_email = gone.email
        for field in ("phone", "title", "company_id", "stage", "note", "owner_id"):
            if getattr(kept, field) in (None, "") and getattr(gone, field) not in (None, ""):
                setattr(kept, field, getattr(gone, field))
        kept.extra = {**(gone.extra or {}), **(kept.extra or {})} or None
        session.flush()
        search_index.remove(session, "contact", [gone.id])
        session.delete(gone)
        session.flush()
        if not kept.email and gone_email:
            kept.email = gone_email
        touch(kept)
        session.add(kept)
        session.flush()
        search_index.refresh(session, "contact", [kept.id])
        return load(session, kept.id)

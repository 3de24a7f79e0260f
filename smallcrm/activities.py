"""Activities: calls, emails, meetings, notes and visits that happened with a customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from smallcrm import records, refs, users
from smallcrm.common import clean_name, clean_text
from smallcrm.errors import Invalid, NotFound
from smallcrm.store import Db, search_index
from smallcrm.store.tables import Activity, Company, Contact, Lead, User, now_utc
from smallcrm.values import ACTIVITY_KINDS, choice, parse_when

DIRECTIONS = ("inbound", "outbound")


def _duration(minutes: int | str | None) -> int | None:
    if minutes is None or minutes == "":
        return None
    try:
        value = int(minutes)
    except (TypeError, ValueError):
        raise Invalid(f"duration '{minutes}' is not a whole number of minutes") from None
    if not 0 <= value <= 100_000:
        raise Invalid("duration must be between 0 and 100000 minutes")
    return value


def log(
    db: Db,
    kind: str,
    ref: str,
    summary: str,
    *,
    at: str | datetime | None = None,
    lead: str | None = None,
    duration: int | str | None = None,
    body: str | None = None,
    direction: str | None = None,
    user: str | None = None,
) -> records.Activity:
    """Record something that happened with a contact or company (REF is either)."""
    kind = choice(kind, ACTIVITY_KINDS, "activity kind")
    summary = clean_name(summary, "activity summary")
    occurred = at if isinstance(at, datetime) else parse_when(at) if at else now_utc()
    minutes = _duration(duration)
    body = clean_text(body, "body")
    direction = choice(direction, DIRECTIONS, "direction") if direction else None
    with db.write() as session:
        customer = refs.customer(session, ref)
        lead_row = refs.lead(session, lead) if lead else None
        who = users.resolve(session, user) if user else users.me(session)
        is_contact = isinstance(customer, Contact)
        row = Activity(
            kind=kind,
            direction=direction,
            summary=summary,
            body=body,
            occurred_at=occurred,
            duration_min=minutes,
            contact_id=customer.id if is_contact else None,
            company_id=None if is_contact else customer.id,
            lead_id=lead_row.id if lead_row else None,
            user_id=who.id,
            created_at=now_utc(),
        )
        session.add(row)
        session.flush()
        search_index.refresh(session, "activity", [row.id])
        return load(session, row.id)


def _base_query():  # type: ignore[no-untyped-def]
    return (
        select(Activity, Contact.name, Company.name, Lead.title, User.name)
        .outerjoin(Contact, Contact.id == Activity.contact_id)
        .outerjoin(Company, Company.id == Activity.company_id)
        .outerjoin(Lead, Lead.id == Activity.lead_id)
        .outerjoin(User, User.id == Activity.user_id)
    )


def to_record(
    row: Activity, contact: str | None, company: str | None, lead: str | None, user: str | None
) -> records.Activity:
    return records.Activity(
        id=row.id,
        kind=row.kind,
        direction=row.direction,
        summary=row.summary,
        body=row.body,
        occurred_at=row.occurred_at,
        duration_min=row.duration_min,
        contact_id=row.contact_id,
        contact=contact,
        company_id=row.company_id,
        company=company,
        lead_id=row.lead_id,
        lead=lead,
        user_id=row.user_id,
        user=user,
        created_at=row.created_at,
    )


def _records(rows: Sequence[Any]) -> list[records.Activity]:
    return [to_record(*row) for row in rows]


def load(session: Session, activity_id: int) -> records.Activity:
    rows = session.exec(_base_query().where(Activity.id == activity_id)).all()
    if not rows:
        raise NotFound(f"no activity {activity_id}")
    return _records(rows)[0]


def get(db: Db, activity_id: int | str) -> records.Activity:
    with db.read() as session:
        return load(session, _id(activity_id))


def _id(value: int | str) -> int:
    text = str(value).strip().lstrip("#")
    if not (text.isascii() and text.isdigit() and len(text) < 19):
        raise NotFound(f"no activity '{value}'")
    return int(text)


def for_company_clause(company_id: int):  # type: ignore[no-untyped-def]
    """Activities of a company: its own and those of its contacts."""
    contact_ids = select(Contact.id).where(Contact.company_id == company_id)
    return or_(Activity.company_id == company_id, col(Activity.contact_id).in_(contact_ids))


def list_activities(
    db: Db,
    *,
    contact: str | None = None,
    company: str | None = None,
    lead: str | None = None,
    kind: str | None = None,
    since: str | datetime | None = None,
    user: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[records.Activity]:
    """Activities newest first, filtered."""
    with db.read() as session:
        query = _base_query()
        if contact:
            query = query.where(Activity.contact_id == refs.contact(session, contact).id)
        if company:
            query = query.where(for_company_clause(refs.company(session, company).id))
        if lead:
            query = query.where(Activity.lead_id == refs.lead(session, lead).id)
        if kind:
            query = query.where(Activity.kind == choice(kind, ACTIVITY_KINDS, "activity kind"))
        if since:
            start = since if isinstance(since, datetime) else parse_when(since)
            query = query.where(Activity.occurred_at >= start)
        if user:
            who = users.find(session, user)
            query = query.where(Activity.user_id == (who.id if who else -1))
        query = query.order_by(col(Activity.occurred_at).desc(), col(Activity.id).desc())
        return _records(session.exec(query.offset(offset).limit(limit)).all())


def delete(db: Db, activity_id: int | str) -> records.Activity:
    with db.write() as session:
        record = load(session, _id(activity_id))
        search_index.remove(session, "activity", [record.id])
        session.delete(session.get(Activity, record.id))
        return record


def last_activity_by_contact(db: Db, contact_ids: Sequence[int]) -> dict[int, datetime]:
    """When each of these contacts last had an activity (contacts with none are left out)."""
    from sqlalchemy import func

    ids = sorted({int(i) for i in contact_ids})
    if not ids:
        return {}
    with db.read() as session:
        rows = session.exec(
            select(Activity.contact_id, func.max(Activity.occurred_at))
            .where(col(Activity.contact_id).in_(ids))
            .group_by(Activity.contact_id)
        ).all()
    return {contact_id: when for contact_id, when in rows if when is not None}

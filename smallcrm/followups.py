"""Follow-ups: things someone must do for a customer by a due time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from smallcrm import records, refs, users
from smallcrm.common import check_version, clean_name, touch
from smallcrm.errors import Invalid
from smallcrm.store import Db
from smallcrm.store.tables import Company, Contact, FollowUp, Lead, User, now_utc
from smallcrm.values import local_zone, parse_when

DUE_WINDOWS = ("overdue", "today", "week", "all")
STATUSES = ("open", "done", "cancelled")


def day_bounds(now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start of today and of tomorrow in the local zone, as aware datetimes."""
    local_now = (now or now_utc()).astimezone(local_zone())
    start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    # Wall-clock arithmetic on a zoneinfo datetime: a DST day still ends at midnight.
    return start, start + timedelta(days=1)


def _when(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else parse_when(value)


def add(
    db: Db,
    ref: str,
    title: str,
    *,
    due: str | datetime,
    lead: str | None = None,
    owner: str | None = None,
) -> records.FollowUp:
    """A follow-up for a contact or company (REF is either), due at WHEN."""
    title = clean_name(title, "follow-up title")
    if due is None or (isinstance(due, str) and not due.strip()):
        raise Invalid("a follow-up needs a due time (--due)")
    due_at = _when(due)
    with db.write() as session:
        customer = refs.customer(session, ref)
        lead_row = refs.lead(session, lead) if lead else None
        owner_row = users.resolve(session, owner) if owner else users.me(session)
        is_contact = isinstance(customer, Contact)
        now = now_utc()
        row = FollowUp(
            title=title,
            due_at=due_at,
            contact_id=customer.id if is_contact else None,
            company_id=None if is_contact else customer.id,
            lead_id=lead_row.id if lead_row else None,
            owner_id=owner_row.id,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return load(session, row.id)


def base_query():  # type: ignore[no-untyped-def]
    return (
        select(FollowUp, Contact.name, Company.name, Lead.title, User.name, User.email)
        .outerjoin(Contact, Contact.id == FollowUp.contact_id)
        .outerjoin(Company, Company.id == FollowUp.company_id)
        .outerjoin(Lead, Lead.id == FollowUp.lead_id)
        .outerjoin(User, User.id == FollowUp.owner_id)
    )


def to_records(rows: Sequence[Any], now: datetime | None = None) -> list[records.FollowUp]:
    start_of_today, _ = day_bounds(now)
    return [
        records.FollowUp(
            id=row.id,
            title=row.title,
            due_at=row.due_at,
            status=row.status,
            contact_id=row.contact_id,
            contact=contact,
            company_id=row.company_id,
            company=company,
            lead_id=row.lead_id,
            lead=lead,
            owner_id=row.owner_id,
            owner=owner,
            owner_email=owner_email,
            overdue=row.status == "open" and row.due_at < start_of_today,
            reminded_at=row.reminded_at,
            done_at=row.done_at,
            version=row.version,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
        for row, contact, company, lead, owner, owner_email in rows
    ]


def load(session: Session, followup_id: int) -> records.FollowUp:
    return to_records(session.exec(base_query().where(FollowUp.id == followup_id)).all())[0]


def get(db: Db, ref: str | int) -> records.FollowUp:
    with db.read() as session:
        return load(session, refs.followup(session, ref).id)


def list_followups(
    db: Db,
    *,
    due: str = "all",
    status: str = "open",
    owner: str | None = None,
    contact: str | None = None,
    company: str | None = None,
    lead: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    now: datetime | None = None,
) -> list[records.FollowUp]:
    """Follow-ups soonest first. `due`: overdue (before today), today, week (up to 7 days
    ahead, overdue included) or all; `status`: open, done, cancelled or all."""
    window = (due or "all").strip().lower()
    if window not in DUE_WINDOWS:
        raise Invalid(f"unknown due window '{due}'; expected one of: {', '.join(DUE_WINDOWS)}")
    wanted = (status or "open").strip().lower()
    if wanted != "all" and wanted not in STATUSES:
        raise Invalid(f"unknown status '{status}'; expected one of: open, done, cancelled, all")
    start, tomorrow = day_bounds(now)
    with db.read() as session:
        query = base_query()
        if wanted != "all":
            query = query.where(FollowUp.status == wanted)
        if window == "overdue":
            query = query.where(FollowUp.due_at < start)
        elif window == "today":
            query = query.where(FollowUp.due_at >= start, FollowUp.due_at < tomorrow)
        elif window == "week":
            query = query.where(FollowUp.due_at < start + timedelta(days=7))
        if owner:
            who = users.find(session, owner)
            query = query.where(FollowUp.owner_id == (who.id if who else -1))
        if contact:
            query = query.where(FollowUp.contact_id == refs.contact(session, contact).id)
        if company:
            company_id = refs.company(session, company).id
            contact_ids = select(Contact.id).where(Contact.company_id == company_id)
            query = query.where(
                or_(FollowUp.company_id == company_id, col(FollowUp.contact_id).in_(contact_ids))
            )
        if lead:
            query = query.where(FollowUp.lead_id == refs.lead(session, lead).id)
        query = query.order_by(FollowUp.due_at, FollowUp.id).offset(offset).limit(limit)
        return to_records(session.exec(query).all(), now)


def _update(db: Db, ref: str | int, expected_version: int | None, change: Any) -> records.FollowUp:
    with db.write() as session:
        row = refs.followup(session, ref)
        session.refresh(row, with_for_update=True)
        check_version(row, expected_version, "follow-up")
        change(row)
        touch(row)
        session.add(row)
        session.flush()
        return load(session, row.id)


def done(db: Db, ref: str | int, *, expected_version: int | None = None) -> records.FollowUp:
    def mark(row: FollowUp) -> None:
        if row.status == "done":
            raise Invalid(f"follow-up {row.id} is already done")
        row.status, row.done_at = "done", now_utc()

    return _update(db, ref, expected_version, mark)


def cancel(db: Db, ref: str | int, *, expected_version: int | None = None) -> records.FollowUp:
    def mark(row: FollowUp) -> None:
        if row.status == "cancelled":
            raise Invalid(f"follow-up {row.id} is already cancelled")
        row.status, row.done_at = "cancelled", None

    return _update(db, ref, expected_version, mark)


def reopen(db: Db, ref: str | int, *, expected_version: int | None = None) -> records.FollowUp:
    def mark(row: FollowUp) -> None:
        row.status, row.done_at, row.reminded_at = "open", None, None

    return _update(db, ref, expected_version, mark)


def snooze(
    db: Db, ref: str | int, until: str | datetime, *, expected_version: int | None = None
) -> records.FollowUp:
    """Push the due time to UNTIL; the follow-up is reminded again then."""
    new_due = _when(until)

    def mark(row: FollowUp) -> None:
        if row.status != "open":
            raise Invalid(f"follow-up {row.id} is {row.status}; only open follow-ups snooze")
        row.due_at, row.reminded_at = new_due, None

    return _update(db, ref, expected_version, mark)


def edit(
    db: Db,
    ref: str | int,
    *,
    title: str | None = None,
    due: str | datetime | None = None,
    owner: str | None = None,
    expected_version: int | None = None,
) -> records.FollowUp:
    new_title = clean_name(title, "follow-up title") if title is not None else None
    new_due = _when(due) if due else None
    with db.write() as session:
        owner_id = users.resolve(session, owner).id if owner else None

    def change(row: FollowUp) -> None:
        if new_title is not None:
            row.title = new_title
        if new_due is not None:
            row.due_at, row.reminded_at = new_due, None
        if owner_id is not None:
            row.owner_id = owner_id

    return _update(db, ref, expected_version, change)


def delete(db: Db, ref: str | int) -> records.FollowUp:
    with db.write() as session:
        row = refs.followup(session, ref)
        record = load(session, row.id)
        session.delete(row)
        return record

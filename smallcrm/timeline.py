"""A customer's history, newest first: activities, follow-ups and lead events."""

from __future__ import annotations

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from smallcrm import history, records, refs
from smallcrm.activities import for_company_clause
from smallcrm.store import Db
from smallcrm.store.tables import Activity, Contact, FollowUp, Lead, Stage, StageChange, User

EVENT_WORDS = {
    "created": "created",
    "moved": "moved",
    "won": "won",
    "lost": "lost",
    "reopened": "reopened",
}


def timeline(
    db: Db, ref: str, *, limit: int | None = None, offset: int = 0
) -> list[records.TimelineEntry]:
    """Everything that happened with a contact or a company (and its contacts), newest first.

    `limit`/`offset` page through it; only the activities a page needs are read."""
    first = None if limit is None else offset + limit
    with db.read() as session:
        customer = refs.customer(session, ref)
        if isinstance(customer, Contact):
            entries = _for_contact(session, customer.id, first)
        else:
            entries = _for_company(session, customer.id, first)
        entries += history.timeline_edits(session, _kind(customer), customer.id)  # type "edit"
    entries.sort(key=lambda e: (e.at, e.type), reverse=True)
    return entries[offset:first]


def _kind(customer: Contact | object) -> str:
    return "contact" if isinstance(customer, Contact) else "company"


def _for_contact(
    session: Session, contact_id: int, first: int | None = None
) -> list[records.TimelineEntry]:
    return (
        _activities(session, Activity.contact_id == contact_id, first)
        + _followups(session, FollowUp.contact_id == contact_id)
        + _lead_events(session, Lead.contact_id == contact_id)
    )


def _for_company(
    session: Session, company_id: int, first: int | None = None
) -> list[records.TimelineEntry]:
    contact_ids = select(Contact.id).where(Contact.company_id == company_id)
    return (
        _activities(session, for_company_clause(company_id), first)
        + _followups(
            session,
            or_(FollowUp.company_id == company_id, col(FollowUp.contact_id).in_(contact_ids)),
        )
        + _lead_events(
            session, or_(Lead.company_id == company_id, col(Lead.contact_id).in_(contact_ids))
        )
    )


def _activities(session: Session, where, first: int | None = None) -> list[records.TimelineEntry]:  # type: ignore[no-untyped-def]
    query = select(Activity, User.name).outerjoin(User, User.id == Activity.user_id).where(where)
    if first is not None:  # the newest `first` in the order timeline() sorts them
        query = query.order_by(
            col(Activity.occurred_at).desc(), col(Activity.kind).desc(), col(Activity.id).desc()
        ).limit(first)
    rows = session.exec(query)
    return [
        records.TimelineEntry(
            at=a.occurred_at,
            type=a.kind,
            summary=a.summary,
            detail=a.body,
            user=user,
            contact_id=a.contact_id,
            company_id=a.company_id,
            lead_id=a.lead_id,
            activity_id=a.id,
        )
        for a, user in rows
    ]


def _followups(session: Session, where) -> list[records.TimelineEntry]:  # type: ignore[no-untyped-def]
    rows = session.exec(
        select(FollowUp, User.name).outerjoin(User, User.id == FollowUp.owner_id).where(where)
    )
    entries = []
    for f, owner in rows:
        when = f.done_at if f.status == "done" and f.done_at else f.due_at
        entries.append(
            records.TimelineEntry(
                at=when,
                type="followup",
                summary=f.title,
                detail=f.status,
                user=owner,
                contact_id=f.contact_id,
                company_id=f.company_id,
                lead_id=f.lead_id,
                followup_id=f.id,
            )
        )
    return entries


def _lead_events(session: Session, where) -> list[records.TimelineEntry]:  # type: ignore[no-untyped-def]
    from_stage, to_stage = aliased(Stage), aliased(Stage)
    rows = session.exec(
        select(StageChange, Lead, from_stage.name, to_stage.name, User.name)
        .join(Lead, Lead.id == StageChange.lead_id)
        .outerjoin(from_stage, from_stage.id == StageChange.from_stage_id)
        .outerjoin(to_stage, to_stage.id == StageChange.to_stage_id)
        .outerjoin(User, User.id == StageChange.user_id)
        .where(where)
    )
    entries = []
    for change, lead, before, after, user in rows:
        entries.append(
            records.TimelineEntry(
                at=change.changed_at,
                type=f"lead {EVENT_WORDS.get(change.event, change.event)}",
                summary=_event_summary(change, lead, before, after),
                detail=lead.lost_reason if change.event == "lost" else None,
                user=user,
                contact_id=lead.contact_id,
                company_id=lead.company_id,
                lead_id=lead.id,
            )
        )
    return entries


def _event_summary(change: StageChange, lead: Lead, before: str | None, after: str | None) -> str:
    if change.event == "created":
        return f"{lead.title} (in {after})"
    if change.event == "moved":
        return f"{lead.title}: {before} → {after}"
    if change.event == "lost" and lead.lost_reason:
        return f"{lead.title}: {lead.lost_reason}"
    return lead.title

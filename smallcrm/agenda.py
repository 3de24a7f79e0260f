"""Today's agenda: what a rep should look at first thing in the morning."""

from __future__ import annotations

from datetime import datetime, timedelta

from smallcrm import followups, leads, records, users
from smallcrm.store import Db
from smallcrm.store.tables import FollowUp, now_utc
from smallcrm.values import local_zone


def today(
    db: Db,
    *,
    owner: str | None = None,
    now: datetime | None = None,
    stale_limit: int | None = None,
) -> records.Agenda:
    """Overdue and due-today follow-ups, stale leads, and leads expected to close by Sunday
    (a close date already passed included). `owner` narrows to one rep; None means all.
    `stale_limit` caps the stale leads listed (the longest-waiting first in each stage)."""
    now = now or now_utc()
    start, tomorrow = followups.day_bounds(now)
    local_today = now.astimezone(local_zone()).date()
    end_of_week = local_today + timedelta(days=6 - local_today.weekday())
    owner_name = None
    with db.read() as session:
        owner_id = None
        if owner:
            row = users.find(session, owner)
            owner_id = row.id if row else -1
            owner_name = row.name if row else owner
        query = followups.base_query().where(FollowUp.status == "open", FollowUp.due_at < tomorrow)
        if owner_id is not None:
            query = query.where(FollowUp.owner_id == owner_id)
        due = followups.to_records(
            session.exec(query.order_by(FollowUp.due_at, FollowUp.id)).all(), now
        )
    stale = (
        leads.list_leads(db, owner=owner, stale=True, now=now, limit=stale_limit)
        if owner_id != -1
        else []
    )
    closing = leads.list_leads(db, owner=owner, closing_by=end_of_week) if owner_id != -1 else []
    return records.Agenda(
        owner=owner_name,
        overdue=[f for f in due if f.due_at < start],
        due_today=[f for f in due if f.due_at >= start],
        stale_leads=stale,
        closing_this_week=sorted(closing, key=lambda lead: (lead.expected_close, lead.id)),
    )

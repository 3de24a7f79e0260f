"""Follow-ups: add, get, list by due window and status, done/cancel/reopen/snooze, edit, delete."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from smallcrm import companies, contacts, followups, leads, users
from smallcrm.errors import Ambiguous, Conflict, Invalid, NotFound
from smallcrm.records import FollowUp
from smallcrm.store import Db
from smallcrm.store.tables import FollowUp as FollowUpRow
from smallcrm.store.tables import now_utc

# Wednesday 11 March 2026, 15:00 UTC.
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


@pytest.fixture
def crm(db: Db) -> Db:
    companies.add(db, "Acme")
    contacts.add(db, "Ada", email="ada@example.com", company="Acme")
    contacts.add(db, "Bob")
    leads.add(db, "Engines", contact="ada")
    return db


def titles(records: list[FollowUp]) -> list[str]:
    return [r.title for r in records]


def test_add_for_a_contact(crm: Db) -> None:
    due = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)
    item = followups.add(crm, "ada@example.com", "  Send plans ", due=due, lead="engines")
    assert isinstance(item, FollowUp)
    assert item.title == "Send plans"
    assert item.due_at == due
    assert (item.status, item.done_at, item.reminded_at) == ("open", None, None)
    assert (item.contact, item.company_id, item.lead) == ("Ada", None, "Engines")
    assert (item.owner, item.owner_email) == ("tester", None)
    assert item.overdue is False
    assert item.version == 1
    assert followups.get(crm, item.id) == followups.get(crm, str(item.id)) == item


def test_add_for_a_company_with_a_parsed_due_time(crm: Db) -> None:
    item = followups.add(crm, "company:acme", "Invoice", due="2030-01-02T09:30")
    assert (item.company, item.contact_id) == ("Acme", None)
    assert item.due_at == datetime(2030, 1, 2, 9, 30, tzinfo=UTC)


def test_add_for_another_owner_carries_their_email(crm: Db) -> None:
    users.add(crm, "Grace", email="grace@example.com")
    item = followups.add(crm, "bob", "Call", due="2030-01-01", owner="grace")
    assert (item.owner, item.owner_email) == ("Grace", "grace@example.com")


def test_add_failures_write_nothing(crm: Db) -> None:
    for kwargs in ({"due": ""}, {"due": "  "}, {"due": "someday"}, {"due": None}):
        with pytest.raises(Invalid):
            followups.add(crm, "bob", "Call", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        followups.add(crm, "bob", " ", due="2030-01-01")
    for kwargs in ({"owner": "ghost"}, {"lead": "ghost"}):
        with pytest.raises(NotFound):
            followups.add(crm, "bob", "Call", due="2030-01-01", **kwargs)
    with pytest.raises(NotFound):
        followups.add(crm, "ghost", "Call", due="2030-01-01")
    contacts.add(crm, "BOB")
    with pytest.raises(Ambiguous):
        followups.add(crm, "bob", "Call", due="2030-01-01")
    assert followups.list_followups(crm, status="all") == []


def test_get_unknown_is_not_found(crm: Db) -> None:
    for ref in (999, "999", "x", "#0"):
        with pytest.raises(NotFound):
            followups.get(crm, ref)


# --------------------------------------------------------------------------------------------
# listing


@pytest.fixture
def agenda(crm: Db) -> Db:
    users.add(crm, "Grace")
    followups.add(crm, "ada", "Last week", due=NOW - timedelta(days=7))
    followups.add(crm, "ada", "Yesterday", due=NOW - timedelta(days=1))
    followups.add(crm, "bob", "This morning", due=NOW.replace(hour=0), owner="grace")
    followups.add(crm, "acme", "Tonight", due=NOW.replace(hour=23, minute=59), lead="engines")
    followups.add(crm, "bob", "Tomorrow", due=NOW + timedelta(days=1))
    followups.add(crm, "bob", "In six days", due=NOW + timedelta(days=6))
    followups.add(crm, "bob", "In a month", due=NOW + timedelta(days=30))
    return crm


def test_list_windows(agenda: Db) -> None:
    every = [
        "Last week", "Yesterday", "This morning", "Tonight", "Tomorrow", "In six days",
        "In a month",
    ]  # fmt: skip
    assert titles(followups.list_followups(agenda, now=NOW)) == every
    assert titles(followups.list_followups(agenda, due="ALL", now=NOW)) == every
    assert titles(followups.list_followups(agenda, due="overdue", now=NOW)) == [
        "Last week", "Yesterday",
    ]  # fmt: skip
    assert titles(followups.list_followups(agenda, due="today", now=NOW)) == [
        "This morning", "Tonight",
    ]  # fmt: skip
    assert titles(followups.list_followups(agenda, due="week", now=NOW)) == every[:-1]
    assert titles(followups.list_followups(agenda, limit=2, offset=1, now=NOW)) == [
        "Yesterday", "This morning",
    ]  # fmt: skip


def test_overdue_flag_means_due_before_today(agenda: Db) -> None:
    flags = {f.title: f.overdue for f in followups.list_followups(agenda, now=NOW)}
    assert flags["Last week"] and flags["Yesterday"]
    assert not flags["This morning"] and not flags["Tomorrow"]


def test_list_filters(agenda: Db) -> None:
    assert titles(followups.list_followups(agenda, owner="grace")) == ["This morning"]
    assert titles(followups.list_followups(agenda, owner="ghost")) == []
    assert titles(followups.list_followups(agenda, contact="ada")) == ["Last week", "Yesterday"]
    # A company's follow-ups include its contacts'.
    assert titles(followups.list_followups(agenda, company="acme")) == [
        "Last week", "Yesterday", "Tonight",
    ]  # fmt: skip
    assert titles(followups.list_followups(agenda, lead="engines")) == ["Tonight"]


def test_list_by_status(agenda: Db) -> None:
    yesterday = followups.list_followups(agenda, due="overdue", now=NOW)[-1]
    followups.done(agenda, yesterday.id)
    followups.cancel(agenda, followups.list_followups(agenda)[0].id)
    assert titles(followups.list_followups(agenda, status="done")) == ["Yesterday"]
    assert titles(followups.list_followups(agenda, status="cancelled")) == ["Last week"]
    assert len(followups.list_followups(agenda, status="ALL")) == 7
    assert len(followups.list_followups(agenda)) == 5
    assert titles(followups.list_followups(agenda, due="overdue", now=NOW)) == []


def test_list_failures(agenda: Db) -> None:
    with pytest.raises(Invalid, match="due window"):
        followups.list_followups(agenda, due="soon")
    with pytest.raises(Invalid, match="status"):
        followups.list_followups(agenda, status="pending")
    with pytest.raises(NotFound):
        followups.list_followups(agenda, contact="ghost")
    with pytest.raises(NotFound):
        followups.list_followups(agenda, company="ghost")
    with pytest.raises(NotFound):
        followups.list_followups(agenda, lead="ghost")


def test_day_bounds_follow_the_local_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    start, end = followups.day_bounds(NOW)
    assert (start, end) == (datetime(2026, 3, 11, tzinfo=UTC), datetime(2026, 3, 12, tzinfo=UTC))
    monkeypatch.setenv("TZ", "America/New_York")
    zone = ZoneInfo("America/New_York")
    # 03:30 UTC on the 9th is still the 8th in New York, the day DST starts (23 hours long).
    start, end = followups.day_bounds(datetime(2026, 3, 9, 3, 30, tzinfo=UTC))
    assert start == datetime(2026, 3, 8, tzinfo=zone)
    assert end == datetime(2026, 3, 9, tzinfo=zone)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


# --------------------------------------------------------------------------------------------
# changing state


def test_done_cancel_reopen(crm: Db) -> None:
    item = followups.add(crm, "bob", "Call", due="2030-01-01")
    done = followups.done(crm, item.id, expected_version=item.version)
    assert done.status == "done" and done.done_at is not None
    assert done.version == item.version + 1
    with pytest.raises(Invalid, match="already done"):
        followups.done(crm, item.id)
    reopened = followups.reopen(crm, str(item.id))
    assert (reopened.status, reopened.done_at, reopened.reminded_at) == ("open", None, None)
    cancelled = followups.cancel(crm, item.id)
    assert (cancelled.status, cancelled.done_at) == ("cancelled", None)
    with pytest.raises(Invalid, match="already cancelled"):
        followups.cancel(crm, item.id)
    assert followups.done(crm, item.id).status == "done"  # a cancelled one can still be done


def test_state_changes_with_a_stale_version_conflict(crm: Db) -> None:
    item = followups.add(crm, "bob", "Call", due="2030-01-01")
    followups.edit(crm, item.id, title="Call Bob")
    for change in (followups.done, followups.cancel, followups.reopen):
        with pytest.raises(Conflict):
            change(crm, item.id, expected_version=item.version)
    with pytest.raises(Conflict):
        followups.snooze(crm, item.id, "2030-02-01", expected_version=item.version)
    assert followups.get(crm, item.id).status == "open"


def test_state_changes_of_unknown_follow_ups(crm: Db) -> None:
    for change in (followups.done, followups.cancel, followups.reopen, followups.delete):
        with pytest.raises(NotFound):
            change(crm, 999)
    with pytest.raises(NotFound):
        followups.snooze(crm, 999, "tomorrow")
    with pytest.raises(NotFound):
        followups.edit(crm, 999, title="x")


def test_snooze_moves_the_due_time_and_forgets_the_reminder(crm: Db) -> None:
    item = followups.add(crm, "bob", "Call", due="2030-01-01")
    with crm.write() as session:
        session.exec(
            update(FollowUpRow).where(FollowUpRow.id == item.id).values(reminded_at=now_utc())
        )
    assert followups.get(crm, item.id).reminded_at is not None
    snoozed = followups.snooze(crm, item.id, "2030-01-05T10:00")
    assert snoozed.due_at == datetime(2030, 1, 5, 10, tzinfo=UTC)
    assert snoozed.reminded_at is None
    assert followups.snooze(crm, item.id, datetime(2030, 2, 1, tzinfo=UTC)).due_at.month == 2
    with pytest.raises(Invalid):
        followups.snooze(crm, item.id, "never")
    followups.done(crm, item.id)
    with pytest.raises(Invalid, match="only open"):
        followups.snooze(crm, item.id, "2030-03-01")


def test_edit(crm: Db) -> None:
    users.add(crm, "Grace")
    item = followups.add(crm, "bob", "Call", due="2030-01-01")
    edited = followups.edit(
        crm, item.id, title="Call Bob", due="2030-01-03", owner="grace", expected_version=1
    )
    assert (edited.title, edited.owner) == ("Call Bob", "Grace")
    assert edited.due_at == datetime(2030, 1, 3, tzinfo=UTC)
    assert followups.edit(crm, item.id).title == "Call Bob"  # nothing given, nothing changes
    with pytest.raises(Invalid):
        followups.edit(crm, item.id, title="")
    with pytest.raises(Invalid):
        followups.edit(crm, item.id, due="never")
    with pytest.raises(NotFound):
        followups.edit(crm, item.id, owner="ghost")
    with pytest.raises(Conflict):
        followups.edit(crm, item.id, title="x", expected_version=1)
    assert followups.get(crm, item.id).title == "Call Bob"


def test_delete(crm: Db) -> None:
    item = followups.add(crm, "bob", "Call", due="2030-01-01")
    assert followups.delete(crm, item.id) == item
    with pytest.raises(NotFound):
        followups.get(crm, item.id)
    with pytest.raises(NotFound):
        followups.delete(crm, item.id)

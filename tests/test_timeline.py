"""Timelines: a contact's or company's history (activities, follow-ups, lead events), newest
first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from smallcrm import activities, companies, contacts, followups, leads, timeline
from smallcrm.errors import Ambiguous, Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store.tables import FollowUp, StageChange

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def date_lead_events(db: Db, lead_id: int, *times: datetime) -> None:
    """Give a lead's stage changes (oldest first) fixed times."""
    with db.write() as session:
        rows = session.exec(
            StageChange.__table__.select()  # type: ignore[attr-defined]
            .where(StageChange.lead_id == lead_id)
            .order_by(StageChange.id)
        ).all()
        assert len(rows) == len(times)
        for row, when in zip(rows, times, strict=True):
            session.exec(
                update(StageChange).where(StageChange.id == row.id).values(changed_at=when)
            )


def set_done_at(db: Db, followup_id: int, when: datetime) -> None:
    with db.write() as session:
        session.exec(update(FollowUp).where(FollowUp.id == followup_id).values(done_at=when))


@pytest.fixture
def history(db: Db) -> Db:
    """Acme with Ada and Bob, and Other Co with Cy; things happened to each over a few hours."""
    companies.add(db, "Acme")
    companies.add(db, "Other Co")
    contacts.add(db, "Ada", company="Acme")
    contacts.add(db, "Bob", company="Acme")
    contacts.add(db, "Cy", company="Other Co")

    activities.log(db, "call", "ada", "Ada call", at=at(1))
    activities.log(db, "meeting", "bob", "Bob meeting", at=at(2), body="agenda")
    activities.log(db, "visit", "company:acme", "Acme visit", at=at(3))
    activities.log(db, "call", "cy", "Cy call", at=at(4))
    followups.add(db, "ada", "Ada follow-up", due=at(10))
    done = followups.add(db, "bob", "Bob follow-up", due=at(20))
    followups.done(db, done.id)
    set_done_at(db, done.id, at(5))

    lead = leads.add(db, "Ada deal", contact="ada")
    leads.move(db, "ada deal", "Proposal")
    leads.lost(db, "ada deal", "no budget")
    date_lead_events(db, lead.id, at(0), at(6), at(7))
    return db


def test_contact_timeline_is_newest_first(history: Db) -> None:
    entries = timeline.timeline(history, "ada")
    assert [(e.type, e.summary) for e in entries] == [
        ("followup", "Ada follow-up"),
        ("lead lost", "Ada deal: no budget"),
        ("lead moved", "Ada deal: New → Proposal"),
        ("call", "Ada call"),
        ("lead created", "Ada deal (in New)"),
    ]
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    ada = contacts.get(history, "ada")
    assert all(e.contact_id == ada.id for e in entries)
    lost = entries[1]
    assert lost.detail == "no budget" and lost.user == "tester" and lost.lead_id is not None
    assert entries[0].followup_id is not None and entries[0].detail == "open"
    assert entries[3].activity_id is not None


def test_company_timeline_includes_its_contacts(history: Db) -> None:
    entries = timeline.timeline(history, "company:acme")
    assert [e.summary for e in entries] == [
        "Ada follow-up",
        "Ada deal: no budget",
        "Ada deal: New → Proposal",
        "Bob follow-up",  # done: shown when it was done, not when it was due
        "Acme visit",
        "Bob meeting",
        "Ada call",
        "Ada deal (in New)",
    ]
    assert "Cy call" not in {e.summary for e in timeline.timeline(history, "acme")}
    bob_meeting = next(e for e in entries if e.summary == "Bob meeting")
    assert (bob_meeting.type, bob_meeting.detail) == ("meeting", "agenda")
    done = next(e for e in entries if e.summary == "Bob follow-up")
    assert done.at == at(5) and done.detail == "done"


def test_other_company_sees_only_its_own(history: Db) -> None:
    assert [e.summary for e in timeline.timeline(history, "other co")] == ["Cy call"]


def test_limit_keeps_the_newest(history: Db) -> None:
    assert [e.summary for e in timeline.timeline(history, "company:acme", limit=2)] == [
        "Ada follow-up",
        "Ada deal: no budget",
    ]


def test_pages_of_a_timeline(history: Db) -> None:
    whole = timeline.timeline(history, "company:acme")
    assert timeline.timeline(history, "company:acme", limit=3, offset=2) == whole[2:5]
    assert timeline.timeline(history, "company:acme", offset=6) == whole[6:]
    assert timeline.timeline(history, "company:acme", limit=5, offset=100) == []


def test_won_and_reopened_events(db: Db) -> None:
    contacts.add(db, "Ada")
    lead = leads.add(db, "Deal", contact="ada")
    leads.won(db, "deal")
    leads.move(db, "deal", "Contacted")
    date_lead_events(db, lead.id, at(0), at(1), at(2), at(2))
    types = [e.type for e in timeline.timeline(db, "ada")]
    assert types[-2:] == ["lead won", "lead created"]
    assert sorted(types[:2]) == ["lead moved", "lead reopened"]


def test_a_lead_of_the_company_without_a_contact_is_on_its_timeline(db: Db) -> None:
    companies.add(db, "Acme")
    leads.add(db, "Company deal", company="acme")
    assert [e.type for e in timeline.timeline(db, "acme")] == ["lead created"]


def test_empty_timeline(db: Db) -> None:
    contacts.add(db, "Quiet")
    assert timeline.timeline(db, "quiet") == []


def test_timeline_refs(history: Db) -> None:
    ada = contacts.get(history, "ada")
    assert timeline.timeline(history, f"contact:{ada.id}") == timeline.timeline(history, "ADA")
    with pytest.raises(NotFound):
        timeline.timeline(history, "ghost")
    with pytest.raises(Invalid):
        timeline.timeline(history, "")
    contacts.add(history, "acme")
    with pytest.raises(Ambiguous):
        timeline.timeline(history, "acme")

"""Today's agenda: overdue, due today, stale leads, closes this week — for one rep or all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from smallcrm import agenda, contacts, followups, leads, users
from smallcrm.records import Agenda
from smallcrm.store import Db
from smallcrm.store.tables import Lead

# Wednesday 11 March 2026, 15:00 UTC; the week ends on Sunday the 15th.
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def entered(db: Db, title: str, when: datetime) -> None:
    with db.write() as session:
        session.exec(update(Lead).where(Lead.title == title).values(stage_entered_at=when))


def sections(result: Agenda) -> dict[str, list[str]]:
    return {
        "overdue": [f.title for f in result.overdue],
        "due_today": [f.title for f in result.due_today],
        "stale": [lead.title for lead in result.stale_leads],
        "closing": [lead.title for lead in result.closing_this_week],
    }


@pytest.fixture
def crm(db: Db) -> Db:
    users.add(db, "Grace")
    contacts.add(db, "Ada")
    due = {
        "Long overdue": datetime(2026, 3, 1, 9, 0, tzinfo=UTC),
        "Overdue": datetime(2026, 3, 10, 23, 59, tzinfo=UTC),
        "Early today": datetime(2026, 3, 11, 0, 0, tzinfo=UTC),
        "Later today": datetime(2026, 3, 11, 22, 0, tzinfo=UTC),
        "Tomorrow": datetime(2026, 3, 12, 0, 0, tzinfo=UTC),
        "Done overdue": datetime(2026, 3, 9, tzinfo=UTC),
        "Cancelled today": datetime(2026, 3, 11, 9, tzinfo=UTC),
    }
    for title, when in due.items():
        followups.add(db, "ada", title, due=when)
    followups.add(
        db, "ada", "Grace today", due=datetime(2026, 3, 11, 12, tzinfo=UTC), owner="grace"
    )
    by_title = {f.title: f.id for f in followups.list_followups(db)}
    followups.done(db, by_title["Done overdue"])
    followups.cancel(db, by_title["Cancelled today"])

    leads.add(db, "Stale new", stage="New")  # stale after 7 days in New
    leads.add(db, "Fresh new", stage="New")
    leads.add(db, "Stale grace", stage="Qualified", owner="grace")  # 21 days in Qualified
    leads.add(db, "Won long ago", stage="New")
    entered(db, "Stale new", NOW - timedelta(days=8))
    entered(db, "Fresh new", NOW - timedelta(days=6, hours=23))
    entered(db, "Stale grace", NOW - timedelta(days=30))
    entered(db, "Won long ago", NOW - timedelta(days=60))
    leads.won(db, "won long ago")

    leads.add(db, "Closes Friday", close="2026-03-13")
    leads.add(db, "Closes Sunday", close="2026-03-15", owner="grace")
    leads.add(db, "Closes next Monday", close="2026-03-16")
    leads.add(db, "Close date passed", close="2026-03-01")
    leads.add(db, "Won closes Thursday", close="2026-03-12")
    leads.won(db, "won closes thursday")
    for title in ("Closes Friday", "Closes Sunday", "Closes next Monday", "Close date passed"):
        entered(db, title, NOW - timedelta(hours=1))
    return db


def test_everyones_agenda(crm: Db) -> None:
    result = agenda.today(crm, now=NOW)
    assert result.owner is None
    assert sections(result) == {
        "overdue": ["Long overdue", "Overdue"],
        "due_today": ["Early today", "Grace today", "Later today"],
        "stale": ["Stale new", "Stale grace"],
        "closing": ["Close date passed", "Closes Friday", "Closes Sunday"],
    }
    assert all(f.overdue for f in result.overdue)
    assert not any(f.overdue for f in result.due_today)


def test_one_reps_agenda(crm: Db) -> None:
    mine = agenda.today(crm, owner="me", now=NOW)
    assert mine.owner == "tester"
    assert sections(mine) == {
        "overdue": ["Long overdue", "Overdue"],
        "due_today": ["Early today", "Later today"],
        "stale": ["Stale new"],
        "closing": ["Close date passed", "Closes Friday"],
    }
    grace = agenda.today(crm, owner="GRACE", now=NOW)
    assert grace.owner == "Grace"
    assert sections(grace) == {
        "overdue": [],
        "due_today": ["Grace today"],
        "stale": ["Stale grace"],
        "closing": ["Closes Sunday"],
    }


def test_stale_leads_can_be_capped(crm: Db) -> None:
    if "stale_limit" not in agenda.today.__code__.co_varnames:
        pytest.skip("no stale_limit")
    assert sections(agenda.today(crm, now=NOW, stale_limit=1))["stale"] == ["Stale new"]
    assert sections(agenda.today(crm, now=NOW, stale_limit=0))["stale"] == []


def test_an_unknown_rep_has_an_empty_agenda(crm: Db) -> None:
    nobody = agenda.today(crm, owner="ghost", now=NOW)
    assert nobody.owner == "ghost"
    assert sections(nobody) == {"overdue": [], "due_today": [], "stale": [], "closing": []}


def test_the_agenda_moves_with_now(crm: Db) -> None:
    tomorrow = agenda.today(crm, now=NOW + timedelta(days=1))
    assert sections(tomorrow)["overdue"] == [
        "Long overdue", "Overdue", "Early today", "Grace today", "Later today",
    ]  # fmt: skip
    assert sections(tomorrow)["due_today"] == ["Tomorrow"]
    assert "Fresh new" in sections(tomorrow)["stale"]
    next_week = agenda.today(crm, now=datetime(2026, 3, 16, 9, tzinfo=UTC))
    assert "Closes next Monday" in sections(next_week)["closing"]


def test_an_empty_database_has_an_empty_agenda(db: Db) -> None:
    assert sections(agenda.today(db)) == {
        "overdue": [],
        "due_today": [],
        "stale": [],
        "closing": [],
    }


def test_days_and_weeks_are_local(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    """In New York, 02:00 UTC on Monday 16 March 2026 is still Sunday evening (EDT, UTC-4)."""
    now = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
    contacts.add(db, "Ada")
    followups.add(db, "ada", "Saturday night", due=datetime(2026, 3, 15, 3, 0, tzinfo=UTC))
    followups.add(db, "ada", "Sunday morning", due=datetime(2026, 3, 15, 14, 0, tzinfo=UTC))
    followups.add(db, "ada", "Just after midnight", due=datetime(2026, 3, 16, 4, 30, tzinfo=UTC))
    leads.add(db, "Closes Sunday", close="2026-03-15")
    leads.add(db, "Closes Wednesday", close="2026-03-18")

    monkeypatch.setenv("TZ", "America/New_York")
    new_york = agenda.today(db, now=now)
    assert sections(new_york) == {
        "overdue": ["Saturday night"],
        "due_today": ["Sunday morning"],
        "stale": [],
        "closing": ["Closes Sunday"],
    }

    monkeypatch.setenv("TZ", "UTC")  # the same instant is Monday in UTC: a new day and week
    utc = agenda.today(db, now=now)
    assert sections(utc) == {
        "overdue": ["Saturday night", "Sunday morning"],
        "due_today": ["Just after midnight"],
        "stale": [],
        "closing": ["Closes Sunday", "Closes Wednesday"],
    }

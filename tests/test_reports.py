"""Reports: pipeline by stage, forecast by month, activity per rep, win rate per owner."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update

from smallcrm import activities, contacts, leads, reports, users
from smallcrm.errors import Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store.tables import Lead

# Wednesday 11 March 2026, 15:00 UTC (tests run with TZ=UTC).
NOW = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)


def set_lead(db: Db, title: str, **values: object) -> None:
    with db.write() as session:
        session.exec(update(Lead).where(Lead.title == title).values(**values))


def brief(row: object, *names: str) -> tuple:
    return tuple(getattr(row, name) for name in names)


@pytest.fixture
def team(db: Db) -> Db:
    users.add(db, "Grace")
    contacts.add(db, "Ada")
    return db


def test_pipeline_per_stage_and_currency_with_totals(team: Db) -> None:
    db = team
    leads.add(db, "A", stage="New", value="1000")  # 10% -> 100
    leads.add(db, "B", stage="New", value="500.50", probability=50)  # -> 250.25
    leads.add(db, "C", stage="Proposal", value="2000", owner="grace")  # 60% -> 1200
    leads.add(db, "D", stage="Qualified", value="100000", currency="JPY")  # 40% -> 40000
    leads.add(db, "E", stage="New", value="999")
    leads.won(db, "E")
    for title, days in {"A": 8, "B": 2, "C": 3, "D": 21}.items():
        set_lead(db, title, stage_entered_at=NOW - timedelta(days=days, hours=1))

    rows = reports.pipeline_report(db, now=NOW)
    fields = ("row", "stage", "currency", "count", "total", "weighted", "avg_days_in_stage",
              "stale")  # fmt: skip
    got = [brief(r, *fields) for r in rows]
    assert len(got) == 12  # 5 stages x 2 currencies + 2 totals
    assert got[0] == ("stage", "New", "JPY", 0, 0, 0, None, 0)
    assert got[1] == ("stage", "New", "USD", 2, 1500.5, 350.25, 5.0, 1)
    assert got[4] == ("stage", "Qualified", "JPY", 1, 100000, 40000, 21.0, 1)
    assert got[7] == ("stage", "Proposal", "USD", 1, 2000, 1200, 3.0, 0)
    assert got[9] == ("stage", "Negotiation", "USD", 0, 0, 0, None, 0)
    assert got[10] == ("total", None, "JPY", 1, 100000, 40000, 21.0, 1)
    assert got[11] == ("total", None, "USD", 3, 3500.5, 1550.25, 4.3, 1)
    assert len({r.pipeline for r in rows}) == 1

    mine = reports.pipeline_report(db, owner="grace", now=NOW)
    assert len(mine) == 6 and {r.currency for r in mine} == {"USD"}
    assert brief(mine[-1], "count", "total", "weighted") == (1, 2000, 1200)
    assert sum(r.count for r in reports.pipeline_report(db, owner="me", now=NOW)) == 2 * 3


def test_pipeline_empty_and_unknown_owner(team: Db) -> None:
    rows = reports.pipeline_report(team, now=NOW)
    assert [r.stage for r in rows] == ["New", "Contacted", "Qualified", "Proposal",
                                       "Negotiation", None]  # fmt: skip
    assert all(r.count == 0 and r.total == 0 and r.avg_days_in_stage is None for r in rows)
    with pytest.raises(NotFound):
        reports.pipeline_report(team, owner="nobody")


def test_forecast_by_month(team: Db) -> None:
    db = team
    leads.add(db, "Overdue", stage="New", value="100", close=date(2026, 3, 10))  # -> 10
    leads.add(db, "Today", stage="New", value="200", probability=50, close=date(2026, 3, 11))
    leads.add(db, "Month end", stage="Proposal", value="300", close=date(2026, 3, 31))  # 180
    leads.add(db, "May", stage="Negotiation", value="400", close=date(2026, 5, 31))  # 320
    leads.add(db, "June", stage="New", value="1000", close=date(2026, 6, 1))  # 100
    leads.add(db, "Undated", stage="New", value="50")  # 5
    leads.add(db, "Lost", stage="New", value="70", close=date(2026, 4, 1))
    leads.lost(db, "Lost")

    rows = reports.forecast(db, now=NOW)
    got = [brief(r, "period", "start", "end", "count", "total", "weighted") for r in rows]
    assert got == [
        ("overdue", None, date(2026, 3, 10), 1, 100, 10),
        ("2026-03", date(2026, 3, 11), date(2026, 3, 31), 2, 500, 280),
        ("2026-04", date(2026, 4, 1), date(2026, 4, 30), 0, 0, 0),
        ("2026-05", date(2026, 5, 1), date(2026, 5, 31), 1, 400, 320),
        ("later", date(2026, 6, 1), None, 1, 1000, 100),
        ("no date", None, None, 1, 50, 5),
    ]
    assert {r.currency for r in rows} == {"USD"}
    one = reports.forecast(db, months=1, now=NOW)
    assert [r.period for r in one] == ["overdue", "2026-03", "later", "no date"]
    assert one[2].count == 2 and one[2].total == 1400


def test_forecast_months_cross_the_year(team: Db) -> None:
    rows = reports.forecast(team, months=2, now=datetime(2026, 12, 5, tzinfo=UTC))
    assert [r.period for r in rows] == ["overdue", "2026-12", "2027-01", "later", "no date"]
    assert rows[3].start == date(2027, 2, 1)
    with pytest.raises(Invalid):
        reports.forecast(team, months=0, now=NOW)


def test_activity_per_rep_and_kind(team: Db) -> None:
    db = team
    logged = [
        ("call", NOW - timedelta(days=1), None),
        ("call", NOW - timedelta(days=2), None),
        ("email", NOW - timedelta(days=29), None),
        ("meeting", NOW - timedelta(days=31), None),  # before the default 30 days
        ("note", NOW - timedelta(hours=1), "grace"),
        ("visit", NOW - timedelta(days=10), "grace"),
    ]
    for kind, at, who in logged:
        activities.log(db, kind, "ada", f"{kind} at {at}", at=at, user=who)

    rows = reports.activity_report(db, now=NOW)
    got = [brief(r, "rep", "call", "email", "meeting", "note", "visit", "total") for r in rows]
    assert got == [("Grace", 0, 0, 0, 1, 1, 2), ("tester", 2, 1, 0, 0, 0, 3)]

    recent = reports.activity_report(db, since="2026-03-05", now=NOW)
    assert [brief(r, "rep", "total") for r in recent] == [("Grace", 1), ("tester", 2)]
    grace = reports.activity_report(db, owner="grace", now=NOW)
    assert [brief(r, "rep", "note", "visit", "total") for r in grace] == [("Grace", 1, 1, 2)]
    assert reports.activity_report(db, since="2026-03-12", now=NOW) == []
    with pytest.raises(Invalid):
        reports.activity_report(db, since="whenever", now=NOW)


def test_winrate_per_owner(team: Db) -> None:
    db = team
    closed = {
        # title: (owner, value, status, created days ago, closed days ago)
        "W1": (None, "1000", "won", 40, 10),
        "W2": (None, "500", "won", 20, 5),
        "L1": (None, "800", "lost", 10, 1),
        "Old": (None, "5000", "won", 120, 100),  # before the default 90 days
        "L2": ("grace", "300", "lost", 5, 2),
    }
    for title, (owner, value, status, created, done) in closed.items():
        leads.add(db, title, value=value, owner=owner)
        (leads.won if status == "won" else leads.lost)(db, title)
        set_lead(
            db,
            title,
            created_at=NOW - timedelta(days=created),
            closed_at=NOW - timedelta(days=done),
        )
    leads.add(db, "Open", value="10000")

    rows = reports.winrate(db, now=NOW)
    fields = ("owner", "currency", "won", "lost", "win_rate", "won_value", "avg_days_to_close")
    assert [brief(r, *fields) for r in rows] == [
        ("Grace", "USD", 0, 1, 0.0, 0, 3.0),
        ("tester", "USD", 2, 1, 66.7, 1500, 18.0),
    ]
    longer = reports.winrate(db, since=NOW - timedelta(days=365), owner="me", now=NOW)
    assert [brief(r, "won", "lost", "won_value") for r in longer] == [(3, 1, 6500)]
    assert reports.winrate(db, since="2026-03-11", now=NOW) == []

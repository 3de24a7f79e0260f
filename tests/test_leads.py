"""Leads: add, get, list, move/step (stage changes), won/lost/reopen, edit, delete, board."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from smallcrm import activities, companies, contacts, leads, search, tags, users
from smallcrm.errors import Ambiguous, Conflict, Invalid, NotFound
from smallcrm.records import Lead
from smallcrm.store import Db
from smallcrm.store.tables import Lead as LeadRow
from smallcrm.store.tables import Stage, StageChange


def history(db: Db, lead_id: int) -> list[tuple[str, str | None, str | None]]:
    """(event, from stage, to stage) of a lead, oldest first."""
    with db.read() as session:
        stage_names = {s.id: s.name for s in session.exec(select(Stage))}
        rows = session.exec(
            select(StageChange)
            .where(StageChange.lead_id == lead_id)
            .order_by(StageChange.changed_at, StageChange.id)
        ).all()
        return [
            (r.event, stage_names.get(r.from_stage_id), stage_names.get(r.to_stage_id))
            for r in rows
        ]


def set_stage_entered(db: Db, lead_id: int, when: datetime) -> None:
    with db.write() as session:
        session.exec(update(LeadRow).where(LeadRow.id == lead_id).values(stage_entered_at=when))


def titles(records: list[Lead]) -> list[str]:
    return [r.title for r in records]


# --------------------------------------------------------------------------------------------
# add


def test_add_defaults(db: Db) -> None:
    lead = leads.add(db, "  Big Deal ")
    assert isinstance(lead, Lead)
    assert lead.title == "Big Deal"
    assert (lead.stage, lead.status, lead.pipeline) == ("New", "open", "Sales")
    assert (lead.value, lead.value_minor, lead.currency) == (0, 0, "USD")
    assert lead.probability == 10  # the stage's default
    assert lead.expected_close is None and lead.closed_at is None
    assert lead.owner == "tester"
    assert lead.contact_id is None and lead.company_id is None
    assert lead.days_in_stage == 0 and lead.stale is False and lead.close_passed is False
    assert lead.version == 1
    assert history(db, lead.id) == [("created", None, "New")]


def test_add_with_every_field(db: Db) -> None:
    users.add(db, "Grace")
    contacts.add(db, "Ada", company="Acme")
    lead = leads.add(
        db,
        "Engines",
        contact="ada",
        value="5,000.50",
        currency="eur",
        stage="qualified",
        close="2030-06-30",
        owner="grace",
        probability="35%",
        tags_=["Hot"],
        extra={"source": "fair"},
    )
    assert (lead.contact, lead.company) == ("Ada", "Acme")  # the contact's company by default
    assert (lead.value, lead.value_minor, lead.currency) == (5000.5, 500050, "EUR")
    assert lead.stage == "Qualified"
    assert lead.expected_close == date(2030, 6, 30)
    assert lead.owner == "Grace"
    assert lead.probability == 35
    assert lead.tags == ["hot"]
    assert lead.extra == {"source": "fair"}
    assert history(db, lead.id) == [("created", None, "Qualified")]


def test_an_explicit_company_overrides_the_contacts(db: Db) -> None:
    contacts.add(db, "Ada", company="Acme")
    companies.add(db, "Other")
    lead = leads.add(db, "Deal", contact="ada", company="other")
    assert (lead.contact, lead.company) == ("Ada", "Other")


def test_value_and_currency_rules(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    assert leads.add(db, "Yen", value="5000", currency="JPY").value_minor == 5000
    assert leads.add(db, "Minor units as int", value=12345).value == 123.45
    monkeypatch.setenv("SMALLCRM_CURRENCY", "gbp")
    assert leads.add(db, "Default currency").currency == "GBP"
    with pytest.raises(Invalid):
        leads.add(db, "Too precise", value="10.5", currency="JPY")
    with pytest.raises(Invalid):
        leads.add(db, "Negative", value="-5")
    with pytest.raises(Invalid):
        leads.add(db, "Words", value="lots")
    with pytest.raises(Invalid):
        leads.add(db, "Currency", currency="dollars")


def test_add_failures_write_nothing(db: Db) -> None:
    for kwargs in (
        {"stage": "Won"},
        {"probability": "101"},
        {"probability": 101},
        {"probability": -1},
        {"close": "someday"},
    ):
        with pytest.raises(Invalid):
            leads.add(db, "Deal", **kwargs)
    for kwargs in ({"contact": "ghost"}, {"company": "ghost"}, {"owner": "ghost"}):
        with pytest.raises(NotFound):
            leads.add(db, "Deal", **kwargs)
    with pytest.raises(NotFound):
        leads.add(db, "Deal", pipeline_name="Marketing")
    with pytest.raises(Invalid):
        leads.add(db, "  ")
    assert leads.list_leads(db, status="all") == []
    with db.read() as session:
        assert session.exec(select(StageChange)).all() == []


def test_get_by_id_and_title(db: Db) -> None:
    lead = leads.add(db, "Big Deal")
    assert leads.get(db, str(lead.id)) == lead
    assert leads.get(db, "BIG DEAL") == lead
    leads.add(db, "big deal")
    with pytest.raises(Ambiguous) as caught:
        leads.get(db, "Big Deal")
    assert len(caught.value.candidates) == 2
    with pytest.raises(NotFound):
        leads.get(db, "Nothing")


# --------------------------------------------------------------------------------------------
# moving through the pipeline


def test_move_records_a_stage_change(db: Db) -> None:
    lead = leads.add(db, "Deal")
    moved = leads.move(db, "deal", "PROPOSAL", expected_version=lead.version)
    assert moved.stage == "Proposal"
    assert moved.probability == 60
    assert moved.version == lead.version + 1
    assert moved.stage_entered_at >= lead.stage_entered_at
    assert history(db, lead.id) == [("created", None, "New"), ("moved", "New", "Proposal")]


def test_move_to_the_same_stage_changes_nothing(db: Db) -> None:
    lead = leads.add(db, "Deal")
    assert leads.move(db, "deal", "new") == lead
    assert history(db, lead.id) == [("created", None, "New")]


def test_move_failures(db: Db) -> None:
    lead = leads.add(db, "Deal")
    with pytest.raises(Invalid, match="stages are"):
        leads.move(db, "deal", "Won")
    with pytest.raises(NotFound):
        leads.move(db, "ghost", "New")
    leads.move(db, "deal", "Contacted")
    with pytest.raises(Conflict):
        leads.move(db, "deal", "Qualified", expected_version=lead.version)
    assert leads.get(db, "deal").stage == "Contacted"


def test_step_moves_one_stage_and_stops_at_the_ends(db: Db) -> None:
    lead = leads.add(db, "Deal")
    assert leads.step(db, str(lead.id), -1).stage == "New"
    assert leads.step(db, str(lead.id), +1).stage == "Contacted"
    assert leads.step(db, str(lead.id), +1).stage == "Qualified"
    assert leads.step(db, str(lead.id), -1).stage == "Contacted"
    for _ in range(6):
        last = leads.step(db, str(lead.id), +1)
    assert last.stage == "Negotiation"
    assert [e for e, _, _ in history(db, lead.id)].count("moved") == 6
    with pytest.raises(Conflict):
        leads.step(db, str(lead.id), -1, expected_version=1)


def test_won_and_lost_close_a_lead(db: Db) -> None:
    win = leads.add(db, "Win me", value="100")
    lose = leads.add(db, "Lose me")
    won = leads.won(db, "win me", expected_version=win.version)
    assert (won.status, won.probability, won.stage) == ("won", 100, "New")
    assert won.closed_at is not None and won.version == win.version + 1
    lost = leads.lost(db, "lose me", "Too expensive")
    assert (lost.status, lost.probability, lost.lost_reason) == ("lost", 0, "Too expensive")
    assert lost.closed_at is not None
    assert history(db, win.id)[-1] == ("won", "New", None)
    assert history(db, lose.id)[-1] == ("lost", "New", None)
    # Closed leads leave the open list and the board.
    assert leads.list_leads(db) == []
    assert all(column.count == 0 for column in leads.board(db))
    assert titles(leads.list_leads(db, status="won")) == ["Win me"]
    assert titles(leads.list_leads(db, status="LOST")) == ["Lose me"]
    assert sorted(titles(leads.list_leads(db, status="all"))) == ["Lose me", "Win me"]
    assert sorted(titles(leads.list_leads(db, status=None))) == ["Lose me", "Win me"]


def test_closing_twice_is_invalid_but_switching_is_allowed(db: Db) -> None:
    leads.add(db, "Deal")
    leads.won(db, "deal")
    with pytest.raises(Invalid, match="already won"):
        leads.won(db, "deal")
    switched = leads.lost(db, "deal", reason="Customer backed out")
    assert switched.status == "lost"
    with pytest.raises(Invalid, match="already lost"):
        leads.lost(db, "deal")
    with pytest.raises(NotFound):
        leads.won(db, "ghost")
    with pytest.raises(Conflict):
        leads.won(db, "deal", expected_version=1)


def test_lost_reason_is_searchable(db: Db) -> None:
    leads.add(db, "Deal")
    leads.lost(db, "deal", "went with Globex")
    assert [(h.kind, h.title) for h in search.search(db, "globex")] == [("lead", "Deal")]


def test_moving_a_closed_lead_reopens_it(db: Db) -> None:
    lead = leads.add(db, "Deal", stage="Proposal")
    leads.lost(db, "deal", "budget")
    reopened = leads.move(db, "deal", "Negotiation")
    assert (reopened.status, reopened.stage) == ("open", "Negotiation")
    assert reopened.closed_at is None and reopened.lost_reason is None
    assert reopened.probability == 80
    assert history(db, lead.id) == [
        ("created", None, "Proposal"),
        ("lost", "Proposal", None),
        ("reopened", "Proposal", "Proposal"),
        ("moved", "Proposal", "Negotiation"),
    ]


def test_moving_a_closed_lead_to_its_own_stage_only_reopens_it(db: Db) -> None:
    lead = leads.add(db, "Deal", stage="Proposal")
    leads.won(db, "deal")
    reopened = leads.move(db, "deal", "proposal")
    assert (reopened.status, reopened.stage, reopened.closed_at) == ("open", "Proposal", None)
    assert [e for e, _, _ in history(db, lead.id)] == ["created", "won", "reopened"]


# --------------------------------------------------------------------------------------------
# list


@pytest.fixture
def pipeline_leads(db: Db) -> dict[str, Lead]:
    users.add(db, "Grace")
    contacts.add(db, "Ada", company="Acme")
    contacts.add(db, "Bob", company="Bobco")
    return {
        "a": leads.add(db, "Alpha", contact="ada", stage="Proposal", tags_=["hot"]),
        "b": leads.add(db, "Beta", contact="bob", owner="grace"),
        "c": leads.add(db, "Gamma", company="acme", close="2030-01-15"),
        "d": leads.add(db, "Delta", stage="Negotiation", close="2030-03-01"),
    }


def test_list_is_in_board_order(db: Db, pipeline_leads: dict[str, Lead]) -> None:
    assert titles(leads.list_leads(db)) == ["Beta", "Gamma", "Alpha", "Delta"]
    assert titles(leads.list_leads(db, limit=2, offset=1)) == ["Gamma", "Alpha"]


def test_list_filters(db: Db, pipeline_leads: dict[str, Lead]) -> None:
    assert titles(leads.list_leads(db, stage="new")) == ["Beta", "Gamma"]
    assert titles(leads.list_leads(db, owner="grace")) == ["Beta"]
    assert titles(leads.list_leads(db, owner="ghost")) == []
    assert titles(leads.list_leads(db, contact="ada")) == ["Alpha"]
    assert titles(leads.list_leads(db, company="acme")) == ["Gamma", "Alpha"]
    assert titles(leads.list_leads(db, tag="HOT")) == ["Alpha"]
    assert titles(leads.list_leads(db, search="bobco")) == ["Beta"]
    assert titles(leads.list_leads(db, search="nothing")) == []
    assert titles(leads.list_leads(db, pipeline_name="sales")) == [
        "Beta",
        "Gamma",
        "Alpha",
        "Delta",
    ]
    assert titles(leads.list_leads(db, closing_by=date(2030, 2, 1))) == ["Gamma"]


def test_list_filter_failures(db: Db, pipeline_leads: dict[str, Lead]) -> None:
    with pytest.raises(Invalid, match="unknown status"):
        leads.list_leads(db, status="pending")
    with pytest.raises(Invalid):
        leads.list_leads(db, stage="Won")
    with pytest.raises(NotFound):
        leads.list_leads(db, contact="ghost")
    with pytest.raises(NotFound):
        leads.list_leads(db, company="ghost")
    with pytest.raises(NotFound):
        leads.list_leads(db, pipeline_name="Marketing")


def test_stale_leads_use_each_stages_threshold(db: Db) -> None:
    now = datetime(2030, 5, 20, 12, 0, tzinfo=UTC)
    fresh = leads.add(db, "Fresh")  # New: stale after 7 days
    old = leads.add(db, "Old")
    slow = leads.add(db, "Slow", stage="Qualified")  # Qualified: stale after 21 days
    done = leads.add(db, "Done")
    set_stage_entered(db, fresh.id, now - timedelta(days=6))
    set_stage_entered(db, old.id, now - timedelta(days=7))
    set_stage_entered(db, slow.id, now - timedelta(days=20))
    set_stage_entered(db, done.id, now - timedelta(days=90))
    leads.won(db, "done")
    assert titles(leads.list_leads(db, stale=True, now=now)) == ["Old"]
    later = now + timedelta(days=1)
    # Board order: by stage, then longest in the stage first.
    assert titles(leads.list_leads(db, stale=True, now=later)) == ["Old", "Fresh", "Slow"]


def test_records_report_days_in_stage_staleness_and_passed_close(db: Db) -> None:
    lead = leads.add(db, "Old", close="2000-01-01")
    set_stage_entered(db, lead.id, datetime.now(UTC) - timedelta(days=10, hours=1))
    record = leads.get(db, "old")
    assert record.days_in_stage == 10
    assert record.stale is True
    assert record.close_passed is True
    closed = leads.won(db, "old")
    assert closed.stale is False and closed.close_passed is False


# --------------------------------------------------------------------------------------------
# edit and delete


def test_edit_fields(db: Db) -> None:
    contacts.add(db, "Ada")
    companies.add(db, "Acme")
    users.add(db, "Grace")
    lead = leads.add(db, "Deal", value="10")
    edited = leads.edit(
        db,
        "deal",
        title="Bigger Deal",
        value="1,000.25",
        close="2030-12-24",
        probability="55",
        owner="grace",
        contact="ada",
        company="acme",
        extra={"k": "v"},
        tags=["x"],
        expected_version=lead.version,
    )
    assert edited.title == "Bigger Deal"
    assert edited.value_minor == 100025
    assert edited.expected_close == date(2030, 12, 24)
    assert edited.probability == 55
    assert edited.owner == "Grace"
    assert (edited.contact, edited.company) == ("Ada", "Acme")
    assert edited.extra == {"k": "v"} and edited.tags == ["x"]
    assert edited.version == lead.version + 1
    cleared = leads.edit(db, "bigger deal", contact=None, company="", close="", probability="")
    assert (cleared.contact_id, cleared.company_id, cleared.expected_close) == (None, None, None)
    assert cleared.probability == 10  # back to the stage's default
    assert leads.edit(db, "bigger deal", add_tags=["y"], remove_tags=["x"]).tags == ["y"]


def test_edit_currency_then_value_reads_the_value_in_the_new_currency(db: Db) -> None:
    leads.add(db, "Deal", value="10.50")
    edited = leads.edit(db, "deal", currency="jpy", value="1050")
    assert (edited.currency, edited.value_minor, edited.value) == ("JPY", 1050, 1050)


def test_edit_failures_change_nothing(db: Db) -> None:
    lead = leads.add(db, "Deal")
    for changes in ({"stage": "Won"}, {"status": "won"}, {"title": ""}, {"value": "x"},
                    {"probability": "200"}, {"close": "never"}, {"currency": "1"}):  # fmt: skip
        with pytest.raises(Invalid):
            leads.edit(db, "deal", **changes)
    for changes in ({"contact": "ghost"}, {"company": "ghost"}, {"owner": "ghost"}):
        with pytest.raises(NotFound):
            leads.edit(db, "deal", **changes)
    with pytest.raises(NotFound):
        leads.edit(db, "ghost", title="x")
    leads.edit(db, "deal", title="Deal 2")
    with pytest.raises(Conflict):
        leads.edit(db, "deal 2", title="Deal 3", expected_version=lead.version)
    assert leads.get(db, "deal 2").version == lead.version + 1


def test_delete(db: Db) -> None:
    contacts.add(db, "Ada")
    lead = leads.add(db, "Deal", contact="ada")
    leads.move(db, "deal", "Contacted")
    call = activities.log(db, "call", "ada", "About the deal", lead="deal")
    with db.write() as session:
        tags.add(session, "lead", lead.id, ["x"])
    gone = leads.delete(db, "deal")
    assert gone.id == lead.id
    with pytest.raises(NotFound):
        leads.get(db, str(lead.id))
    assert history(db, lead.id) == []
    assert activities.get(db, call.id).lead_id is None
    assert [h.kind for h in search.search(db, "deal")] == ["activity"]
    with pytest.raises(NotFound):
        leads.delete(db, "deal")


# --------------------------------------------------------------------------------------------
# the board


def test_board_counts_totals_and_cards(db: Db) -> None:
    users.add(db, "Grace")
    leads.add(db, "A", value="100")
    leads.add(db, "B", value="250.50", owner="grace")
    leads.add(db, "C", value="1000", stage="Proposal")
    leads.add(db, "D", value="5", stage="Proposal")
    leads.won(db, "d")
    columns = leads.board(db)
    assert [c.stage.name for c in columns] == [
        "New", "Contacted", "Qualified", "Proposal", "Negotiation",
    ]  # fmt: skip
    new, _, _, proposal, _ = columns
    assert (new.count, new.total_minor, [c.title for c in new.leads]) == (2, 35050, ["A", "B"])
    assert (proposal.count, proposal.total_minor) == (1, 100000)
    assert [c.count for c in leads.board(db, owner="grace")] == [1, 0, 0, 0, 0]
    assert [c.count for c in leads.board(db, owner="ghost")] == [0, 0, 0, 0, 0]
    assert [c.count for c in leads.board(db, search="c")] == [0, 0, 0, 1, 0]
    limited = leads.board(db, per_stage=1)[0]
    assert limited.count == 2 and len(limited.leads) == 1
    with pytest.raises(NotFound):
        leads.board(db, pipeline_name="Marketing")


def test_history_is_newest_first(db: Db) -> None:
    users.add(db, "Grace")
    lead = leads.add(db, "Deal")
    leads.move(db, "deal", "Qualified")
    leads.lost(db, "deal", "budget")
    leads.move(db, "deal", "Proposal")
    entries = leads.history(db, str(lead.id))
    assert [(e.event, e.from_stage, e.to_stage) for e in entries] == list(
        reversed(
            [
                ("created", None, "New"),
                ("moved", "New", "Qualified"),
                ("lost", "Qualified", None),
                ("reopened", "Qualified", "Qualified"),
                ("moved", "Qualified", "Proposal"),
            ]
        )
    )
    assert all(e.lead_id == lead.id and e.user == "tester" for e in entries)
    assert [e.changed_at for e in entries] == sorted((e.changed_at for e in entries), reverse=True)
    assert leads.history(db, "deal") == entries
    with pytest.raises(NotFound):
        leads.history(db, "ghost")

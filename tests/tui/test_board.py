"""The board: moving a card persists the stage change; won/lost close the lead."""

from __future__ import annotations

from smallcrm import contacts, leads
from smallcrm.tui.screens.board import BoardScreen
from smallcrm.tui.widgets.board_column import BoardColumn

from .conftest import settle


def _board_with_leads(db):  # type: ignore[no-untyped-def]
    contacts.add(db, "Ada Lovelace", email="ada@example.com", company="Analytical Engines")
    first = leads.add(db, "Difference engine", contact="Ada Lovelace", value="5,000")
    second = leads.add(db, "Notes on the engine", contact="Ada Lovelace", stage="Qualified")
    return first, second


async def test_board_shows_a_column_per_stage_with_counts(db, make) -> None:
    _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BoardScreen)
        columns = list(screen.query(BoardColumn))
        assert [c.stage.name for c in columns] == [
            "New", "Contacted", "Qualified", "Proposal", "Negotiation"
        ]  # fmt: skip
        assert [c.count for c in columns] == [1, 0, 1, 0, 0]
        assert screen.lead is not None and screen.lead.title == "Difference engine"


async def test_shift_right_moves_the_lead_and_records_the_change(db, make) -> None:
    first, _ = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("shift+right")
        await settle(pilot)
        assert leads.get(db, str(first.id)).stage == "Contacted"
        assert [c.event for c in leads.history(db, str(first.id))] == ["moved", "created"]
        # The card stays selected in its new column, so it can be moved on at once.
        assert app.screen.lead.id == first.id
        await pilot.press("shift+right")
        await settle(pilot)
        assert leads.get(db, str(first.id)).stage == "Qualified"
        await pilot.press("shift+left")
        await settle(pilot)
        assert leads.get(db, str(first.id)).stage == "Contacted"
        assert not app.error_log


async def test_arrows_select_across_columns(db, make) -> None:
    _, second = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("right", "right")
        await settle(pilot)
        assert app.screen.lead.id == second.id


async def test_won_closes_the_lead(db, make) -> None:
    first, _ = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("w")
        await settle(pilot)
        lead = leads.get(db, str(first.id))
        assert lead.status == "won" and lead.closed_at is not None
        columns = list(app.screen.query(BoardColumn))
        assert columns[0].count == 0  # it left the board


async def test_lost_asks_for_a_reason_and_closes_the_lead(db, make) -> None:
    first, _ = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press(*"too expensive", "enter")
        await settle(pilot)
        lead = leads.get(db, str(first.id))
        assert lead.status == "lost"
        assert lead.lost_reason == "too expensive"


async def test_escape_on_the_lost_question_keeps_the_lead_open(db, make) -> None:
    first, _ = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert leads.get(db, str(first.id)).status == "open"
        assert isinstance(app.screen, BoardScreen)


async def test_a_conflicting_change_is_reported_and_the_board_reloads(db, make) -> None:
    first, _ = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        leads.move(db, str(first.id), "Proposal")  # another process moves it meanwhile
        await pilot.press("shift+right")
        await settle(pilot)
        assert any("changed by someone else" in message for message in app.error_log)
        assert leads.get(db, str(first.id)).stage == "Proposal"
        assert [c.count for c in app.screen.query(BoardColumn)][3] == 1


async def test_filter_and_enter_open_the_lead(db, make) -> None:
    _, second = _board_with_leads(db)
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("f", *"notes")
        await settle(pilot, 0.3)
        assert [c.count for c in app.screen.query(BoardColumn)] == [0, 0, 1, 0, 0]
        await pilot.press("enter")  # leaves the filter field for the cards
        await settle(pilot)
        assert app.screen.lead.id == second.id
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "LeadScreen"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_the_quick_app_shows_the_board_from_the_file_then_works_through_the_store(
    db, db_path, frozen_clock
) -> None:
    from smallcrm.store import open_db
    from smallcrm.tui.app import make_quick_app

    first, _ = _board_with_leads(db)
    opened = []

    def open_later():  # type: ignore[no-untyped-def]
        assert isinstance(app.screen, BoardScreen) and app.screen.data is not None, (
            "the store opens only after the first board is shown"
        )
        opened.append(open_db(str(db_path)))
        return opened[-1]

    app = make_quick_app(open_later, db_path, refresh_seconds=0)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        columns = list(app.screen.query(BoardColumn))
        assert [c.count for c in columns] == [1, 0, 1, 0, 0]
        await pilot.press("shift+right")
        await settle(pilot)
        assert leads.get(db, str(first.id)).stage == "Contacted"
        assert len(opened) == 1 and not app.error_log
    opened[0].dispose()

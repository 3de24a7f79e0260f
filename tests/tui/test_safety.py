"""Text from the database is shown as text: markup and escape sequences change nothing."""

from __future__ import annotations

from smallcrm import activities, contacts, leads
from smallcrm.tui.modals.search import SearchModal
from smallcrm.tui.widgets.board_column import BoardColumn, card
from smallcrm.tui.widgets.timeline import TimelineList

from .conftest import settle

NASTY = ("[/b] plan", "[bold]x", "Mallory \x1b[2J\x1b[31mred", "[link=http://x]click[/link]")


async def test_markup_like_names_do_not_crash_any_screen(db, make) -> None:
    for index, name in enumerate(NASTY):
        contacts.add(db, name, email=f"m{index}@example.com", company=f"{name} Ltd")
        leads.add(db, f"{name} deal", contact=f"m{index}@example.com")
        activities.log(db, "note", f"m{index}@example.com", f"{name} said [b]hi", body="[/]")
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = [lead.title for column in app.screen.query(BoardColumn) for lead in column.leads]
        assert sorted(shown) == sorted(f"{name} deal" for name in NASTY)
        await pilot.press("enter")  # the lead page
        await settle(pilot)
        await pilot.press("o")  # its customer
        await settle(pilot)
        timeline = app.screen.query_one(TimelineList)
        assert any("said [b]hi" in entry.summary for entry in timeline.entries)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("slash", *"plan")
        await settle(pilot, 0.3)
        assert isinstance(app.screen, SearchModal)
        assert any(hit.title == "[/b] plan" for hit in app.screen.hits)
        top = app.screen.hits[0]
        await pilot.press("enter")
        await settle(pilot)
        expected = "LeadScreen" if top.kind == "lead" else "CustomerScreen"
        assert type(app.screen).__name__ == expected
        assert not app.error_log


def test_a_card_shows_brackets_and_escapes_literally(db) -> None:
    contacts.add(db, "Eve", email="eve@example.com", company="[red]Evil[/red] Corp")
    lead = leads.add(db, "\x1b[2J[bold]wipe", contact="eve@example.com")
    text = card(lead).plain
    assert "[bold]wipe" in text and "\x1b" not in text and "␛[2J" in text
    assert "[red]Evil[/red] Corp" in text


async def test_a_database_error_is_a_notification_not_a_crash(db, make, monkeypatch) -> None:
    from smallcrm.errors import DatabaseError

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise DatabaseError("database crm.db is busy (locked by another program); try again")

    monkeypatch.setattr(leads, "board", broken)
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.is_running
        assert app.error_log == [
            "database crm.db is busy (locked by another program); try again"
        ]  # fmt: skip
        await pilot.press("c")  # the rest of the app still works
        await settle(pilot)
        assert type(app.screen).__name__ == "ContactsScreen"

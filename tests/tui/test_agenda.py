"""The agenda: a follow-up marked done or snoozed from here is so in the database."""

from __future__ import annotations

from datetime import timedelta

from smallcrm import contacts, followups
from smallcrm.tui.screens.agenda import AgendaScreen

from .conftest import FIXED_NOW, settle


async def _agenda(pilot) -> AgendaScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("a")
    await settle(pilot)
    assert isinstance(pilot.app.screen, AgendaScreen)
    return pilot.app.screen


async def test_marking_a_follow_up_done(db, make) -> None:
    contacts.add(db, "Ada Lovelace")
    late = followups.add(db, "Ada Lovelace", "Call back", due=FIXED_NOW - timedelta(days=2))
    today = followups.add(db, "Ada Lovelace", "Send quote", due=FIXED_NOW + timedelta(hours=1))
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _agenda(pilot)
        assert [f.id for f in screen.data.overdue] == [late.id]
        assert [f.id for f in screen.data.due_today] == [today.id]
        assert screen.selected.id == late.id  # the first thing to do is selected
        await pilot.press("d")
        await settle(pilot)
        assert followups.get(db, late.id).status == "done"
        assert screen.data.overdue == []
        assert screen.selected.id == today.id


async def test_snoozing_a_follow_up(db, make) -> None:
    contacts.add(db, "Ada Lovelace")
    item = followups.add(db, "Ada Lovelace", "Call back", due=FIXED_NOW - timedelta(hours=1))
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _agenda(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("enter")  # the suggested +1d
        await settle(pilot)
        moved = followups.get(db, item.id)
        assert moved.due_at == FIXED_NOW + timedelta(days=1)
        assert app.screen.data.overdue == [] and app.screen.data.due_today == []


async def test_snoozing_to_next_monday(db, make) -> None:
    contacts.add(db, "Ada Lovelace")
    item = followups.add(db, "Ada Lovelace", "Call back", due=FIXED_NOW - timedelta(hours=1))
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _agenda(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press(*"next monday", "enter")  # typing replaces the suggested +1d
        await settle(pilot)
        assert followups.get(db, item.id).due_at.weekday() == 0

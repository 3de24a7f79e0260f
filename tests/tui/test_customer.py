"""The customer page: log an activity or add a follow-up in a few keys; the timeline updates."""

from __future__ import annotations

from smallcrm import activities, companies, contacts, followups, leads, timeline
from smallcrm.tui.screens.customer import PAGE, CustomerScreen
from smallcrm.tui.widgets.timeline import TimelineList

from .conftest import settle


async def _open(app, pilot, kind: str, ident: int) -> CustomerScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    app.open_customer(kind, ident)
    await settle(pilot)
    assert isinstance(app.screen, CustomerScreen)
    return app.screen


async def test_logging_a_call_adds_it_to_the_timeline_and_the_database(db, make) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, "contact", ada.id)
        assert screen.query_one(TimelineList).entries == []
        await pilot.press("l", *"Discussed the engine", "enter")
        await settle(pilot)
        assert app.screen is screen
        (logged,) = activities.list_activities(db, contact=str(ada.id))
        assert (logged.kind, logged.summary) == ("call", "Discussed the engine")
        entries = screen.query_one(TimelineList).entries
        assert (entries[0].type, entries[0].summary) == ("call", "Discussed the engine")
        assert logged.lead_id is None
        lead = leads.add(db, "Engine", contact="Ada Lovelace")  # from another process
        await pilot.press("r")
        await settle(pilot)
        # With the lead chosen in the side list, the activity is about that lead.
        screen.query_one("#customer-leads").focus()
        await pilot.press("l", *"Sent the quote")
        await settle(pilot)
        app.screen.query_one("#field-kind").value = "email"
        await pilot.press("enter")
        await settle(pilot)
        newest = activities.list_activities(db, contact=str(ada.id))[0]
        assert (newest.kind, newest.lead_id) == ("email", lead.id)


async def test_adding_a_follow_up_and_marking_it_done(db, make) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, "contact", ada.id)
        await pilot.press("f", *"Send the proposal", "enter")  # due: tomorrow 9am by default
        await settle(pilot)
        (item,) = followups.list_followups(db, contact=str(ada.id))
        assert item.title == "Send the proposal" and item.status == "open"
        assert [f.id for f in screen.data.followups] == [item.id]
        await pilot.press("d")  # the only open follow-up
        await settle(pilot)
        assert followups.get(db, item.id).status == "done"


async def test_a_bad_due_date_is_explained_next_to_the_field(db, make) -> None:
    ada = contacts.add(db, "Ada Lovelace")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _open(app, pilot, "contact", ada.id)
        await pilot.press("f", *"Call back", "tab")
        form = app.screen
        form.query_one("#field-due").value = "someday"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "cannot read 'someday' as a date" in str(form.query_one("#error-due").render())
        assert form.values()["title"] == "Call back"
        form.query_one("#field-due").value = "next monday"
        await pilot.press("ctrl+s")
        await settle(pilot)
        (item,) = followups.list_followups(db, contact=str(ada.id))
        assert item.due_at.weekday() == 0


async def test_the_timeline_pages_as_you_scroll(db, make) -> None:
    firm = companies.add(db, "Analytical Engines")
    contacts.add(db, "Ada Lovelace", company="Analytical Engines")
    for number in range(PAGE + 20):
        activities.log(db, "note", "Ada Lovelace", f"note {number:03d}", at=f"-{number + 1}h")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open(app, pilot, "company", firm.id)
        listed = screen.query_one(TimelineList)
        assert len(listed.entries) == PAGE and not listed.complete
        listed.highlighted = PAGE - 1
        await settle(pilot)
        assert len(listed.entries) == PAGE + 20 and listed.complete
        expected = timeline.timeline(db, f"company:{firm.id}")
        assert [e.summary for e in listed.entries] == [e.summary for e in expected]

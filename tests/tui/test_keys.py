"""Help lists every key; the command palette offers every action; the footer shows the keys."""

from __future__ import annotations

from smallcrm.tui.app import SmallCrmApp
from smallcrm.tui.commands import binding_commands
from smallcrm.tui.modals.help import HelpModal, sections
from smallcrm.tui.screens.agenda import AgendaScreen
from smallcrm.tui.screens.board import BoardScreen
from smallcrm.tui.screens.contacts import ContactsScreen
from smallcrm.tui.screens.customer import CustomerScreen
from smallcrm.tui.screens.lead import LeadScreen

from .conftest import settle


def test_help_lists_every_binding_of_every_screen() -> None:
    text = "\n".join(section.plain for section in sections())
    for owner in (SmallCrmApp, BoardScreen, ContactsScreen, CustomerScreen, LeadScreen,
                  AgendaScreen):  # fmt: skip
        for binding in owner.BINDINGS:
            if binding.description:
                assert binding.description in text, (owner.__name__, binding.description)
    for key in ("b ", "c ", "a ", "/ ", "? ", "ctrl+p", "q ", "⇧→", "⇧←", "w ", "l "):
        assert key in text


async def test_question_mark_opens_help_and_escape_closes_it(db, make) -> None:
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpModal)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)


async def test_the_palette_offers_the_screen_and_global_actions(db, make) -> None:
    from smallcrm import contacts, leads

    contacts.add(db, "Ada Lovelace")
    leads.add(db, "Engine", contact="Ada Lovelace")
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        names = {command.title for command in binding_commands(app, app.screen)}
        assert {"Won", "Lost", "Move on", "Move back", "Contacts", "Agenda", "Search"} <= names
        assert "Help" in names and "Quit" in names
        assert "Board" not in names  # we are on it
        assert {"New contact", "New company", "New lead"} <= names
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"agenda")
        await settle(pilot, 0.3)
        await pilot.press("down", "enter")  # the best match is highlighted first
        await settle(pilot, 0.3)
        assert isinstance(app.screen, AgendaScreen)


async def test_global_keys_type_text_in_a_field(db, make) -> None:
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("f", *"bac/q?")
        await settle(pilot, 0.2)
        assert isinstance(app.screen, ContactsScreen)
        assert app.screen.search == "bac/q?"
        assert app.is_running

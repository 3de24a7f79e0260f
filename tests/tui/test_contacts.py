"""Contacts: instant full-text filter, paging, the empty state, forms that keep typed values."""

from __future__ import annotations

from textual.widgets import Input

from smallcrm import contacts
from smallcrm.tui.modals.contact_form import ContactForm
from smallcrm.tui.screens.contacts import PAGE, ContactsScreen
from smallcrm.tui.widgets.contact_table import ContactTable

from .conftest import settle


async def _contacts_screen(pilot) -> ContactsScreen:  # type: ignore[no-untyped-def]
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ContactsScreen)
    return screen


async def test_the_empty_database_says_how_to_start(db, make) -> None:
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = str(app.screen.query_one("#board-empty").render())
        assert "smallcrm import contacts FILE.csv" in text
        assert "smallcrm demo" in text
        assert "add your first contact" in text
        screen = await _contacts_screen(pilot)
        assert screen.query_one("#contacts-empty").display
        # n on the empty board (or here) starts with a contact.
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, ContactForm)


async def test_typing_filters_the_contacts(db, make) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.add(db, "Grace Hopper", email="grace@navy.example", company="US Navy")
    contacts.add(db, "Alan Turing", email="alan@example.com")
    app = make(db)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _contacts_screen(pilot)
        assert [c.name for c in screen.page.rows] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
        await pilot.press("f", *"nav")
        await settle(pilot, 0.2)
        assert [c.name for c in screen.page.rows] == ["Grace Hopper"]
        assert screen.query_one(ContactTable).row_count == 1
        # escape leaves the field, a second escape clears the filter
        await pilot.press("escape")
        assert not isinstance(app.focused, Input)
        await pilot.press("escape")
        await settle(pilot, 0.2)
        assert len(screen.page.rows) == 3
        await pilot.press("f", *"zzz")
        await settle(pilot, 0.2)
        assert screen.page.rows == []
        assert screen.query_one("#contacts-empty").display


async def test_enter_opens_the_customer_and_escape_comes_back(db, make) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _contacts_screen(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerScreen"
        assert app.screen.record_id == ada.id
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)


def _fill_two_pages(db) -> None:  # type: ignore[no-untyped-def]
    """Two full pages of contacts and five more, in one write."""
    from smallcrm.store import search_index
    from smallcrm.store.tables import Contact, now_utc

    with db.write() as session:
        now = now_utc()
        session.add_all(
            Contact(name=f"Person {i:04d}", created_at=now, updated_at=now)
            for i in range(PAGE * 2 + 5)
        )
        session.flush()
        search_index.rebuild(session)


async def test_pages_through_the_database(db, make) -> None:
    _fill_two_pages(db)
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _contacts_screen(pilot)
        table = screen.query_one(ContactTable)
        assert table.row_count == PAGE and screen.page.total == PAGE * 2 + 5
        await pilot.press("ctrl+end")  # the last loaded row…
        await settle(pilot)
        assert table.cursor_row == PAGE - 1 and screen.page.offset == 0
        await pilot.press("down")  # …and on: the next page comes from the database
        await settle(pilot)
        assert screen.page.offset == PAGE and table.cursor_row == 0
        assert screen.page.rows[0].name == f"Person {PAGE:04d}"
        assert table.row_count == PAGE
        await pilot.press("up")  # off the top: the previous page, cursor on its last row
        await settle(pilot)
        assert screen.page.offset == 0 and table.cursor_row == PAGE - 1


async def test_a_bad_email_is_shown_by_its_field_and_nothing_typed_is_lost(db, make) -> None:
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _contacts_screen(pilot)
        await pilot.press("n")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContactForm)
        await pilot.press(*"Ada Lovelace", "tab", *"not-an-email", "tab", *"+44 20 7946 0000")
        await pilot.press("tab", *"Analytical Engines", "ctrl+s")
        await settle(pilot)
        assert app.screen is form  # still open
        error = str(form.query_one("#error-email").render())
        assert "invalid email" in error
        values = form.values()
        assert values["name"] == "Ada Lovelace"
        assert values["email"] == "not-an-email"
        assert values["phone"] == "+44 20 7946 0000"
        assert values["company"] == "Analytical Engines"
        assert contacts.count(db) == 0
        form.query_one("#field-email", Input).value = "ada@example.com"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, ContactsScreen)
        (ada,) = contacts.list_contacts(db)
        assert (ada.name, ada.email, ada.company) == (
            "Ada Lovelace", "ada@example.com", "Analytical Engines"
        )  # fmt: skip
        assert ada.phone == "+442079460000"


async def test_a_duplicate_email_from_the_service_is_shown_by_the_field(db, make) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _contacts_screen(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Ada Again", "tab", *"ADA@example.com", "enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, ContactForm)
        assert "already exists" in str(form.query_one("#error-email").render())
        assert form.values()["name"] == "Ada Again"


async def test_edit_and_delete_with_confirmation(db, make) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await _contacts_screen(pilot)
        await pilot.press("e")
        await settle(pilot)
        field = app.screen.query_one("#field-title", Input)
        field.value = "Countess"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert contacts.get(db, "ada@example.com").title == "Countess"
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("n")  # "no" keeps her
        await settle(pilot)
        assert contacts.count(db) == 1
        await pilot.press("delete")
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert contacts.count(db) == 0


async def test_a_click_on_a_row_opens_that_contact(db, make) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    grace = contacts.add(db, "Grace Hopper", email="grace@navy.example")
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _contacts_screen(pilot)
        table = screen.query_one(ContactTable)
        assert table.cursor_row == 0
        await pilot.click(ContactTable, offset=(2, 1))  # the second row
        await settle(pilot)
        assert type(app.screen).__name__ == "CustomerScreen"
        assert app.screen.record_id == grace.id


async def test_the_cursor_keys_move_within_the_page_and_keys_follow_the_row(db, make) -> None:
    for name in ("Ada Lovelace", "Alan Turing", "Grace Hopper"):
        contacts.add(db, name)
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _contacts_screen(pilot)
        table = screen.query_one(ContactTable)
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor_row == 2 and screen.selected.name == "Grace Hopper"
        await pilot.press("down")  # the last row of the last page: stays
        await settle(pilot)
        assert table.cursor_row == 2 and screen.page.offset == 0
        await pilot.press("home", "down")
        await settle(pilot)
        assert screen.selected.name == "Alan Turing"


async def test_paging_redraws_the_rows_without_a_new_layout(db, make) -> None:
    """A layout pass redraws the whole screen; a new page only needs the rows and the counts
    line (a fixed-height table, a count padded to the widest page of the total)."""
    _fill_two_pages(db)
    app = make(db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _contacts_screen(pilot)
        layouts = 0
        refresh_layout = screen._refresh_layout

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal layouts
            layouts += 1
            return refresh_layout(*args, **kwargs)

        screen._refresh_layout = counting  # type: ignore[method-assign]
        await pilot.press("ctrl+end", "down")  # the last row of the first page, then on
        await settle(pilot)
        assert screen.page.offset == PAGE
        await pilot.press("ctrl+home", "pageup")  # pageup on the first row: the page before
        await settle(pilot)
        assert screen.page.offset == 0
        assert layouts == 0

"""Contacts: a table that filters as you type (full-text), pages through the database and
opens a customer with enter."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from smallcrm import activities, contacts, records
from smallcrm.tui.messages import CustomerRequested
from smallcrm.tui.screens.base import CrmScreen
from smallcrm.tui.show import relative, safe, update_static
from smallcrm.tui.widgets.contact_table import ContactHeader, ContactTable
from smallcrm.tui.widgets.empty_state import START_HERE, EmptyState

#: Rows per page: the table never holds more than one page of the database.
PAGE = 60
#: Sort orders the service offers, in the order `s` cycles through them.
ORDERS = {
    "name": "name",
    "company": "company",
    "stage": "stage",
    "recent": "recently changed",
    "newest": "newest first",
}
#: While a filter is on, results come newest first unless another order is chosen: the search
#: index pages itself in that order, so a word matching half a million contacts stays instant.
SEARCH_ORDER = "newest"
COLUMNS = (  # in order of importance: those that do not fit the width are left out
    ("name", "Name", 18),
    ("company", "Company", 16),
    ("email", "Email", 22),
    ("last", "Last activity", 13),
    ("stage", "Stage", 12),
    ("owner", "Owner", 12),
    ("phone", "Phone", 14),
)

NO_MATCH = Content.assemble(
    ("No contact matches.", "bold"),
    "\n\nEvery word counts as the start of a word in a name, email, company or note.\nPress ",
    ("escape", "bold $accent"),
    " to clear the filter, or ",
    ("n", "bold $accent"),
    " to add a contact.",
)


@dataclass(frozen=True)
class Page:
    rows: list[records.Contact]
    last_activity: dict[int, datetime]
    offset: int
    has_next: bool
    total: int | None  # None while a filter is on (counting every hit is not worth it)
    search: str = ""


class ContactsScreen(CrmScreen):
    """Every contact, a page at a time."""

    AUTO_FOCUS = "#contact-table"
    TITLE_TEXT = "Contacts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("n", "new", "New contact", id="new"),
        Binding("N", "new_company", "New company", key_display="N", id="new-company"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("delete", "delete", "Delete", key_display="del", id="delete"),
        Binding("f", "filter", "Filter", id="filter"),
        Binding("s", "sort", "Sort", id="sort"),
        Binding("pagedown", "page(1)", "Next page", show=False, id="next-page"),
        Binding("pageup", "page(-1)", "Previous page", show=False, id="previous-page"),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("r", "reload", "Reload", id="reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.search = ""
        self.order = "name"
        self.search_order = SEARCH_ORDER
        self.first_row = 0
        self.page: Page | None = None
        self._want: int | None = None
        self._cursor_at_end = False

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Static(Content.styled("Contacts", "bold"), classes="bar-title")
            yield Input(placeholder="filter: type a name, email, company… (f)",
                        id="contact-filter", compact=True)  # fmt: skip
            yield Static("", id="contact-info", classes="bar-info")
        yield ContactHeader(COLUMNS, id="contact-header")
        yield ContactTable(COLUMNS, id="contact-table")
        yield EmptyState(id="contacts-empty")
        yield Footer(compact=True)

    def main_widget(self) -> Widget | None:
        return self.query_one(ContactTable)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(ContactTable).focus()

    # ------------------------------------------------------------------ loading

    def reload(self, *, quiet: bool = False) -> None:
        db = self.app.db
        search, offset = self.search.strip(), self.first_row
        order = self.active_order
        previous = self.page
        known_total = (
            previous.total
            if previous is not None and offset and not search and not previous.search
            else None
        )

        def load() -> Page:
            rows = contacts.list_contacts(
                db, search=search or None, order=order, limit=PAGE + 1, offset=offset
            )
            has_next = len(rows) > PAGE
            rows = rows[:PAGE]
            last = activities.last_activity_by_contact(db, [c.id for c in rows])
            total = (
                None if search else known_total if known_total is not None else contacts.count(db)
            )
            return Page(rows, last, offset, has_next, total, search)

        self.run_db(load, self._show)

    def _show(self, page: Page) -> None:
        previous = self.page
        self.page = page
        table = self.query_one(ContactTable)
        table.has_next, table.has_previous = page.has_next, page.offset > 0
        empty = self.query_one("#contacts-empty", EmptyState)
        nothing = not page.rows
        empty.display = nothing and page.offset == 0
        table.display = not empty.display
        if empty.display:
            empty.update(NO_MATCH if self.search.strip() else START_HERE)
        self._update_info()
        same = (
            previous is not None
            and previous.rows == page.rows
            and previous.last_activity == page.last_activity
        )
        if same and self._want is None:
            return
        selected = self.selected
        keep = self._want if self._want is not None else (selected.id if selected else None)
        self._want = None
        now = self.app.clock()
        rows = [self._cells(c, page.last_activity.get(c.id), now) for c in page.rows]
        row = 0
        if self._cursor_at_end:
            row = len(page.rows) - 1
            self._cursor_at_end = False
        elif keep is not None:
            row = next((i for i, c in enumerate(page.rows) if c.id == keep), 0)
        table.show_rows(rows, row)
        self._update_header()

    def _cells(
        self, contact: records.Contact, last: datetime | None, now: datetime
    ) -> dict[str, Content]:
        return {
            "name": safe(contact.name, "bold"),
            "company": safe(contact.company),
            "email": safe(contact.email),
            "last": Content.styled(relative(last, now), "$text-muted") if last else Content(""),
            "stage": safe(contact.stage),
            "owner": safe(contact.owner),
            "phone": safe(contact.phone),
        }

    def _update_header(self) -> None:
        sort_column = {"name": "name", "company": "company", "stage": "stage", "recent": ""}
        table = self.query_one(ContactTable)
        self.query_one(ContactHeader).show(table.columns, sort_column.get(self.active_order, ""))

    def on_resize(self) -> None:
        self.call_after_refresh(self._update_header)

    def _update_info(self) -> None:
        page = self.page
        if page is None:
            return
        first, last = page.offset + 1, page.offset + len(page.rows)
        widest = 0
        if not page.rows:
            span = "no contacts"
        elif page.total is not None:
            span = f"{first:,}–{last:,} of {page.total:,}"
            widest = len(f"{page.total:,}") * 3 + len("– of ")
        else:
            span = f"{first:,}–{last:,}{' of more' if page.has_next else ''} matching"
        # Padded as wide as the widest page of this total, so paging keeps the layout (a new
        # layout would redraw the whole screen instead of this line and the rows).
        padding = " " * max(0, widest - len(span))
        text = Content.assemble((span, "bold"), f" · {self._order_text()} (s){padding}")
        update_static(self.query_one("#contact-info", Static), text)

    @property
    def active_order(self) -> str:
        return self.search_order if self.search.strip() else self.order

    def _order_text(self) -> str:
        order = self.active_order
        return ORDERS[order] if order == "newest" else f"by {ORDERS[order]}"

    # ------------------------------------------------------------------ selection

    @property
    def selected(self) -> records.Contact | None:
        page = self.page
        if page is None or not page.rows:
            return None
        table = self.query_one(ContactTable)
        row = table.cursor_row
        return page.rows[row] if 0 <= row < len(page.rows) else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("edit", "delete", "open"):
            return True if self.selected is not None else None
        return True

    @on(ContactTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_open()

    @on(ContactHeader.Clicked)
    def _header_selected(self, event: ContactHeader.Clicked) -> None:
        order = {"name": "name", "company": "company", "stage": "stage"}.get(event.key)
        if order is None:
            self.notify("Sorting works by name, company or stage; s also offers recent and newest.",
                        markup=False)  # fmt: skip
            return
        self._sort(order)

    @on(ContactTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.update_keys()

    @on(ContactTable.PageWanted)
    def _page_wanted(self, event: ContactTable.PageWanted) -> None:
        self.action_page(event.step)

    # ------------------------------------------------------------------ actions

    def action_page(self, step: int) -> None:
        page = self.page
        if page is None:
            return
        if step > 0 and not page.has_next:
            return
        if step < 0 and page.offset == 0:
            return
        self.first_row = max(0, page.offset + step * PAGE)
        self._cursor_at_end = step < 0
        self._want = -1  # force a redraw even if the rows look the same
        self.reload()

    def action_open(self) -> None:
        contact = self.selected
        if contact is not None:
            self.post_message(CustomerRequested("contact", contact.id))

    def action_filter(self) -> None:
        self.query_one("#contact-filter", Input).focus()

    @on(Input.Changed, "#contact-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value.strip() == self.search.strip():
            self.search = event.value
            return
        self.search = event.value
        self.first_row = 0
        # Each keystroke supersedes the last search: the exclusive worker drops the results of
        # an older query that comes back late.
        self.reload()

    @on(Input.Submitted, "#contact-filter")
    def _filter_submitted(self) -> None:
        self.query_one(ContactTable).focus()

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # Down from the filter goes to the table, as in a search box with results below.
        if event.key == "down" and isinstance(self.focused, Input):
            self.query_one(ContactTable).focus()
            event.stop()

    def action_back(self) -> None:
        field = self.query_one("#contact-filter", Input)
        if self.focused is field:
            self.query_one(ContactTable).focus()
        elif field.value:
            field.value = ""
        else:
            super().action_back()

    def action_sort(self) -> None:
        names = list(ORDERS)
        self._sort(names[(names.index(self.active_order) + 1) % len(names)])

    def _sort(self, order: str) -> None:
        if self.search.strip():
            self.search_order = order
        else:
            self.order = order
        self.first_row = 0
        self._want = -1
        self.reload()

    def action_new(self) -> None:
        from smallcrm.tui.modals.contact_form import ContactForm

        self.app.push_screen(ContactForm(), self._saved)

    def action_new_company(self) -> None:
        from smallcrm.tui.modals.company_form import CompanyForm

        def saved(company: records.Company | None) -> None:
            if company is not None:
                self.notify(f"Created company {company.id}: {company.name}", markup=False)
                self.post_message(CustomerRequested("company", company.id))

        self.app.push_screen(CompanyForm(), saved)

    def action_edit(self) -> None:
        contact = self.selected
        if contact is None:
            return
        from smallcrm.tui.modals.contact_form import ContactForm

        self.app.push_screen(ContactForm(contact), self._saved)

    def _saved(self, contact: records.Contact | None) -> None:
        if contact is not None:
            self.notify(f"Saved contact {contact.id}: {contact.name}", markup=False)
            self._want = contact.id
            self.reload()

    def action_delete(self) -> None:
        contact = self.selected
        if contact is None:
            return
        from smallcrm.tui.modals.confirm import ConfirmModal

        question = Content.assemble(
            "Delete ",
            safe(contact.name, "bold"),
            " with their activities and follow-ups?\nTheir leads stay. This cannot be undone.",
        )
        db = self.app.db

        def answer(yes: bool | None) -> None:
            if not yes:
                return

            def done(gone: records.Contact) -> None:
                self.notify(f"Deleted contact {gone.id}: {gone.name}", markup=False)
                self.reload()

            self.run_db(lambda: contacts.delete(db, str(contact.id)), done, group="write",
                        exclusive=False)  # fmt: skip

        self.app.push_screen(ConfirmModal(question, yes="Delete", no="Keep"), answer)

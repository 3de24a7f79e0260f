"""The smallcrm TUI: a pipeline board, contacts, customer pages and today's agenda.

The app is built from injected parts: `make_app(db)` gives an app over an open database, and
nothing touches a database at import time. Every read and write goes through the service layer
in a thread worker; no session outlives one call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen

from smallcrm.errors import SmallCrmError
from smallcrm.tui.heap import freeze_heap
from smallcrm.tui.messages import CustomerRequested, DataChanged, LeadRequested
from smallcrm.tui.screens.board import BoardScreen

if TYPE_CHECKING:
    from smallcrm.quickstart import LaterDb
    from smallcrm.records import Board, SearchHit
    from smallcrm.store import Db

#: Reads the first board (cards per stage) without the store; None when the store must.
FirstBoard = Callable[[int], "Board | None"]

log = logging.getLogger(__name__)

#: Seconds between quiet refreshes, so changes from other processes appear.
REFRESH_SECONDS = 8.0

# Where each action can be found: the help screen and the command palette read these.
NAVIGATION = ("board", "contacts", "agenda")


def _contacts_screen() -> Screen:
    from smallcrm.tui.screens.contacts import ContactsScreen  # imported when first shown

    return ContactsScreen()


def _agenda_screen() -> Screen:
    from smallcrm.tui.screens.agenda import AgendaScreen

    return AgendaScreen()


class SmallCrmApp(App[None]):
    """The full-screen CRM over one database."""

    CSS_PATH = "smallcrm.tcss"
    TITLE = "smallcrm"
    MODES: ClassVar[dict[str, Callable[[], Screen]]] = {  # type: ignore[assignment]
        "board": BoardScreen,
        "contacts": _contacts_screen,
        "agenda": _agenda_screen,
    }
    DEFAULT_MODE = "board"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "show_mode('board')", "Board", id="board"),
        Binding("c", "show_mode('contacts')", "Contacts", id="contacts"),
        Binding("a", "show_mode('agenda')", "Agenda", id="agenda"),
        Binding("slash", "search", "Search", key_display="/", id="search"),
        Binding("question_mark", "help", "Help", key_display="?", id="help"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    def __init__(
        self,
        db: Db | LaterDb,
        *,
        clock: Callable[[], datetime] | None = None,
        refresh_seconds: float = REFRESH_SECONDS,
        first_board: FirstBoard | None = None,
    ) -> None:
        freeze_heap("start")
        super().__init__()
        self.db = db
        self._first_board = first_board
        self.clock = clock or (lambda: datetime.now(UTC))
        self.refresh_seconds = refresh_seconds
        #: Every error message shown, newest last (tests read it).
        self.error_log: list[str] = []

    # ------------------------------------------------------------------ the database

    def take_first_board(self) -> FirstBoard | None:
        """The way to read the first board without the store, once (then None)."""
        first, self._first_board = self._first_board, None
        return first

    def db_wanted(self) -> None:
        """Start opening a database that opens in the background (a `LaterDb`)."""
        start = getattr(self.db, "start", None)
        if start is not None:
            start()

    # ------------------------------------------------------------------ navigation

    def _in_dialog(self) -> bool:
        """A form or question of ours is open (the command palette does not count)."""
        from smallcrm.tui.screens.base import CrmModal

        return isinstance(self.screen, CrmModal)

    def action_show_mode(self, mode: str) -> None:
        """Show the board, contacts or agenda, at its own top level."""
        if self._in_dialog():
            return
        if self.current_mode != mode:
            self.switch_mode(mode)
        while len(self.screen_stack) > 1:
            self.pop_screen()

    def action_search(self) -> None:
        from smallcrm.tui.modals.search import SearchModal

        self.push_screen(SearchModal(), self._open_hit)

    def action_help(self) -> None:
        from smallcrm.tui.modals.help import HelpModal

        self.push_screen(HelpModal(self.screen))

    def action_new_record(self, kind: str) -> None:
        """Open the form for a new contact, company or lead; show the new record after."""
        if self._in_dialog():
            return
        from smallcrm.tui.modals.company_form import CompanyForm
        from smallcrm.tui.modals.contact_form import ContactForm
        from smallcrm.tui.modals.lead_form import LeadForm

        forms = {"contact": ContactForm, "company": CompanyForm, "lead": LeadForm}
        self.push_screen(forms[kind](), partial(self._created, kind))

    def _created(self, kind: str, record: object) -> None:
        if record is None:
            return
        name = getattr(record, "name", None) or getattr(record, "title", "")
        ident = getattr(record, "id", 0)
        self.notify(f"Created {kind} {ident}: {name}", markup=False)
        if kind == "lead":
            self.open_lead(ident)
        else:
            self.open_customer(kind, ident)

    def _open_hit(self, hit: SearchHit | None) -> None:
        if hit is None:
            return
        if hit.kind == "lead":
            self.open_lead(hit.id)
        elif hit.kind == "company":
            self.open_customer("company", hit.id)
        elif hit.kind == "contact":
            self.open_customer("contact", hit.id)
        elif hit.contact_id:
            self.open_customer("contact", hit.contact_id)
        elif hit.company_id:
            self.open_customer("company", hit.company_id)

    def open_customer(self, kind: str, record_id: int) -> None:
        from smallcrm.tui.screens.customer import CustomerScreen

        self.push_screen(CustomerScreen(kind, record_id))

    def open_lead(self, lead_id: int) -> None:
        from smallcrm.tui.screens.lead import LeadScreen

        self.push_screen(LeadScreen(lead_id))

    @on(CustomerRequested)
    def _customer_requested(self, message: CustomerRequested) -> None:
        self.open_customer(message.kind, message.record_id)

    @on(LeadRequested)
    def _lead_requested(self, message: LeadRequested) -> None:
        self.open_lead(message.lead_id)

    @on(DataChanged)
    def _data_changed(self, message: DataChanged) -> None:
        """Screens below the current one reload when they are shown again (on resume)."""

    # ------------------------------------------------------------------ errors

    def report_error(self, error: SmallCrmError | str) -> None:
        """A problem the user can fix or retry: a notification, never a crash."""
        message = str(error)
        self.error_log.append(message)
        self.notify(message, title="Error", severity="error", markup=False, timeout=8)

    def report_bug(self, error: BaseException) -> None:
        log.exception("unexpected error in the TUI", exc_info=error)
        message = f"unexpected {type(error).__name__}: {error}"
        self.error_log.append(message)
        self.notify(message, title="Something went wrong", severity="error", markup=False)

    # ------------------------------------------------------------------ command palette

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action that has a key, on this screen and everywhere, plus Textual's own."""
        from smallcrm.tui.commands import binding_commands

        yield from binding_commands(self, screen)
        yield from super().get_system_commands(screen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("show_mode", "search", "help") and self._in_dialog():
            return False
        if action == "show_mode" and parameters:
            # The key of the screen you are on is not shown (it would do nothing).
            here = self.current_mode == parameters[0] and len(self.screen_stack) == 1
            return not here
        return True


def make_app(
    db: Db | LaterDb,
    *,
    clock: Callable[[], datetime] | None = None,
    refresh_seconds: float = REFRESH_SECONDS,
    first_board: FirstBoard | None = None,
) -> SmallCrmApp:
    """The app over a database (the CLI and the tests both call this)."""
    return SmallCrmApp(db, clock=clock, refresh_seconds=refresh_seconds, first_board=first_board)


def make_quick_app(
    open_db: Callable[[], Db], path: Path | None, *, refresh_seconds: float = REFRESH_SECONDS
) -> SmallCrmApp:
    """The app `smallcrm` runs: its first board read from the file at `path` with the standard
    library, then the store opened on another thread (`open_db`) for everything else."""
    from smallcrm.quickstart import LaterDb, first_board

    return make_app(
        LaterDb(open_db), refresh_seconds=refresh_seconds, first_board=partial(first_board, path)
    )


def run_tui(db: Db) -> None:
    """Run the TUI on `db` until the user quits."""
    make_app(db).run()


__all__ = ["SmallCrmApp", "make_app", "make_quick_app", "run_tui"]

"""Every key (`?`): read from the same Binding data the footer and the command palette use."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from smallcrm.tui.screens.base import CrmModal

INTRO = (
    "In a text field, keys type text; escape leaves the field. ctrl+p opens the command "
    "palette, which offers every action by name. The mouse works too."
)


def _key_name(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {
        "slash": "/", "question_mark": "?", "escape": "esc", "enter": "enter",
        "shift+right": "⇧→", "shift+left": "⇧←", "left": "←", "right": "→",
        "delete": "del", "pagedown": "pgdn", "pageup": "pgup", "ctrl+s": "ctrl+s",
    }  # fmt: skip
    return ", ".join(names.get(key, key) for key in binding.key.split(","))


def bindings_section(title: str, bindings: list[BindingType]) -> Content:
    parts: list[Content | str | tuple[str, str]] = [(title, "bold $accent"), "\n"]
    seen = set()
    for item in bindings:
        binding = item if isinstance(item, Binding) else Binding(*item)
        if not binding.description or binding.description in seen:
            continue
        seen.add(binding.description)
        parts += [(f"  {_key_name(binding):<9}", "bold"), binding.description, "\n"]
    return Content.assemble(*parts)


def sections() -> list[Content]:
    """Every screen's keys, from the classes' BINDINGS."""
    from smallcrm.tui.app import SmallCrmApp
    from smallcrm.tui.modals.form import FormModal
    from smallcrm.tui.screens.agenda import AgendaScreen
    from smallcrm.tui.screens.board import BoardScreen
    from smallcrm.tui.screens.contacts import ContactsScreen
    from smallcrm.tui.screens.customer import CustomerScreen
    from smallcrm.tui.screens.lead import LeadScreen

    everywhere: list[BindingType] = [
        *SmallCrmApp.BINDINGS,
        Binding("ctrl+p", "command_palette", "Command palette"),
        Binding("escape", "back", "Back out / leave a text field"),
        Binding("r", "reload", "Reload now (it also refreshes every few seconds)"),
    ]
    board = [*BoardScreen.BINDINGS, Binding("up,down", "x", "Select a card")]
    return [
        bindings_section("Everywhere", everywhere),
        bindings_section("Board", board),
        bindings_section("Contacts", ContactsScreen.BINDINGS),
        bindings_section("Customer", CustomerScreen.BINDINGS),
        bindings_section("Lead", LeadScreen.BINDINGS),
        bindings_section("Agenda", AgendaScreen.BINDINGS),
        bindings_section(
            "Forms",
            [
                *FormModal.BINDINGS,
                Binding("tab", "x", "Next field"),
                Binding("enter", "x", "Save (in a text field)"),
            ],
        ),  # fmt: skip
    ]


class HelpModal(CrmModal[None]):
    """A scrollable list of every key, grouped by screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "cancel", "Close", id="cancel"),
    ]

    def __init__(self, screen: Screen | None = None) -> None:
        super().__init__()
        self.origin = screen

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog help"):
            yield Static(Content.styled("Keys", "bold"), classes="question")
            with VerticalScroll(id="help-body"):
                yield Static(Content.styled(INTRO, "$text-muted"), classes="hint")
                for section in sections():
                    yield Static(section, classes="help-section")
            yield Static(Content.styled("escape closes", "$text-muted"), classes="hint")

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

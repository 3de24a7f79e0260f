"""The command palette offers what the keys do: the same Binding data the footer and the help
screen show, so an action can never be reachable one way and missing the other."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.screen import Screen

if TYPE_CHECKING:
    from smallcrm.tui.app import SmallCrmApp

# Actions that need no key of their own on every screen, offered everywhere.
EXTRA = (
    ("New contact", "Add a contact (the form opens)", "app.new_record('contact')"),
    ("New company", "Add a company (the form opens)", "app.new_record('company')"),
    ("New lead", "Add a lead to the pipeline (the form opens)", "app.new_record('lead')"),
)

_SKIP = {"command_palette", "app.command_palette", "help_quit", "app.help_quit"}


def binding_commands(app: SmallCrmApp, screen: Screen) -> Iterable[SystemCommand]:
    """One command per enabled key binding of `screen` (and the app), named by its description."""
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.description or binding.action in _SKIP or not active.enabled:
            continue
        name = binding.description
        if name in seen:
            continue
        seen.add(name)
        shown = binding.key_display or app.get_key_display(binding)
        help_text = binding.tooltip or f"key: {shown}"
        yield SystemCommand(name, help_text, partial(app.run_action, binding.action, active.node))
    for name, help_text, action in EXTRA:
        if name not in seen:
            yield SystemCommand(name, help_text, partial(app.run_action, action))

"""Choose one of a few things (an owner, a pipeline): arrows and enter, or escape."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from smallcrm.tui.screens.base import CrmModal
from smallcrm.tui.show import safe

#: What a pick modal returns when the person chose "everyone"/"none": distinct from cancel.
CLEARED = ""


class PickModal(CrmModal[Any]):
    """A short list; returns the value of the chosen entry (None when cancelled)."""

    def __init__(
        self, title: str, choices: Sequence[tuple[str, Any]], *, current: Any = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content.styled(self.title_text, "bold"), classes="question")
            yield OptionList(
                *[Option(safe(label), id=str(i)) for i, (label, _) in enumerate(self.choices)],
                id="choices",
            )

    def on_mount(self) -> None:
        choices = self.query_one("#choices", OptionList)
        for index, (_, value) in enumerate(self.choices):
            if value == self.current:
                choices.highlighted = index
        choices.focus()

    @on(OptionList.OptionSelected, "#choices")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[event.option_index][1])

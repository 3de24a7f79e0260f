"""One line of text: a lost reason, a snooze time. Enter answers, escape cancels."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Static

from smallcrm.errors import SmallCrmError
from smallcrm.tui.screens.base import CrmModal


class PromptModal(CrmModal[str]):
    """Ask for one value. `check` (optional) explains the value as it is typed, e.g. a date."""

    def __init__(
        self,
        question: Content | str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "enter to save · escape to cancel",
        check: Callable[[str], str] | None = None,
        required: bool = False,
    ) -> None:
        super().__init__()
        self.question = question if isinstance(question, Content) else Content(question)
        self.value, self.placeholder, self.hint = value, placeholder, hint
        self.check = check
        self.required = required

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="question")
            yield Input(self.value, placeholder=self.placeholder, id="answer")
            yield Static("", classes="field-hint", id="explain")
            yield Static(Content.styled(self.hint, "$text-muted"), classes="hint")

    def on_mount(self) -> None:
        self._explain(self.value)

    @on(Input.Changed, "#answer")
    def _changed(self, event: Input.Changed) -> None:
        self._explain(event.value)

    def _explain(self, value: str) -> bool:
        explain = self.query_one("#explain", Static)
        explain.remove_class("error")
        if self.check is None or not value.strip():
            explain.update("")
            return True
        try:
            explain.update(Content("→ " + self.check(value)))
        except SmallCrmError as error:
            explain.update(Content(str(error)))
            explain.add_class("error")
            return False
        return True

    @on(Input.Submitted, "#answer")
    def _submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if self.required and not value:
            explain = self.query_one("#explain", Static)
            explain.update(Content("a value is needed"))
            explain.add_class("error")
            return
        if self._explain(value):
            self.dismiss(value)

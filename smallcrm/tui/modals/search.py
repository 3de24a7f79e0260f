"""Search everything (`/`): contacts, companies, leads and activity text, as you type."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from smallcrm import records, search
from smallcrm.tui.screens.base import CrmModal
from smallcrm.tui.show import safe

KIND_STYLES = {
    "contact": "$primary",
    "company": "$accent",
    "lead": "$success",
    "activity": "$warning",
}


def hit_line(hit: records.SearchHit) -> Content:
    parts: list[Content | str | tuple[str, str]] = [
        (f"{hit.kind:<9}", f"bold {KIND_STYLES.get(hit.kind, '')}"),
        safe(hit.title, "bold", width=60),
    ]
    concerns = [name for name in (hit.contact, hit.company) if name and name != hit.title]
    if hit.detail:
        parts += [("  ", ""), safe(hit.detail, "$text-muted", width=40)]
    if concerns:
        parts += [("  · ", "$text-muted"), safe(" · ".join(concerns), width=60)]
    return Content.assemble(*parts)


class SearchModal(CrmModal[records.SearchHit]):
    """Type to search; arrows pick a hit, enter opens it, escape closes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Close", id="cancel"),
        Binding("down", "results", "Results", show=False, id="results"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[records.SearchHit] = []
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog search"):
            yield Static(Content.styled("Search everything", "bold"), classes="question")
            yield Input(placeholder="names, emails, companies, leads, notes…", id="query")
            yield OptionList(id="hits")
            yield Static(
                Content.styled("↓ to the results · enter opens · escape closes", "$text-muted"),
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one("#query", Input).focus()

    @on(Input.Changed, "#query")
    def _changed(self, event: Input.Changed) -> None:
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.08, lambda: self._search(event.value))

    def _search(self, text: str) -> None:
        db = self.app.db
        if not text.strip():
            self._show([])
            return
        self.run_db(lambda: search.search(db, text, limit=50), self._show, group="search")

    def _show(self, hits: list[records.SearchHit]) -> None:
        self.hits = hits
        widget = self.query_one("#hits", OptionList)
        query = self.query_one("#query", Input).value.strip()
        if hits:
            widget.set_options([Option(hit_line(hit)) for hit in hits])
            widget.highlighted = 0
        elif query:
            widget.set_options(
                [Option(Content.styled("no match", "italic $text-muted"), disabled=True)]
            )
        else:
            widget.clear_options()

    def action_results(self) -> None:
        widget = self.query_one("#hits", OptionList)
        if self.hits:
            widget.focus()

    @on(Input.Submitted, "#query")
    def _submitted(self) -> None:
        widget = self.query_one("#hits", OptionList)
        index = widget.highlighted or 0
        if self.hits:
            self.dismiss(self.hits[min(index, len(self.hits) - 1)])

    @on(OptionList.OptionSelected, "#hits")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option_index < len(self.hits):
            self.dismiss(self.hits[event.option_index])

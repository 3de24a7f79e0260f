"""One stage of the pipeline board: a header with count and total, and a card per open lead."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from smallcrm import records
from smallcrm.tui.show import safe, short_money, update_static


def card(lead: records.Lead) -> Content:
    """A lead as a few short lines: title, customer and owner, value and days in stage, marks."""
    who = lead.company or lead.contact or "no customer"
    parts: list[Content | str | tuple[str, str]] = [
        safe(lead.title, "bold"),
        "\n",
        safe(who, "$text-muted"),
        "\n",
        (short_money(lead.value_minor, lead.currency), "$success"),
        f" · {lead.days_in_stage}d",
    ]
    if lead.owner:
        parts += [" · ", safe(lead.owner.split()[0])]
    marks = []
    if lead.stale:
        marks.append(("stale", "bold $warning"))
    if lead.close_passed:
        marks.append(("overdue", "bold $error"))  # its expected close date has passed
    for index, mark in enumerate(marks):
        parts += ["\n" if index == 0 else " · ", mark]
    return Content.assemble(*parts)


class LeadList(OptionList):
    """The cards of one column; arrows move within it, the board moves between columns."""

    ALLOW_MAXIMIZE = False


class BoardColumn(Vertical):
    """A stage: `Sales · 12 · 140k USD` over its cards."""

    DEFAULT_CLASSES = "board-column"

    class LeadChosen(Message):
        """Enter (or a click) chose a lead in this column."""

        def __init__(self, column: BoardColumn, lead: records.Lead) -> None:
            super().__init__()
            self.column = column
            self.lead = lead

    def __init__(
        self,
        stage: records.Stage,
        *,
        content: object | None = None,
        currency: str = "USD",
        id: str | None = None,
    ) -> None:
        """A column for `stage`; given its `content` (a `leads.BoardColumn`), it is built with
        its cards in one go instead of being filled after it is mounted."""
        super().__init__(id=id)
        self.stage = stage
        self.leads: list[records.Lead] = []
        self.count = 0
        self._content = content
        self._currency = currency

    def compose(self) -> ComposeResult:
        content, self._content = self._content, None
        if content is None:
            yield Static(self._header(0, 0, self._currency), classes="column-header")
            yield LeadList(classes="lead-list")
            return
        self.count = content.count  # type: ignore[attr-defined]
        total = content.total_minor  # type: ignore[attr-defined]
        yield Static(self._header(self.count, total, self._currency), classes="column-header")
        self.leads = list(content.leads)  # type: ignore[attr-defined]
        yield LeadList(*self._options(), classes="lead-list")

    @property
    def cards(self) -> LeadList:
        return self.query_one(LeadList)

    def _header(self, count: int, total_minor: int, currency: str) -> Content:
        return Content.assemble(
            safe(self.stage.name, "bold"),
            "\n",
            (f"{count} · {short_money(total_minor, currency)}", "$text-muted"),
        )

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = []
        for lead in self.leads:
            options += [Option(card(lead), id=str(lead.id)), None]
        hidden = self.count - len(self.leads)
        if hidden > 0:
            more = f"… {hidden} more: filter (f) or pick an owner (o) to narrow"
            options.append(Option(Content.styled(more, "italic $text-muted"), disabled=True))
        elif options:
            options.pop()  # no divider after the last card
        return options

    def show(self, column: object, currency: str, now: datetime) -> None:
        """Show a `leads.BoardColumn` (count and total over all, cards up to a limit)."""
        leads: list[records.Lead] = column.leads  # type: ignore[attr-defined]
        self.stage = column.stage  # type: ignore[attr-defined]
        self.count = column.count  # type: ignore[attr-defined]
        update_static(
            self.query_one(".column-header", Static),
            self._header(self.count, column.total_minor, currency),  # type: ignore[attr-defined]
        )
        if leads == self.leads:
            return
        cards = self.cards
        selected = self.selected
        self.leads = list(leads)
        cards.set_options(self._options())
        self.select(selected.id if selected else None)

    @property
    def selected(self) -> records.Lead | None:
        index = self.cards.highlighted
        if index is None or index >= len(self.leads):
            return None
        return self.leads[index]

    def select(self, lead_id: int | None, index: int | None = None) -> None:
        """Highlight a lead by id, else the card at `index` (clamped), else the first."""
        if not self.leads:
            self.cards.highlighted = None
            return
        if lead_id is not None:
            for position, lead in enumerate(self.leads):
                if lead.id == lead_id:
                    self.cards.highlighted = position
                    return
        position = 0 if index is None else max(0, min(index, len(self.leads) - 1))
        self.cards.highlighted = position

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        lead = self.selected
        if lead is not None:
            self.post_message(self.LeadChosen(self, lead))

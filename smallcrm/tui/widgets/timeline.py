"""A customer's history as a list: a label by kind, a relative time, what happened and who."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from smallcrm import records
from smallcrm.tui.show import KIND_STYLES, relative, safe

LABELS = {
    "followup": "follow-up",
    "lead created": "new lead",
    "lead moved": "stage",
    "lead won": "won",
    "lead lost": "lost",
    "lead reopened": "reopened",
}
LEAD_STYLE = "$accent"
LABEL_WIDTH = 10
TIME_WIDTH = 11


def label(kind: str) -> Content:
    text = LABELS.get(kind, kind)
    style = KIND_STYLES.get(kind, LEAD_STYLE if kind.startswith("lead") else "$foreground")
    if kind == "lead won":
        style = "$success"
    elif kind == "lead lost":
        style = "$error"
    return Content.styled(f"{text[:LABEL_WIDTH]:<{LABEL_WIDTH}}", f"bold {style}")


def entry_content(entry: records.TimelineEntry, now: datetime) -> Content:
    when = relative(entry.at, now)
    parts: list[Content | str | tuple[str, str]] = [
        label(entry.type),
        (f"{when:<{TIME_WIDTH}}", "$text-muted"),
        safe(entry.summary),
    ]
    if entry.type == "followup" and entry.detail:
        style = "$success" if entry.detail == "done" else "$warning"
        parts += ["  ", (entry.detail, style)]
    if entry.user:
        parts += [("  · ", "$text-muted"), safe(entry.user, "$text-muted")]
    if entry.detail and entry.type != "followup":
        first_line = entry.detail.strip().splitlines()[0] if entry.detail.strip() else ""
        if first_line:
            indent = " " * (LABEL_WIDTH + TIME_WIDTH)
            parts += ["\n", indent, safe(first_line, "italic $text-muted", width=200)]
    return Content.assemble(*parts)


class TimelineList(OptionList):
    """Entries newest first; reaching the end asks for the next page."""

    class MoreWanted(Message):
        """The highlight reached the last loaded entry and there may be older ones."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[records.TimelineEntry] = []
        self.complete = True

    def show(self, entries: list[records.TimelineEntry], now: datetime, *, complete: bool) -> None:
        """Replace the entries (keeping the highlight on the same entry where possible)."""
        if entries == self.entries and complete == self.complete:
            return
        highlighted = self.highlighted
        self.entries = list(entries)
        self.complete = complete
        self.set_options(self._options_for(self.entries, now))
        if highlighted is not None and self.entries:
            self.highlighted = min(highlighted, len(self.entries) - 1)

    def extend(
        self, entries: list[records.TimelineEntry], now: datetime, *, complete: bool
    ) -> None:
        """Append an older page."""
        highlighted = self.highlighted
        if not self.complete and self.option_count > len(self.entries):
            self.remove_option_at_index(self.option_count - 1)  # the "more" line
        self.entries.extend(entries)
        self.complete = complete
        self.add_options([Option(entry_content(e, now)) for e in entries] + self._tail())
        if highlighted is not None:
            self.highlighted = highlighted

    def _options_for(self, entries: list[records.TimelineEntry], now: datetime) -> list:
        if not entries:
            return [Option(Content.styled("Nothing has happened yet: press l to log a call.",
                                          "italic $text-muted"), disabled=True)]  # fmt: skip
        return [Option(entry_content(e, now)) for e in entries] + self._tail()

    def _tail(self) -> list[Option]:
        if self.complete:
            return []
        return [Option(Content.styled("… older entries load as you scroll", "italic $text-muted"),
                       disabled=True)]  # fmt: skip

    @property
    def selected(self) -> records.TimelineEntry | None:
        index = self.highlighted
        if index is None or index >= len(self.entries):
            return None
        return self.entries[index]

    def watch_highlighted(self, highlighted: int | None) -> None:
        super().watch_highlighted(highlighted)
        if highlighted is not None and not self.complete and highlighted >= len(self.entries) - 5:
            self.post_message(self.MoreWanted())

    def action_cursor_down(self) -> None:
        if self.highlighted is not None and self.highlighted >= len(self.entries) - 1:
            if not self.complete:
                self.post_message(self.MoreWanted())
            return
        super().action_cursor_down()

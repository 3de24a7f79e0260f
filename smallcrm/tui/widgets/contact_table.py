"""A window of contact rows drawn as lines of fixed-width columns.

The database pages; this list only ever holds one page. (A DataTable redraws each cell through
Rich and took ~4x longer to show a page here, so rows are single Content lines in an OptionList.)
Columns that do not fit the width are left out, least important last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

GAP = 2


def fit(columns: Sequence[tuple[str, str, int]], width: int) -> list[tuple[str, str, int]]:
    """The columns that fit in `width`, in order (the first always)."""
    shown: list[tuple[str, str, int]] = []
    used = 0
    for column in columns:
        if shown and used + column[2] > width:
            break
        shown.append(column)
        used += column[2] + GAP
    return shown


def line(cells: dict[str, Content], columns: Sequence[tuple[str, str, int]]) -> Content:
    parts = []
    for index, (key, _, width) in enumerate(columns):
        if index:
            parts.append(Content(" " * GAP))
        parts.append(cells.get(key, Content("")).truncate(width, ellipsis=True, pad=True))
    return Content.assemble(*parts)


class ContactHeader(Static):
    """Column titles; a click on one sorts by it."""

    class Clicked(Message):
        def __init__(self, key: str) -> None:
            super().__init__()
            self.key = key

    def __init__(self, columns: Sequence[tuple[str, str, int]], *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.columns = list(columns)
        self.sorted_by = ""

    def show(self, columns: Sequence[tuple[str, str, int]], sorted_by: str) -> None:
        self.columns, self.sorted_by = list(columns), sorted_by
        cells = {
            key: Content.styled(title + (" ▲" if key == sorted_by else ""), "bold")
            for key, title, _ in columns
        }
        self.update(line(cells, columns))

    def on_click(self, event: events.Click) -> None:
        x = event.x
        for key, _, width in self.columns:
            if 0 <= x < width + GAP:
                self.post_message(self.Clicked(key))
                return
            x -= width + GAP


class ContactTable(OptionList):
    """Rows of one page; moving past the last (or first) row asks for the next (or previous)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+end", "last", "Last row", show=False),
        Binding("ctrl+home", "first", "First row", show=False),
    ]

    class PageWanted(Message):
        """The cursor ran off an edge of the loaded rows."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    #: Set by the screen: whether there are rows after / before this window.
    has_next = False
    has_previous = False

    def __init__(self, columns: Sequence[tuple[str, str, int]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.all_columns = list(columns)
        self.rows: list[dict[str, Content]] = []

    @property
    def columns(self) -> list[tuple[str, str, int]]:
        return fit(self.all_columns, max(self.scrollable_content_region.width - 1, 20))

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_row(self) -> int:
        return self.highlighted or 0

    def show_rows(self, rows: list[dict[str, Content]], cursor: int = 0) -> None:
        self.rows = rows
        columns = self.columns
        self.set_options([Option(line(cells, columns)) for cells in rows])
        if rows:
            self.highlighted = max(0, min(cursor, len(rows) - 1))

    def on_resize(self) -> None:
        if self.rows:
            self.show_rows(self.rows, self.cursor_row)

    def action_cursor_down(self) -> None:
        if self.rows and self.cursor_row >= len(self.rows) - 1 and self.has_next:
            self.post_message(self.PageWanted(1))
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.cursor_row <= 0 and self.has_previous:
            self.post_message(self.PageWanted(-1))
            return
        super().action_cursor_up()

    def action_page_down(self) -> None:
        if self.rows and self.cursor_row >= len(self.rows) - 1 and self.has_next:
            self.post_message(self.PageWanted(1))
            return
        super().action_page_down()

    def action_page_up(self) -> None:
        if self.cursor_row <= 0 and self.has_previous:
            self.post_message(self.PageWanted(-1))
            return
        super().action_page_up()

"""A window of contact rows drawn as lines of fixed-width columns.

The database pages; this list only ever holds one page. Each row is one line, drawn only when
it is on screen (Textual's line API): a new page or a keystroke's results redraw the visible
lines and nothing else — no layout pass, no measuring every row. (A DataTable redraws each
cell through Rich and an OptionList measures and wraps every option; both took several times
longer to show a page here.) Columns that do not fit the width are left out, least important
last.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Static

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
        self._shown: tuple[list[tuple[str, str, int]], str] | None = None

    def show(self, columns: Sequence[tuple[str, str, int]], sorted_by: str) -> None:
        if self._shown == (list(columns), sorted_by):
            return  # unchanged: no redraw
        self.columns, self.sorted_by = list(columns), sorted_by
        self._shown = (list(columns), sorted_by)
        cells = {
            key: Content.styled(title + (" ▲" if key == sorted_by else ""), "bold")
            for key, title, _ in columns
        }
        self.update(line(cells, columns), layout=False)  # one line, always

    def on_click(self, event: events.Click) -> None:
        x = event.x
        for key, _, width in self.columns:
            if 0 <= x < width + GAP:
                self.post_message(self.Clicked(key))
                return
            x -= width + GAP


class ContactTable(ScrollView, can_focus=True):
    """Rows of one page; moving past the last (or first) row asks for the next (or previous)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("down", "cursor_down", "Down", show=False),
        Binding("up", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home", "first", "First row", show=False),
        Binding("end", "last", "Last row", show=False),
        Binding("ctrl+home", "first", "First row", show=False),
        Binding("ctrl+end", "last", "Last row", show=False),
        Binding("enter", "select", "Open", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"contact-table--cursor"}

    class PageWanted(Message):
        """The cursor ran off an edge of the loaded rows."""

        def __init__(self, step: int) -> None:
            super().__init__()
            self.step = step

    class _RowMessage(Message):
        def __init__(self, table: ContactTable, row: int) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ContactTable:
            return self.table

    class RowHighlighted(_RowMessage):
        """The cursor moved to another row."""

    class RowSelected(_RowMessage):
        """Enter (or a click) chose the row under the cursor."""

    #: Set by the screen: whether there are rows after / before this window.
    has_next = False
    has_previous = False

    def __init__(self, columns: Sequence[tuple[str, str, int]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.all_columns = list(columns)
        self.rows: list[dict[str, Content]] = []
        self._cursor = 0
        self._lines: dict[int, Content] = {}  # row -> its line at the current columns
        self._strips: dict[tuple[int, bool, bool, int], Strip] = {}
        self._width = 0

    # ------------------------------------------------------------------ contents

    @property
    def columns(self) -> list[tuple[str, str, int]]:
        return fit(self.all_columns, max(self.scrollable_content_region.width - 1, 20))

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_row(self) -> int:
        return self._cursor

    @property
    def highlighted(self) -> int | None:
        return self._cursor if self.rows else None

    def show_rows(self, rows: list[dict[str, Content]], cursor: int = 0) -> None:
        """Replace the rows (one page) and put the cursor on row `cursor`."""
        self.rows = rows
        self._lines.clear()
        self._strips.clear()
        self._cursor = max(0, min(cursor, len(rows) - 1)) if rows else 0
        self.virtual_size = Size(self.scrollable_content_region.width, len(rows))
        self.scroll_to(y=0, animate=False, immediate=True)
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.RowHighlighted(self, self._cursor))

    def on_resize(self) -> None:
        self._lines.clear()
        self._strips.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self.rows))
        self._scroll_to_cursor()
        self.refresh()

    def on_focus(self) -> None:
        self.refresh()  # the cursor's colour depends on focus

    def on_blur(self) -> None:
        self.refresh()

    def notify_style_update(self) -> None:
        self._strips.clear()  # a theme change
        super().notify_style_update()

    # ------------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        row = self.scroll_offset.y + y
        width = self.scrollable_content_region.width
        if width != self._width:
            self._width = width
            self._lines.clear()
            self._strips.clear()
        if not 0 <= row < len(self.rows):
            return Strip.blank(width, self.visual_style.rich_style)
        cursor = row == self._cursor
        key = (row, cursor, self.has_focus, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(row, cursor, width)
        return strip

    def _render_row(self, row: int, cursor: bool, width: int) -> Strip:
        content = self._lines.get(row)
        if content is None:
            content = self._lines[row] = line(self.rows[row], self.columns)
        if cursor:
            style = self.get_visual_style("contact-table--cursor")
        else:
            style = self.visual_style
        strips = Visual.to_strips(self, content, width, 1, style, pad=True)
        if not strips:
            return Strip.blank(width, style.rich_style)
        return strips[0].extend_cell_length(width, style.rich_style).crop(0, width)

    def _refresh_row(self, row: int) -> None:
        y = row - self.scroll_offset.y
        if 0 <= y < self.scrollable_content_region.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_cursor(self) -> None:
        if self.rows:
            self.scroll_to_region(
                Region(0, self._cursor, max(self.scrollable_content_region.width, 1), 1),
                animate=False,
                force=True,
                immediate=True,
            )

    # ------------------------------------------------------------------ the cursor

    def move_cursor(self, row: int) -> None:
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        if row == self._cursor:
            return
        before = self.scroll_offset.y
        self._refresh_row(self._cursor)
        self._cursor = row
        self._scroll_to_cursor()
        if self.scroll_offset.y == before:
            self._refresh_row(row)
        else:
            self.refresh()
        self.post_message(self.RowHighlighted(self, row))

    def action_cursor_down(self) -> None:
        if self.rows and self._cursor >= len(self.rows) - 1 and self.has_next:
            self.post_message(self.PageWanted(1))
            return
        self.move_cursor(self._cursor + 1)

    def action_cursor_up(self) -> None:
        if self._cursor <= 0 and self.has_previous:
            self.post_message(self.PageWanted(-1))
            return
        self.move_cursor(self._cursor - 1)

    def action_page_down(self) -> None:
        if self.rows and self._cursor >= len(self.rows) - 1 and self.has_next:
            self.post_message(self.PageWanted(1))
            return
        self.move_cursor(self._cursor + max(1, self.scrollable_content_region.height - 1))

    def action_page_up(self) -> None:
        if self._cursor <= 0 and self.has_previous:
            self.post_message(self.PageWanted(-1))
            return
        self.move_cursor(self._cursor - max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self.rows) - 1)

    def action_select(self) -> None:
        if self.rows:
            self.post_message(self.RowSelected(self, self._cursor))

    def on_click(self, event: events.Click) -> None:
        row = self.scroll_offset.y + event.y
        if 0 <= row < len(self.rows):
            self.move_cursor(row)
            self.action_select()

"""The pipeline board, the home screen: a column per stage and a card per open lead."""

from __future__ import annotations

from types import ModuleType
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, HorizontalScroll
from textual.content import Content
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Input, Static

from smallcrm import records, settings
from smallcrm.errors import Conflict, SmallCrmError
from smallcrm.tui.heap import freeze_heap
from smallcrm.tui.messages import LeadRequested
from smallcrm.tui.screens.base import CrmScreen
from smallcrm.tui.show import safe, short_money, update_static
from smallcrm.tui.widgets.board_column import BoardColumn
from smallcrm.tui.widgets.empty_state import START_HERE, EmptyState

#: Cards loaded per column; counts and totals always cover every lead.
CARDS_PER_STAGE = 40

NO_LEADS = Content.assemble(
    ("No open leads here.", "bold"),
    "\n\nPress ",
    ("n", "bold $accent"),
    " to add a lead, ",
    ("c", "bold $accent"),
    " for contacts, or ",
    ("escape", "bold $accent"),
    " to clear the filter.",
)


MOVE = Binding.Group("Move ")  # the trailing space keeps the next key apart in a compact footer
#: Narrowest column; below that the board scrolls sideways.
MIN_COLUMN = 15


def _leads() -> ModuleType:
    """smallcrm.leads, imported where it is used (a worker thread): it loads the database stack,
    which the first board does without (smallcrm.quickstart)."""
    from smallcrm import leads

    return leads


class BoardScreen(CrmScreen):
    """One column per stage; arrows select, shift+arrows move a lead, w/l close it."""

    AUTO_FOCUS = ".lead-list"
    TITLE_TEXT = "Board"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "column(-1)", "Previous stage", show=False, id="left"),
        Binding("right", "column(1)", "Next stage", show=False, id="right"),
        Binding(
            "shift+left", "move(-1)", "Move back", key_display="⇧←", id="move-back", group=MOVE
        ),
        Binding(
            "shift+right", "move(1)", "Move on", key_display="⇧→", id="move-next", group=MOVE
        ),  # fmt: skip
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("w", "won", "Won", id="won"),
        Binding("l", "lost", "Lost", id="lost"),
        Binding("n", "new", "New", tooltip="Add a lead", id="new"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("f", "filter", "Filter", id="filter"),
        Binding("o", "owner", "Owner", id="owner"),
        Binding("p", "pipeline", "Pipeline", id="pipeline"),
        Binding("escape", "back", "Clear filter", id="back", show=False),
        Binding("r", "reload", "Reload", id="reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pipeline_name: str | None = None
        self.owner: str | None = None
        self.search = ""
        self.data: records.Board | None = None
        self._want: int | None = None  # the lead to select after the next load
        self._column = 0
        self._debounce: Timer | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="board-bar", classes="bar"):
            yield Static(Content.styled("Board", "bold"), id="board-title", classes="bar-title")
            yield Input(placeholder="filter leads (f)", id="board-filter", compact=True)
            yield Static("", id="board-scope", classes="bar-info")
        yield HorizontalScroll(id="columns")
        yield EmptyState(id="board-empty")
        yield Footer(compact=True)

    # ------------------------------------------------------------------ loading

    def reload(self, *, quiet: bool = False) -> None:
        db = self.app.db
        wanted_pipeline, owner, search = self.pipeline_name, self.owner, self.search

        def load() -> records.Board:
            from smallcrm import contacts, pipeline

            names = pipeline.list_pipelines(db)
            name = wanted_pipeline if wanted_pipeline in names else pipeline.default_name(db)
            columns = _leads().board(
                db, pipeline_name=name, owner=owner, search=search, per_stage=CARDS_PER_STAGE
            )
            empty = not any(c.count for c in columns) and contacts.count(db) == 0
            return records.Board(name, names, columns, empty and not search and not owner)

        quick = self.app.take_first_board()
        if quick is not None:  # the app's first board, read before the store is open

            def first() -> records.Board:
                return quick(CARDS_PER_STAGE) or load()

            self.run_db(first, self._show_first)
            return
        self.run_db(load, self._show)

    def _show_first(self, data: records.Board) -> None:
        self._show(data)
        self.app.db_wanted()  # now that the board is up, the store loads for the rest

    def _show(self, data: records.Board) -> None:
        self.data = data
        self.pipeline_name = data.pipeline
        empty = self.query_one("#board-empty", EmptyState)
        holder = self.query_one("#columns", HorizontalScroll)
        nothing = not any(c.count for c in data.columns)
        empty.display = nothing
        holder.display = not nothing
        if nothing:
            empty.update(START_HERE if data.empty_database else NO_LEADS)
        self._update_scope()
        stage_ids = [c.stage.id for c in data.columns]
        current = [column.stage.id for column in holder.query(BoardColumn)]
        if stage_ids != current:
            # New columns are built with their cards: one layout and one paint, not an empty
            # board first and its cards after.
            holder.remove_children()
            currency = settings.default_currency()
            width = self._column_width(len(data.columns))
            columns = [BoardColumn(c.stage, content=c, currency=currency) for c in data.columns]
            for column in columns:
                column.styles.width = width
            holder.mount_all(columns)
            self.call_after_refresh(self._select_and_focus)
        else:
            self._fill(data)

    def on_resize(self) -> None:
        self._size_columns()

    def _column_width(self, count: int) -> int:
        """Share the width between the stages; below MIN_COLUMN each, scroll sideways."""
        return max(MIN_COLUMN, self.size.width // max(count, 1))

    def _size_columns(self) -> None:
        columns = list(self.query(BoardColumn))
        if not columns:
            return
        width = self._column_width(len(columns))
        for column in columns:
            column.styles.width = width

    def _fill(self, data: records.Board) -> None:
        currency = settings.default_currency()
        now = self.app.clock()
        columns = list(self.query(BoardColumn))
        for column, content in zip(columns, data.columns, strict=False):
            column.show(content, currency, now)
        self._select_and_focus()

    def _select_and_focus(self) -> None:
        columns = list(self.query(BoardColumn))
        if self._want is not None:
            for index, column in enumerate(columns):
                if any(lead.id == self._want for lead in column.leads):
                    self._column = index
                    column.select(self._want)
            self._want = None
        if not isinstance(self.focused, Input) and columns:
            self._focus_column(self._column)
        freeze_heap("board")  # the home screen now lives as long as the app

    def _update_scope(self) -> None:
        data = self.data
        parts: list[Content | str | tuple[str, str]] = []
        if data and len(data.pipelines) > 1:
            parts += [safe(data.pipeline, "bold"), " (p) · "]
        parts += ["owner: ", safe(self.owner or "everyone", "bold"), " (o)"]
        if data:
            total = sum(c.total_minor for c in data.columns)
            count = sum(c.count for c in data.columns)
            value = short_money(total, settings.default_currency())
            parts += [f" · {count} open · ", (value, "$success")]
        update_static(self.query_one("#board-scope", Static), Content.assemble(*parts))

    # ------------------------------------------------------------------ selection

    def main_widget(self) -> Widget | None:
        columns = list(self.query(BoardColumn))
        return columns[self._column].cards if columns else None

    def _focus_column(self, index: int) -> None:
        columns = list(self.query(BoardColumn))
        if not columns:
            return
        self._column = max(0, min(index, len(columns) - 1))
        column = columns[self._column]
        column.cards.focus()
        if column.cards.highlighted is None and column.leads:
            column.select(None)
        self.query_one("#columns", HorizontalScroll).scroll_to_widget(column, animate=False)

    @property
    def column(self) -> BoardColumn | None:
        columns = list(self.query(BoardColumn))
        return columns[self._column] if 0 <= self._column < len(columns) else None

    @property
    def lead(self) -> records.Lead | None:
        column = self.column
        return column.selected if column else None

    @on(BoardColumn.LeadChosen)
    def _chosen(self, event: BoardColumn.LeadChosen) -> None:
        self.post_message(LeadRequested(event.lead.id))

    def on_descendant_focus(self, event: Any) -> None:
        columns = list(self.query(BoardColumn))
        for index, column in enumerate(columns):
            if column.cards is event.widget:
                self._column = index

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("move", "won", "lost", "edit", "open"):
            return True if self.lead is not None else None
        if action == "pipeline":
            return bool(self.data and len(self.data.pipelines) > 1)
        return True

    # ------------------------------------------------------------------ actions

    def action_column(self, step: int) -> None:
        column = self.column
        index = column.cards.highlighted if column else None
        columns = list(self.query(BoardColumn))
        if not columns:
            return
        target = max(0, min(self._column + step, len(columns) - 1))
        self._focus_column(target)
        if index is not None and columns[target].leads:
            columns[target].select(None, index)

    def action_open(self) -> None:
        if self.lead:
            self.post_message(LeadRequested(self.lead.id))

    def action_move(self, step: int) -> None:
        lead = self.lead
        if lead is None:
            return
        columns = list(self.query(BoardColumn))
        target = self._column + step
        if not 0 <= target < len(columns):
            where = "last" if step > 0 else "first"
            hint = " (w marks it won)" if step > 0 else ""
            self.notify(f"{lead.stage} is the {where} stage{hint}", markup=False)
            return
        db = self.app.db

        def moved(result: records.Lead) -> None:
            self._want = result.id
            self._column = target
            self.reload()

        self.run_db(
            lambda: _leads().step(db, str(lead.id), step, expected_version=lead.version),
            moved,
            group="write",
            exclusive=False,
            failed=self._failed,
        )

    def action_won(self) -> None:
        lead = self.lead
        if lead is None:
            return
        db = self.app.db

        def done(result: records.Lead) -> None:
            value = short_money(result.value_minor, result.currency)
            self.notify(f"Won: {result.title} ({value})", markup=False)
            self.reload()

        self.run_db(
            lambda: _leads().won(db, str(lead.id), expected_version=lead.version),
            done,
            group="write",
            exclusive=False,
            failed=self._failed,
        )

    def action_lost(self) -> None:
        lead = self.lead
        if lead is None:
            return
        from smallcrm.tui.modals.prompt import PromptModal

        question = Content.assemble("Why was ", safe(lead.title, "bold"), " lost?")
        self.app.push_screen(
            PromptModal(question, placeholder="the reason (optional), e.g. price, timing"),
            lambda reason: self._lose(lead, reason),
        )

    def _lose(self, lead: records.Lead, reason: str | None) -> None:
        if reason is None:
            return
        db = self.app.db

        def done(result: records.Lead) -> None:
            self.notify(f"Lost: {result.title}", markup=False)
            self.reload()

        self.run_db(
            lambda: _leads().lost(db, str(lead.id), reason or None, expected_version=lead.version),
            done,
            group="write",
            exclusive=False,
            failed=self._failed,
        )

    def _failed(self, error: SmallCrmError) -> None:
        self.app.report_error(error)
        if isinstance(error, Conflict):
            self.notify("The board was reloaded with the latest data.", markup=False)
        self.reload()

    def action_new(self) -> None:
        if self.data and self.data.empty_database:
            self.app.action_new_record("contact")
            return
        from smallcrm.tui.modals.lead_form import LeadForm

        column = self.column
        stage = column.stage.name if column else None
        self.app.push_screen(LeadForm(stage=stage, pipeline_name=self.pipeline_name), self._saved)

    def action_edit(self) -> None:
        if self.lead is None:
            return
        from smallcrm.tui.modals.lead_form import LeadForm

        self.app.push_screen(LeadForm(self.lead), self._saved)

    def _saved(self, lead: records.Lead | None) -> None:
        if lead is not None:
            self._want = lead.id
            self.reload()

    def action_filter(self) -> None:
        self.query_one("#board-filter", Input).focus()

    @on(Input.Changed, "#board-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.search = event.value
        if self._debounce is not None:
            self._debounce.stop()
        self._debounce = self.set_timer(0.12, self.reload)

    @on(Input.Submitted, "#board-filter")
    def _filter_submitted(self) -> None:
        self._focus_cards()

    def _focus_cards(self) -> None:
        """Focus the current column, or the nearest one that has cards."""
        columns = list(self.query(BoardColumn))
        with_cards = [i for i, column in enumerate(columns) if column.leads]
        if with_cards and self._column not in with_cards:
            self._column = min(with_cards, key=lambda i: abs(i - self._column))
        self._focus_column(self._column)

    def action_back(self) -> None:
        field = self.query_one("#board-filter", Input)
        if self.focused is field:
            self._focus_cards()
        elif field.value:
            field.value = ""
        elif self.owner:
            self.owner = None
            self.reload()

    def action_owner(self) -> None:
        db = self.app.db

        def chosen(owner: str | None) -> None:
            if owner is None:
                return
            self.owner = owner or None
            self.reload()

        def show(team: list[records.User]) -> None:
            from smallcrm.tui.modals.pick import PickModal

            choices = [("Everyone", ""), *((user.name, user.name) for user in team)]
            self.app.push_screen(
                PickModal("Show the leads of", choices, current=self.owner or ""), chosen
            )

        def team() -> list[records.User]:
            from smallcrm import users

            return users.list_users(db)

        self.run_db(team, show, group="pick")

    def action_pipeline(self) -> None:
        if not self.data or len(self.data.pipelines) < 2:
            return
        from smallcrm.tui.modals.pick import PickModal

        def chosen(name: str | None) -> None:
            if name:
                self.pipeline_name = name
                self._column = 0
                self.reload()

        choices = [(name, name) for name in self.data.pipelines]
        self.app.push_screen(PickModal("Pipeline", choices, current=self.pipeline_name), chosen)

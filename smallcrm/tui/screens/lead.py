"""One lead: where it stands, its history, and the keys that move or close it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from smallcrm import activities, followups, leads, pipeline, records
from smallcrm.errors import SmallCrmError
from smallcrm.tui.messages import CustomerRequested
from smallcrm.tui.screens.base import CrmScreen
from smallcrm.tui.screens.board import MOVE
from smallcrm.tui.show import day, money, relative, safe, stamp
from smallcrm.tui.widgets.timeline import label


@dataclass(frozen=True)
class LeadData:
    lead: records.Lead
    stages: list[str]
    history: list[tuple[datetime, Content]]


class LeadScreen(CrmScreen):
    """A lead's page; `w`/`l` close it and shift+arrows move it, as on the board."""

    AUTO_FOCUS = "#lead-history"
    TITLE_TEXT = "Lead"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "shift+left", "move(-1)", "Move back", key_display="⇧←", id="move-back", group=MOVE
        ),
        Binding(
            "shift+right", "move(1)", "Move on", key_display="⇧→", id="move-next", group=MOVE
        ),  # fmt: skip
        Binding("w", "won", "Won", id="won"),
        Binding("l", "lost", "Lost", id="lost"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("o", "open_customer", "Customer", id="open-customer"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "reload", "Reload", id="reload", show=False),
    ]

    def __init__(self, lead_id: int) -> None:
        super().__init__()
        self.lead_id = lead_id
        self.data: LeadData | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Static("", id="lead-title", classes="bar-title")
        with Horizontal(id="lead-body"):
            with VerticalScroll(id="lead-side"):
                yield Static("", id="lead-details")
                yield Static("", id="lead-stages")
            with Vertical(id="lead-main"):
                yield Static(Content.styled("History", "bold"), classes="section-title")
                yield OptionList(id="lead-history")
        yield Footer(compact=True)

    def main_widget(self) -> Widget | None:
        return self.query_one("#lead-history", OptionList)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#lead-history", OptionList).focus()

    def reload(self, *, quiet: bool = False) -> None:
        db, ident = self.app.db, str(self.lead_id)

        def load() -> tuple[records.Lead, list[str], list, list, list]:
            lead = leads.get(db, ident)
            stages = [s.name for s in pipeline.list_stages(db, lead.pipeline)]
            changes = leads.history(db, ident)
            done = activities.list_activities(db, lead=ident, limit=100)
            todo = followups.list_followups(db, lead=ident, status="all", limit=100)
            return lead, stages, changes, done, todo

        self.run_db(load, self._show)

    def _show(self, loaded: tuple) -> None:  # type: ignore[type-arg]
        lead, stages, changes, done, todo = loaded
        now = self.app.clock()
        history: list[tuple[datetime, Content]] = []
        for change in changes:
            kind = f"lead {change.event}"
            what = {
                "created": f"created in {change.to_stage}",
                "moved": f"{change.from_stage} → {change.to_stage}",
                "won": "won",
                "lost": "lost",
                "reopened": "reopened",
            }.get(change.event, change.event)
            history.append(
                (change.changed_at, self._line(kind, change.changed_at, now, what, change.user))
            )
        for item in done:
            history.append(
                (
                    item.occurred_at,
                    self._line(item.kind, item.occurred_at, now, item.summary, item.user),
                )
            )
        for item in todo:
            history.append((item.done_at or item.due_at,
                            self._line("followup", item.done_at or item.due_at, now,
                                       f"{item.title} ({item.status})", item.owner)))  # fmt: skip
        history.sort(key=lambda pair: pair[0], reverse=True)
        self.data = LeadData(lead, stages, history)
        title = Content.assemble(safe(lead.title, "bold"), (f"  lead {lead.id}", "$text-muted"))
        self.query_one("#lead-title", Static).update(title)
        self.query_one("#lead-details", Static).update(self._details(lead))
        self.query_one("#lead-stages", Static).update(self._stages(lead, stages))
        widget = self.query_one("#lead-history", OptionList)
        highlighted = widget.highlighted
        options = [Option(content) for _, content in history] or [
            Option(Content.styled("no history yet", "italic $text-muted"), disabled=True)
        ]
        widget.set_options(options)
        if highlighted is not None and history:
            widget.highlighted = min(highlighted, len(history) - 1)
        self.update_keys()

    def _line(
        self, kind: str, when: datetime, now: datetime, what: str, who: str | None
    ) -> Content:
        parts: list[Content | str | tuple[str, str]] = [
            label(kind),
            (f"{relative(when, now):<11}", "$text-muted"),
            safe(what),
        ]
        if who:
            parts += [("  · ", "$text-muted"), safe(who, "$text-muted")]
        return Content.assemble(*parts)

    def _details(self, lead: records.Lead) -> Content:
        status_style = {"won": "bold $success", "lost": "bold $error"}.get(lead.status, "bold")
        rows: list[tuple[str, Content | str | tuple[str, str]]] = [
            ("status", (lead.status, status_style)),
            ("stage", safe(lead.stage)),
            ("value", (money(lead.value_minor, lead.currency), "$success")),
            ("chance", f"{lead.probability}%"),
            ("contact", safe(lead.contact or "—")),
            ("company", safe(lead.company or "—")),
            ("owner", safe(lead.owner or "—")),
            ("close by", day(lead.expected_close) or "—"),
            ("in stage", f"{lead.days_in_stage} days"),
            ("created", stamp(lead.created_at)),
        ]
        if lead.closed_at:
            rows.append(("closed", stamp(lead.closed_at)))
        if lead.lost_reason:
            rows.append(("reason", safe(lead.lost_reason)))
        parts: list[Content | str | tuple[str, str]] = []
        for name, value in rows:
            if parts:
                parts.append("\n")
            parts += [(f"{name:<9}", "$text-muted"), value]
        marks = []
        if lead.stale:
            marks.append(("stale: too long in this stage", "bold $warning"))
        if lead.close_passed:
            marks.append(("its close date has passed", "bold $error"))
        for mark in marks:
            parts += ["\n", mark]
        return Content.assemble(*parts)

    def _stages(self, lead: records.Lead, stages: list[str]) -> Content:
        parts: list[Content | str | tuple[str, str]] = ["\n"]
        for index, name in enumerate(stages):
            if index:
                parts.append((" › ", "$text-muted"))
            current = name == lead.stage and lead.status == "open"
            parts.append(safe(name, "bold reverse $accent" if current else "$text-muted"))
        return Content.assemble(*parts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        lead = self.data.lead if self.data else None
        if action == "won":
            return True if lead and lead.status != "won" else None
        if action == "lost":
            return True if lead and lead.status != "lost" else None
        if action == "open_customer":
            return bool(lead and (lead.contact_id or lead.company_id))
        return True

    # ------------------------------------------------------------------ actions

    def _write(self, job, message) -> None:  # type: ignore[no-untyped-def]
        def done(lead: records.Lead) -> None:
            self.notify(message(lead), markup=False)
            self.reload()

        def failed(error: SmallCrmError) -> None:
            self.app.report_error(error)
            self.reload()

        self.run_db(job, done, group="write", exclusive=False, failed=failed)

    def action_move(self, step: int) -> None:
        if self.data is None:
            return
        lead, db = self.data.lead, self.app.db
        self._write(
            lambda: leads.step(db, str(lead.id), step, expected_version=lead.version),
            lambda result: f"{result.title}: {result.stage}",
        )

    def action_won(self) -> None:
        if self.data is None:
            return
        lead, db = self.data.lead, self.app.db
        self._write(
            lambda: leads.won(db, str(lead.id), expected_version=lead.version),
            lambda result: f"Won: {result.title}",
        )

    def action_lost(self) -> None:
        if self.data is None:
            return
        from smallcrm.tui.modals.prompt import PromptModal

        lead, db = self.data.lead, self.app.db

        def answer(reason: str | None) -> None:
            if reason is None:
                return
            self._write(
                lambda: leads.lost(db, str(lead.id), reason or None, expected_version=lead.version),
                lambda result: f"Lost: {result.title}",
            )

        question = Content.assemble("Why was ", safe(lead.title, "bold"), " lost?")
        self.app.push_screen(PromptModal(question, placeholder="the reason (optional)"), answer)

    def action_edit(self) -> None:
        if self.data is None:
            return
        from smallcrm.tui.modals.lead_form import LeadForm

        def saved(lead: records.Lead | None) -> None:
            if lead is not None:
                self.notify(f"Saved lead {lead.id}: {lead.title}", markup=False)
                self.reload()

        self.app.push_screen(LeadForm(self.data.lead), saved)

    def action_open_customer(self) -> None:
        lead = self.data.lead if self.data else None
        if lead is None:
            return
        if lead.contact_id:
            self.post_message(CustomerRequested("contact", lead.contact_id))
        elif lead.company_id:
            self.post_message(CustomerRequested("company", lead.company_id))

    @on(OptionList.OptionSelected, "#lead-history")
    def _chosen(self) -> None:
        self.action_open_customer()

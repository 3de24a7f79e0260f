"""Today: overdue and due follow-ups, stale leads, and leads that should close this week.

`d` marks a follow-up done, `s` snoozes it (`+1d`, `next monday`, …), enter opens it.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from smallcrm import agenda, followups, records, users
from smallcrm.errors import SmallCrmError
from smallcrm.tui.messages import CustomerRequested, LeadRequested
from smallcrm.tui.screens.base import CrmScreen
from smallcrm.tui.show import day, due_text, safe, short_money
from smallcrm.values import parse_when

#: Entries shown per section; the header says how many there are in all.
PER_SECTION = 50


class AgendaScreen(CrmScreen):
    """What needs doing today."""

    AUTO_FOCUS = "#agenda-list"
    TITLE_TEXT = "Agenda"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="open", show=False),
        Binding("d", "done", "Done", id="done"),
        Binding("s", "snooze", "Snooze", id="snooze"),
        Binding("o", "owner", "Owner", id="owner"),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("r", "reload", "Reload", id="reload", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.owner: str | None = None
        self.data: records.Agenda | None = None
        self.items: dict[str, records.FollowUp | records.Lead] = {}

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Static(Content.styled("Agenda", "bold"), classes="bar-title")
            yield Static("", id="agenda-info", classes="bar-info")
        yield OptionList(id="agenda-list")
        yield Footer(compact=True)

    def main_widget(self) -> Widget | None:
        return self.query_one("#agenda-list", OptionList)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#agenda-list", OptionList).focus()

    def reload(self, *, quiet: bool = False) -> None:
        db, owner, now = self.app.db, self.owner, self.app.clock()
        self.run_db(
            lambda: agenda.today(db, owner=owner, now=now, stale_limit=PER_SECTION + 1),
            self._show,
        )

    def _show(self, data: records.Agenda) -> None:
        if data == self.data:
            return
        self.data = data
        now = self.app.clock()
        widget = self.query_one("#agenda-list", OptionList)
        old_id = widget.highlighted_option.id if widget.highlighted_option else None
        old_index = widget.highlighted
        self.items = {}
        options: list[Option] = []
        sections = (
            ("Overdue", data.overdue, "bold $error"),
            ("Due today", data.due_today, "bold $warning"),
            ("Stale leads", data.stale_leads, "bold $warning"),
            ("Closing this week", data.closing_this_week, "bold $accent"),
        )
        for title, entries, style in sections:
            capped = title == "Stale leads" and len(entries) > PER_SECTION
            count = f"{PER_SECTION}+" if capped else str(len(entries))
            header = Content.assemble((title, style), (f"  {count}", "$text-muted"))
            options.append(Option(header, disabled=True))
            if not entries:
                options.append(
                    Option(Content.styled("  nothing", "italic $text-muted"), disabled=True)
                )
            for entry in entries[:PER_SECTION]:
                if isinstance(entry, records.FollowUp):
                    key = f"f:{entry.id}:{title}"
                    options.append(Option(self._followup(entry, now), id=key))
                else:
                    key = f"l:{entry.id}:{title}"
                    options.append(Option(self._lead(entry), id=key))
                self.items[key] = entry
            if len(entries) > PER_SECTION:
                hidden = "more" if capped else f"{len(entries) - PER_SECTION} more"
                more = f"  … and {hidden} (o picks one owner)"
                options.append(Option(Content.styled(more, "italic $text-muted"), disabled=True))
        widget.set_options(options)
        ids = [o.id for o in widget.options]
        if old_id is not None and old_id in ids:
            widget.highlighted = ids.index(old_id)
        else:
            enabled = [i for i, o in enumerate(widget.options) if not o.disabled]
            if enabled:
                start = old_index or 0
                widget.highlighted = next((i for i in enabled if i >= start), enabled[-1])
        total = len(data.overdue) + len(data.due_today)
        capped = len(data.stale_leads) > PER_SECTION
        stale = f"{PER_SECTION}+" if capped else str(len(data.stale_leads))
        info = Content.assemble(
            (f"{total} to do", "bold"),
            f" · {stale} stale · {len(data.closing_this_week)} closing · owner: ",
            safe(self.owner or "everyone", "bold"),
            " (o)",
        )
        self.query_one("#agenda-info", Static).update(info)
        self.update_keys()

    def _followup(self, item: records.FollowUp, now: datetime) -> Content:
        who = item.contact or item.company or ""
        style = "$error" if item.overdue else "$warning"
        parts: list[Content | str | tuple[str, str]] = [
            (f"  {due_text(item.due_at, now):<17}", style),
            safe(item.title, "bold"),
        ]
        if who:
            parts += [("  · ", "$text-muted"), safe(who)]
        if item.owner:
            parts += [("  · ", "$text-muted"), safe(item.owner, "$text-muted")]
        return Content.assemble(*parts)

    def _lead(self, lead: records.Lead) -> Content:
        who = lead.company or lead.contact or ""
        close = f"close {day(lead.expected_close)}" if lead.expected_close else ""
        parts: list[Content | str | tuple[str, str]] = [
            (f"  {short_money(lead.value_minor, lead.currency):<10}", "$success"),
            safe(lead.title, "bold"),
            ("  · ", "$text-muted"),
            safe(lead.stage),
            f" {lead.days_in_stage}d",
        ]
        if who:
            parts += [("  · ", "$text-muted"), safe(who)]
        if close:
            parts += [("  · ", "$text-muted"), (close, "$error" if lead.close_passed else "")]
        return Content.assemble(*parts)

    @property
    def selected(self) -> records.FollowUp | records.Lead | None:
        option = self.query_one("#agenda-list", OptionList).highlighted_option
        return self.items.get(option.id or "") if option else None

    @on(OptionList.OptionHighlighted, "#agenda-list")
    def _highlighted(self) -> None:
        self.update_keys()

    @on(OptionList.OptionSelected, "#agenda-list")
    def _chosen(self) -> None:
        self.action_open()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("done", "snooze"):
            return True if isinstance(self.selected, records.FollowUp) else None
        if action == "open":
            return True if self.selected is not None else None
        return True

    def action_open(self) -> None:
        item = self.selected
        if isinstance(item, records.Lead):
            self.post_message(LeadRequested(item.id))
        elif isinstance(item, records.FollowUp):
            if item.contact_id:
                self.post_message(CustomerRequested("contact", item.contact_id))
            elif item.company_id:
                self.post_message(CustomerRequested("company", item.company_id))

    def _write(self, job, message) -> None:  # type: ignore[no-untyped-def]
        def done(result: records.FollowUp) -> None:
            self.notify(message(result), markup=False)
            self.reload()

        def failed(error: SmallCrmError) -> None:
            self.app.report_error(error)
            self.reload()

        self.run_db(job, done, group="write", exclusive=False, failed=failed)

    def action_done(self) -> None:
        item = self.selected
        if not isinstance(item, records.FollowUp):
            return
        db = self.app.db
        self._write(
            lambda: followups.done(db, item.id, expected_version=item.version),
            lambda result: f"Done: {result.title}",
        )

    def action_snooze(self) -> None:
        item = self.selected
        if not isinstance(item, records.FollowUp):
            return
        from smallcrm.tui.modals.form import explain_when
        from smallcrm.tui.modals.prompt import PromptModal

        db = self.app.db

        def answer(until: str | None) -> None:
            if not until:
                return
            now = self.app.clock()
            self._write(
                lambda: followups.snooze(
                    db, item.id, parse_when(until, now=now), expected_version=item.version
                ),
                lambda result: (
                    f"Snoozed until {due_text(result.due_at, self.app.clock())}: {result.title}"
                ),
            )

        question = Content.assemble("Snooze ", safe(item.title, "bold"), " until")
        self.app.push_screen(
            PromptModal(
                question,
                value="+1d",
                placeholder="+1d, tomorrow 9am, next monday, 2026-12-01",
                check=lambda text: explain_when(text, self.app.clock()),
                required=True,
            ),
            answer,
        )

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
                PickModal("Show the agenda of", choices, current=self.owner or ""), chosen
            )

        self.run_db(lambda: users.list_users(db), show, group="pick")

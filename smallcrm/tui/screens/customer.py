"""A customer (a contact or a company): details, open leads and follow-ups, and the timeline.

`l` logs an activity and `f` adds a follow-up in two keystrokes plus what you type; the
timeline shows the new entry at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from smallcrm import companies, contacts, followups, leads, records, timeline
from smallcrm.tui.messages import CustomerRequested, LeadRequested
from smallcrm.tui.screens.base import CrmScreen
from smallcrm.tui.show import due_text, safe, short_money
from smallcrm.tui.widgets.timeline import TimelineList

#: Timeline entries per page.
PAGE = 50


@dataclass(frozen=True)
class CustomerData:
    record: records.Contact | records.Company
    leads: list[records.Lead]
    followups: list[records.FollowUp]
    people: list[records.Contact]
    entries: list[records.TimelineEntry]
    complete: bool


class CustomerScreen(CrmScreen):
    """One contact's or company's page."""

    AUTO_FOCUS = "#timeline"
    TITLE_TEXT = "Customer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "log", "Log", tooltip="Log an activity (call, email, meeting…)", id="log"),
        Binding("f", "followup", "Follow-up", id="followup"),
        Binding("d", "done", "Done", id="done"),
        Binding("n", "new_lead", "New lead", id="new-lead"),
        Binding("e", "edit", "Edit", id="edit"),
        Binding("o", "open_company", "Company", id="open-company"),
        Binding("escape", "back", "Back", id="back"),
        Binding("r", "reload", "Reload", id="reload", show=False),
    ]

    def __init__(self, kind: str, record_id: int) -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id
        self.data: CustomerData | None = None
        self._loading_more = False

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.record_id}"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Static("", id="customer-title", classes="bar-title")
        with Horizontal(id="customer-body"):
            with VerticalScroll(id="customer-side"):
                yield Static("", id="customer-details")
                yield Static(Content.styled("Open leads", "bold"), classes="section-title")
                yield OptionList(id="customer-leads", classes="side-list")
                yield Static(Content.styled("Follow-ups", "bold"), classes="section-title")
                yield OptionList(id="customer-followups", classes="side-list")
                if self.kind == "company":
                    yield Static(Content.styled("People", "bold"), classes="section-title")
                    yield OptionList(id="customer-people", classes="side-list")
            with Vertical(id="customer-main"):
                yield Static(Content.styled("Timeline", "bold"), classes="section-title")
                yield TimelineList(id="timeline")
        yield Footer(compact=True)

    def main_widget(self) -> Widget | None:
        return self.query_one(TimelineList)

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(TimelineList).focus()

    # ------------------------------------------------------------------ loading

    def reload(self, *, quiet: bool = False) -> None:
        db, kind, ident, ref = self.app.db, self.kind, str(self.record_id), self.ref
        loaded = len(self.data.entries) if self.data else 0
        size = max(PAGE, loaded)

        def load() -> CustomerData:
            people: list[records.Contact] = []
            if kind == "contact":
                record: Any = contacts.get(db, ident)
                open_leads = leads.list_leads(db, contact=ident, limit=50)
                todo = followups.list_followups(db, contact=ident, limit=50)
            else:
                record = companies.get(db, ident)
                open_leads = leads.list_leads(db, company=ident, limit=50)
                todo = followups.list_followups(db, company=ident, limit=50)
                people = contacts.list_contacts(db, company=ident, limit=50)
            entries = timeline.timeline(db, ref, limit=size + 1)
            complete = len(entries) <= size
            return CustomerData(record, open_leads, todo, people, entries[:size], complete)

        self.run_db(load, self._show)

    def _show(self, data: CustomerData) -> None:
        self.data = data
        now = self.app.clock()
        record = data.record
        title = Content.assemble(
            safe(record.name, "bold"), (f"  {self.kind} {record.id}", "$text-muted")
        )
        self.query_one("#customer-title", Static).update(title)
        self.query_one("#customer-details", Static).update(self._details(record))
        self._fill(
            "#customer-leads",
            [Option(self._lead_line(lead), id=str(lead.id)) for lead in data.leads],
            "no open leads (n adds one)",
        )
        self._fill(
            "#customer-followups",
            [Option(self._followup_line(f, now), id=str(f.id)) for f in data.followups],
            "nothing to do (f adds a follow-up)",
        )
        if self.kind == "company":
            self._fill(
                "#customer-people",
                [Option(safe(p.name), id=str(p.id)) for p in data.people],
                "no contacts yet",
            )
        self.query_one(TimelineList).show(data.entries, now, complete=data.complete)
        self.update_keys()

    def _fill(self, selector: str, options: list[Option], empty: str) -> None:
        widget = self.query_one(selector, OptionList)
        old = [o.id for o in widget.options]
        new = [o.id for o in options]
        highlighted = widget.highlighted
        if not options:
            options = [Option(Content.styled(empty, "italic $text-muted"), disabled=True)]
        widget.set_options(options)
        if highlighted is not None and old == new and new:
            widget.highlighted = highlighted

    def _details(self, record: Any) -> Content:
        rows: list[tuple[str, str | None]]
        if isinstance(record, records.Contact):
            rows = [
                ("company", record.company),
                ("title", record.title),
                ("email", record.email),
                ("phone", record.phone),
                ("stage", record.stage),
                ("owner", record.owner),
                ("tags", ", ".join(record.tags) or None),
                ("note", record.note),
            ]
        else:
            place = ", ".join(p for p in (record.city, record.country) if p) or None
            rows = [
                ("domain", record.domain),
                ("industry", record.industry),
                ("place", place),
                ("phone", record.phone),
                ("relation", record.relationship),
                ("owner", record.owner),
                ("tags", ", ".join(record.tags) or None),
                ("note", record.note),
            ]
        parts: list[Content | str | tuple[str, str]] = []
        for name, value in rows:
            if not value:
                continue
            if parts:
                parts.append("\n")
            parts += [(f"{name:<9}", "$text-muted"), safe(value, width=60)]
        if getattr(record, "do_not_contact", False):
            parts += ["\n", ("do not contact", "bold $error")]
        return Content.assemble(*parts) if parts else Content.styled("no details", "$text-muted")

    def _lead_line(self, lead: records.Lead) -> Content:
        parts: list[Content | str | tuple[str, str]] = [
            safe(lead.title, "bold"),
            "\n",
            (short_money(lead.value_minor, lead.currency), "$success"),
            " · ",
            safe(lead.stage),
        ]
        if lead.stale:
            parts += [" · ", ("stale", "$warning")]
        if lead.close_passed:
            parts += [" · ", ("close passed", "$error")]
        return Content.assemble(*parts)

    def _followup_line(self, item: records.FollowUp, now) -> Content:  # type: ignore[no-untyped-def]
        style = (
            "bold $error" if item.overdue else "$warning" if item.due_at <= now else "$text-muted"
        )
        return Content.assemble(safe(item.title), "\n", (due_text(item.due_at, now), style))

    # ------------------------------------------------------------------ timeline paging

    @on(TimelineList.MoreWanted)
    def _more(self) -> None:
        data = self.data
        if data is None or data.complete or self._loading_more:
            return
        self._loading_more = True
        db, ref, offset = self.app.db, self.ref, len(data.entries)

        def load() -> list[records.TimelineEntry]:
            return timeline.timeline(db, ref, limit=PAGE + 1, offset=offset)

        def show(entries: list[records.TimelineEntry]) -> None:
            self._loading_more = False
            current = self.data
            if current is None or len(current.entries) != offset:
                return
            complete = len(entries) <= PAGE
            entries = entries[:PAGE]
            self.data = CustomerData(
                current.record, current.leads, current.followups, current.people,
                current.entries + entries, complete,
            )  # fmt: skip
            self.query_one(TimelineList).extend(entries, self.app.clock(), complete=complete)

        def failed(error: Exception) -> None:
            self._loading_more = False
            self.app.report_error(str(error))

        self.run_db(load, show, group="more", failed=failed)

    # ------------------------------------------------------------------ choosing things

    @property
    def chosen_lead(self) -> records.Lead | None:
        if self.data is None:
            return None
        focused = self.focused
        if isinstance(focused, OptionList) and focused.id == "customer-leads":
            option = focused.highlighted_option
            if option is not None and option.id:
                return next((x for x in self.data.leads if str(x.id) == option.id), None)
        entry = (
            self.query_one(TimelineList).selected
            if focused is self.query_one(TimelineList)
            else None
        )
        if entry is not None and entry.lead_id:
            return next((x for x in self.data.leads if x.id == entry.lead_id), None)
        return None

    @property
    def chosen_followup(self) -> records.FollowUp | None:
        if self.data is None:
            return None
        focused = self.focused
        if isinstance(focused, OptionList) and focused.id == "customer-followups":
            option = focused.highlighted_option
            if option is not None and option.id:
                return next((x for x in self.data.followups if str(x.id) == option.id), None)
        if isinstance(focused, TimelineList):
            entry = focused.selected
            if entry is not None and entry.followup_id:
                return next((x for x in self.data.followups if x.id == entry.followup_id), None)
        if len(self.data.followups) == 1:
            return self.data.followups[0]
        return None

    def on_descendant_focus(self, event: Any) -> None:
        widget = event.widget
        if isinstance(widget, OptionList) and widget.highlighted is None:
            enabled = [i for i, o in enumerate(widget.options) if not o.disabled]
            if enabled:
                widget.highlighted = enabled[0]
        self.update_keys()

    @on(OptionList.OptionHighlighted)
    def _highlighted(self) -> None:
        self.update_keys()

    @on(OptionList.OptionSelected, "#customer-leads")
    def _lead_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(LeadRequested(int(event.option.id)))

    @on(OptionList.OptionSelected, "#customer-people")
    def _person_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.post_message(CustomerRequested("contact", int(event.option.id)))

    @on(OptionList.OptionSelected, "#timeline")
    def _entry_chosen(self) -> None:
        entry = self.query_one(TimelineList).selected
        if entry is not None and entry.lead_id:
            self.post_message(LeadRequested(entry.lead_id))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "done":
            return True if self.chosen_followup is not None else None
        if action == "open_company":
            record = self.data.record if self.data else None
            return isinstance(record, records.Contact) and record.company_id is not None
        return True

    # ------------------------------------------------------------------ actions

    def action_log(self) -> None:
        if self.data is None:
            return
        from smallcrm.tui.modals.activity_form import ActivityForm

        lead = self.chosen_lead
        form = ActivityForm(
            self.ref,
            self.data.record.name,
            open_leads=self.data.leads,
            lead_id=lead.id if lead else None,
        )
        self.app.push_screen(form, self._logged)

    def _logged(self, activity: records.Activity | None) -> None:
        if activity is not None:
            self.notify(f"Logged {activity.kind}: {activity.summary}", markup=False)
            self.reload()
            self.query_one(TimelineList).focus()

    def action_followup(self) -> None:
        if self.data is None:
            return
        from smallcrm.tui.modals.followup_form import FollowUpForm

        lead = self.chosen_lead
        form = FollowUpForm(
            self.ref,
            self.data.record.name,
            open_leads=self.data.leads,
            lead_id=lead.id if lead else None,
        )
        self.app.push_screen(form, self._followup_added)

    def _followup_added(self, item: records.FollowUp | None) -> None:
        if item is not None:
            self.notify(f"Follow-up added: {item.title}", markup=False)
            self.reload()

    def action_done(self) -> None:
        item = self.chosen_followup
        if item is None:
            return
        db = self.app.db

        def done(result: records.FollowUp) -> None:
            self.notify(f"Done: {result.title}", markup=False)
            self.reload()

        self.run_db(
            lambda: followups.done(db, item.id, expected_version=item.version),
            done,
            group="write",
            exclusive=False,
            failed=self._write_failed,
        )

    def _write_failed(self, error: Exception) -> None:
        self.app.report_error(str(error))
        self.reload()

    def action_new_lead(self) -> None:
        if self.data is None:
            return
        from smallcrm.tui.modals.lead_form import LeadForm

        record = self.data.record
        if isinstance(record, records.Contact):
            company = (record.company_id, record.company) if record.company_id else None
            form = LeadForm(contact=(record.id, record.name), company=company)  # type: ignore[arg-type]
        else:
            form = LeadForm(company=(record.id, record.name))

        def saved(lead: records.Lead | None) -> None:
            if lead is not None:
                self.notify(f"Created lead {lead.id}: {lead.title}", markup=False)
                self.reload()

        self.app.push_screen(form, saved)

    def action_edit(self) -> None:
        if self.data is None:
            return
        record = self.data.record
        if isinstance(record, records.Contact):
            from smallcrm.tui.modals.contact_form import ContactForm

            self.app.push_screen(ContactForm(record), self._edited)
        else:
            from smallcrm.tui.modals.company_form import CompanyForm

            self.app.push_screen(CompanyForm(record), self._edited)

    def _edited(self, record: Any) -> None:
        if record is not None:
            self.notify(f"Saved {self.kind} {record.id}: {record.name}", markup=False)
            self.reload()

    def action_open_company(self) -> None:
        record = self.data.record if self.data else None
        if isinstance(record, records.Contact) and record.company_id:
            self.post_message(CustomerRequested("company", record.company_id))

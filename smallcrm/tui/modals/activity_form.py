"""Log an activity (a call, an email, a meeting…) with a contact or company."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from smallcrm import activities, records
from smallcrm.tui.modals.form import Field, FormModal, explain_when
from smallcrm.tui.show import plain
from smallcrm.values import ACTIVITY_KINDS, parse_when


class ActivityForm(FormModal[records.Activity]):
    TITLE_TEXT = "Log activity"

    def __init__(
        self,
        customer_ref: str,
        customer_name: str,
        *,
        open_leads: list[records.Lead] | None = None,
        lead_id: int | None = None,
        kind: str = "call",
    ) -> None:
        super().__init__(None)
        self.customer_ref = customer_ref
        self.customer_name = customer_name
        self.open_leads = open_leads or []
        self.lead_id = lead_id
        self.kind = kind

    def heading(self) -> Content:
        return Content.assemble(("Log activity with ", "bold"), (plain(self.customer_name), "bold"))

    def fields(self) -> list[Field]:
        fields = [
            Field("summary", "Summary", "what happened, in a line", words=("summary",)),
            Field(
                "kind",
                "Kind",
                "call",
                choices=tuple((k, k) for k in ACTIVITY_KINDS),
                words=("kind",),
                allow_blank=False,
            ),
            Field(
                "at",
                "When",
                "now (or e.g. yesterday 3pm, -2h)",
                check=self._when,
                explain=lambda text: explain_when(text, self.app.clock()),
                words=("date",),
            ),  # fmt: skip
            Field("duration", "Minutes", "e.g. 30", words=("duration", "minutes")),
            Field("body", "Notes", "details (optional)", words=("body",)),
        ]
        if self.open_leads:
            choices = tuple((plain(lead.title, width=50), str(lead.id)) for lead in self.open_leads)
            fields.append(Field("lead", "Lead", "none", choices=choices, words=("lead",)))
        return fields

    def initial(self) -> dict[str, str]:
        return {"kind": self.kind, "lead": str(self.lead_id) if self.lead_id else ""}

    def _when(self, text: str) -> datetime:
        return parse_when(text, now=self.app.clock())

    def save(self, values: dict[str, str]) -> records.Activity:
        return activities.log(
            self.app.db,
            values["kind"] or "call",
            self.customer_ref,
            values["summary"],
            at=self._when(values["at"]) if values["at"].strip() else self.app.clock(),
            lead=values.get("lead") or None,
            duration=values["duration"].strip() or None,
            body=values["body"] or None,
        )

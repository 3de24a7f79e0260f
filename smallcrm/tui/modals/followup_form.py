"""Add a follow-up: something to do for a customer by a due time."""

from __future__ import annotations

from datetime import datetime

from textual.content import Content

from smallcrm import followups, records, users
from smallcrm.tui.modals.form import Field, FormModal, explain_when
from smallcrm.tui.show import plain
from smallcrm.values import parse_when

DEFAULT_DUE = "tomorrow 9am"


class FollowUpForm(FormModal[records.FollowUp]):
    TITLE_TEXT = "Follow-up"

    def __init__(
        self,
        customer_ref: str,
        customer_name: str,
        *,
        open_leads: list[records.Lead] | None = None,
        lead_id: int | None = None,
    ) -> None:
        super().__init__(None)
        self.customer_ref = customer_ref
        self.customer_name = customer_name
        self.open_leads = open_leads or []
        self.lead_id = lead_id

    def heading(self) -> Content:
        return Content.assemble(("Follow up with ", "bold"), (plain(self.customer_name), "bold"))

    def fields(self) -> list[Field]:
        fields = [
            Field("title", "To do", "e.g. Send the revised proposal", words=("title",)),
            Field(
                "due",
                "Due",
                "tomorrow 9am, +2d, next monday, 2026-12-01 14:00",
                check=self._when,
                explain=lambda text: explain_when(text, self.app.clock()),
                words=("date", "due"),
            ),
            Field("owner", "Owner", "me", words=("user",)),
        ]
        if self.open_leads:
            choices = tuple((plain(lead.title, width=50), str(lead.id)) for lead in self.open_leads)
            fields.append(Field("lead", "Lead", "none", choices=choices, words=("lead",)))
        return fields

    def initial(self) -> dict[str, str]:
        return {"due": DEFAULT_DUE, "lead": str(self.lead_id) if self.lead_id else ""}

    def suggestions(self) -> dict[str, list[str]]:
        return {"owner": [u.name for u in users.list_users(self.app.db, limit=200)]}

    def _when(self, text: str) -> datetime:
        return parse_when(text, now=self.app.clock())

    def save(self, values: dict[str, str]) -> records.FollowUp:
        return followups.add(
            self.app.db,
            self.customer_ref,
            values["title"],
            due=self._when(values["due"]) if values["due"].strip() else "",
            lead=values.get("lead") or None,
            owner=values["owner"].strip() or None,
        )

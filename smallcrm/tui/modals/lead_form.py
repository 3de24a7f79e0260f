"""Add or edit a lead."""

from __future__ import annotations

from datetime import date

from textual.content import Content

from smallcrm import leads, pipeline, records, settings, users
from smallcrm.tui.modals.form import Field, FormModal, explain_date
from smallcrm.tui.show import plain
from smallcrm.values import currency_code, parse_amount, parse_date, parse_percent


class LeadForm(FormModal[records.Lead]):
    TITLE_TEXT = "Lead"

    def __init__(
        self,
        lead: records.Lead | None = None,
        *,
        stage: str | None = None,
        pipeline_name: str | None = None,
        contact: tuple[int, str] | None = None,
        company: tuple[int, str] | None = None,
    ) -> None:
        super().__init__(lead)
        self.stage = stage
        self.pipeline_name = pipeline_name or (lead.pipeline if lead else None)
        self.contact = contact  # (id, name) of the customer the lead is for, when known
        self.company = company
        self.stages: list[str] = []

    def heading(self) -> Content:
        if self.record is None:
            return Content.styled("New lead", "bold")
        return Content.assemble(("Edit lead ", "bold"), (plain(self.record.title), "bold"))

    def fields(self) -> list[Field]:
        return [
            Field("title", "Title", "Annual licence", words=("lead name", "title")),
            Field("contact", "Contact", "name, email or id", words=("contact",)),
            Field("company", "Company", "name or id", words=("company",)),
            Field(
                "value",
                "Value",
                "5,000.50",
                check=lambda v: parse_amount(v, settings.default_currency()),
                words=("amount",),
            ),
            Field(
                "currency",
                "Currency",
                settings.default_currency(),
                check=currency_code,
                words=("currency",),
            ),  # fmt: skip
            Field("stage", "Stage", "stage name", words=("stage",)),
            Field(
                "close",
                "Close by",
                "e.g. 2026-12-01, +30d, friday",
                check=self._day,
                explain=lambda text: explain_date(text, self.app.clock()),
                words=("date",),
            ),
            Field(
                "probability",
                "Probability",
                "% (default: the stage's)",
                check=parse_percent,
                words=("percent", "probability"),
            ),  # fmt: skip
            Field("owner", "Owner", "me", words=("user",)),
        ]

    def initial(self) -> dict[str, str]:
        lead: records.Lead | None = self.record
        if lead is None:
            return {
                "contact": self.contact[1] if self.contact else "",
                "company": self.company[1] if self.company else "",
                "stage": self.stage or "",
            }
        return {
            "title": lead.title,
            "contact": lead.contact or "",
            "company": lead.company or "",
            "value": f"{lead.value}" if lead.value_minor else "",
            "currency": lead.currency,
            "stage": lead.stage,
            "close": lead.expected_close.isoformat() if lead.expected_close else "",
            "probability": str(lead.probability),
            "owner": lead.owner or "",
        }

    def suggestions(self) -> dict[str, list[str]]:
        db = self.app.db
        stages = [s.name for s in pipeline.list_stages(db, self.pipeline_name)]
        return {"owner": [u.name for u in users.list_users(db, limit=200)], "stage": stages}

    def _ref(self, value: str, known: tuple[int, str] | None, current: tuple[int | None, str]):
        """A typed name, or the id of the record the form was opened with (names can repeat)."""
        text = value.strip()
        if not text:
            return None
        if known and text == known[1]:
            return str(known[0])
        if current[0] is not None and text == current[1]:
            return str(current[0])
        return text

    def _day(self, text: str) -> date:
        return parse_date(text, now=self.app.clock())

    def save(self, values: dict[str, str]) -> records.Lead:
        db = self.app.db
        lead: records.Lead | None = self.record
        contact = self._ref(
            values["contact"],
            self.contact,
            (lead.contact_id, lead.contact or "") if lead else (None, ""),
        )
        company = self._ref(
            values["company"],
            self.company,
            (lead.company_id, lead.company or "") if lead else (None, ""),
        )
        if lead is None:
            return leads.add(
                db,
                values["title"],
                contact=contact,
                company=company,
                value=values["value"] or None,
                currency=values["currency"] or None,
                stage=values["stage"] or None,
                close=self._day(values["close"]) if values["close"].strip() else None,
                owner=values["owner"].strip() or None,
                probability=values["probability"] or None,
                pipeline_name=self.pipeline_name,
            )
        changed = self.changed(values)
        changes: dict[str, object] = {}
        for key in ("title", "value", "currency", "probability", "owner"):
            if key in changed:
                changes[key] = values[key]
        if "close" in changed:
            changes["close"] = self._day(values["close"]) if values["close"].strip() else None
        if "contact" in changed:
            changes["contact"] = contact
        if "company" in changed:
            changes["company"] = company
        version = lead.version
        if changes:
            lead = leads.edit(db, str(lead.id), expected_version=version, **changes)
            version = lead.version
        if "stage" in changed and values["stage"].strip():
            lead = leads.move(db, str(lead.id), values["stage"], expected_version=version)
        return lead

    def fetch(self) -> records.Lead:
        return leads.get(self.app.db, str(self.record.id))

"""Add or edit a company."""

from __future__ import annotations

from textual.content import Content

from smallcrm import companies, records, users
from smallcrm.tui.modals.form import Field, FormModal, split_tags
from smallcrm.tui.show import plain
from smallcrm.values import RELATIONSHIP_TYPES


class CompanyForm(FormModal[records.Company]):
    TITLE_TEXT = "Company"

    def heading(self) -> Content:
        if self.record is None:
            return Content.styled("New company", "bold")
        return Content.assemble(("Edit company ", "bold"), (plain(self.record.name), "bold"))

    def fields(self) -> list[Field]:
        return [
            Field("name", "Name", "Northwind Traders", words=("name", "already exists")),
            Field("domain", "Domain", "northwind.example", words=("domain",)),
            Field("industry", "Industry", "e.g. Logistics"),
            Field("city", "City", ""),
            Field("country", "Country", "e.g. DE"),
            Field(
                "relationship",
                "Relationship",
                "how you keep in touch",
                choices=tuple((r, r) for r in RELATIONSHIP_TYPES),
                words=("relationship",),
            ),
            Field("phone", "Phone", ""),
            Field("owner", "Owner", "me", words=("user",)),
            Field("tags", "Tags", "comma separated", words=("tag",)),
            Field("note", "Note", "", words=("note",)),
        ]

    def initial(self) -> dict[str, str]:
        company: records.Company | None = self.record
        if company is None:
            return {}
        return {
            "name": company.name,
            "domain": company.domain or "",
            "industry": company.industry or "",
            "city": company.city or "",
            "country": company.country or "",
            "relationship": company.relationship or "",
            "phone": company.phone or "",
            "owner": company.owner or "",
            "tags": ", ".join(company.tags),
            "note": company.note or "",
        }

    def suggestions(self) -> dict[str, list[str]]:
        return {"owner": [user.name for user in users.list_users(self.app.db, limit=200)]}

    def save(self, values: dict[str, str]) -> records.Company:
        db = self.app.db
        if self.record is None:
            return companies.add(
                db,
                values["name"],
                domain=values["domain"] or None,
                industry=values["industry"] or None,
                city=values["city"] or None,
                country=values["country"] or None,
                relationship=values["relationship"] or None,
                phone=values["phone"] or None,
                owner=values["owner"].strip() or None,
                tags_=split_tags(values["tags"]),
                note=values["note"] or None,
            )
        changes: dict[str, object] = dict(self.changed(values))
        if "tags" in changes:
            changes["tags"] = split_tags(values["tags"])
        if not changes:
            return self.record
        return companies.edit(
            db, str(self.record.id), expected_version=self.record.version, **changes
        )

    def fetch(self) -> records.Company:
        return companies.get(self.app.db, str(self.record.id))

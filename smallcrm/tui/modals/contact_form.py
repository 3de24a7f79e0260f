"""Add or edit a contact."""

from __future__ import annotations

from smallcrm import companies, contacts, records, settings, users
from smallcrm.tui.modals.form import Field, FormModal, split_tags
from smallcrm.tui.show import plain
from smallcrm.values import LIFECYCLE_STAGES, normalize_phone, validate_email


class ContactForm(FormModal[records.Contact]):
    TITLE_TEXT = "Contact"

    def __init__(self, contact: records.Contact | None = None, *, company: str = "") -> None:
        super().__init__(contact)
        self.company = company

    def heading(self):  # type: ignore[no-untyped-def]
        from textual.content import Content

        if self.record is None:
            return Content.styled("New contact", "bold")
        return Content.assemble(("Edit contact ", "bold"), (plain(self.record.name), "bold"))

    def fields(self) -> list[Field]:
        return [
            Field("name", "Name", "Ada Lovelace", words=("name",)),
            Field("email", "Email", "ada@example.com", check=validate_email, words=("email",)),
            Field(
                "phone",
                "Phone",
                "+44 20 7946 0000",
                check=lambda v: normalize_phone(v, settings.phone_region()),
                words=("phone",),
            ),
            Field("company", "Company", "a company (created if new)", words=("company",)),
            Field("title", "Job title", "e.g. CTO"),
            Field(
                "stage",
                "Stage",
                "lifecycle stage",
                choices=tuple((s, s) for s in LIFECYCLE_STAGES),
                words=("lifecycle", "stage"),
            ),
            Field("owner", "Owner", "me", words=("user",)),
            Field("tags", "Tags", "comma separated", words=("tag",)),
            Field("note", "Note", "", words=("note",)),
        ]

    def initial(self) -> dict[str, str]:
        contact: records.Contact | None = self.record
        if contact is None:
            return {"company": self.company}
        return {
            "name": contact.name,
            "email": contact.email or "",
            "phone": contact.phone or "",
            "company": contact.company or "",
            "title": contact.title or "",
            "stage": contact.stage or "",
            "owner": contact.owner or "",
            "tags": ", ".join(contact.tags),
            "note": contact.note or "",
        }

    def suggestions(self) -> dict[str, list[str]]:
        db = self.app.db
        names = [user.name for user in users.list_users(db, limit=200)]
        firms = [c.name for c in companies.list_companies(db, limit=500)]
        return {"owner": names, "company": firms}

    def save(self, values: dict[str, str]) -> records.Contact:
        db = self.app.db
        if self.record is None:
            return contacts.add(
                db,
                values["name"],
                email=values["email"] or None,
                phone=values["phone"] or None,
                company=values["company"].strip() or None,
                title=values["title"] or None,
                stage=values["stage"] or None,
                owner=values["owner"].strip() or None,
                tags_=split_tags(values["tags"]),
                note=values["note"] or None,
            )
        changes: dict[str, object] = dict(self.changed(values))
        if "tags" in changes:
            changes["tags"] = split_tags(values["tags"])
        if not changes:
            return self.record
        return contacts.edit(
            db, str(self.record.id), expected_version=self.record.version, **changes
        )

    def fetch(self) -> records.Contact:
        return contacts.get(self.app.db, str(self.record.id))

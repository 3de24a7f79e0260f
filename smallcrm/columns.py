"""Which spreadsheet column means which field: our own names and the ones other tools export.

Header names are compared by :func:`header_key`: case-insensitive, and only letters and digits
count, so ``E-mail Address``, ``e_mail address`` and ``EMAIL ADDRESS`` are the same column.
The tables below are the alias table the README documents (README.md, "Import and export").

A column can name a field (``email``), a part of a contact's name (``first_name``,
``middle_name``, ``last_name``, joined into ``name`` when there is no name column), or
:data:`IGNORE`: a column smallcrm itself exports but never imports (ids, timestamps). Any other
column is unknown: its values are kept in the record's ``extra`` and exported back.
"""

from __future__ import annotations

import unicodedata

IGNORE = "-"
NAME_PARTS = ("first_name", "middle_name", "last_name")

#: The fields an import of each kind fills, in the order export writes them.
FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": (
        "name", "email", "phone", "company", "title", "stage", "owner", "tags", "note",
        "consent", "do_not_contact",
    ),
    "companies": (
        "name", "domain", "industry", "city", "country", "territory", "relationship", "phone",
        "owner", "tags", "note",
    ),
    "leads": (
        "title", "contact", "contact_email", "contact_id", "company", "company_id", "stage",
        "pipeline", "status", "value", "currency", "probability", "expected_close", "owner",
        "lost_reason", "closed_at", "tags",
    ),
    "activities": (
        "kind", "summary", "body", "occurred_at", "duration_min", "direction", "contact",
        "contact_email", "contact_id", "company", "company_id", "lead", "lead_id", "user",
    ),
    "followups": (
        "title", "due_at", "status", "contact", "contact_email", "contact_id", "company",
        "company_id", "lead", "lead_id", "owner", "done_at",
    ),
}  # fmt: skip

#: Columns smallcrm exports that describe the database rather than the record.
_IGNORED: dict[str, tuple[str, ...]] = {
    "contacts": ("id", "company_id", "owner_id", "version", "created_at", "updated_at"),
    "companies": ("id", "owner_id", "version", "created_at", "updated_at"),
    "leads": (
        "id", "pipeline_id", "stage_id", "value_minor", "owner_id", "stage_entered_at",
        "days_in_stage", "stale", "close_passed", "version", "created_at", "updated_at",
    ),
    "activities": ("id", "user_id", "created_at"),
    "followups": (
        "id", "owner_id", "owner_email", "overdue", "reminded_at", "version", "created_at",
        "updated_at",
    ),
}  # fmt: skip

# Aliases per field, as the tools write them. Google Contacts (both CSV formats), Outlook,
# Apple Contacts (via its CSV exporters), HubSpot, Pipedrive ("Person - Email") and Salesforce.
_PERSON = {
    "name": (
        "full name", "display name", "contact name", "contact", "person", "person name",
        "person - name", "contact full name",
    ),
    "first_name": (
        "first name", "firstname", "given name", "first", "forename", "person - first name",
    ),
    "middle_name": ("middle name", "middlename", "additional name", "middle"),
    "last_name": (
        "last name", "lastname", "family name", "surname", "last", "person - last name",
    ),
    "email": (
        "e-mail", "email address", "e-mail address", "e-mail 1 - value", "email 1 - value",
        "e-mail 1", "email 1", "primary email", "work email", "business email", "mail",
        "person - email", "person - email - work", "email (work)", "e-mail 2 address",
        "e-mail 2 - value", "e-mail 3 address", "e-mail 3 - value", "home email",
        "personal email", "other email", "person - email - home", "person - email - other",
    ),
    "phone": (
        "phone number", "telephone", "tel", "mobile", "mobile phone", "mobile phone number",
        "mobile number", "cell", "cell phone", "business phone", "work phone",
        "phone 1 - value", "primary phone", "person - phone", "person - phone - work",
        "person - phone - mobile", "phone (work)", "phone 2 - value", "phone 3 - value",
        "home phone", "business phone 2", "home phone 2", "other phone", "company main phone",
        "person - phone - home", "person - phone - other",
    ),
    "company": (
        "company name", "organization", "organisation", "organization name",
        "organisation name", "organization 1 - name", "account", "account name", "employer",
        "person - organization", "organization - name", "associated company",
    ),
    "title": (
        "job title", "jobtitle", "position", "role", "organization title",
        "organization 1 - title", "person - job title", "job", "occupation",
    ),
    "stage": ("lifecycle stage", "lifecycle", "lifecyclestage", "contact stage"),
    "owner": ("contact owner", "account owner", "person - owner", "owner name", "assigned to"),
    "tags": (
        "tag", "labels", "label", "categories", "category", "group membership", "groups",
        "person - labels", "person - label",
    ),
    "note": (
        "notes", "description", "comment", "comments", "remarks", "person - notes",
        "about",
    ),
    "consent": ("marketing consent", "opted in", "opt in", "email consent", "gdpr consent"),
    "do_not_contact": (
        "do not contact", "dnc", "email opt out", "do not email", "unsubscribed",
        "donotcontact",
    ),
}  # fmt: skip

_COMPANY = {
    "name": (
        "company", "company name", "organization", "organisation", "organization name",
        "organisation name", "account", "account name", "organization - name", "business name",
    ),
    "domain": (
        "website", "web site", "url", "web", "homepage", "home page", "company domain name",
        "domain name", "web address", "organization - website", "company website",
    ),
    "industry": ("sector", "vertical", "organization - industry"),
    "city": ("town", "billing city", "shipping city", "organization - city", "locality"),
    "country": (
        "country/region", "billing country", "shipping country", "organization - country",
        "country name",
    ),
    "territory": ("region", "sales territory", "sales region"),
    "relationship": ("relationship type", "relationship level"),
    "phone": (
        "phone number", "telephone", "tel", "company phone", "main phone", "business phone",
        "organization - phone",
    ),
    "owner": ("company owner", "account owner", "organization - owner", "assigned to"),
    "tags": ("tag", "labels", "label", "categories", "category", "organization - labels"),
    "note": ("notes", "description", "comment", "comments", "about"),
}  # fmt: skip

_REFS = {
    "contact": (
        "contact name", "person", "person - name", "contact person", "deal - contact person",
        "primary contact", "customer",
    ),
    "contact_email": (
        "email", "e-mail", "email address", "e-mail address", "contact e-mail",
        "person - email", "primary contact email",
    ),
    "company": (
        "company name", "organization", "organisation", "organization name", "account",
        "account name", "deal - organization", "organization - name",
    ),
    "lead": (
        "deal", "deal name", "deal - title", "opportunity", "opportunity name", "lead title",
    ),
}  # fmt: skip

_LEAD = {
    **{k: v for k, v in _REFS.items() if k != "lead"},
    "title": (
        "name", "lead", "deal", "deal name", "deal title", "deal - title", "opportunity",
        "opportunity name", "subject", "lead title", "lead name",
    ),
    "value": (
        "amount", "deal value", "deal - value", "opportunity amount", "deal amount", "worth",
    ),
    "currency": ("deal - currency", "currency code", "deal currency"),
    "stage": ("deal stage", "deal - stage", "pipeline stage", "opportunity stage"),
    "pipeline": ("deal - pipeline", "pipeline name"),
    "status": ("deal - status", "deal status", "state"),
    "expected_close": (
        "close", "close date", "expected close", "expected close date", "closing date",
        "deal - expected close date", "expected closing date",
    ),
    "probability": (
        "probability (%)", "probability %", "deal - probability", "win probability",
        "deal probability",
    ),
    "owner": ("deal owner", "deal - owner", "opportunity owner", "assigned to"),
    "lost_reason": ("lost reason", "deal - lost reason", "reason lost", "reason"),
    "closed_at": ("closed", "closed on", "won time", "deal - won time", "close time"),
    "tags": ("tag", "labels", "label", "categories", "deal - labels"),
}  # fmt: skip

_ACTIVITY = {
    **_REFS,
    "kind": ("type", "activity type", "activity", "channel", "activity - type"),
    "summary": ("subject", "title", "activity - subject", "activity subject"),
    "body": ("notes", "note", "description", "details", "comments", "activity - note"),
    "occurred_at": (
        "date", "when", "at", "time", "occurred", "occurred at", "date time", "datetime",
        "activity date", "activity - due date", "timestamp", "created",
    ),
    "duration_min": (
        "duration", "duration (min)", "duration min", "duration minutes", "minutes",
        "activity - duration",
    ),
    "direction": ("inbound/outbound", "call direction"),
    "user": ("owner", "by", "logged by", "assigned to", "activity - assigned to user", "rep"),
}  # fmt: skip

_FOLLOWUP = {
    **_REFS,
    "title": ("task", "subject", "summary", "todo", "to do", "follow-up", "followup"),
    "due_at": (
        "due", "due date", "due at", "when", "date", "deadline", "reminder", "due time",
    ),
    "status": ("state", "task status"),
    "owner": ("assigned to", "assignee", "user", "rep"),
    "done_at": ("done", "completed", "completed at", "done on", "completed date"),
}  # fmt: skip

_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": _PERSON,
    "companies": _COMPANY,
    "leads": _LEAD,
    "activities": _ACTIVITY,
    "followups": _FOLLOWUP,
}
KINDS = tuple(FIELDS)


def header_key(header: str) -> str:
    """A header as compared: case folded, accents kept, only letters and digits."""
    text = unicodedata.normalize("NFKC", header).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _table(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for name in _IGNORED[kind]:
        table[header_key(name)] = IGNORE
    for field, aliases in _ALIASES[kind].items():
        for alias in aliases:
            table.setdefault(header_key(alias), field)
    for field in FIELDS[kind]:  # a field's own name always wins
        table[header_key(field)] = field
    if kind == "contacts":
        for part in NAME_PARTS:
            table[header_key(part)] = part
    return table


_TABLES: dict[str, dict[str, str]] = {}


def field_for(kind: str, header: str) -> str | None:
    """The field a header names for this kind, IGNORE, or None for an unknown column."""
    table = _TABLES.get(kind)
    if table is None:
        table = _TABLES[kind] = _table(kind)
    return table.get(header_key(header))


def mappable(kind: str) -> tuple[str, ...]:
    """What `--map COLUMN=FIELD` may name: the fields, name parts, and `extra`/`-` (ignore)."""
    parts = NAME_PARTS if kind == "contacts" else ()
    return (*FIELDS[kind], *parts, "extra", IGNORE)


def alias_table(kind: str) -> list[tuple[str, tuple[str, ...]]]:
    """(field, aliases) rows for the documentation."""
    rows = []
    aliases = _ALIASES[kind]
    names = [*FIELDS[kind], *(NAME_PARTS if kind == "contacts" else ())]
    for field in names:
        rows.append((field, aliases.get(field, ())))
    return rows

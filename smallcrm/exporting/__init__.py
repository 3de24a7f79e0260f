"""Export records as CSV (re-importable), vCard (contacts) and iCalendar (follow-ups).

CSV carries the list commands' field names, unknown import columns (`extra`) as columns of
their own, and neutralises cells a spreadsheet would run as a formula
(:func:`smallcrm.importing.cells.neutralise`), which import undoes. Contacts, the large case,
are written straight from one streaming cursor (:func:`smallcrm.store.bulk.contact_rows`: tags
aggregated and cells neutralised by the database; on SQLite the CLI first tries
:mod:`smallcrm.exporting.fast`, the same export without the database stack); the
other kinds, and the JSON, vCard and iCalendar formats, from :func:`records`, the list
services' records with the same filters.
"""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any

from smallcrm import records as rec
from smallcrm.errors import Invalid
from smallcrm.importing.cells import FORMULA_STARTS, neutralise

FORMATS = ("csv", "json", "jsonl", "vcard", "ics")
KINDS = ("contacts", "companies", "leads", "activities", "followups")
PAGE = 2000

_TYPES: dict[str, type] = {
    "contacts": rec.Contact,
    "companies": rec.Company,
    "leads": rec.Lead,
    "activities": rec.Activity,
    "followups": rec.FollowUp,
}
#: Kinds whose CSV also names the linked contact by email, the reference import trusts most.
_WITH_CONTACT_EMAIL = ("leads", "activities", "followups")


def check_format(kind: str, fmt: str) -> None:
    if kind not in KINDS:
        raise Invalid(f"cannot export '{kind}'; choose one of: {', '.join(KINDS)}")
    if fmt not in FORMATS:
        raise Invalid(f"unknown format '{fmt}'; choose one of: {', '.join(FORMATS)}")
    if fmt == "vcard" and kind != "contacts":
        raise Invalid("--format vcard exports contacts only")
    if fmt == "ics" and kind != "followups":
        raise Invalid("--format ics exports follow-ups only")


def _given(filters: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in filters.items() if v not in (None, "", False)}


def records(
    db: Any,
    kind: str,
    *,
    include_do_not_contact: bool = False,
    limit: int | None = None,
    **filters: Any,
) -> Iterator[Any]:
    """The records of `kind` matching the list filters (contacts in id order, a page per
    short read transaction; do-not-contact ones only when asked)."""
    filters = _given(filters)
    if kind == "contacts":
        if filters:
            from smallcrm import contacts

            found: Iterable[Any] = contacts.list_contacts(db, order="id", **filters)
        else:
            found = _contact_pages(db)
        if not include_do_not_contact:
            found = (c for c in found if not c.do_not_contact)
    elif kind == "companies":
        from smallcrm import companies

        found = companies.list_companies(db, **filters)
    elif kind == "leads":
        from smallcrm import leads

        filters.setdefault("status", "all")
        found = leads.list_leads(db, **filters)
    elif kind == "activities":
        from smallcrm import activities

        found = activities.list_activities(db, **filters)
    elif kind == "followups":
        from smallcrm import followups

        filters.setdefault("status", "all")
        found = followups.list_followups(db, **filters)
    else:
        raise Invalid(f"cannot export '{kind}'; choose one of: {', '.join(KINDS)}")
    for count, record in enumerate(found):
        if limit is not None and count >= limit:
            return
        yield record


def _contact_pages(db: Any) -> Iterator[rec.Contact]:
    """Every contact by id, a page per short read transaction (memory stays flat)."""
    from sqlmodel import select

    from smallcrm import contacts, tags
    from smallcrm.store.tables import Company, Contact, User

    query = (
        select(Contact, Company.name, User.name)
        .outerjoin(Company, Company.id == Contact.company_id)
        .outerjoin(User, User.id == Contact.owner_id)
        .order_by(Contact.id)
        .limit(PAGE)
    )
    last = 0
    while True:
        with db.read() as session:
            rows = session.exec(query.where(Contact.id > last)).all()
            if not rows:
                return
            tag_map = tags.tags_of(session, "contact", [r[0].id for r in rows])
            page = [contacts.to_record(c, co, ow, tag_map.get(c.id, [])) for c, co, ow in rows]
        yield from page
        last = page[-1].id


def extra_keys(db_or_session: Any, kind: str) -> list[str]:
    """Every key any record of `kind` keeps in `extra`, in first-seen order."""
    from sqlmodel import col, select

    from smallcrm.store.tables import Company, Contact, Lead

    table = {"contacts": Contact, "companies": Company, "leads": Lead}.get(kind)
    if table is None:
        return []
    keys: dict[str, None] = {}
    last = 0
    while True:
        query = (
            select(table.id, table.extra)
            .where(col(table.extra).is_not(None), table.id > last)
            .order_by(table.id)
            .limit(PAGE * 5)
        )
        if hasattr(db_or_session, "read"):
            with db_or_session.read() as session:
                rows = session.exec(query).all()
        else:
            rows = db_or_session.exec(query).all()
        if not rows:
            return list(keys)
        for _, extra in rows:
            if extra:
                keys.update(dict.fromkeys(str(k) for k in extra))
        last = rows[-1][0]


# --------------------------------------------------------------------------------------------
# CSV


def field_names(kind: str) -> list[str]:
    names = [f.name for f in dataclasses.fields(_TYPES[kind]) if f.name != "extra"]
    if kind in _WITH_CONTACT_EMAIL and "contact" in names:
        names.insert(names.index("contact") + 1, "contact_email")
    return names


_UTC_NAMES = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Universal", "Etc/Universal", "Zulu", "Etc/Zulu"}


class CellFormat:
    """Values as CSV cells, as the list commands' CSV writes them (times in local time)."""

    def __init__(self) -> None:
        from smallcrm.values import local_zone

        self.zone = local_zone()
        self.utc = self.zone is UTC or getattr(self.zone, "key", None) in _UTC_NAMES
        self.times: dict[Any, str] = {}

    def time(self, value: Any) -> str:
        """A stored time (a datetime, or SQLite's text) in local time, ISO 8601 with offset.
        Remembered: rows imported together share their timestamps."""
        shown = self.times.get(value)
        if shown is None:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else value
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            shown = moment.astimezone(self.zone).isoformat()
            if len(self.times) > 10_000:
                self.times.clear()
            self.times[value] = shown
        return shown

    def __call__(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, datetime):
            return self.time(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return str(value)


def write_csv(
    db: Any,
    kind: str,
    out: IO[str],
    *,
    raw: bool = False,
    include_do_not_contact: bool = False,
    limit: int | None = None,
    **filters: Any,
) -> int:
    """Write the records of `kind` matching the list filters as CSV; returns how many."""
    if kind == "contacts":
        return _contacts_csv(db, out, raw, include_do_not_contact, limit, _given(filters))
    items = records(db, kind, limit=limit, **filters)
    return _records_csv(items, out, kind, extra_keys(db, kind), raw, contact_emails(db))


def _header(writer: Any, names: Sequence[str], raw: bool) -> None:
    writer.writerow(names if raw else [neutralise(n) for n in names])


def _contacts_csv(
    db: Any,
    out: IO[str],
    raw: bool,
    include_do_not_contact: bool,
    limit: int | None,
    filters: dict[str, Any],
) -> int:
    from smallcrm.store import bulk

    names = field_names("contacts")
    writer = csv.writer(out, lineterminator="\r\n")
    cell = CellFormat()
    with db.read() as session:  # one snapshot: the extra columns and the rows agree
        chosen = _contact_filters(session, filters)
        extra = [k for k in extra_keys(session, "contacts") if k not in names]
        _header(writer, [*names, *extra], raw)
        if chosen is None:
            return 0
        chunks = bulk.contact_rows(
            session,
            include_do_not_contact=include_do_not_contact,
            neutralise=() if raw else FORMULA_STARTS,
            limit=limit,
            utc_text=cell.utc,
            extra=bool(extra),
            **chosen,
        )
        return write_contact_rows(writer, chunks, bulk.CONTACT_COLUMNS, extra, cell, raw)


def write_contact_rows(
    writer: Any,
    chunks: Iterable[Sequence[Sequence[Any]]],
    columns: Sequence[str],
    extra: Sequence[str],
    cell: CellFormat,
    raw: bool,
) -> int:
    """Write chunks of contact rows (`columns`: the record's fields up to `updated_at`, then
    `extra` as stored) as CSV rows: the times as this CSV writes them, then a cell per `extra`
    key (neutralised unless `raw`). Returns how many rows were written."""
    count = 0
    time = cell.time
    at = columns.index
    created, updated, data = at("created_at"), at("updated_at"), at("extra")
    for chunk in chunks:
        count += len(chunk)
        if not extra:
            if cell.utc and isinstance(chunk[0][created], str):
                writer.writerows(chunk)  # already as written: nothing to do per row
            else:
                writer.writerows(
                    [(*row[:created], time(row[created]), time(row[updated])) for row in chunk]
                )
            continue
        rows = []
        for row in chunk:
            values = row[data]
            values = (json.loads(values) if isinstance(values, str) else values) or {}
            more = [cell(values.get(k)) for k in extra]
            if not raw:
                more = [neutralise(v) for v in more]
            rows.append((*row[:created], time(row[created]), time(row[updated]), *more))
        writer.writerows(rows)
    return count


def _contact_filters(session: Any, filters: dict[str, Any]) -> dict[str, Any] | None:
    """`contact list`'s filters as ids and values for the export query; None: none match."""
    from smallcrm import contacts, refs, users

    chosen: dict[str, Any] = {}
    unknown = set(filters) - {"search", "tag", "company", "stage", "owner"}
    if unknown:
        raise Invalid(f"contacts cannot be filtered by {', '.join(sorted(unknown))}")
    if filters.get("search"):
        chosen["search"] = filters["search"]
    if filters.get("tag"):
        chosen["tag"] = filters["tag"].strip().lower()
    if filters.get("company"):
        chosen["company_id"] = refs.company(session, filters["company"]).id
    if filters.get("stage"):
        chosen["stage"] = contacts._stage(filters["stage"])
    if filters.get("owner"):
        owner = users.find(session, filters["owner"])
        if owner is None:
            return None
        chosen["owner_id"] = owner.id
    return chosen


def _records_csv(
    items: Iterable[Any],
    out: IO[str],
    kind: str,
    extra: Sequence[str],
    raw: bool,
    contact_emails: Any,
) -> int:
    names = field_names(kind)
    extra = [k for k in extra if k not in names]
    writer = csv.writer(out, lineterminator="\r\n")
    _header(writer, [*names, *extra], raw)
    cell = CellFormat()
    count = 0
    batch: list[Any] = []

    def flush() -> None:
        emails: dict[int, str] = {}
        if kind in _WITH_CONTACT_EMAIL:
            ids = {r.contact_id for r in batch if r.contact_id}
            emails = contact_emails(ids) if ids else {}
        rows = []
        for record in batch:
            values = [
                emails.get(record.contact_id, "") if name == "contact_email" else
                cell(getattr(record, name))
                for name in names
            ]  # fmt: skip
            if extra:
                data = getattr(record, "extra", None) or {}
                values.extend(cell(data.get(k)) for k in extra)
            if not raw:
                values = [neutralise(v) for v in values]
            rows.append(values)
        writer.writerows(rows)
        batch.clear()

    for record in items:
        batch.append(record)
        count += 1
        if len(batch) >= PAGE:
            flush()
    if batch:
        flush()
    return count


def contact_emails(db: Any) -> Any:
    """A function giving {contact id: email} for a set of ids (for leads, activities, …)."""
    from sqlmodel import col, select

    from smallcrm.store.tables import Contact

    def lookup(ids: Iterable[int]) -> dict[int, str]:
        wanted = sorted(ids)
        found: dict[int, str] = {}
        with db.read() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = session.exec(
                    select(Contact.id, Contact.email).where(col(Contact.id).in_(chunk))
                ).all()
                found.update({i: e for i, e in rows if e})
        return found

    return lookup


# --------------------------------------------------------------------------------------------
# vCard and iCalendar


def _name_parts(name: str) -> tuple[str, str]:
    """(given, family) for the N property: the last word is the family name."""
    words = name.split()
    if len(words) < 2:
        return name, ""
    return " ".join(words[:-1]), words[-1]


def vcard(contact: rec.Contact) -> str:
    """One contact as a vCard 3.0 (the version Google, Apple and khard all read)."""
    import vobject

    card = vobject.vCard()
    card.add("fn").value = contact.name
    given, family = _name_parts(contact.name)
    card.add("n").value = vobject.vcard.Name(family=family, given=given)
    if contact.email:
        email = card.add("email")
        email.value = contact.email
        email.type_param = "INTERNET"
    if contact.phone:
        tel = card.add("tel")
        tel.value = contact.phone
        tel.type_param = "VOICE"
    if contact.company:
        card.add("org").value = [contact.company]
    if contact.title:
        card.add("title").value = contact.title
    if contact.tags:
        card.add("categories").value = list(contact.tags)
    if contact.note:
        card.add("note").value = contact.note
    card.add("uid").value = f"smallcrm-contact-{contact.id}"
    card.add("rev").value = contact.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return card.serialize()


def write_vcards(items: Iterable[rec.Contact], out: IO[str]) -> int:
    count = 0
    for contact in items:
        out.write(vcard(contact).replace("\r\n", "\n").replace("\n", "\r\n"))
        count += 1
    return count


def write_ics(items: Iterable[rec.FollowUp], out: IO[str]) -> int:
    """Follow-ups as events of an iCalendar file (calendars show events; due = start)."""
    from icalendar import Calendar, Event

    calendar = Calendar()
    calendar.add("prodid", "-//smallcrm//follow-ups//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "smallcrm follow-ups")
    now = datetime.now(UTC)
    count = 0
    for item in items:
        event = Event()
        event.add("uid", f"smallcrm-followup-{item.id}")
        event.add("dtstamp", now)
        event.add("dtstart", item.due_at.astimezone(UTC))
        event.add("dtend", item.due_at.astimezone(UTC) + timedelta(minutes=30))
        event.add("summary", item.title)
        about = [
            f"{label}: {name}"
            for label, name in (
                ("Contact", item.contact),
                ("Company", item.company),
                ("Lead", item.lead),
                ("Owner", item.owner),
            )
            if name
        ]
        if about:
            event.add("description", "\n".join(about))
        event.add("status", "CANCELLED" if item.status == "cancelled" else "CONFIRMED")
        event.add("x-smallcrm-status", item.status)
        calendar.add_component(event)
        count += 1
    out.write(calendar.to_ical().decode("utf-8"))
    return count

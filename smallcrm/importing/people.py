"""Importing contacts (the 100,000-row case) and companies.

A contact's company is named by a cell: an existing company is found (case-insensitively) once
per batch of rows, and a new one is created once per import, however many rows name it.
Duplicates: contacts by email (case-insensitive), or by name among contacts without email when
the row has none; companies by name or domain.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from smallcrm import columns, settings
from smallcrm.common import MAX_NAME, clean_text
from smallcrm.importing.cells import check_email, fold, parse_bool
from smallcrm.importing.kinds import (
    ACTION,
    Kind,
    RowError,
    extra_json,
    joined_tags,
    row_name,
    short_text,
)
from smallcrm.importing.reading import Row
from smallcrm.textsafe import truncate, visible

if TYPE_CHECKING:
    from smallcrm.importing import Progress

_NAME_LABELS = ("First Name", "Middle Name", "Last Name")


class Contacts(Kind):
    kind = "contacts"
    what = "contact"
    tag_kind = "contact"
    index_kind = "contact"
    link = "company_new"  # the key of a company the import creates
    columns = (
        "name", "email", "phone", "company_id", "company_new", "title", "stage", "owner_id",
        "tags", "note", "consent", "do_not_contact", "extra",
    )  # fmt: skip
    update_fields = (
        "name", "email", "phone", "company_id", "title", "stage", "owner_id", "note", "consent",
        "do_not_contact",
    )  # fmt: skip

    def __init__(self, db: Any, on_duplicate: str) -> None:
        super().__init__(db, on_duplicate)
        # casefolded name -> company id, "" (created by this import) or RowError (ambiguous)
        self.companies: dict[str, Any] = {}
        self.new_companies: dict[str, str] = {}  # casefolded name -> name as first written
        self.used_companies: set[str] = set()
        self.company_ids: dict[str, int] = {}
        self.by_cell: dict[str, Any] = {}  # company cell -> company() or its RowError
        self.stages: dict[str, str] = {}

    def model(self) -> Any:
        from smallcrm.store.tables import Contact

        return Contact

    def prepare(self, session: Any, row: Row) -> tuple[str | None, str | None, list[Any]]:
        values = row.values
        more = None
        name = values.get("name")
        if name is None:
            parts = (values.get(p, "").strip() for p in columns.NAME_PARTS)
            name = " ".join(p for p in parts if p)
        elif "first_name" in values or "last_name" in values or "middle_name" in values:
            parts = [values.get(p, "").strip() for p in columns.NAME_PARTS]
            more = {label: p for label, p in zip(_NAME_LABELS, parts, strict=True) if p}
        name = row_name(name, "contact")
        email = check_email(values["email"]) if "email" in values else None
        phone = self.look.phone(values["phone"]) if "phone" in values else None
        company = values.get("company")
        if company is None:
            company_id = company_new = None
        else:  # a file names few companies many times: remembered by the cell as written
            found = self.by_cell.get(company)
            if found is None:
                if len(self.by_cell) > 50_000:
                    self.by_cell.clear()
                try:
                    found = self.by_cell[company] = self.company(session, company)
                except RowError as error:
                    found = self.by_cell[company] = error
            if isinstance(found, RowError):
                raise found
            company_id, company_new = found
        stage = self.stage(values["stage"]) if "stage" in values else None
        title = values.get("title")
        owner = values.get("owner")
        tag_text = values.get("tags")
        return (
            fold(email) if email else None,
            None,
            [
                name, email, phone, company_id, company_new,
                short_text(title, "title") if title else None, stage,
                self.owner(session, owner) if owner else None,
                joined_tags(tag_text) if tag_text else None,
                clean_text(values.get("note"), "note"),
                parse_bool(values["consent"], "consent") if "consent" in values else None,
                parse_bool(values["do_not_contact"], "do_not_contact")
                if "do_not_contact" in values
                else None,
                extra_json(row, more) if row.extra or more else None,
            ],
        )  # fmt: skip

    def stage(self, value: str) -> str:
        key = value.strip().lower()
        found = self.stages.get(key)
        if found is None:
            from smallcrm.values import LIFECYCLE_STAGES, choice

            found = self.stages[key] = choice(value, LIFECYCLE_STAGES, "lifecycle stage")
        return found

    def before_batch(self, session: Any, batch: list[Row]) -> None:
        """Find the batch's companies in one query (names the database folds the same way)."""
        from smallcrm.store import lookups

        wanted: dict[str, str] = {}
        for row in batch:
            name = row.values.get("company", "").strip()
            if (
                name
                and name.isascii()
                and len(name) <= MAX_NAME
                and "\x00" not in name
                and name.casefold() not in self.companies
            ):
                wanted.setdefault(fold(name), name)
        if not wanted:
            return
        found: dict[str, list[int]] = {}
        for company_id, name in lookups.companies_named(lookups.Reads.of(session), list(wanted)):
            found.setdefault(name.casefold(), []).append(company_id)
        for name in wanted.values():
            ids = found.get(name.casefold(), [])
            if len(ids) == 1:
                self.companies[name.casefold()] = ids[0]
            elif not ids:
                self.companies[name.casefold()] = ""
                self.new_companies.setdefault(name.casefold(), name)

    def company(self, session: Any, value: str) -> tuple[int | None, str | None]:
        """An existing company's id, or the key of one this import creates (once)."""
        name = row_name(value, "company")
        key = name.casefold()
        found = self.companies.get(key)
        if found is None:
            from smallcrm.store import lookups

            rows = lookups.companies_folded(lookups.Reads.of(session), fold(name), 3)
            rows = [r for r in rows if r[1].casefold() == key]
            if len(rows) == 1:
                found = rows[0][0]
            elif rows:
                found = RowError(
                    f"company '{truncate(visible(name), 60)}' matches {len(rows)} companies"
                )
            else:
                found = ""
                self.new_companies.setdefault(key, name)
            self.companies[key] = found
        if isinstance(found, RowError):
            raise found
        if found == "":
            return None, key
        return found, None

    def match(self, session: Any, staged: list[list[Any]]) -> Iterator[tuple[list[Any], int, str]]:
        from smallcrm.store import lookups

        reads = lookups.Reads.of(session)
        by_email: dict[str, list[list[Any]]] = {}
        by_name: dict[str, list[list[Any]]] = {}
        for item in staged:
            if item[1]:
                by_email.setdefault(item[1], []).append(item)
            else:
                by_name.setdefault(fold(self.value(item, "name")), []).append(item)
        for contact_id, key in lookups.contacts_with_emails(reads, list(by_email)):
            for item in by_email.get(key, ()):
                email = self.value(item, "email")
                yield (
                    item,
                    contact_id,
                    f"a contact with email {email} already exists (id {contact_id})",
                )
        done: set[str] = set()
        for contact_id, key in lookups.contacts_named_without_email(reads, list(by_name)):
            if key in done:
                continue
            done.add(key)
            for item in by_name.get(key, ()):
                name = truncate(visible(self.value(item, "name")), 60)
                yield (
                    item,
                    contact_id,
                    f"a contact named {name} without email already exists (id {contact_id})",
                )

    def validate(self, batch: list[Row]) -> tuple[list[list[Any]], list[tuple[int, str, str]]]:
        staged, bad = super().validate(batch)
        at = self.index["company_new"]
        self.used_companies.update(
            item[at] for item in staged if item[at] and item[ACTION] != "skip"
        )
        return staged, bad

    def part_state(self) -> dict[str, Any]:
        return {
            **super().part_state(),
            "new_companies": self.new_companies,
            "used_companies": self.used_companies,
        }

    def absorb_part(self, state: Mapping[str, Any]) -> None:
        super().absorb_part(state)
        for key, name in state["new_companies"].items():  # the first line naming it wins
            self.new_companies.setdefault(key, name)
        self.used_companies.update(state["used_companies"])

    def changes(self, session: Any, model: Any, item: Any) -> dict[str, Any]:
        found = super().changes(session, model, item)
        new_company = self.value(item, "company_new")
        if new_company:
            found["company_new"] = new_company
        return found

    def prepare_update(self, session: Any, found: dict[str, Any]) -> None:
        super().prepare_update(session, found)
        key = found.pop("company_new", None)
        if key:
            found["company_id"] = self.company_ids[key]

    def needs_store_to_write(self, reader: Any) -> bool:
        # Tags are written through the store; a file without them is written by
        # loading.write_contacts when validation read the database file (see write).
        return self.write_deferred() and "tags" in getattr(reader, "fields", {"tags": ()})

    def write(self, scratch: Any, progress: Progress | None) -> dict[str, int]:
        """Through the store; or, when validation read a SQLite file directly and the rows
        need nothing the store does beyond inserting (no tags, no updates), by
        smallcrm.store.loading without loading the database stack."""
        from smallcrm.store import loading

        counts = scratch.counts()
        updates = counts.get("update", 0) + counts.get("merge", 0)
        if self.write_deferred() and not self.tag_names and not updates:
            load = loading.ContactsLoad(
                scratch=scratch,
                inserts=self.inserts(),
                constants=self.constants(datetime.now(UTC)),
                link=self.link,
                companies=[(key, self.new_companies[key]) for key in self.companies_to_create()],
                login=settings.current_login(),
            )
            report = (lambda done, total: progress("writing", done, total)) if progress else None
            with contextlib.suppress(loading.Stale):
                reads = self.reads
                reads.dispose()  # no connection of ours may keep the file in WAL mode
                imported = loading.write_contacts(reads.path, load, report, name=reads.name)
                return {"imported": imported, "updated": 0, "skipped": 0}
        return super().write(scratch, progress)

    def companies_to_create(self) -> list[str]:
        """The keys of the new companies that rows to write name, in file order."""
        return [k for k in self.new_companies if k in self.used_companies]

    def before_inserts(self, session: Any, scratch: Any, me_id: int) -> None:
        """Create the new companies the rows name, once each."""
        from smallcrm.store.bulk import IdReserver, Loader, index_new
        from smallcrm.store.tables import Company, now_utc

        self.by_cell.clear()  # validation is over: what the write needs is in new_companies
        self.companies.clear()
        keys = self.companies_to_create()
        if not keys:
            return
        now = now_utc()
        table = Company.__table__
        loader = Loader(
            session,
            table,
            ["id", "name", "owner_id"],
            {"version": 1, "created_at": now, "updated_at": now},
        )
        ids = IdReserver(session, table).take(len(keys))
        loader.run([(i, self.new_companies[k], me_id) for i, k in zip(ids, keys, strict=True)])
        self.company_ids.update(zip(keys, ids, strict=True))
        scratch.set_ids(self.company_ids.items())
        index_new(session, "company", ids)

    def inserts(self) -> dict[str, str]:
        return {
            "name": '"name"',
            "email": '"email"',
            "phone": '"phone"',
            "title": '"title"',
            "company_id": 'COALESCE("company_id", ids.id)',
            "stage": '"stage"',
            "owner_id": 'COALESCE(NULLIF("owner_id", 0), :me)',
            "note": '"note"',
            "consent": 'COALESCE("consent", 0)',
            "do_not_contact": 'COALESCE("do_not_contact", 0)',
            "extra": '"extra"',
        }

    def constants(self, now: datetime) -> dict[str, Any]:
        return {"version": 1, "created_at": now, "updated_at": now}


class Companies(Kind):
    kind = "companies"
    what = "company"
    tag_kind = "company"
    index_kind = "company"
    repeat_keys = ("key1", "key2")  # name, domain
    columns = (
        "name", "domain", "industry", "city", "country", "territory", "relationship", "phone",
        "owner_id", "tags", "note", "extra",
    )  # fmt: skip
    update_fields = (
        "name", "domain", "industry", "city", "country", "territory", "relationship", "phone",
        "owner_id", "note",
    )  # fmt: skip

    def model(self) -> Any:
        from smallcrm.store.tables import Company

        return Company

    def prepare(self, session: Any, row: Row) -> tuple[str | None, str | None, list[Any]]:
        from smallcrm.companies import _domain, _relationship

        values = row.values
        name = row_name(values.get("name"), "company")
        domain = _domain(values.get("domain"))
        texts = [short_text(values.get(f), f) for f in ("industry", "city", "country", "territory")]
        return (
            name.casefold(),
            domain,
            [
                name, domain, *texts, _relationship(values.get("relationship")),
                short_text(values.get("phone"), "phone"), self.owner(session, values.get("owner")),
                joined_tags(values.get("tags")), clean_text(values.get("note"), "note"),
                extra_json(row),
            ],
        )  # fmt: skip

    def match(self, session: Any, staged: list[list[Any]]) -> Iterator[tuple[list[Any], int, str]]:
        from sqlalchemy import func, or_
        from sqlmodel import col, select

        from smallcrm.store.tables import Company

        names = {fold(self.value(item, "name")) for item in staged}
        domains = {item[2] for item in staged if item[2]}
        condition = func.lower(Company.name).in_(list(names))
        if domains:
            condition = or_(condition, col(Company.domain).in_(list(domains)))
        rows = session.exec(
            select(Company.id, Company.name, Company.domain).where(condition).order_by(Company.id)
        ).all()
        by_name: dict[str, tuple[int, str]] = {}
        by_domain: dict[str, tuple[int, str]] = {}
        for company_id, name, domain in rows:
            by_name.setdefault(name.casefold(), (company_id, name))
            if domain:
                by_domain.setdefault(domain, (company_id, name))
        for item in staged:
            if hit := by_name.get(item[1]):
                shown = truncate(visible(hit[1]), 60)
                yield item, hit[0], f"company '{shown}' already exists (id {hit[0]})"
            elif item[2] and (hit := by_domain.get(item[2])):
                shown = truncate(visible(hit[1]), 60)
                yield (
                    item,
                    hit[0],
                    f"company '{shown}' (id {hit[0]}) already has domain {item[2]}",
                )

    def inserts(self) -> dict[str, str]:
        plain = ("name", "domain", "industry", "city", "country", "territory", "relationship")
        return {
            **{name: f'"{name}"' for name in plain},
            "phone": '"phone"',
            "owner_id": 'COALESCE(NULLIF("owner_id", 0), :me)',
            "note": '"note"',
            "extra": '"extra"',
        }

    def constants(self, now: datetime) -> dict[str, Any]:
        return {"version": 1, "created_at": now, "updated_at": now}

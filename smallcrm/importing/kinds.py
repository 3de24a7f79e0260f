"""What every kind of record shares in an import: validating a batch, finding duplicates,
resolving repeats within the file, and writing (bulk inserts, then updates one by one).

A kind (smallcrm.importing.people, smallcrm.importing.sales) says which values it stages
(`columns`), how a row becomes them (`prepare`), how staged rows match existing records
(`match`), and how staged values become table rows (`inserts`: table column -> SQL expression
over the staged columns, evaluated by the scratch file; see smallcrm.store.bulk).

Staged values are portable (text, numbers, None; booleans 0/1, JSON as text, dates and times
as ISO 8601 text). An owner of 0 means "the importing user", who may not exist until the write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from smallcrm import settings
from smallcrm.common import MAX_NAME, clean_name
from smallcrm.errors import Ambiguous, Invalid, NotFound, SmallCrmError
from smallcrm.importing.cells import PhoneNormaliser, fold
from smallcrm.importing.reading import Row
from smallcrm.textsafe import truncate, visible

if TYPE_CHECKING:
    from smallcrm.importing import Progress

AT = 7  # staged rows: line, key1, key2, action, existing, raw, ord, then the values
LINE, KEY1, KEY2, ACTION, EXISTING, RAW, ORD = range(AT)


@dataclass(frozen=True)
class DeferredDb:
    """A database named but not opened yet: `target` as smallcrm.settings gives it, `open`
    opens it through the store. A contacts import then validates against a SQLite file with
    the standard library (smallcrm.store.lookups) and loads the database stack only to write:
    on a large file, while a forked child validates (smallcrm.importing.parallel)."""

    target: str
    open: Callable[[], Any]


class RowError(Exception):
    """A row is invalid; the message is the reason shown after `line N:`."""


def reason(error: Exception) -> str:
    return " ".join(str(error).split()) or "invalid row"


def row_name(value: str | None, what: str) -> str:
    try:
        return clean_name(value, what)
    except Invalid as error:
        raise RowError(reason(error)) from None


def short_text(value: str | None, what: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > MAX_NAME:
        raise Invalid(f"{what} is longer than {MAX_NAME} characters")
    if "\x00" in text:
        raise Invalid(f"{what} contains a NUL character")
    return text


def when_value(value: str | None, what: str) -> str | None:
    """A WHEN cell as ISO 8601 text with its offset (local time unless it has one)."""
    if value is None or not value.strip():
        return None
    from smallcrm.values import parse_when

    try:
        return parse_when(value.strip()).isoformat()
    except Invalid as error:
        raise Invalid(f"{what}: {reason(error)}") from None


def extra_json(row: Row, more: Mapping[str, str] | None = None) -> str | None:
    extra = {**row.extra, **more} if more else row.extra
    return json.dumps(extra, ensure_ascii=False) if extra else None


def joined_tags(value: str | None) -> str | None:
    from smallcrm.importing.cells import split_tags

    return ",".join(split_tags(value)) or None


class Lookups:
    """Answers for one import, remembered: the phone shapes, owners, references by name."""

    def __init__(self) -> None:
        self.phone = PhoneNormaliser(settings.phone_region())
        self.me = settings.current_login().strip().lower()
        self.owners: dict[str, int | None] = {}
        self.refs: dict[tuple[str, str], Any] = {}

    def owner(self, session: Any, value: str | None, what: str = "user") -> int | None:
        """None: not given; 0: the importing user; else a user id."""
        if value is None or not value.strip():
            return None
        key = value.strip().lower()
        if key not in self.owners:
            if key in ("me", self.me):
                found: int | None = 0
            else:
                from smallcrm.store import lookups

                row = lookups.user(lookups.Reads.of(session), value)
                found = None if row is None else (0 if row[1] == self.me else row[0])
            self.owners[key] = found
        found = self.owners[key]
        if found is None:
            raise RowError(f"no {what} '{truncate(visible(value.strip()), 60)}'")
        return found

    def ref(self, session: Any, what: str, value: str, finder: Callable[[Any, str], Any]) -> Any:
        key = (what, value.strip().casefold())
        if key not in self.refs:
            try:
                self.refs[key] = finder(session, value)
            except (NotFound, Ambiguous) as error:
                self.refs[key] = error
        found = self.refs[key]
        if isinstance(found, SmallCrmError):
            raise found
        return found


def _by_id(session: Any, model: Any, ident: str, what: str) -> Any:
    row = session.get(model, int(ident)) if ident.isdigit() and len(ident) < 19 else None
    if row is None:
        raise RowError(f"no {what} with id {truncate(visible(ident), 30)}")
    return row


def _names_id(error: Ambiguous, ident: str) -> bool:
    """Whether an ambiguous name's candidates include the id given beside it."""
    return ident.isdigit() and any(c.startswith(f"{ident}:") for c in error.candidates)


class Kind:
    """A kind of record being imported. Subclasses fill in the class attributes and hooks."""

    kind = ""
    what = "record"
    columns: tuple[str, ...] = ()  # staged values, in order
    update_fields: tuple[str, ...] = ()  # what --on-duplicate update may change
    dates: Mapping[str, Callable[[str], Any]] = {}  # staged ISO text -> Python, for updates
    tag_kind = ""  # tags.py kind, when the record has tags
    index_kind: str | None = None  # search_index kind, when the record is searchable
    # key names the staged rows are compared by for repeats within the file
    repeat_keys: tuple[str, ...] = ("key1",)
    # a staged column naming a record the write creates first (`ids.id` in `inserts`)
    link: str | None = None

    def __init__(self, db: Any, on_duplicate: str) -> None:
        self.db = db  # the store's Db, or a DeferredDb until the write opens it
        self.reads = db  # what validation reads through: the Db, or lookups.FileReads
        self.policy = on_duplicate
        self.look = Lookups()
        self.index = {name: AT + i for i, name in enumerate(self.columns)}
        self.tag_names: dict[str, None] = {}
        self.inserting = 0  # rows staged to insert so far (their `ord`)

    # -- hooks ------------------------------------------------------------------------------

    def model(self) -> Any:
        raise NotImplementedError

    def prepare(self, session: Any, row: Row) -> tuple[str | None, str | None, list[Any]]:
        """(key1, key2, staged values) of a valid row; raises RowError/SmallCrmError."""
        raise NotImplementedError

    def match(self, session: Any, staged: list[list[Any]]) -> Iterator[tuple[list[Any], int, str]]:
        """(staged row, id of the existing record it duplicates, message) for each match."""
        raise NotImplementedError

    def inserts(self) -> dict[str, str]:
        """Table column -> SQL over the staged columns (and `:me`, `:now`)."""
        raise NotImplementedError

    def constants(self, now: datetime) -> dict[str, Any]:
        """Table column -> the value every inserted row gets."""
        return {}

    def before_batch(self, session: Any, batch: list[Row]) -> None:
        """Look up what a batch refers to in one query (contacts: their companies)."""

    def before_inserts(self, session: Any, scratch: Any, me_id: int) -> None:
        """Create what the rows link to (contacts: their new companies)."""

    def after_inserts(self, session: Any, scratch: Any, ids: range, me_id: int) -> None:
        """Write what hangs off the new records (leads: their stage history)."""

    # -- validation (no write lock) ---------------------------------------------------------

    def value(self, item: Sequence[Any], name: str) -> Any:
        return item[self.index[name]]

    def validate(self, batch: list[Row]) -> tuple[list[list[Any]], list[tuple[int, str, str]]]:
        """Staged rows and (line, reason, raw cells as JSON) of the invalid ones."""
        staged: list[list[Any]] = []
        bad: list[tuple[int, str, str]] = []
        raws: dict[int, list[str]] = {}
        keep_raw = self.policy == "error"
        prepare = self.prepare
        with self.reads.read() as session:
            self.before_batch(session, batch)
            for row in batch:
                try:
                    key1, key2, values = prepare(session, row)
                except (RowError, SmallCrmError) as error:
                    bad.append((row.line, reason(error), json.dumps(row.raw)))
                    continue
                if keep_raw:
                    raws[row.line] = row.raw
                raw = json.dumps(row.raw) if keep_raw else None
                staged.append([row.line, key1, key2, "insert", None, raw, None, *values])
            if staged:
                for item, existing_id, message in self.match(session, staged):
                    if self.policy == "skip":
                        item[ACTION], item[EXISTING] = "skip", existing_id
                    elif self.policy == "error":
                        item[ACTION] = "bad"
                        bad.append((item[LINE], message, json.dumps(raws[item[LINE]])))
                    else:
                        item[EXISTING] = existing_id
                        model = session.get(self.model(), existing_id)
                        changed = model is not None and self.changes(session, model, item)
                        item[ACTION] = "update" if changed else "skip"
        staged = [item for item in staged if item[ACTION] != "bad"]
        for item in staged:
            if item[ACTION] == "insert":
                item[ORD] = self.inserting
                self.inserting += 1
        if "tags" in self.index:
            at = self.index["tags"]
            for item in staged:
                if item[at] and item[ACTION] != "skip":
                    self.tag_names.update(dict.fromkeys(item[at].split(",")))
        return staged, bad

    # -- validation in two processes (smallcrm.importing.parallel) --------------------------

    def part_state(self) -> dict[str, Any]:
        """What validating a part of the file found that the write needs (picklable)."""
        return {"inserting": self.inserting, "tag_names": list(self.tag_names)}

    def absorb_part(self, state: Mapping[str, Any]) -> None:
        """Take in the `part_state` of the rows after this one's, validated by another
        process from the same starting state, as if this one had gone on to validate them."""
        self.inserting += state["inserting"]
        self.tag_names.update(dict.fromkeys(state["tag_names"]))

    def resolve_repeats(self, scratch: Any) -> None:
        """Rows repeating an earlier row of the file: skipped, rejected, or applied after it."""
        seen: set[int] = set()
        renumber = False
        for key in self.repeat_keys:
            changes: list[tuple[str, int]] = []
            for line, first in scratch.repeated(key):
                if line in seen:
                    continue
                seen.add(line)
                row = scratch.row(line)
                if row is None:
                    continue
                renumber = renumber or row[ACTION] == "insert"
                if self.policy == "error":
                    scratch.move_to_bad(line, f"duplicate of line {first}", row[RAW] or "[]")
                elif self.policy == "skip" or row[ACTION] == "skip":
                    changes.append(("skip", line))
                elif row[ACTION] == "insert":
                    changes.append(("merge", line))
            scratch.set_action(changes)
        if renumber:
            scratch.renumber()

    # -- updates (--on-duplicate update) ----------------------------------------------------

    def python_value(self, name: str, staged: Any) -> Any:
        parse = self.dates.get(name)
        return parse(staged) if parse is not None and staged is not None else staged

    def changes(self, session: Any, model: Any, item: Sequence[Any]) -> dict[str, Any]:
        """Field -> new value for what the row would change on `model` (empty cells keep)."""
        found: dict[str, Any] = {}
        for name in self.update_fields:
            new = self.python_value(name, self.value(item, name))
            if new is not None and getattr(model, name) != new:
                found[name] = new
        if "extra" in self.index and (extra := self.value(item, "extra")):
            current = dict(model.extra or {})
            merged = {**current, **json.loads(extra)}
            if merged != current:
                found["extra"] = merged
        if "tags" in self.index and (names := self.value(item, "tags")):
            from smallcrm import tags

            have = set(tags.tags_of(session, self.tag_kind, [model.id]).get(model.id, []))
            new_tags = [n for n in names.split(",") if n not in have]
            if new_tags:
                found["tags"] = new_tags
        return found

    def prepare_update(self, session: Any, found: dict[str, Any]) -> None:
        """Turn staged values that need the write transaction into real ones (owner "me")."""
        from smallcrm import users

        for name in ("owner_id", "user_id"):
            if found.get(name) == 0:
                found[name] = users.me(session).id

    def apply(self, session: Any, model: Any, found: Mapping[str, Any]) -> None:
        from smallcrm.common import touch

        for name, new in found.items():
            if name != "tags":
                setattr(model, name, new)
        if hasattr(model, "version"):
            touch(model)
        session.add(model)
        session.flush()
        if "tags" in found:
            from smallcrm import tags

            tags.add(session, self.tag_kind, model.id, found["tags"])

    def find(self, session: Any, item: Sequence[Any]) -> int | None:
        """The record a staged row duplicates (after the rows before it were written)."""
        matched = list(self.match(session, [list(item)]))
        return matched[0][1] if matched else None

    def write_updates(self, session: Any, scratch: Any, done: dict[str, int]) -> list[int]:
        changed: list[int] = []
        for action in ("update", "merge"):
            for chunk in scratch.rows(action):
                for item in chunk:
                    target = item[EXISTING] if action == "update" else self.find(session, item)
                    model = session.get(self.model(), target) if target else None
                    found = self.changes(session, model, item) if model is not None else {}
                    if found:
                        self.prepare_update(session, found)
                        self.apply(session, model, found)
                        changed.append(model.id)
                        done["updated"] += 1
                    else:
                        done["skipped"] += 1
                session.flush()
                session.expunge_all()
        return changed

    # -- writing (one write transaction) ----------------------------------------------------

    def store_db(self) -> Any:
        """The store's Db the write goes through, opened now if it was deferred."""
        if isinstance(self.db, DeferredDb):
            self.db = self.db.open()
        return self.db

    def write_deferred(self) -> bool:
        return isinstance(self.db, DeferredDb)

    def needs_store_to_write(self, reader: Any) -> bool:
        """Whether the write will open the store's Db (a deferred one: not opened yet)."""
        return self.write_deferred()

    def ready_to_write(self) -> None:
        """Open the database and define its tables now rather than at the write (a parent
        process does this while its forked child validates)."""
        from smallcrm.store import tables

        self.store_db()
        tables.load_all()

    def copies_in_sql(self) -> bool:
        """Whether the write ATTACHes the scratch file and copies the rows over in SQL
        (bulk.copy_staged), rather than reading them into Python and inserting them."""
        from smallcrm.store import bulk

        return bulk.can_attach(self.store_db())

    def write(self, scratch: Any, progress: Progress | None) -> dict[str, int]:
        from smallcrm import users
        from smallcrm.store import bulk, search_index
        from smallcrm.store.tables import now_utc

        done = {"imported": 0, "updated": 0, "skipped": 0}
        counts = scratch.counts()
        inserting = counts.get("insert", 0)
        total = inserting + counts.get("update", 0) + counts.get("merge", 0)
        in_sql = self.copies_in_sql()
        db = self.store_db()
        opened = db.write_attached({"scratch": scratch.path}) if in_sql else db.write()
        with opened as session, bulk.large_cache(session):
            if in_sql:
                scratch.attached_to(session.connection(), "scratch")
            me_id = users.me(session).id
            now = now_utc()
            self.before_inserts(session, scratch, me_id)
            if inserting:
                table = self.model().__table__
                ids = bulk.IdReserver(session, table).take(inserting)
                expressions = self.inserts()
                loader = bulk.Loader(
                    session, table, ["id", *expressions], self.constants(now), record=False
                )
                params = {"base": ids.start, "me": me_id, "now": now.isoformat()}
                with bulk.indexes_rebuilt(session, table, inserting):
                    selected = [":base + ord", *expressions.values()]
                    if in_sql and not loader.converters:
                        copied = bulk.copy_staged(loader, scratch, selected, params, link=self.link)
                    else:
                        copied = (
                            len(chunk) if loader.run(chunk) is None else 0
                            for chunk in scratch.inserts(selected, params, link=self.link)
                        )
                    for count in copied:
                        done["imported"] += count
                        if progress:
                            progress("writing", done["imported"], total)
                bulk.record_inserted(session, table, ids)
                self.link_tags(session, scratch, ids)
                self.after_inserts(session, scratch, ids, me_id)
                if self.index_kind:
                    bulk.index_new(session, self.index_kind, ids)
            changed = self.write_updates(session, scratch, done)
            if changed and self.index_kind:
                search_index.refresh(session, self.index_kind, changed)
            if progress:
                progress("writing", total, total)
        return done

    def link_tags(self, session: Any, scratch: Any, ids: range) -> None:
        """Create the tags the new records carry and link them."""
        if "tags" not in self.index or not self.tag_names:
            return
        from smallcrm.store import bulk
        from smallcrm.store.tables import CompanyTag, ContactTag, LeadTag

        link, column = {
            "contact": (ContactTag, "contact_id"),
            "company": (CompanyTag, "company_id"),
            "lead": (LeadTag, "lead_id"),
        }[self.tag_kind]
        tag_ids = self.ensure_tags(session)
        loader = bulk.Loader(session, link.__table__, [column, "tag_id"])
        for chunk in scratch.inserts([":base + ord", '"tags"'], {"base": ids.start}):
            loader.run(
                [
                    (record_id, tag_ids[name])
                    for record_id, names in chunk
                    if names
                    for name in names.split(",")
                ]
            )

    def ensure_tags(self, session: Any) -> dict[str, int]:
        """Tag name -> id for every tag the import uses, creating the new ones."""
        if not self.tag_names:
            return {}
        from sqlmodel import col, select

        from smallcrm.store.bulk import IdReserver, Loader
        from smallcrm.store.tables import Tag

        names = list(self.tag_names)
        found: dict[str, int] = {}
        for start in range(0, len(names), 500):
            chunk = names[start : start + 500]
            rows = session.exec(select(Tag.id, Tag.name).where(col(Tag.name).in_(chunk)))
            found.update({name: tag_id for tag_id, name in rows})
        missing = [n for n in names if n not in found]
        if missing:
            ids = IdReserver(session, Tag.__table__).take(len(missing))
            Loader(session, Tag.__table__, ["id", "name"]).run(list(zip(ids, missing, strict=True)))
            found.update(zip(missing, ids, strict=True))
        return found

    # -- references (leads, activities, follow-ups) -----------------------------------------

    def owner(self, session: Any, value: str | None, what: str = "user") -> int | None:
        return self.look.owner(session, value, what)

    def contact_ref(self, session: Any, values: Mapping[str, str]) -> tuple[int, int | None] | None:
        """(contact id, its company id) from contact_email, contact or contact_id."""
        from sqlalchemy import func
        from sqlmodel import select

        from smallcrm import refs
        from smallcrm.store.tables import Contact

        email = values.get("contact_email", "").strip()
        ref = values.get("contact", "").strip()
        ident = values.get("contact_id", "").strip()
        if email:
            key = ("contact-email", fold(email))
            if key not in self.look.refs:
                row = session.exec(
                    select(Contact.id, Contact.company_id).where(
                        func.lower(Contact.email) == fold(email)
                    )
                ).first()
                self.look.refs[key] = tuple(row) if row else None
            found = self.look.refs[key]
            if found is None:
                raise RowError(f"no contact with email '{truncate(visible(email), 60)}'")
            return found
        if ref:
            try:
                row = self.look.ref(session, "contact", ref, refs.contact)
                return (row.id, row.company_id)
            except Ambiguous as error:
                if not _names_id(error, ident):
                    raise
        if ident:
            row = _by_id(session, Contact, ident, "contact")
            return (row.id, row.company_id)
        return None

    def company_ref(self, session: Any, values: Mapping[str, str]) -> int | None:
        from smallcrm import refs
        from smallcrm.store.tables import Company

        ref = values.get("company", "").strip()
        ident = values.get("company_id", "").strip()
        if ref:
            try:
                return self.look.ref(session, "company", ref, refs.company).id
            except Ambiguous as error:
                if not _names_id(error, ident):
                    raise
        if ident:
            return _by_id(session, Company, ident, "company").id
        return None

    def lead_ref(self, session: Any, values: Mapping[str, str]) -> Any:
        from smallcrm import refs
        from smallcrm.store.tables import Lead

        ref = values.get("lead", "").strip()
        ident = values.get("lead_id", "").strip()
        if ref:
            try:
                return self.look.ref(session, "lead", ref, refs.lead)
            except Ambiguous as error:
                if not _names_id(error, ident):
                    raise
        if ident:
            return _by_id(session, Lead, ident, "lead")
        return None

    def customer(
        self, session: Any, values: Mapping[str, str]
    ) -> tuple[int | None, int | None, Any]:
        """(contact id, company id, lead row) of an activity or follow-up; one is needed."""
        contact = self.contact_ref(session, values)
        company_id = self.company_ref(session, values)
        lead = self.lead_ref(session, values)
        contact_id = contact[0] if contact else None
        if contact_id is None and company_id is None:
            if lead is not None and (lead.contact_id or lead.company_id):
                return lead.contact_id, None if lead.contact_id else lead.company_id, lead
            raise RowError(
                "needs a contact or company (a contact, contact_email or company column)"
            )
        return contact_id, company_id, lead

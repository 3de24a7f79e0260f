"""REF → record: an id, a contact's email, or a name that matches exactly one record."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import func
from sqlmodel import Session, SQLModel, select

from smallcrm.errors import Ambiguous, Invalid, NotFound
from smallcrm.store.tables import Company, Contact, FollowUp, Lead

Row = TypeVar("Row", bound=SQLModel)


def _as_id(ref: str) -> int | None:
    ref = ref.strip().lstrip("#")
    return int(ref) if ref.isascii() and ref.isdigit() and len(ref) < 19 else None


def _by_name(session: Session, table: type[Row], column: str, ref: str, what: str) -> Row:
    name_column = getattr(table, column)
    wanted = ref.strip()
    rows = session.exec(
        select(table).where(func.lower(name_column) == func.lower(wanted)).limit(21)
    ).all()
    if not wanted.isascii():
        # SQLite's lower() folds ASCII letters only, so it may have found some of the names
        # that differ in case and missed others ("émile" vs "ÉMILE"): compare in Python.
        same_length = select(table).where(func.length(name_column) == len(wanted)).limit(5000)
        rows = [
            r
            for r in session.exec(same_length)
            if getattr(r, column).casefold() == wanted.casefold()
        ]
    if len(rows) == 1:
        return rows[0]
    if not rows:
        raise NotFound(f"no {what} '{ref}'")
    raise Ambiguous(
        f"'{ref}' matches {len(rows)} {what}s; use an id",
        [f"{r.id}: {getattr(r, column)}" for r in rows],
    )


def contact(session: Session, ref: str) -> Contact:
    ref = _required(ref, "contact")
    if (ident := _as_id(ref)) is not None and (row := session.get(Contact, ident)):
        return row
    if "@" in ref:
        row = session.exec(
            select(Contact).where(func.lower(Contact.email) == func.lower(ref.strip()))
        ).first()
        if row:
            return row
    return _by_name(session, Contact, "name", ref, "contact")


def company(session: Session, ref: str) -> Company:
    ref = _required(ref, "company")
    if (ident := _as_id(ref)) is not None and (row := session.get(Company, ident)):
        return row
    if "." in ref and " " not in ref.strip():
        row = session.exec(
            select(Company).where(func.lower(Company.domain) == ref.strip().lower())
        ).first()
        if row:
            return row
    return _by_name(session, Company, "name", ref, "company")


def lead(session: Session, ref: str) -> Lead:
    ref = _required(ref, "lead")
    if (ident := _as_id(ref)) is not None and (row := session.get(Lead, ident)):
        return row
    return _by_name(session, Lead, "title", ref, "lead")


def followup(session: Session, ref: str | int) -> FollowUp:
    ident = _as_id(str(ref)) if isinstance(ref, int) else _as_id(_required(ref, "follow-up"))
    row = session.get(FollowUp, ident) if ident is not None else None
    if row is None:
        raise NotFound(f"no follow-up '{ref}'")
    return row


def customer(session: Session, ref: str) -> Contact | Company:
    """A contact or a company: `contact:12`, `company:3`, an id, an email or a unique name."""
    ref = _required(ref, "contact or company")
    kind, _, rest = ref.partition(":")
    if rest and kind.strip().lower() == "contact":
        return contact(session, rest)
    if rest and kind.strip().lower() == "company":
        return company(session, rest)
    if (ident := _as_id(ref)) is not None:
        row = session.get(Contact, ident) or session.get(Company, ident)
        if row is None:
            raise NotFound(f"no contact or company with id {ident}")
        return row
    if "@" in ref:
        return contact(session, ref)
    found: list[Contact | Company] = []
    candidates: list[str] = []
    for finder, label in ((contact, "contact"), (company, "company")):
        try:
            found.append(finder(session, ref))
        except NotFound:
            continue
        except Ambiguous as error:
            candidates.extend(f"{label} {c}" for c in error.candidates)
    if len(found) == 1 and not candidates:
        return found[0]
    if not found and not candidates:
        raise NotFound(f"no contact or company '{ref}'")
    candidates.extend(
        f"{'contact' if isinstance(r, Contact) else 'company'} {r.id}: {r.name}" for r in found
    )
    raise Ambiguous(
        f"'{ref}' matches more than one record; use contact:ID or company:ID", candidates
    )


def _required(ref: str, what: str) -> str:
    if ref is None or not str(ref).strip():
        raise Invalid(f"which {what}? give an id or a name")
    return str(ref)

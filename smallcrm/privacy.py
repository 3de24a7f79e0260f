"""A person's rights: erasure (`contact forget`), access (`contact export-data`), and the
do-not-contact flag that keeps them out of campaigns and reminders.

Erasing a person removes their contact row and what the database holds about them: their
activities and follow-ups (text included), tags, search-index documents, and every recorded
history value that names them. On SQLite it deletes with `secure_delete` on, merges the
search index (FTS `optimize`), rebuilds the file (`VACUUM`) and truncates the WAL, so neither
free pages nor the WAL keep their name or email. What stays is a tombstone of salted hashes
(no name, no email) so that restoring an older backup erases them again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from smallcrm import records, refs
from smallcrm.store import Db, search_index
from smallcrm.store import history as recorder
from smallcrm.store.tables import (
    Activity,
    Change,
    Changeset,
    Contact,
    ContactTag,
    FollowUp,
    Lead,
    Tombstone,
    now_utc,
)

CHANGE = Change.__table__  # type: ignore[attr-defined]
CHANGESET = Changeset.__table__  # type: ignore[attr-defined]
TOMBSTONE = Tombstone.__table__  # type: ignore[attr-defined]
# Names shorter than this are not looked for in other records' history (too many false hits).
_MIN_NEEDLE = 3


# --- hashes for tombstones ------------------------------------------------------------------


def _hash(salt: str, text: str) -> str:
    return hashlib.sha256(f"{salt}\x00{text}".encode()).hexdigest()


def _email_key(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def _record_key(contact_id: int, created_at: datetime | None) -> str:
    stamp = created_at.isoformat() if created_at else ""
    return f"contact:{contact_id}:{stamp}"


def _salt(conn: Connection) -> str:
    found = conn.execute(select(TOMBSTONE.c.salt).order_by(TOMBSTONE.c.id).limit(1)).scalar()
    return found or secrets.token_hex(16)


# --- forget ---------------------------------------------------------------------------------


def forget(db: Db, ref: str) -> records.Erasure:
    """Erase a contact and everything that identifies them; returns what was removed."""
    with db.write() as session:
        recorder.suspend(session)
        conn = session.connection()
        contact = refs.contact(session, ref)
        conn.execute(
            insert(TOMBSTONE).values(
                kind="contact",
                salt=(salt := _salt(conn)),
                email_hash=_hash(salt, key) if (key := _email_key(contact.email)) else None,
                record_hash=_hash(salt, _record_key(contact.id, contact.created_at)),
                erased_at=now_utc(),
            )
        )
        report = _erase(session, conn, contact.id)
    wal_cleared = scrub_file(db)
    return dataclasses.replace(report, backups_left=_backups_left(db), wal_cleared=wal_cleared)


def _erase(session: Session, conn: Connection, contact_id: int) -> records.Erasure:
    """Delete the contact's rows, index entries and history (inside the caller's transaction)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
    row = conn.execute(select(Contact.__table__).where(Contact.id == contact_id)).first()
    assert row is not None
    activity_ids = list(
        conn.execute(select(Activity.id).where(Activity.contact_id == contact_id)).scalars()
    )
    followups = _count(conn, FollowUp, FollowUp.contact_id == contact_id)
    tag_count = _count(conn, ContactTag, ContactTag.contact_id == contact_id)
    lead_ids = list(conn.execute(select(Lead.id).where(Lead.contact_id == contact_id)).scalars())
    search_index.remove(session, "activity", activity_ids)
    search_index.remove(session, "contact", [contact_id])
    history_entries = _scrub_history(session, conn, contact_id, row.name, row.email, row.phone)
    conn.execute(delete(Contact.__table__).where(Contact.id == contact_id))
    search_index.refresh(session, "lead", lead_ids)
    search_index.purge_deleted_text(session)
    return records.Erasure(
        contact_id=contact_id,
        activities=len(activity_ids),
        followups=followups,
        leads_unlinked=len(lead_ids),
        tags=tag_count,
        history_entries=history_entries,
        search_entries=1 + len(activity_ids),
        backups_left=0,
        wal_cleared=False,
    )


def _count(conn: Connection, table: Any, where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(table).where(where)).scalar() or 0)


def _scrub_history(
    session: Session,
    conn: Connection,
    contact_id: int,
    name: str | None,
    email: str | None,
    phone: str | None,
) -> int:
    """Delete every history entry about the person or naming them; the changesets they were
    part of can no longer be undone. Records one PII-free 'forget' changeset."""
    needles: list[str] = []
    for value in (name, email, phone):
        if value and len(value.strip()) >= _MIN_NEEDLE:
            # As stored in the history's JSON text too (quotes and controls escaped).
            needles += [value.casefold(), recorder.dumps(value)[1:-1].casefold()]
    doomed = set(
        conn.execute(select(CHANGE.c.id).where(CHANGE.c.contact_id == contact_id)).scalars()
    )
    last = 0
    while needles:
        rows = conn.execute(
            select(CHANGE.c.id, CHANGE.c.old, CHANGE.c.new)
            .where(CHANGE.c.id > last)
            .order_by(CHANGE.c.id)
            .limit(2000)
        ).all()
        if not rows:
            break
        last = rows[-1].id
        for change_id, old, new in rows:
            text = f"{old or ''}\x00{new or ''}".casefold()
            if any(needle in text for needle in needles):
                doomed.add(change_id)
    recorder.set_action(session, "forget")
    forget_id = recorder.changeset_id(session, conn)
    ids = sorted(doomed)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        affected = select(CHANGE.c.changeset_id).where(CHANGE.c.id.in_(chunk)).distinct()
        conn.execute(
            update(CHANGESET)
            .where(CHANGESET.c.id.in_(affected), CHANGESET.c.undone_by.is_(None))
            .values(undone_by=forget_id)
        )
        conn.execute(delete(CHANGE).where(CHANGE.c.id.in_(chunk)))
    # Changesets left with nothing in them say nothing either.
    conn.execute(
        delete(CHANGESET).where(
            CHANGESET.c.id != forget_id,
            CHANGESET.c.undone_by == forget_id,
            ~select(CHANGE.c.id).where(CHANGE.c.changeset_id == CHANGESET.c.id).exists(),
        )
    )
    recorder.write(session, [recorder.change_row("contact", contact_id, "erase")], conn)
    return len(ids)


def scrub_file(db: Db) -> bool:
    """Rebuild the SQLite file and empty its WAL so deleted text survives nowhere in them.

    True when the WAL was truncated; False on PostgreSQL or when another program's open read
    kept the checkpoint from finishing (the text then leaves the WAL at the next checkpoint).
    """
    if db.dialect != "sqlite":
        return False
    import sqlite3
    import time

    raw = db.engine.raw_connection()
    try:
        dbapi = raw.driver_connection
        dbapi.execute("PRAGMA secure_delete = ON")
        try:
            dbapi.execute("VACUUM")
        except sqlite3.OperationalError:
            pass  # busy: secure_delete already zeroed what the erasure freed
        busy = 1
        for _ in range(20):
            busy = dbapi.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                break
            time.sleep(0.1)
        dbapi.execute("PRAGMA secure_delete = OFF")
        return not busy
    finally:
        raw.close()


def _backups_left(db: Db) -> int:
    from smallcrm import backup

    return len(backup.automatic_backups(db))


# --- tombstones: erasures survive a restore -------------------------------------------------


def tombstones(db: Db) -> list[dict[str, Any]]:
    with db.read() as session:
        rows = session.connection().execute(select(TOMBSTONE)).mappings().all()
        return [{k: v for k, v in row.items() if k != "id"} for row in rows]


def reapply_erasures(db: Db, extra: list[dict[str, Any]] | None = None) -> int:
    """Erase again everyone a tombstone (this database's or `extra`) names; returns how many.

    Used after restoring a backup that was made before those people were forgotten."""
    with db.write() as session:
        recorder.suspend(session)
        conn = session.connection()
        known = set(conn.execute(select(TOMBSTONE.c.record_hash)).scalars())
        for stone in extra or []:
            if stone["record_hash"] not in known:
                conn.execute(insert(TOMBSTONE).values(**stone))
                known.add(stone["record_hash"])
        stones = conn.execute(select(TOMBSTONE)).all()
        if not stones:
            return 0
        by_salt: dict[str, tuple[set[str], set[str]]] = {}
        for stone in stones:
            emails, keys = by_salt.setdefault(stone.salt, (set(), set()))
            keys.add(stone.record_hash)
            if stone.email_hash:
                emails.add(stone.email_hash)
        doomed: list[int] = []
        contacts = conn.execute(select(Contact.id, Contact.email, Contact.created_at)).all()
        for salt, (emails, keys) in by_salt.items():
            for contact_id, email, created_at in contacts:
                key = _email_key(email)
                if _hash(salt, _record_key(contact_id, created_at)) in keys or (
                    key and _hash(salt, key) in emails
                ):
                    doomed.append(contact_id)
        for contact_id in sorted(set(doomed)):
            _erase(session, conn, contact_id)
    if doomed:
        scrub_file(db)
    return len(set(doomed))


# --- right of access ------------------------------------------------------------------------


def export_data(db: Db, ref: str) -> dict[str, Any]:
    """Everything stored about a person, JSON-ready: the contact, their company's name, leads,
    activities, follow-ups and the recorded history of changes about them."""
    from smallcrm import activities, contacts, followups, history, leads

    with db.read() as session:
        contact_id = refs.contact(session, ref).id
    person = contacts.get(db, str(contact_id))
    return _plain(
        {
            "exported_at": now_utc(),
            "contact": person,
            "leads": leads.list_leads(db, contact=str(contact_id), status="all"),
            "activities": activities.list_activities(db, contact=str(contact_id)),
            "followups": followups.list_followups(
                db, contact=str(contact_id), due="all", status="all"
            ),
            "history": history.list_history(db, f"contact:{contact_id}"),
        }
    )


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value

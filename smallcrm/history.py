"""History of changes and `undo`: what changed, who changed it, and putting it back.

The store records every change (smallcrm/store/history.py); this module reads the record and
reverts a user's last changeset. Undo refuses, touching nothing, when someone else changed one
of the same records afterwards or when a value is no longer what the change left.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Row
from sqlmodel import Session

from smallcrm import records, refs
from smallcrm.errors import Conflict, Invalid, NotFound
from smallcrm.store import Db, search_index
from smallcrm.store import history as recorder
from smallcrm.store.tables import (
    Change,
    Changeset,
    Company,
    Contact,
    Lead,
    Stage,
    User,
    now_utc,
)

CHANGE = Change.__table__  # type: ignore[attr-defined]
CHANGESET = Changeset.__table__  # type: ignore[attr-defined]
KINDS = ("contact", "company", "lead", "activity", "followup")
# Shown by the timeline as lead events already; left out of "edit" entries.
_LEAD_EVENT_FIELDS = {"stage_id", "stage_entered_at", "status", "closed_at", "lost_reason"}
# Recorded for undo, not worth a line of their own in a listing.
_QUIET_FIELDS = {"stage_entered_at"}
_LABEL = {
    "contact": "name",
    "company": "name",
    "lead": "title",
    "activity": "summary",
    "followup": "title",
}


# --- listing --------------------------------------------------------------------------------


def list_history(
    db: Db,
    ref: str | None = None,
    *,
    user: str | None = None,
    limit: int | None = None,
) -> list[records.HistoryEntry]:
    """Recorded changes, newest first. REF: a contact or company (its own changes and those of
    its activities, follow-ups and leads), or `KIND:ID` (contact, company, lead, activity,
    followup), which also works for a record that was deleted."""
    if limit is not None and limit < 0:
        raise Invalid("--limit must be 0 or more")
    with db.read() as session:
        conn = session.connection()
        query = (
            select(CHANGE, CHANGESET.c.at, CHANGESET.c.user_login, CHANGESET.c.action,
                   CHANGESET.c.undone_by)
            .join(CHANGESET, CHANGESET.c.id == CHANGE.c.changeset_id)
            .where(CHANGE.c.kind != "stage_change")
            .order_by(CHANGE.c.changeset_id.desc(), CHANGE.c.id.desc())
        )  # fmt: skip
        if ref is not None and ref.strip():
            query = query.where(_ref_clause(session, ref))
        if user:
            query = query.where(CHANGESET.c.user_login == user.strip().lower())
        names = _Names(conn)
        entries: list[records.HistoryEntry] = []
        # Read in pages: quiet rows and tag changes that cancel out are dropped after reading.
        offset, page = 0, 500
        while limit is None or len(entries) < limit:
            rows = conn.execute(query.offset(offset).limit(page)).all()
            if not rows:
                break
            offset += page
            entries.extend(_entries(rows, names))
        return entries[:limit] if limit is not None else entries


def _ref_clause(session: Session, ref: str):  # type: ignore[no-untyped-def]
    kind, sep, rest = ref.strip().partition(":")
    kind = kind.strip().lower()
    if sep and kind in KINDS:
        rest = rest.strip().lstrip("#")
        if rest.isascii() and rest.isdigit() and len(rest) < 19:
            return _about(kind, int(rest))
        if kind == "lead":
            return _about("lead", refs.lead(session, rest).id)
        if kind in ("contact", "company"):
            return _about(kind, refs.customer(session, f"{kind}:{rest}").id)
        raise NotFound(f"no {kind} '{rest}'")
    customer = refs.customer(session, ref)
    return _about("contact" if isinstance(customer, Contact) else "company", customer.id)


def _about(kind: str, record_id: int):  # type: ignore[no-untyped-def]
    if kind in ("contact", "company", "lead"):
        return or_(
            CHANGE.c[f"{kind}_id"] == record_id,
            and_(CHANGE.c.kind == kind, CHANGE.c.record_id == record_id),
        )
    return and_(CHANGE.c.kind == kind, CHANGE.c.record_id == record_id)


class _Names:
    """Names for the ids a change mentions (stage, owner, company…), looked up once each."""

    _TABLES: dict[str, Any] = {
        "stage_id": (Stage, "name"),
        "from_stage_id": (Stage, "name"),
        "to_stage_id": (Stage, "name"),
        "owner_id": (User, "name"),
        "user_id": (User, "name"),
        "company_id": (Company, "name"),
        "contact_id": (Contact, "name"),
        "lead_id": (Lead, "title"),
    }

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, int], str | None] = {}

    def show(self, field: str | None, value: Any) -> str:
        if value is None or value == "":
            return "–"
        if field in self._TABLES and isinstance(value, int):
            key = (field, value)
            if key not in self.cache:
                table, column = self._TABLES[field]
                name = self.conn.execute(
                    select(getattr(table, column)).where(table.id == value)
                ).scalar()
                self.cache[key] = name
            name = self.cache[key]
            return f"{name} (#{value})" if name else f"#{value}"
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, dict):
            return ", ".join(f"{k}={v}" for k, v in value.items())
        text = str(value)
        return text if len(text) <= 80 else text[:79] + "…"


def _cancelled_links(rows: Sequence[Row]) -> set[int]:
    """Change ids of tag links removed and added again in one changeset (a tag list replaced)."""
    links: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for row in rows:
        if row.kind in recorder.LINKS and row.op in ("insert", "delete"):
            snapshot = recorder.loads(row.new if row.op == "insert" else row.old)
            links[row.changeset_id, row.kind, recorder.dumps(snapshot)].append(row.id)
    return {i for ids in links.values() if len(ids) > 1 for i in ids}


def _entries(rows: Sequence[Row], names: _Names) -> list[records.HistoryEntry]:
    cancelled = _cancelled_links(rows)
    entries = []
    for row in rows:
        old, new = recorder.loads(row.old), recorder.loads(row.new)
        if row.field in _QUIET_FIELDS or row.id in cancelled:
            continue
        entries.append(
            records.HistoryEntry(
                change_id=row.id,
                changeset_id=row.changeset_id,
                at=_aware(row.at),
                user=row.user_login,
                action=row.action,
                kind=row.kind,
                record_id=row.record_id,
                op=row.op,
                field=row.field,
                old=old,
                new=new,
                summary=_summary(row.kind, row.record_id, row.op, row.field, old, new, names),
                undone=row.undone_by is not None,
                contact_id=row.contact_id,
                company_id=row.company_id,
                lead_id=row.lead_id,
            )
        )
    return entries


def _aware(value: datetime) -> datetime:
    from smallcrm.store.tables import UTCDateTime

    return UTCDateTime().process_result_value(value, None)  # type: ignore[return-value]


def _summary(
    kind: str,
    record_id: int | None,
    op: str,
    field: str | None,
    old: Any,
    new: Any,
    names: _Names,
) -> str:
    what = f"{kind} {record_id}"
    if kind in recorder.LINKS:
        owner = kind.removesuffix("_tag")
        snapshot = new if op == "insert" else old
        sign = "+" if op == "insert" else "-"
        return f"{owner} {record_id} tag {sign}{(snapshot or {}).get('tag') or '?'}"
    if op == "update":
        return f"{what} {field}: {names.show(field, old)} → {names.show(field, new)}"
    if op in ("insert", "delete"):
        snapshot = new if op == "insert" else old
        label = (snapshot or {}).get(_LABEL.get(kind, ""), "")
        verb = "created" if op == "insert" else "deleted"
        return f"{verb} {what}" + (f": {names.show(None, label)}" if label else "")
    if op in ("bulk_insert", "bulk_delete"):
        spans = new if op == "bulk_insert" else old
        count = sum(last - first + 1 for first, last in spans or [])
        shown = ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in (spans or [])[:3])
        more = ", …" if len(spans or []) > 3 else ""
        verb = "imported" if op == "bulk_insert" else "removed"
        return f"{verb} {count:,} {_plural(kind, count)} (ids {shown}{more})"
    if op == "snapshot":
        return f"{what} updated by an import"
    if op == "erase":
        return f"erased {what} and everything about them"
    return f"{op} {what}"


def _plural(kind: str, count: int) -> str:
    if count == 1:
        return kind
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


# --- the customer timeline's "edit" entries -------------------------------------------------


def timeline_edits(session: Session, kind: str, record_id: int) -> list[records.TimelineEntry]:
    """Edits of a contact or company and of its leads, one entry per change, for timelines."""
    conn = session.connection()
    column = CHANGE.c.contact_id if kind == "contact" else CHANGE.c.company_id
    rows = conn.execute(
        select(CHANGE, CHANGESET.c.at, CHANGESET.c.user_login)
        .join(CHANGESET, CHANGESET.c.id == CHANGE.c.changeset_id)
        .where(
            CHANGE.c.op == "update",
            or_(
                and_(CHANGE.c.kind == kind, CHANGE.c.record_id == record_id),
                and_(CHANGE.c.kind == "lead", column == record_id),
            ),
        )
        .order_by(CHANGE.c.id)
    ).all()
    names = _Names(conn)
    grouped: dict[tuple[int, str, int], list[Row]] = defaultdict(list)
    for row in rows:
        if row.kind == "lead" and row.field in _LEAD_EVENT_FIELDS:
            continue
        if row.field in _QUIET_FIELDS:
            continue
        grouped[row.changeset_id, row.kind, row.record_id].append(row)
    entries = []
    for (_, what, rid), items in grouped.items():
        parts = [
            f"{r.field}: {names.show(r.field, recorder.loads(r.old))} → "
            f"{names.show(r.field, recorder.loads(r.new))}"
            for r in items
        ]
        first = items[0]
        entries.append(
            records.TimelineEntry(
                at=_aware(first.at),
                type="edit",
                summary=(f"lead {rid}: " if what == "lead" else "") + "; ".join(parts),
                user=first.user_login,
                contact_id=first.contact_id,
                company_id=first.company_id,
                lead_id=first.lead_id,
            )
        )
    return entries


# --- undo -----------------------------------------------------------------------------------


def undo(db: Db, *, dry_run: bool = False) -> records.Undone:
    """Revert my last changeset that is not undone yet (an edit, a move, a delete with what it
    took along, a whole import). Refuses when someone else changed the same records since."""
    me = recorder.current_user()
    with db.write() as session:
        conn = session.connection()
        target = conn.execute(
            select(CHANGESET)
            .where(
                CHANGESET.c.user_login == me,
                CHANGESET.c.action != "undo",
                CHANGESET.c.undone_by.is_(None),
            )
            .order_by(CHANGESET.c.id.desc())
            .limit(1)
        ).first()
        if target is None:
            raise NotFound(f"nothing to undo: no change by {me} is recorded")
        if target.action == "forget":
            raise Invalid(
                f"your last change ({target.id}) erased a person for good; an erasure "
                "cannot be undone"
            )
        changes = conn.execute(
            select(CHANGE).where(CHANGE.c.changeset_id == target.id).order_by(CHANGE.c.id)
        ).all()
        names = _Names(conn)
        cancelled = _cancelled_links(changes)
        described = [
            _summary(c.kind, c.record_id, c.op, c.field, recorder.loads(c.old),
                     recorder.loads(c.new), names)
            for c in changes
            if c.kind != "stage_change" and c.field not in _QUIET_FIELDS
            and c.id not in cancelled
        ]  # fmt: skip
        _check(conn, target, changes, me)
        if dry_run:
            return records.Undone(
                target.id, _aware(target.at), target.action, described, None, True
            )
        recorder.set_action(session, "undo")
        undo_id = recorder.changeset_id(session, conn)
        conn.execute(update(CHANGESET).where(CHANGESET.c.id == undo_id).values(undo_of=target.id))
        _revert(session, conn, changes)
        conn.execute(update(CHANGESET).where(CHANGESET.c.id == target.id).values(undone_by=undo_id))
        return records.Undone(target.id, _aware(target.at), target.action, described, undo_id)


def _parent_kind(kind: str) -> str:
    return kind.removesuffix("_tag") if kind in recorder.LINKS else kind


def _check(conn: Connection, target: Row, changes: Sequence[Row], me: str) -> None:
    touched: set[tuple[str, int]] = set()
    spans: dict[str, list[list[int]]] = defaultdict(list)
    for c in changes:
        if c.op == "bulk_insert":
            spans[c.kind].extend(recorder.loads(c.new))
        elif c.record_id is not None:
            touched.add((_parent_kind(c.kind), c.record_id))
    later = conn.execute(
        select(CHANGE.c.kind, CHANGE.c.record_id, CHANGE.c.op, CHANGE.c.new,
               CHANGESET.c.id, CHANGESET.c.user_login)
        .join(CHANGESET, CHANGESET.c.id == CHANGE.c.changeset_id)
        .where(
            CHANGESET.c.id > target.id,
            CHANGESET.c.user_login != me,
            CHANGESET.c.undone_by.is_(None),
            CHANGESET.c.action != "undo",
        )
    )  # fmt: skip
    for kind, record_id, _op, _new, cs_id, who in later:
        key = _parent_kind(kind)
        if record_id is not None and (
            (key, record_id) in touched or _within(record_id, spans.get(key, ()))
        ):
            raise Conflict(
                f"cannot undo change {target.id}: {who} changed {key} {record_id} since "
                f"(change {cs_id}); look at `smallcrm history {key}:{record_id}`"
            )
    _check_values(conn, target, changes, spans)


def _within(value: int, spans: Iterable[Sequence[int]]) -> bool:
    return any(first <= value <= last for first, last in spans)


def _current(conn: Connection, kind: str, record_id: int) -> Row | None:
    table = recorder.TABLES[kind]
    return conn.execute(select(table).where(table.c.id == record_id)).first()


def _check_values(
    conn: Connection, target: Row, changes: Sequence[Row], spans: dict[str, list[list[int]]]
) -> None:
    def refuse(why: str) -> Conflict:
        return Conflict(f"cannot undo change {target.id}: {why}")

    inserted: dict[str, set[int]] = defaultdict(set)
    for c in changes:
        if c.op == "insert" and c.kind not in recorder.LINKS:
            inserted[c.kind].add(c.record_id)
    deleted = {(c.kind, c.record_id) for c in changes if c.op == "delete"}
    for c in changes:
        if c.op == "update":
            if (c.kind, c.record_id) in deleted:
                continue
            row = _current(conn, c.kind, c.record_id)
            if row is None:
                raise refuse(f"{c.kind} {c.record_id} no longer exists")
            now = recorder.to_json(row._mapping[c.field])
            if recorder.dumps(now) != recorder.dumps(recorder.loads(c.new)):
                raise refuse(f"{c.field} of {c.kind} {c.record_id} was changed since")
        elif c.op == "delete" and c.kind not in recorder.LINKS:
            if _current(conn, c.kind, c.record_id) is not None:
                raise refuse(f"{c.kind} {c.record_id} exists again (its id was reused)")
            email = (recorder.loads(c.old) or {}).get("email") if c.kind == "contact" else None
            if email:
                other = conn.execute(
                    select(Contact.id).where(func.lower(Contact.email) == email.lower())
                ).scalar()
                if other is not None and (c.kind, other) not in deleted:
                    raise refuse(f"contact {other} now has the email {email}")
        elif c.op == "insert" and c.kind in recorder.CASCADES:
            _check_children(conn, target, c.kind, [[c.record_id, c.record_id]], inserted, spans)
    for kind, kind_spans in spans.items():
        if kind in recorder.CASCADES:
            _check_children(conn, target, kind, kind_spans, inserted, spans)


def _check_children(
    conn: Connection,
    target: Row,
    kind: str,
    parent_spans: Sequence[Sequence[int]],
    inserted: dict[str, set[int]],
    spans: dict[str, list[list[int]]],
) -> None:
    """Refuse to delete records that rows made since (by anyone) now depend on."""
    for child, column, _action in recorder.CASCADES[kind]:
        if child in recorder.LINKS:
            continue
        table = recorder.TABLES[child]
        for first, last in parent_spans:
            found = conn.execute(
                select(table.c.id).where(table.c[column].between(first, last)).limit(10_000)
            ).scalars()
            for child_id in found:
                if child_id in inserted.get(child, ()) or _within(child_id, spans.get(child, ())):
                    continue
                parent = conn.execute(select(table.c[column]).where(table.c.id == child_id))
                raise Conflict(
                    f"cannot undo change {target.id}: {child} {child_id} was added to "
                    f"{kind} {parent.scalar()} since; undoing would take it along"
                )


def _revert(session: Session, conn: Connection, changes: Sequence[Row]) -> None:
    removed: dict[str, set[int]] = defaultdict(set)
    changed: dict[str, set[int]] = defaultdict(set)
    # 1. What the changeset created goes away again (children before their parents).
    for c in reversed(changes):
        if c.op == "insert":
            _delete(session, conn, c.kind, recorder.loads(c.new))
            removed[_parent_kind(c.kind)].add(c.record_id)
            if c.kind in recorder.LINKS:
                changed[_parent_kind(c.kind)].add(c.record_id)
        elif c.op == "bulk_insert":
            removed[c.kind] |= _delete_spans(session, conn, c.kind, recorder.loads(c.new))
    # 2. Fields of surviving rows go back, except links to other rows (their target may be
    #    one of the rows put back in step 3).
    plain: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    links: dict[tuple[str, int], dict[str, Any]] = defaultdict(dict)
    for c in reversed(changes):
        if c.op == "update":
            into = links if c.field.endswith("_id") else plain
            into[c.kind, c.record_id][c.field] = recorder.loads(c.old)
        elif c.op == "snapshot":
            snapshot = recorder.loads(c.old)
            for key, value in snapshot.items():
                if key != "id" and key not in recorder.SKIPPED:
                    target = links if key.endswith("_id") else plain
                    target[c.kind, c.record_id][key] = value
    for (kind, record_id), values in plain.items():
        _update(session, conn, kind, record_id, values)
        changed[kind].add(record_id)
    # 3. Deleted rows come back, parents first.
    deleted = [c for c in changes if c.op == "delete"]
    deleted.sort(key=lambda c: recorder.RESTORE_ORDER.index(c.kind))
    for c in deleted:
        _insert(session, conn, c.kind, recorder.loads(c.old))
        changed[_parent_kind(c.kind)].add(c.record_id)
    # 4. Links between rows.
    for (kind, record_id), values in links.items():
        _update(session, conn, kind, record_id, values)
        changed[kind].add(record_id)
    for kind, ids in removed.items():
        if kind in search_index.KINDS:
            search_index.remove(session, kind, ids)
    for kind, ids in changed.items():
        if kind in search_index.KINDS:
            search_index.refresh(session, kind, ids - removed.get(kind, set()))


def _delete(session: Session, conn: Connection, kind: str, snapshot: dict[str, Any]) -> None:
    table = recorder.TABLES[kind]
    if kind in recorder.LINKS:
        owner = recorder.LINKS[kind]
        where = and_(table.c[owner] == snapshot[owner], table.c.tag_id == snapshot["tag_id"])
    else:
        where = table.c.id == snapshot["id"]
    rows = conn.execute(select(table).where(where)).all()
    recorder.write(session, recorder.deletion_changes(conn, kind, rows), conn)
    conn.execute(delete(table).where(where))


def _delete_spans(
    session: Session, conn: Connection, kind: str, spans: Sequence[Sequence[int]]
) -> set[int]:
    table = recorder.TABLES[kind]
    gone: set[int] = set()
    for first, last in spans:
        ids = conn.execute(select(table.c.id).where(table.c.id.between(first, last))).scalars()
        gone.update(ids)
        conn.execute(delete(table).where(table.c.id.between(first, last)))
    recorder.write(
        session, [recorder.change_row(kind, None, "bulk_delete", old=recorder.ranges(gone))], conn
    )
    return gone


def _insert(session: Session, conn: Connection, kind: str, snapshot: dict[str, Any]) -> None:
    table = recorder.TABLES[kind]
    conn.execute(insert(table).values(**recorder.row_from_json(table, snapshot)))
    record_id = snapshot[recorder.LINKS[kind]] if kind in recorder.LINKS else snapshot["id"]
    recorder.write(
        session,
        [recorder.change_row(kind, record_id, "insert", new=snapshot, about=snapshot)],
        conn,
    )


def _update(
    session: Session, conn: Connection, kind: str, record_id: int, values: dict[str, Any]
) -> None:
    table = recorder.TABLES[kind]
    row = _current(conn, kind, record_id)
    if row is None:
        return
    current = {k: recorder.to_json(v) for k, v in row._mapping.items()}
    diffs = {k: v for k, v in values.items() if k in table.c and current.get(k) != v}
    if not diffs:
        return
    stored = {k: recorder.from_json(table, k, v) for k, v in diffs.items()}
    if "version" in table.c:
        stored["version"] = row.version + 1
        stored["updated_at"] = now_utc()
    conn.execute(update(table).where(table.c.id == record_id).values(**stored))
    about = {**current, **diffs}
    recorder.write(
        session,
        [
            recorder.change_row(kind, record_id, "update", field=k, old=current.get(k), new=v,
                                about=about)
            for k, v in diffs.items()
        ],
        conn,
    )  # fmt: skip

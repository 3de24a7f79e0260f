"""Recording every change, in one place: Session events, not code in every service.

Each write transaction that changes a contact, company, lead, activity, follow-up, stage change
or tag link gets one `changeset` row (who, when, what kind of action) and one `change` row per
field updated or row inserted or deleted. Deleting a row also records the rows the database
deletes or unlinks with it (ON DELETE CASCADE / SET NULL), as full snapshots, so undo can bring
them all back. Changes made by ORM flushes are seen by `before_flush`/`after_flush`; `DELETE`
statements run through a session by `do_orm_execute`; bulk Core inserts (imports) are recorded
by their caller through :func:`record_bulk`.

Recording happens only in sessions that `Db.write()` opened (`ENABLED` in `session.info`).
The history tables are written with Core statements on the flush's own connection, so the
record commits or rolls back with the change it describes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, event, func, insert, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.schema import Table

from smallcrm.store import tables
from smallcrm.store.tables import UTCDateTime, now_utc

ENABLED = "smallcrm.history"
_CHANGESET = "smallcrm.history.changeset"
_ACTION = "smallcrm.history.action"
_BULK = "smallcrm.history.bulk"


class _RecordedTables(Mapping[str, Table]):
    """The tables whose rows are recorded, by name; their classes load on first lookup, so a
    command that reads never pays for defining them."""

    _CLASSES = {
        "contact": "Contact", "company": "Company", "lead": "Lead", "activity": "Activity",
        "followup": "FollowUp", "stage_change": "StageChange", "contact_tag": "ContactTag",
        "company_tag": "CompanyTag", "lead_tag": "LeadTag",
    }  # fmt: skip

    def __getitem__(self, name: str) -> Table:
        return getattr(tables, self._CLASSES[name]).__table__  # type: ignore[no-any-return]

    def __contains__(self, name: object) -> bool:
        return name in self._CLASSES

    def __iter__(self) -> Iterator[str]:
        return iter(self._CLASSES)

    def __len__(self) -> int:
        return len(self._CLASSES)


#: Kinds of record whose rows are recorded, by table name.
TABLES: Mapping[str, Table] = _RecordedTables()
LINKS = {"contact_tag": "contact_id", "company_tag": "company_id", "lead_tag": "lead_id"}
#: Bookkeeping columns: never shown as a change, never restored by undo.
SKIPPED = frozenset({"version", "updated_at", "claimed_until", "claim_token"})

# What the database does to other rows when a row of a kind is deleted.
CASCADES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "contact": (
        ("activity", "contact_id", "delete"),
        ("followup", "contact_id", "delete"),
        ("contact_tag", "contact_id", "delete"),
        ("lead", "contact_id", "null"),
    ),
    "company": (
        ("activity", "company_id", "delete"),
        ("followup", "company_id", "delete"),
        ("company_tag", "company_id", "delete"),
        ("contact", "company_id", "null"),
        ("lead", "company_id", "null"),
    ),
    "lead": (
        ("stage_change", "lead_id", "delete"),
        ("lead_tag", "lead_id", "delete"),
        ("activity", "lead_id", "null"),
        ("followup", "lead_id", "null"),
    ),
}
# Parents before children: the order rows are put back in.
RESTORE_ORDER = (
    "company", "contact", "lead", "stage_change", "activity", "followup",
    "contact_tag", "company_tag", "lead_tag",
)  # fmt: skip


# --- values -------------------------------------------------------------------------------


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=_plain, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot record a {type(value).__name__}")


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def to_json(value: Any) -> Any:
    """A column value as JSON keeps it (datetimes and dates as ISO text)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def from_json(table: Table, column: str, value: Any) -> Any:
    """A recorded value back into what the column takes."""
    if value is None or column not in table.c:
        return value
    kind = table.c[column].type
    if isinstance(kind, UTCDateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    return value


def row_from_json(table: Table, snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: from_json(table, k, v) for k, v in snapshot.items() if k in table.c}


def _concerns(kind: str, record_id: int | None, row: dict[str, Any]) -> dict[str, Any]:
    """Which contact, company and lead a change is about (for `history REF` and erasure)."""
    contact_id, company_id, lead_id = (
        row.get("contact_id"),
        row.get("company_id"),
        row.get("lead_id"),
    )
    if kind == "contact":
        contact_id = record_id
    elif kind == "company":
        company_id = record_id
    elif kind == "lead":
        lead_id = record_id
    return {"contact_id": contact_id, "company_id": company_id, "lead_id": lead_id}


def change_row(
    kind: str,
    record_id: int | None,
    op: str,
    *,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
    about: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "record_id": record_id,
        "op": op,
        "field": field,
        "old": None if old is None else dumps(old),
        "new": None if new is None else dumps(new),
        **_concerns(kind, record_id, about or {}),
    }


# --- changesets -----------------------------------------------------------------------------


def enable(session: Session) -> None:
    session.info[ENABLED] = True


def suspend(session: Session) -> None:
    """Record nothing in this session (erasure writes its own PII-free record)."""
    session.info[ENABLED] = False


def set_action(session: Session, action: str) -> None:
    """Name the kind of this transaction's changeset ('change' unless said otherwise)."""
    session.info[_ACTION] = action


def changeset_id(session: Session, conn: Connection | None = None) -> int:
    """This transaction's changeset, created on first use."""
    found = session.info.get(_CHANGESET)
    if found is not None:
        return int(found)
    conn = conn or session.connection()
    result = conn.execute(
        insert(tables.Changeset.__table__).values(  # type: ignore[attr-defined]
            at=now_utc(),
            user_login=current_user(),
            action=session.info.get(_ACTION, "change"),
        )
    )
    new_id = int(result.inserted_primary_key[0])
    session.info[_CHANGESET] = new_id
    return new_id


def _login_from_environment() -> str:
    import getpass
    import os

    try:
        return os.environ.get("SMALLCRM_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "me"


#: Who "I" am. The store knows no configuration: smallcrm.users installs
#: smallcrm.settings.current_login here (environment, then the config file, then the login).
user_source: Callable[[], str] = _login_from_environment


def current_user() -> str:
    return user_source().strip().lower()


def write(
    session: Session, changes: Sequence[dict[str, Any]], conn: Connection | None = None
) -> None:
    if not changes:
        return
    conn = conn or session.connection()
    cs = changeset_id(session, conn)
    conn.execute(
        insert(tables.Change.__table__),  # type: ignore[attr-defined]
        [{"changeset_id": cs, **change} for change in changes],
    )


# --- snapshots ------------------------------------------------------------------------------


def _snapshot(conn: Connection, kind: str, row: Any) -> dict[str, Any]:
    values = {key: to_json(value) for key, value in dict(row._mapping).items()}
    if kind in LINKS:
        values["tag"] = _tag_name(conn, values["tag_id"])
    return values


def _tag_name(conn: Connection, tag_id: int) -> str | None:
    return conn.execute(select(tables.Tag.name).where(tables.Tag.id == tag_id)).scalar()


def _record_id(kind: str, values: dict[str, Any]) -> int:
    return int(values[LINKS[kind]] if kind in LINKS else values["id"])


def deletion_changes(
    conn: Connection, kind: str, rows: Iterable[Any], seen: set[tuple[str, str]] | None = None
) -> list[dict[str, Any]]:
    """Snapshots of rows about to be deleted, and of what the database will do with them."""
    seen = set() if seen is None else seen
    changes: list[dict[str, Any]] = []
    for row in rows:
        values = _snapshot(conn, kind, row)
        key = (kind, dumps(values))
        if key in seen:
            continue
        seen.add(key)
        record_id = _record_id(kind, values)
        changes.append(change_row(kind, record_id, "delete", old=values, about=values))
        for child, column, action in CASCADES.get(kind, ()):
            table = TABLES[child]
            found = conn.execute(select(table).where(table.c[column] == record_id)).all()
            if action == "delete":
                changes.extend(deletion_changes(conn, child, found, seen))
            else:
                for item in found:
                    data = _snapshot(conn, child, item)
                    changes.append(
                        change_row(
                            child, data["id"], "update", field=column, old=record_id, about=data
                        )
                    )
    return changes


def _object_values(obj: Any, table: Table) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key, None) for c in table.columns}


# --- the listeners --------------------------------------------------------------------------


def _tracked(obj: Any) -> str | None:
    name = getattr(type(obj), "__tablename__", None)
    return name if name in TABLES else None


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    if not session.info.get(ENABLED):
        return
    changes: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    conn: Connection | None = None
    for obj in list(session.dirty):
        kind = _tracked(obj)
        if kind is None or kind in LINKS or not session.is_modified(obj):
            continue
        conn = conn or session.connection()
        table = TABLES[kind]
        pk = inspect(obj).identity
        if not pk:
            continue
        stored = conn.execute(select(table).where(table.c.id == pk[0])).first()
        if stored is None:
            continue
        before = dict(stored._mapping)
        after = _object_values(obj, table)
        for column in table.columns:
            key = column.key
            if key in SKIPPED or key == "id":
                continue
            if to_json(before[key]) != to_json(after[key]):
                changes.append(
                    change_row(
                        kind,
                        pk[0],
                        "update",
                        field=key,
                        old=to_json(before[key]),
                        new=to_json(after[key]),
                        about={k: to_json(v) for k, v in after.items()},
                    )
                )
    for obj in list(session.deleted):
        kind = _tracked(obj)
        if kind is None:
            continue
        conn = conn or session.connection()
        table = TABLES[kind]
        state = inspect(obj)
        if not state.identity:
            continue
        pk_where = [c == v for c, v in zip(table.primary_key.columns, state.identity, strict=True)]
        rows = conn.execute(select(table).where(*pk_where)).all()
        changes.extend(deletion_changes(conn, kind, rows, seen))
    if changes:
        write(session, changes, conn)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: UOWTransaction) -> None:
    if not session.info.get(ENABLED):
        return
    changes: list[dict[str, Any]] = []
    conn: Connection | None = None
    for obj in list(session.new):
        kind = _tracked(obj)
        if kind is None:
            continue
        conn = conn or session.connection()
        table = TABLES[kind]
        values = {k: to_json(v) for k, v in _object_values(obj, table).items()}
        if kind in LINKS:
            values["tag"] = conn.execute(
                select(tables.Tag.name).where(tables.Tag.id == values["tag_id"])
            ).scalar()
        record_id = _record_id(kind, values)
        changes.append(change_row(kind, record_id, "insert", new=values, about=values))
    if changes:
        write(session, changes, conn)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    session = state.session
    if not state.is_delete or not session.info.get(ENABLED):
        return
    table = getattr(state.statement, "table", None)
    kind = getattr(table, "name", None)
    if kind not in TABLES:
        return
    conn = session.connection()
    query = select(TABLES[kind])
    where = state.statement.whereclause  # type: ignore[attr-defined]
    if where is not None:
        query = query.where(where)
    rows = conn.execute(query).all()
    write(session, deletion_changes(conn, kind, rows), conn)


@event.listens_for(Session, "after_transaction_end")
def _forget_state(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        for key in (_CHANGESET, _ACTION, _BULK):
            session.info.pop(key, None)


# --- bulk operations ------------------------------------------------------------------------


def ranges(ids: Iterable[int]) -> list[list[int]]:
    """[[first, last], ...] covering exactly `ids` (an import's ids are mostly consecutive)."""
    result: list[list[int]] = []
    for value in sorted({int(i) for i in ids}):
        if result and value == result[-1][1] + 1:
            result[-1][1] = value
        else:
            result.append([value, value])
    return result


def _merged(spans: Iterable[Sequence[int]]) -> list[list[int]]:
    """Spans [[first, last], ...] sorted, with overlapping and adjacent ones joined."""
    result: list[list[int]] = []
    for first, last in sorted((int(a), int(b)) for a, b in spans):
        if result and first <= result[-1][1] + 1:
            result[-1][1] = max(result[-1][1], last)
        else:
            result.append([first, last])
    return result


def expand(spans: Iterable[Sequence[int]]) -> Iterator[int]:
    for first, last in spans:
        yield from range(int(first), int(last) + 1)


def record_bulk(session: Session, kind: str, ids: Iterable[int], action: str = "insert") -> None:
    """Record rows written by bulk Core statements (imports) in this transaction's changeset.

    action="insert": call after inserting `ids`; undo deletes them again.
    action="update": call *before* updating `ids`; their current rows are kept so undo can put
    them back.
    """
    if kind in LINKS:
        return  # links come and go with the rows they link
    if kind not in TABLES:
        return  # users, tags, stages: not part of the history
    if isinstance(ids, range) and ids.step == 1:  # an import's ids: no need to list them
        id_list = ids
        spans = [[ids.start, ids.stop - 1]] if len(ids) else []
    else:
        id_list = sorted({int(i) for i in ids})
        spans = ranges(id_list)
    if not spans or session.info.get(ENABLED) is False:
        return
    if _ACTION not in session.info and _CHANGESET not in session.info:
        set_action(session, "import")
    conn = session.connection()
    if action == "insert":
        # One row per kind and transaction, however many batches the import writes.
        bulk: dict[str, tuple[int, list[list[int]]]] = session.info.setdefault(_BULK, {})
        if kind in bulk:
            change_id, known = bulk[kind]
            known[:] = _merged([*known, *spans])
            conn.execute(
                update(tables.Change.__table__)  # type: ignore[attr-defined]
                .where(tables.Change.__table__.c.id == change_id)  # type: ignore[attr-defined]
                .values(new=dumps(known))
            )
            return
        write(session, [change_row(kind, None, "bulk_insert", new=spans)], conn)
        change_id = conn.execute(
            select(func.max(tables.Change.__table__.c.id))  # type: ignore[attr-defined]
        ).scalar()
        bulk[kind] = (int(change_id), spans)
        return
    if action != "update":
        raise ValueError(f"unknown bulk action {action}")
    table = TABLES[kind]
    for start in range(0, len(id_list), 500):
        chunk = list(id_list[start : start + 500])
        rows = conn.execute(select(table).where(table.c.id.in_(chunk))).all()
        snapshots = [_snapshot(conn, kind, row) for row in rows]
        write(
            session,
            [change_row(kind, s["id"], "snapshot", old=s, about=s) for s in snapshots],
            conn,
        )

"""Reading contacts for a CSV export straight from an SQLite file, with the standard library.

Only the standard library (and the schema revision list, itself plain Python): loading
SQLAlchemy is the very cost the export's fast path exists to avoid.

The query mirrors the SQLite branch of :func:`smallcrm.store.bulk.contact_rows`: tags
aggregated by the database, cells a spreadsheet would run neutralised in SQL, UTC times written
as Python's `isoformat()` writes them. tests/test_export_fast.py compares the two paths.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from smallcrm.store.migrations import HEAD
from smallcrm.store.waits import BUSY_TIMEOUT_S

_BATCH = 2000

#: The export columns of contacts, in order: a contact record's fields, then `extra`.
COLUMNS = (
    "id", "name", "email", "phone", "company_id", "company", "title", "stage", "owner_id",
    "owner", "tags", "note", "consent", "do_not_contact", "version", "created_at", "updated_at",
    "extra",
)  # fmt: skip
#: The text cells a spreadsheet might run as a formula.
CONTACT_TEXT = ("name", "email", "phone", "company", "title", "stage", "owner", "tags", "note")


def contact_sources(tags: str) -> dict[str, str]:
    """Each export column's SQL over `contact c`, `company co` and `user_account u` (this
    module's query and smallcrm.store.bulk's), `tags` being the joined tag names' expression."""
    return {
        "id": "c.id", "name": "c.name", "email": "c.email", "phone": "c.phone",
        "company_id": "c.company_id", "company": "co.name", "title": "c.title",
        "stage": "c.stage", "owner_id": "c.owner_id", "owner": "u.name", "tags": tags,
        "note": "c.note", "consent": "CASE WHEN c.consent THEN 'true' ELSE 'false' END",
        "do_not_contact": "CASE WHEN c.do_not_contact THEN 'true' ELSE 'false' END",
        "version": "c.version", "created_at": "c.created_at", "updated_at": "c.updated_at",
        "extra": "c.extra",
    }  # fmt: skip


def iso_utc(value: str) -> str:
    """SQL writing a stored SQLite time (`2026-03-01 10:00:00.000000`, UTC) as isoformat()."""
    return (
        f"CASE WHEN length({value}) = 26 AND substr({value}, 21) = '000000' "
        f"THEN replace(substr({value}, 1, 19), ' ', 'T') "
        f"ELSE replace({value}, ' ', 'T') END || '+00:00'"
    )


def neutralised(value: str, starts: Sequence[str], *, sqlite: bool = True) -> str:
    """SQL putting `'` before a text that starts (after any `'`) with one of `starts`."""
    codes = ", ".join(str(ord(start)) for start in starts)
    first = "unicode" if sqlite else "ascii"  # the first character's code, compared cheaply
    # SQLite compares bytes: when every start, and `'`, sorts before 'A', most cells stop here.
    cheap = f"{value} < 'A' AND " if sqlite and all(s < "A" for s in starts) else ""
    quote = "''''"
    return (
        f"CASE WHEN {cheap}{first}({value}) IN ({codes}, 39) "
        f"AND {first}(ltrim({value}, {quote})) IN ({codes}) "
        f"THEN {quote} || {value} ELSE {value} END"
    )


def database_file(target: str) -> Path | None:
    """The file behind a plain-path target that exists; None for a URL or a missing file."""
    if "://" in target:
        return None
    path = Path(target).expanduser()
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
    except OSError:
        return None
    return path


def connect(path: Path) -> sqlite3.Connection | None:
    """The file opened read-only, if it is a smallcrm database of this schema in WAL mode."""
    uri = "file:" + urllib.parse.quote(str(path.resolve()), safe="/") + "?mode=ro"
    conn = None
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.close()
            return None
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:  # not a database, not ours, locked, …: the store says what is wrong
        if conn is not None:
            conn.close()
        return None
    if row is None or row[0] != HEAD:
        conn.close()
        return None
    return conn


def owner_id(conn: sqlite3.Connection, who: str) -> int | None:
    """The id of the user `who` names (an id, a login, an email; `me` already resolved to a
    login), as smallcrm.store.lookups.user finds them for an import."""
    from smallcrm.store import lookups  # it imports this module

    found = lookups.user(lookups.Reads.of_file(conn), who)
    return found[0] if found else None


class ContactReader:
    """Contacts matching `contact list` filters already resolved (tag name, stage, owner id)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        tag: str | None,
        stage: str | None,
        owner: int | None,
        include_do_not_contact: bool,
        limit: int | None,
    ) -> None:
        self.conn = conn
        self.where: list[str] = []
        self.params: dict[str, Any] = {}
        if tag is not None:
            self.where.append(
                "c.id IN (SELECT ct.contact_id FROM contact_tag ct JOIN tag t "
                "ON t.id = ct.tag_id WHERE t.name = :tag)"
            )
            self.params["tag"] = tag
        if stage is not None:
            self.where.append("c.stage = :stage")
            self.params["stage"] = stage
        if owner is not None:
            self.where.append("c.owner_id = :owner_id")
            self.params["owner_id"] = owner
        self.include_do_not_contact = include_do_not_contact
        self.limit = limit

    def close(self) -> None:
        self.conn.close()

    def extra_keys(self) -> list[str]:
        """Every key any contact keeps in `extra`, in first-seen order (as exporting's)."""
        keys: dict[str, None] = {}
        cursor = self.conn.execute("SELECT extra FROM contact WHERE extra IS NOT NULL ORDER BY id")
        while chunk := cursor.fetchmany(_BATCH * 5):
            for (text,) in chunk:
                value = json.loads(text) if isinstance(text, str) else text
                if value:
                    keys.update(dict.fromkeys(str(k) for k in value))
        return list(keys)

    def sql(self, neutralise: Sequence[str], utc_text: bool, extra: bool) -> str:
        source = contact_sources("tg.names")
        if utc_text:
            for name in ("created_at", "updated_at"):
                source[name] = iso_utc(source[name])
        if neutralise:
            for name in CONTACT_TEXT:
                source[name] = neutralised(source[name], neutralise)
        where = list(self.where)
        if not self.include_do_not_contact:
            where.append("NOT c.do_not_contact")
        chosen = COLUMNS if extra else COLUMNS[:-1]
        sql = (
            f"SELECT {', '.join(source[name] for name in chosen)} FROM contact c "
            "LEFT JOIN company co ON co.id = c.company_id "
            "LEFT JOIN user_account u ON u.id = c.owner_id "
            # Tags as one `a, b` text, aggregated once (a correlated subquery would run again
            # for each mention in the neutralising CASE).
            "LEFT JOIN (SELECT contact_id, group_concat(name, ', ') AS names FROM "
            "(SELECT ct.contact_id, t.name FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id "
            "ORDER BY ct.contact_id, t.name) GROUP BY contact_id) tg ON tg.contact_id = c.id "
            f"WHERE {' AND '.join(where) or '1 = 1'} ORDER BY c.id"
        )
        if self.limit is not None:
            sql += f" LIMIT {int(self.limit)}"
        return sql

    def begin(self) -> None:
        self.conn.execute("BEGIN")  # one snapshot: the extra columns and the rows agree

    def end(self) -> None:
        self.conn.execute("ROLLBACK")  # read only: nothing to keep

    def rows(
        self, neutralise: Sequence[str], utc_text: bool, extra: bool
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The contacts by id, a batch of tuples (COLUMNS, without `extra` unless asked)."""
        cursor = self.conn.execute(self.sql(neutralise, utc_text, extra), self.params)
        while chunk := cursor.fetchmany(_BATCH):
            yield chunk


# --- the board's first screen (smallcrm.quickstart) ---------------------------------------------

#: What a read here may raise (locked, damaged, …), and what `connect` gives, for callers that
#: name no database driver.
ReadError = sqlite3.Error
Connection = sqlite3.Connection

#: The lead columns of a board card, then its contact's, company's and owner's names.
LEAD_COLUMNS = (
    "id", "title", "contact_id", "company_id", "pipeline_id", "stage_id", "status",
    "value_minor", "currency", "probability", "expected_close", "owner_id", "lost_reason",
    "extra", "version", "stage_entered_at", "created_at", "updated_at", "closed_at",
)  # fmt: skip


def pipelines(conn: sqlite3.Connection) -> list[tuple[int, str, bool]]:
    """(id, name, is_default) of every pipeline, oldest first (pipeline.list_pipelines)."""
    rows = conn.execute("SELECT id, name, is_default FROM pipeline ORDER BY id")
    return [(int(i), str(name), bool(default)) for i, name, default in rows]


def stages(conn: sqlite3.Connection, pipeline_id: int) -> list[tuple[Any, ...]]:
    """(id, name, position, probability, stale_days) of a pipeline's stages (pipeline.stages_of)."""
    return conn.execute(
        "SELECT id, name, position, probability, stale_days FROM stage "
        "WHERE pipeline_id = ? ORDER BY position",
        (pipeline_id,),
    ).fetchall()


def open_leads_in(conn: sqlite3.Connection, stage_id: int) -> tuple[int, int]:
    """How many open leads a stage holds and their total value in minor units."""
    count, total = conn.execute(
        "SELECT count(*), coalesce(sum(value_minor), 0) FROM lead "
        "WHERE stage_id = ? AND status = 'open'",
        (stage_id,),
    ).fetchone()
    return int(count), int(total)


def first_open_leads(conn: sqlite3.Connection, stage_id: int, limit: int) -> list[tuple[Any, ...]]:
    """The stage's open leads longest in it first, up to `limit` (leads.board's page): each
    row LEAD_COLUMNS, then the contact's, company's and owner's names."""
    columns = ", ".join(f"l.{name}" for name in LEAD_COLUMNS)
    return conn.execute(
        f"SELECT {columns}, c.name, co.name, u.name FROM lead l "
        "LEFT JOIN contact c ON c.id = l.contact_id "
        "LEFT JOIN company co ON co.id = l.company_id "
        "LEFT JOIN user_account u ON u.id = l.owner_id "
        "WHERE l.id IN (SELECT id FROM lead WHERE stage_id = ? AND status = 'open' "
        "ORDER BY stage_entered_at, id LIMIT ?) "
        "ORDER BY l.stage_entered_at, l.id",
        (stage_id, limit),
    ).fetchall()


def lead_tags(conn: sqlite3.Connection, lead_ids: Sequence[int]) -> dict[int, list[str]]:
    """Each lead's tag names, in name order (tags.tags_of)."""
    found: dict[int, list[str]] = {}
    for start in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            "SELECT lt.lead_id, t.name FROM lead_tag lt JOIN tag t ON t.id = lt.tag_id "
            f"WHERE lt.lead_id IN ({marks}) ORDER BY t.name",
            chunk,
        )
        for lead_id, name in rows:
            found.setdefault(int(lead_id), []).append(str(name))
    return found


def has_contacts(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM contact LIMIT 1").fetchone() is not None

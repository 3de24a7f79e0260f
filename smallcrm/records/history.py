"""History, undo, erasure and backups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One recorded change; `old`/`new` are the stored values (whole rows for create/delete)."""

    change_id: int
    changeset_id: int
    at: datetime
    user: str
    action: str
    kind: str
    record_id: int | None
    op: str
    field: str | None
    old: Any
    new: Any
    summary: str
    undone: bool
    contact_id: int | None = None
    company_id: int | None = None
    lead_id: int | None = None


@dataclass(frozen=True, slots=True)
class Undone:
    """What `undo` reverted (or, with dry_run, would revert)."""

    changeset_id: int
    at: datetime
    action: str
    changes: list[str]
    undo_changeset_id: int | None
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Erasure:
    """What `contact forget` removed. Holds no personal data."""

    contact_id: int
    activities: int
    followups: int
    leads_unlinked: int
    tags: int
    history_entries: int
    search_entries: int
    backups_left: int
    wal_cleared: bool


@dataclass(frozen=True, slots=True)
class Backup:
    path: str
    size: int
    revision: str | None

"""The plain records services return. Field names are the JSON names of CLI.md.

Frozen dataclasses, never ORM rows: a front end cannot lazy-load or keep a session alive.
Datetimes are timezone-aware (UTC); money is in minor units (`value_minor`) and major units
(`value`) beside its `currency`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    name: str
    domain: str | None
    industry: str | None
    city: str | None
    country: str | None
    territory: str | None
    relationship: str | None
    phone: str | None
    note: str | None
    owner_id: int | None
    owner: str | None
    tags: list[str]
    extra: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    name: str
    email: str | None
    phone: str | None
    company_id: int | None
    company: str | None
    title: str | None
    stage: str | None
    owner_id: int | None
    owner: str | None
    tags: list[str]
    note: str | None
    consent: bool
    do_not_contact: bool
    extra: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Stage:
    id: int
    pipeline_id: int
    pipeline: str
    name: str
    position: int
    probability: int
    stale_days: int


@dataclass(frozen=True, slots=True)
class Lead:
    id: int
    title: str
    contact_id: int | None
    contact: str | None
    company_id: int | None
    company: str | None
    pipeline_id: int
    pipeline: str
    stage_id: int
    stage: str
    status: str
    value: int | float
    value_minor: int
    currency: str
    probability: int
    expected_close: date | None
    owner_id: int | None
    owner: str | None
    lost_reason: str | None
    stage_entered_at: datetime
    days_in_stage: int
    stale: bool
    close_passed: bool
    tags: list[str]
    extra: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    kind: str
    direction: str | None
    summary: str
    body: str | None
    occurred_at: datetime
    duration_min: int | None
    contact_id: int | None
    contact: str | None
    company_id: int | None
    company: str | None
    lead_id: int | None
    lead: str | None
    user_id: int | None
    user: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FollowUp:
    id: int
    title: str
    due_at: datetime
    status: str
    contact_id: int | None
    contact: str | None
    company_id: int | None
    company: str | None
    lead_id: int | None
    lead: str | None
    owner_id: int | None
    owner: str | None
    owner_email: str | None
    overdue: bool
    reminded_at: datetime | None
    done_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class StageChange:
    id: int
    lead_id: int
    event: str
    from_stage: str | None
    to_stage: str | None
    changed_at: datetime
    user: str | None


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    type: str
    summary: str
    detail: str | None = None
    user: str | None = None
    contact_id: int | None = None
    company_id: int | None = None
    lead_id: int | None = None
    activity_id: int | None = None
    followup_id: int | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    kind: str
    id: int
    title: str
    detail: str | None
    contact_id: int | None
    contact: str | None
    company_id: int | None
    company: str | None


@dataclass(frozen=True, slots=True)
class Agenda:
    owner: str | None
    overdue: list[FollowUp] = field(default_factory=list)
    due_today: list[FollowUp] = field(default_factory=list)
    stale_leads: list[Lead] = field(default_factory=list)
    closing_this_week: list[Lead] = field(default_factory=list)


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


@dataclass(frozen=True, slots=True)
class PipelineReportRow:
    """One stage of `report pipeline` in one currency (`row` is "stage" or "total")."""

    row: str
    pipeline: str
    stage: str | None
    position: int | None
    currency: str
    count: int
    total: int | float
    weighted: int | float
    avg_days_in_stage: float | None
    stale: int


@dataclass(frozen=True, slots=True)
class ForecastRow:
    """Open leads expected to close in one period ("overdue", "YYYY-MM", "later", "no date")."""

    period: str
    start: date | None
    end: date | None
    currency: str
    count: int
    total: int | float
    weighted: int | float


@dataclass(frozen=True, slots=True)
class ActivityReportRow:
    """Activities one rep logged since a time, counted per kind."""

    user_id: int | None
    rep: str | None
    call: int
    email: int
    meeting: int
    note: int
    visit: int
    sms: int
    other: int
    total: int


@dataclass(frozen=True, slots=True)
class WinRateRow:
    """One owner's closed leads since a time, in one currency."""

    owner_id: int | None
    owner: str | None
    currency: str
    won: int
    lost: int
    win_rate: float | None
    won_value: int | float
    avg_days_to_close: float | None

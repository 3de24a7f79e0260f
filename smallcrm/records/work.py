"""Activities, follow-ups, the timeline, search hits and the agenda."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smallcrm.records.sales import Lead


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

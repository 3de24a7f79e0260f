"""Pipeline stages, leads and their stage changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


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
class StageChange:
    id: int
    lead_id: int
    event: str
    from_stage: str | None
    to_stage: str | None
    changed_at: datetime
    user: str | None


@dataclass(frozen=True, slots=True)
class BoardColumn:
    """One stage of the board: count and total over all its open leads, cards up to a limit."""

    stage: Stage
    count: int
    total_minor: int
    leads: list[Lead]


@dataclass(frozen=True, slots=True)
class Board:
    """What the board screen shows: one pipeline's columns, and which pipelines there are."""

    pipeline: str
    pipelines: list[str]
    columns: list[BoardColumn]
    #: No lead and no contact at all: the screen shows how to start instead.
    empty_database: bool

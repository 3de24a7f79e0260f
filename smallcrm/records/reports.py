"""The rows of `smallcrm report`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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

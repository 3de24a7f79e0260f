"""The plain records services return. Field names are the JSON names of CLI.md.

Frozen dataclasses, never ORM rows: a front end cannot lazy-load or keep a session alive.
Datetimes are timezone-aware (UTC); money is in minor units (`value_minor`) and major units
(`value`) beside its `currency`.

The classes live in one module per area and load on first use, so a command pays only for
the records it returns (defining a dataclass costs most of a millisecond).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smallcrm import lazy

if TYPE_CHECKING:
    from smallcrm.records.history import Backup, Erasure, HistoryEntry, Undone
    from smallcrm.records.people import Company, Contact, User
    from smallcrm.records.reports import (
        ActivityReportRow,
        ForecastRow,
        PipelineReportRow,
        WinRateRow,
    )
    from smallcrm.records.sales import Board, BoardColumn, Lead, Stage, StageChange
    from smallcrm.records.work import Activity, Agenda, FollowUp, SearchHit, TimelineEntry

_HOMES = {
    "User": "people",
    "Company": "people",
    "Contact": "people",
    "Stage": "sales",
    "Lead": "sales",
    "StageChange": "sales",
    "BoardColumn": "sales",
    "Board": "sales",
    "Activity": "work",
    "FollowUp": "work",
    "TimelineEntry": "work",
    "SearchHit": "work",
    "Agenda": "work",
    "HistoryEntry": "history",
    "Undone": "history",
    "Erasure": "history",
    "Backup": "history",
    "PipelineReportRow": "reports",
    "ForecastRow": "reports",
    "ActivityReportRow": "reports",
    "WinRateRow": "reports",
}

__all__ = [
    "Board",
    "BoardColumn",
    "Activity",
    "ActivityReportRow",
    "Agenda",
    "Backup",
    "Company",
    "Contact",
    "Erasure",
    "FollowUp",
    "ForecastRow",
    "HistoryEntry",
    "Lead",
    "PipelineReportRow",
    "SearchHit",
    "Stage",
    "StageChange",
    "TimelineEntry",
    "Undone",
    "User",
    "WinRateRow",
]


__getattr__ = lazy.attributes(__name__, _HOMES)


def __dir__() -> list[str]:
    return list(__all__)

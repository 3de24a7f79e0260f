"""A lead's record from its stored fields: the rules for its probability, days in stage,
staleness and passed close date, in one place. smallcrm.leads builds records from table rows
through the store; smallcrm.quickstart builds the first board's from the file itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from smallcrm import records
from smallcrm.values import minor_to_major


def build(
    row: Any,
    stage: Any,
    pipeline_name: str,
    contact: str | None,
    company: str | None,
    owner: str | None,
    tag_names: list[str],
    now: datetime,
    today: date,
) -> records.Lead:
    """`row` holds a lead's stored fields as attributes (a table row, or the like) with its
    times aware; `stage` its stage's name, probability and stale_days."""
    days = max(0, (now - row.stage_entered_at).days)
    is_open = row.status == "open"
    return records.Lead(
        id=row.id,
        title=row.title,
        contact_id=row.contact_id,
        contact=contact,
        company_id=row.company_id,
        company=company,
        pipeline_id=row.pipeline_id,
        pipeline=pipeline_name,
        stage_id=row.stage_id,
        stage=stage.name,
        status=row.status,
        value=minor_to_major(row.value_minor, row.currency),
        value_minor=row.value_minor,
        currency=row.currency,
        probability=_effective_probability(row, stage),
        expected_close=row.expected_close,
        owner_id=row.owner_id,
        owner=owner,
        lost_reason=row.lost_reason,
        stage_entered_at=row.stage_entered_at,
        days_in_stage=days,
        stale=is_open and days >= stage.stale_days,
        close_passed=is_open and row.expected_close is not None and row.expected_close < today,
        tags=tag_names,
        extra=dict(row.extra or {}),
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        closed_at=row.closed_at,
    )


def _effective_probability(row: Any, stage: Any) -> int:
    if row.status == "won":
        return 100
    if row.status == "lost":
        return 0
    return row.probability if row.probability is not None else stage.probability

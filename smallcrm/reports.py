"""Reports: the pipeline by stage, the forecast by month, activity per rep, win rates.

Rows are fetched with plain SQLModel selects and summed here in Python, so every report works
the same on SQLite and PostgreSQL (no date functions in SQL). Money is summed in exact minor
units per currency and returned in major units beside `currency`.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session, col, select

from smallcrm import pipeline, records, settings, users
from smallcrm.errors import Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store.tables import Activity, Lead, Stage, User, now_utc
from smallcrm.values import ACTIVITY_KINDS, local_zone, minor_to_major, parse_when

REPORTS = ("pipeline", "forecast", "activity", "winrate")
MAX_MONTHS = 120


def _owner_id(session: Session, owner: str | None) -> int | None:
    """The user id to filter by; -1 (matches nothing) for `me` before I exist."""
    if not owner:
        return None
    row = users.find(session, owner)
    if row is None:
        if owner.strip().lower() == "me":
            return -1
        raise NotFound(f"no user '{owner}' (see `smallcrm user list`)")
    return row.id


def _since(since: str | datetime | None, now: datetime, default_days: int) -> datetime:
    if since is None or (isinstance(since, str) and not since.strip()):
        return now - timedelta(days=default_days)
    if isinstance(since, datetime):
        return since
    return parse_when(since, now=now)


def _round_minor(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _weighted(value_minor: int, probability: int) -> Decimal:
    return Decimal(value_minor) * probability / 100


def _probability(lead: Lead, stage: Stage) -> int:
    return lead.probability if lead.probability is not None else stage.probability


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def _local_today(now: datetime) -> date:
    return now.astimezone(local_zone()).date()


# --------------------------------------------------------------------------------------------
# pipeline


class _Sums:
    __slots__ = ("count", "days", "stale", "total", "weighted")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0
        self.weighted = Decimal(0)
        self.days: list[int] = []
        self.stale = 0

    def add(self, value_minor: int, probability: int, days: int | None = None) -> None:
        self.count += 1
        self.total += value_minor
        self.weighted += _weighted(value_minor, probability)
        if days is not None:
            self.days.append(days)


def pipeline_report(
    db: Db,
    *,
    pipeline_name: str | None = None,
    owner: str | None = None,
    now: datetime | None = None,
) -> list[records.PipelineReportRow]:
    """Open leads of a pipeline (the default one unless named) per stage and currency: count,
    total, weighted value (value x probability), average days in stage, how many are stale;
    then a total row per currency. Every stage appears, with zeros when it has no leads."""
    now = now or now_utc()
    with db.read() as session:
        pipe = pipeline.resolve_pipeline(session, pipeline_name)
        stages = pipeline.stages_of(session, pipe.id)
        query = select(Lead).where(Lead.pipeline_id == pipe.id, Lead.status == "open")
        owner_id = _owner_id(session, owner)
        if owner_id is not None:
            query = query.where(Lead.owner_id == owner_id)
        rows = session.exec(query).all()
        by_id = {stage.id: stage for stage in stages}
        sums: dict[tuple[int | None, str], _Sums] = defaultdict(_Sums)
        currencies: set[str] = set()
        for lead in rows:
            stage = by_id.get(lead.stage_id)
            if stage is None:  # a stage of another pipeline: the database is inconsistent
                continue
            days = max(0, (now - lead.stage_entered_at).days)
            currencies.add(lead.currency)
            for key in ((stage.id, lead.currency), (None, lead.currency)):
                entry = sums[key]
                entry.add(lead.value_minor, _probability(lead, stage), days)
                if days >= stage.stale_days:
                    entry.stale += 1
        ordered = sorted(currencies) or [settings.default_currency()]
        result = []
        for stage in stages:
            for currency in ordered:
                result.append(_pipeline_row("stage", pipe.name, stage, currency, sums))
        for currency in ordered:
            result.append(_pipeline_row("total", pipe.name, None, currency, sums))
        return result


def _pipeline_row(
    kind: str, pipe: str, stage: Stage | None, currency: str, sums: dict[Any, _Sums]
) -> records.PipelineReportRow:
    entry = sums.get((stage.id if stage else None, currency)) or _Sums()
    return records.PipelineReportRow(
        row=kind,
        pipeline=pipe,
        stage=stage.name if stage else None,
        position=stage.position if stage else None,
        currency=currency,
        count=entry.count,
        total=minor_to_major(entry.total, currency),
        weighted=minor_to_major(_round_minor(entry.weighted), currency),
        avg_days_in_stage=_mean(entry.days),
        stale=entry.stale,
    )


# --------------------------------------------------------------------------------------------
# forecast


def _month_start(day: date, months_ahead: int) -> date:
    index = day.year * 12 + day.month - 1 + months_ahead
    return date(index // 12, index % 12 + 1, 1)


def forecast(
    db: Db,
    *,
    months: int = 3,
    pipeline_name: str | None = None,
    owner: str | None = None,
    now: datetime | None = None,
) -> list[records.ForecastRow]:
    """Open leads by month of expected close: "overdue" (a date already passed), this month
    (from today) and the next ones up to `months` in all, "later", and "no date"; per currency,
    with count, total and weighted value. Every period appears, with zeros when empty."""
    if not 1 <= months <= MAX_MONTHS:
        raise Invalid(f"--months must be between 1 and {MAX_MONTHS}")
    now = now or now_utc()
    today = _local_today(now)
    starts = [_month_start(today, i) for i in range(months + 1)]
    periods: list[tuple[str, date | None, date | None]] = [("overdue", None, today - timedelta(1))]
    for i in range(months):
        first = today if i == 0 else starts[i]
        periods.append((starts[i].strftime("%Y-%m"), first, starts[i + 1] - timedelta(1)))
    periods += [("later", starts[months], None), ("no date", None, None)]
    with db.read() as session:
        query = select(Lead, Stage).join(Stage, Stage.id == Lead.stage_id)
        query = query.where(Lead.status == "open")
        if pipeline_name:
            pipe = pipeline.resolve_pipeline(session, pipeline_name)
            query = query.where(Lead.pipeline_id == pipe.id)
        owner_id = _owner_id(session, owner)
        if owner_id is not None:
            query = query.where(Lead.owner_id == owner_id)
        rows = session.exec(query).all()
    sums: dict[tuple[str, str], _Sums] = defaultdict(_Sums)
    currencies: set[str] = set()
    for lead, stage in rows:
        currencies.add(lead.currency)
        close = lead.expected_close
        if close is None:
            period = "no date"
        elif close < today:
            period = "overdue"
        elif close >= starts[months]:
            period = "later"
        else:
            period = close.strftime("%Y-%m")
        sums[(period, lead.currency)].add(lead.value_minor, _probability(lead, stage))
    ordered = sorted(currencies) or [settings.default_currency()]
    result = []
    for name, start, end in periods:
        for currency in ordered:
            entry = sums.get((name, currency)) or _Sums()
            result.append(
                records.ForecastRow(
                    period=name,
                    start=start,
                    end=end,
                    currency=currency,
                    count=entry.count,
                    total=minor_to_major(entry.total, currency),
                    weighted=minor_to_major(_round_minor(entry.weighted), currency),
                )
            )
    return result


# --------------------------------------------------------------------------------------------
# activity


def activity_report(
    db: Db,
    *,
    since: str | datetime | None = None,
    owner: str | None = None,
    now: datetime | None = None,
) -> list[records.ActivityReportRow]:
    """Activities logged since `since` (default: 30 days ago), per rep: a count per kind and
    the total. Reps by name; activities without a rep last."""
    now = now or now_utc()
    start = _since(since, now, 30)
    with db.read() as session:
        query = (
            select(Activity.user_id, User.name, Activity.kind)
            .outerjoin(User, User.id == Activity.user_id)
            .where(col(Activity.occurred_at) >= start)
        )
        owner_id = _owner_id(session, owner)
        if owner_id is not None:
            query = query.where(Activity.user_id == owner_id)
        rows = session.exec(query).all()
    counts: dict[int | None, dict[str, int]] = {}
    names: dict[int | None, str | None] = {}
    for user_id, name, kind in rows:
        per_kind = counts.setdefault(user_id, dict.fromkeys(ACTIVITY_KINDS, 0))
        names[user_id] = name
        per_kind[kind if kind in per_kind else "other"] += 1
    order = sorted(counts, key=lambda uid: (uid is None, names[uid] or "", uid or 0))
    return [
        records.ActivityReportRow(
            user_id=uid, rep=names[uid], **counts[uid], total=sum(counts[uid].values())
        )
        for uid in order
    ]


# --------------------------------------------------------------------------------------------
# winrate


def winrate(
    db: Db,
    *,
    since: str | datetime | None = None,
    owner: str | None = None,
    now: datetime | None = None,
) -> list[records.WinRateRow]:
    """Leads closed since `since` (default: 90 days ago), per owner and currency: won, lost,
    win rate % (won of closed), won value, and average days from creation to close."""
    now = now or now_utc()
    start = _since(since, now, 90)
    with db.read() as session:
        query = (
            select(Lead, User.name)
            .outerjoin(User, User.id == Lead.owner_id)
            .where(col(Lead.status).in_(("won", "lost")), col(Lead.closed_at) >= start)
        )
        owner_id = _owner_id(session, owner)
        if owner_id is not None:
            query = query.where(Lead.owner_id == owner_id)
        rows = session.exec(query).all()
    groups: dict[tuple[int | None, str], dict[str, Any]] = {}
    names: dict[int | None, str | None] = {}
    for lead, name in rows:
        names[lead.owner_id] = name
        group = groups.setdefault(
            (lead.owner_id, lead.currency), {"won": 0, "lost": 0, "value": 0, "days": []}
        )
        group[lead.status] += 1
        if lead.status == "won":
            group["value"] += lead.value_minor
        if lead.closed_at is not None:
            group["days"].append(max(0, (lead.closed_at - lead.created_at).days))
    order = sorted(groups, key=lambda k: (k[0] is None, names[k[0]] or "", k[0] or 0, k[1]))
    result = []
    for key in order:
        group = groups[key]
        closed = group["won"] + group["lost"]
        result.append(
            records.WinRateRow(
                owner_id=key[0],
                owner=names[key[0]],
                currency=key[1],
                won=group["won"],
                lost=group["lost"],
                win_rate=round(100 * group["won"] / closed, 1) if closed else None,
                won_value=minor_to_major(group["value"], key[1]),
                avg_days_to_close=_mean(group["days"]),
            )
        )
    return result

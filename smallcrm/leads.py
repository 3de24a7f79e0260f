"""Leads: opportunities moving through a pipeline until they are won or lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, false, func, or_
from sqlmodel import Session, col, select

from smallcrm import lead_record, pipeline, records, refs, settings, tags, users
from smallcrm.common import check_version, clean_name, clean_text, touch
from smallcrm.errors import Invalid
from smallcrm.store import Db, search_index
from smallcrm.store.tables import (
    Company,
    Contact,
    Lead,
    Pipeline,
    Stage,
    StageChange,
    User,
    now_utc,
)
from smallcrm.values import (
    currency_code,
    local_zone,
    parse_amount,
    parse_date,
    parse_percent,
)

STATUSES = ("open", "won", "lost")
EDITABLE = (
    "title", "contact", "company", "value", "currency", "close", "probability", "owner",
    "extra", "tags", "add_tags", "remove_tags",
)  # fmt: skip


def _value_minor(value: str | int | None, currency: str) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, int):
        return value
    return parse_amount(str(value), currency)


def add(
    db: Db,
    title: str,
    *,
    contact: str | None = None,
    company: str | None = None,
    value: str | int | None = None,
    currency: str | None = None,
    stage: str | None = None,
    close: str | date | None = None,
    owner: str | None = None,
    probability: str | int | None = None,
    pipeline_name: str | None = None,
    tags_: Sequence[str] = (),
    extra: dict[str, Any] | None = None,
) -> records.Lead:
    title = clean_name(title, "lead")
    currency = currency_code(currency) if currency else settings.default_currency()
    value_minor = _value_minor(value, currency)
    expected_close = _close_date(close)
    chance = _probability(probability)
    tag_names = tags.clean(tags_)
    with db.write() as session:
        contact_row = refs.contact(session, contact) if contact else None
        company_row = refs.company(session, company) if company else None
        company_id = (
            company_row.id if company_row else contact_row.company_id if contact_row else None
        )
        pipe = pipeline.resolve_pipeline(session, pipeline_name)
        stage_row = (
            pipeline.resolve_stage(session, pipe.id, stage)
            if stage
            else pipeline.stages_of(session, pipe.id)[0]
        )
        me = users.me(session)
        owner_row = users.resolve(session, owner) if owner else me
        now = now_utc()
        row = Lead(
            title=title,
            contact_id=contact_row.id if contact_row else None,
            company_id=company_id,
            pipeline_id=pipe.id,
            stage_id=stage_row.id,
            value_minor=value_minor,
            currency=currency,
            probability=chance,
            expected_close=expected_close,
            owner_id=owner_row.id,
            extra=extra or None,
            stage_entered_at=now,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        _record_event(session, row, "created", None, stage_row.id, me.id, now)
        tags.add(session, "lead", row.id, tag_names)
        search_index.refresh(session, "lead", [row.id])
        return load(session, row.id)


def _close_date(close: str | date | None) -> date | None:
    if close is None or close == "":
        return None
    return close if isinstance(close, date) else parse_date(close)


def _probability(probability: str | int | None) -> int | None:
    if probability is None or probability == "":
        return None
    if isinstance(probability, int):
        if not 0 <= probability <= 100:
            raise Invalid("probability is a percentage from 0 to 100")
        return probability
    return parse_percent(probability)


def _record_event(
    session: Session,
    row: Lead,
    event: str,
    from_stage: int | None,
    to_stage: int | None,
    user_id: int | None,
    when: datetime,
) -> None:
    session.add(
        StageChange(
            lead_id=row.id,
            from_stage_id=from_stage,
            to_stage_id=to_stage,
            event=event,
            changed_at=when,
            user_id=user_id,
        )
    )


def _base_query():  # type: ignore[no-untyped-def]
    return (
        select(Lead, Stage, Pipeline.name, Contact.name, Company.name, User.name)
        .join(Stage, Stage.id == Lead.stage_id)
        .join(Pipeline, Pipeline.id == Lead.pipeline_id)
        .outerjoin(Contact, Contact.id == Lead.contact_id)
        .outerjoin(Company, Company.id == Lead.company_id)
        .outerjoin(User, User.id == Lead.owner_id)
    )


def _records(session: Session, rows: Sequence[Any]) -> list[records.Lead]:
    tag_map = tags.tags_of(session, "lead", [row[0].id for row in rows])
    now = now_utc()
    today = now.astimezone(local_zone()).date()
    return [
        lead_record.build(
            lead, stage, pipe, contact, company, owner, tag_map.get(lead.id, []), now, today
        )
        for lead, stage, pipe, contact, company, owner in rows
    ]


def load(session: Session, lead_id: int) -> records.Lead:
    return _records(session, session.exec(_base_query().where(Lead.id == lead_id)).all())[0]


def get(db: Db, ref: str) -> records.Lead:
    with db.read() as session:
        return load(session, refs.lead(session, ref).id)


def _status(status: str | None) -> str | None:
    if status is None or status.strip().lower() == "all":
        return None
    value = status.strip().lower()
    if value not in STATUSES:
        raise Invalid(f"unknown status '{status}'; expected one of: open, won, lost, all")
    return value


def list_leads(
    db: Db,
    *,
    stage: str | None = None,
    status: str | None = "open",
    owner: str | None = None,
    contact: str | None = None,
    company: str | None = None,
    pipeline_name: str | None = None,
    search: str | None = None,
    tag: str | None = None,
    stale: bool = False,
    closing_by: date | None = None,
    limit: int | None = None,
    offset: int = 0,
    now: datetime | None = None,
) -> list[records.Lead]:
    """Leads in board order. `stale`: open leads longer in their stage than it allows;
    `closing_by`: open leads expected to close on or before that date."""
    wanted_status = _status(status)
    with db.read() as session:
        query = _base_query()
        if wanted_status:
            query = query.where(Lead.status == wanted_status)
        if stage or pipeline_name:
            pipe = pipeline.resolve_pipeline(session, pipeline_name)
            query = query.where(Lead.pipeline_id == pipe.id)
            if stage:
                query = query.where(
                    Lead.stage_id == pipeline.resolve_stage(session, pipe.id, stage).id
                )
        if owner:
            owner_row = users.find(session, owner)
            query = query.where(Lead.owner_id == (owner_row.id if owner_row else -1))
        if contact:
            query = query.where(Lead.contact_id == refs.contact(session, contact).id)
        if company:
            query = query.where(Lead.company_id == refs.company(session, company).id)
        if tag:
            query = query.where(col(Lead.id).in_(tags.ids_with_tag("lead", tag)))
        if search and search.strip():
            hits = [i for _, i in search_index.matching(session, search, ["lead"])]
            if not hits:
                return []
            query = query.where(col(Lead.id).in_(hits))
        if stale or closing_by:
            query = query.where(Lead.status == "open")
        if stale:
            query = query.where(_stale_clause(session, now or now_utc()))
        if closing_by:
            query = query.where(Lead.expected_close <= closing_by)
        query = query.order_by(Stage.position, col(Lead.stage_entered_at), Lead.id)
        return _records(session, session.exec(query.offset(offset).limit(limit)).all())


def _stale_clause(session: Session, now: datetime):  # type: ignore[no-untyped-def]
    """In a stage for at least that stage's stale days (thresholds computed per stage)."""
    stages = session.exec(select(Stage)).all()
    return or_(
        false(),
        *[
            and_(Lead.stage_id == s.id, Lead.stage_entered_at <= now - timedelta(days=s.stale_days))
            for s in stages
        ],
    )


def move(db: Db, ref: str, stage: str, *, expected_version: int | None = None) -> records.Lead:
    """Put a lead in another stage of its pipeline (reopening it if it was closed)."""
    with db.write() as session:
        row = _locked(session, ref, expected_version)
        target = pipeline.resolve_stage(session, row.pipeline_id, stage)
        _move_to(session, row, target)
        return load(session, row.id)


def step(db: Db, ref: str, direction: int, *, expected_version: int | None = None) -> records.Lead:
    """Move a lead to the next (+1) or previous (-1) stage; at either end it stays put."""
    with db.write() as session:
        row = _locked(session, ref, expected_version)
        stages = pipeline.stages_of(session, row.pipeline_id)
        index = next(i for i, s in enumerate(stages) if s.id == row.stage_id)
        target = stages[max(0, min(len(stages) - 1, index + direction))]
        _move_to(session, row, target)
        return load(session, row.id)


def _locked(session: Session, ref: str, expected_version: int | None) -> Lead:
    row = refs.lead(session, str(ref))
    session.refresh(row, with_for_update=True)
    check_version(row, expected_version, "lead")
    return row


def _move_to(session: Session, row: Lead, target: Stage) -> None:
    if target.id == row.stage_id and row.status == "open":
        return
    me = users.me(session)
    now = now_utc()
    if row.status != "open":
        _record_event(session, row, "reopened", row.stage_id, row.stage_id, me.id, now)
        row.status, row.closed_at, row.lost_reason = "open", None, None
    if target.id != row.stage_id:
        _record_event(session, row, "moved", row.stage_id, target.id, me.id, now)
        row.stage_id = target.id
        row.stage_entered_at = now
    touch(row)
    session.add(row)
    session.flush()


def won(db: Db, ref: str, *, expected_version: int | None = None) -> records.Lead:
    return _close(db, ref, "won", None, expected_version)


def lost(
    db: Db, ref: str, reason: str | None = None, *, expected_version: int | None = None
) -> records.Lead:
    return _close(db, ref, "lost", clean_text(reason, "reason"), expected_version)


def _close(
    db: Db, ref: str, status: str, reason: str | None, expected_version: int | None
) -> records.Lead:
    with db.write() as session:
        row = _locked(session, ref, expected_version)
        if row.status == status:
            raise Invalid(f"lead {row.id} is already {status}")
        now = now_utc()
        _record_event(session, row, status, row.stage_id, None, users.me(session).id, now)
        row.status, row.closed_at, row.lost_reason = status, now, reason
        touch(row)
        session.add(row)
        session.flush()
        search_index.refresh(session, "lead", [row.id])
        return load(session, row.id)


def edit(db: Db, ref: str, *, expected_version: int | None = None, **changes: Any) -> records.Lead:
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise Invalid(f"cannot edit {', '.join(sorted(unknown))} of a lead")
    with db.write() as session:
        row = _locked(session, ref, expected_version)
        if "currency" in changes and changes["currency"]:
            row.currency = currency_code(changes["currency"])
        for key, value in changes.items():
            if key == "title":
                row.title = clean_name(value, "lead")
            elif key == "value":
                row.value_minor = _value_minor(value, row.currency)
            elif key == "close":
                row.expected_close = _close_date(value)
            elif key == "probability":
                row.probability = _probability(value)
            elif key == "owner":
                row.owner_id = users.resolve(session, value).id
            elif key == "contact":
                row.contact_id = refs.contact(session, value).id if value else None
            elif key == "company":
                row.company_id = refs.company(session, value).id if value else None
            elif key == "extra":
                row.extra = {**(row.extra or {}), **(value or {})} or None
        touch(row)
        session.add(row)
        session.flush()
        if "tags" in changes:
            tags.replace(session, "lead", row.id, changes["tags"] or [])
        tags.add(session, "lead", row.id, changes.get("add_tags") or [])
        tags.remove(session, "lead", row.id, changes.get("remove_tags") or [])
        search_index.refresh(session, "lead", [row.id])
        return load(session, row.id)


def delete(db: Db, ref: str) -> records.Lead:
    with db.write() as session:
        row = refs.lead(session, ref)
        record = load(session, row.id)
        search_index.remove(session, "lead", [row.id])
        session.delete(row)
        session.flush()
        return record


def board(
    db: Db,
    *,
    pipeline_name: str | None = None,
    owner: str | None = None,
    search: str | None = None,
    per_stage: int = 200,
) -> list[records.BoardColumn]:
    """The open leads of a pipeline by stage: counts and totals over all, cards up to a limit."""
    with db.read() as session:
        pipe = pipeline.resolve_pipeline(session, pipeline_name)
        owner_id: int | None = None
        if owner:
            owner_row = users.find(session, owner)
            owner_id = owner_row.id if owner_row else -1
        hits: list[int] | None = None
        if search and search.strip():
            hits = [i for _, i in search_index.matching(session, search, ["lead"])]
        columns = []
        for stage in pipeline.stages_of(session, pipe.id):
            where = [Lead.stage_id == stage.id, Lead.status == "open"]
            if owner_id is not None:
                where.append(Lead.owner_id == owner_id)
            if hits is not None:
                where.append(col(Lead.id).in_(hits))
            count, total = session.exec(
                select(func.count(), func.coalesce(func.sum(Lead.value_minor), 0)).where(*where)
            ).one()
            # Pick the page of ids first, then join: a stage of thousands of leads is not
            # joined to contacts and companies just to keep the first few.
            first = (
                select(Lead.id)
                .where(*where)
                .order_by(col(Lead.stage_entered_at), Lead.id)
                .limit(per_stage)
            )
            query = (
                _base_query()
                .where(col(Lead.id).in_(first))
                .order_by(col(Lead.stage_entered_at), Lead.id)
            )
            cards = _records(session, session.exec(query).all())
            columns.append(
                records.BoardColumn(pipeline.to_record(stage, pipe), count, total, cards)
            )
        return columns


def history(db: Db, ref: str) -> list[records.StageChange]:
    """A lead's stage changes (created, moved, won, lost, reopened), newest first."""
    from sqlalchemy.orm import aliased

    before, after = aliased(Stage), aliased(Stage)
    with db.read() as session:
        row = refs.lead(session, str(ref))
        rows = session.exec(
            select(StageChange, before.name, after.name, User.name)
            .outerjoin(before, before.id == StageChange.from_stage_id)
            .outerjoin(after, after.id == StageChange.to_stage_id)
            .outerjoin(User, User.id == StageChange.user_id)
            .where(StageChange.lead_id == row.id)
            .order_by(col(StageChange.changed_at).desc(), col(StageChange.id).desc())
        ).all()
    return [
        records.StageChange(
            id=change.id,
            lead_id=change.lead_id,
            event=change.event,
            from_stage=from_name,
            to_stage=to_name,
            changed_at=change.changed_at,
            user=user,
        )
        for change, from_name, to_name, user in rows
    ]

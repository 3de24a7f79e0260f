"""Pipelines and their stages: the ordered steps a lead moves through."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from smallcrm import records
from smallcrm.common import clean_name
from smallcrm.errors import Duplicate, Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store.tables import Lead, Pipeline, Stage


def default_pipeline(session: Session) -> Pipeline:
    row = session.exec(select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.id)).first()
    if row is None:
        raise NotFound("there is no pipeline; the database is incomplete (run `smallcrm db check`)")
    return row


def resolve_pipeline(session: Session, ref: str | None) -> Pipeline:
    if not ref:
        return default_pipeline(session)
    ref = ref.strip()
    is_id = ref.isascii() and ref.isdigit() and len(ref) < 19
    row = session.get(Pipeline, int(ref)) if is_id else None
    row = (
        row
        or session.exec(
            select(Pipeline).where(func.lower(Pipeline.name) == func.lower(ref))
        ).first()
    )
    if row is None:
        raise NotFound(f"no pipeline '{ref}'")
    return row


def stages_of(session: Session, pipeline_id: int) -> list[Stage]:
    return list(
        session.exec(
            select(Stage).where(Stage.pipeline_id == pipeline_id).order_by(Stage.position)
        ).all()
    )


def resolve_stage(session: Session, pipeline_id: int, name: str) -> Stage:
    """A stage of the pipeline by name (case-insensitive)."""
    stages = stages_of(session, pipeline_id)
    wanted = (name or "").strip().casefold()
    for stage in stages:
        if stage.name.casefold() == wanted:
            return stage
    names = ", ".join(s.name for s in stages)
    raise Invalid(f"unknown stage '{name}'; stages are: {names}")


def to_record(stage: Stage, pipeline: Pipeline) -> records.Stage:
    return records.Stage(
        id=stage.id,
        pipeline_id=pipeline.id,
        pipeline=pipeline.name,
        name=stage.name,
        position=stage.position,
        probability=stage.probability,
        stale_days=stage.stale_days,
    )


def list_stages(db: Db, pipeline: str | None = None) -> list[records.Stage]:
    with db.read() as session:
        row = resolve_pipeline(session, pipeline)
        return [to_record(s, row) for s in stages_of(session, row.id)]


def default_name(db: Db) -> str:
    """The name of the pipeline shown when none is chosen."""
    with db.read() as session:
        return default_pipeline(session).name


def list_pipelines(db: Db) -> list[str]:
    with db.read() as session:
        return [p.name for p in session.exec(select(Pipeline).order_by(Pipeline.id))]


def add_stage(
    db: Db,
    name: str,
    *,
    pipeline: str | None = None,
    probability: int = 50,
    stale_days: int = 14,
    position: int | None = None,
) -> records.Stage:
    name = clean_name(name, "stage")
    _check_stage_numbers(probability, stale_days)
    with db.write() as session:
        row = resolve_pipeline(session, pipeline)
        stages = stages_of(session, row.id)
        if any(s.name.casefold() == name.casefold() for s in stages):
            raise Duplicate(f"stage '{name}' already exists")
        new = Stage(
            pipeline_id=row.id, name=name, position=0, probability=probability,
            stale_days=stale_days,
        )  # fmt: skip
        index = len(stages) if position is None else max(0, min(position - 1, len(stages)))
        stages.insert(index, new)
        _renumber(session, stages)
        return to_record(new, row)


def rename_stage(db: Db, name: str, new_name: str, *, pipeline: str | None = None) -> records.Stage:
    new_name = clean_name(new_name, "stage")
    with db.write() as session:
        row = resolve_pipeline(session, pipeline)
        stage = resolve_stage(session, row.id, name)
        for other in stages_of(session, row.id):
            if other.id != stage.id and other.name.casefold() == new_name.casefold():
                raise Duplicate(f"stage '{new_name}' already exists")
        stage.name = new_name
        session.add(stage)
        session.flush()
        return to_record(stage, row)


def move_stage(db: Db, name: str, position: int, *, pipeline: str | None = None) -> list[str]:
    """Put a stage at `position` (1 = first); returns the new order."""
    with db.write() as session:
        row = resolve_pipeline(session, pipeline)
        stage = resolve_stage(session, row.id, name)
        stages = [s for s in stages_of(session, row.id) if s.id != stage.id]
        stages.insert(max(0, min(position - 1, len(stages))), stage)
        _renumber(session, stages)
        return [s.name for s in stages]


def remove_stage(db: Db, name: str, *, pipeline: str | None = None) -> None:
    with db.write() as session:
        row = resolve_pipeline(session, pipeline)
        stage = resolve_stage(session, row.id, name)
        used = session.exec(select(func.count()).where(Lead.stage_id == stage.id)).one()
        if used:
            raise Invalid(f"stage '{stage.name}' still has {used} leads; move them first")
        session.delete(stage)
        session.flush()
        _renumber(session, stages_of(session, row.id))


def _renumber(session: Session, stages: list[Stage]) -> None:
    for position, stage in enumerate(stages, start=1):
        stage.position = position
        session.add(stage)
    session.flush()


def _check_stage_numbers(probability: int, stale_days: int) -> None:
    if not 0 <= probability <= 100:
        raise Invalid("a stage's probability is a percentage from 0 to 100")
    if stale_days < 1:
        raise Invalid("a stage's stale days must be at least 1")

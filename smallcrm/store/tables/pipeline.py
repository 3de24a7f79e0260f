"""Pipelines and their stages."""

from __future__ import annotations

from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, foreign_key


class Pipeline(TableBase, table=True):
    __tablename__ = "pipeline"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    is_default: bool = False


class Stage(TableBase, table=True):
    __tablename__ = "stage"

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = foreign_key("pipeline.id", nullable=False, ondelete="CASCADE")
    name: str
    position: int
    probability: int
    stale_days: int

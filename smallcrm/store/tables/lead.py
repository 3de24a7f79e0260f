"""Leads and their stage changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Date, Index
from sqlmodel import Field

from smallcrm.store.tables.base import (
    TableBase,
    UTCDateTime,
    extra_column,
    foreign_key,
    when_column,
)


class Lead(TableBase, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        Index("ix_lead_status_stage", "status", "stage_id"),
        Index("ix_lead_owner_status", "owner_id", "status"),
        Index("ix_lead_contact", "contact_id"),
        Index("ix_lead_company", "company_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str
    contact_id: int | None = foreign_key("contact.id")
    company_id: int | None = foreign_key("company.id")
    pipeline_id: int = foreign_key("pipeline.id", nullable=False, ondelete="RESTRICT")
    stage_id: int = foreign_key("stage.id", nullable=False, ondelete="RESTRICT")
    status: str = "open"
    value_minor: int = 0
    currency: str = "USD"
    probability: int | None = None
    expected_close: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    owner_id: int | None = foreign_key("user_account.id")
    lost_reason: str | None = None
    extra: dict | None = extra_column()
    version: int = 1
    stage_entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = when_column()


class StageChange(TableBase, table=True):
    __tablename__ = "stage_change"
    __table_args__ = (Index("ix_stage_change_lead", "lead_id", "changed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = foreign_key("lead.id", nullable=False, ondelete="CASCADE")
    from_stage_id: int | None = foreign_key("stage.id")
    to_stage_id: int | None = foreign_key("stage.id")
    event: str = "move"
    changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = foreign_key("user_account.id")

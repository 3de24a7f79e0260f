"""Activities: calls, emails, meetings, notes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, UTCDateTime, foreign_key


class Activity(TableBase, table=True):
    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_contact_time", "contact_id", "occurred_at"),
        Index("ix_activity_company_time", "company_id", "occurred_at"),
        Index("ix_activity_lead_time", "lead_id", "occurred_at"),
        Index("ix_activity_time", "occurred_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    direction: str | None = None
    summary: str
    body: str | None = None
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    duration_min: int | None = None
    contact_id: int | None = foreign_key("contact.id", ondelete="CASCADE")
    company_id: int | None = foreign_key("company.id", ondelete="CASCADE")
    lead_id: int | None = foreign_key("lead.id")
    user_id: int | None = foreign_key("user_account.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

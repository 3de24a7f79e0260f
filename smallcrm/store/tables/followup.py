"""Follow-ups with due times."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, UTCDateTime, foreign_key, when_column


class FollowUp(TableBase, table=True):
    __tablename__ = "followup"
    __table_args__ = (
        Index("ix_followup_status_due", "status", "due_at"),
        Index("ix_followup_owner_status_due", "owner_id", "status", "due_at"),
        Index("ix_followup_contact", "contact_id"),
        Index("ix_followup_company", "company_id"),
        Index("ix_followup_lead", "lead_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    contact_id: int | None = foreign_key("contact.id", ondelete="CASCADE")
    company_id: int | None = foreign_key("company.id", ondelete="CASCADE")
    lead_id: int | None = foreign_key("lead.id")
    owner_id: int | None = foreign_key("user_account.id")
    status: str = "open"
    reminded_at: datetime | None = when_column()
    claimed_until: datetime | None = when_column()
    claim_token: str | None = None
    done_at: datetime | None = when_column()
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

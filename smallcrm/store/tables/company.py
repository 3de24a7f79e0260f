"""Companies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, UTCDateTime, extra_column, foreign_key


class Company(TableBase, table=True):
    __tablename__ = "company"
    __table_args__ = (Index("ix_company_name_lower", text("lower(name)")),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    domain: str | None = Field(default=None, index=True)
    industry: str | None = None
    city: str | None = None
    country: str | None = None
    territory: str | None = None
    relationship: str | None = None
    phone: str | None = None
    note: str | None = None
    owner_id: int | None = foreign_key("user_account.id")
    extra: dict | None = extra_column()
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

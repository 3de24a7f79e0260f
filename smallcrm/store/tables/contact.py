"""Contacts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, text
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, UTCDateTime, extra_column, foreign_key


class Contact(TableBase, table=True):
    __tablename__ = "contact"
    __table_args__ = (
        Index("ux_contact_email_lower", text("lower(email)"), unique=True),
        Index("ix_contact_name_lower", text("lower(name)")),
        Index("ix_contact_owner", "owner_id"),
        Index("ix_contact_company", "company_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str
    email: str | None = None
    phone: str | None = None
    title: str | None = None
    company_id: int | None = foreign_key("company.id")
    stage: str | None = None
    owner_id: int | None = foreign_key("user_account.id")
    note: str | None = None
    consent: bool = False
    do_not_contact: bool = False
    extra: dict | None = extra_column()
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

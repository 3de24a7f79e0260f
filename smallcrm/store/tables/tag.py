"""Tags and their links to contacts, companies and leads."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase


class Tag(TableBase, table=True):
    __tablename__ = "tag"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class ContactTag(TableBase, table=True):
    __tablename__ = "contact_tag"

    contact_id: int = Field(
        sa_column=Column(Integer, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    )


class CompanyTag(TableBase, table=True):
    __tablename__ = "company_tag"

    company_id: int = Field(
        sa_column=Column(Integer, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    )


class LeadTag(TableBase, table=True):
    __tablename__ = "lead_tag"

    lead_id: int = Field(
        sa_column=Column(Integer, ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    )

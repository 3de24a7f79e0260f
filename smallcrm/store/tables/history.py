"""History, undo and erasure (revision 0003_history). Written by smallcrm.store.history
through Core statements, never through the unit of work it observes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, UTCDateTime, foreign_key


class Changeset(TableBase, table=True):
    """One transaction's worth of changes: who, when, and what kind of action."""

    __tablename__ = "changeset"
    __table_args__ = (Index("ix_changeset_user", "user_login", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_login: str
    action: str = "change"
    undo_of: int | None = None
    undone_by: int | None = None


class Change(TableBase, table=True):
    """One recorded change: a field's old and new value, or a whole row inserted or deleted."""

    __tablename__ = "change"
    __table_args__ = (
        Index("ix_change_changeset", "changeset_id"),
        Index("ix_change_record", "kind", "record_id"),
        Index("ix_change_contact", "contact_id"),
        Index("ix_change_company", "company_id"),
        Index("ix_change_lead", "lead_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    changeset_id: int = foreign_key("changeset.id", nullable=False, ondelete="CASCADE")
    kind: str
    record_id: int | None = None
    op: str
    field: str | None = None
    old: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    contact_id: int | None = None
    company_id: int | None = None
    lead_id: int | None = None


class Tombstone(TableBase, table=True):
    """What is left of an erased person: salted hashes that identify nobody by themselves."""

    __tablename__ = "tombstone"
    __table_args__ = (
        Index("ix_tombstone_email", "email_hash"),
        Index("ix_tombstone_record", "record_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    salt: str
    email_hash: str | None = None
    record_hash: str
    erased_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

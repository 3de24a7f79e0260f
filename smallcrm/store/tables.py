"""Every table of the CRM, as SQLModel classes.

Money is integer minor units beside a currency code; times are timezone-aware UTC (stored naive
UTC on SQLite, timestamptz on PostgreSQL); `extra` keeps columns an import did not recognise.
The migrations in `migrations/versions` build exactly this schema; a test compares the two.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, Index, Integer, Text, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, whatever the dialect stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Base(SQLModel):
    # Building pydantic validators for every table costs ~0.1 s at import; the tables are
    # never validated through pydantic, so build them only if something asks.
    model_config = ConfigDict(defer_build=True)


def now_utc() -> datetime:
    return datetime.now(UTC)


def _when() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


def _fk(target: str, *, nullable: bool = True, ondelete: str = "SET NULL") -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable),
    )


def _extra() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))


class User(_Base, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True)
    name: str
    email: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Company(_Base, table=True):
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
    owner_id: int | None = _fk("user_account.id")
    extra: dict | None = _extra()
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Contact(_Base, table=True):
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
    company_id: int | None = _fk("company.id")
    stage: str | None = None
    owner_id: int | None = _fk("user_account.id")
    note: str | None = None
    consent: bool = False
    do_not_contact: bool = False
    extra: dict | None = _extra()
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class Tag(_Base, table=True):
    __tablename__ = "tag"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class ContactTag(_Base, table=True):
    __tablename__ = "contact_tag"

    contact_id: int = Field(
        sa_column=Column(Integer, ForeignKey("contact.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    )


class CompanyTag(_Base, table=True):
    __tablename__ = "company_tag"

    company_id: int = Field(
        sa_column=Column(Integer, ForeignKey("company.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    )


class LeadTag(_Base, table=True):
    __tablename__ = "lead_tag"

    lead_id: int = Field(
        sa_column=Column(Integer, ForeignKey("lead.id", ondelete="CASCADE"), primary_key=True)
    )
    tag_id: int = Field(
        sa_column=Column(Integer, ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True)
    )


class Pipeline(_Base, table=True):
    __tablename__ = "pipeline"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    is_default: bool = False


class Stage(_Base, table=True):
    __tablename__ = "stage"

    id: int | None = Field(default=None, primary_key=True)
    pipeline_id: int = _fk("pipeline.id", nullable=False, ondelete="CASCADE")
    name: str
    position: int
    probability: int
    stale_days: int


class Lead(_Base, table=True):
    __tablename__ = "lead"
    __table_args__ = (
        Index("ix_lead_status_stage", "status", "stage_id"),
        Index("ix_lead_owner_status", "owner_id", "status"),
        Index("ix_lead_contact", "contact_id"),
        Index("ix_lead_company", "company_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str
    contact_id: int | None = _fk("contact.id")
    company_id: int | None = _fk("company.id")
    pipeline_id: int = _fk("pipeline.id", nullable=False, ondelete="RESTRICT")
    stage_id: int = _fk("stage.id", nullable=False, ondelete="RESTRICT")
    status: str = "open"
    value_minor: int = 0
    currency: str = "USD"
    probability: int | None = None
    expected_close: date | None = Field(default=None, sa_column=Column(Date, nullable=True))
    owner_id: int | None = _fk("user_account.id")
    lost_reason: str | None = None
    extra: dict | None = _extra()
    version: int = 1
    stage_entered_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed_at: datetime | None = _when()


class StageChange(_Base, table=True):
    __tablename__ = "stage_change"
    __table_args__ = (Index("ix_stage_change_lead", "lead_id", "changed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    lead_id: int = _fk("lead.id", nullable=False, ondelete="CASCADE")
    from_stage_id: int | None = _fk("stage.id")
    to_stage_id: int | None = _fk("stage.id")
    event: str = "move"
    changed_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_id: int | None = _fk("user_account.id")


class Activity(_Base, table=True):
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
    contact_id: int | None = _fk("contact.id", ondelete="CASCADE")
    company_id: int | None = _fk("company.id", ondelete="CASCADE")
    lead_id: int | None = _fk("lead.id")
    user_id: int | None = _fk("user_account.id")
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


class FollowUp(_Base, table=True):
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
    contact_id: int | None = _fk("contact.id", ondelete="CASCADE")
    company_id: int | None = _fk("company.id", ondelete="CASCADE")
    lead_id: int | None = _fk("lead.id")
    owner_id: int | None = _fk("user_account.id")
    status: str = "open"
    reminded_at: datetime | None = _when()
    claimed_until: datetime | None = _when()
    claim_token: str | None = None
    done_at: datetime | None = _when()
    version: int = 1
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    updated_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))


# History, undo and erasure (revision 0003_history). Written by smallcrm.store.history through
# Core statements, never through the unit of work it observes.


class Changeset(_Base, table=True):
    """One transaction's worth of changes: who, when, and what kind of action."""

    __tablename__ = "changeset"
    __table_args__ = (Index("ix_changeset_user", "user_login", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    user_login: str
    action: str = "change"
    undo_of: int | None = None
    undone_by: int | None = None


class Change(_Base, table=True):
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
    changeset_id: int = _fk("changeset.id", nullable=False, ondelete="CASCADE")
    kind: str
    record_id: int | None = None
    op: str
    field: str | None = None
    old: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    new: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    contact_id: int | None = None
    company_id: int | None = None
    lead_id: int | None = None


class Tombstone(_Base, table=True):
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

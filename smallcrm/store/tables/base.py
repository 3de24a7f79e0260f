"""What every table shares: the base class, UTC time columns, column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer
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


class TableBase(SQLModel):
    # Building pydantic validators for every table costs ~0.1 s at import; the tables are
    # never validated through pydantic, so build them only if something asks.
    model_config = ConfigDict(defer_build=True)


def now_utc() -> datetime:
    return datetime.now(UTC)


def when_column() -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


def foreign_key(target: str, *, nullable: bool = True, ondelete: str = "SET NULL") -> Any:
    return Field(
        default=None,
        sa_column=Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable),
    )


def extra_column() -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=True))

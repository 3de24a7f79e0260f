"""The team's users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field

from smallcrm.store.tables.base import TableBase, UTCDateTime


class User(TableBase, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True)
    name: str
    email: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))

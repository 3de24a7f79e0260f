"""Users, companies and contacts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    email: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Company:
    id: int
    name: str
    domain: str | None
    industry: str | None
    city: str | None
    country: str | None
    territory: str | None
    relationship: str | None
    phone: str | None
    note: str | None
    owner_id: int | None
    owner: str | None
    tags: list[str]
    extra: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    name: str
    email: str | None
    phone: str | None
    company_id: int | None
    company: str | None
    title: str | None
    stage: str | None
    owner_id: int | None
    owner: str | None
    tags: list[str]
    note: str | None
    consent: bool
    do_not_contact: bool
    extra: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime

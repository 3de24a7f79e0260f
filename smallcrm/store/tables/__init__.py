"""Every table of the CRM, as SQLModel classes.

Money is integer minor units beside a currency code; times are timezone-aware UTC (stored naive
UTC on SQLite, timestamptz on PostgreSQL); `extra` keeps columns an import did not recognise.
The migrations in `migrations/versions` build exactly this schema; a test compares the two.

One module per table (or per table and its link tables), imported on first use: defining a
SQLModel table costs a few milliseconds, and a read command needs only the tables it reads.
Whatever needs the whole schema (creating it, comparing it, copying every table, writing with
the unit of work) calls `load_all()` first.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from smallcrm import lazy
from smallcrm.store.tables.base import UTCDateTime, now_utc

if TYPE_CHECKING:
    from smallcrm.store.tables.activity import Activity
    from smallcrm.store.tables.company import Company
    from smallcrm.store.tables.contact import Contact
    from smallcrm.store.tables.followup import FollowUp
    from smallcrm.store.tables.history import Change, Changeset, Tombstone
    from smallcrm.store.tables.lead import Lead, StageChange
    from smallcrm.store.tables.pipeline import Pipeline, Stage
    from smallcrm.store.tables.tag import CompanyTag, ContactTag, LeadTag, Tag
    from smallcrm.store.tables.user import User

_HOMES = {
    "User": "user",
    "Company": "company",
    "Contact": "contact",
    "Tag": "tag",
    "ContactTag": "tag",
    "CompanyTag": "tag",
    "LeadTag": "tag",
    "Pipeline": "pipeline",
    "Stage": "pipeline",
    "Lead": "lead",
    "StageChange": "lead",
    "Activity": "activity",
    "FollowUp": "followup",
    "Changeset": "history",
    "Change": "history",
    "Tombstone": "history",
}

__all__ = [
    "Activity",
    "Change",
    "Changeset",
    "Company",
    "CompanyTag",
    "Contact",
    "ContactTag",
    "FollowUp",
    "Lead",
    "LeadTag",
    "Pipeline",
    "Stage",
    "StageChange",
    "Tag",
    "Tombstone",
    "UTCDateTime",
    "User",
    "load_all",
    "now_utc",
]


__getattr__ = lazy.attributes(__name__, _HOMES)


def __dir__() -> list[str]:
    return list(__all__)


def load_all() -> None:
    """Define every table, so that SQLModel.metadata holds the whole schema."""
    for home in dict.fromkeys(_HOMES.values()):
        import_module(f"{__name__}.{home}")

"""Opening, migrating and checking the database: the front ends' one door to the store."""

from __future__ import annotations

from dataclasses import dataclass

from smallcrm import settings
from smallcrm.store import Db, open_db, upgrade_db


def open_database(target: str | None = None) -> Db:
    """The database named by --db, SMALLCRM_DB, the config, or the default; ready to use."""
    return open_db(settings.database_target(target))


def location(target: str | None = None) -> str:
    from smallcrm.store.engine import redact

    return redact(settings.database_target(target))


def migrate(target: str | None = None) -> tuple[str | None, str]:
    """Upgrade the schema; returns (revision before, revision after)."""
    return upgrade_db(settings.database_target(target))


@dataclass(frozen=True)
class CheckReport:
    database: str
    revision: str | None
    integrity: list[str]
    foreign_keys: list[str]

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.foreign_keys


def check(db: Db) -> CheckReport:
    from smallcrm.store.maintenance import foreign_key_problems, integrity_problems

    with db.read() as session:
        integrity = integrity_problems(session)
        foreign = foreign_key_problems(session)
    return CheckReport(db.display_name(), db.revision(), integrity, foreign)

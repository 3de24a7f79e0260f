"""Per-process state the root callback records: which database, opened once on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI never imports the store at run time; services hand it over
    from smallcrm.store import Db

_db_option: str | None = None
_db: Db | None = None


def set_db_option(value: str | None) -> None:
    """Record the global `--db` (the root callback calls this once per run; opens nothing)."""
    global _db_option
    reset()  # a new run (tests run many in one process) starts from a clean slate
    _db_option = value or None


def db_option() -> str | None:
    """The global `--db` as given, or None (then SMALLCRM_DB / the config / the default)."""
    return _db_option


def get_db() -> Db:
    """The database named by --db/SMALLCRM_DB/config, opened (and migrated) once per process."""
    global _db
    if _db is None:
        from smallcrm.backup import daily_if_due
        from smallcrm.database import open_database

        _db = open_database(_db_option)
        daily_if_due(_db)  # the first open of a day makes the automatic backup (backup.keep)
    return _db


def reset() -> None:
    """Forget the open database (tests run many commands in one process)."""
    global _db, _db_option
    if _db is not None:
        _db.dispose()
    _db = None
    _db_option = None

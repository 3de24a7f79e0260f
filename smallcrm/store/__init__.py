"""The store: open a database, run work in short transactions, keep the schema current.

`Db`, `open_db`, `upgrade_db` and `migrate` live in `store/db.py` and load (with SQLAlchemy) on
first use, so that a module of the store that needs only the standard library (`fastread`,
`migrations`) can be imported without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from smallcrm import lazy

if TYPE_CHECKING:
    from smallcrm.store.db import Db, migrate, open_db, upgrade_db

__all__ = ["Db", "migrate", "open_db", "upgrade_db"]

__getattr__ = lazy.attributes(__name__, dict.fromkeys(__all__, "db"))

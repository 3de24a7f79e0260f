"""The store: open a database, run work in short transactions, keep the schema current.

`Db`, `open_db`, `upgrade_db` and `migrate` live in `store/db.py` and load (with SQLAlchemy) on
first use, so that a module of the store that needs only the standard library (`fastread`,
`migrations`) can be imported without them.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from smallcrm.store.db import Db, migrate, open_db, upgrade_db

__all__ = ["Db", "migrate", "open_db", "upgrade_db"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.db"), name)
    globals()[name] = value
    return value

"""Package attributes that live in submodules and load on first use (PEP 562).

A package that names its parts in a table (`{"Contact": "contact", …}`) sets
`__getattr__ = lazy.attributes(__name__, table)`; then `from package import Contact` and
`package.Contact` import only the submodule that defines it. Shared by every layer, like
smallcrm.errors, and importing nothing of the project.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def attributes(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package` that finds each name of `homes` in its submodule."""

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        setattr(sys.modules[package], name, value)  # found once; later lookups are plain
        return value

    return __getattr__

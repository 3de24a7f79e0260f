"""The project's own exceptions: the front ends turn them into messages and exit codes."""

from __future__ import annotations

from collections.abc import Sequence


class SmallCrmError(Exception):
    """Anything a user can cause and fix; the message is one line meant for them."""

    exit_code = 1


class NotFound(SmallCrmError):
    """No record matches the reference."""


class Invalid(SmallCrmError):
    """A value a user gave cannot be used (bad email, date, amount, stage…)."""


class Duplicate(Invalid):
    """The record would duplicate one that exists (same email, same name)."""


class Conflict(SmallCrmError):
    """The record changed since it was read (someone else saved first)."""


class Ambiguous(SmallCrmError):
    """A name matches more than one record; `candidates` lists them as 'id: name'."""

    def __init__(self, message: str, candidates: Sequence[str]) -> None:
        self.candidates = list(candidates)
        shown = ", ".join(self.candidates[:10])
        more = f" and {len(self.candidates) - 10} more" if len(self.candidates) > 10 else ""
        super().__init__(f"{message}: {shown}{more}")


class DatabaseError(SmallCrmError):
    """The database cannot be used: missing directory, newer schema, not a database, locked."""


class DeliveryFailed(SmallCrmError):
    """A reminder could not be delivered; it stays due for the next run."""

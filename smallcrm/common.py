"""Small rules every service shares: names, free text, optimistic versions."""

from __future__ import annotations

from typing import Any

from smallcrm.errors import Conflict, Invalid

MAX_NAME = 500
MAX_TEXT = 2_000_000


def clean_name(name: str | None, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise Invalid(f"a {what} needs a name")
    if len(name) > MAX_NAME:
        raise Invalid(f"{what} name is longer than {MAX_NAME} characters")
    if "\x00" in name:
        raise Invalid(f"{what} name contains a NUL character")
    _check_encodable(name, f"{what} name")
    return name


def _check_encodable(value: str, what: str) -> None:
    """Undecodable bytes (a lone surrogate, as from a mis-encoded argv) cannot be stored."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid(f"{what} holds bytes that are not valid UTF-8 text") from None


def clean_text(value: str | None, what: str) -> str | None:
    """Optional free text, stored as given; empty means none."""
    if value is None or not str(value).strip():
        return None
    if len(value) > MAX_TEXT:
        raise Invalid(f"{what} is longer than {MAX_TEXT:,} characters")
    if "\x00" in value:
        raise Invalid(f"{what} contains a NUL character")
    _check_encodable(value, what)
    return value


def check_version(row: Any, expected: int | None, what: str) -> None:
    if expected is not None and row.version != expected:
        raise Conflict(
            f"{what} {row.id} was changed by someone else since you opened it; "
            "reload it and make your change again"
        )


def touch(row: Any) -> None:
    """Mark a row changed: a new version for optimistic locking and a fresh updated_at."""
    from smallcrm.store.tables import now_utc  # not at import: imports validate without it

    row.version += 1
    row.updated_at = now_utc()

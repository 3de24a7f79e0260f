"""How database values become something on screen: always Content, never markup.

Every string that came from the database passes through :func:`safe` (smallcrm.textsafe.visible
wrapped in a Content), so `[bold]x`, `[/b] plan` or an escape sequence is shown literally.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from textual.content import Content
from textual.widgets import Static

from smallcrm import settings
from smallcrm.textsafe import truncate, visible
from smallcrm.values import currency_exponent, format_money, local_zone

KIND_STYLES = {
    "call": "$success",
    "email": "$primary",
    "meeting": "$accent",
    "note": "$foreground-muted",
    "visit": "$secondary",
    "sms": "$primary",
    "other": "$foreground-muted",
    "followup": "$warning",
}


def safe(text: str | None, style: str = "", *, width: int | None = None) -> Content:
    """Database text as Content: control characters visible, brackets literal."""
    shown = visible(text)
    if width is not None:
        shown = truncate(shown, width)
    return Content.styled(shown, style) if style else Content(shown)


def plain(text: str | None, *, width: int | None = None) -> str:
    """Database text as a plain single-line string (for Input values and sorting)."""
    shown = visible(text)
    return truncate(shown, width) if width is not None else shown


def money(minor: int, currency: str) -> str:
    return format_money(minor, currency)


def short_money(minor: int, currency: str | None = None) -> str:
    """Money for a narrow card: `12k USD`, `1.2M USD`, `950 USD`."""
    code = (currency or settings.default_currency()).upper()
    major = minor / 10 ** currency_exponent(code)
    if major >= 1_000_000:
        text = f"{major / 1_000_000:.1f}M"
    elif major >= 10_000:
        text = f"{major / 1_000:.0f}k"
    elif major >= 1_000:
        text = f"{major / 1_000:.1f}k"
    else:
        text = f"{major:,.0f}"
    return f"{text.replace('.0M', 'M').replace('.0k', 'k')} {code}"


def local(when: datetime) -> datetime:
    return when.astimezone(local_zone())


def stamp(when: datetime | None) -> str:
    """A full local timestamp: `2026-03-04 09:30`."""
    return local(when).strftime("%Y-%m-%d %H:%M") if when else ""


def day(value: date | None) -> str:
    return value.isoformat() if value else ""


def relative(when: datetime | None, now: datetime) -> str:
    """`just now`, `5m ago`, `3h ago`, `2d ago`, `in 4d`, or the date when further away."""
    if when is None:
        return ""
    delta = now - when
    future = delta < timedelta(0)
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        amount = f"{int(seconds // 60)}m"
    elif seconds < 86400:
        amount = f"{int(seconds // 3600)}h"
    elif seconds < 86400 * 14:
        amount = f"{int(seconds // 86400)}d"
    else:
        shown = local(when)
        same_year = shown.year == local(now).year
        return shown.strftime("%b %d" if same_year else "%Y-%m-%d")
    return f"in {amount}" if future else f"{amount} ago"


def due_text(when: datetime, now: datetime) -> str:
    """When a follow-up is due, for a person: `today 14:00`, `tomorrow 09:00`, `Mon 09:00`."""
    shown, today = local(when), local(now).date()
    days = (shown.date() - today).days
    clock = shown.strftime("%H:%M")
    if days == 0:
        return f"today {clock}"
    if days == 1:
        return f"tomorrow {clock}"
    if days == -1:
        return f"yesterday {clock}"
    if 1 < days < 7:
        return f"{shown.strftime('%a')} {clock}"
    return shown.strftime("%Y-%m-%d %H:%M")


def update_static(widget: Static, content: Content) -> None:
    """Show `content` in a Static, redrawing only if it changed, and measuring the layout again
    only if the widget sizes itself to its content and the width changed (a layout pass redraws
    the whole screen)."""
    shown: Content | None = getattr(widget, "_smallcrm_shown", None)
    if shown is not None and shown.plain == content.plain and shown.spans == content.spans:
        return
    width = widget.styles.width
    fixed = width is not None and not width.is_auto
    layout = not fixed and (shown is None or shown.cell_length != content.cell_length)
    widget._smallcrm_shown = content  # type: ignore[attr-defined]
    widget.update(content, layout=layout)

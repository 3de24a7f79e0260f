"""`smallcrm today`: the morning briefing a rep reads with coffee."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, LimitOpt, MineOpt, chosen_format

if TYPE_CHECKING:
    from smallcrm.records import Agenda

app = typer.Typer(add_completion=False)

SECTIONS = (
    ("overdue", "Overdue", "red"),
    ("due_today", "Due today", "bold"),
    ("stale_leads", "Stale leads", "yellow"),
    ("closing_this_week", "Closing this week", "cyan"),
)


@app.command("today")
def today_command(
    owner: Annotated[
        str | None,
        typer.Option(
            "--owner",
            help="Only this rep's (a name, email or id; `me` is you). Default: everyone's.",
            metavar="USER",
        ),
    ] = None,
    mine: MineOpt = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Morning briefing: overdue and due follow-ups, stale leads, closes this week.

    Overdue first, then due today, stale leads and leads expected to close this week, each
    with a count. --limit caps each list. JSON is an object with the four lists.
    """
    from smallcrm import agenda
    from smallcrm.cli.options import owner_filter

    form = chosen_format(fmt, json_)
    briefing = agenda.today(get_db(), owner=owner_filter(owner, mine))
    show_agenda(briefing, form, limit)


def _sections(briefing: Agenda, limit: int | None) -> list[tuple[str, str, str, list[Any]]]:
    result = []
    for key, title, style in SECTIONS:
        items = list(getattr(briefing, key))
        result.append((key, title, style, items[:limit] if limit is not None else items))
    return result


def show_agenda(briefing: Agenda, form: str, limit: int | None = None) -> None:
    """Print an agenda as a briefing, a JSON object, or JSONL/CSV rows with a `section`."""
    sections = _sections(briefing, limit)
    if form == "json":
        data: dict[str, Any] = {"owner": briefing.owner}
        for key, _title, _style, items in sections:
            data[key] = [output.plain(item) for item in items]
        output.emit_one(data, "json")
        return
    if form in ("jsonl", "csv"):
        rows = [
            {"section": key, **_flat(item)}
            for key, _title, _style, items in sections
            for item in items
        ]
        if form == "jsonl":
            output.emit(rows, "jsonl")
        elif rows:
            output.emit(rows, "csv")
        else:
            output.write_line(
                "section,kind,id,title,when,stage,value,currency,contact,company,owner"
            )
        return
    _briefing(briefing, sections)


def _flat(item: Any) -> dict[str, Any]:
    """One agenda item in the columns JSONL/CSV share for follow-ups and leads."""
    is_lead = hasattr(item, "stage_id")
    return {
        "kind": "lead" if is_lead else "followup",
        "id": item.id,
        "title": item.title,
        "when": item.expected_close if is_lead else item.due_at,
        "stage": item.stage if is_lead else None,
        "value": item.value if is_lead else None,
        "currency": item.currency if is_lead else None,
        "contact": item.contact,
        "company": item.company,
        "owner": item.owner,
    }


def _line(item: Any, key: str, show_owner: bool, now: datetime) -> list[str]:
    """The cells of one briefing line: id, when, what, who, extra."""
    who = output.label_of(item.contact or item.company)
    if key in ("overdue", "due_today"):
        local = output.local_time(item.due_at)
        if key == "due_today":
            when = local.strftime("%H:%M")
        else:
            days = (now.date() - local.date()).days
            when = f"{days}d late" if days > 0 else local.strftime("%H:%M")
        extra = ""
    elif key == "stale_leads":
        when = f"{item.days_in_stage}d in {output.label_of(item.stage)}"
        extra = output.money(item)
    else:
        when = item.expected_close.strftime("%a %d %b") if item.expected_close else ""
        if getattr(item, "close_passed", False):
            when = f"{item.expected_close.isoformat()} (passed)"
        extra = output.money(item)
    cells = [f"#{item.id}", when, output.label(item), who, extra]
    if show_owner:
        cells.append(output.label_of(item.owner))
    return cells


def _briefing(briefing: Agenda, sections: list[tuple[str, str, str, list[Any]]]) -> None:
    from smallcrm.textsafe import truncate

    now = output.local_time(datetime.now(UTC))
    counts = [(title, len(getattr(briefing, key))) for key, title, _s, _i in sections]
    who = f" for {output.label_of(briefing.owner)}" if briefing.owner else ""
    heading = f"Today{who}, {now.strftime('%A %d %B %Y')}"
    summary = " · ".join(f"{count} {title.lower()}" for title, count in counts)
    terminal = output.is_terminal()
    width = output.out_console().width if terminal else 10_000
    lines: list[tuple[str, str | None]] = [(heading, "bold"), (summary, None)]
    show_owner = briefing.owner is None
    for key, title, style, items in sections:
        total = len(getattr(briefing, key))
        if not total:
            continue
        shown = f" (showing {len(items)})" if len(items) < total else ""
        lines.append(("", None))
        lines.append((f"{title} ({total}){shown}", f"bold {style}" if style != "bold" else style))
        rows = [_line(item, key, show_owner, now) for item in items]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
        caps = [6, 22, 40, 28, 18, 14]
        widths = [min(w, caps[i]) for i, w in enumerate(widths)]
        for row in rows:
            cells = [
                truncate(cell, widths[i]).ljust(widths[i])
                for i, cell in enumerate(row)
                if widths[i]  # a column empty in this section takes no room
            ]
            text = "  " + "  ".join(cells).rstrip()
            lines.append((truncate(text, width), style if key != "due_today" else None))
    if not terminal:
        sys.stdout.write("".join(text + "\n" for text, _style in lines))
        return
    from rich.text import Text

    console = output.out_console()
    for text, style in lines:
        console.print(Text(text, style=style or ""), no_wrap=True, overflow="ellipsis")

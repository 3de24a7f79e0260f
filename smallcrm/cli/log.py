"""`smallcrm log KIND REF SUMMARY`: record a call, email, meeting or note."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, QuietOpt, chosen_format

app = typer.Typer(add_completion=False)

_KINDS = ("call", "email", "meeting", "note", "visit", "sms", "other")


def _complete_kind(incomplete: str) -> list[str]:
    return [k for k in _KINDS if k.startswith(incomplete.lower())]


@app.command("log")
def log_activity(
    kind: Annotated[
        str,
        typer.Argument(
            help="call, email, meeting, note, visit, sms or other.",
            metavar="KIND",
            autocompletion=_complete_kind,
        ),
    ],
    ref: Annotated[
        str,
        typer.Argument(
            help="The contact or company: an id, an email, a unique name, contact:ID or "
            "company:ID.",
            metavar="REF",
        ),
    ],
    summary: Annotated[str, typer.Argument(help="One line on what happened.", metavar="SUMMARY")],
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it happened (default: now).", metavar="WHEN"),
    ] = None,
    lead: Annotated[
        str | None, typer.Option("--lead", help="The lead it concerns.", metavar="REF")
    ] = None,
    duration: Annotated[
        int | None,
        typer.Option("--duration", min=0, help="How long, in minutes.", metavar="MIN"),
    ] = None,
    body: Annotated[str | None, typer.Option("--body", help="Longer notes.")] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Log a call, email, meeting or note with a contact or company."""
    from smallcrm import activities

    form = chosen_format(fmt, json_)
    record = activities.log(
        get_db(), kind, ref, summary, at=at, lead=lead, duration=duration, body=body
    )
    if form in ("json", "jsonl", "csv"):
        output.emit_one(record, form)
    elif quiet:
        output.write_line(str(record.id))
    else:
        with_whom = record.contact or record.company
        target = f" with {output.label_of(with_whom)}" if with_whom else ""
        output.write_line(f"Logged {record.kind} {record.id}{target}: {output.label(record)}")

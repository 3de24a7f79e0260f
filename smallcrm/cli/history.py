"""`smallcrm history [REF]`: who changed what, when, from what to what."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, LimitOpt, chosen_format

app = typer.Typer(help="List recorded changes: who changed what, and when.", add_completion=False)


@app.command("history")
def history_list(
    ref: Annotated[
        str | None,
        typer.Argument(
            help="Only changes about this contact or company (an id, email or name), or "
            "KIND:ID for any record (contact, company, lead, activity, followup), "
            "deleted ones too.",
            metavar="[REF]",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None, typer.Option("--user", help="Only changes by this user (login).")
    ] = None,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List recorded changes, newest first: one line per field changed or record created,
    deleted or imported. Undone changes are marked."""
    from smallcrm import history

    form = chosen_format(fmt, json_)
    entries = history.list_history(get_db(), ref, user=user, limit=limit)
    columns = [
        output.Col("changeset_id", "change", min_width=4, priority=9),
        output.Col("at", "when", get=lambda e: output.when(e.at), priority=8),
        output.Col("user", "who", priority=7),
        output.Col("summary", "what", priority=10),
        output.Col("undone", "undone", get=lambda e: "undone" if e.undone else "", priority=2),
    ]
    output.emit(entries, form, columns)

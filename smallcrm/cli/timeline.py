"""`smallcrm timeline REF`: a contact's or company's history, newest first."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, LimitOpt, chosen_format

app = typer.Typer(add_completion=False)


@app.command("timeline")
def timeline_command(
    ref: Annotated[
        str,
        typer.Argument(
            help="The contact or company: an id, an email, a unique name, contact:ID or "
            "company:ID.",
            metavar="REF",
        ),
    ],
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """A contact's or company's history, newest first.

    Every activity, follow-up and lead event (created, moved, won, lost); a company's
    includes its contacts'.
    """
    from smallcrm import timeline
    from smallcrm.records import TimelineEntry

    form = chosen_format(fmt, json_)
    entries = timeline.timeline(get_db(), ref, limit=limit)
    output.emit(entries, form, kind=TimelineEntry)

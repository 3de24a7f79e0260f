"""`smallcrm activity`: what happened with customers (logged with `smallcrm log`)."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import (
    FormatOpt,
    JsonOpt,
    LimitOpt,
    MineOpt,
    YesOpt,
    chosen_format,
    owner_filter,
)

app = typer.Typer(
    help="List logged calls, emails, meetings and notes.",
    no_args_is_help=True,
    add_completion=False,
)

IdArg = Annotated[str, typer.Argument(help="The activity's id.", metavar="ID")]


@app.command("list")
def activity_list(
    contact: Annotated[
        str | None, typer.Option("--contact", help="Only this contact's.", metavar="REF")
    ] = None,
    company: Annotated[
        str | None,
        typer.Option("--company", help="Only this company's (and its contacts').", metavar="REF"),
    ] = None,
    lead: Annotated[
        str | None, typer.Option("--lead", help="Only this lead's.", metavar="REF")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Only this kind: call, email, meeting, note, visit, sms, other."
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only since this time (e.g. -7d, 2026-01-01).", metavar="WHEN"
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option("--user", "--owner", help="Only those logged by this user.", metavar="USER"),
    ] = None,
    mine: MineOpt = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List activities, newest first."""
    from smallcrm import activities
    from smallcrm.records import Activity

    form = chosen_format(fmt, json_)
    found = activities.list_activities(
        get_db(),
        contact=contact,
        company=company,
        lead=lead,
        kind=kind,
        since=since,
        user=owner_filter(user, mine),
        limit=limit,
    )
    output.emit(found, form, kind=Activity)


@app.command("show")
def activity_show(activity_id: IdArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Show one activity."""
    from smallcrm import activities

    output.emit_one(activities.get(get_db(), activity_id), chosen_format(fmt, json_))


@app.command("delete")
def activity_delete(activity_id: IdArg, yes: YesOpt = False) -> None:
    """Delete an activity.

    Asks first on a terminal; without a terminal it refuses unless --yes is given.
    """
    from smallcrm import activities

    db = get_db()
    record = activities.get(db, activity_id)
    output.confirm(f"Delete {record.kind} {record.id}: {output.label(record)}?", yes)
    output.announce("Deleted", "activity", activities.delete(db, record.id))

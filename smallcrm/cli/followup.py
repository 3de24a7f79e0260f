"""`smallcrm followup`: things someone must do for a customer by a due time."""

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
    OwnerOpt,
    QuietOpt,
    YesOpt,
    chosen_format,
    owner_filter,
)

app = typer.Typer(
    help="Things to do by a due time: add, list, done, snooze, cancel.",
    no_args_is_help=True,
    add_completion=False,
)

IdArg = Annotated[str, typer.Argument(help="The follow-up's id.", metavar="ID")]
_WHEN = "e.g. 2026-12-01T09:30, tomorrow, +2d, friday 9am"
_DUE = ("overdue", "today", "week", "all")
_STATUS = ("open", "done", "cancelled", "all")


def _changed(verb: str, record: object, fmt: str) -> None:
    output.announce(verb, "follow-up", record, fmt)


@app.command("add")
def followup_add(
    ref: Annotated[
        str,
        typer.Argument(
            help="The contact or company: an id, an email, a unique name, contact:ID or "
            "company:ID.",
            metavar="REF",
        ),
    ],
    title: Annotated[str, typer.Argument(help="What must be done.", metavar="TITLE")],
    due: Annotated[str, typer.Option("--due", help=f"When it is due ({_WHEN}).", metavar="WHEN")],
    lead: Annotated[
        str | None, typer.Option("--lead", help="The lead it concerns.", metavar="REF")
    ] = None,
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Who must do it (default: you).", metavar="USER"),
    ] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a follow-up; prints `Created follow-up ID: TITLE` (-q: only the id)."""
    from smallcrm import followups

    form = chosen_format(fmt, json_)
    record = followups.add(get_db(), ref, title, due=due, lead=lead, owner=owner)
    output.announce("Created", "follow-up", record, form, quiet)


def _complete(choices: tuple[str, ...]):  # type: ignore[no-untyped-def]
    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete.lower())]

    return complete


@app.command("list")
def followup_list(
    due: Annotated[
        str,
        typer.Option(
            "--due",
            help="overdue (before today), today, week (the next 7 days, overdue included) or all.",
            metavar="overdue|today|week|all",
            autocompletion=_complete(_DUE),
        ),
    ] = "all",
    status: Annotated[
        str,
        typer.Option(
            "--status",
            help="open, done, cancelled or all.",
            metavar="open|done|all",
            autocompletion=_complete(_STATUS),
        ),
    ] = "open",
    owner: OwnerOpt = None,
    mine: MineOpt = False,
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
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List follow-ups, soonest first (open ones unless --status says otherwise)."""
    from smallcrm import followups
    from smallcrm.records import FollowUp

    form = chosen_format(fmt, json_)
    found = followups.list_followups(
        get_db(),
        due=due,
        status=status,
        owner=owner_filter(owner, mine),
        contact=contact,
        company=company,
        lead=lead,
        limit=limit,
    )
    output.emit(found, form, kind=FollowUp)


@app.command("show")
def followup_show(followup_id: IdArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Show one follow-up."""
    from smallcrm import followups

    output.emit_one(followups.get(get_db(), followup_id), chosen_format(fmt, json_))


@app.command("done")
def followup_done(followup_id: IdArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Mark a follow-up done."""
    from smallcrm import followups

    form = chosen_format(fmt, json_)
    record = followups.done(get_db(), followup_id)
    if form in ("json", "jsonl", "csv"):
        output.emit_one(record, form)
    else:
        output.write_line(f"Marked follow-up {record.id} done: {output.label(record)}")


@app.command("snooze")
def followup_snooze(
    followup_id: IdArg,
    until: Annotated[
        str, typer.Option("--until", help=f"The new due time ({_WHEN}).", metavar="WHEN")
    ],
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Push a follow-up's due time to --until; it is reminded again then."""
    from smallcrm import followups

    form = chosen_format(fmt, json_)
    record = followups.snooze(get_db(), followup_id, until)
    if form in ("json", "jsonl", "csv"):
        output.emit_one(record, form)
    else:
        due = output.when(record.due_at)
        output.write_line(f"Snoozed follow-up {record.id} until {due}: {output.label(record)}")


@app.command("cancel")
def followup_cancel(followup_id: IdArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Cancel a follow-up (it stays in the history)."""
    from smallcrm import followups

    _changed("Cancelled", followups.cancel(get_db(), followup_id), chosen_format(fmt, json_))


@app.command("delete")
def followup_delete(followup_id: IdArg, yes: YesOpt = False) -> None:
    """Delete a follow-up.

    Asks first on a terminal; without a terminal it refuses unless --yes is given.
    """
    from smallcrm import followups

    db = get_db()
    record = followups.get(db, followup_id)
    output.confirm(f"Delete follow-up {record.id}: {output.label(record)}?", yes)
    output.announce("Deleted", "follow-up", followups.delete(db, record.id))

"""`smallcrm lead`: opportunities moving through the pipeline until won or lost."""

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
    edit_changes,
    owner_filter,
    usage_error,
)

app = typer.Typer(
    help="Opportunities: add, list, show, move, won, lost.",
    no_args_is_help=True,
    add_completion=False,
)

RefArg = Annotated[str, typer.Argument(help="The lead: an id or a unique title.", metavar="REF")]
_STAGE_HELP = "Stage name, case-insensitive (default pipeline: New, Contacted, Qualified, "
_STAGE_HELP += "Proposal, Negotiation)."


def _result(verb: str, record: object, fmt: str, quiet: bool = False) -> None:
    output.announce(verb, "lead", record, fmt, quiet)


@app.command("add")
def lead_add(
    title: Annotated[str, typer.Argument(help="What is being sold.", metavar="TITLE")],
    contact: Annotated[
        str | None, typer.Option("--contact", help="The contact (a REF).", metavar="REF")
    ] = None,
    company: Annotated[
        str | None,
        typer.Option(
            "--company", help="The company (default: the contact's company).", metavar="REF"
        ),
    ] = None,
    value: Annotated[
        str | None,
        typer.Option("--value", help="Value: 5000, 5000.50 or 5,000.50.", metavar="AMOUNT"),
    ] = None,
    currency: Annotated[
        str | None, typer.Option("--currency", help="Currency code (default: config, USD).")
    ] = None,
    stage: Annotated[str | None, typer.Option("--stage", help=_STAGE_HELP)] = None,
    close: Annotated[
        str | None,
        typer.Option(
            "--close", help="Expected close date (e.g. 2026-12-01, +30d).", metavar="WHEN"
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner (default: you).", metavar="USER")
    ] = None,
    probability: Annotated[
        str | None,
        typer.Option(
            "--probability", help="Chance to win, 0-100 (default: the stage's).", metavar="PCT"
        ),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeat for more).")] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a lead; prints `Created lead ID: TITLE` (-q: only the id)."""
    from smallcrm import leads

    form = chosen_format(fmt, json_)
    record = leads.add(
        get_db(),
        title,
        contact=contact,
        company=company,
        value=value,
        currency=currency,
        stage=stage,
        close=close,
        owner=owner,
        probability=probability,
        tags_=tag or (),
    )
    _result("Created", record, form, quiet)


@app.command("list")
def lead_list(
    stage: Annotated[str | None, typer.Option("--stage", help="Only leads in this stage.")] = None,
    status: Annotated[
        str,
        typer.Option("--status", help="open, won, lost or all.", metavar="open|won|lost|all"),
    ] = "open",
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    contact: Annotated[
        str | None, typer.Option("--contact", help="Only this contact's leads.", metavar="REF")
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", help="Only this company's leads.", metavar="REF")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Only leads matching these words.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only leads with this tag.")] = None,
    stale: Annotated[
        bool, typer.Option("--stale", help="Only leads longer in their stage than it allows.")
    ] = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List leads in pipeline order (open ones unless --status says otherwise)."""
    from smallcrm import leads
    from smallcrm.records import Lead

    form = chosen_format(fmt, json_)
    found = leads.list_leads(
        get_db(),
        stage=stage,
        status=status,
        owner=owner_filter(owner, mine),
        contact=contact,
        company=company,
        search=search,
        tag=tag,
        stale=stale,
        limit=limit,
    )
    output.emit(found, form, kind=Lead)


@app.command("show")
def lead_show(ref: RefArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Show one lead."""
    from smallcrm import leads

    output.emit_one(leads.get(get_db(), ref), chosen_format(fmt, json_))


@app.command("move")
def lead_move(
    ref: RefArg,
    stage: Annotated[str, typer.Argument(help=_STAGE_HELP, metavar="STAGE")],
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Move a lead to another stage (a closed lead is reopened)."""
    from smallcrm import leads

    form = chosen_format(fmt, json_)
    record = leads.move(get_db(), ref, stage)
    if form in ("json", "jsonl", "csv"):
        output.emit_one(record, form)
    else:
        output.write_line(
            f"Moved lead {record.id} to {output.label_of(record.stage)}: {output.label(record)}"
        )


@app.command("won")
def lead_won(ref: RefArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Mark a lead won."""
    from smallcrm import leads

    _result("Won", leads.won(get_db(), ref), chosen_format(fmt, json_))


@app.command("lost")
def lead_lost(
    ref: RefArg,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it was lost.")] = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Mark a lead lost, optionally saying why."""
    from smallcrm import leads

    _result("Lost", leads.lost(get_db(), ref, reason), chosen_format(fmt, json_))


@app.command("edit")
def lead_edit(
    ref: RefArg,
    title: Annotated[str | None, typer.Option("--title", help="New title.")] = None,
    contact: Annotated[
        str | None, typer.Option("--contact", help='Contact REF ("" unlinks).', metavar="REF")
    ] = None,
    company: Annotated[
        str | None, typer.Option("--company", help='Company REF ("" unlinks).', metavar="REF")
    ] = None,
    value: Annotated[str | None, typer.Option("--value", help="Value.", metavar="AMOUNT")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="Currency code.")] = None,
    close: Annotated[
        str | None,
        typer.Option("--close", help='Expected close date ("" clears it).', metavar="WHEN"),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="New owner (a user).", metavar="USER")
    ] = None,
    probability: Annotated[
        str | None,
        typer.Option(
            "--probability", help='Chance to win, 0-100 ("" uses the stage\'s).', metavar="PCT"
        ),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Add a tag (repeatable).")] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", help="Remove a tag (repeatable).")
    ] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a lead's fields; use `lead move` for its stage."""
    from smallcrm import leads

    form = chosen_format(fmt, json_)
    fields = {
        "title": title,
        "contact": contact,
        "company": company,
        "value": value,
        "currency": currency,
        "close": close,
        "owner": owner,
        "probability": probability,
    }
    changes = edit_changes(fields, tag, untag)
    if not changes:
        usage_error("nothing to change; give at least one option such as --value")
    _result("Updated", leads.edit(get_db(), ref, **changes), form, quiet)


@app.command("delete")
def lead_delete(ref: RefArg, yes: YesOpt = False) -> None:
    """Delete a lead and its history.

    Asks first on a terminal; without a terminal it refuses unless --yes is given.
    """
    from smallcrm import leads

    db = get_db()
    record = leads.get(db, ref)
    output.confirm(f"Delete lead {record.id}: {output.label(record)}?", yes)
    output.announce("Deleted", "lead", leads.delete(db, str(record.id)))

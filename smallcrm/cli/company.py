"""`smallcrm company`: the accounts contacts work for and leads are sold to."""

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
    help="Accounts: add, list, show, edit, delete.",
    no_args_is_help=True,
    add_completion=False,
)

RefArg = Annotated[
    str, typer.Argument(help="The company: an id, its domain or a unique name.", metavar="REF")
]
_RELATIONSHIPS = "basic, reactive, accountable, proactive, partnership"


@app.command("add")
def company_add(
    name: Annotated[str, typer.Argument(help="The company's name.", metavar="NAME")],
    domain: Annotated[str | None, typer.Option("--domain", help="Web domain.")] = None,
    industry: Annotated[str | None, typer.Option("--industry", help="Industry.")] = None,
    city: Annotated[str | None, typer.Option("--city", help="City.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country.")] = None,
    territory: Annotated[str | None, typer.Option("--territory", help="Sales territory.")] = None,
    relationship: Annotated[
        str | None,
        typer.Option("--relationship", help=f"Relationship type: {_RELATIONSHIPS}."),
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="Owner (default: you).", metavar="USER")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag (repeat for more; commas split).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A free-text note.")] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a company; prints `Created company ID: NAME` (-q: only the id)."""
    from smallcrm import companies

    form = chosen_format(fmt, json_)
    record = companies.add(
        get_db(),
        name,
        domain=domain,
        industry=industry,
        city=city,
        country=country,
        territory=territory,
        relationship=relationship,
        phone=phone,
        owner=owner,
        tags_=tag or (),
        note=note,
    )
    output.announce("Created", "company", record, form, quiet)


@app.command("list")
def company_list(
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Only companies matching these words.")
    ] = None,
    tag: Annotated[str | None, typer.Option("--tag", help="Only companies with this tag.")] = None,
    relationship: Annotated[
        str | None, typer.Option("--relationship", help="Only this relationship type.")
    ] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """List companies by name."""
    from smallcrm import companies
    from smallcrm.records import Company

    form = chosen_format(fmt, json_)
    found = companies.list_companies(
        get_db(),
        search=search,
        tag=tag,
        relationship=relationship,
        owner=owner_filter(owner, mine),
        limit=limit,
    )
    output.emit(found, form, kind=Company)


@app.command("show")
def company_show(ref: RefArg, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Show one company."""
    from smallcrm import companies

    output.emit_one(companies.get(get_db(), ref), chosen_format(fmt, json_))


@app.command("edit")
def company_edit(
    ref: RefArg,
    name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    domain: Annotated[str | None, typer.Option("--domain", help='Domain ("" clears it).')] = None,
    industry: Annotated[str | None, typer.Option("--industry", help="Industry.")] = None,
    city: Annotated[str | None, typer.Option("--city", help="City.")] = None,
    country: Annotated[str | None, typer.Option("--country", help="Country.")] = None,
    territory: Annotated[str | None, typer.Option("--territory", help="Sales territory.")] = None,
    relationship: Annotated[
        str | None,
        typer.Option("--relationship", help=f"Relationship type: {_RELATIONSHIPS}."),
    ] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number.")] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="New owner (a user).", metavar="USER")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help='Note ("" clears it).')] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Add a tag (repeatable).")] = None,
    untag: Annotated[
        list[str] | None, typer.Option("--untag", help="Remove a tag (repeatable).")
    ] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Change a company's fields; only the options given change."""
    from smallcrm import companies

    form = chosen_format(fmt, json_)
    fields = {
        "name": name,
        "domain": domain,
        "industry": industry,
        "city": city,
        "country": country,
        "territory": territory,
        "relationship": relationship,
        "phone": phone,
        "owner": owner,
        "note": note,
    }
    changes = edit_changes(fields, tag, untag)
    if not changes:
        usage_error("nothing to change; give at least one option such as --domain")
    record = companies.edit(get_db(), ref, **changes)
    output.announce("Updated", "company", record, form, quiet)


@app.command("delete")
def company_delete(ref: RefArg, yes: YesOpt = False) -> None:
    """Delete a company.

    Its own activities go with it; its contacts and leads stay, unlinked. Asks first on a
    terminal; without a terminal it refuses unless --yes is given.
    """
    from smallcrm import companies

    db = get_db()
    record = companies.get(db, ref)
    output.confirm(f"Delete company {record.id}: {output.label(record)}?", yes)
    output.announce("Deleted", "company", companies.delete(db, str(record.id)))

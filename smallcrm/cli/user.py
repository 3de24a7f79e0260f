"""`smallcrm user`: the team; records are owned by users and reminders go to them."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, LimitOpt, QuietOpt, chosen_format

app = typer.Typer(
    help="The team: add and list users.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("add")
def user_add(
    name: Annotated[
        str, typer.Argument(help="The user's name (also their login).", metavar="NAME")
    ],
    email: Annotated[
        str | None,
        typer.Option("--email", help="Where their reminders go."),
    ] = None,
    quiet: QuietOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Add a user; prints `Created user ID: NAME` (-q: only the id)."""
    from smallcrm import users

    form = chosen_format(fmt, json_)
    output.announce("Created", "user", users.add(get_db(), name, email=email), form, quiet)


@app.command("list")
def user_list(limit: LimitOpt = None, fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """List the team."""
    from smallcrm import users
    from smallcrm.records import User

    form = chosen_format(fmt, json_)
    output.emit(users.list_users(get_db(), limit=limit), form, kind=User)

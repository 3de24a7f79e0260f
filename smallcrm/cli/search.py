"""`smallcrm search QUERY`: across contacts, companies, leads and activity text."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, LimitOpt, chosen_format

app = typer.Typer(add_completion=False)


@app.command("search")
def search_command(
    query: Annotated[
        str,
        typer.Argument(
            help="Words to find (literal text; each word matches as a prefix).", metavar="QUERY"
        ),
    ],
    limit: LimitOpt = None,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Search contacts, companies, leads and activity text.

    Each hit shows its kind and the contact or company it concerns, best matches first.
    No match prints nothing and exits 0.
    """
    from smallcrm import search
    from smallcrm.records import SearchHit

    form = chosen_format(fmt, json_)
    hits = search.search(get_db(), query, limit=limit)
    output.emit(hits, form, kind=SearchHit)

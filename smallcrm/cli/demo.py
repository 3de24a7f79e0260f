"""`smallcrm demo`: a sample team CRM in its own database, opened in the TUI."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from smallcrm.cli import context
from smallcrm.errors import SmallCrmError

app = typer.Typer(add_completion=False)


class DemoUnavailable(SmallCrmError):
    """The demo data builder is not part of this installation."""


@app.command("demo")
def demo_command(
    no_tui: Annotated[
        bool,
        typer.Option("--no-tui", help="Build the data and print today's agenda instead."),
    ] = False,
) -> None:
    """Build a sample team CRM and open the TUI on it.

    The data goes to demo.db in your data directory (never crm.db), or to the database that
    --db / SMALLCRM_DB names. Without a terminal, or with --no-tui, prints today's agenda.
    """
    try:
        from smallcrm.demo import build_demo
    except ImportError as error:
        if str(getattr(error, "name", "")).startswith("smallcrm.demo"):
            raise DemoUnavailable("the demo data is not available in this version") from None
        raise
    db = build_demo(context.db_option())
    sys.stderr.write(f"Demo database: {db.display_name()}\n")
    if not no_tui and sys.stdin.isatty() and sys.stdout.isatty():
        from smallcrm.cli.tui import open_tui

        open_tui(db)
        return
    from smallcrm import agenda
    from smallcrm.cli.today import show_agenda

    show_agenda(agenda.today(db), "table")

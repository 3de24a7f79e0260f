"""`smallcrm tui`: the only route from the command line to Textual (imported inside)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from smallcrm.cli.context import get_db
from smallcrm.errors import SmallCrmError

if TYPE_CHECKING:
    from smallcrm.store import Db

app = typer.Typer(add_completion=False)


class TuiUnavailable(SmallCrmError):
    """The full-screen interface cannot start here."""


def open_tui(db: Db | None = None) -> None:
    """Open the full-screen interface on `db`, else the database the global options name."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TuiUnavailable("the full-screen interface needs a terminal (stdin and stdout)")
    try:
        from smallcrm.tui.app import make_quick_app, run_tui
    except ImportError as error:
        if getattr(error, "name", "") and str(error.name).startswith("smallcrm.tui"):
            raise TuiUnavailable("the full-screen interface is not installed yet") from None
        raise
    if db is not None:
        run_tui(db)
        return
    from smallcrm import quickstart, settings
    from smallcrm.cli.context import db_option

    path = quickstart.readable_file(settings.database_target(db_option()))
    if path is None:
        run_tui(get_db())  # new, older, remote or broken: opened (or refused) before the screen
        return
    # The board first, from the file itself; the store (and today's backup) opens meanwhile.
    app = make_quick_app(get_db, path)
    app.run()
    app.db.finish()  # if the store could not open after all, say so like any command


@app.command("tui", help="Open the full-screen interface.")
def tui_command() -> None:
    """Open the full-screen interface."""
    open_tui()

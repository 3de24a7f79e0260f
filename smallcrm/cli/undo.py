"""`smallcrm undo`: revert my last change."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, chosen_format

app = typer.Typer(
    help="Undo my last change (an edit, a move, a delete, an import).",
    add_completion=False,
)


@app.command("undo")
def undo(
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be reverted; change nothing."),
    ] = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Revert my last recorded change, with everything it did in one go.

    A delete comes back with the activities, follow-ups and links it took along; an import
    is removed whole. Undo refuses, changing nothing, when someone else changed one of the
    same records since. Run it again to go further back; `smallcrm history` shows the record.
    """
    from smallcrm import history

    form = chosen_format(fmt, json_)
    done = history.undo(get_db(), dry_run=dry_run)
    if form != "table":
        output.emit_one(done, form)
        return
    verb = "Would undo" if done.dry_run else "Undid"
    output.write_line(f"{verb} change {done.changeset_id} ({output.when(done.at)}):")
    for line in done.changes[:50]:
        output.write_line(f"  {output.label_of(line)}")
    if len(done.changes) > 50:
        output.write_line(f"  … and {len(done.changes) - 50} more")

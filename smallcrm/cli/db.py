"""`smallcrm db`: where the database is, and keeping its schema current and healthy."""

from __future__ import annotations

from typing import Annotated

import typer

from smallcrm.cli import output
from smallcrm.cli.context import db_option, get_db
from smallcrm.cli.options import FormatOpt, JsonOpt, YesOpt, chosen_format

app = typer.Typer(
    help="The database: path, migrate, check, backup, restore, copy.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command("path")
def db_path() -> None:
    """Print the database's location (the file, or the URL with its password hidden)."""
    from smallcrm import database

    output.write_line(output.label_of(database.location(db_option())))


@app.command("migrate")
def db_migrate() -> None:
    """Create the database or upgrade its schema to this version's; reports before and after."""
    from smallcrm import database

    where = output.label_of(database.location(db_option()))
    before, after = database.migrate(db_option())
    if before == after:
        output.write_line(f"{where}: schema {after} is current; nothing to do")
    else:
        output.write_line(f"{where}: migrated schema {before or '(new database)'} -> {after}")


@app.command("check")
def db_check(fmt: FormatOpt = None, json_: JsonOpt = False) -> None:
    """Check integrity, foreign keys and the schema revision; exit 1 on problems."""
    from smallcrm import database

    form = chosen_format(fmt, json_)
    report = database.check(get_db())
    if form in ("json", "jsonl"):
        data = {
            "database": report.database,
            "revision": report.revision,
            "integrity": report.integrity,
            "foreign_keys": report.foreign_keys,
            "ok": report.ok,
        }
        output.emit_one(data, form)
    else:
        output.write_line(f"database: {output.label_of(report.database)}")
        output.write_line(f"schema: {report.revision or '(none)'}")
        output.write_line("integrity: " + ("ok" if not report.integrity else "PROBLEMS"))
        for problem in report.integrity:
            output.write_line(f"  {output.label_of(problem)}")
        output.write_line("foreign keys: " + ("ok" if not report.foreign_keys else "PROBLEMS"))
        for problem in report.foreign_keys:
            output.write_line(f"  {output.label_of(problem)}")
    if not report.ok:
        count = len(report.integrity) + len(report.foreign_keys)
        from smallcrm.cli.main import fail

        fail(f"database check found {count} problem{'s' if count != 1 else ''}")


@app.command("backup")
def db_backup(
    file: Annotated[
        str,
        typer.Argument(
            help="Where to write the copy (a file, or a directory for a dated file).",
            metavar="FILE",
        ),
    ],
) -> None:
    """Copy the database to FILE, consistently even while others write; private (0600)."""
    from smallcrm import backup

    made = backup.backup(get_db(), file)
    output.write_line(f"Backed up to {output.label_of(made.path)} ({made.size:,} bytes)")


@app.command("restore")
def db_restore(
    file: Annotated[str, typer.Argument(help="The backup to restore.", metavar="FILE")],
    yes: YesOpt = False,
) -> None:
    """Replace the database with the backup FILE.

    FILE is checked first (an intact smallcrm database of a schema this version knows);
    the replaced database is kept beside it as a dated copy, and people forgotten since the
    backup was made are erased again. Asks first on a terminal; otherwise needs --yes.
    """
    import sys

    from smallcrm import backup, database
    from smallcrm.errors import Invalid

    # Not get_db(): a database too damaged to open must be restorable too.
    where = output.label_of(database.location(db_option()))
    backup.check_backup(file)  # junk is refused before anything is asked
    if not yes:
        if not output.is_terminal(sys.stdin):
            raise Invalid("refusing to replace the database without confirmation; pass --yes")
        if not typer.confirm(f"Replace {where} with {output.label_of(file)}?", err=True):
            sys.stderr.write("Nothing restored.\n")
            raise typer.Exit(1)
    done = backup.restore(db_option(), file)
    output.write_line(f"Restored {where} from {output.label_of(done.source)}")
    if done.kept:
        output.write_line(f"The database it replaced is kept as {output.label_of(done.kept)}")
    if done.erasures_reapplied:
        count = done.erasures_reapplied
        output.write_line(f"Erased again {count} forgotten contact{'s' if count != 1 else ''}")


@app.command("copy")
def db_copy(
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The empty database to fill: a URL like the one --db takes (its password "
            "in PGPASSWORD or ~/.pgpass, not on the command line) or a file.",
            metavar="URL",
        ),
    ],
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Copy this whole CRM into an empty database (solo to team); counts per table."""
    from smallcrm import transfer

    form = chosen_format(fmt, json_)
    if transfer.has_password(to):
        output.err_console().print(
            "warning: a password on the command line is visible to other users of this "
            "machine; put it in PGPASSWORD or ~/.pgpass instead",
            markup=False,
        )
    report = transfer.copy_database(get_db(), to)
    if form in ("json", "jsonl"):
        data = {"source": report.source, "target": report.target, "counts": report.counts,
                "total": report.total}  # fmt: skip
        output.emit_one(data, form)
        return
    width = max(len(name) for name in report.counts)
    for name, count in report.counts.items():
        output.write_line(f"{name:<{width}}  {count:>9,}")
    output.write_line(
        f"Copied {report.total:,} rows from {output.label_of(report.source)} "
        f"to {output.label_of(report.target)}"
    )

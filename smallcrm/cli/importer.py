"""`smallcrm import KIND FILE`: records in from a spreadsheet (CSV) or address book (vCard)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from smallcrm.cli.context import db_option, get_db
from smallcrm.cli.options import usage_error
from smallcrm.textsafe import visible

if TYPE_CHECKING:
    from smallcrm.importing import ImportResult

app = typer.Typer(add_completion=False)

KINDS = ("contacts", "companies", "leads", "activities", "followups")
_SINGULAR = {
    "contact": "contacts", "company": "companies", "lead": "leads", "activity": "activities",
    "followup": "followups", "follow-ups": "followups", "follow-up": "followups",
}  # fmt: skip
POLICIES = ("skip", "update", "error")


def kind_name(value: str) -> str:
    lowered = value.strip().lower()
    lowered = _SINGULAR.get(lowered, lowered)
    if lowered not in KINDS:
        raise usage_error(f"KIND must be one of: {', '.join(KINDS)} (not {value!r})")
    return lowered


def _complete_kind(incomplete: str) -> list[str]:
    return [k for k in KINDS if k.startswith(incomplete.lower())]


def _mapping(pairs: list[str] | None) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs or []:
        column, sep, target = pair.rpartition("=")
        if not sep or not column.strip():
            raise usage_error(f"--map takes COLUMN=FIELD, not {pair!r}")
        result[column.strip()] = target.strip() or "-"
    return result


@app.command("import")
def import_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="What the file holds: contacts, companies, leads, activities or followups.",
            metavar="KIND",
            autocompletion=_complete_kind,
        ),
    ],
    file: Annotated[
        str,
        typer.Argument(
            help="A CSV file (a .vcf file for contacts), or - for standard input.",
            metavar="FILE|-",
        ),
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Read COLUMN as FIELD (repeatable); FIELD `extra` keeps it, `-` ignores it.",
            metavar="COLUMN=FIELD",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check every row and report; write nothing."),
    ] = False,
    on_duplicate: Annotated[
        str,
        typer.Option(
            "--on-duplicate",
            help="A row matching an existing record: skip it, update the record, or fail.",
            metavar="skip|update|error",
        ),
    ] = "skip",
    rejects: Annotated[
        str | None,
        typer.Option(
            "--rejects",
            help="Import the valid rows and write the invalid ones to FILE with an error column.",
            metavar="FILE",
        ),
    ] = None,
    delimiter: Annotated[
        str | None,
        typer.Option(
            "--delimiter",
            help="The column separator (default: detected among comma, semicolon and tab).",
            metavar="C",
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            "--encoding",
            help="The file's text encoding, e.g. latin-1 (default: UTF-8, with or without BOM).",
            metavar="NAME",
        ),
    ] = None,
) -> None:
    """Import records from a CSV file (or contacts from vCards), all or nothing.

    Columns are matched by name, ignoring case, to fields and to the names Google Contacts,
    Outlook, Apple Contacts, HubSpot, Pipedrive and Salesforce export; unknown columns are kept
    and come back on export. If any row is invalid nothing is written and each bad row is
    named as `line N: reason` (exit 1), unless --rejects is given. The last line printed is
    `imported N, updated N, skipped N, rejected N`.
    """
    from smallcrm import importing, settings
    from smallcrm.errors import Invalid

    chosen = kind_name(kind)
    policy = on_duplicate.strip().lower()
    if policy not in POLICIES:
        raise usage_error(f"--on-duplicate must be one of: {', '.join(POLICIES)}")
    mapping = _mapping(map_)
    try:
        if delimiter is not None:
            importing.parse_delimiter(delimiter)
        importing.parse_encoding(encoding)
        importing.checked_map(chosen, mapping)
    except Invalid as error:
        raise usage_error(str(error)) from None
    # Opened only when needed: contacts are validated against the file without the store.
    database = importing.DeferredDb(settings.database_target(db_option()), get_db)
    with _progress() as progress:
        result = importing.import_file(
            database,
            chosen,
            file,
            mapping=mapping,
            dry_run=dry_run,
            on_duplicate=policy,
            rejects=rejects,
            delimiter=delimiter,
            encoding=encoding,
            progress=progress,
        )
    _report(result)


def _report(result: ImportResult) -> None:
    err = sys.stderr
    for line, reason in result.errors:
        err.write(f"line {line}: {visible(reason)}\n")
    hidden = result.rejected - len(result.errors)
    if hidden > 0:
        err.write(f"… and {hidden} more invalid rows\n")
    if result.rejects_path and result.rejected and not result.dry_run:
        err.write(f"wrote {result.rejected} invalid rows to {visible(result.rejects_path)}\n")
    if result.dry_run:
        err.write("dry run: nothing was written\n")
    sys.stdout.write(result.summary() + "\n")
    sys.stdout.flush()
    if result.refused:
        rows = "row is" if result.rejected == 1 else "rows are"
        err.write(
            f"error: {result.rejected} {rows} invalid; nothing was imported "
            "(fix them, or import the valid rows with --rejects FILE)\n"
        )
        raise typer.Exit(1)


class _progress:
    """A rich progress bar on stderr while it is a terminal; otherwise nothing."""

    def __enter__(self) -> Any:
        from smallcrm.cli import output

        if not output.is_terminal(sys.stderr):
            return None
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=output.err_console(),
            transient=True,
        )
        self.bar.start()
        self.tasks: dict[str, Any] = {}

        def update(phase: str, done: int, total: int) -> None:
            task = self.tasks.get(phase)
            if task is None:
                label = "checking" if phase == "reading" else "writing"
                task = self.tasks[phase] = self.bar.add_task(label, total=total or None, rate="")
            speed = self.bar.tasks[task].speed if phase == "writing" else None
            rate = f"{speed:,.0f} rows/s" if speed else ""
            self.bar.update(task, completed=done, total=total or None, rate=rate)

        return update

    def __exit__(self, *exc: object) -> None:
        bar = getattr(self, "bar", None)
        if bar is not None:
            bar.stop()

"""`smallcrm export KIND`: records out as CSV, JSON, JSON lines, vCard or iCalendar."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from collections.abc import Iterator
from typing import IO, Annotated, Any

import typer

from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.importer import KINDS, _complete_kind, kind_name
from smallcrm.cli.options import LimitOpt, MineOpt, OwnerOpt, owner_filter, usage_error

app = typer.Typer(add_completion=False)

FORMATS = ("csv", "json", "jsonl", "vcard", "ics")
#: Which list filters each kind takes (as its `list` command does).
FILTERS: dict[str, tuple[str, ...]] = {
    "contacts": ("search", "tag", "company", "stage", "owner"),
    "companies": ("search", "tag", "owner", "relationship"),
    "leads": ("search", "tag", "company", "contact", "stage", "status", "owner"),
    "activities": ("contact", "company", "lead", "kind", "since"),
    "followups": ("contact", "company", "lead", "due", "status", "owner"),
}


def _opt(name: str, help_: str, metavar: str = "TEXT") -> Any:
    return typer.Option(name, help=help_, metavar=metavar, show_default=False)


@app.command("export")
def export_command(
    kind: Annotated[
        str,
        typer.Argument(
            help="What to export: contacts, companies, leads, activities or followups.",
            metavar="KIND",
            autocompletion=_complete_kind,
        ),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help="csv (default), json, jsonl, vcard (contacts) or ics (follow-ups).",
            metavar="csv|json|jsonl|vcard|ics",
        ),
    ] = "csv",
    out: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Write to FILE (created private to you) instead of standard output.",
            metavar="FILE",
        ),
    ] = None,
    raw: Annotated[
        bool,
        typer.Option("--raw", help="CSV: do not neutralise cells a spreadsheet would run."),
    ] = False,
    include_dnc: Annotated[
        bool,
        typer.Option(
            "--include-do-not-contact",
            help="Contacts: include those marked do-not-contact (left out by default).",
        ),
    ] = False,
    search: Annotated[str | None, _opt("--search", "Only records matching these words.")] = None,
    tag: Annotated[str | None, _opt("--tag", "Only records with this tag.")] = None,
    company: Annotated[
        str | None, _opt("--company", "Only records of this company.", "REF")
    ] = None,
    contact: Annotated[
        str | None, _opt("--contact", "Only records of this contact.", "REF")
    ] = None,
    lead: Annotated[str | None, _opt("--lead", "Only records of this lead.", "REF")] = None,
    stage: Annotated[
        str | None, _opt("--stage", "Contacts: lifecycle stage; leads: stage.")
    ] = None,
    status: Annotated[
        str | None, _opt("--status", "Leads: open|won|lost|all; follow-ups: open|done|all.")
    ] = None,
    relationship: Annotated[
        str | None, _opt("--relationship", "Companies: only this relationship type.")
    ] = None,
    activity_kind: Annotated[
        str | None, _opt("--kind", "Activities: only this kind (call, email, …).")
    ] = None,
    since: Annotated[str | None, _opt("--since", "Activities: since WHEN.", "WHEN")] = None,
    due: Annotated[
        str | None, _opt("--due", "Follow-ups: overdue|today|week|all.", "WINDOW")
    ] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    limit: LimitOpt = None,
) -> None:
    """Export records; CSV re-imports to the same records (tags, phones, extra columns).

    Leads and follow-ups of every status are exported unless --status says otherwise.
    """
    from smallcrm import exporting

    chosen = kind_name(kind)
    form = fmt.strip().lower()
    if form not in FORMATS:
        raise usage_error(f"--format must be one of: {', '.join(FORMATS)}")
    if form == "vcard" and chosen != "contacts":
        raise usage_error("--format vcard exports contacts only")
    if form == "ics" and chosen != "followups":
        raise usage_error("--format ics exports followups only")
    given = {
        "search": search, "tag": tag, "company": company, "contact": contact, "lead": lead,
        "stage": stage, "status": status, "relationship": relationship, "kind": activity_kind,
        "since": since, "due": due, "owner": owner_filter(owner, mine),
    }  # fmt: skip
    filters: dict[str, Any] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name not in FILTERS[chosen]:
            raise usage_error(f"--{name} does not apply to {chosen}")
        filters[name] = value
    options: dict[str, Any] = {"include_do_not_contact": include_dnc, "limit": limit, **filters}
    if form == "csv" and chosen == "contacts" and _fast_contacts(out, raw, options):
        return
    db = get_db()
    items = exporting.records(db, chosen, **options) if form != "csv" else iter(())
    with _destination(out) as stream:
        if form == "csv":
            count = exporting.write_csv(db, chosen, stream, raw=raw, **options)
        elif form == "json":
            count = _json(items, stream)
        elif form == "jsonl":
            count = 0
            for record in items:
                stream.write(json.dumps(output.plain(record), ensure_ascii=False) + "\n")
                count += 1
        elif form == "vcard":
            count = exporting.write_vcards(items, stream)
        else:
            count = exporting.write_ics(items, stream)
    if out is not None:
        sys.stderr.write(f"exported {count} {chosen} to {out}\n")


def _fast_contacts(out: str | None, raw: bool, options: dict[str, Any]) -> bool:
    """Contacts as CSV read straight from an SQLite file, without loading the database stack
    (smallcrm.exporting.fast); False when the general path must run."""
    from smallcrm import settings
    from smallcrm.cli.context import db_option
    from smallcrm.exporting import fast

    filters = dict(options)
    include_dnc, limit = filters.pop("include_do_not_contact"), filters.pop("limit")
    export = fast.prepare(
        settings.database_target(db_option()),
        filters,
        include_do_not_contact=include_dnc,
        limit=limit,
    )
    if export is None:
        return False
    try:
        with _destination(out) as stream:
            count = export.write(stream, raw=raw)
    finally:
        export.close()
    if out is not None:
        sys.stderr.write(f"exported {count} contacts to {out}\n")
    return True


def _json(items: Any, stream: IO[str]) -> int:
    count = 0
    stream.write("[")
    for record in items:
        stream.write(",\n" if count else "\n")
        stream.write(json.dumps(output.plain(record), ensure_ascii=False))
        count += 1
    stream.write("\n]\n" if count else "]\n")
    return count


@contextlib.contextmanager
def _destination(path: str | None) -> Iterator[IO[str]]:
    if path is None or path == "-":
        yield sys.stdout
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        from smallcrm.errors import Invalid

        raise Invalid(f"cannot write {path}: {error.strerror or error}") from None
    if stat.S_ISREG(os.fstat(fd).st_mode):  # an existing file becomes private; never /dev/null
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        yield handle


__all__ = ["KINDS", "app"]

"""Import contacts, companies, leads, activities and follow-ups from CSV (contacts also vCard).

Two phases, so the write lock is held only for writing:

1. **Validate** (no write lock): the file is read as a stream (:mod:`.reading`), each row
   mapped to fields (:mod:`smallcrm.columns`), checked and normalised (:mod:`.cells`), its
   references and duplicates looked up a batch at a time in short read transactions, and the
   result staged in a scratch file (:class:`smallcrm.store.scratch.Scratch`). Nothing grows with
   the file but the scratch file.
2. **Write** (one write transaction): unless some row was invalid and no rejects file was
   asked for, the staged rows go in with batched inserts (on SQLite `INSERT … SELECT` from the
   scratch file ATTACHed to the write connection), their tags, search documents and history
   record a statement per batch (:mod:`.kinds`). Any failure rolls the whole import
   back; `smallcrm undo` takes a whole import back.

The kinds: contacts and companies (:mod:`.people`), leads, activities and follow-ups
(:mod:`.sales`).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from smallcrm import columns
from smallcrm.errors import Invalid
from smallcrm.importing.cells import (
    FORMULA_STARTS,
    PhoneNormaliser,
    check_email,
    neutralise,
    parse_bool,
    split_tags,
    unneutralise,
)
from smallcrm.importing.kinds import DeferredDb
from smallcrm.importing.reading import (
    CsvReader,
    Source,
    Unreadable,
    VcardReader,
    is_vcard,
    parse_delimiter,
    parse_encoding,
)

__all__ = [
    "DUPLICATE_POLICIES",
    "DeferredDb",
    "FORMULA_STARTS",
    "ImportResult",
    "PhoneNormaliser",
    "Progress",
    "check_email",
    "checked_map",
    "import_file",
    "neutralise",
    "parse_bool",
    "parse_delimiter",
    "parse_encoding",
    "split_tags",
    "unneutralise",
]

#: Called with (phase, done, total): phase "reading" counts bytes, "writing" counts rows.
Progress = Callable[[str, int, int], None]

DUPLICATE_POLICIES = ("skip", "update", "error")
SHOWN_ERRORS = 20
BATCH = 2000


@dataclass(frozen=True)
class ImportResult:
    """What an import did (or, when `written` is False, would have done)."""

    kind: str
    imported: int
    updated: int
    skipped: int
    rejected: int
    errors: list[tuple[int, str]] = field(default_factory=list)  # the first SHOWN_ERRORS
    written: bool = False
    dry_run: bool = False
    rejects_path: str | None = None

    @property
    def refused(self) -> bool:
        """Invalid rows and no rejects file: nothing was written (all or nothing)."""
        return self.rejected > 0 and self.rejects_path is None

    def summary(self) -> str:
        return (
            f"imported {self.imported}, updated {self.updated}, "
            f"skipped {self.skipped}, rejected {self.rejected}"
        )


def _handler(kind: str, db: Any, on_duplicate: str) -> Any:
    from smallcrm.importing import people, sales

    handlers = {
        "contacts": people.Contacts,
        "companies": people.Companies,
        "leads": sales.Leads,
        "activities": sales.Activities,
        "followups": sales.Followups,
    }
    return handlers[kind](db, on_duplicate)


def checked_map(kind: str, mapping: Mapping[str, str] | None) -> dict[str, str]:
    """`--map COLUMN=FIELD` pairs with FIELD made canonical; Invalid names an unknown field."""
    allowed = columns.mappable(kind)
    checked: dict[str, str] = {}
    for column, given in (mapping or {}).items():
        target = given.strip().lower().replace("-", "_") if given.strip() != "-" else "-"
        if target in ("ignore", "skip", ""):
            target = columns.IGNORE
        if target not in allowed:
            raise Invalid(
                f"--map {column}={target}: unknown field for {kind}; "
                f"use one of: {', '.join(allowed)}"
            )
        checked[column] = target
    return checked


def import_file(
    db: Any,
    kind: str,
    source: str | os.PathLike[str],
    *,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
    on_duplicate: str = "skip",
    rejects: str | os.PathLike[str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
    stdin: IO[bytes] | None = None,
) -> ImportResult:
    """Import FILE (or `-`, standard input) as records of `kind`; see the module docstring.

    `db` is the store's Db, or a DeferredDb (the CLI's), opened only when needed.
    `mapping` maps column names to fields (`--map`). Invalid rows make the whole import write
    nothing unless `rejects` names a file for them; `dry_run` validates and writes nothing.
    """
    if kind not in columns.KINDS:
        raise Invalid(f"cannot import '{kind}'; choose one of: {', '.join(columns.KINDS)}")
    if on_duplicate not in DUPLICATE_POLICIES:
        raise Invalid(
            f"--on-duplicate must be one of: {', '.join(DUPLICATE_POLICIES)}, not '{on_duplicate}'"
        )
    checked = checked_map(kind, mapping)
    codec = parse_encoding(encoding)
    if delimiter is not None:
        parse_delimiter(delimiter)
    handler = _handler(kind, db, on_duplicate)
    if isinstance(db, DeferredDb):
        handler.reads = _file_reads(db, kind, on_duplicate) or handler.store_db()
    rejects_path = Path(rejects).expanduser() if rejects else None
    source_file = Source(source, stdin)
    try:
        if kind == "contacts" and is_vcard(source_file, codec):
            reader: Any = VcardReader(source_file, codec)
        else:
            reader = CsvReader(
                kind, source_file, mapping=checked, delimiter=delimiter, encoding=codec
            )
        try:
            return _run(handler, reader, source_file, dry_run, rejects_path, progress)
        finally:
            reader.close()
    finally:
        source_file.close()


def _file_reads(db: DeferredDb, kind: str, on_duplicate: str) -> Any:
    """Reads of the database file for validating contacts without the database stack, or None
    where validation needs the store: other kinds, `--on-duplicate update` (which compares
    records), a database that is not a local file of this schema in WAL mode (the store
    creates, upgrades or refuses it), or a first open of the day (the store makes the backup)."""
    from smallcrm import backup
    from smallcrm.store import fastread, lookups

    if kind != "contacts" or on_duplicate == "update":
        return None
    path = fastread.database_file(db.target)
    if path is None or backup.due(path):
        return None
    return lookups.FileReads.open(path, db.target)


def _run(
    handler: Any,
    reader: Any,
    source: Source,
    dry_run: bool,
    rejects_path: Path | None,
    progress: Progress | None,
) -> ImportResult:
    from smallcrm.importing import parallel
    from smallcrm.store.scratch import Scratch

    scratch = Scratch(handler.columns)
    try:

        def report(done: int) -> None:
            if progress:
                progress("reading", done, source.size)

        writes_through_store = handler.needs_store_to_write(reader) and not dry_run
        prepare = handler.ready_to_write if writes_through_store else None
        rows = parallel.stage(handler, reader, source, scratch, report, prepare)
        scratch.finish_staging(handler.repeat_keys)
        counts = scratch.counts()
        if rows == 0 and not counts["bad"]:
            raise Invalid(f"{source.name} has a header but no rows to import")
        handler.resolve_repeats(scratch)
        counts = scratch.counts()
        errors = [(line, error) for line, error, _ in scratch.bad(SHOWN_ERRORS)]
        result = ImportResult(
            kind=handler.kind,
            imported=counts.get("insert", 0),
            updated=counts.get("update", 0) + counts.get("merge", 0),
            skipped=counts.get("skip", 0),
            rejected=counts["bad"],
            errors=errors,
            dry_run=dry_run,
            rejects_path=str(rejects_path) if rejects_path else None,
        )
        if dry_run:
            return result
        if result.refused:  # nothing is written: every valid row counts as skipped
            return dataclasses.replace(
                result, imported=0, updated=0, skipped=counts.get("total", 0) - result.rejected
            )
        if result.rejected and rejects_path is not None:
            _write_rejects(scratch, reader, rejects_path)
        written = handler.write(scratch, progress)
        return ImportResult(
            kind=handler.kind,
            imported=written["imported"],
            updated=written["updated"],
            skipped=result.skipped + written["skipped"],
            rejected=result.rejected,
            errors=errors,
            written=True,
            rejects_path=result.rejects_path,
        )
    finally:
        scratch.close()


def stage_rows(
    handler: Any, items: Iterable[Any], scratch: Any, report: Callable[[], None] | None
) -> int:
    """Validate the rows (and Unreadable items) of a reader a batch at a time into `scratch`;
    `report` is called after each batch. Returns how many rows were read."""
    rows = 0
    batch: list[Any] = []
    unreadable: list[tuple[int, str, str]] = []

    def validate() -> None:
        staged, bad = handler.validate(batch)
        scratch.stage(staged)
        scratch.reject(bad + unreadable)
        batch.clear()
        unreadable.clear()
        if report:
            report()

    for item in items:
        if isinstance(item, Unreadable):
            unreadable.append((item.line, item.reason, json.dumps(item.raw)))
            continue
        batch.append(item)
        rows += 1
        if len(batch) >= BATCH:
            validate()
    validate()
    return rows


def _write_rejects(scratch: Any, reader: Any, path: Path) -> None:
    """The invalid rows as CSV with the input's columns and an `error` column, private (0600)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as error:
        raise Invalid(f"cannot write {path}: {error.strerror or error}") from None
    if stat.S_ISREG(os.fstat(fd).st_mode):  # never /dev/null or a pipe
        os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as out:
        writer = csv.writer(out, delimiter=reader.delimiter, lineterminator="\r\n")
        headers = list(reader.headers)
        writer.writerow([*headers, "error"])
        width = len(headers)
        for line, error, raw in scratch.bad():
            cells = json.loads(raw) if raw else []
            cells = [*cells, *([""] * (width - len(cells)))]
            writer.writerow([*cells, f"line {line}: {error}"])

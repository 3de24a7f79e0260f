"""Contacts as CSV without the database stack: the fast path of `export contacts`.

Loading SQLAlchemy and SQLModel takes longer, and more memory, than writing 100,000 rows. So
the CSV export of contacts first asks :mod:`smallcrm.store.fastread` (standard library only)
to read a local database file itself, read-only, and leaves the general path
(:func:`smallcrm.exporting.write_csv`, through the store) for everything else. It serves only
when it would do exactly what the general path does:

- the target is a plain path to an existing database file of the schema revision this smallcrm
  writes (a new, older or newer database goes the general way, which creates, upgrades or
  refuses it), that the store has opened before (in WAL mode);
- no automatic daily backup is due (the first open of a day makes one: :mod:`smallcrm.backup`);
- the filters are those it resolves with `contact list`'s semantics: `--tag`, `--stage`,
  `--owner`/`--mine`, `--limit`, `--include-do-not-contact`, `--raw`. `--search` and
  `--company` (full-text words and record references, whose rules live in the store and
  :mod:`smallcrm.refs`) take the general path.

tests/test_export_fast.py compares its output with the general path's for every filter.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import IO, Any

from smallcrm import backup
from smallcrm.store import fastread

SERVED_FILTERS = frozenset({"tag", "stage", "owner"})


class ContactsCsv:
    """One export, decided and its filters resolved before any output is opened."""

    def __init__(self, reader: Any, *, nothing: bool) -> None:
        self.reader = reader
        self.nothing = nothing  # a filter names no record (an unknown owner): header only

    def close(self) -> None:
        self.reader.close()

    def write(self, out: IO[str], *, raw: bool) -> int:
        """Write the CSV (as smallcrm.exporting.write_csv does) to `out`; returns the rows."""
        from smallcrm import exporting
        from smallcrm.importing.cells import FORMULA_STARTS, neutralise

        names = exporting.field_names("contacts")
        writer = csv.writer(out, lineterminator="\r\n")
        cell = exporting.CellFormat()
        self.reader.begin()
        try:
            extra = [k for k in self.reader.extra_keys() if k not in names]
            header = [*names, *extra]
            writer.writerow(header if raw else [neutralise(n) for n in header])
            if self.nothing:
                return 0
            chunks = self.reader.rows(() if raw else FORMULA_STARTS, cell.utc, bool(extra))
            return exporting.write_contact_rows(writer, chunks, fastread.COLUMNS, extra, cell, raw)
        finally:
            self.reader.end()


def prepare(
    target: str,
    filters: Mapping[str, Any],
    *,
    include_do_not_contact: bool = False,
    limit: int | None = None,
) -> ContactsCsv | None:
    """A ready export of the contacts in the database file `target`, or None when the general
    path must run (see the module docstring). Invalid names a bad filter value, as the general
    path would."""
    given = {k: v for k, v in filters.items() if v not in (None, "", False)}
    if set(given) - SERVED_FILTERS:
        return None
    path = fastread.database_file(target)
    if path is None or backup.due(path):
        return None
    stage = None
    if given.get("stage") and str(given["stage"]).strip():
        from smallcrm.values import LIFECYCLE_STAGES, choice

        stage = choice(given["stage"], LIFECYCLE_STAGES, "lifecycle stage")
    conn = fastread.connect(path)
    if conn is None:
        return None
    owner = None
    nothing = False
    try:
        if given.get("owner"):
            from smallcrm import settings

            who = str(given["owner"]).strip()
            if who.lower() == "me":
                who = settings.current_login()
            owner = fastread.owner_id(conn, who)
            nothing = owner is None
    except Exception:
        conn.close()
        raise
    reader = fastread.ContactReader(
        conn,
        tag=str(given["tag"]).strip().lower() if given.get("tag") else None,
        stage=stage,
        owner=owner,
        include_do_not_contact=include_do_not_contact,
        limit=limit,
    )
    return ContactsCsv(reader, nothing=nothing)

"""The full-screen interface's first screen without waiting for the database stack.

Importing SQLAlchemy and SQLModel and opening the store costs about as long again as starting
a Textual app at all. So `smallcrm` shows its board first from the SQLite file read with the
standard library (`first_board`, through :mod:`smallcrm.store.fastread`), and opens the store
in the background meanwhile (`LaterDb`), for everything after. `first_board` answers only where
it gives exactly what `leads.board` gives: the default pipeline, no filter, a local database of
this schema that the store has opened before; otherwise None, and the board waits for the
store. tests/test_quickstart.py compares the two.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from smallcrm import lead_record, records
from smallcrm.store import fastread
from smallcrm.values import local_zone

if TYPE_CHECKING:
    from smallcrm.store import Db


class LaterDb:
    """A database opened on another thread: `start()` begins, and the first use waits for it.

    Stands in for the `Db` the services take (it passes every attribute through), so that the
    screens can be built, and the first board shown, while the store loads.
    """

    def __init__(self, open_db: Callable[[], Db]) -> None:
        self._open_db = open_db
        self._started = threading.Lock()
        self._ready = threading.Event()
        self._db: Db | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Begin opening in the background (again: nothing)."""
        with self._started:
            if self._thread is None:
                self._thread = threading.Thread(target=self._open, name="open-db", daemon=True)
                self._thread.start()

    def _open(self) -> None:
        try:
            self._db = self._open_db()
        except BaseException as error:  # handed to whoever uses the database next
            self._error = error
        finally:
            self._ready.set()

    def get(self) -> Db:
        """The open database, waiting for it (and starting it) if need be."""
        self.start()
        self._ready.wait()
        if self._error is not None:
            raise self._error
        assert self._db is not None
        return self._db

    def finish(self) -> None:
        """Wait for an open that was started, and raise what it failed with, if anything."""
        if self._thread is not None:
            self._ready.wait()
            if self._error is not None:
                raise self._error

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    def dispose(self) -> None:
        if self._ready.is_set() and self._db is not None:
            self._db.dispose()


def readable_file(target: str) -> Path | None:
    """The file behind `target` if `first_board` can read it: a local smallcrm database of this
    schema, in WAL mode (so opened by the store before); None when the store must open it."""
    path = fastread.database_file(target)
    conn = fastread.connect(path) if path is not None else None
    if conn is None:
        return None
    conn.close()
    return path


def first_board(path: Path | None, per_stage: int) -> records.Board | None:
    """The default pipeline's board, unfiltered, read from the file at `path` with the standard
    library; None when the store must answer (no such file, another schema, not yet opened by
    the store, no pipeline)."""
    if path is None:
        return None
    conn = fastread.connect(path)
    if conn is None:
        return None
    try:
        return _board(conn, per_stage)
    except fastread.ReadError:
        return None  # locked, damaged, …: the store will say what is wrong
    finally:
        conn.close()


def _board(conn: fastread.Connection, per_stage: int) -> records.Board | None:
    found = fastread.pipelines(conn)
    if not found:
        return None
    # pipeline.default_pipeline: the one marked default, else the oldest.
    pipe_id, pipe_name, _ = min(found, key=lambda p: (not p[2], p[0]))
    now = datetime.now(UTC)
    today = now.astimezone(local_zone()).date()
    columns = []
    for stage_id, name, position, probability, stale_days in fastread.stages(conn, pipe_id):
        stage = records.Stage(
            id=stage_id,
            pipeline_id=pipe_id,
            pipeline=pipe_name,
            name=name,
            position=position,
            probability=probability,
            stale_days=stale_days,
        )
        count, total = fastread.open_leads_in(conn, stage_id)
        rows = fastread.first_open_leads(conn, stage_id, per_stage)
        tags = fastread.lead_tags(conn, [row[0] for row in rows])
        cards = [_lead(row, stage, tags.get(row[0], []), now, today) for row in rows]
        columns.append(records.BoardColumn(stage, count, total, cards))
    empty = not any(c.count for c in columns) and not fastread.has_contacts(conn)
    return records.Board(pipe_name, [p[1] for p in found], columns, empty)


def _lead(
    row: tuple[Any, ...], stage: records.Stage, tags: list[str], now: datetime, today: date
) -> records.Lead:
    """A card from a `fastread.first_open_leads` row, built as smallcrm.leads builds it."""
    stored = dict(zip(fastread.LEAD_COLUMNS, row, strict=False))
    contact, company, owner = row[len(fastread.LEAD_COLUMNS) :]
    for name in ("stage_entered_at", "created_at", "updated_at", "closed_at"):
        stored[name] = _when(stored[name])
    close = stored["expected_close"]
    stored["expected_close"] = date.fromisoformat(close) if close else None
    extra = stored["extra"]
    stored["extra"] = json.loads(extra) if isinstance(extra, str) else extra
    lead = SimpleNamespace(**stored)
    return lead_record.build(lead, stage, stage.pipeline, contact, company, owner, tags, now, today)


def _when(text: str | None) -> datetime | None:
    """A stored UTC time (naive text on SQLite) as an aware datetime, as UTCDateTime reads it."""
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)

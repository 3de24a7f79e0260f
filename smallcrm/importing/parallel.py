"""Validating a large CSV file on two cores: the second half in a forked process.

Validation (parsing, checking, normalising, looking up duplicates and companies) is most of
an import's work and each row's is independent of the others', so a large file is cut at a
row boundary near its middle (:func:`smallcrm.importing.reading.find_split`). A child process
validates the second part into its own scratch file while this one validates the first; the
child's rows are then added to this one's scratch file and its findings (new companies,
tags, rows to insert) to this handler, as if this process had gone on to validate them.
Repeats across the two parts, and everything after, are found on the joined scratch file
as before, so the result is the same as validating the file in one go.

The cut is confirmed, never trusted: this process reads the first part with the same
reader, and only if one of its rows ends exactly on the line before the cut are the
child's rows used. Otherwise (a stray quote fooled the cut), or if the child fails in any
way, the child is stopped and this process reads on through the rest of the file itself.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import pickle
import signal
import struct
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from smallcrm.importing.reading import CsvReader, Row, Source, Unreadable, find_split

#: Below this size a file is validated in one process: forking and joining cost ~20 ms.
MIN_BYTES = 2 * 1024 * 1024
#: The child's head start when this process opens the database after the fork: about what
#: validating takes while the database stack loads (~0.3 s), so both parts end together.
HEAD_START_BYTES = 2_500_000


class Split(NamedTuple):
    offset: int  # where the second part starts in the file
    lines: int  # the file's lines before it


def split_for(reader: Any, source: Source, *, head_start: bool = False) -> Split | None:
    """Where to cut this import in two, or None to validate it in one process. With
    `head_start`, the child's part is larger by HEAD_START_BYTES (up to three quarters)."""
    if (
        not hasattr(os, "fork")
        or source.size < MIN_BYTES
        or not isinstance(reader, CsvReader)
        or reader.encoding != "utf-8-sig"  # quote and newline bytes are never inside a character
        or not reader.clean
    ):
        return None
    past = max(source.size // 4, (source.size - HEAD_START_BYTES) // 2) if head_start else None
    found = find_split(source.path, past)
    if found is None or found[1] <= reader.lines_read:
        return None
    return Split(*found)


def stage(
    handler: Any,
    reader: Any,
    source: Source,
    scratch: Any,
    report: Callable[[int], None],
    prepare: Callable[[], None] | None = None,
) -> int:
    """Validate the reader's rows into `scratch`, on two cores where :func:`split_for` finds
    a cut; `report` gets the bytes read so far after each batch. `prepare` (opening the
    database for the write) runs in this process while a child validates; the child then
    gets a larger part. Returns how many rows were read (as
    :func:`smallcrm.importing.stage_rows`)."""
    from smallcrm.importing import stage_rows

    def alone() -> int:
        return stage_rows(handler, reader, scratch, lambda: report(reader.position()))

    split = split_for(reader, source, head_start=prepare is not None)
    if split is None:
        return alone()
    return _stage_in_two(handler, reader, scratch, split, report, alone, prepare)


def _stage_in_two(
    handler: Any,
    reader: CsvReader,
    scratch: Any,
    split: Split,
    report: Callable[[int], None],
    alone: Callable[[], int],
    prepare: Callable[[], None] | None,
) -> int:
    """Validate the reader's rows into `scratch` using a child process for the part after
    `split`; `alone` validates them all here when no child can be started."""
    from smallcrm.importing import stage_rows

    part_path = scratch.part_path("part")
    handler.reads.dispose()  # no database connection may be used on both sides of a fork
    try:
        shared = mmap.mmap(-1, 8)  # bytes of its part the child has read, for the progress bar
        read_end, write_end = os.pipe()
    except OSError:  # out of memory or file descriptors: this process reads it all
        return alone()
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:  # a limit on processes (RLIMIT_NPROC, a container's pids limit)
        os.close(read_end)
        os.close(write_end)
        shared.close()
        return alone()
    if pid == 0:  # pragma: no cover (the child leaves by os._exit; its work is checked)
        os.close(read_end)
        _child(handler, reader, split, part_path, shared, write_end, parent)
    os.close(write_end)
    child: int | None = pid
    try:
        if prepare is not None:
            prepare()
        first = _FirstPart(reader, split.lines)

        def progress() -> None:
            done = struct.unpack("q", shared[:8])[0] if first.confirmed is None else 0
            report(reader.position() + done)

        rows = stage_rows(handler, first, scratch, progress)
        if first.confirmed:  # else this process has read the whole file itself
            state = _result(pid, read_end)
            child = None  # reaped
            if state is None:  # read the rest here: the same rows, in the same order
                rows += stage_rows(handler, reader, scratch, progress)
            else:
                scratch.absorb(part_path, handler.inserting, state["counts"])
                handler.absorb_part(state["handler"])
                rows += state["rows"]
                report(split.offset + state["read"])
        return rows
    finally:
        if child is not None:
            _stop(child)
        os.close(read_end)
        shared.close()
        with contextlib.suppress(OSError):
            os.unlink(part_path)


class _FirstPart:
    """The reader's items up to the end of line `lines`. `confirmed` becomes True when a row
    ends exactly there; if a row runs past it, False, and the items go on to the file's end."""

    def __init__(self, reader: CsvReader, lines: int) -> None:
        self.reader = reader
        self.lines = lines
        self.confirmed: bool | None = None

    def __iter__(self) -> Iterator[Row | Unreadable]:
        reader = self.reader
        items = iter(reader)
        for item in items:
            yield item
            read = reader.lines_read
            if read >= self.lines:
                self.confirmed = read == self.lines
                if self.confirmed:
                    return
                yield from items
                return
        self.confirmed = False  # the file ended before the cut: it changed under us


def _child(
    handler: Any,
    reader: CsvReader,
    split: Split,
    path: str,
    shared: mmap.mmap,
    out: int,
    parent: int,
) -> None:
    """Validate the rows after the cut into a scratch file at `path`; send the handler's
    findings back through `out` and leave without running any of the parent's cleanup.
    If the parent dies (kill -9), the child stops at its next batch and removes the scratch
    folder the parent left."""
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        from smallcrm.importing import stage_rows
        from smallcrm.store.scratch import Scratch

        part = reader.from_offset(split.offset, split.lines)
        scratch = Scratch(handler.columns, path=path)

        def progress() -> None:
            if os.getppid() != parent:
                raise _Orphaned
            shared[:8] = struct.pack("q", part.position() - split.offset)

        rows = stage_rows(handler, part, scratch, progress)
        counts = scratch.counts()
        scratch.commit()
        scratch.conn.close()
        read = part.position() - split.offset
        found = {"rows": rows, "read": read, "counts": counts, "handler": handler.part_state()}
        payload = pickle.dumps(found)
        with os.fdopen(out, "wb") as pipe:
            pipe.write(payload)
        handler.reads.dispose()
        code = 0
    except _Orphaned:  # nobody is left to remove the import's scratch files
        _remove_folder(os.path.dirname(path))
    except BaseException:  # the parent validates the part itself and reports any error
        code = 1
    finally:
        os._exit(code)


class _Orphaned(Exception):
    """The parent died (kill -9) while the child was validating."""


def _remove_folder(folder: str) -> None:
    with contextlib.suppress(OSError):
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


def _result(pid: int, pipe: int) -> dict[str, Any] | None:
    """The child's findings once it has finished (and been reaped), or None if it failed."""
    chunks = []
    while chunk := os.read(pipe, 1 << 16):
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0 or not chunks:
        return None
    try:
        found: dict[str, Any] = pickle.loads(b"".join(chunks))
    except Exception:
        return None
    return found


def _stop(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, ChildProcessError):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)

"""A large CSV file is validated on two cores (smallcrm.importing.parallel) with exactly the
result of validating it in one process: the same records, ids, companies, tags, errors,
rejects file and counts; and the cut between the parts is confirmed, never trusted."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from smallcrm import importing
from smallcrm.importing import parallel, reading
from smallcrm.store import Db, open_db
from smallcrm.store.scratch import Scratch

HEADER = ["Name", "Email", "Phone", "Company", "Title", "Tags", "Notes", "Colour"]


def _rows(count: int, *, bad_every: int = 0) -> list[list[str]]:
    rows = []
    for i in range(count):
        key = i % (count - 40)  # the last 40 rows repeat the first 40 emails
        rows.append(
            [
                f"Zoë Müller {i}",
                f"zoe{key}@example{key % 7}.com" if key % 11 else "",
                f"+44 20 7946 {i % 10000:04d}" if i % 3 else "",
                f"Acme {i % 13}" if i % 5 else f"Only Once {i}",  # companies first seen late
                "Head of Sales" if i % 2 else "",
                "vip, lead" if i % 17 == 0 else (f"t{i}" if i % 97 == 0 else ""),
                'Said "hi",\nthen left' if i % 4 == 0 else "",
                "blue" if i % 6 == 0 else "",
            ]
        )
        if bad_every and i % bad_every == 0:
            rows[-1][1] = f"not-an-email-{i}"
    return rows


def _write(path: Path, rows: list[list[str]], *, newline: str = "\n") -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator=newline)
        writer.writerow(HEADER)
        writer.writerows(rows)


def _dump(db: Db) -> dict[str, list[tuple[Any, ...]]]:
    queries = {
        "contact": "SELECT c.id, c.name, c.email, c.phone, c.title, c.company_id, c.note, "
        "c.extra FROM contact c ORDER BY c.id",
        "company": "SELECT id, name FROM company ORDER BY id",
        "tags": "SELECT ct.contact_id, t.id, t.name FROM contact_tag ct "
        "JOIN tag t ON t.id = ct.tag_id ORDER BY 1, 2",
        "search": "SELECT COUNT(*) FROM search_index",
    }
    with db.read() as session:
        conn = session.connection()
        found = {name: [tuple(r) for r in conn.execute(text(sql))] for name, sql in queries.items()}
    found["contact"] = [  # JSON comes back as text from SQLite and as a dict from PostgreSQL
        (*row[:-1], json.loads(row[-1]) if isinstance(row[-1], str) else row[-1])
        for row in found["contact"]
    ]
    return found


class _Spy:
    """Counts the parts absorbed from a child process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.absorbed = 0
        original = Scratch.absorb

        def absorb(scratch: Scratch, path: str, ord_offset: int, counts: Any) -> None:
            self.absorbed += 1
            original(scratch, path, ord_offset, counts)

        monkeypatch.setattr(Scratch, "absorb", absorb)


def _import(target: str, source: Path, *, two: bool, **options: Any) -> Any:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "MIN_BYTES", 0 if two else 1 << 60)
        db = open_db(target)
        try:
            result = importing.import_file(db, "contacts", source, **options)
            return result, _dump(db)
        finally:
            db.dispose()


def _copy(db_path: Path, name: str) -> str:
    other = db_path.with_name(name)
    other.write_bytes(db_path.read_bytes())
    return str(other)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_two_parts_give_what_one_gives(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    source = tmp_path / "people.csv"
    _write(source, _rows(3000), newline=newline)
    spy = _Spy(monkeypatch)
    serial = _import(_copy(db_path, "serial.db"), source, two=False)
    assert spy.absorbed == 0
    split = _import(str(db_path), source, two=True)
    assert spy.absorbed == 1
    assert split[0] == serial[0]
    assert split[0].imported == 2964 and split[0].skipped == 36  # 4 repeats have no email
    assert split[1] == serial[1]
    assert len(split[1]["company"]) == 13 + 600  # Acme 0..12 and every fifth row's own


@pytest.mark.parametrize("policy", ["skip", "update", "error"])
def test_two_parts_report_the_same_errors_and_rejects(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str
) -> None:
    source = tmp_path / "people.csv"
    _write(source, _rows(3000, bad_every=100))
    spy = _Spy(monkeypatch)
    serial_rejects, split_rejects = tmp_path / "serial.csv", tmp_path / "split.csv"
    serial = _import(
        _copy(db_path, "serial.db"),
        source,
        two=False,
        on_duplicate=policy,
        rejects=serial_rejects,
    )
    split = _import(str(db_path), source, two=True, on_duplicate=policy, rejects=split_rejects)
    assert spy.absorbed == 1
    assert split[0].rejected == serial[0].rejected >= 30  # in both parts, more than shown
    assert split[0].errors == serial[0].errors
    assert split[0].summary() == serial[0].summary()
    assert split[1] == serial[1]
    assert split_rejects.read_bytes() == serial_rejects.read_bytes()


def test_all_or_nothing_across_the_parts(db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    rows = _rows(3000)
    rows[2900][1] = "broken@"  # in the child's part only
    _write(source, rows)
    result, dumped = _import(str(db_path), source, two=True)
    assert result.refused and result.rejected == 1
    reader = csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline=""))
    starts = [1]  # the line each record starts on
    starts.extend(reader.line_num + 1 for _ in reader)
    assert result.errors == [(starts[2901], result.errors[0][1])]
    assert "invalid email 'broken@'" in result.errors[0][1]
    assert dumped["contact"] == []


@pytest.mark.backends("postgres")
def test_two_parts_on_postgres(db: Db, db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    _write(source, _rows(3000))
    serial = _import(str(db_path), source, two=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "MIN_BYTES", 0)
        result = importing.import_file(db, "contacts", source)
    assert result == serial[0]
    ours = _dump(db)
    assert ours["contact"] == serial[1]["contact"]
    assert ours["company"] == serial[1]["company"]
    assert ours["tags"] == serial[1]["tags"]


def test_a_stray_quote_moves_the_cut_and_the_parent_reads_on(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quote inside an unquoted cell (24" screen) flips the count the cut relies on, so the
    cut lands inside a quoted cell; the first part's reader sees a row run past it."""
    rows = _rows(3000)
    rows[10][4] = "24-inch screen buyer"
    for row in rows:  # every note spans lines: the cut's newline falls inside one
        row[6] = "first line\nsecond line"
    source = tmp_path / "people.csv"
    _write(source, rows)
    written = source.read_text(encoding="utf-8")
    source.write_text(written.replace("24-inch", '24"'), encoding="utf-8")  # left unquoted
    spy = _Spy(monkeypatch)
    _, lines = reading.find_split(source)  # type: ignore[misc]
    reader = csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline=""))
    assert lines not in {reader.line_num for _ in reader}  # no row ends where it cut
    serial = _import(_copy(db_path, "serial.db"), source, two=False)
    split = _import(str(db_path), source, two=True)
    assert spy.absorbed == 0  # the child's rows were not used
    assert split[0] == serial[0]
    assert split[1] == serial[1]
    assert len(split[1]["contact"]) == 2964


def test_a_failing_child_leaves_the_part_to_the_parent(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "people.csv"
    _write(source, _rows(3000))
    spy = _Spy(monkeypatch)

    def broken(*args: object) -> None:
        raise RuntimeError("the child cannot read")

    monkeypatch.setattr(reading.CsvReader, "from_offset", broken)  # only the child calls it
    serial = _import(_copy(db_path, "serial.db"), source, two=False)
    split = _import(str(db_path), source, two=True)
    assert spy.absorbed == 0
    assert split == serial


def test_progress_counts_both_parts(db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    _write(source, _rows(6000))
    seen: list[tuple[str, int, int]] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(parallel, "MIN_BYTES", 0)
        db = open_db(str(db_path))
        try:
            importing.import_file(db, "contacts", source, progress=lambda *args: seen.append(args))
        finally:
            db.dispose()
    reading_done = [done for phase, done, _ in seen if phase == "reading"]
    size = source.stat().st_size
    assert all(0 <= done <= size for done in reading_done)
    assert reading_done[-1] == size


def test_small_files_and_other_encodings_are_not_cut(tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    _write(source, _rows(3000))
    found = reading.Source(str(source), None)
    reader = reading.CsvReader("contacts", found, mapping={}, delimiter=None, encoding="utf-8-sig")
    try:
        assert parallel.split_for(reader, found) is None  # under MIN_BYTES
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(parallel, "MIN_BYTES", 0)
            assert parallel.split_for(reader, found) is not None
            reader.encoding = "latin-1"
            assert parallel.split_for(reader, found) is None
            reader.encoding, reader.clean = "utf-8-sig", False  # a row with undecodable bytes
            assert parallel.split_for(reader, found) is None
    finally:
        reader.close()


# -- finding the cut ------------------------------------------------------------------------


def _lines_before(data: bytes, offset: int) -> int:
    """Lines as the csv reader counts them (LF, CRLF, lone CR) before `offset`."""
    return len(io.StringIO(data[:offset].decode(), newline="").readlines())


@pytest.mark.parametrize(
    "body",
    [
        b"a,b\n" + b"1,2\n" * 50,
        b"a,b\r\n" + b"1,2\r\n" * 50,
        b"a,b\r" + b"1,2\r" * 20 + b"1,2\n" * 30,  # lone CRs end lines too
        b"a,b\n" + b'1,"x\ny"\n' * 10 + b'2,"many\n\n\nlines ""quoted""\n"\n' * 10,
    ],
)
def test_the_cut_is_at_a_row_start(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(body)
    offset, lines = reading.find_split(path)  # type: ignore[misc]
    assert offset >= len(body) // 2
    assert body[offset - 1 : offset] == b"\n"
    assert lines == _lines_before(body, offset)
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    first = list(csv.reader(io.StringIO(body[:offset].decode(), newline="")))
    second = list(csv.reader(io.StringIO(body[offset:].decode(), newline="")))
    assert first + second == rows


def test_no_cut_without_a_line_end_outside_quotes(tmp_path: Path) -> None:
    path = tmp_path / "f.csv"
    path.write_bytes(b'a,b\n1,"' + b"x\n" * 100 + b'"')
    assert reading.find_split(path) is None
    path.write_bytes(b"a,b,c")
    assert reading.find_split(path) is None


def test_an_error_in_the_first_part_stops_the_child_and_leaves_no_files(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os
    import tempfile

    from smallcrm.importing.people import Contacts

    source = tmp_path / "people.csv"
    _write(source, _rows(3000))
    scratch_home = tmp_path / "tmp"
    scratch_home.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_home))
    parent = os.getpid()
    original = Contacts.validate

    def failing(self: Contacts, batch: list[Any]) -> Any:
        if os.getpid() == parent:
            raise RuntimeError("disk on fire")
        return original(self, batch)

    monkeypatch.setattr(Contacts, "validate", failing)
    children: list[int] = []
    fork = os.fork

    def recorded_fork() -> int:
        pid = fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _import(str(db_path), source, two=True)
    assert list(scratch_home.iterdir()) == []
    assert len(children) == 1
    with pytest.raises(ChildProcessError):  # the child was stopped and reaped
        os.waitpid(children[0], os.WNOHANG)
    monkeypatch.setattr(Contacts, "validate", original)
    result, dumped = _import(str(db_path), source, two=True)
    assert result.imported == 2964 and len(dumped["contact"]) == 2964


@pytest.mark.parametrize("policy", ["skip", "update", "error"])
def test_two_parts_against_records_already_there(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str
) -> None:
    """Rows of both parts that match existing contacts are skipped, update them or are
    rejected exactly as in one process; a dry run writes nothing either way."""
    first = tmp_path / "first.csv"
    _write(first, _rows(3000)[::50])  # 60 contacts from all over the file
    serial_db = _copy(db_path, "serial.db")
    for target in (str(db_path), serial_db):
        _import(target, first, two=False)
    rows = _rows(3000)
    for row in rows[::25]:  # half of them match an existing contact, with a new title
        row[4] = "Chief Buyer"
    source = tmp_path / "people.csv"
    _write(source, rows)
    spy = _Spy(monkeypatch)
    dry = _import(str(db_path), source, two=True, on_duplicate=policy, dry_run=True)
    serial_dry = _import(serial_db, source, two=False, on_duplicate=policy, dry_run=True)
    assert dry == serial_dry
    assert spy.absorbed == 1
    serial = _import(serial_db, source, two=False, on_duplicate=policy)
    split = _import(str(db_path), source, two=True, on_duplicate=policy)
    assert spy.absorbed == 2
    assert split[0] == serial[0]
    assert split[1] == serial[1]
    if policy == "update":
        assert split[0].updated >= 50
    elif policy == "skip":
        assert split[0].skipped >= 50
    else:
        assert split[0].refused and split[0].rejected >= 50


def test_when_no_process_can_be_forked_one_process_reads_it_all(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    source = tmp_path / "people.csv"
    _write(source, _rows(3000))
    serial = _import(_copy(db_path, "serial.db"), source, two=False)

    def refused() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refused)
    spy = _Spy(monkeypatch)
    assert _import(str(db_path), source, two=True) == serial
    assert spy.absorbed == 0

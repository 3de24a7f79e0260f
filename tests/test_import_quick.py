"""Contacts imported into a local SQLite file without the database stack (validated through
smallcrm.store.lookups, written by smallcrm.store.loading) give exactly the database the
store's path gives; what that path does not cover goes through the store, and its failures are
one-line errors that leave the database as it was."""

from __future__ import annotations

import csv
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from smallcrm import companies, contacts, history, importing, users
from smallcrm.errors import DatabaseError
from smallcrm.importing import DeferredDb, parallel
from smallcrm.importing.kinds import Kind
from smallcrm.store import loading, open_db

HEADER = ["Name", "Email", "Phone", "Company", "Owner", "Notes", "Colour"]


def _rows(count: int, *, bad_every: int = 0) -> list[list[str]]:
    rows = []
    for i in range(count):
        key = i % (count - 30)  # the last 30 rows repeat the first 30 emails
        rows.append(
            [
                f"Zoë Müller {i}" if i % 50 else "Kept Without Email",
                f"zoe{key}@example{key % 7}.com" if i % 50 else "",
                f"+44 20 7946 {i % 10000:04d}" if i % 3 else "",
                f"Acme {i % 13}" if i % 5 else f"Only Once {i}",
                ["", "me", "ann@example.com"][i % 3],
                'Said "hi",\nthen left' if i % 4 == 0 else "",
                "blue" if i % 6 == 0 else "",
            ]
        )
        if bad_every and i % bad_every == 0:
            rows[-1][1] = f"not-an-email-{i}"
    return rows


def _write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _seeded(db_path: Path, *, ambiguous: bool = False) -> Path:
    """A database with a user, companies (with `ambiguous`, one name twice) and contacts some
    rows repeat."""
    db = open_db(str(db_path))
    users.add(db, "Ann", email="ann@example.com")
    companies.add(db, "Acme 3")
    companies.add(db, "Acme 7")
    contacts.add(db, "Existing", email="ZOE2@example2.com")
    contacts.add(db, "Kept Without Email")
    db.dispose()
    if ambiguous:  # two companies of one name (as an old version let happen): rows naming it
        with sqlite3.connect(db_path) as conn:  # are invalid
            conn.execute(
                "INSERT INTO company (name, owner_id, version, created_at, updated_at) "
                "SELECT lower(name), owner_id, version, created_at, updated_at FROM company "
                "WHERE name = 'Acme 7'"
            )
    _checkpoint(db_path)
    return db_path


def _checkpoint(path: Path) -> None:
    """Everything into the main file, so a copy of it is the whole database."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _copy(path: Path, name: str) -> Path:
    _checkpoint(path)
    target = path.with_name(name)
    shutil.copyfile(path, target)
    return target


def _dump(path: Path) -> dict[str, Any]:
    conn = sqlite3.connect(path)
    found: dict[str, Any] = {}
    for table in ("contact", "company", "user_account", "changeset", "change", "tag"):
        names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        kept = [n for n in names if n not in ("created_at", "updated_at", "at")]
        found[table] = conn.execute(f"SELECT {', '.join(kept)} FROM {table} ORDER BY 1").fetchall()
    found["contact_tag"] = conn.execute("SELECT * FROM contact_tag ORDER BY 1, 2").fetchall()
    found["search"] = conn.execute("SELECT rowid, * FROM search_index ORDER BY 1").fetchall()
    found["lov"] = conn.execute(
        "SELECT rowid FROM search_index WHERE search_index MATCH 'mü* acm*' ORDER BY 1"
    ).fetchall()
    found["schema"] = conn.execute("SELECT * FROM sqlite_master ORDER BY name").fetchall()
    found["fts settings"] = conn.execute("SELECT * FROM search_index_config ORDER BY 1").fetchall()
    found["stamps"] = conn.execute(
        "SELECT count(*) FROM contact WHERE created_at IS NULL OR created_at != updated_at "
        "OR created_at NOT LIKE '____-__-__ __:__:__.______'"
    ).fetchall()
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    conn.close()
    return found


def _quick(path: Path, source: Path, **options: Any) -> importing.ImportResult:
    return importing.import_file(
        DeferredDb(str(path), lambda: open_db(str(path))), "contacts", source, **options
    )


def _store(path: Path, source: Path, **options: Any) -> importing.ImportResult:
    db = open_db(str(path))
    try:
        return importing.import_file(db, "contacts", source, **options)
    finally:
        db.dispose()


def _no_store_write(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: Any) -> Any:
        raise AssertionError("the store wrote")

    monkeypatch.setattr(Kind, "write", refused)


@pytest.mark.parametrize(
    ("count", "two_parts", "options"),
    [
        (300, False, {}),
        (300, False, {"on_duplicate": "error", "rejects": "rejects.csv"}),
        (300, False, {"rejects": "rejects.csv", "bad_every": 40}),
        (6000, True, {"rejects": "rejects.csv", "bad_every": 700}),
        (6000, False, {}),
    ],
)
def test_the_quick_path_writes_what_the_store_writes(
    tmp_path: Path,
    db_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    count: int,
    two_parts: bool,
    options: dict[str, Any],
) -> None:
    options = dict(options)
    bad_every = options.pop("bad_every", 0)
    source = _write(tmp_path / "in.csv", _rows(count, bad_every=bad_every))
    seeded = _seeded(db_path, ambiguous=bool(bad_every))
    by_store = _copy(seeded, "store.db")
    rejects = options.pop("rejects", None)
    store_result = _store(
        by_store, source, **options, rejects=rejects and str(tmp_path / f"store-{rejects}")
    )
    with monkeypatch.context() as patch:
        patch.setattr(parallel, "MIN_BYTES", 0 if two_parts else 1 << 60)
        _no_store_write(patch)
        result = _quick(seeded, source, **options, rejects=rejects and str(tmp_path / rejects))
    assert result.summary() == store_result.summary()
    assert result.errors == store_result.errors
    assert result.imported > 0 and result.skipped + result.rejected > 0  # duplicates found
    assert result.rejected >= bool(bad_every)
    assert _dump(seeded) == _dump(by_store)
    if rejects:
        assert (tmp_path / rejects).read_bytes() == (tmp_path / f"store-{rejects}").read_bytes()


def test_a_new_database_gets_the_importing_user_and_undo_takes_the_import_back(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[*row[:4], "me" if row[4] else "", *row[5:]] for row in _rows(200)]
    source = _write(tmp_path / "in.csv", rows)
    by_store = _copy(db_path, "store.db")
    expected = _store(by_store, source)
    with monkeypatch.context() as patch:
        _no_store_write(patch)
        result = _quick(db_path, source)
    assert result == expected and result.imported > 150
    assert _dump(db_path) == _dump(by_store)  # the user "me" made on first use, as users.me
    db = open_db(str(db_path))
    history.undo(db)
    assert contacts.count(db) == 0 and companies.list_companies(db) == []
    db.dispose()


def test_what_the_quick_path_does_not_cover_goes_through_the_store(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[*row[:6], "vip" if i % 2 else "", row[6]] for i, row in enumerate(_rows(300))]
    tagged = _write(tmp_path / "tags.csv", rows, [*HEADER[:6], "Tags", HEADER[6]])
    plain = _write(tmp_path / "in.csv", _rows(300))
    by_store = _copy(_seeded(db_path), "store.db")
    expected = [_store(by_store, tagged), _store(by_store, plain, on_duplicate="update")]
    quick_writes: list[Any] = []
    real = loading.write_contacts
    monkeypatch.setattr(
        loading, "write_contacts", lambda *a, **k: quick_writes.append(a) or real(*a, **k)
    )
    results = [
        _quick(db_path, tagged),  # tags are written by the store
        _quick(db_path, plain, on_duplicate="update"),  # updates compare records
    ]
    assert results == expected and results[0].imported > 0 and results[1].updated > 0
    assert quick_writes == []
    assert _dump(db_path) == _dump(by_store)
    assert _dump(db_path)["contact_tag"]


def test_a_large_file_with_tags_opens_the_store_while_the_child_validates(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[*row[:6], "vip" if i % 2 else "", row[6]] for i, row in enumerate(_rows(6000))]
    tagged = _write(tmp_path / "tags.csv", rows, [*HEADER[:6], "Tags", HEADER[6]])
    by_store = _copy(_seeded(db_path), "store.db")
    expected = _store(by_store, tagged)
    opened: list[int] = []
    split: list[int] = []
    real_split = parallel.split_for

    def split_for(reader: Any, source: Any, *, head_start: bool = False) -> Any:
        found = real_split(reader, source, head_start=head_start)
        split.append(int(head_start))
        return found

    def open_store() -> Any:
        opened.append(os.getpid())
        return open_db(str(db_path))

    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(parallel, "split_for", split_for)
    deferred = DeferredDb(str(db_path), open_store)
    result = importing.import_file(deferred, "contacts", tagged)
    assert result == expected and result.written
    assert split == [1]  # the child got a head start ...
    assert opened == [os.getpid()]  # ... while this process opened the store, once
    assert _dump(db_path) == _dump(by_store)


def test_a_database_changed_since_validation_is_written_by_the_store(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.csv", _rows(100))
    by_store = _copy(_seeded(db_path), "store.db")
    expected = _store(by_store, source)
    monkeypatch.setattr(loading, "HEAD", "a revision this file does not have")
    stores: list[Any] = []
    real = Kind.write
    monkeypatch.setattr(Kind, "write", lambda self, *a: stores.append(1) or real(self, *a))
    assert _quick(db_path, source) == expected
    assert stores == [1]
    assert _dump(db_path) == _dump(by_store)


def test_a_busy_database_is_a_one_line_error_and_nothing_is_written(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.csv", _rows(100))
    before = _dump(_seeded(db_path))
    monkeypatch.setattr(loading, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setattr(loading, "WRITE_RETRY_S", 0.2)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program is writing
    try:
        with pytest.raises(DatabaseError, match="is busy .* try again"):
            _quick(db_path, source)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _dump(db_path) == before
    assert _quick(db_path, source).imported > 0  # and once it is free, it goes in


def test_a_dry_run_never_opens_the_store(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.csv", _rows(100, bad_every=10))
    _seeded(db_path)

    def refused() -> Any:
        raise AssertionError("opened the store")

    deferred = DeferredDb(str(db_path), refused)
    result = importing.import_file(deferred, "contacts", source, dry_run=True)
    assert result.dry_run and result.rejected == 10 and result.imported > 0
    refusing = importing.import_file(deferred, "contacts", source)  # all or nothing: no write
    assert refusing.refused and not refusing.written


# --- a bulk load writes the file once: rollback journal instead of the WAL -----------------


def _journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def _modes_while_writing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The main database's journal mode inside each quick write's transaction."""
    seen: list[str] = []
    real = loading._write_contacts

    def spying(conn: sqlite3.Connection, *args: Any) -> Any:
        seen.append(conn.execute("PRAGMA main.journal_mode").fetchone()[0])
        return real(conn, *args)

    monkeypatch.setattr(loading, "_write_contacts", spying)
    return seen


def test_a_bulk_load_skips_the_wal_when_nobody_else_has_the_file_open(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.csv", _rows(6000))
    small = _write(tmp_path / "small.csv", _rows(200)[100:])
    seeded = _seeded(db_path)
    by_store = _copy(seeded, "store.db")
    expected = [_store(by_store, source), _store(by_store, small)]
    seen = _modes_while_writing(monkeypatch)
    _no_store_write(monkeypatch)
    # The 6000 rows outnumber the 2 contacts there: a bulk load. The 100 after them are not.
    assert [_quick(seeded, source), _quick(seeded, small)] == expected
    assert seen == ["delete", "wal"]
    assert _journal_mode(seeded) == "wal"  # back in WAL mode for everyone else
    assert not seeded.with_name(seeded.name + "-journal").exists()
    assert _dump(seeded) == _dump(by_store)


def test_a_bulk_load_keeps_to_the_wal_while_another_program_has_the_file_open(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.csv", _rows(6000))
    seeded = _seeded(db_path)
    by_store = _copy(seeded, "store.db")
    expected = _store(by_store, source)
    seen = _modes_while_writing(monkeypatch)
    reader = sqlite3.connect(seeded, isolation_level=None)  # the TUI, say, between refreshes
    try:
        assert reader.execute("SELECT count(*) FROM contact").fetchone() == (2,)
        assert _quick(seeded, source) == expected
        assert reader.execute("SELECT count(*) FROM contact").fetchone()[0] > 5000
    finally:
        reader.close()
    assert seen == ["wal"]
    assert _journal_mode(seeded) == "wal"
    assert _dump(seeded) == _dump(by_store)


def test_a_failed_bulk_load_leaves_the_file_as_it_was_and_in_wal_mode(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.csv", _rows(6000))
    before = _dump(_seeded(db_path))
    real = loading._index_documents

    def failing(conn: sqlite3.Connection, kind: str, ids: range) -> None:
        real(conn, kind, ids)
        if kind == "contact":  # everything written, not committed
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(loading, "_index_documents", failing)
    with pytest.raises(DatabaseError, match=r"^database .*crm\.db: disk I/O error$"):
        _quick(db_path, source)
    assert _journal_mode(db_path) == "wal"
    assert _dump(db_path) == before


_KILLED_MID_LOAD = """
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA main.journal_mode = DELETE")
conn.execute("PRAGMA cache_size = 20")  # pages spill into the file before the commit
conn.execute("BEGIN IMMEDIATE")
conn.execute("DELETE FROM contact")
conn.executemany(
    "INSERT INTO contact (name, consent, do_not_contact, version, created_at, updated_at) "
    "VALUES (?, 0, 0, 1, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000')",
    ((f"Half Written {i}",) for i in range(20000)),
)
os._exit(9)  # killed: no commit, no rollback, the journal left behind
"""


def test_a_bulk_load_killed_midway_is_rolled_back_by_the_next_command(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    before = _dump(_seeded(db_path))
    subprocess.run([sys.executable, "-c", _KILLED_MID_LOAD, str(db_path)], check=False)
    assert db_path.with_name(db_path.name + "-journal").stat().st_size > 0  # a hot journal
    source = _write(tmp_path / "in.csv", _rows(300))
    _no_store_write(monkeypatch)
    with pytest.raises(AssertionError, match="the store wrote"):
        _quick(db_path, source)  # the quick path reads WAL-mode files only: the store's turn
    monkeypatch.undo()
    assert _dump(db_path) == before  # the journal rolled the half-written load back
    assert _journal_mode(db_path) == "wal"  # and the store put the file back in WAL mode
    assert _quick(db_path, source).imported > 0

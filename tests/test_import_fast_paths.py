"""The import's fast paths give exactly what the plain ones give.

- SQLite copies the staged rows into the tables with `INSERT … SELECT` over the scratch file
  ATTACHed to the write connection (Db.write_attached, bulk.copy_staged); the other path
  reads them into Python and inserts them with executemany. Same rows either way.
- The scratch file binds None through a registered adapter: still NULL.
- A large import indexes its documents with other FTS5 settings, restored afterwards.
"""

from __future__ import annotations

import csv
import os
import sqlite3
import tempfile
from pathlib import Path

import pytest

from smallcrm import contacts, importing, search
from smallcrm.importing.kinds import Kind
from smallcrm.store import open_db
from smallcrm.store.scratch import Scratch

ROWS = 6000  # above the sizes where indexes are rebuilt and the FTS5 bulk settings apply


def _write_csv(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Name", "Email", "Phone", "Company", "Title", "Tags", "Notes", "Colour"])
        for i in range(rows):
            writer.writerow(
                [
                    f"Zoë Müller {i}",
                    f"zoe{i}@example{i % 7}.com" if i % 11 else "",
                    f"+44 20 7946 {i % 10000:04d}" if i % 3 else "",
                    f"Acme {i % 13}" if i % 5 else "",
                    "Head of Sales" if i % 2 else "",
                    "vip, lead" if i % 17 == 0 else "",
                    'Said "hi",\nthen left' if i % 4 == 0 else "",
                    "blue" if i % 6 == 0 else "",
                ]
            )
        writer.writerow(["Ada Lovelace", "zoe1@EXAMPLE1.com", "", "", "", "", "", ""])  # repeat


def _dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    conn = sqlite3.connect(path)
    try:
        return {
            "contact": conn.execute(
                "SELECT id, name, email, phone, title, company_id, stage, owner_id, note, "
                "consent, do_not_contact, extra, version FROM contact ORDER BY id"
            ).fetchall(),
            "company": conn.execute(
                "SELECT id, name, owner_id FROM company ORDER BY id"
            ).fetchall(),
            "tags": conn.execute(
                "SELECT ct.contact_id, t.name FROM contact_tag ct JOIN tag t ON t.id = ct.tag_id "
                "ORDER BY 1, 2"
            ).fetchall(),
            "search": conn.execute(
                "SELECT rowid, title, body FROM search_index ORDER BY rowid"
            ).fetchall(),
            "history": conn.execute(
                "SELECT c.kind, c.op, c.new, s.action FROM change c "
                "JOIN changeset s ON s.id = c.changeset_id ORDER BY c.id"
            ).fetchall(),
            "config": conn.execute("SELECT k, v FROM search_index_config ORDER BY k").fetchall(),
        }
    finally:
        conn.close()


def test_sql_copy_matches_python_copy(
    tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "people.csv"
    _write_csv(source, ROWS)
    other = tmp_path / "other.db"
    other.write_bytes(db_path.read_bytes())
    before = _dump(db_path)["config"]

    fast = open_db(str(db_path))
    try:
        result = importing.import_file(fast, "contacts", source)
    finally:
        fast.dispose()
    with monkeypatch.context() as patch:
        patch.setattr(Kind, "copies_in_sql", lambda self: False)
        plain = open_db(str(other))
        try:
            again = importing.import_file(plain, "contacts", source)
        finally:
            plain.dispose()

    assert result.summary() == again.summary()
    assert result.imported == ROWS and result.skipped == 1
    ours, theirs = _dump(db_path), _dump(other)
    assert ours == theirs
    assert len(ours["contact"]) == ROWS
    assert len(ours["company"]) == 13
    # The FTS5 bulk settings are gone again; the search index keeps the higher crisis-merge
    # threshold, so the next edit does not merge at once the segments the load left.
    assert ours["config"] == sorted([*before, ("crisismerge", 64)])


def test_a_large_load_leaves_its_segments_to_later_writes_to_merge(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallcrm.store import loading

    def segments() -> int:
        with sqlite3.connect(db_path) as conn:
            return int(
                conn.execute("SELECT count(DISTINCT segid) FROM search_index_idx").fetchone()[0]
            )

    source = tmp_path / "people.csv"
    _write_csv(source, ROWS)
    # A small pending-terms hash: a million contacts' worth of flushes from 6,000 rows.
    monkeypatch.setitem(loading._FTS_BULK, "hashsize", 64 * 1024)
    db = open_db(str(db_path))
    try:
        importing.import_file(db, "contacts", source)
        loaded = segments()
        assert 16 <= loaded < loading.CRISIS_MERGE  # nothing merged while loading
        with sqlite3.connect(db_path) as conn:  # leaves as large as the 16 KB pages hold
            page = conn.execute("PRAGMA page_size").fetchone()[0]
            leaf = conn.execute(  # the segments' pages (rowids up to 10 hold settings)
                "SELECT avg(length(block)) FROM search_index_data WHERE id > 10"
            ).fetchone()[0]
        assert page == 16384 and 4050 < leaf <= page  # FTS5's default leaf: 4050 bytes
        contacts.edit(db, "1", title="Head of Sales")  # the next edit merges little, if any
        assert segments() >= loaded - 4
        assert [hit.title for hit in search.search(db, "zo mü 1234", limit=None)] == [
            "Zoë Müller 1234"
        ]
        with sqlite3.connect(db_path) as conn:
            conn.execute("INSERT INTO search_index(search_index) VALUES ('integrity-check')")
    finally:
        db.dispose()


def test_prefix_search_after_a_large_import(db_path: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    _write_csv(source, ROWS)
    db = open_db(str(db_path))
    try:
        importing.import_file(db, "contacts", source)
        titles = {hit.title for hit in search.search(db, "zo mü 123", limit=None)}
        assert "Zoë Müller 123" in titles
        assert "Zoë Müller 1230" in titles  # every word a prefix
        assert "Zoë Müller 124" not in titles
    finally:
        db.dispose()


def test_import_leaves_no_scratch_file(db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "people.csv"
    _write_csv(source, 50)
    scratch_home = tmp_path / "tmp"  # our own temp dir: other tests import at the same time
    scratch_home.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_home))
    importing.import_file(db, "contacts", source)
    assert list(scratch_home.iterdir()) == []


def test_scratch_binds_none_as_null() -> None:
    scratch = Scratch(["a", "b"])
    try:
        scratch.stage([(2, None, None, "insert", None, None, 0, None, "x")])
        row = scratch.conn.execute(
            "SELECT key1 IS NULL, a IS NULL, typeof(a), b FROM staged"
        ).fetchone()
        assert row == (1, 1, "null", "x")
        path = scratch.path
        assert os.path.exists(path)
    finally:
        scratch.close()
    assert not os.path.exists(path)
    # Other connections bind None as NULL all the same.
    conn = sqlite3.connect(":memory:")
    assert conn.execute("SELECT ? IS NULL", (None,)).fetchone() == (1,)


def test_scratch_stages_batches_whose_columns_are_empty_in_every_row() -> None:
    scratch = Scratch(["a", "b"])
    try:
        scratch.stage([(2, None, None, "insert", None, None, 0, None, "x")])  # `a` empty
        scratch.stage([(3, "k", None, "skip", 9, None, None, 0, None)])  # `b` empty, a = 0
        scratch.stage([(4, None, None, "insert", None, None, 1, 5, "y"), (5, *[None] * 8)])
        scratch.stage([])
        assert [scratch.row(line) for line in (2, 3, 4, 5)] == [
            (2, None, None, "insert", None, None, 0, None, "x"),
            (3, "k", None, "skip", 9, None, None, 0, None),
            (4, None, None, "insert", None, None, 1, 5, "y"),
            (5, *[None] * 8),
        ]
        hashes = scratch.conn.execute("SELECT hash1, hash2 FROM staged ORDER BY line")
        assert hashes.fetchall() == [(None, None), (hash("k"), None), (None, None), (None, None)]
    finally:
        scratch.close()


def test_scratch_finds_repeats_by_key_when_hashes_collide(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows are grouped by their keys' hashes first: rows whose different keys share a hash
    are not repeats of each other."""
    from smallcrm.store import scratch as scratch_module

    monkeypatch.setattr(
        scratch_module, "_hashes", lambda keys: [None if k is None else 7 for k in keys]
    )
    scratch = Scratch(["a"])
    try:
        keys = ["a@x", "b@x", "a@x", None, "c@x", "b@x", "a@x"]
        scratch.stage(
            [(line, key, None, "insert", None, None, line, "v") for line, key in enumerate(keys, 2)]
        )
        scratch.finish_staging(["key1"])
        assert scratch.repeated("key1") == [(4, 2), (7, 3), (8, 2)]
    finally:
        scratch.close()


def test_scratch_counts_what_it_stages_as_sql_counts_it(tmp_path: Path) -> None:
    def by_sql(scratch: Scratch) -> dict[str, int]:
        scratch._counts = None  # forget what was counted on the way
        return scratch.counts()

    scratch = Scratch(["a"])
    part = Scratch(["a"], path=str(tmp_path / "part.db"))
    try:
        assert scratch.counts() == {"bad": 0, "total": 0}
        scratch.stage(
            [
                (2, "k", None, "insert", None, None, 0, "x"),
                (3, *[None] * 2, "skip", 7, None, None, None),
            ]
        )
        scratch.reject([(4, "bad email", "[]")])
        part.stage([(5, "k", None, "insert", None, None, 0, "y")])
        part.reject([(6, "no name", "[]"), (7, "no name", "[]")])
        part.commit()
        scratch.absorb(part.path, 1, part.counts())
        counted = scratch.counts()
        assert counted == {"insert": 2, "skip": 1, "bad": 3, "total": 6} == by_sql(scratch)
        scratch.set_action([("skip", 5)])  # a change counts again by SQL
        assert scratch.counts() == {"insert": 1, "skip": 2, "bad": 3, "total": 6}
    finally:
        part.close()
        scratch.close()


def test_write_attached_detaches_and_rolls_back(db_path: Path, tmp_path: Path) -> None:
    side = tmp_path / "side.db"
    conn = sqlite3.connect(side)
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute("INSERT INTO t VALUES ('Copied Co')")
    conn.commit()
    conn.close()
    db = open_db(str(db_path))
    try:
        with db.write_attached({"side": str(side)}) as session:
            c = session.connection()
            c.exec_driver_sql(
                "INSERT INTO company (name, version, created_at, updated_at) "
                "SELECT x, 1, '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000' "
                "FROM side.t"
            )
        with pytest.raises(RuntimeError), db.write_attached({"side": str(side)}) as session:
            session.connection().exec_driver_sql(
                "INSERT INTO company (name, version, created_at, updated_at) "
                "SELECT 'Rolled Back', 1, '2026-01-01 00:00:00.000000', "
                "'2026-01-01 00:00:00.000000' FROM side.t"
            )
            raise RuntimeError("boom")
        with db.read() as session:
            names = [
                row[0] for row in session.connection().exec_driver_sql("SELECT name FROM company")
            ]
            schemas = [
                row[1] for row in session.connection().exec_driver_sql("PRAGMA database_list")
            ]
        assert names == ["Copied Co"]
        assert "side" not in schemas
        with db.write() as session:  # plain writes are as before
            schemas = [
                row[1] for row in session.connection().exec_driver_sql("PRAGMA database_list")
            ]
        assert "side" not in schemas
    finally:
        db.dispose()


def test_scratch_folders_of_killed_imports_are_swept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallcrm.store import scratch as scratch_files

    home = tmp_path / "tmp"
    home.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(home))
    now = 1_900_000_000.0
    day = 24 * 3600

    def folder(name: str, age: float, file_age: float | None = None) -> Path:
        path = home / name
        path.mkdir()
        scratch = path / "scratch.db"
        scratch.write_bytes(b"rows")
        os.utime(scratch, (now - (age if file_age is None else file_age),) * 2)
        os.utime(path, (now - age,) * 2)
        return path

    abandoned = folder("smallcrm-import-old", 2 * day)
    running = folder("smallcrm-import-new", 60)
    still_writing = folder("smallcrm-import-busy", 2 * day, file_age=5)  # entries old, file not
    other = folder("someone-else", 3 * day)
    plain_file = home / "smallcrm-import-file"
    plain_file.write_text("not a folder")
    os.utime(plain_file, (now - 3 * day,) * 2)

    scratch_files.sweep_abandoned_scratch(now)
    assert not abandoned.exists()
    assert running.exists() and still_writing.exists() and other.exists()
    assert plain_file.exists()
    scratch = Scratch(["a"])  # every import sweeps before it makes its own folder
    try:
        assert Path(scratch.folder or "").parent == home
    finally:
        scratch.close()

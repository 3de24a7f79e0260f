"""Many programs on one SQLite file at once: two imports (the real `smallcrm import`), two
processes making single-record changes one transaction at a time, and a reader — no error
reaches anyone, nothing is lost, and writes wait for the lock instead of failing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from smallcrm import contacts
from smallcrm.errors import DatabaseError
from smallcrm.store import engine, open_db

IMPORT_ROWS = 2000
SINGLE_WRITES = 40


ADDER = textwrap.dedent(
    """
    import sys
    from smallcrm import contacts
    from smallcrm.store import open_db
    db = open_db(sys.argv[1])
    for i in range(int(sys.argv[2])):
        contacts.add(db, f"Single {i}", email=f"single{i}@example.com", tags_=["walk-in"])
    """
)
LOGGER = textwrap.dedent(
    """
    import sys
    from smallcrm import activities, contacts, followups
    from smallcrm.store import open_db
    db = open_db(sys.argv[1])
    contacts.add(db, "Logged Person", email="logged@example.com")
    for i in range(int(sys.argv[2])):
        activities.log(db, "call", "logged@example.com", f"Call {i}")
        followups.add(db, "logged@example.com", f"Call back {i}", due="+2d")
    """
)
READER = textwrap.dedent(
    """
    import os, sys
    from smallcrm import contacts, search, timeline
    from smallcrm.store import open_db
    db = open_db(sys.argv[1])
    reads = 0
    while not os.path.exists(sys.argv[2]) or reads < 5:
        contacts.count(db)
        contacts.list_contacts(db, limit=50, order="recent")
        search.search(db, "person")
        reads += 1
    print(reads)
    """
)


def test_four_writers_and_a_reader_lose_nothing(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = []
    for part in ("a", "b"):
        source = tmp_path / f"{part}.csv"
        lines = [f"Person {part}{i},{part}{i}@example.com,Buyer" for i in range(IMPORT_ROWS)]
        source.write_text("name,email,title\n" + "\n".join(lines) + "\n")
        files.append(source)
    stop = tmp_path / "stop"
    env = {**os.environ, "SMALLCRM_DB": str(db_path)}

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    reader = start("-c", READER, str(db_path), str(stop))
    writers = [
        start("-m", "smallcrm", "import", "contacts", str(files[0])),
        start("-c", ADDER, str(db_path), str(SINGLE_WRITES)),
        start("-m", "smallcrm", "import", "contacts", str(files[1])),
        start("-c", LOGGER, str(db_path), str(SINGLE_WRITES)),
    ]
    results = [w.communicate(timeout=400) for w in writers]
    stop.touch()
    reads, reader_err = reader.communicate(timeout=120)
    for process, (_out, err) in zip(writers, results, strict=True):
        assert process.returncode == 0, err
        assert "error" not in err.lower() and "locked" not in err.lower(), err
    assert (
        results[0][0].strip().endswith(f"imported {IMPORT_ROWS}, updated 0, skipped 0, rejected 0")
    )
    assert reader.returncode == 0, reader_err
    assert int(reads) >= 5

    conn = sqlite3.connect(str(db_path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        total = conn.execute("SELECT count(*) FROM contact").fetchone()[0]
        assert total == 2 * IMPORT_ROWS + SINGLE_WRITES + 1
        emails = {r[0] for r in conn.execute("SELECT email FROM contact")}
        for part in ("a", "b"):
            assert {f"{part}{i}@example.com" for i in range(IMPORT_ROWS)} <= emails
        assert {f"single{i}@example.com" for i in range(SINGLE_WRITES)} <= emails
        assert conn.execute("SELECT count(*) FROM activity").fetchone()[0] == SINGLE_WRITES
        assert conn.execute("SELECT count(*) FROM followup").fetchone()[0] == SINGLE_WRITES
        assert conn.execute("SELECT count(*) FROM contact_tag").fetchone()[0] == SINGLE_WRITES
        documents = conn.execute("SELECT count(*) FROM search_index").fetchone()[0]
        assert documents == total + SINGLE_WRITES  # every contact and activity is findable
        # Every write was recorded: one changeset per import and per single-record change.
        changesets = conn.execute("SELECT count(*) FROM changeset").fetchone()[0]
        assert changesets == 2 + SINGLE_WRITES + 1 + 2 * SINGLE_WRITES
    finally:
        conn.close()


def test_a_write_waits_for_the_lock_and_retries_within_a_bound(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Shrink the bounds so the test is quick: SQLite waits 1 s per try, retries until 5 s.
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_S", 1)
    monkeypatch.setattr(engine, "WRITE_RETRY_S", 5)
    db = open_db(str(db_path))
    holder = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock for 2 s
        release = threading.Timer(2.0, lambda: holder.execute("COMMIT"))
        release.start()
        made = contacts.add(db, "Patient Writer")  # longer than one busy timeout: retried
        release.join()
        assert contacts.get(db, str(made.id)).name == "Patient Writer"

        monkeypatch.setattr(engine, "WRITE_RETRY_S", 1.5)
        holder.execute("BEGIN IMMEDIATE")  # now held past the whole bound
        started = time.monotonic()
        with pytest.raises(DatabaseError, match="busy"):
            contacts.add(db, "Given Up")
        assert time.monotonic() - started < 30  # bounded, not forever
        holder.execute("COMMIT")
        contacts.add(db, "After The Lock")
    finally:
        holder.close()
        db.dispose()
    db = open_db(str(db_path))
    try:
        assert {c.name for c in contacts.list_contacts(db)} == {"Patient Writer", "After The Lock"}
    finally:
        db.dispose()

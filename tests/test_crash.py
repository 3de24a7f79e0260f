"""Crash safety: `kill -9` at random moments of a 100,000-row import (the real command) leaves
a database that opens, passes `db check`, and holds all of the import or none of it."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smallcrm import contacts, database
from smallcrm.store import open_db

ROWS = 100_000
TRIALS = 5


def importer(target: Path, source: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SMALLCRM_DB": str(target)}
    return subprocess.Popen(
        [sys.executable, "-m", "smallcrm", "import", "contacts", str(source)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def write_csv(path: Path, rows: int) -> Path:
    with path.open("w") as out:
        out.write("name,email,title,note\n")
        for i in range(rows):
            out.write(f"Person {i},p{i}@example.com,Buyer,note {i}\n")
    return path


def state(path: Path) -> tuple[int, int, int]:
    """(contacts, search documents, changesets), after checking the file is intact."""
    conn = sqlite3.connect(str(path))
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        return tuple(  # type: ignore[return-value]
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("contact", "search_index", "changeset")
        )
    finally:
        conn.close()


def _children(pid: int) -> set[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return {int(child) for child in handle.read().split()}
    except OSError:  # gone, or no /proc
        return set()


def _wait_gone(pids: set[int], timeout: float = 10.0) -> None:
    """Every process in `pids` has ended (a zombie nobody reaps counts as ended)."""
    deadline = time.monotonic() + timeout
    for pid in pids:
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    if handle.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                        break
            except OSError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"process {pid} outlived the killed import")


@pytest.mark.slow
def test_kill_9_during_a_big_import_is_all_or_nothing(db_path: Path, tmp_path: Path) -> None:
    source = write_csv(tmp_path / "big.csv", ROWS)
    db = open_db(str(db_path))
    contacts.add(db, "Already There", email="there@example.com")
    db.dispose()  # checkpoints: the base is one file
    before = state(db_path)
    assert before[0] == 1
    # An import that finishes adds every row, its search documents and one changeset.
    after = (before[0] + ROWS, before[1] + ROWS, before[2] + 1)

    # How long a 100,000-row import takes on this machine, from a 1-row and a 10,000-row one.
    timings = []
    for rows in (1, ROWS // 10):
        sample = tmp_path / f"sample-{rows}.db"
        shutil.copyfile(db_path, sample)
        started = time.monotonic()
        run = importer(sample, write_csv(tmp_path / f"sample-{rows}.csv", rows))
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        timings.append(time.monotonic() - started)
    start_up, per_row = timings[0], max(timings[1] - timings[0], 0.1) / (ROWS // 10)
    duration = start_up + per_row * ROWS

    rng = random.Random(20261123)
    outcomes = []
    forked = []
    for trial in range(TRIALS):
        target = tmp_path / f"trial-{trial}.db"
        shutil.copyfile(db_path, target)
        # Spread the kills over the whole run: reading, validating, writing, committing.
        delay = duration * (trial + rng.uniform(0.1, 0.95)) / TRIALS
        process = importer(target, source)
        deadline = time.monotonic() + delay
        children: set[int] = set()  # the forked validator of the file's second half
        while process.poll() is None and time.monotonic() < deadline:
            children |= _children(process.pid)
            time.sleep(0.02)
        children |= _children(process.pid)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        _wait_gone(children)  # none outlives the command
        forked.append(bool(children))

        found = state(target)
        assert found in (before, after), f"trial {trial}: half an import {found}"
        outcomes.append("all" if found == after else "none")
        # The database opens, `db check` passes, and the next write goes through (no stale lock).
        reopened = open_db(str(target))
        try:
            report = database.check(reopened)
            assert report.ok, report
            contacts.add(reopened, "After The Crash")
        finally:
            reopened.dispose()
    assert "none" in outcomes  # at least one kill landed before the commit
    assert any(forked)  # and at least one while a child validated the file's second half

"""`smallcrm db copy --to URL`: a whole CRM into an empty database, every row and link intact."""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from smallcrm import (
    activities,
    contacts,
    database,
    demo,
    followups,
    leads,
    search,
    transfer,
)
from smallcrm.errors import Invalid
from smallcrm.store import Db, open_db

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
# The source is always a SQLite file (db_path); the target is each backend in turn.
pytestmark = pytest.mark.backends("sqlite", "postgres")


def rows_of(db: Db) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order, as Python values."""
    with db.read() as session:
        result = {}
        for table in transfer.tables():
            order = list(table.primary_key.columns) or list(table.columns)
            result[table.name] = [tuple(r) for r in session.execute(select(table).order_by(*order))]
        return result


def add_odd_records(db: Db) -> None:
    """What a demo may not have: extra fields, deleted ids (gaps), reopened leads, tags."""
    ada = contacts.add(
        db, "Ada Lovelace", email="ada@example.com", company="Analytical Engines",
        tags_=["vip", "engines"], extra={"Shoe size": "38", "Ünïcode": "✓", "nested": [1, 2]},
    )  # fmt: skip
    gone = contacts.add(db, "Temporary")
    contacts.delete(db, str(gone.id))
    deal = leads.add(db, "Engine", contact=str(ada.id), value="1234.56", currency="EUR",
                     extra={"source": "fair"})  # fmt: skip
    leads.move(db, str(deal.id), "Proposal")
    leads.lost(db, str(deal.id), "Timing")
    leads.move(db, str(deal.id), "Negotiation")
    activities.log(db, "meeting", str(ada.id), "Demo of the engine", body="Went well",
                   lead=str(deal.id), duration=45)  # fmt: skip
    followups.add(db, str(ada.id), "Send the contract", due="2026-03-12T10:00")


@pytest.fixture(scope="session")
def solo_file(tmp_path_factory: pytest.TempPathFactory, template_db: Path) -> Path:
    """A solo SQLite CRM full of demo data, built once (the demo takes a second or two)."""
    from smallcrm import settings

    home = tmp_path_factory.mktemp("solo")
    path = home / "solo.db"
    shutil.copyfile(template_db, path)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SMALLCRM_USER", "tester")
        env.setenv("SMALLCRM_CONFIG", str(home / "config.toml"))
        env.setenv("TZ", "UTC")
        settings._config_file.cache_clear()
        db = open_db(str(path))
        try:
            demo.populate(db, seed=7, now=NOW)
            add_odd_records(db)
        finally:
            db.dispose()  # the last connection folds the WAL into the file
    return path


@pytest.fixture
def solo(solo_file: Path, db_path: Path) -> Iterator[Db]:
    """This test's own copy of the solo CRM."""
    shutil.copyfile(solo_file, db_path)
    db = open_db(str(db_path))
    yield db
    db.dispose()


@pytest.fixture
def empty_target(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of the backend under test, which `db copy` fills."""
    if backend == "postgres":
        return request.getfixturevalue("pg_url")
    return str(tmp_path / "copy.db")


def test_copy_takes_every_row_of_every_table(solo: Db, empty_target: str) -> None:
    before = rows_of(solo)
    report = transfer.copy_database(solo, empty_target)
    assert report.counts == {name: len(rows) for name, rows in before.items()}
    assert report.counts["contact"] > 20 and report.counts["stage_change"] > 20
    copied = open_db(empty_target)
    try:
        after = rows_of(copied)
        for name in before:
            assert after[name] == before[name], name
        assert database.check(copied).ok
        # The copy lives on: new ids follow the copied ones, search finds the same.
        largest = max(row[0] for row in before["contact"])
        assert contacts.add(copied, "Grace Hopper").id == largest + 1
        for query in ("ada", "engine", "lovel", "went well"):
            assert [(h.kind, h.id) for h in search.search(copied, query, limit=None)] == [
                (h.kind, h.id) for h in search.search(solo, query, limit=None)
            ] or sorted((h.kind, h.id) for h in search.search(copied, query, limit=None)) == (
                sorted((h.kind, h.id) for h in search.search(solo, query, limit=None))
            )
        ada = contacts.get(copied, "ada@example.com")
        assert ada.extra == {"Shoe size": "38", "Ünïcode": "✓", "nested": [1, 2]}
        assert list(ada.extra) == ["Shoe size", "Ünïcode", "nested"]  # key order kept
        deal = leads.get(copied, "Engine")
        assert (deal.value_minor, deal.currency, deal.stage) == (123456, "EUR", "Negotiation")
    finally:
        copied.dispose()


def test_the_team_database_can_be_copied_back_to_a_file(
    solo: Db, pg_url: str, tmp_path: Path
) -> None:
    transfer.copy_database(solo, pg_url)
    team = open_db(pg_url)
    try:
        back = tmp_path / "back.db"
        transfer.copy_database(team, str(back))
    finally:
        team.dispose()
    returned = open_db(str(back))
    try:
        assert rows_of(returned) == rows_of(solo)
    finally:
        returned.dispose()


def test_copy_refuses_a_database_that_holds_data(solo: Db, empty_target: str) -> None:
    target = open_db(empty_target)
    try:
        contacts.add(target, "Already here")
        with pytest.raises(Invalid, match=r"already holds data \(.*1 user_account.*1 contact rows"):
            transfer.copy_database(solo, empty_target)
        assert [c.name for c in contacts.list_contacts(target)] == ["Already here"]
    finally:
        target.dispose()


def test_copy_refuses_to_copy_a_database_into_itself(solo: Db) -> None:
    with pytest.raises(Invalid, match="the database being copied"):
        transfer.copy_database(solo, solo.target)


def test_a_failed_copy_leaves_the_target_empty(
    solo: Db, empty_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_table = transfer._copy_table

    def failing(src: Any, out: Any, table: Any) -> int:
        if table.name == "activity":
            raise RuntimeError("the network went away")
        return copy_table(src, out, table)

    monkeypatch.setattr(transfer, "_copy_table", failing)
    with pytest.raises(RuntimeError):
        transfer.copy_database(solo, empty_target)
    monkeypatch.undo()
    target = open_db(empty_target)
    try:
        assert contacts.list_contacts(target) == []
        assert [s.name for s in leads.pipeline.list_stages(target)][0] == "New"
    finally:
        target.dispose()
    assert transfer.copy_database(solo, empty_target).counts["activity"] > 0  # and it can retry


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    from smallcrm.cli import context, main

    context.reset()
    argv, umask = sys.argv, os.umask(0o077)
    sys.argv = ["smallcrm", *args]
    code: Any = 0
    try:
        main.run()
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = argv
        os.umask(umask)
        context.reset()
    out = capsys.readouterr()
    return code, out.out, out.err


def test_db_copy_command_reports_counts_per_table(
    solo: Db, empty_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = {name: len(rows) for name, rows in rows_of(solo).items()}
    code, out, err = run_cli(capsys, "--db", solo.target, "db", "copy", "--to", empty_target)
    assert code == 0, err
    lines = out.splitlines()
    for name, count in counts.items():
        assert any(line.split() == [name, f"{count:,}"] for line in lines), name
    assert lines[-1].startswith(f"Copied {sum(counts.values()):,} rows from ")
    code, out, err = run_cli(capsys, "--db", solo.target, "db", "copy", "--to", empty_target)
    assert code == 1 and err.startswith("error: database ") and "already holds data" in err


def test_db_copy_json_and_a_password_on_the_command_line_is_warned_about(
    solo: Db, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with_password = pg_url.replace("postgres@", "postgres:not-needed@")  # trust auth
    code, out, err = run_cli(
        capsys, "--db", solo.target, "db", "copy", "--to", with_password, "--json"
    )
    assert code == 0, err
    assert "warning: a password on the command line" in err
    data = json.loads(out)
    assert data["total"] == sum(data["counts"].values())
    assert "not-needed" not in out and ":***@" in data["target"]

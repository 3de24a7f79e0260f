"""Migrations: an old database with data in every table upgrades in place and keeps every row;
the revision list matches Alembic's; the migrated schema is exactly tables.py's."""

from __future__ import annotations

import sqlite3
import warnings
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from smallcrm import activities, companies, contacts, followups, leads, search, timeline
from smallcrm.store import Db, migrate, open_db, tables, upgrade_db
from smallcrm.store.engine import make_engine, prepare_sqlite_file
from smallcrm.store.migrations import HEAD, REVISIONS
from smallcrm.store.migrations.runner import alembic_config, upgrade_to

FIRST = "0001_initial"
T = "2026-01-15 10:00:00.000000"  # how SQLAlchemy stores a UTC datetime in SQLite

# Raw rows for every table of the first revision, with every column filled where possible.
ROWS: dict[str, list[dict[str, object]]] = {
    "user_account": [
        {"id": 1, "login": "grace", "name": "Grace", "email": "grace@example.com", "created_at": T},
        {"id": 2, "login": "linus", "name": "Linus", "email": None, "created_at": T},
    ],
    "company": [
        {
            "id": 1,
            "name": "Acme Legacy",
            "domain": "acme.example",
            "industry": "Anvils",
            "city": "Zürich",
            "country": "CH",
            "territory": "EMEA",
            "relationship": "proactive",
            "phone": "+41 44 000 00 00",
            "note": "since 1949",
            "owner_id": 1,
            "extra": '{"Founded": "1949"}',
            "version": 3,
            "created_at": T,
            "updated_at": T,
        },
        {
            "id": 2,
            "name": "Bare Co",
            "domain": None,
            "industry": None,
            "city": None,
            "country": None,
            "territory": None,
            "relationship": None,
            "phone": None,
            "note": None,
            "owner_id": None,
            "extra": None,
            "version": 1,
            "created_at": T,
            "updated_at": T,
        },
    ],  # fmt: skip
    "contact": [
        {
            "id": 1,
            "name": "Ada Oldtimer",
            "email": "ada@acme.example",
            "phone": "+14155550123",
            "title": "CTO",
            "company_id": 1,
            "stage": "client",
            "owner_id": 1,
            "note": "prefers email",
            "consent": 1,
            "do_not_contact": 0,
            "extra": '{"Twitter": "@ada"}',
            "version": 2,
            "created_at": T,
            "updated_at": T,
        },
        {
            "id": 2,
            "name": "Bob Ancient",
            "email": None,
            "phone": None,
            "title": None,
            "company_id": None,
            "stage": None,
            "owner_id": 2,
            "note": None,
            "consent": 0,
            "do_not_contact": 1,
            "extra": None,
            "version": 1,
            "created_at": T,
            "updated_at": T,
        },
    ],  # fmt: skip
    "tag": [{"id": 1, "name": "vip"}, {"id": 2, "name": "legacy"}],
    "contact_tag": [{"contact_id": 1, "tag_id": 1}, {"contact_id": 1, "tag_id": 2}],
    "company_tag": [{"company_id": 1, "tag_id": 2}],
    "stage": [
        {
            "id": 6,
            "pipeline_id": 1,
            "name": "Contract",
            "position": 6,
            "probability": 90,
            "stale_days": 5,
        },
    ],  # fmt: skip
    "lead": [
        {
            "id": 1,
            "title": "Venerable deal",
            "contact_id": 1,
            "company_id": 1,
            "pipeline_id": 1,
            "stage_id": 4,
            "status": "open",
            "value_minor": 1234567,
            "currency": "EUR",
            "probability": 55,
            "expected_close": "2026-02-01",
            "owner_id": 1,
            "lost_reason": None,
            "extra": '{"source": "fair"}',
            "version": 2,
            "stage_entered_at": T,
            "created_at": T,
            "updated_at": T,
            "closed_at": None,
        },
        {
            "id": 2,
            "title": "Lost cause",
            "contact_id": None,
            "company_id": 2,
            "pipeline_id": 1,
            "stage_id": 1,
            "status": "lost",
            "value_minor": 0,
            "currency": "USD",
            "probability": None,
            "expected_close": None,
            "owner_id": 2,
            "lost_reason": "went with Initrode",
            "extra": None,
            "version": 1,
            "stage_entered_at": T,
            "created_at": T,
            "updated_at": T,
            "closed_at": T,
        },
    ],  # fmt: skip
    "lead_tag": [{"lead_id": 1, "tag_id": 1}],
    "stage_change": [
        {
            "id": 1,
            "lead_id": 1,
            "from_stage_id": None,
            "to_stage_id": 1,
            "event": "created",
            "changed_at": "2026-01-01 09:00:00.000000",
            "user_id": 1,
        },
        {
            "id": 2,
            "lead_id": 1,
            "from_stage_id": 1,
            "to_stage_id": 4,
            "event": "moved",
            "changed_at": "2026-01-10 09:00:00.000000",
            "user_id": 1,
        },
        {
            "id": 3,
            "lead_id": 2,
            "from_stage_id": 1,
            "to_stage_id": None,
            "event": "lost",
            "changed_at": T,
            "user_id": 2,
        },
    ],  # fmt: skip
    "activity": [
        {
            "id": 1,
            "kind": "call",
            "direction": "outbound",
            "summary": "Ancient phone call",
            "body": "Talked about the Quetzalcoatl project",
            "occurred_at": T,
            "duration_min": 30,
            "contact_id": 1,
            "company_id": None,
            "lead_id": 1,
            "user_id": 1,
            "created_at": T,
        },
        {
            "id": 2,
            "kind": "visit",
            "direction": None,
            "summary": "Site visit",
            "body": None,
            "occurred_at": "2026-01-14 08:00:00.000000",
            "duration_min": None,
            "contact_id": None,
            "company_id": 1,
            "lead_id": None,
            "user_id": 2,
            "created_at": T,
        },
    ],  # fmt: skip
    "followup": [
        {
            "id": 1,
            "title": "Old promise",
            "due_at": "2026-01-20 09:00:00.000000",
            "contact_id": 1,
            "company_id": None,
            "lead_id": 1,
            "owner_id": 1,
            "status": "open",
            "reminded_at": None,
            "claimed_until": None,
            "claim_token": None,
            "done_at": None,
            "version": 1,
            "created_at": T,
            "updated_at": T,
        },
        {
            "id": 2,
            "title": "Kept promise",
            "due_at": T,
            "contact_id": None,
            "company_id": 1,
            "lead_id": None,
            "owner_id": 2,
            "status": "done",
            "reminded_at": T,
            "claimed_until": None,
            "claim_token": None,
            "done_at": T,
            "version": 2,
            "created_at": T,
            "updated_at": T,
        },
    ],  # fmt: skip
}


def first_revision_database(path: Path) -> None:
    """A database made by the first smallcrm, filled through raw SQL (no service involved)."""
    prepare_sqlite_file(path)
    engine = make_engine(str(path))
    with engine.begin() as conn:
        upgrade_to(conn, FIRST)
    with engine.begin() as conn:
        for table, rows in ROWS.items():
            for row in rows:
                columns = ", ".join(row)
                marks = ", ".join(f":{c}" for c in row)
                conn.exec_driver_sql(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    row,  # type: ignore[arg-type]
                )
    engine.dispose()


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every first-revision table, only the columns the first revision had, in rowid order."""
    conn = sqlite3.connect(path)
    try:
        result = {}
        for table in ["pipeline", *ROWS]:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            if table in ROWS:
                columns = [c for c in columns if c in ROWS[table][0]]
            result[table] = conn.execute(
                f"SELECT {', '.join(columns)} FROM {table} ORDER BY rowid"
            ).fetchall()
        return result
    finally:
        conn.close()


@pytest.fixture
def old_path(tmp_path: Path) -> Path:
    path = tmp_path / "old.db"
    first_revision_database(path)
    return path


def test_the_first_revision_has_the_rows(old_path: Path) -> None:
    tables_with_rows = {table for table, rows in dump(old_path).items() if rows}
    assert tables_with_rows == {"pipeline", *ROWS}
    assert Db(str(old_path), make_engine(str(old_path))).revision() == FIRST


def test_upgrade_keeps_every_row(old_path: Path) -> None:
    before = dump(old_path)
    db = open_db(str(old_path))
    try:
        assert db.revision() == HEAD
    finally:
        db.dispose()
    after = dump(old_path)
    assert after == before
    for table, rows in ROWS.items():
        assert len(after[table]) >= len(rows), table


def test_upgraded_rows_read_back_through_the_services(old_path: Path) -> None:
    db = open_db(str(old_path))
    try:
        ada = contacts.get(db, "ada oldtimer")
        assert ada.email == "ada@acme.example" and ada.company == "Acme Legacy"
        assert ada.owner == "Grace" and ada.tags == ["legacy", "vip"]
        assert ada.extra == {"Twitter": "@ada"} and ada.consent is True
        assert ada.created_at == datetime(2026, 1, 15, 10, tzinfo=UTC)
        acme = companies.get(db, "acme.example")
        assert (acme.relationship, acme.tags, acme.extra) == ("proactive", ["legacy"], {
            "Founded": "1949"
        })  # fmt: skip
        deal = leads.get(db, "venerable deal")
        assert (deal.stage, deal.value, deal.currency) == ("Proposal", 12345.67, "EUR")
        assert deal.expected_close == date(2026, 2, 1) and deal.tags == ["vip"]
        lost = leads.get(db, "lost cause")
        assert (lost.status, lost.lost_reason) == ("lost", "went with Initrode")
        call = activities.get(db, 1)
        assert (call.kind, call.duration_min, call.lead) == ("call", 30, "Venerable deal")
        assert followups.get(db, 2).status == "done"
        history = [e.summary for e in timeline.timeline(db, "company:acme legacy")]
        assert history[:2] == ["Old promise", "Kept promise"]
        assert "Venerable deal: New → Proposal" in history
        # New writes continue after the old ids.
        assert contacts.add(db, "Newcomer").id == 3
        assert leads.board(db)[-1].stage.name == "Contract"  # a stage added back then
    finally:
        db.dispose()


def test_the_search_index_finds_rows_made_before_it_existed(old_path: Path) -> None:
    db = open_db(str(old_path))
    try:

        def found(query: str) -> set[tuple[str, str]]:
            return {(h.kind, h.title) for h in search.search(db, query)}

        assert found("oldtimer") == {("contact", "Ada Oldtimer"), ("lead", "Venerable deal")}
        assert found("acme legacy") >= {("company", "Acme Legacy"), ("contact", "Ada Oldtimer")}
        assert found("zurich") == {("company", "Acme Legacy")}
        assert found("venerable") == {("lead", "Venerable deal")}
        assert found("initrode") == {("lead", "Lost cause")}
        assert found("quetzal") == {("activity", "Ancient phone call")}
        assert found("ancient") == {("contact", "Bob Ancient"), ("activity", "Ancient phone call")}
    finally:
        db.dispose()


def test_upgrade_through_every_path(tmp_path: Path) -> None:
    via_upgrade_db = tmp_path / "a.db"
    first_revision_database(via_upgrade_db)
    before = dump(via_upgrade_db)
    assert upgrade_db(str(via_upgrade_db)) == (FIRST, HEAD)
    assert dump(via_upgrade_db) == before

    via_migrate = tmp_path / "b.db"
    first_revision_database(via_migrate)
    db = Db(str(via_migrate), make_engine(str(via_migrate)))
    try:
        assert migrate(db) == (FIRST, HEAD)
        assert migrate(db) == (HEAD, HEAD)
    finally:
        db.dispose()
    assert dump(via_migrate) == before


@pytest.mark.parametrize("stop", REVISIONS)
def test_each_revision_upgrades_to_head(tmp_path: Path, stop: str) -> None:
    path = tmp_path / "step.db"
    prepare_sqlite_file(path)
    engine = make_engine(str(path))
    with engine.begin() as conn:
        upgrade_to(conn, stop)
    engine.dispose()
    assert upgrade_db(str(path)) == (stop, HEAD)


def test_revisions_match_the_alembic_scripts() -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    history = [script.revision for script in reversed(list(scripts.walk_revisions()))]
    assert tuple(history) == REVISIONS
    assert scripts.get_current_head() == HEAD
    assert len(scripts.get_heads()) == 1


def _is_search_index(name: str | None, type_: str, _parent: object) -> bool:
    return not (type_ == "table" and name is not None and name.startswith("search_index"))


def test_the_migrated_schema_is_tables_py(db: Db) -> None:
    tables.load_all()
    assert tables.Contact.__tablename__ in SQLModel.metadata.tables
    with warnings.catch_warnings():
        # SQLite cannot reflect expression indexes (lower(name)); they are checked below.
        warnings.simplefilter("ignore")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"include_name": _is_search_index, "compare_type": True}
            )
            differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_expression_indexes_exist(db: Db) -> None:
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
        indexes = {name: " ".join(sql.lower().split()) for name, sql in rows}
    assert (
        "unique index ux_contact_email_lower on contact (lower(email))"
        in indexes["ux_contact_email_lower"]
    )
    assert "lower(name)" in indexes["ix_contact_name_lower"]
    assert "lower(name)" in indexes["ix_company_name_lower"]
    tables.load_all()
    expected = {
        index.name
        for table in SQLModel.metadata.tables.values()
        for index in table.indexes
        if index.name
    }
    with db.read() as session:
        present = {
            row[0]
            for row in session.connection().exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index'"
            )
        }
    assert expected <= present

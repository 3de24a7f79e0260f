"""Team mode: the same CRM on a shared PostgreSQL database.

Tests using `db`/`db_target` run on both backends (see conftest.py); those marked
`backends("postgres")` run only where SQLite has nothing to show. The PostgreSQL server is
real, started by the fixtures.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from smallcrm import activities, companies, contacts, database, followups, leads, refs, search
from smallcrm import users as users_service
from smallcrm.common import touch
from smallcrm.errors import Conflict, DatabaseError
from smallcrm.store import Db, engine, open_db, search_index
from smallcrm.store.migrations import HEAD, REVISIONS
from smallcrm.store.migrations.runner import upgrade_to

ROOT = Path(__file__).resolve().parent.parent
postgres_only = pytest.mark.backends("postgres")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `smallcrm ARGS` in this process; (exit code, stdout, stderr)."""
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


# --- URLs and engines (no server needed) -----------------------------------------------------


@pytest.mark.parametrize(
    "given_url",
    ["postgres://rep:pw@db.example/crm", "postgresql://rep:pw@db.example/crm",
     "postgresql+psycopg://rep:pw@db.example/crm"],
)  # fmt: skip
def test_every_postgres_scheme_means_psycopg_and_the_password_is_hidden(given_url: str) -> None:
    assert engine.normalize_url(given_url) == "postgresql+psycopg://rep:pw@db.example/crm"
    assert engine.redact(given_url) == "postgresql+psycopg://rep:***@db.example/crm"
    assert engine.sqlite_path(given_url) is None
    made = engine.make_engine(given_url)  # no connection is made yet
    try:
        assert made.dialect.name == "postgresql"
        assert made.dialect.driver == "psycopg"
    finally:
        made.dispose()


def test_an_unreachable_server_is_one_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+psycopg://rep:s3cret-pw@127.0.0.1:9/crm"  # port 9: nothing listens
    with pytest.raises(DatabaseError) as caught:
        open_db(url)
    assert "s3cret-pw" not in str(caught.value)
    code, out, err = run_cli(capsys, "--db", url, "contact", "list")
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1
    assert "s3cret-pw" not in err + out and "Traceback" not in err


# --- Search: the same words, the same hits ---------------------------------------------------


def fts5_tokens(texts: list[str]) -> list[list[str]]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE s USING fts5(t, tokenize='unicode61 remove_diacritics 2')")
    con.execute("CREATE VIRTUAL TABLE v USING fts5vocab(s, 'instance')")
    con.executemany("INSERT INTO s(rowid, t) VALUES (?, ?)", enumerate(texts, start=1))
    found: dict[int, list[str]] = {}
    for term, doc in con.execute("SELECT term, doc FROM v ORDER BY doc, offset"):
        found.setdefault(doc, []).append(term)
    return [found.get(i, []) for i in range(1, len(texts) + 1)]


def test_python_word_cutting_matches_fts5_for_latin_greek_and_cyrillic() -> None:
    """The PostgreSQL index cuts and folds words in Python; FTS5 does it for SQLite."""
    ranges = [(0x20, 0x250), (0x370, 0x400), (0x400, 0x530), (0x1E00, 0x1F00)]
    newer = {0x37F, *range(0x528, 0x530)}  # letters younger than FTS5's Unicode tables
    texts = [
        f"ab{chr(c)}cd"
        for first, last in ranges
        for c in range(first, last)
        if unicodedata.category(chr(c)) != "Cn" and c not in newer
    ]
    texts += [
        "José Müller", "ΟΔΟΣ οδος", "İstanbul", "Łukasz Ørsted Æon Þór Đorđe", "naïve café",
        "e\u0301te\u0301", "ada@example.com", "O'Neill-Smith", "Straße", "ǅemal", "ſhip",
    ]  # fmt: skip
    expected = fts5_tokens(texts)
    mismatched = [
        (t, want, search_index._WORD.findall(search_index.fold(t)))
        for t, want in zip(texts, expected, strict=True)
        if search_index._WORD.findall(search_index.fold(t)) != want
    ]
    assert mismatched == []


PEOPLE = [
    ("Ada Lovelace", "ada@example.com", "Analytical Engines"),
    ("José Müller", "jose.muller@beispiel.de", "Müller & Söhne GmbH"),
    ("Zoë O'Neill", "zoe@oneill.ie", "O'Neill Freight"),
    ("Łukasz Fitzgerald", "lukasz@fitz.example", "Fitzgerald Ørsted"),
    ("Grace Hopper", "grace@navy.example", "Analytical Engines"),
    ("Straße Meier", None, None),
]
QUERIES = [
    "ada", "Ada Love", "lovel", "ADA LOVELACE", "jose", "josé", "JOSÉ MÜL", "muller", "mül",
    "example", "example.com", "ada@example.com", "beispiel de", "analytical", "engines ada",
    "o'neill", "o neill", "oneill", "zoe", "zoë", "fitzg", "łuk", "luk", "ørsted", "orsted",
    "straße", "strasse", "söhne", "sohne", "call", "budget", "proposal sent", "ada grace",
    '"ada', "ada*", "ada OR grace", "NOT ada", "ada AND", "(", ")", "'", "\\", ":*", "&", "|",
    "!", "<->", "a:*", "title:ada", "NEAR(ada grace)", "^ada", "-ada", "", "   ", "🙂",
    "ada' | 'grace", "x'); DROP TABLE contact; --", "ada\\'", "%", "_", "a" * 300,
    " ".join(["ada"] * 40), "ä", "1", "2026",
]  # fmt: skip


def fill(db: Db) -> None:
    """The same small CRM, built through the services, on any backend."""
    made = []
    for name, email, company in PEOPLE:
        made.append(contacts.add(db, name, email=email, company=company, tags_=["x"]))
    ada, jose = made[0], made[1]
    deal = leads.add(db, "Engine proposal", contact=str(ada.id), value="5000")
    leads.add(db, "Söhne renewal 2026", contact=str(jose.id))
    activities.log(db, "call", str(ada.id), "Call about the budget", body="Proposal sent")
    activities.log(db, "note", f"company:{jose.company_id}", "Grüße aus München")
    leads.move(db, str(deal.id), "Proposal")


@pytest.fixture
def both(db_path: Path, pg_url: str) -> Iterator[tuple[Db, Db]]:
    """The same CRM twice: in SQLite and in PostgreSQL."""
    lite, team = open_db(str(db_path)), open_db(pg_url)
    fill(lite)
    fill(team)
    yield lite, team
    lite.dispose()
    team.dispose()


def hits(db: Db, query: str) -> list[tuple[str, int]]:
    return sorted((h.kind, h.id) for h in search.search(db, query, limit=None))


@pytest.mark.postgres
def test_search_finds_the_same_records_on_both_backends(both: tuple[Db, Db]) -> None:
    lite, team = both
    for query in QUERIES:
        assert hits(team, query) == hits(lite, query), query
    assert hits(team, "ada")  # the comparison is not between two empty lists
    assert ("contact", 2) in hits(team, "jose mul")
    assert ("contact", 1) in hits(team, "example")  # inside an email address
    for query in ("mül", "analytical", "o'neill"):
        found_lite = [c.id for c in contacts.list_contacts(lite, search=query)]
        assert [c.id for c in contacts.list_contacts(team, search=query)] == found_lite


@pytest.mark.postgres
def test_a_title_match_ranks_before_a_body_match_on_both(both: tuple[Db, Db]) -> None:
    for db in both:
        found = search.search(db, "analytical")
        assert found[0].kind == "company"  # its name, not a contact's company text


@pytest.mark.postgres
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=60))
def test_hostile_search_input_never_raises_and_agrees(both: tuple[Db, Db], query: str) -> None:
    lite, team = both
    assert hits(team, query) == hits(lite, query)


# --- Schema: one set of migrations for both ----------------------------------------------------


def schema_of(db: Db) -> dict[str, Any]:
    with db.engine.connect() as conn:
        inspector = inspect(conn)
        schema: dict[str, Any] = {}
        for table in sorted(inspector.get_table_names()):
            if table.startswith("search_index"):  # FTS5 vs tsvector, by design
                continue
            schema[table] = {
                "columns": [
                    (c["name"], c["nullable"], type(c["type"]._type_affinity()).__name__)
                    for c in inspector.get_columns(table)
                ],
                "pk": inspector.get_pk_constraint(table)["constrained_columns"],
                "fks": sorted(
                    (
                        tuple(f["constrained_columns"]),
                        f["referred_table"],
                        tuple(f["referred_columns"]),
                        (f.get("options") or {}).get("ondelete"),
                    )
                    for f in inspector.get_foreign_keys(table)
                ),  # fmt: skip
                # SQLite's reflection skips expression indexes (lower(name)); compared below.
                "indexes": sorted(
                    (i["name"], bool(i["unique"]))
                    for i in inspector.get_indexes(table)
                    if not i.get("expressions")
                    and None not in i["column_names"]
                    and not i.get("duplicates_constraint")  # PostgreSQL's UNIQUE indexes
                ),
                "uniques": sorted(
                    tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)
                ),
            }
        return schema


def affinity_names(schema: dict[str, Any]) -> dict[str, Any]:
    """SQLite reflects some types more coarsely; compare what both can tell apart."""
    same = {"Text": "String", "DateTime": "DateTime", "Boolean": "Boolean"}
    for table in schema.values():
        table["columns"] = [(n, null, same.get(t, t)) for n, null, t in table["columns"]]
    return schema


def expression_indexes(db: Db) -> list[tuple[str, str, bool]]:
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            sql = (
                "SELECT name, tbl_name, sql LIKE 'CREATE UNIQUE%' FROM sqlite_master "
                "WHERE type = 'index' AND sql LIKE '%lower(%'"
            )
        else:
            sql = (
                "SELECT indexname, tablename, indexdef LIKE 'CREATE UNIQUE%' FROM pg_indexes "
                "WHERE schemaname = 'public' AND indexdef LIKE '%lower(%'"
            )
        return sorted(tuple(row) for row in conn.execute(text(sql)))


@pytest.mark.postgres
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")
def test_the_same_migrations_build_the_same_schema_on_both(db_path: Path, pg_url: str) -> None:
    lite, team = open_db(str(db_path)), open_db(pg_url)
    try:
        assert lite.revision() == team.revision() == HEAD
        assert affinity_names(schema_of(team)) == affinity_names(schema_of(lite))
        assert expression_indexes(team) == expression_indexes(lite)
        assert len(expression_indexes(team)) >= 3
    finally:
        lite.dispose()
        team.dispose()


@pytest.fixture
def empty_pg(pg_databases: Any, pg_server: Any) -> str:
    """A PostgreSQL database with nothing in it, not even a schema."""
    return pg_server.url(pg_databases.new_empty())


@pytest.mark.postgres
def test_an_old_team_database_upgrades_in_place_and_keeps_its_data(empty_pg: str) -> None:
    old = Db(empty_pg, engine.make_engine(empty_pg))
    with old.engine.begin() as conn:
        upgrade_to(conn, REVISIONS[0])
        conn.execute(
            text(
                "INSERT INTO user_account (login, name, created_at) "
                "VALUES ('tester', 'tester', now());"
                "INSERT INTO contact (name, email, consent, do_not_contact, version, created_at,"
                " updated_at) VALUES ('Ada Lovelace', 'ada@example.com', false, false, 1, now(),"
                " now())"
            )
        )
    assert old.revision() == REVISIONS[0]
    old.dispose()
    db = open_db(empty_pg)  # upgrades to the newest schema
    try:
        assert db.revision() == HEAD
        assert [c.name for c in contacts.list_contacts(db, search="lovel")] == ["Ada Lovelace"]
        assert contacts.add(db, "Grace Hopper").id == 2
    finally:
        db.dispose()


WORKER_OPEN = """
import sys
from smallcrm.store import open_db
open_db(sys.argv[1]).dispose()
"""


@pytest.mark.postgres
def test_three_processes_opening_a_new_team_database_at_once_all_succeed(empty_pg: str) -> None:
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER_OPEN, empty_pg], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    db = open_db(empty_pg)
    try:
        with db.read() as session:
            pipelines = session.connection().exec_driver_sql("SELECT COUNT(*) FROM pipeline")
            assert pipelines.scalar() == 1
    finally:
        db.dispose()


# --- No lost updates ---------------------------------------------------------------------------

WORKER_WRITE = """
import os, sys, time
from pathlib import Path
from smallcrm import activities, contacts, followups
from smallcrm.store import open_db

target, contact_id, rounds, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
rep = os.environ["SMALLCRM_USER"]
db = open_db(target)
while not go.exists():
    time.sleep(0.005)
for i in range(rounds):
    activities.log(db, "call", contact_id, f"call {i} by {rep}")
    contacts.edit(db, contact_id, add_tags=["shared", f"{rep}-{i}"])
    contacts.edit(db, contact_id, extra={f"{rep}_{i}": i})
    followups.add(db, contact_id, f"{rep} follow-up {i}", due="tomorrow")
db.dispose()
"""


def test_three_reps_writing_to_one_customer_at_once_lose_nothing(
    db: Db, db_target: str, tmp_path: Path
) -> None:
    customer = contacts.add(db, "Ada Lovelace", company="Analytical Engines")
    go, rounds, reps = tmp_path / "go", 8, ["alice", "bob", "carol"]
    procs = []
    for rep in reps:
        env = {**os.environ, "SMALLCRM_USER": rep, "SMALLCRM_DB": db_target}
        args = [sys.executable, "-c", WORKER_WRITE, db_target, str(customer.id), str(rounds)]
        procs.append(subprocess.Popen([*args, str(go)], env=env, stderr=subprocess.PIPE))
    go.touch()
    errors = [p.communicate(timeout=300)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors

    after = contacts.get(db, str(customer.id))
    assert after.version == 1 + 2 * rounds * len(reps)
    assert after.extra == {f"{r}_{i}": i for r in reps for i in range(rounds)}
    assert sorted(after.tags) == sorted(
        ["shared"] + [f"{r}-{i}" for r in reps for i in range(rounds)]
    )
    logged = activities.list_activities(db, contact=str(customer.id))
    assert len(logged) == rounds * len(reps)
    assert {a.user for a in logged} == set(reps)
    due = followups.list_followups(db, contact=str(customer.id))
    assert sorted(f.owner for f in due) == sorted(r for r in reps for _ in range(rounds))
    assert sorted(u.name for u in users_service.list_users(db)) == sorted([*reps, "tester"])
    assert database.check(db).ok


@pytest.mark.parametrize("change", ["edit", "move", "won", "lost"])
def test_saving_an_outdated_copy_of_a_lead_is_a_conflict(db: Db, change: str) -> None:
    lead = leads.add(db, "Engine deal", value="1000")
    mine = leads.get(db, str(lead.id))
    theirs = leads.get(db, str(lead.id))
    assert mine.version == theirs.version
    leads.edit(db, str(lead.id), expected_version=theirs.version, title="Their title")
    act = {
        "edit": lambda: leads.edit(db, str(lead.id), expected_version=mine.version, title="Mine"),
        "move": lambda: leads.move(db, str(lead.id), "Qualified", expected_version=mine.version),
        "won": lambda: leads.won(db, str(lead.id), expected_version=mine.version),
        "lost": lambda: leads.lost(db, str(lead.id), "price", expected_version=mine.version),
    }[change]
    with pytest.raises(Conflict, match="changed by someone else"):
        act()
    now = leads.get(db, str(lead.id))
    assert (now.title, now.stage, now.status) == ("Their title", "New", "open")
    # Reloading and saving again works.
    leads.edit(db, str(lead.id), expected_version=now.version, title="Mine after reload")


def test_outdated_copies_of_contacts_companies_and_followups_conflict(db: Db) -> None:
    ada = contacts.add(db, "Ada", company="Engines")
    contacts.edit(db, str(ada.id), expected_version=ada.version, title="Countess")
    with pytest.raises(Conflict):
        contacts.edit(db, str(ada.id), expected_version=ada.version, title="Analyst")
    company = companies.get(db, "Engines")
    companies.edit(db, str(company.id), expected_version=company.version, city="London")
    with pytest.raises(Conflict):
        companies.edit(db, str(company.id), expected_version=company.version, city="Paris")
    todo = followups.add(db, str(ada.id), "Call back", due="tomorrow")
    followups.done(db, todo.id, expected_version=todo.version)
    with pytest.raises(Conflict):
        followups.snooze(db, todo.id, "+2d", expected_version=todo.version)


def test_an_edit_waits_for_a_concurrent_save_and_then_conflicts(db: Db) -> None:
    """Rep A saves while rep B's edit of the same copy arrives: B waits for A's row lock (or
    the write lock) and then sees the new version, instead of overwriting A."""
    lead = leads.add(db, "Engine deal")
    holding, release = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    def rep_a() -> None:
        try:
            with db.write() as session:
                row = refs.lead(session, str(lead.id))
                session.refresh(row, with_for_update=True)
                row.title = "A's title"
                touch(row)
                session.add(row)
                session.flush()
                holding.set()
                release.wait(timeout=10)
        except BaseException as error:  # pragma: no cover - reported below
            failure.append(error)
            holding.set()

    thread = threading.Thread(target=rep_a)
    thread.start()
    assert holding.wait(timeout=10)
    timer = threading.Timer(0.3, release.set)
    timer.start()
    try:
        with pytest.raises(Conflict):
            leads.edit(db, str(lead.id), expected_version=lead.version, title="B's title")
    finally:
        release.set()
        thread.join(timeout=10)
        timer.cancel()
    assert not failure
    assert leads.get(db, str(lead.id)).title == "A's title"


@postgres_only
def test_a_write_blocked_too_long_says_busy(
    db: Db, db_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_S", 1)
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(db_target)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    ) as other:
        other.execute(f"SELECT pg_advisory_lock({engine.WRITE_LOCK_KEY})")
        busy = open_db(db_target)
        try:
            with pytest.raises(DatabaseError, match="busy"):
                contacts.add(busy, "Ada")
            assert [c.name for c in contacts.list_contacts(busy)] == []  # readers never wait
        finally:
            busy.dispose()
        other.execute(f"SELECT pg_advisory_unlock({engine.WRITE_LOCK_KEY})")
    assert contacts.add(db, "Ada").name == "Ada"


# --- Users: who "me" is ------------------------------------------------------------------------


def test_the_current_user_is_created_on_first_use_and_owns_what_they_add(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert users_service.list_users(db) == []
    assert contacts.list_contacts(db, owner="me") == []  # reading creates nobody
    assert users_service.list_users(db) == []
    monkeypatch.setenv("SMALLCRM_USER", "alice")
    contacts.add(db, "Alice's customer")
    monkeypatch.setenv("SMALLCRM_USER", "bob")
    contacts.add(db, "Bob's customer")
    leads.add(db, "Bob's deal")
    assert [u.name for u in users_service.list_users(db)] == ["alice", "bob"]
    assert [c.name for c in contacts.list_contacts(db, owner="me")] == ["Bob's customer"]
    assert [c.name for c in contacts.list_contacts(db, owner="alice")] == ["Alice's customer"]
    assert [lead.title for lead in leads.list_leads(db, owner="me")] == ["Bob's deal"]
    monkeypatch.setenv("SMALLCRM_USER", "alice")
    assert leads.list_leads(db, owner="me") == []
    assert users_service.current(db).name == "alice"
    assert len(users_service.list_users(db)) == 2


def test_reps_see_their_own_records_with_mine_in_the_cli(
    db_target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCRM_DB", db_target)
    for rep, name in (("alice", "Ada Lovelace"), ("bob", "Grace Hopper")):
        monkeypatch.setenv("SMALLCRM_USER", rep)
        code, out, err = run_cli(capsys, "contact", "add", name, "-q")
        assert code == 0, err
    code, out, err = run_cli(capsys, "contact", "list", "--mine", "--format", "csv")
    assert code == 0, err
    assert "Grace Hopper" in out and "Ada Lovelace" not in out
    code, out, err = run_cli(capsys, "contact", "list", "--owner", "alice", "--format", "csv")
    assert "Ada Lovelace" in out and "Grace Hopper" not in out
    code, out, err = run_cli(capsys, "user", "list", "--format", "csv")
    assert code == 0, err
    assert "alice" in out and "bob" in out


# --- db check, db path, db backup ------------------------------------------------------------


def test_db_check_reports_a_healthy_database(
    db_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "--db", db_target, "db", "check")
    assert code == 0, err
    assert "integrity: ok" in out and "foreign keys: ok" in out
    assert f"schema: {HEAD}" in out


@postgres_only
def test_db_check_finds_orphans_and_switched_off_foreign_keys(db: Db) -> None:
    ada = contacts.add(db, "Ada", company="Engines")
    with db.write() as session:
        conn = session.connection()
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(f"UPDATE contact SET company_id = 999 WHERE id = {ada.id}")
        conn.exec_driver_sql("ALTER TABLE lead DISABLE TRIGGER ALL")
    report = database.check(db)
    with db.write() as session:
        session.connection().exec_driver_sql("ALTER TABLE lead ENABLE TRIGGER ALL")
    assert not report.ok
    assert f"contact row {ada.id} refers to a missing company" in report.foreign_keys
    assert any("on lead is disabled" in p for p in report.integrity)


@postgres_only
def test_db_path_shows_the_url_without_its_password(
    db_target: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with_password = db_target.replace("postgres@", "postgres:s3cret@")
    monkeypatch.setenv("SMALLCRM_DB", with_password)
    code, out, err = run_cli(capsys, "db", "path")
    assert code == 0, err
    assert "s3cret" not in out and "postgres:***@127.0.0.1" in out


@postgres_only
def test_db_backup_of_a_team_database_is_a_private_pg_dump(
    db: Db, db_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from smallcrm import transfer

    if transfer.find_pg_dump() is None:
        pytest.skip("pg_dump is not installed")
    contacts.add(db, "Ada Lovelace")
    target = tmp_path / "team.dump"
    code, out, err = run_cli(capsys, "--db", db_target, "db", "backup", str(target))
    assert code == 0, err
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    listing = subprocess.run(
        [str(Path(transfer.find_pg_dump()).with_name("pg_restore")), "--list", str(target)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "TABLE DATA public contact" in listing.stdout
    code, out, err = run_cli(capsys, "--db", db_target, "db", "backup", str(tmp_path))
    assert code == 0, err
    assert len(list(tmp_path.glob("test_*.dump"))) == 1


@postgres_only
def test_pg_dump_gets_the_password_in_its_environment_never_its_arguments(
    db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from smallcrm import transfer

    seen: dict[str, Any] = {}

    def fake_run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        seen["args"], seen["env"] = args, kwargs["env"]
        Path(args[3].removeprefix("--file=")).write_bytes(b"PGDMP")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(transfer, "find_pg_dump", lambda: "/usr/bin/pg_dump")
    monkeypatch.setattr(transfer.subprocess, "run", fake_run)
    secret = Db(
        "postgresql+psycopg://rep:pa'ss word@db.example:5433/crm?sslmode=require", db.engine
    )
    monkeypatch.setattr(secret, "revision", lambda: HEAD)
    made = transfer.dump_server_database(secret, tmp_path / "crm.dump")
    assert made.size == 5
    assert not any("pa'ss" in arg for arg in seen["args"])
    assert seen["env"]["PGPASSWORD"] == "pa'ss word"
    conninfo = seen["args"][-1]
    assert "host='db.example'" in conninfo and "port='5433'" in conninfo
    assert "sslmode='require'" in conninfo and "dbname='crm'" in conninfo


@postgres_only
def test_db_backup_without_pg_dump_says_how(
    db_target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from smallcrm import transfer

    monkeypatch.setattr(transfer, "find_pg_dump", lambda: None)
    code, out, err = run_cli(capsys, "--db", db_target, "db", "backup", str(tmp_path / "x"))
    assert code == 1
    assert err.startswith("error: pg_dump is not installed") and err.count("\n") == 1
    assert "pg_dump --format=custom" in err and "postgresql://postgres@127.0.0.1" in err


# --- Only the store knows the dialect ------------------------------------------------------------

# Modules above the store that still name a dialect, each for a reason the lead has to rule on.
KNOWN_DIALECT_AWARE = {
    "smallcrm/transfer.py",  # URLs and pg_dump: allowed by design
    "smallcrm/backup.py",  # SQLite file backups (PostgreSQL delegates to transfer)
    "smallcrm/privacy.py",  # secure_delete / VACUUM of the SQLite file after an erasure
    "smallcrm/cli/contact.py",  # a WAL message after `contact forget`
}


def test_nothing_above_the_store_names_a_database_dialect() -> None:
    pattern = re.compile(r"sqlite|postgres|psycopg", re.IGNORECASE)
    offenders = set()
    for path in sorted((ROOT / "smallcrm").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("smallcrm/store/"):
            continue
        code = "\n".join(
            line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
        )
        code = re.sub(r'"""(.|\n)*?"""', "", code)  # docstrings may explain
        if pattern.search(code):
            offenders.add(relative)
    assert offenders - KNOWN_DIALECT_AWARE == set()

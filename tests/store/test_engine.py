"""The SQLite engine and opening a database: pragmas, BEGIN IMMEDIATE, private files, refusing
what is not ours (untouched), and many processes writing to one file without losing a row."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import select

from smallcrm import contacts, database
from smallcrm.errors import DatabaseError
from smallcrm.store import Db, engine, open_db, upgrade_db
from smallcrm.store.migrations import HEAD
from smallcrm.store.migrations.runner import upgrade_to
from smallcrm.store.tables import Contact


def pragma(db: Db, name: str) -> object:
    with db.read() as session:
        return session.connection().exec_driver_sql(f"PRAGMA {name}").scalar()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def sidecars(path: Path) -> list[Path]:
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def old_database(path: Path) -> None:
    """A database at the first revision, as the oldest smallcrm left it."""
    engine.prepare_sqlite_file(path)
    eng = engine.make_engine(str(path))
    with eng.begin() as conn:
        upgrade_to(conn, "0001_initial")
    eng.dispose()


# --------------------------------------------------------------------------------------------
# connection settings


def test_every_connection_is_configured(db: Db) -> None:
    assert pragma(db, "journal_mode") == "wal"
    assert pragma(db, "foreign_keys") == 1
    assert pragma(db, "busy_timeout") >= 10_000  # type: ignore[operator]
    assert pragma(db, "synchronous") == 1  # NORMAL
    with db.write() as session:
        conn = session.connection()
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(db: Db) -> None:
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError), db.write() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO contact (name, company_id, consent, do_not_contact, version, "
            "created_at, updated_at) VALUES ('x', 999, 0, 0, 1, '2030-01-01', '2030-01-01')"
        )


def test_a_write_takes_the_write_lock_with_its_first_statement(db: Db, db_path: Path) -> None:
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        with db.write() as session:
            session.exec(select(Contact)).all()  # only a read, yet the lock is taken
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at commit
        other.execute("COMMIT")
    finally:
        other.close()


def test_a_read_takes_no_write_lock(db: Db, db_path: Path) -> None:
    other = sqlite3.connect(db_path, timeout=0, isolation_level=None)
    try:
        with db.read() as session:
            session.exec(select(Contact)).all()
            other.execute("BEGIN IMMEDIATE")
            other.execute("COMMIT")
    finally:
        other.close()


def test_a_failed_write_rolls_back(db: Db) -> None:
    with pytest.raises(RuntimeError), db.write() as session:
        session.add(Contact(name="ghost", created_at=_now(), updated_at=_now()))
        session.flush()
        raise RuntimeError("boom")
    assert contacts.count(db) == 0


def _now():  # type: ignore[no-untyped-def]
    from smallcrm.store.tables import now_utc

    return now_utc()


def test_a_second_writer_waits_for_the_first(db_path: Path) -> None:
    first, second = open_db(str(db_path)), open_db(str(db_path))
    holding, release = threading.Event(), threading.Event()
    events: list[str] = []
    errors: list[BaseException] = []

    def hold() -> None:
        try:
            with first.write() as session:
                session.exec(select(Contact)).all()
                holding.set()
                release.wait(10)
                events.append("first commits")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    def wait_then_write() -> None:
        try:
            with second.write() as session:
                session.exec(select(Contact)).all()  # the first statement takes the lock
                events.append("second writes")
                session.add(Contact(name="after", created_at=_now(), updated_at=_now()))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    waiter = threading.Thread(target=wait_then_write)
    waiter.start()
    time.sleep(0.3)
    assert events == []  # the second writer is still waiting for the lock
    release.set()
    holder.join(20)
    waiter.join(20)
    first.dispose()
    second.dispose()
    assert errors == []
    assert events == ["first commits", "second writes"]


WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from smallcrm import contacts
    from smallcrm.store import open_db

    path, worker, count, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    db = open_db(path)
    Path(f"{go}.ready{worker}").touch()
    while not go.exists():
        time.sleep(0.01)
    for i in range(count):
        # Each add reads (is the email free? who am I?) and then writes.
        contacts.add(db, f"Worker {worker} #{i}", email=f"w{worker}.{i}@example.com")
    db.dispose()
    """
)


@pytest.mark.slow
def test_four_processes_writing_at_once_lose_nothing(db_path: Path, tmp_path: Path) -> None:
    workers, per_worker = 4, 200
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(db_path), str(n), str(per_worker), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(workers)
    ]
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"go.ready{n}").exists() for n in range(workers)):
        assert time.monotonic() < deadline, "workers did not start"
        assert all(p.poll() is None for p in procs), [p.communicate() for p in procs]
        time.sleep(0.02)
    go.touch()
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert err == ""
    db = open_db(str(db_path))
    try:
        assert contacts.count(db) == workers * per_worker
        emails = {c.email for c in contacts.list_contacts(db)}
        assert emails == {
            f"w{w}.{i}@example.com" for w in range(workers) for i in range(per_worker)
        }
        assert contacts.count(db, search="worker") == workers * per_worker
    finally:
        db.dispose()


# --------------------------------------------------------------------------------------------
# files and directories


def test_a_new_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    old_umask = os.umask(0)  # even when the user's umask would allow more
    try:
        db = open_db(str(path))
        contacts.add(db, "Ada")
        for file in (path, *sidecars(path)):
            assert file.exists(), file
            assert mode(file) == 0o600, file
        db.dispose()
    finally:
        os.umask(old_umask)
    assert mode(path) == 0o600


def test_the_default_database_lives_in_a_private_directory(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMALLCRM_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(isolated_env / "xdg"))
    db = database.open_database()
    try:
        path = isolated_env / "xdg" / "smallcrm" / "crm.db"
        assert db.path == path
        assert mode(path.parent) == 0o700
        assert mode(path) == 0o600
        assert db.revision() == HEAD
    finally:
        db.dispose()


def test_a_missing_directory_is_a_database_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "crm.db"
    with pytest.raises(DatabaseError, match="does not exist"):
        open_db(str(path))
    with pytest.raises(DatabaseError, match="does not exist"):
        upgrade_db(str(path))
    assert not (tmp_path / "nowhere").exists()


def test_a_directory_is_not_a_database(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="directory"):
        open_db(str(tmp_path))


def test_an_empty_file_is_a_new_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    db = open_db(str(path))
    try:
        assert db.revision() == HEAD
        assert pragma(db, "journal_mode") == "wal"
    finally:
        db.dispose()


# --------------------------------------------------------------------------------------------
# what is not ours is refused, untouched


def _future(path: Path, journal_mode: str) -> None:
    open_db(str(path)).dispose()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    conn.commit()
    conn.execute(f"PRAGMA journal_mode = {journal_mode}")
    conn.close()


@pytest.mark.parametrize("journal_mode", ["wal", "delete"])
def test_a_newer_schema_is_refused_untouched(tmp_path: Path, journal_mode: str) -> None:
    path = tmp_path / "future.db"
    _future(path, journal_mode)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer smallcrm") as caught:
        open_db(str(path))
    assert "9999_from_the_future" in str(caught.value)
    with pytest.raises(DatabaseError, match="newer smallcrm"):
        open_db(str(path), upgrade=False)
    with pytest.raises(DatabaseError, match="newer smallcrm"):
        upgrade_db(str(path))
    with pytest.raises(DatabaseError, match="newer smallcrm"):
        database.migrate(str(path))
    assert path.read_bytes() == before
    assert not any(file.exists() for file in sidecars(path))


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"Shopping list: eggs, milk, a CRM.\n" * 200)
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not a smallcrm database"):
        open_db(str(path))
    with pytest.raises(DatabaseError):
        upgrade_db(str(path))
    assert path.read_bytes() == before


def test_another_programs_sqlite_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="not a smallcrm database"):
        open_db(str(path))
    assert path.read_bytes() == before


def test_an_old_schema_is_upgraded_in_place_or_refused_without_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old_database(path)
    with pytest.raises(DatabaseError, match="db migrate"):
        open_db(str(path), upgrade=False)
    db = open_db(str(path))
    try:
        assert db.revision() == HEAD
        assert pragma(db, "journal_mode") == "wal"
    finally:
        db.dispose()


def test_a_database_in_rollback_mode_is_switched_to_wal_once_known(tmp_path: Path) -> None:
    path = tmp_path / "restored.db"
    open_db(str(path)).dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = delete")
    conn.close()
    db = open_db(str(path))
    try:
        assert pragma(db, "journal_mode") == "wal"
    finally:
        db.dispose()


# --------------------------------------------------------------------------------------------
# targets, URLs and the database service


def test_urls_and_redaction(tmp_path: Path) -> None:
    assert engine.sqlite_path(str(tmp_path / "a.db")) == tmp_path / "a.db"
    assert engine.sqlite_path(f"sqlite:///{tmp_path}/b.db") == tmp_path / "b.db"
    assert engine.sqlite_path("postgresql+psycopg://u:p@localhost/crm") is None
    shown = engine.redact("postgresql+psycopg://rep:s3cret@db.example.com/crm")
    assert "s3cret" not in shown and "rep" in shown and "db.example.com" in shown
    assert engine.redact("/plain/path.db") == "/plain/path.db"
    assert "s3cret" not in database.location("postgresql://rep:s3cret@db.example.com/crm")
    with pytest.raises(DatabaseError):
        engine.make_engine("nosuchdialect://somewhere/db")


def test_open_database_uses_the_settings(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    target = tmp_path / "chosen.db"
    monkeypatch.setenv("SMALLCRM_DB", str(target))
    db = database.open_database()
    try:
        assert db.path == target and db.display_name() == str(target)
        assert database.location() == str(target)
    finally:
        db.dispose()
    explicit = tmp_path / "explicit.db"
    db = database.open_database(str(explicit))
    db.dispose()
    assert explicit.exists()


def test_migrate_reports_before_and_after(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    assert database.migrate(str(path)) == (None, HEAD)
    assert database.migrate(str(path)) == (HEAD, HEAD)
    old = tmp_path / "old.db"
    old_database(old)
    assert database.migrate(str(old)) == ("0001_initial", HEAD)


def test_check_finds_broken_references(db: Db) -> None:
    report = database.check(db)
    assert report.ok and report.revision == HEAD and report.integrity == []
    with db.write() as session:
        conn = session.connection()
        conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        conn.exec_driver_sql(
            "INSERT INTO contact (name, company_id, consent, do_not_contact, version, "
            "created_at, updated_at) VALUES ('x', 999, 0, 0, 1, '2030-01-01', '2030-01-01')"
        )
        conn.exec_driver_sql("DELETE FROM contact WHERE company_id = 999")
    assert database.check(db).ok
    raw = sqlite3.connect(db.path)  # type: ignore[arg-type]
    raw.execute("PRAGMA foreign_keys = OFF")
    raw.execute(
        "INSERT INTO contact (name, company_id, consent, do_not_contact, version, "
        "created_at, updated_at) VALUES ('x', 999, 0, 0, 1, '2030-01-01', '2030-01-01')"
    )
    raw.commit()
    raw.close()
    report = database.check(db)
    assert not report.ok
    assert any("contact" in problem and "company" in problem for problem in report.foreign_keys)

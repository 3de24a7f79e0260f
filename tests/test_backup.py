"""Backups: consistent private copies even while others write; restores that check the file
first, refuse junk, keep the replaced database and erase forgotten people again; automatic
daily backups that keep the last N."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from smallcrm import backup, contacts, privacy
from smallcrm.errors import DatabaseError, Invalid, NotFound
from smallcrm.store import Db, open_db
from smallcrm.store.migrations import HEAD


@pytest.fixture
def sdb(db_path: Path) -> Db:
    database = open_db(str(db_path))
    yield database  # type: ignore[misc]
    database.dispose()


def pragma(path: Path, name: str) -> Any:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]
    finally:
        conn.close()


def integrity(path: Path) -> str:
    return pragma(path, "integrity_check")


def count(path: Path, table: str = "contact") -> int:
    conn = sqlite3.connect(str(path))
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        conn.close()


def mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


# --- backup ---------------------------------------------------------------------------------


def test_backup_is_a_private_intact_single_file(sdb: Db, tmp_path: Path) -> None:
    contacts.add(sdb, "Ada Lovelace", email="ada@example.com")
    target = tmp_path / "copy.db"
    made = backup.backup(sdb, target)
    assert made.path == str(target) and made.revision == HEAD and made.size > 0
    assert mode(target) == 0o600
    assert integrity(target) == "ok" and count(target) == 1
    assert not target.with_name("copy.db-wal").exists()
    assert not list(tmp_path.glob(".copy.db*"))  # no temporary file left behind


def test_backup_into_a_directory_makes_a_dated_file(sdb: Db, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    made = backup.backup(sdb, folder)
    assert Path(made.path).parent == folder and Path(made.path).name.startswith("crm-")


def test_backup_refuses_to_overwrite_the_database_itself(sdb: Db, db_path: Path) -> None:
    with pytest.raises(Invalid, match="the database itself"):
        backup.backup(sdb, db_path)
    with pytest.raises(Invalid, match="does not exist"):
        backup.backup(sdb, db_path.parent / "missing" / "x.db")


WRITER = textwrap.dedent(
    """
    import sys
    from smallcrm import contacts
    from smallcrm.store import open_db
    db = open_db(sys.argv[1])
    for i in range(int(sys.argv[2])):
        contacts.add(db, f"Writer {i}", email=f"w{i}@example.com", note="x" * 2000)
    print("done")
    """
)


def test_backup_while_another_process_writes_is_consistent(sdb: Db, db_path: Path) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    copies = []
    try:
        while writer.poll() is None or len(copies) < 3:
            target = db_path.parent / f"during-{len(copies)}.db"
            backup.backup(sdb, target)
            copies.append(target)
            if len(copies) > 40:
                break
    finally:
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    counts = []
    for copy in copies:
        assert integrity(copy) == "ok"
        counts.append(count(copy))
        # Every copy is one moment: each contact comes with its search document.
        assert count(copy, "search_index") == counts[-1]
    assert counts == sorted(counts) and counts[-1] <= 300


# --- restore --------------------------------------------------------------------------------


def test_restore_replaces_contents_and_keeps_the_old_database(
    sdb: Db, db_path: Path, tmp_path: Path
) -> None:
    contacts.add(sdb, "Before Backup", email="before@example.com")
    saved = tmp_path / "saved.db"
    backup.backup(sdb, saved)
    contacts.add(sdb, "After Backup", email="after@example.com")

    done = backup.restore(sdb, saved)
    assert done.revision == HEAD and done.erasures_reapplied == 0
    assert [c.name for c in contacts.list_contacts(sdb)] == ["Before Backup"]
    kept = Path(done.kept)
    assert kept.parent == db_path.parent and kept.name.startswith("crm.before-restore-")
    assert mode(kept) == 0o600 and integrity(kept) == "ok" and count(kept) == 2
    assert integrity(db_path) == "ok"
    assert sdb.revision() == HEAD
    contacts.add(sdb, "Life Goes On")  # the database is writable as before


@pytest.mark.parametrize(
    "junk",
    ["text", "empty", "other-sqlite", "newer", "damaged", "missing", "directory"],
)
def test_restore_refuses_junk_and_leaves_the_database_alone(
    sdb: Db, db_path: Path, tmp_path: Path, junk: str
) -> None:
    contacts.add(sdb, "Still Here")
    source = make_junk(tmp_path, junk, sdb)
    with pytest.raises(DatabaseError) as refused:
        backup.restore(sdb, source)
    message = str(refused.value)
    assert "\n" not in message and str(source) in message
    expected = {
        "text": "not a smallcrm database",
        "empty": "not a smallcrm database",
        "other-sqlite": "not a smallcrm database",
        "newer": "newer smallcrm",
        "damaged": "damaged",
        "missing": "does not exist",
        "directory": "is a directory",
    }[junk]
    assert expected in message
    assert [c.name for c in contacts.list_contacts(sdb)] == ["Still Here"]
    assert not list(db_path.parent.glob("crm.before-restore-*"))
    assert not list(db_path.parent.glob(".smallcrm-restore-*"))


def make_junk(tmp_path: Path, kind: str, db: Db) -> Path:
    path = tmp_path / f"{kind}.db"
    if kind == "text":
        path.write_text("name,email\nnot,a database\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "other-sqlite":
        conn = sqlite3.connect(str(path))
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
        conn.close()
    elif kind == "newer":
        backup.backup(db, path)
        conn = sqlite3.connect(str(path))
        conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
        conn.commit()
        conn.close()
    elif kind == "damaged":
        backup.backup(db, path)
        data = bytearray(path.read_bytes())
        page = 4096
        for offset in range(page * 2, len(data) - page, page):  # scribble over b-tree pages
            data[offset : offset + 64] = b"\xa5" * 64
        path.write_bytes(bytes(data))
    elif kind == "directory":
        path.mkdir()
    return path


def test_restore_upgrades_an_older_schema(sdb: Db, tmp_path: Path) -> None:
    from smallcrm.store import Db as StoreDb
    from smallcrm.store.engine import make_engine, prepare_sqlite_file
    from smallcrm.store.migrations.runner import upgrade_to

    old = tmp_path / "old.db"  # a database an earlier smallcrm made (schema 0002)
    prepare_sqlite_file(old)
    engine = make_engine(str(old))
    with engine.begin() as conn:
        upgrade_to(conn, "0002_search_index")
        conn.exec_driver_sql(
            "INSERT INTO contact (name, consent, do_not_contact, version, created_at, "
            "updated_at) VALUES ('From 0002', 0, 0, 1, '2025-01-01', '2025-01-01')"
        )
    engine.dispose()
    assert StoreDb(str(old), make_engine(str(old))).revision() == "0002_search_index"
    done = backup.restore(sdb, old)
    assert done.revision == "0002_search_index"
    assert sdb.revision() == HEAD
    assert [c.name for c in contacts.list_contacts(sdb)] == ["From 0002"]


@pytest.mark.parametrize("page_size", [4096, 65536])
def test_restore_takes_a_backup_whose_pages_are_another_size(
    sdb: Db, db_path: Path, tmp_path: Path, page_size: int
) -> None:
    contacts.add(sdb, "In The Backup", email="kept@example.com")
    saved = tmp_path / "saved.db"
    backup.backup(sdb, saved)
    with sqlite3.connect(saved, isolation_level=None) as conn:  # as an earlier smallcrm made
        conn.execute(f"PRAGMA page_size = {page_size}")
        conn.execute("VACUUM")
        assert conn.execute("PRAGMA page_size").fetchone() == (page_size,)
    contacts.add(sdb, "After Backup")
    live_size = pragma(db_path, "page_size")

    backup.restore(sdb, saved)
    assert [c.name for c in contacts.list_contacts(sdb)] == ["In The Backup"]
    assert pragma(db_path, "page_size") == live_size and integrity(db_path) == "ok"
    contacts.add(sdb, "Life Goes On")


def test_restore_erases_people_forgotten_since_the_backup(sdb: Db, tmp_path: Path) -> None:
    contacts.add(sdb, "Zenobia Quarrington", email="zq@private.example")
    contacts.add(sdb, "Bystander")
    saved = tmp_path / "saved.db"
    backup.backup(sdb, saved)
    privacy.forget(sdb, "zq@private.example")

    done = backup.restore(sdb, saved)
    assert done.erasures_reapplied == 1
    assert [c.name for c in contacts.list_contacts(sdb)] == ["Bystander"]
    with pytest.raises(NotFound):
        contacts.get(sdb, "zq@private.example")
    assert len(privacy.tombstones(sdb)) == 1  # a later restore erases her again too
    assert b"zq@private" not in Path(sdb.path).read_bytes()  # type: ignore[arg-type]


def test_restore_over_a_database_too_damaged_to_open(
    db_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_db(str(db_path))
    contacts.add(db, "Saved Contact")
    saved = tmp_path / "saved.db"
    backup.backup(db, saved)
    db.dispose()
    db_path.write_bytes(b"this is not a database any more" * 100)
    monkeypatch.setenv("SMALLCRM_DB", str(db_path))
    done = backup.restore(None, saved)
    assert Path(done.kept).read_bytes().startswith(b"this is not")
    reopened = open_db(str(db_path))
    try:
        assert [c.name for c in contacts.list_contacts(reopened)] == ["Saved Contact"]
    finally:
        reopened.dispose()


# --- automatic daily backups ----------------------------------------------------------------


def test_no_automatic_backup_unless_configured(sdb: Db) -> None:
    assert backup.daily_if_due(sdb) is None
    assert not backup.backups_dir().exists()


def test_daily_backup_once_a_day_keeping_the_last_n(
    sdb: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCRM_BACKUP_KEEP", "2")
    first = backup.daily_if_due(sdb)
    assert first is not None and first.exists() and mode(first) == 0o600
    assert mode(first.parent) == 0o700
    assert backup.daily_if_due(sdb) is None  # already done today
    # Older days' backups, as earlier runs would have left them.
    prefix = first.name[: -len("YYYY-MM-DD.db")]
    for days in (3, 2, 1):
        day = date.today() - timedelta(days=days)
        (first.parent / f"{prefix}{day.isoformat()}.db").write_bytes(first.read_bytes())
    first.unlink()
    made = backup.daily_if_due(sdb)
    assert made == first
    kept = backup.automatic_backups(sdb)
    assert [p.name for p in kept] == [
        f"{prefix}{(date.today() - timedelta(days=1)).isoformat()}.db",
        first.name,
    ]


def test_a_failing_daily_backup_warns_and_goes_on(
    sdb: Db, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMALLCRM_BACKUP_KEEP", "3")
    backup.backups_dir().parent.mkdir(parents=True, exist_ok=True)
    backup.backups_dir().write_text("a file where the directory should be")
    assert backup.daily_if_due(sdb) is None
    assert capsys.readouterr().err.startswith("warning: automatic backup failed")
    monkeypatch.setenv("SMALLCRM_BACKUP_KEEP", "many")
    assert backup.daily_if_due(sdb) is None


# --- the commands ---------------------------------------------------------------------------


def smallcrm(db_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMALLCRM_DB": str(db_path)}
    return subprocess.run(
        [sys.executable, "-m", "smallcrm", *args],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_backup_and_restore_commands(db_path: Path, tmp_path: Path) -> None:
    assert smallcrm(db_path, "contact", "add", "Ada Lovelace").returncode == 0
    saved = tmp_path / "saved.db"
    made = smallcrm(db_path, "db", "backup", str(saved))
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"Backed up to {saved}")
    assert smallcrm(db_path, "contact", "add", "Later Contact").returncode == 0

    junk = tmp_path / "junk.db"
    junk.write_text("junk")
    refused = smallcrm(db_path, "db", "restore", str(junk), "--yes")
    assert refused.returncode == 1
    assert refused.stderr == f"error: {junk} is not a smallcrm database (not an SQLite file)\n"

    unconfirmed = smallcrm(db_path, "db", "restore", str(saved))
    assert unconfirmed.returncode == 1
    assert "pass --yes" in unconfirmed.stderr

    restored = smallcrm(db_path, "db", "restore", str(saved), "--yes")
    assert restored.returncode == 0, restored.stderr
    assert "kept as" in restored.stdout
    listed = smallcrm(db_path, "contact", "list", "--json")
    assert [c["name"] for c in __import__("json").loads(listed.stdout)] == ["Ada Lovelace"]
    checked = smallcrm(db_path, "db", "check")
    assert checked.returncode == 0 and "integrity: ok" in checked.stdout


def test_the_cli_makes_the_daily_backup_on_first_open(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMALLCRM_BACKUP_KEEP", "1")
    assert smallcrm(db_path, "contact", "list").returncode == 0
    made = list(backup.backups_dir().glob("crm-*.db"))
    assert len(made) == 1 and integrity(made[0]) == "ok"

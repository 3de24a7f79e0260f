"""The SQLite fast path of `export contacts --format csv` (smallcrm.exporting.fast with
smallcrm.store.fastread) writes exactly what the general path (smallcrm.exporting.write_csv,
through the store) writes, for every filter it serves; it steps aside whenever it cannot do
the same (other filters, another schema, a daily backup due); and the command it serves never
loads the database stack."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from smallcrm import backup, contacts, exporting, importing, users
from smallcrm.exporting import fast as fast_path
from smallcrm.store import Db

SCRIPT = Path(sys.executable).parent / "smallcrm"
FIXTURES = Path(__file__).parent / "fixtures" / "import"

pytestmark = pytest.mark.backends("sqlite")


def fill(db: Db) -> None:
    """Tags (added in an order unlike their names'), phones, extra columns, companies, owners,
    do-not-contact people, stages, formula-like text and notes with commas and newlines."""
    users.add(db, "Ada", email="ada@example.com")
    users.add(db, "Bob", email="Bob@Example.com")
    importing.import_file(db, "contacts", FIXTURES / "unknown_columns.csv")
    contacts.add(
        db, "Grace Hopper", email="grace@example.com", phone="+1 202 555 0173",
        company="US Navy", title="Rear Admiral", stage="client", tags_=["zeta", "navy", "b"],
        note='Line one, with a comma\nline two "quoted" — naïve café 日本', consent=True,
        owner="ada",
    )  # fmt: skip
    contacts.add(db, '=HYPERLINK("http://evil")', email="eve@example.com", note="@SUM(A1)")
    contacts.add(
        db, "-minus", phone="+44 20 7946 0958", title="+plus", tags_=["-x", "navy"], owner="bob"
    )
    contacts.add(
        db, "Quiet Person", email="quiet@example.com", do_not_contact=True, tags_=["navy"],
        stage="prospect", company="US Navy", extra={"Source": "=cmd", "Score": 3},
    )  # fmt: skip
    contacts.add(db, "'quoted", company="'=Odd Co", stage="prospect", owner="me", tags_=["'t"])


def general(db: Db, **options: Any) -> str:
    out = io.StringIO(newline="")
    exporting.write_csv(db, "contacts", out, **options)
    return out.getvalue()


def fast(db_path: Path, **options: Any) -> str | None:
    raw = options.pop("raw", False)
    include = options.pop("include_do_not_contact", False)
    limit = options.pop("limit", None)
    export = fast_path.prepare(str(db_path), options, include_do_not_contact=include, limit=limit)
    if export is None:
        return None
    out = io.StringIO(newline="")
    try:
        export.write(out, raw=raw)
    finally:
        export.close()
    return out.getvalue()


CASES: list[dict[str, Any]] = [
    {},
    {"raw": True},
    {"include_do_not_contact": True},
    {"include_do_not_contact": True, "raw": True},
    {"limit": 2},
    {"limit": 0},
    {"tag": "navy"},
    {"tag": " NAVY ", "include_do_not_contact": True},
    {"tag": "nothing-has-this"},
    {"stage": "prospect"},
    {"stage": "First_Time Customer"},
    {"stage": "  "},
    {"owner": "me"},
    {"owner": "ada"},
    {"owner": "BOB@example.com"},
    {"owner": "1"},
    {"owner": "nobody"},
    {"owner": "ada", "tag": "navy", "stage": "client", "limit": 5},
]


@pytest.mark.parametrize("case", CASES, ids=[repr(c) for c in CASES])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin"])
def test_the_fast_path_writes_what_the_general_path_writes(
    db: Db, db_path: Path, case: dict[str, Any], zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", zone)
    fill(db)
    expected = general(db, **case)
    assert fast(db_path, **case) == expected
    assert expected.count("\n") >= 1


def test_the_fast_path_refuses_a_bad_stage_as_the_general_path_does(db: Db, db_path: Path) -> None:
    from smallcrm.errors import Invalid

    with pytest.raises(Invalid) as general_error:
        general(db, stage="nonsense")
    with pytest.raises(Invalid) as fast_error:
        fast(db_path, stage="nonsense")
    assert str(fast_error.value) == str(general_error.value)


@pytest.mark.parametrize(
    "filters", [{"search": "grace"}, {"company": "US Navy"}], ids=["search", "company"]
)
def test_filters_it_does_not_resolve_take_the_general_path(
    db: Db, db_path: Path, filters: dict[str, Any]
) -> None:
    fill(db)
    assert fast(db_path, **filters) is None


def test_other_databases_take_the_general_path(db: Db, db_path: Path, tmp_path: Path) -> None:
    fill(db)
    db.dispose()
    assert fast(tmp_path / "missing.db") is None
    assert fast_path.prepare("postgresql+psycopg://u@localhost/crm", {}) is None
    junk = tmp_path / "junk.db"
    junk.write_text("not a database")
    assert fast(junk) is None
    with sqlite3.connect(db_path) as conn:  # an older schema: the store upgrades it first
        conn.execute("UPDATE alembic_version SET version_num = '0002_search_index'")
    conn.close()
    assert fast(db_path) is None


def test_a_due_daily_backup_takes_the_general_path(
    db: Db, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(db)
    assert fast(db_path) is not None  # no backups configured
    monkeypatch.setenv("SMALLCRM_BACKUP_KEEP", "3")
    assert backup.due(db_path)
    assert fast(db_path) is None
    made = backup.daily_if_due(db)  # what the general path's first open of the day does
    assert made is not None and made.exists()
    assert not backup.due(db_path)
    assert fast(db_path) == general(db)
    monkeypatch.setenv("SMALLCRM_BACKUP_KEEP", "many")
    assert backup.due(db_path)  # in doubt: the general path reports it


STACK = ("sqlalchemy", "sqlmodel", "alembic")


def test_export_contacts_on_sqlite_loads_no_database_stack(
    db: Db, db_path: Path, tmp_path: Path, cli_probe: Any
) -> None:
    def _probe(*args: str) -> tuple[list[str], str, str]:
        _code, loaded, _commands, stdout, stderr = cli_probe(
            "--db", str(db_path), "export", "contacts", *args, heavy=STACK
        )
        return loaded, stdout, stderr

    fill(db)
    expected = general(db, tag="navy")
    db.dispose()
    loaded, stdout, _ = _probe("--tag", "navy")
    assert loaded == []
    assert stdout.replace("\r\n", "\n") == expected.replace("\r\n", "\n")
    out = tmp_path / "out.csv"
    loaded, _, stderr = _probe("-o", str(out))
    assert loaded == []
    exported = len(list(csv.reader(io.StringIO(general(db), newline="")))) - 1
    assert f"exported {exported} contacts to" in stderr
    assert out.stat().st_mode & 0o777 == 0o600
    loaded, _, _ = _probe("--search", "grace")  # the general path
    assert "sqlalchemy" in loaded


def test_export_contacts_makes_the_daily_backup_when_it_is_due(
    db: Db, db_path: Path, isolated_env: Path, cli_probe: Any, child_env: Any
) -> None:
    fill(db)
    db.dispose()
    backups = isolated_env / "data" / "backups"
    args = ("--db", str(db_path), "export", "contacts", "-o", os.devnull)
    env = child_env(SMALLCRM_BACKUP_KEEP="2")
    loaded = cli_probe(*args, heavy=STACK, env=env)[1]
    assert "sqlalchemy" in loaded  # the store opened the database: the backup is made
    assert len(list(backups.glob("*.db"))) == 1
    loaded = cli_probe(*args, heavy=STACK, env=env)[1]
    assert loaded == []  # today's backup exists: nothing for the store to do

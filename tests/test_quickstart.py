"""The first board read with the standard library (smallcrm.quickstart) is exactly the board
the store gives (leads.board and the board screen's pipeline choice), it steps aside where it
cannot be, it loads no database stack, and LaterDb hands over the database it opens."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from smallcrm import contacts, leads, pipeline, quickstart, records, users
from smallcrm.errors import DatabaseError
from smallcrm.store import Db, open_db
from smallcrm.store.tables import Lead as LeadRow

pytestmark = pytest.mark.backends("sqlite")


def store_board(db: Db, per_stage: int) -> records.Board:
    """What the board screen loads through the store when nothing is chosen or filtered."""
    columns = leads.board(db, pipeline_name=None, per_stage=per_stage)
    empty = not any(c.count for c in columns) and contacts.count(db) == 0
    return records.Board(pipeline.default_name(db), pipeline.list_pipelines(db), columns, empty)


def entered(db: Db, title: str, days_ago: float) -> None:
    when = datetime.now(UTC) - timedelta(days=days_ago)
    with db.write() as session:
        session.exec(update(LeadRow).where(LeadRow.title == title).values(stage_entered_at=when))


def fill(db: Db) -> None:
    """Leads in several stages and currencies, tagged (not in name order), owned and not, with
    and without a probability, stale, past their close date, won and lost ones, extra fields."""
    users.add(db, "Ada", email="ada@example.com")
    contacts.add(db, "Grace Hopper", company="US Navy")
    leads.add(db, "Navy deal", contact="Grace Hopper", value="5000.50", tags_=["zeta", "big"])
    leads.add(db, "Yen deal", company="US Navy", value="700", currency="JPY", owner="ada")
    leads.add(db, "Sure thing", stage="Proposal", probability=90, close=date(2020, 1, 1))
    leads.add(db, "Fresh", stage="Proposal", extra={"Source": "fair", "Score": 3})
    leads.add(db, "Closed well", stage="Proposal", value="10")
    leads.won(db, "Closed well")
    leads.add(db, "Closed badly", value="20")
    leads.lost(db, "Closed badly", "price")
    for number in range(6):
        leads.add(db, f"Bulk {number}", stage="Qualified", value=str(number))
    entered(db, "Navy deal", 400)  # stale
    entered(db, "Bulk 3", 30)
    entered(db, "Bulk 5", 1.5)
    qualified = next(s for s in pipeline.list_stages(db) if s.name == "Qualified")
    entered(db, "Bulk 4", qualified.stale_days + 0.05)  # stale from today on
    entered(db, "Bulk 2", qualified.stale_days - 0.05)  # not yet


@pytest.mark.parametrize("per_stage", [40, 2])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "America/Adak"])
def test_the_first_board_is_the_stores_board(
    db: Db, db_path: Path, per_stage: int, zone: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", zone)  # "past its close date" depends on the local day
    fill(db)
    quick = quickstart.first_board(db_path, per_stage)
    assert quick == store_board(db, per_stage)
    proposal = next(c for c in quick.columns if c.stage.name == "Proposal")
    assert [lead.title for lead in proposal.leads][: min(per_stage, 2)] == [
        "Sure thing", "Fresh",
    ][: min(per_stage, 2)]  # fmt: skip
    assert proposal.count == 2  # the won lead is not on the board
    navy = next(lead for c in quick.columns for lead in c.leads if lead.title == "Navy deal")
    assert navy.stale and navy.tags == ["big", "zeta"] and navy.value == 5000.5
    bulk = {lead.title: lead.stale for c in quick.columns for lead in c.leads}
    assert bulk.get("Bulk 4", True) and not bulk.get("Bulk 2", False)


def test_an_empty_database_says_so_as_the_store_does(db: Db, db_path: Path) -> None:
    quick = quickstart.first_board(db_path, 40)
    assert quick == store_board(db, 40)
    assert quick is not None and quick.empty_database
    contacts.add(db, "Someone")
    after = quickstart.first_board(db_path, 40)
    assert after is not None and not after.empty_database


def test_it_steps_aside_where_the_store_must_answer(db: Db, tmp_path: Path) -> None:
    assert quickstart.first_board(None, 40) is None
    assert quickstart.first_board(tmp_path / "missing.db", 40) is None
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    assert quickstart.first_board(junk, 40) is None and quickstart.readable_file(str(junk)) is None
    older = tmp_path / "older.db"
    shutil.copyfile(db.path, older)  # type: ignore[arg-type]
    with sqlite3.connect(older) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0002_search_index'")
    assert quickstart.first_board(older, 40) is None
    assert quickstart.readable_file(str(older)) is None
    assert quickstart.readable_file(str(db.path)) == db.path
    assert quickstart.readable_file(str(tmp_path / "missing.db")) is None
    assert quickstart.readable_file("postgresql://x@localhost/crm") is None


def test_a_later_db_opens_on_first_use_and_once(db_path: Path) -> None:
    opened: list[Db] = []
    lock = threading.Lock()

    def open_it() -> Db:
        with lock:
            opened.append(open_db(str(db_path)))
        return opened[-1]

    later = quickstart.LaterDb(open_it)
    assert opened == []
    later.start()
    later.start()
    assert later.get() is opened[0] and len(opened) == 1
    assert contacts.count(later) == 0  # the services take it for a Db
    later.dispose()


def test_a_later_db_hands_its_error_to_every_use() -> None:
    def refuse() -> Db:
        raise DatabaseError("database x was written by a newer smallcrm")

    later = quickstart.LaterDb(refuse)
    later.finish()  # not started: nothing to wait for, nothing to report
    for _ in range(2):
        with pytest.raises(DatabaseError, match="newer smallcrm"):
            contacts.count(later)  # type: ignore[arg-type]
    with pytest.raises(DatabaseError, match="newer smallcrm"):
        later.finish()


def test_the_first_board_and_the_app_load_no_database_stack(db: Db, db_path: Path) -> None:
    fill(db)
    probe = f"""
import sys
from pathlib import Path
import smallcrm.tui.app
from smallcrm import quickstart
board = quickstart.first_board(Path({str(db_path)!r}), 40)
assert board is not None and any(c.leads for c in board.columns)
print(sorted(m for m in ("sqlalchemy", "sqlmodel", "alembic") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"

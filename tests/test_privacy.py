"""Privacy: `contact forget` leaves no trace of a person — in any table, in search, in the
history, in the database file's free pages or its WAL; `export-data` gives everything stored
about them; do-not-contact keeps them out of campaign exports and reminders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from smallcrm import (
    activities,
    contacts,
    exporting,
    followups,
    history,
    leads,
    privacy,
    reminders,
    search,
)
from smallcrm.errors import NotFound
from smallcrm.store import Db, open_db
from smallcrm.store.tables import now_utc

NAME = "Zenobia Quarrington"
EMAIL = "zenobia.q@private.example"
PHONE = "+44 20 7946 0123"
SECRETS = ("zenobia", "quarrington", "private.example", "7946 0123", "+442079460123")


def a_person_with_a_past(db: Db) -> int:
    """Zenobia, with every kind of record about her, edited a few times."""
    person = contacts.add(
        db, NAME, email=EMAIL, phone=PHONE, company="Harbor Labs", tags_=["vip"],
        note=f"{NAME} prefers mornings", extra={"Twitter": "@zenobiaq"},
    )  # fmt: skip
    contacts.edit(db, EMAIL, title="Chief Zenobia Officer", note="rewritten note about Zenobia")
    contacts.edit(db, EMAIL, name=NAME + " Jr")
    contacts.edit(db, EMAIL, name=NAME)
    activities.log(db, "call", EMAIL, f"Call with {NAME}", body=f"{NAME} said {EMAIL} is best")
    activities.log(db, "note", EMAIL, "Zenobia's budget", body="quarrington budget details " * 50)
    followups.add(db, EMAIL, f"Send {NAME} the proposal", due="tomorrow")
    lead = leads.add(db, "Harbor licence", contact=EMAIL, value="5000")
    leads.move(db, str(lead.id), "Qualified")
    # Someone who must survive untouched.
    contacts.add(db, "Bystander Person", email="bystander@example.com", company="Harbor Labs")
    activities.log(db, "call", "bystander@example.com", "Bystander call")
    return person.id


def all_text(db: Db) -> str:
    """Every value of every table, as text (the search index included)."""
    from sqlalchemy import inspect

    parts: list[str] = []
    with db.read() as session:
        conn = session.connection()
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts).casefold()


def test_forget_leaves_no_trace_in_any_table_or_in_search(db: Db) -> None:
    person = a_person_with_a_past(db)
    assert "zenobia" in all_text(db)
    done = privacy.forget(db, EMAIL)
    assert (done.contact_id, done.activities, done.followups) == (person, 2, 1)
    assert (done.leads_unlinked, done.tags) == (1, 1)
    assert done.history_entries > 5

    dump = all_text(db)
    for secret in SECRETS:
        assert secret.casefold() not in dump, secret
    for word in ("zenobia", "quarrington", "zenobia.q", "prefers"):
        assert search.search(db, word) == []
    with pytest.raises(NotFound):
        contacts.get(db, EMAIL)
    # Everyone and everything else stays.
    assert contacts.get(db, "bystander@example.com").company == "Harbor Labs"
    assert [a.summary for a in activities.list_activities(db)] == ["Bystander call"]
    assert leads.get(db, "Harbor licence").contact_id is None
    assert {h.kind for h in search.search(db, "bystander")} == {"contact", "activity"}
    # The history says an erasure happened, and nothing about whom.
    entries = history.list_history(db)
    assert entries[0].summary == f"erased contact {person} and everything about them"


def test_forget_leaves_no_bytes_in_the_file_or_the_wal(db_path: Path) -> None:
    db = open_db(str(db_path))
    try:
        a_person_with_a_past(db)
        raw = db_path.read_bytes() + _wal(db_path)
        assert b"Zenobia" in raw  # the test can see her before
        done = privacy.forget(db, EMAIL)
        assert done.wal_cleared
        raw = (db_path.read_bytes() + _wal(db_path)).lower()
        for secret in SECRETS:
            assert secret.lower().encode() not in raw, secret
            assert secret.lower().encode("utf-16-le") not in raw, secret
        assert b"bystander" in raw
    finally:
        db.dispose()
    assert _wal(db_path) == b""
    assert db.revision() is not None


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_the_tombstone_holds_no_personal_data(db: Db) -> None:
    a_person_with_a_past(db)
    privacy.forget(db, EMAIL)
    stones = privacy.tombstones(db)
    assert len(stones) == 1
    blob = json.dumps(stones, default=str).casefold()
    for secret in SECRETS:
        assert secret.casefold() not in blob
    assert stones[0]["email_hash"] and stones[0]["record_hash"]


def test_erasures_are_applied_again_to_older_data(db: Db) -> None:
    """What a restore does: the tombstones find the person again, by email or by record."""
    person = contacts.add(db, NAME, email=EMAIL)
    stones_before = privacy.tombstones(db)
    assert stones_before == []
    privacy.forget(db, EMAIL)
    stones = privacy.tombstones(db)
    # The person comes back (as from an old backup) under the same email.
    contacts.add(db, NAME, email=EMAIL.upper())
    assert privacy.reapply_erasures(db) == 1
    with pytest.raises(NotFound):
        contacts.get(db, EMAIL)
    # A tombstone from another database (the one being replaced) is merged and applied too.
    assert person
    contacts.add(db, "Other Name", email=EMAIL)
    assert privacy.reapply_erasures(db, stones) == 1
    assert len(privacy.tombstones(db)) == 1


def test_export_data_gives_everything_stored_about_a_person(db: Db) -> None:
    person = a_person_with_a_past(db)
    data = privacy.export_data(db, EMAIL)
    json.dumps(data)  # JSON-ready
    assert data["contact"]["id"] == person and data["contact"]["email"] == EMAIL
    assert data["contact"]["extra"] == {"Twitter": "@zenobiaq"}
    assert {a["summary"] for a in data["activities"]} == {f"Call with {NAME}", "Zenobia's budget"}
    assert [f["title"] for f in data["followups"]] == [f"Send {NAME} the proposal"]
    assert [lead["title"] for lead in data["leads"]] == ["Harbor licence"]
    assert any(e["field"] == "title" for e in data["history"])
    assert "Bystander" not in json.dumps(data)


def test_do_not_contact_is_left_out_of_campaign_exports(db: Db) -> None:
    contacts.add(db, "Reachable", email="ok@example.com")
    contacts.add(db, NAME, email=EMAIL)
    contacts.edit(db, EMAIL, do_not_contact=True)
    assert [c.name for c in exporting.records(db, "contacts")] == ["Reachable"]
    everyone = exporting.records(db, "contacts", include_do_not_contact=True)
    assert {c.name for c in everyone} == {"Reachable", NAME}


def test_do_not_contact_is_never_sent_anything_and_reps_are_told(db_path: Path) -> None:
    """Reminders go to reps, never to contacts; one about a do-not-contact person says so."""
    db = open_db(str(db_path))
    contacts.add(db, "Reachable", email="ok@example.com")
    contacts.add(db, NAME, email=EMAIL)
    past = now_utc() - timedelta(hours=1)
    followups.add(db, "ok@example.com", "Call Reachable", due=past)
    followups.add(db, EMAIL, "Call Zenobia", due=past)
    contacts.edit(db, EMAIL, do_not_contact=True)
    db.dispose()
    sent = smallcrm(db_path, "remind", "--via", "stdout")
    assert sent.returncode == 0, sent.stderr
    lines = sent.stdout.splitlines()
    zenobia = next(line for line in lines if "Call Zenobia" in line)
    assert reminders.DO_NOT_CONTACT_NOTE in zenobia
    assert EMAIL not in sent.stdout  # the reminder is for the rep, not an address to write to
    reachable = next(line for line in lines if "Call Reachable" in line)
    assert reminders.DO_NOT_CONTACT_NOTE not in reachable


# --- the commands ---------------------------------------------------------------------------


def smallcrm(db_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SMALLCRM_DB": str(db_path)}
    return subprocess.run(
        [sys.executable, "-m", "smallcrm", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_forget_command_asks_then_says_what_it_removed(db_path: Path, tmp_path: Path) -> None:
    db = open_db(str(db_path))
    a_person_with_a_past(db)
    db.dispose()

    refused = smallcrm(db_path, "contact", "forget", EMAIL)
    assert refused.returncode == 1
    assert refused.stderr.startswith("error: refusing to erase without confirmation")
    assert "Traceback" not in refused.stderr

    out = tmp_path / "zenobia.json"
    exported = smallcrm(db_path, "contact", "export-data", EMAIL, "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["contact"]["name"] == NAME

    done = smallcrm(db_path, "contact", "forget", EMAIL, "--yes")
    assert done.returncode == 0, done.stderr
    assert "Erased contact 1: 2 activities, 1 follow-up" in done.stdout
    gone = smallcrm(db_path, "contact", "show", EMAIL)
    assert gone.returncode == 1 and gone.stderr.startswith("error: no contact")
    flagged = smallcrm(db_path, "contact", "edit", "bystander@example.com", "--do-not-contact")
    assert flagged.returncode == 0, flagged.stderr
    shown = smallcrm(db_path, "contact", "show", "bystander@example.com", "--json")
    assert json.loads(shown.stdout)["do_not_contact"] is True

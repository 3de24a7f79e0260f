"""History and undo: every change is recorded (who, when, record, field, old → new), and
`undo` reverts my last changeset whatever kind it was — or refuses, changing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from smallcrm import (
    activities,
    companies,
    contacts,
    followups,
    history,
    importing,
    leads,
    search,
    timeline,
)
from smallcrm.errors import Conflict, Invalid, NotFound
from smallcrm.store import Db


def as_user(monkeypatch: pytest.MonkeyPatch, login: str) -> None:
    monkeypatch.setenv("SMALLCRM_USER", login)


def summaries(db: Db, ref: str | None = None) -> list[str]:
    return [e.summary for e in history.list_history(db, ref)]


# --- recording ------------------------------------------------------------------------------


def test_an_edit_is_recorded_with_who_when_field_old_and_new(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.edit(db, str(ada.id), title="Countess", phone="+44 20 7946 0000")
    entries = [e for e in history.list_history(db, f"contact:{ada.id}") if e.op == "update"]
    assert {(e.field, e.old, e.new) for e in entries} == {
        ("title", None, "Countess"),
        ("phone", None, "+442079460000"),
    }
    assert {e.user for e in entries} == {"tester"}
    assert entries[0].at.tzinfo is not None
    assert entries[0].changeset_id == entries[1].changeset_id  # one transaction, one changeset
    assert entries[0].kind == "contact" and entries[0].record_id == ada.id


def test_create_and_delete_keep_whole_rows(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.delete(db, str(ada.id))
    created, deleted = (
        next(e for e in history.list_history(db, f"contact:{ada.id}") if e.op == op)
        for op in ("insert", "delete")
    )
    assert created.new["email"] == "ada@example.com" and created.summary.startswith("created")
    assert deleted.old["name"] == "Ada Lovelace" and deleted.summary.startswith("deleted")


def test_history_of_a_customer_includes_its_activities_and_leads(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.add(db, "Someone Else")
    activities.log(db, "call", "ada@example.com", "Pricing call")
    lead = leads.add(db, "Licence", contact="ada@example.com")
    leads.move(db, str(lead.id), "Qualified")
    lines = summaries(db, "ada@example.com")
    assert any("created activity" in s and "Pricing call" in s for s in lines)
    assert any("stage_id: New" in s and "Qualified" in s for s in lines)
    assert not any("Someone Else" in s for s in lines)
    assert summaries(db, f"contact:{ada.id}") == lines
    with pytest.raises(NotFound):
        history.list_history(db, "nobody@example.com")


def test_history_lists_newest_first_and_limits(db: Db) -> None:
    for name in ("One", "Two", "Three"):
        contacts.add(db, name)
    entries = history.list_history(db, limit=2)
    assert [e.summary for e in entries] == ["created contact 3: Three", "created contact 2: Two"]
    assert history.list_history(db, limit=0) == []


def test_the_timeline_shows_edits(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.edit(db, "ada@example.com", title="Countess")
    edits = [e for e in timeline.timeline(db, "ada@example.com") if e.type == "edit"]
    assert len(edits) == 1
    assert edits[0].summary == "title: – → Countess" and edits[0].user == "tester"


def test_other_users_changes_are_theirs(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    as_user(monkeypatch, "bob")
    contacts.edit(db, "ada@example.com", title="Countess")
    users = {e.user for e in history.list_history(db)}
    assert users == {"tester", "bob"}
    assert [e.user for e in history.list_history(db, user="bob")] == ["bob"]


# --- undo of each kind of change ------------------------------------------------------------


def test_undo_an_edit(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com", title="Miss")
    contacts.edit(db, "ada@example.com", title="Countess", tags=["vip"])
    done = history.undo(db)
    assert any("title" in line for line in done.changes)
    ada = contacts.get(db, "ada@example.com")
    assert ada.title == "Miss" and ada.tags == []
    assert ada.version == 3  # undo is a change too: optimistic locking still sees it
    assert any(e.undone for e in history.list_history(db))


def test_undo_a_stage_move(db: Db) -> None:
    lead = leads.add(db, "Licence")
    leads.move(db, str(lead.id), "Proposal")
    history.undo(db)
    back = leads.get(db, str(lead.id))
    assert back.stage == "New" and back.stage_entered_at == lead.stage_entered_at
    assert [change.event for change in leads.history(db, str(lead.id))] == ["created"]


def test_undo_won_and_lost(db: Db) -> None:
    lead = leads.add(db, "Licence")
    leads.lost(db, str(lead.id), "too expensive")
    history.undo(db)
    back = leads.get(db, str(lead.id))
    assert (back.status, back.lost_reason, back.closed_at) == ("open", None, None)


def test_undo_a_delete_brings_back_what_the_database_took_along(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com", tags_=["vip"])
    call = activities.log(db, "call", "ada@example.com", "Pricing call", body="notes")
    task = followups.add(db, "ada@example.com", "Send proposal", due="tomorrow")
    lead = leads.add(db, "Licence", contact="ada@example.com")
    contacts.delete(db, "ada@example.com")
    assert leads.get(db, str(lead.id)).contact_id is None

    done = history.undo(db)
    assert any("deleted contact" in line for line in done.changes)
    back = contacts.get(db, "ada@example.com")
    assert (back.id, back.tags, back.created_at) == (ada.id, ["vip"], ada.created_at)
    assert activities.get(db, call.id).body == "notes"
    assert followups.get(db, str(task.id)).title == "Send proposal"
    assert leads.get(db, str(lead.id)).contact_id == ada.id
    kinds = {hit.kind for hit in search.search(db, "pricing")} | {
        hit.kind for hit in search.search(db, "lovelace")
    }
    assert {"activity", "contact", "lead"} <= kinds


def test_undo_a_company_delete_relinks_its_contacts(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com", company="Engines")
    activities.log(db, "meeting", "company:1", "Board meeting")
    companies.delete(db, "Engines")
    assert contacts.get(db, "ada@example.com").company_id is None
    history.undo(db)
    assert contacts.get(db, "ada@example.com").company == "Engines"
    assert [a.summary for a in activities.list_activities(db, company="Engines")] == [
        "Board meeting"
    ]


def test_undo_a_lead_delete_brings_back_its_stage_history(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    lead = leads.add(db, "Licence", contact="ada@example.com")
    leads.move(db, str(lead.id), "Qualified")
    before = [e for e in timeline.timeline(db, str(ada.id)) if e.type.startswith("lead")]
    leads.delete(db, str(lead.id))
    history.undo(db)
    after = [e for e in timeline.timeline(db, str(ada.id)) if e.type.startswith("lead")]
    assert [(e.type, e.summary) for e in after] == [(e.type, e.summary) for e in before]


def test_undo_an_add(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com", company="Engines")
    history.undo(db)
    with pytest.raises(NotFound):
        contacts.get(db, str(ada.id))
    assert companies.list_companies(db) == []  # made by that same add
    assert search.search(db, "lovelace") == []


def test_undo_a_merge(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    other = contacts.add(db, "Ada L.", email="ada@work.example", title="Countess")
    activities.log(db, "call", "ada@work.example", "Old call")
    contacts.merge(db, "ada@example.com", "ada@work.example")
    history.undo(db)
    back = contacts.get(db, "ada@work.example")
    assert back.id == other.id and back.title == "Countess"
    assert contacts.get(db, "ada@example.com").title is None
    assert [a.contact_id for a in activities.list_activities(db)] == [other.id]


def test_undo_a_whole_import(db: Db, tmp_path: Path) -> None:
    contacts.add(db, "Kept Contact", email="kept@example.com")
    source = tmp_path / "people.csv"
    rows = "\n".join(f"Person {i},p{i}@example.com,Firm {i % 3}" for i in range(50))
    source.write_text("name,email,company\n" + rows + "\n")
    result = importing.import_file(db, "contacts", source)
    assert result.imported == 50
    done = history.undo(db)
    assert any("imported 50 contacts" in line for line in done.changes)
    assert [c.name for c in contacts.list_contacts(db)] == ["Kept Contact"]
    assert companies.list_companies(db) == []
    assert search.search(db, "person") == []


def test_undo_walks_back_one_changeset_at_a_time(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.edit(db, "ada@example.com", title="One")
    contacts.edit(db, "ada@example.com", title="Two")
    history.undo(db)
    assert contacts.get(db, "ada@example.com").title == "One"
    history.undo(db)
    assert contacts.get(db, "ada@example.com").title is None
    history.undo(db)
    assert contacts.list_contacts(db) == []
    with pytest.raises(NotFound, match="nothing to undo"):
        history.undo(db)


def test_dry_run_changes_nothing(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.edit(db, "ada@example.com", title="Countess")
    preview = history.undo(db, dry_run=True)
    assert preview.dry_run and preview.undo_changeset_id is None
    assert contacts.get(db, "ada@example.com").title == "Countess"


# --- undo refuses -------------------------------------------------------------------------


def test_undo_refuses_when_someone_else_changed_the_record_since(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.edit(db, "ada@example.com", title="Countess")
    as_user(monkeypatch, "bob")
    contacts.edit(db, "ada@example.com", phone="+44 20 7946 0000")
    as_user(monkeypatch, "tester")
    with pytest.raises(Conflict, match="bob changed contact 1"):
        history.undo(db)
    assert contacts.get(db, "ada@example.com").title == "Countess"  # nothing changed


def test_undo_goes_ahead_when_others_touched_other_records(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.edit(db, "ada@example.com", title="Countess")
    as_user(monkeypatch, "bob")
    contacts.add(db, "Bob's Contact")
    history.undo(db)  # bob's undo: his add
    as_user(monkeypatch, "tester")
    history.undo(db)
    assert contacts.get(db, "ada@example.com").title is None


def test_undo_of_an_add_refuses_to_take_others_work_along(
    db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    as_user(monkeypatch, "bob")
    activities.log(db, "call", "ada@example.com", "Bob's call")
    as_user(monkeypatch, "tester")
    with pytest.raises(Conflict):
        history.undo(db)
    assert contacts.get(db, "ada@example.com").name == "Ada Lovelace"


def test_undo_of_an_import_refuses_when_others_worked_on_imported_records(
    db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "people.csv"
    source.write_text("name,email\nPerson A,a@example.com\nPerson B,b@example.com\n")
    importing.import_file(db, "contacts", source)
    as_user(monkeypatch, "bob")
    followups.add(db, "b@example.com", "Call back", due="tomorrow")
    as_user(monkeypatch, "tester")
    with pytest.raises(Conflict):
        history.undo(db)
    assert len(contacts.list_contacts(db)) == 2


def test_undo_refuses_when_a_restored_email_is_taken(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.delete(db, "ada@example.com")
    contacts.add(db, "Ada Again", email="ADA@example.com")
    history.undo(db)  # the second add
    contacts.add(db, "Ada Third", email="ada@example.com")
    history.undo(db)
    history.undo(db)  # the delete: the email is free again
    assert contacts.get(db, "ada@example.com").name == "Ada Lovelace"


def test_nothing_to_undo(db: Db) -> None:
    with pytest.raises(NotFound, match="nothing to undo"):
        history.undo(db)


def test_an_erasure_cannot_be_undone(db: Db) -> None:
    from smallcrm import privacy

    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    privacy.forget(db, "ada@example.com")
    with pytest.raises(Invalid, match="cannot be undone"):
        history.undo(db)

"""Activities: logging calls, emails, meetings… against contacts or companies; listing; deleting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smallcrm import activities, companies, contacts, leads, search, users
from smallcrm.errors import Ambiguous, Invalid, NotFound
from smallcrm.records import Activity
from smallcrm.store import Db


@pytest.fixture
def crm(db: Db) -> Db:
    companies.add(db, "Acme")
    contacts.add(db, "Ada", email="ada@example.com", company="Acme")
    contacts.add(db, "Bob")
    leads.add(db, "Engines", contact="ada")
    return db


def summaries(records: list[Activity]) -> list[str]:
    return [r.summary for r in records]


def test_log_against_a_contact(crm: Db) -> None:
    at = datetime(2030, 1, 2, 9, 30, tzinfo=UTC)
    call = activities.log(
        crm,
        "CALL",
        "ada@example.com",
        "  Discussed engines ",
        at=at,
        lead="engines",
        duration="45",
        body="Line one\nLine two \x1b[31m",
        direction="Outbound",
    )
    assert isinstance(call, Activity)
    assert call.kind == "call"
    assert call.summary == "Discussed engines"
    assert call.body == "Line one\nLine two \x1b[31m"
    assert call.occurred_at == at
    assert call.duration_min == 45
    assert call.direction == "outbound"
    assert (call.contact, call.company_id, call.lead) == ("Ada", None, "Engines")
    assert call.user == "tester"
    assert activities.get(crm, call.id) == activities.get(crm, f"#{call.id}") == call


def test_log_against_a_company_and_by_prefixed_refs(crm: Db) -> None:
    acme = companies.get(crm, "acme")
    visit = activities.log(crm, "visit", "acme", "Site visit")
    assert (visit.company_id, visit.company, visit.contact_id) == (acme.id, "Acme", None)
    by_id = activities.log(crm, "note", f"company:{acme.id}", "Note")
    assert by_id.company_id == acme.id
    ada = contacts.get(crm, "ada")
    assert activities.log(crm, "sms", f"contact:{ada.id}", "Texted").contact_id == ada.id


@pytest.mark.parametrize("kind", ["call", "email", "meeting", "note", "visit", "sms", "other"])
def test_every_kind_of_cli_md(crm: Db, kind: str) -> None:
    assert activities.log(crm, kind, "bob", "Something").kind == kind


def test_when_is_parsed_in_the_local_zone(crm: Db) -> None:
    assert activities.log(crm, "note", "bob", "x", at="2030-01-02T09:30").occurred_at == datetime(
        2030, 1, 2, 9, 30, tzinfo=UTC
    )
    before = datetime.now(UTC)
    now_ish = activities.log(crm, "note", "bob", "y").occurred_at
    assert before - timedelta(seconds=1) <= now_ish <= datetime.now(UTC)


def test_log_by_another_user(crm: Db) -> None:
    users.add(crm, "Grace")
    assert activities.log(crm, "call", "bob", "x", user="grace").user == "Grace"
    with pytest.raises(NotFound):
        activities.log(crm, "call", "bob", "x", user="ghost")


def test_log_failures_write_nothing(crm: Db) -> None:
    for kwargs in (
        {"kind": "fax"},
        {"summary": "  "},
        {"at": "whenever"},
        {"duration": "long"},
        {"duration": -5},
        {"duration": 100_001},
        {"direction": "sideways"},
        {"body": "nul\x00"},
    ):
        args = {"kind": "call", "ref": "bob", "summary": "x", **kwargs}
        with pytest.raises(Invalid):
            activities.log(crm, args.pop("kind"), args.pop("ref"), args.pop("summary"), **args)
    for ref, lead in (("ghost", None), ("bob", "ghost"), ("contact:99", None)):
        with pytest.raises(NotFound):
            activities.log(crm, "call", ref, "x", lead=lead)
    with pytest.raises(Invalid):
        activities.log(crm, "call", "", "x")
    assert activities.list_activities(crm) == []


def test_an_ambiguous_customer_lists_candidates(crm: Db) -> None:
    contacts.add(crm, "acme")  # a contact named like the company
    with pytest.raises(Ambiguous) as caught:
        activities.log(crm, "call", "Acme", "x")
    assert {c.split()[0] for c in caught.value.candidates} == {"contact", "company"}


def test_get_failures(crm: Db) -> None:
    for ref in (999, "999", "abc", "", "²", "9" * 40):
        with pytest.raises(NotFound):
            activities.get(crm, ref)


def test_list_is_newest_first_and_filters(crm: Db) -> None:
    users.add(crm, "Grace")
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    activities.log(crm, "call", "ada", "A1", at=t0, lead="engines")
    activities.log(crm, "email", "bob", "B1", at=t0 + timedelta(days=1), user="grace")
    activities.log(crm, "visit", "acme", "C1", at=t0 + timedelta(days=2))
    activities.log(crm, "call", "ada", "A2", at=t0 + timedelta(days=3))
    activities.log(crm, "note", "ada", "A0", at=t0 - timedelta(days=1))

    assert summaries(activities.list_activities(crm)) == ["A2", "C1", "B1", "A1", "A0"]
    assert summaries(activities.list_activities(crm, limit=2, offset=1)) == ["C1", "B1"]
    assert summaries(activities.list_activities(crm, contact="ada")) == ["A2", "A1", "A0"]
    # A company's activities include its contacts'.
    assert summaries(activities.list_activities(crm, company="acme")) == ["A2", "C1", "A1", "A0"]
    assert summaries(activities.list_activities(crm, lead="engines")) == ["A1"]
    assert summaries(activities.list_activities(crm, kind="CALL")) == ["A2", "A1"]
    assert summaries(activities.list_activities(crm, since=t0 + timedelta(days=2))) == ["A2", "C1"]
    assert summaries(activities.list_activities(crm, since="2030-01-03")) == ["A2", "C1"]
    assert summaries(activities.list_activities(crm, user="grace")) == ["B1"]
    assert summaries(activities.list_activities(crm, user="ghost")) == []


def test_same_time_activities_are_ordered_by_id(crm: Db) -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    for name in ("first", "second", "third"):
        activities.log(crm, "note", "bob", name, at=at)
    assert summaries(activities.list_activities(crm)) == ["third", "second", "first"]


def test_list_filter_failures(crm: Db) -> None:
    with pytest.raises(NotFound):
        activities.list_activities(crm, contact="ghost")
    with pytest.raises(NotFound):
        activities.list_activities(crm, company="ghost")
    with pytest.raises(NotFound):
        activities.list_activities(crm, lead="ghost")
    with pytest.raises(Invalid):
        activities.list_activities(crm, kind="fax")
    with pytest.raises(Invalid):
        activities.list_activities(crm, since="the dawn of time")


def test_activity_text_is_searchable_until_deleted(crm: Db) -> None:
    note = activities.log(crm, "note", "ada", "Quarterly review", body="Mentioned Fitzgerald")
    assert [(h.kind, h.id) for h in search.search(crm, "fitzg")] == [("activity", note.id)]
    hit = search.search(crm, "quarterly")[0]
    assert (hit.contact, hit.company) == ("Ada", None)
    assert activities.delete(crm, note.id) == note
    assert search.search(crm, "fitzg") == []
    assert search.search(crm, "quarterly") == []
    with pytest.raises(NotFound):
        activities.get(crm, note.id)
    with pytest.raises(NotFound):
        activities.delete(crm, note.id)


def test_last_activity_by_contact(crm: Db) -> None:
    if not hasattr(activities, "last_activity_by_contact"):
        pytest.skip("no last_activity_by_contact")
    ada, bob = contacts.get(crm, "ada"), contacts.get(crm, "bob")
    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    activities.log(crm, "call", "ada", "old", at=t0)
    activities.log(crm, "call", "ada", "new", at=t0 + timedelta(hours=5))
    assert activities.last_activity_by_contact(crm, [ada.id, bob.id, ada.id]) == {
        ada.id: t0 + timedelta(hours=5)
    }
    assert activities.last_activity_by_contact(crm, []) == {}

"""Companies: add, get, list, edit, delete — success and every failure path."""

from __future__ import annotations

import pytest
from sqlmodel import select

from smallcrm import activities, companies, contacts, followups, leads, search, users
from smallcrm.errors import Conflict, Duplicate, Invalid, NotFound
from smallcrm.records import Company
from smallcrm.store import Db
from smallcrm.store.tables import Activity, FollowUp


def names(records: list[Company]) -> list[str]:
    return [r.name for r in records]


# --------------------------------------------------------------------------------------------
# add


def test_add_with_every_field(db: Db) -> None:
    acme = companies.add(
        db,
        " Acme Corp ",
        domain="https://www.Acme.com/about",
        industry="Anvils",
        city="Phoenix",
        country="US",
        territory="West",
        relationship="Proactive",
        phone="+1 555 0100",
        tags_=["Key, Account"],
        note="Buys <b>anvils</b>\x07",
        extra={"Founded": "1949"},
    )
    assert isinstance(acme, Company)
    assert acme.name == "Acme Corp"
    assert acme.domain == "acme.com"
    assert (acme.industry, acme.city, acme.country, acme.territory) == (
        "Anvils", "Phoenix", "US", "West",
    )  # fmt: skip
    assert acme.relationship == "proactive"
    assert acme.phone == "+1 555 0100"
    assert acme.tags == ["account", "key"]
    assert acme.note == "Buys <b>anvils</b>\x07"
    assert acme.extra == {"Founded": "1949"}
    assert acme.owner == "tester"
    assert acme.version == 1
    assert companies.get(db, str(acme.id)) == acme


def test_add_minimal_and_blank_values(db: Db) -> None:
    bare = companies.add(db, "Bare", domain=" ", industry="  ", relationship="", note="")
    assert (bare.domain, bare.industry, bare.relationship, bare.note) == (None, None, None, None)
    assert bare.tags == [] and bare.extra == {}


@pytest.mark.parametrize("domain", ["nodot", "has space.com", "http://"])
def test_add_rejects_invalid_domain(db: Db, domain: str) -> None:
    with pytest.raises(Invalid, match="domain"):
        companies.add(db, "Acme", domain=domain)
    assert companies.list_companies(db) == []


@pytest.mark.parametrize("name", ["", "  ", None, "n" * 501, "a\x00b"])
def test_add_rejects_bad_names(db: Db, name: str | None) -> None:
    with pytest.raises(Invalid):
        companies.add(db, name)  # type: ignore[arg-type]


def test_add_rejects_unknown_relationship_and_owner(db: Db) -> None:
    with pytest.raises(Invalid, match="relationship"):
        companies.add(db, "Acme", relationship="frenemies")
    with pytest.raises(NotFound):
        companies.add(db, "Acme", owner="ghost")
    assert companies.list_companies(db) == []


def test_add_duplicate_name_or_domain(db: Db) -> None:
    acme = companies.add(db, "Acme", domain="acme.com")
    with pytest.raises(Duplicate, match=f"id {acme.id}"):
        companies.add(db, "ACME")
    with pytest.raises(Duplicate, match="acme.com"):
        companies.add(db, "Acme Two", domain="www.acme.com")
    assert names(companies.list_companies(db)) == ["Acme"]


def test_add_duplicate_non_ascii_name_ignores_case(db: Db) -> None:
    companies.add(db, "école du nord")
    with pytest.raises(Duplicate):
        companies.add(db, "ÉCOLE DU NORD")
    with pytest.raises(Duplicate):
        companies.add(db, "École du Nord")


def test_add_for_another_owner(db: Db) -> None:
    users.add(db, "Grace")
    assert companies.add(db, "Acme", owner="GRACE").owner == "Grace"


# --------------------------------------------------------------------------------------------
# get and list


def test_get_by_id_domain_and_name(db: Db) -> None:
    acme = companies.add(db, "Acme Corp", domain="acme.com")
    assert companies.get(db, str(acme.id)) == acme
    assert companies.get(db, "ACME.COM") == acme
    assert companies.get(db, "acme corp") == acme
    with pytest.raises(NotFound):
        companies.get(db, "Acme")
    with pytest.raises(NotFound):
        companies.get(db, "999")
    with pytest.raises(Invalid):
        companies.get(db, " ")


def test_list_filters_and_order(db: Db) -> None:
    users.add(db, "Grace")
    companies.add(db, "beta", relationship="basic", tags_=["x"], city="Oslo")
    companies.add(db, "Alpha", relationship="partnership", owner="grace")
    companies.add(db, "Gamma", relationship="basic", tags_=["x", "y"])
    assert names(companies.list_companies(db)) == ["Alpha", "beta", "Gamma"]
    assert names(companies.list_companies(db, limit=1, offset=1)) == ["beta"]
    assert names(companies.list_companies(db, tag="X")) == ["beta", "Gamma"]
    assert names(companies.list_companies(db, owner="grace")) == ["Alpha"]
    assert names(companies.list_companies(db, owner="me")) == ["beta", "Gamma"]
    assert names(companies.list_companies(db, owner="ghost")) == []
    assert names(companies.list_companies(db, relationship="BASIC")) == ["beta", "Gamma"]
    assert names(companies.list_companies(db, search="osl")) == ["beta"]
    assert names(companies.list_companies(db, search="nothing")) == []
    with pytest.raises(Invalid):
        companies.list_companies(db, relationship="nope")


# --------------------------------------------------------------------------------------------
# edit


def test_edit_fields(db: Db) -> None:
    acme = companies.add(db, "Acme", extra={"a": 1}, tags_=["old"])
    users.add(db, "Grace")
    edited = companies.edit(
        db,
        "acme",
        name="Acme Holdings",
        domain="HTTP://acme.io/",
        industry="Rockets",
        city="",
        relationship="reactive",
        owner="grace",
        note="big",
        extra={"b": 2},
        add_tags=["new"],
        expected_version=acme.version,
    )
    assert edited.name == "Acme Holdings"
    assert edited.domain == "acme.io"
    assert edited.industry == "Rockets" and edited.city is None
    assert edited.relationship == "reactive"
    assert edited.owner == "Grace"
    assert edited.note == "big"
    assert edited.extra == {"a": 1, "b": 2}
    assert edited.tags == ["new", "old"]
    assert edited.version == acme.version + 1
    assert companies.edit(db, "acme.io", remove_tags=["old"]).tags == ["new"]
    assert companies.edit(db, "acme.io", tags=["only"]).tags == ["only"]


def test_edit_keeps_name_case_changes(db: Db) -> None:
    companies.add(db, "acme")
    assert companies.edit(db, "acme", name="ACME").name == "ACME"


def test_edit_failures_change_nothing(db: Db) -> None:
    acme = companies.add(db, "Acme", domain="acme.com")
    companies.add(db, "Other", domain="other.com")
    with pytest.raises(Duplicate):
        companies.edit(db, "acme", name="OTHER")
    with pytest.raises(Duplicate):
        companies.edit(db, "acme", domain="other.com")
    with pytest.raises(Invalid, match="cannot edit"):
        companies.edit(db, "acme", version=7)
    with pytest.raises(Invalid):
        companies.edit(db, "acme", domain="bad domain")
    with pytest.raises(Invalid):
        companies.edit(db, "acme", relationship="nope")
    with pytest.raises(NotFound):
        companies.edit(db, "acme", owner="ghost")
    with pytest.raises(NotFound):
        companies.edit(db, "nobody", city="x")
    with pytest.raises(Conflict):
        companies.edit(db, "acme", city="x", expected_version=acme.version + 5)
    assert companies.get(db, "acme") == acme


def test_rename_reindexes_its_contacts_and_leads(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", company="Acme")
    contacts.add(db, "Bob", company="Other")
    leads.add(db, "Engine deal", contact="ada lovelace")
    companies.edit(db, "acme", name="Zenith Engines")

    found = {(h.kind, h.title) for h in search.search(db, "zenith")}
    assert found == {
        ("company", "Zenith Engines"),
        ("contact", "Ada Lovelace"),
        ("lead", "Engine deal"),
    }
    assert search.search(db, "acme") == []
    assert [c.name for c in contacts.list_contacts(db, search="zenith")] == ["Ada Lovelace"]
    hit = next(h for h in search.search(db, "zenith ada") if h.kind == "contact")
    assert hit.company == "Zenith Engines"


# --------------------------------------------------------------------------------------------
# delete


def test_delete_unlinks_contacts_and_leads_and_drops_own_history(db: Db) -> None:
    acme = companies.add(db, "Acme")
    contacts.add(db, "Ada", company="Acme")
    lead = leads.add(db, "Anvils", company="Acme")
    activities.log(db, "visit", "company:acme", "Site visit")
    contact_call = activities.log(db, "call", "ada", "Call with Ada")
    followups.add(db, "company:acme", "Send invoice", due="2030-01-01")
    ada_todo = followups.add(db, "ada", "Ask Ada", due="2030-01-01")

    assert companies.delete(db, "acme") == acme

    with pytest.raises(NotFound):
        companies.get(db, str(acme.id))
    assert contacts.get(db, "ada").company_id is None
    assert leads.get(db, str(lead.id)).company_id is None
    assert [a.id for a in activities.list_activities(db)] == [contact_call.id]
    assert [f.id for f in followups.list_followups(db)] == [ada_todo.id]
    with db.read() as session:
        assert session.exec(select(Activity).where(Activity.company_id == acme.id)).all() == []
        assert session.exec(select(FollowUp).where(FollowUp.company_id == acme.id)).all() == []
    # The index no longer knows the company, nor its name on the contact and the lead.
    assert search.search(db, "acme") == []
    assert search.search(db, "site visit") == []
    assert sorted(h.kind for h in search.search(db, "ada")) == ["activity", "contact"]


def test_delete_unknown_is_not_found(db: Db) -> None:
    with pytest.raises(NotFound):
        companies.delete(db, "nobody")

"""Contacts: add, get, list, count, edit, delete, merge — success and every failure path."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from smallcrm import activities, companies, contacts, followups, leads, search, users
from smallcrm.errors import Ambiguous, Conflict, Duplicate, Invalid, NotFound
from smallcrm.records import Contact
from smallcrm.store import Db
from smallcrm.store.tables import Activity, ContactTag, FollowUp


def hit_names(db: Db, query: str) -> set[str]:
    return {h.title for h in search.search(db, query) if h.kind == "contact"}


# --------------------------------------------------------------------------------------------
# add


def test_add_returns_a_plain_frozen_record(db: Db) -> None:
    ada = contacts.add(
        db,
        "  Ada Lovelace ",
        email="ada@example.com",
        phone="(415) 555-0123",
        company="Analytical Engines",
        title="Countess",
        stage="Prospect",
        tags_=["VIP", "math, london"],
        note="Met at the [b]salon[/b]\x1b[2J",
        consent=True,
        extra={"Twitter": "@ada"},
    )
    assert isinstance(ada, Contact)
    assert ada.name == "Ada Lovelace"
    assert ada.email == "ada@example.com"
    assert ada.phone == "+14155550123"
    assert ada.company == "Analytical Engines" and ada.company_id is not None
    assert ada.title == "Countess"
    assert ada.stage == "prospect"
    assert ada.owner == "tester"
    assert ada.tags == ["london", "math", "vip"]
    assert ada.note == "Met at the [b]salon[/b]\x1b[2J"  # stored exactly as given
    assert ada.consent is True and ada.do_not_contact is False
    assert ada.extra == {"Twitter": "@ada"}
    assert ada.version == 1
    assert ada.created_at.tzinfo is not None and ada.created_at == ada.updated_at
    with pytest.raises(AttributeError):
        ada.name = "x"  # type: ignore[misc]


def test_add_minimal(db: Db) -> None:
    bob = contacts.add(db, "Bob")
    assert (bob.email, bob.phone, bob.company, bob.stage, bob.tags) == (None, None, None, None, [])
    assert bob.extra == {}
    assert contacts.get(db, str(bob.id)) == bob


def test_add_blank_optional_values_mean_none(db: Db) -> None:
    bob = contacts.add(db, "Bob", email="  ", phone=" ", stage="", title="  ", note=" \n ")
    assert (bob.email, bob.phone, bob.stage, bob.title, bob.note) == (None, None, None, None, None)


@pytest.mark.parametrize("name", ["", "   ", None, "x" * 501, "nul\x00byte"])
def test_add_rejects_bad_names(db: Db, name: str | None) -> None:
    with pytest.raises(Invalid):
        contacts.add(db, name)  # type: ignore[arg-type]
    assert contacts.count(db) == 0


def test_add_accepts_a_name_of_500_characters(db: Db) -> None:
    assert len(contacts.add(db, "x" * 500).name) == 500


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", "a b@c.com", "x" * 400])
def test_add_rejects_invalid_email(db: Db, email: str) -> None:
    with pytest.raises(Invalid):
        contacts.add(db, "Bob", email=email)
    assert contacts.count(db) == 0


def test_add_rejects_invalid_phone_and_stage(db: Db) -> None:
    with pytest.raises(Invalid):
        contacts.add(db, "Bob", phone="call me maybe")
    with pytest.raises(Invalid, match="lifecycle stage"):
        contacts.add(db, "Bob", stage="best friend")
    with pytest.raises(Invalid):
        contacts.add(db, "Bob", tags_=["t" * 101])
    with pytest.raises(Invalid):
        contacts.add(db, "Bob", note="a\x00b")
    assert contacts.count(db) == 0


def test_phone_region_comes_from_settings(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMALLCRM_PHONE_REGION", "gb")
    assert contacts.add(db, "Brit", phone="020 7946 0018").phone == "+442079460018"
    assert contacts.add(db, "Yank", phone="+1 415 555 0123").phone == "+14155550123"


def test_add_duplicate_email_is_case_insensitive(db: Db) -> None:
    first = contacts.add(db, "Ada", email="Ada@Example.com")
    with pytest.raises(Duplicate) as caught:
        contacts.add(db, "Other Ada", email="ada@example.COM")
    assert f"id {first.id}" in str(caught.value)
    assert isinstance(caught.value, Invalid)  # a Duplicate is a kind of Invalid
    assert contacts.count(db) == 1


def test_add_reuses_an_existing_company_by_name_or_id(db: Db) -> None:
    acme = companies.add(db, "Acme", domain="acme.com")
    assert contacts.add(db, "A", company="ACME").company_id == acme.id
    assert contacts.add(db, "B", company=str(acme.id)).company_id == acme.id
    assert contacts.add(db, "C", company="acme.com").company_id == acme.id
    assert len(companies.list_companies(db)) == 1


def test_add_creates_a_missing_company_owned_like_the_contact(db: Db) -> None:
    users.add(db, "Rep")
    person = contacts.add(db, "A", company="Brand New Ltd", owner="rep")
    company = companies.get(db, "Brand New Ltd")
    assert person.company_id == company.id
    assert company.owner == "Rep"


def test_add_with_an_unknown_company_id_is_not_found(db: Db) -> None:
    with pytest.raises(NotFound):
        contacts.add(db, "A", company="999")
    assert contacts.count(db) == 0


def test_add_with_an_unknown_owner_is_not_found_and_writes_nothing(db: Db) -> None:
    with pytest.raises(NotFound):
        contacts.add(db, "A", owner="nobody", company="Never Made")
    assert contacts.count(db) == 0
    assert companies.list_companies(db) == []


def test_add_for_another_owner(db: Db) -> None:
    users.add(db, "Grace", email="grace@example.com")
    person = contacts.add(db, "A", owner="grace@example.com")
    assert person.owner == "Grace"
    assert contacts.add(db, "B", owner="me").owner == "tester"


# --------------------------------------------------------------------------------------------
# get


def test_get_by_id_email_and_name(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    assert contacts.get(db, str(ada.id)) == ada
    assert contacts.get(db, "ADA@EXAMPLE.COM") == ada
    assert contacts.get(db, "ada lovelace") == ada


def test_get_failures(db: Db) -> None:
    contacts.add(db, "Sam", email="sam1@example.com")
    contacts.add(db, "Sam", email="sam2@example.com")
    with pytest.raises(NotFound):
        contacts.get(db, "Nobody")
    with pytest.raises(Ambiguous) as caught:
        contacts.get(db, "sam")
    assert len(caught.value.candidates) == 2
    with pytest.raises(Invalid):
        contacts.get(db, "")


# --------------------------------------------------------------------------------------------
# list and count


@pytest.fixture
def people(db: Db) -> dict[str, Contact]:
    users.add(db, "Grace")
    return {
        "ada": contacts.add(db, "Ada Lovelace", company="Acme", stage="client", tags_=["vip"]),
        "bob": contacts.add(db, "bob builder", company="Bobco", stage="prospect"),
        "cy": contacts.add(db, "Cyrus", company="Acme", owner="grace", tags_=["vip", "new"]),
        "dee": contacts.add(db, "Dee", stage="client"),
    }


def names(records: list[Contact]) -> list[str]:
    return [r.name for r in records]


def test_list_orders_by_name_ignoring_case(db: Db, people: dict[str, Contact]) -> None:
    assert names(contacts.list_contacts(db)) == ["Ada Lovelace", "bob builder", "Cyrus", "Dee"]
    assert names(contacts.list_contacts(db, limit=2)) == ["Ada Lovelace", "bob builder"]
    assert names(contacts.list_contacts(db, limit=2, offset=2)) == ["Cyrus", "Dee"]
    assert names(contacts.list_contacts(db, order="id")) == [
        "Ada Lovelace", "bob builder", "Cyrus", "Dee",
    ]  # fmt: skip
    # Contacts without a company or stage come last, on every backend.
    assert names(contacts.list_contacts(db, order="company")) == [
        "Ada Lovelace", "Cyrus", "bob builder", "Dee",
    ]  # fmt: skip
    # Stages in lifecycle order (a prospect before a client), not alphabetical.
    assert names(contacts.list_contacts(db, order="stage")) == [
        "bob builder", "Ada Lovelace", "Dee", "Cyrus",
    ]  # fmt: skip
    assert names(contacts.list_contacts(db, order="recent"))[0] == "Dee"
    # An unknown order falls back to name order.
    assert names(contacts.list_contacts(db, order="nonsense"))[0] == "Ada Lovelace"


def test_list_filters(db: Db, people: dict[str, Contact]) -> None:
    assert names(contacts.list_contacts(db, tag="VIP")) == ["Ada Lovelace", "Cyrus"]
    assert names(contacts.list_contacts(db, tag="none")) == []
    assert names(contacts.list_contacts(db, company="acme")) == ["Ada Lovelace", "Cyrus"]
    assert names(contacts.list_contacts(db, stage="CLIENT")) == ["Ada Lovelace", "Dee"]
    assert names(contacts.list_contacts(db, owner="grace")) == ["Cyrus"]
    assert names(contacts.list_contacts(db, owner="me")) == ["Ada Lovelace", "bob builder", "Dee"]
    assert names(contacts.list_contacts(db, owner="ghost")) == []
    assert names(contacts.list_contacts(db, search="lov")) == ["Ada Lovelace"]
    assert names(contacts.list_contacts(db, search="acme")) == ["Ada Lovelace", "Cyrus"]
    assert names(contacts.list_contacts(db, search="acme", tag="new")) == ["Cyrus"]
    assert names(contacts.list_contacts(db, search="zzz")) == []
    assert names(contacts.list_contacts(db, search="   ")) == names(contacts.list_contacts(db))


def test_list_filter_failures(db: Db, people: dict[str, Contact]) -> None:
    with pytest.raises(NotFound):
        contacts.list_contacts(db, company="No Such Co")
    with pytest.raises(Invalid):
        contacts.list_contacts(db, stage="nonsense")


def test_count(db: Db, people: dict[str, Contact]) -> None:
    assert contacts.count(db) == 4
    assert contacts.count(db, search="acme") == 2
    assert contacts.count(db, search="nothing") == 0


# --------------------------------------------------------------------------------------------
# edit


def test_edit_changes_fields_and_bumps_version(db: Db) -> None:
    ada = contacts.add(db, "Ada", email="ada@example.com", extra={"a": "1"})
    users.add(db, "Grace")
    edited = contacts.edit(
        db,
        "ada",
        name="Ada King",
        email="ADA@example.com",
        phone="+44 20 7946 0018",
        company="Acme",
        title=" Countess ",
        stage="advocate",
        owner="grace",
        note="likes engines",
        consent=True,
        do_not_contact=1,
        extra={"b": "2"},
        expected_version=ada.version,
    )
    assert edited.id == ada.id
    assert edited.name == "Ada King"
    assert edited.email == "ADA@example.com"
    assert edited.phone == "+442079460018"
    assert edited.company == "Acme"
    assert edited.title == "Countess"
    assert edited.stage == "advocate"
    assert edited.owner == "Grace"
    assert edited.note == "likes engines"
    assert edited.consent is True and edited.do_not_contact is True
    assert edited.extra == {"a": "1", "b": "2"}
    assert edited.version == ada.version + 1
    assert edited.updated_at >= ada.updated_at
    assert contacts.get(db, str(ada.id)) == edited


def test_edit_clears_fields(db: Db) -> None:
    contacts.add(db, "Ada", email="ada@example.com", phone="4155550123", company="Acme")
    cleared = contacts.edit(db, "ada", email="", phone=None, company="", title="", stage=None)
    assert (cleared.email, cleared.phone, cleared.company_id, cleared.title, cleared.stage) == (
        None, None, None, None, None,
    )  # fmt: skip


def test_edit_tags(db: Db) -> None:
    contacts.add(db, "Ada", tags_=["a", "b"])
    assert contacts.edit(db, "ada", add_tags=["c", "A"]).tags == ["a", "b", "c"]
    assert contacts.edit(db, "ada", remove_tags=["b", "missing"]).tags == ["a", "c"]
    assert contacts.edit(db, "ada", tags=["x, y"]).tags == ["x", "y"]
    assert contacts.edit(db, "ada", tags=None).tags == []


def test_edit_with_a_stale_version_is_a_conflict_and_changes_nothing(db: Db) -> None:
    ada = contacts.add(db, "Ada")
    contacts.edit(db, "ada", title="first", expected_version=ada.version)
    with pytest.raises(Conflict):
        contacts.edit(db, "ada", title="second", expected_version=ada.version)
    assert contacts.get(db, "ada").title == "first"


def test_edit_failures_change_nothing(db: Db) -> None:
    ada = contacts.add(db, "Ada", email="ada@example.com")
    contacts.add(db, "Bob", email="bob@example.com")
    with pytest.raises(Duplicate):
        contacts.edit(db, "ada", email="BOB@example.com")
    with pytest.raises(Invalid, match="cannot edit"):
        contacts.edit(db, "ada", created_at="yesterday")
    with pytest.raises(Invalid):
        contacts.edit(db, "ada", name="  ")
    with pytest.raises(Invalid):
        contacts.edit(db, "ada", stage="nope")
    with pytest.raises(Invalid):
        contacts.edit(db, "ada", title="new", phone="nonsense")
    with pytest.raises(NotFound):
        contacts.edit(db, "ada", owner="ghost")
    with pytest.raises(NotFound):
        contacts.edit(db, "ada", company="424242")
    with pytest.raises(NotFound):
        contacts.edit(db, "nobody", title="x")
    assert contacts.get(db, "ada") == ada


# --------------------------------------------------------------------------------------------
# delete


def test_delete_removes_history_and_unlinks_leads(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", company="Acme", tags_=["vip"])
    keep = contacts.add(db, "Bob")
    lead = leads.add(db, "Engine deal", contact="ada lovelace")
    activities.log(db, "call", "ada lovelace", "Talked about engines")
    activities.log(db, "call", "bob", "Talked about bridges")
    followups.add(db, "ada lovelace", "Send plans", due="2030-01-01")
    gone = contacts.delete(db, "ada lovelace")
    assert gone == ada
    with pytest.raises(NotFound):
        contacts.get(db, str(ada.id))
    assert contacts.get(db, "bob") == keep
    moved = leads.get(db, str(lead.id))
    assert moved.contact_id is None and moved.company == "Acme"
    with db.read() as session:
        assert session.exec(select(Activity).where(Activity.contact_id == ada.id)).all() == []
        assert session.exec(select(FollowUp).where(FollowUp.contact_id == ada.id)).all() == []
        assert session.exec(select(ContactTag).where(ContactTag.contact_id == ada.id)).all() == []
    assert [a.summary for a in activities.list_activities(db)] == ["Talked about bridges"]
    # The search index forgot the contact and its activities, and the lead no longer names her.
    assert search.search(db, "lovelace") == []
    assert search.search(db, "engines") == []
    assert [h.kind for h in search.search(db, "engine deal")] == ["lead"]


def test_delete_unknown_is_not_found(db: Db) -> None:
    with pytest.raises(NotFound):
        contacts.delete(db, "nobody")


# --------------------------------------------------------------------------------------------
# merge


def test_merge_moves_history_and_fills_empty_fields(db: Db) -> None:
    keep = contacts.add(db, "Ada Lovelace", tags_=["vip"], extra={"k": "keep", "a": "1"})
    other = contacts.add(
        db,
        "A. Lovelace",
        email="ada@example.com",
        phone="4155550123",
        company="Acme",
        title="Countess",
        tags_=["math"],
        extra={"k": "other", "b": "2"},
    )
    lead = leads.add(db, "Engine deal", contact=str(other.id))
    act = activities.log(db, "email", str(other.id), "Sent notes")
    todo = followups.add(db, f"contact:{other.id}", "Call back", due="2030-01-01")

    merged = contacts.merge(db, str(keep.id), str(other.id))

    assert merged.id == keep.id
    assert merged.email == "ada@example.com"
    assert merged.phone == "+14155550123"
    assert merged.company == "Acme"
    assert merged.title == "Countess"
    assert merged.tags == ["math", "vip"]
    assert merged.extra == {"k": "keep", "a": "1", "b": "2"}
    assert merged.version == keep.version + 1
    with pytest.raises(NotFound):
        contacts.get(db, str(other.id))
    assert leads.get(db, str(lead.id)).contact_id == keep.id
    assert activities.get(db, act.id).contact_id == keep.id
    assert followups.get(db, todo.id).contact_id == keep.id
    assert contacts.count(db) == 1
    # Search: the merged-away name is gone, the kept contact is found by the email it gained,
    # and the lead is found under the kept contact's name.
    assert hit_names(db, "A. Lovelace") == {"Ada Lovelace"}
    assert hit_names(db, "ada@example") == {"Ada Lovelace"}
    assert {h.kind for h in search.search(db, "engine ada lovelace")} == {"lead"}


def test_merge_keeps_the_kept_contacts_own_values(db: Db) -> None:
    contacts.add(db, "Keep", email="keep@example.com", title="Boss", stage="client")
    contacts.add(db, "Other", email="other@example.com", title="Intern", stage="suspect")
    merged = contacts.merge(db, "keep", "other")
    assert (merged.email, merged.title, merged.stage) == ("keep@example.com", "Boss", "client")
    assert contacts.get(db, "keep@example.com").id == merged.id
    with pytest.raises(NotFound):
        contacts.get(db, "other@example.com")


def test_merge_failures(db: Db) -> None:
    contacts.add(db, "Ada")
    contacts.add(db, "Sam")
    contacts.add(db, "SAM")
    with pytest.raises(Invalid, match="itself"):
        contacts.merge(db, "ada", "ADA")
    with pytest.raises(NotFound):
        contacts.merge(db, "ada", "nobody")
    with pytest.raises(NotFound):
        contacts.merge(db, "nobody", "ada")
    with pytest.raises(Ambiguous):
        contacts.merge(db, "ada", "sam")
    assert contacts.count(db) == 3


def test_records_never_keep_a_session(db: Db) -> None:
    ada = contacts.add(db, "Ada", company="Acme")
    db.dispose()  # no connection left: every field is already loaded
    assert ada.company == "Acme"
    assert isinstance(ada.created_at, datetime) and ada.created_at.tzinfo == UTC

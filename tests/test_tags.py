"""Tags on contacts, companies and leads: cleaning, adding, removing, replacing, moving."""

from __future__ import annotations

import pytest
from sqlmodel import select

from smallcrm import companies, contacts, leads, tags
from smallcrm.errors import Invalid
from smallcrm.store import Db
from smallcrm.store.tables import Contact, ContactTag, Tag, now_utc


def test_clean() -> None:
    assert tags.clean([" VIP ", "vip", "a,b, ,c", "", "B"]) == ["vip", "a", "b", "c"]
    assert tags.clean([]) == []
    assert tags.clean(["Ünïcode"]) == ["ünïcode"]
    assert tags.clean(["t" * 100]) == ["t" * 100]
    with pytest.raises(Invalid, match="longer than 100"):
        tags.clean(["t" * 101])


def test_tags_are_shared_between_kinds_and_stored_once(db: Db) -> None:
    ada = contacts.add(db, "Ada", tags_=["vip"])
    acme = companies.add(db, "Acme", tags_=["VIP", "partner"])
    deal = leads.add(db, "Deal", tags_=["vip"])
    with db.read() as session:
        assert sorted(t.name for t in session.exec(select(Tag))) == ["partner", "vip"]
        assert tags.tags_of(session, "contact", [ada.id]) == {ada.id: ["vip"]}
        assert tags.tags_of(session, "company", [acme.id]) == {acme.id: ["partner", "vip"]}
        assert tags.tags_of(session, "lead", [deal.id, 999]) == {deal.id: ["vip"]}
        assert tags.tags_of(session, "lead", []) == {}


def test_add_remove_replace_move(db: Db) -> None:
    ada = contacts.add(db, "Ada", tags_=["a"])
    bob = contacts.add(db, "Bob", tags_=["b", "shared"])
    with db.write() as session:
        tags.add(session, "contact", ada.id, ["a", "x, shared"])
        assert tags.tags_of(session, "contact", [ada.id])[ada.id] == ["a", "shared", "x"]
        tags.remove(session, "contact", ada.id, ["X", "never-existed"])
        assert tags.tags_of(session, "contact", [ada.id])[ada.id] == ["a", "shared"]
        tags.replace(session, "contact", ada.id, ["z"])
        assert tags.tags_of(session, "contact", [ada.id])[ada.id] == ["z"]
        tags.move(session, "contact", bob.id, ada.id)
        assert tags.tags_of(session, "contact", [ada.id])[ada.id] == ["b", "shared", "z"]
        assert tags.tags_of(session, "contact", [bob.id])[bob.id] == ["b", "shared"]
        tags.replace(session, "contact", ada.id, [])
        assert ada.id not in tags.tags_of(session, "contact", [ada.id])


def test_filtering_by_tag_ignores_case(db: Db) -> None:
    contacts.add(db, "Ada", tags_=["vip"])
    contacts.add(db, "Bob")
    companies.add(db, "Acme", tags_=["vip"])
    leads.add(db, "Deal", tags_=["vip"])
    assert [c.name for c in contacts.list_contacts(db, tag=" VIP ")] == ["Ada"]
    assert [c.name for c in companies.list_companies(db, tag="Vip")] == ["Acme"]
    assert [lead.title for lead in leads.list_leads(db, tag="vip")] == ["Deal"]


def test_many_records_are_tagged_in_chunks(db: Db) -> None:
    """tags_of asks in slices of 500 ids, so a long list works on every backend."""
    with db.write() as session:
        now = now_utc()
        rows = [Contact(name=f"P{i:04}", created_at=now, updated_at=now) for i in range(1203)]
        session.add_all(rows)
        tag = Tag(name="even")
        session.add(tag)
        session.flush()
        ids = [row.id for row in rows]
        session.add_all(ContactTag(contact_id=i, tag_id=tag.id) for i in ids[::2])
    with db.read() as session:
        found = tags.tags_of(session, "contact", ids)
    assert len(found) == 602
    assert all(names == ["even"] for names in found.values())
    listed = contacts.list_contacts(db, tag="even")
    assert len(listed) == 602 and all(c.tags == ["even"] for c in listed)

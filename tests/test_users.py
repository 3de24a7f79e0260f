"""Users: the team. "Me" is created on first use; users are found by id, name, login or email."""

from __future__ import annotations

import pytest

from smallcrm import contacts, users
from smallcrm.errors import Duplicate, Invalid, NotFound
from smallcrm.records import User
from smallcrm.store import Db


def test_current_user_is_created_once(db: Db) -> None:
    assert users.list_users(db) == []
    me = users.current(db)
    assert isinstance(me, User)
    assert (me.name, me.email) == ("tester", None)
    assert me.created_at.tzinfo is not None
    assert users.current(db) == me
    assert users.list_users(db) == [me]


def test_who_i_am_follows_the_environment(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    tester = users.current(db)
    monkeypatch.setenv("SMALLCRM_USER", "  Grace  ")
    grace = users.current(db)
    assert grace.name == "Grace" and grace.id != tester.id
    monkeypatch.setenv("SMALLCRM_USER", "GRACE")  # logins ignore case
    assert users.current(db).id == grace.id


def test_records_are_owned_by_me(db: Db) -> None:
    assert contacts.add(db, "Ada").owner == "tester"
    assert [u.name for u in users.list_users(db)] == ["tester"]


def test_add(db: Db) -> None:
    grace = users.add(db, "  Grace Hopper ", email="grace@example.com")
    assert (grace.name, grace.email) == ("Grace Hopper", "grace@example.com")
    plain = users.add(db, "Linus")
    assert plain.email is None
    assert [u.name for u in users.list_users(db)] == ["Grace Hopper", "Linus"]
    assert [u.name for u in users.list_users(db, limit=1)] == ["Grace Hopper"]


def test_add_failures(db: Db) -> None:
    users.add(db, "Grace")
    users.current(db)
    with pytest.raises(Duplicate):
        users.add(db, "GRACE")
    with pytest.raises(Duplicate):
        users.add(db, "Tester")  # the auto-created current user
    with pytest.raises(Invalid):
        users.add(db, "   ")
    with pytest.raises(Invalid):
        users.add(db, "Linus", email="not an email")
    assert [u.name for u in users.list_users(db)] == ["Grace", "tester"]


def test_find_by_id_login_email_and_me(db: Db) -> None:
    grace = users.add(db, "Grace Hopper", email="Grace@Example.com")
    with db.read() as session:
        assert users.find(session, str(grace.id)).id == grace.id  # type: ignore[union-attr]
        assert users.find(session, "grace hopper").id == grace.id  # type: ignore[union-attr]
        assert users.find(session, " GRACE HOPPER ").id == grace.id  # type: ignore[union-attr]
        assert users.find(session, "grace@example.COM").id == grace.id  # type: ignore[union-attr]
        assert users.find(session, "me") is None  # not created by a lookup
        for who in ("ghost", "999", "²", "9" * 40, "ghost@example.com"):
            assert users.find(session, who) is None
    with db.write() as session:
        assert users.resolve(session, "me").login == "tester"
        with pytest.raises(NotFound, match="user list"):
            users.resolve(session, "ghost")


def test_set_email(db: Db) -> None:
    users.add(db, "Grace")
    assert users.set_email(db, "grace", "grace@example.com").email == "grace@example.com"
    assert users.set_email(db, "grace", None).email is None
    assert users.set_email(db, "me", "me@example.com").name == "tester"
    with pytest.raises(Invalid):
        users.set_email(db, "grace", "nope")
    with pytest.raises(NotFound):
        users.set_email(db, "ghost", "ghost@example.com")
    assert users.list_users(db)[0].email is None

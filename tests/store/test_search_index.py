"""The search index of the store: words, matching by kind, per-record upkeep equal to a rebuild,
removal, and user input that never reaches the query language."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from smallcrm import activities, companies, contacts, leads
from smallcrm.store import Db, search_index
from smallcrm.store.tables import Company, Contact, now_utc


def content(db: Db) -> list[tuple[int, str, str]]:
    with db.read() as session:
        rows = session.connection().exec_driver_sql(
            "SELECT rowid, title, body FROM search_index ORDER BY rowid"
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def match(db: Db, query: str, kinds: list[str] | None = None, limit: int | None = None):  # type: ignore[no-untyped-def]
    with db.read() as session:
        return search_index.matching(session, query, kinds, limit)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Ada Lovelace", ["ada", "lovelace"]),
        ('"ada" AND (lovelace*)', ["ada", "and", "lovelace"]),
        ("title:x body:y", ["title", "x", "body", "y"]),
        ("ada@example.com", ["ada", "example", "com"]),
        ("snake_case_name", ["snake", "case", "name"]),
        ("Zoë ÅNGSTRÖM", ["zoe", "angstrom"]),
        ("*^()-+:\"'", []),
        ("", []),
        ("李小龍 Дмитрий", ["李小龍", "дмитрий"]),
    ],
)
def test_words(query: str, expected: list[str]) -> None:
    assert search_index.words(query) == expected


def test_words_are_bounded() -> None:
    assert len(search_index.words(" ".join(f"w{i}" for i in range(100)))) == search_index.MAX_WORDS
    assert search_index.words("x" * 10_000) == ["x" * search_index.MAX_WORD_CHARS]


@pytest.fixture
def crm(db: Db) -> Db:
    companies.add(db, "Lovelace Labs")
    contacts.add(db, "Ada Lovelace", company="Lovelace Labs")
    leads.add(db, "Lovelace engine", contact="ada lovelace")
    activities.log(db, "note", "ada lovelace", "Lovelace letter")
    return db


def test_matching_by_kind_and_limit(crm: Db) -> None:
    every = match(crm, "lovelace")
    assert sorted(kind for kind, _ in every) == ["activity", "company", "contact", "lead"]
    assert match(crm, "lovelace", ["lead"]) == [("lead", 1)]
    assert sorted(match(crm, "lovelace", ["contact", "company"])) == [
        ("company", 1), ("contact", 1),
    ]  # fmt: skip
    assert len(match(crm, "lovelace", limit=2)) == 2
    assert match(crm, "lovelace labs", ["contact"]) == [("contact", 1)]  # via its company
    assert match(crm, "") == [] and match(crm, "()") == []


def test_a_document_per_record_keyed_by_id_and_kind(crm: Db) -> None:
    keys = [doc for doc, _, _ in content(crm)]
    assert sorted(keys) == [1 * 4 + 0, 1 * 4 + 1, 1 * 4 + 2, 1 * 4 + 3]


def test_refresh_and_remove_keep_the_index_equal_to_a_rebuild(crm: Db) -> None:
    with crm.write() as session:
        # Change rows behind the services' back, then tell the index.
        session.exec(update(Company).where(Company.id == 1).values(name="Babbage Works"))
        search_index.refresh(session, "company", [1])
    assert match(crm, "babbage") != []
    assert sorted(kind for kind, _ in match(crm, "babbage")) == ["company", "contact", "lead"]
    snapshot = content(crm)
    with crm.write() as session:
        search_index.rebuild(session)
    assert content(crm) == snapshot
    with crm.write() as session:
        search_index.remove(session, "activity", [1, 1, 99])
        search_index.refresh(session, "lead", [])
    assert match(crm, "letter") == []
    assert [doc % 4 for doc, _, _ in content(crm)] == [0, 1, 2]


def test_index_range_adds_bulk_inserted_records(db: Db) -> None:
    with db.write() as session:
        now = now_utc()
        rows = [Contact(name=f"Bulk {i}", created_at=now, updated_at=now) for i in range(50)]
        session.add_all(rows)
        session.flush()
        first, last = rows[0].id, rows[-1].id
        assert search_index.matching(session, "bulk") == []  # no documents yet
        search_index.index_range(session, "contact", first, last)
    assert len(match(db, "bulk")) == 50


def test_purge_keeps_the_index_working(crm: Db) -> None:
    contacts.delete(crm, "ada lovelace")
    with crm.write() as session:
        search_index.purge_deleted_text(session)
    assert sorted(kind for kind, _ in match(crm, "lovelace")) == ["company", "lead"]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text())
def test_matching_never_raises(crm: Db, query: str) -> None:
    assert isinstance(match(crm, query), list)

"""Search: prefix words, all words required, hits name their contact/company, the index stays in
sync with every write, and no input — however hostile — raises."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smallcrm import activities, companies, contacts, followups, leads, search
from smallcrm.records import SearchHit
from smallcrm.store import Db, search_index

HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    "'",
    "a\"b'c",
    '"unbalanced',
    "AND",
    "OR",
    "NOT",
    "AND OR NOT NEAR",
    "NEAR(a b, 2)",
    "ada AND",
    "NOT ada",
    "*",
    "**",
    "ada*",
    "*ada",
    "^",
    "^ada",
    "(",
    ")",
    "(ada",
    "ada)",
    "()",
    "{title body}: x",
    "title:x",
    "body:ada",
    "search_index:ada",
    "rank:1",
    "-",
    "-ada",
    "+ada",
    ":",
    "a:b:c",
    "!!!",
    "...",
    "@#$%^&*()_+=[]{}|\\;:'\",.<>/?`~",
    "\\",
    "\x00",
    "\x1b[2J",
    "ada\x00lovelace",
    "%",
    "_",
    "ada%",
    "' OR 1=1 --",
    "'; DROP TABLE contact; --",
    "😀",
    "ada 😀 lovelace",
    "\u202eevil",
    "ǅ ﬁ Ⅻ 𝟘",
    "x" * 10_000,
    "ada " * 2_500,
    " ".join(f"w{i}" for i in range(1000)),
    "a" * 300,
]


@pytest.fixture
def crm(db: Db) -> Db:
    companies.add(db, "Acme Corp", domain="acme.com", city="Zürich")
    companies.add(db, "Globex", industry="Energy")
    contacts.add(db, "Ada Lovelace", email="ada@acme.com", company="Acme Corp", title="Engineer")
    contacts.add(db, "F. Scott Fitzgerald", company="Globex", note="Writes novels")
    contacts.add(db, "Zoë Ångström", phone="+14155550123")
    contacts.add(db, "Ada Smith", company="Globex")
    leads.add(db, "Analytical engine", contact="ada lovelace", value="1000")
    activities.log(db, "call", "f. scott fitzgerald", "Chat about Gatsby", body="Paris in spring")
    return db


def found(db: Db, query: str) -> set[tuple[str, str]]:
    return {(h.kind, h.title) for h in search.search(db, query)}


def test_a_bare_word_is_a_prefix(crm: Db) -> None:
    assert found(crm, "Fitzg") == {
        ("contact", "F. Scott Fitzgerald"),
    }
    assert found(crm, "fitzgerald") == {("contact", "F. Scott Fitzgerald")}
    assert ("contact", "Ada Lovelace") in found(crm, "lov")
    assert found(crm, "Gats") == {("activity", "Chat about Gatsby")}


def test_every_word_is_required(crm: Db) -> None:
    assert found(crm, "ada") >= {("contact", "Ada Lovelace"), ("contact", "Ada Smith")}
    assert found(crm, "ada lovelace") == {
        ("contact", "Ada Lovelace"),
        ("lead", "Analytical engine"),  # its document names the contact
    }
    assert found(crm, "ada globex") == {("contact", "Ada Smith")}
    assert found(crm, "ada nobody") == set()


def test_case_diacritics_and_punctuation_are_ignored(crm: Db) -> None:
    assert found(crm, "ZOE") == {("contact", "Zoë Ångström")}
    assert found(crm, "angstrom") == {("contact", "Zoë Ångström")}
    assert found(crm, "zürich") == found(crm, "zurich") == {("company", "Acme Corp")}
    assert found(crm, '"ada" (lovelace)!') == found(crm, "ada lovelace")


def test_every_field_is_searched(crm: Db) -> None:
    assert found(crm, "acme.com") == {("company", "Acme Corp"), ("contact", "Ada Lovelace")}
    assert found(crm, "engineer") == {("contact", "Ada Lovelace")}
    assert found(crm, "novels") == {("contact", "F. Scott Fitzgerald")}
    assert found(crm, "+14155550123") == {("contact", "Zoë Ångström")}  # as stored, E.164
    assert found(crm, "energy") == {("company", "Globex")}
    assert found(crm, "paris spring") == {("activity", "Chat about Gatsby")}


def test_hits_name_what_they_concern(crm: Db) -> None:
    hits = {h.kind: h for h in search.search(crm, "lovelace")}
    ada = contacts.get(crm, "ada lovelace")
    assert hits["contact"] == SearchHit(
        kind="contact",
        id=ada.id,
        title="Ada Lovelace",
        detail="ada@acme.com",
        contact_id=ada.id,
        contact="Ada Lovelace",
        company_id=ada.company_id,
        company="Acme Corp",
    )
    lead = hits["lead"]
    assert (lead.contact, lead.company, lead.detail) == ("Ada Lovelace", "Acme Corp", "open")
    call = search.search(crm, "gatsby")[0]
    assert (call.contact, call.company, call.detail) == ("F. Scott Fitzgerald", None, "call")
    company = search.search(crm, "globex energy")[0]
    assert (company.company, company.contact, company.detail) == ("Globex", None, None)


def test_title_matches_rank_first_and_limit_cuts(crm: Db) -> None:
    companies.add(db := crm, "Acme Widgets")
    hits = search.search(db, "acme")
    assert {h.kind for h in hits[:2]} == {"company"}
    assert len(search.search(db, "a", limit=2)) == 2
    assert len(search.search(db, "a", limit=None)) > 2


@pytest.mark.parametrize("query", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_never_raises(crm: Db, query: str) -> None:
    hits = search.search(crm, query)
    assert isinstance(hits, list)
    contacts.list_contacts(crm, search=query)
    companies.list_companies(crm, search=query)
    leads.list_leads(crm, search=query)
    leads.board(crm, search=query)
    contacts.count(crm, search=query)


def test_operators_are_literal_words(crm: Db) -> None:
    contacts.add(crm, "Near Andor")
    assert found(crm, "NEAR") == {("contact", "Near Andor")}
    assert found(crm, "and") == {("contact", "Near Andor")}  # "andor" starts with "and"
    assert found(crm, "NOT") == set()
    assert found(crm, "OR") == set()
    assert found(crm, "title:ada") == set()  # no such word as "title"
    assert found(crm, "(ada") == found(crm, "ada")


def test_empty_and_punctuation_only_queries_find_nothing(crm: Db) -> None:
    for query in ("", "  ", "!!!", "*", '""', "()"):
        assert search.search(crm, query) == []


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=60))
def test_arbitrary_text_never_raises(crm: Db, query: str) -> None:
    assert isinstance(search.search(crm, query), list)


# Letters, digits and spaces of every script that Unicode 3.2 already had, and punctuation.
# FTS5 knows Unicode 6.1 only: it neither lower-cases letters added later (Georgian "Ა") nor
# splits words at newer symbols ("🥳bob" is one token), where Python's newer tables do.
NAME_CHARACTERS = st.one_of(
    st.characters(categories=["L", "N", "Zs"]).filter(
        lambda c: unicodedata.ucd_3_2_0.category(c) == unicodedata.category(c)
    ),
    st.sampled_from(list(".,-'&@()/\"!?")),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.text(NAME_CHARACTERS, min_size=1))
def test_any_stored_name_is_found_by_its_own_words(db: Db, name: str) -> None:
    if not name.strip() or len(name.strip()) > 500:
        return
    person = contacts.add(db, name)
    words = search_index.words(name)
    try:
        if words:
            assert person.id in {h.id for h in search.search(db, name, limit=None)}
    finally:
        contacts.delete(db, str(person.id))


# --------------------------------------------------------------------------------------------
# the index follows every write


def index_content(db: Db) -> list[tuple[int, str, str]]:
    with db.read() as session:
        conn = session.connection()
        key = "rowid" if conn.dialect.name == "sqlite" else "doc_id"
        rows = conn.exec_driver_sql(f"SELECT {key}, title, body FROM search_index ORDER BY 1")
        return [tuple(row) for row in rows]  # type: ignore[misc]


def assert_index_matches_a_rebuild(db: Db) -> None:
    before = index_content(db)
    with db.write() as session:
        search_index.rebuild(session)
    assert index_content(db) == before


def test_added_records_are_found_at_once(db: Db) -> None:
    companies.add(db, "Quokka Ltd")
    contacts.add(db, "Wilhelmina", company="Quokka Ltd")
    leads.add(db, "Platypus project")
    activities.log(db, "note", "wilhelmina", "Echidna notes")
    assert found(db, "quokka") == {("company", "Quokka Ltd"), ("contact", "Wilhelmina")}
    assert found(db, "platyp") == {("lead", "Platypus project")}
    assert found(db, "echid") == {("activity", "Echidna notes")}
    assert_index_matches_a_rebuild(db)


def test_edits_replace_the_old_words(db: Db) -> None:
    contacts.add(db, "Old Name", email="old@example.com")
    contacts.edit(db, "old name", name="New Name", email="fresh@example.com")
    assert found(db, "old") == set()
    assert found(db, "new name") == {("contact", "New Name")}
    assert found(db, "fresh") == {("contact", "New Name")}
    leads.add(db, "Old deal")
    leads.edit(db, "old deal", title="Shiny deal")
    assert found(db, "old") == set()
    assert found(db, "shiny") == {("lead", "Shiny deal")}
    companies.add(db, "Old Co")
    companies.edit(db, "old co", name="Renamed Co", industry="Mining")
    assert found(db, "old") == set()
    assert found(db, "mining") == {("company", "Renamed Co")}
    assert_index_matches_a_rebuild(db)


def test_a_renamed_company_finds_its_contacts_under_the_new_name(db: Db) -> None:
    companies.add(db, "Initech")
    contacts.add(db, "Peter Gibbons", company="Initech")
    contacts.add(db, "Milton", company="Initech")
    leads.add(db, "Stapler order", company="Initech")
    companies.edit(db, "initech", name="Innotech")
    assert found(db, "innotech") == {
        ("company", "Innotech"),
        ("contact", "Peter Gibbons"),
        ("contact", "Milton"),
        ("lead", "Stapler order"),
    }
    assert found(db, "initech") == set()
    assert found(db, "peter innotech") == {("contact", "Peter Gibbons")}
    assert_index_matches_a_rebuild(db)


def test_a_contact_moved_to_another_company_is_found_under_it(db: Db) -> None:
    contacts.add(db, "Peter", company="Initech")
    contacts.edit(db, "peter", company="Chotchkies")
    assert found(db, "peter chotchkies") == {("contact", "Peter")}
    assert found(db, "peter initech") == set()
    assert_index_matches_a_rebuild(db)


def test_a_renamed_contact_renames_its_leads_documents(db: Db) -> None:
    contacts.add(db, "Ada Byron")
    leads.add(db, "Engine", contact="ada byron")
    contacts.edit(db, "ada byron", name="Ada Lovelace")
    assert found(db, "engine lovelace") == {("lead", "Engine")}
    assert found(db, "engine byron") == set()
    assert_index_matches_a_rebuild(db)


def test_deletes_remove_documents(db: Db) -> None:
    companies.add(db, "Doomed Co")
    contacts.add(db, "Doomed Person", company="Doomed Co")
    contacts.add(db, "Survivor", company="Doomed Co")
    leads.add(db, "Doomed lead", contact="doomed person")
    activities.log(db, "note", "doomed person", "Doomed note")
    activities.log(db, "note", "company:doomed co", "Company note")
    note = activities.log(db, "note", "survivor", "Lonely note")
    followups.add(db, "doomed person", "Doomed follow-up", due="2030-01-01")

    contacts.delete(db, "doomed person")
    assert found(db, "doomed") == {
        ("company", "Doomed Co"),
        ("contact", "Survivor"),  # its document names its company
        ("lead", "Doomed lead"),
    }
    assert found(db, "person") == set()
    assert_index_matches_a_rebuild(db)

    companies.delete(db, "doomed co")
    assert found(db, "doomed") == {("lead", "Doomed lead")}
    assert found(db, "company note") == set()
    assert found(db, "survivor") == {("contact", "Survivor")}
    assert_index_matches_a_rebuild(db)

    leads.delete(db, "doomed lead")
    activities.delete(db, note.id)
    assert found(db, "doomed") == set()
    assert found(db, "lonely") == set()
    assert_index_matches_a_rebuild(db)


def test_merge_leaves_one_document(db: Db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.add(db, "Augusta Ada King", phone="+14155550123")
    leads.add(db, "Engine", contact="augusta ada king")
    contacts.merge(db, "ada lovelace", "augusta ada king")
    assert found(db, "augusta") == set()
    assert found(db, "ada") == {("contact", "Ada Lovelace"), ("lead", "Engine")}
    assert found(db, "+14155550123") == {("contact", "Ada Lovelace")}
    assert_index_matches_a_rebuild(db)


def test_won_and_lost_keep_the_index_current(db: Db) -> None:
    leads.add(db, "Deal")
    leads.lost(db, "deal", "Competitor Initrode")
    assert found(db, "initrode") == {("lead", "Deal")}
    leads.move(db, "deal", "New")  # reopening clears the reason
    leads.won(db, "deal")
    assert found(db, "initrode") == set()
    assert_index_matches_a_rebuild(db)

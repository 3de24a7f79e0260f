"""REF resolution: ids, emails, domains, case-insensitive unique names, ambiguity listing the
candidates."""

from __future__ import annotations

import pytest

from smallcrm import companies, contacts, followups, leads, refs
from smallcrm.errors import Ambiguous, Invalid, NotFound
from smallcrm.store import Db
from smallcrm.store.tables import Company, Contact


def resolve(db: Db, finder, ref):  # type: ignore[no-untyped-def]
    """Run a refs finder in a read session and return (table name, id, name or title)."""
    with db.read() as session:
        row = finder(session, ref)
        label = getattr(row, "name", None) or getattr(row, "title", None)
        return type(row).__name__, row.id, label


# --------------------------------------------------------------------------------------------
# contacts


def test_contact_by_id_and_hash_id(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace")
    assert resolve(db, refs.contact, str(ada.id)) == ("Contact", ada.id, "Ada Lovelace")
    assert resolve(db, refs.contact, f"#{ada.id}")[1] == ada.id
    assert resolve(db, refs.contact, f"  {ada.id} ")[1] == ada.id


def test_contact_by_email_is_case_insensitive(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="Ada@Example.com")
    assert resolve(db, refs.contact, "ada@example.COM")[1] == ada.id
    assert resolve(db, refs.contact, " ADA@EXAMPLE.COM ")[1] == ada.id


def test_contact_by_unique_name_ignores_case_and_surrounding_space(db: Db) -> None:
    ada = contacts.add(db, "Ada Lovelace")
    contacts.add(db, "Grace Hopper")
    assert resolve(db, refs.contact, "ada lovelace")[1] == ada.id
    assert resolve(db, refs.contact, "  ADA LOVELACE  ")[1] == ada.id


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("Zoë Fitzgerald", "ZOË FITZGERALD"),
        ("Åsa Öberg", "åsa öberg"),
        ("Ólafur Þórsson", "ÓLAFUR ÞÓRSSON"),
        ("Σωκράτης", "σωκράτης"),
        ("Дмитрий Иванов", "дмитрий иванов"),
        ("李小龍", "李小龍"),
    ],
)
def test_contact_by_non_ascii_name_ignores_case(db: Db, stored: str, typed: str) -> None:
    person = contacts.add(db, stored)
    contacts.add(db, "Someone Else")
    assert resolve(db, refs.contact, typed) == ("Contact", person.id, stored)


def test_non_ascii_names_differing_only_in_case_are_ambiguous(db: Db) -> None:
    # SQLite's lower() folds ASCII only: the first matches "émile zola" there, the second not.
    first = contacts.add(db, "émile zola")
    second = contacts.add(db, "ÉMILE ZOLA")
    for typed in ("émile zola", "Émile Zola", "ÉMILE ZOLA"):
        with pytest.raises(Ambiguous) as caught:
            resolve(db, refs.contact, typed)
        assert sorted(caught.value.candidates) == sorted(
            [f"{first.id}: émile zola", f"{second.id}: ÉMILE ZOLA"]
        )


def test_ambiguous_contact_name_lists_every_candidate(db: Db) -> None:
    one = contacts.add(db, "John Smith", email="john1@example.com")
    two = contacts.add(db, "john smith", email="john2@example.com")
    contacts.add(db, "John Smithers")
    with pytest.raises(Ambiguous) as caught:
        resolve(db, refs.contact, "JOHN SMITH")
    assert sorted(caught.value.candidates) == sorted(
        [f"{one.id}: John Smith", f"{two.id}: john smith"]
    )
    message = str(caught.value)
    assert "use an id" in message
    assert f"{one.id}: John Smith" in message and f"{two.id}: john smith" in message
    # Either can still be reached by id or email.
    assert resolve(db, refs.contact, "john2@example.com")[1] == two.id


def test_ambiguous_message_shows_ten_candidates_and_counts_the_rest(db: Db) -> None:
    for _ in range(13):
        contacts.add(db, "Same Name")
    with pytest.raises(Ambiguous) as caught:
        resolve(db, refs.contact, "same name")
    assert len(caught.value.candidates) == 13
    assert str(caught.value).endswith("and 3 more")


def test_unknown_contact_is_not_found(db: Db) -> None:
    contacts.add(db, "Ada Lovelace")
    for ref in ("Nobody", "999", "#999", "nobody@example.com", "Ada"):
        with pytest.raises(NotFound):
            resolve(db, refs.contact, ref)


@pytest.mark.parametrize("ref", ["", "   ", None])
def test_empty_ref_is_invalid(db: Db, ref: str | None) -> None:
    for finder in (refs.contact, refs.company, refs.lead, refs.customer, refs.followup):
        with pytest.raises(Invalid):
            resolve(db, finder, ref)


@pytest.mark.parametrize("ref", ["²", "١", "٣", "9" * 30, "-1", "1.5", "0x1", "1e3"])
def test_odd_numbers_never_crash(db: Db, ref: str) -> None:
    contacts.add(db, "Ada Lovelace")
    for finder in (refs.contact, refs.company, refs.lead, refs.customer, refs.followup):
        with pytest.raises(NotFound):
            resolve(db, finder, ref)


def test_a_name_made_of_digits_is_found_when_no_such_id(db: Db) -> None:
    band = contacts.add(db, "311")
    assert resolve(db, refs.contact, "311")[1] == band.id


def test_an_email_that_is_nobodys_falls_back_to_names(db: Db) -> None:
    odd = contacts.add(db, "ops@home")  # a name that looks like an address
    assert resolve(db, refs.contact, "OPS@HOME")[1] == odd.id


# --------------------------------------------------------------------------------------------
# companies, leads, follow-ups


def test_company_by_id_domain_and_name(db: Db) -> None:
    acme = companies.add(db, "Acme Corp", domain="acme.com")
    assert resolve(db, refs.company, str(acme.id))[1] == acme.id
    assert resolve(db, refs.company, "ACME.com")[1] == acme.id
    assert resolve(db, refs.company, "acme corp")[1] == acme.id
    with pytest.raises(NotFound):
        resolve(db, refs.company, "other.com")
    with pytest.raises(NotFound):
        resolve(db, refs.company, "Acme")


def test_company_by_non_ascii_name(db: Db) -> None:
    company = companies.add(db, "Société Générale")
    assert resolve(db, refs.company, "SOCIÉTÉ GÉNÉRALE")[1] == company.id


def test_lead_by_id_and_title(db: Db) -> None:
    lead = leads.add(db, "Big Deal")
    assert resolve(db, refs.lead, str(lead.id))[1] == lead.id
    assert resolve(db, refs.lead, "big deal")[1] == lead.id
    with pytest.raises(NotFound):
        resolve(db, refs.lead, "Small Deal")


def test_ambiguous_lead_title_lists_candidates(db: Db) -> None:
    one = leads.add(db, "Renewal")
    two = leads.add(db, "RENEWAL")
    with pytest.raises(Ambiguous) as caught:
        resolve(db, refs.lead, "renewal")
    assert sorted(caught.value.candidates) == sorted([f"{one.id}: Renewal", f"{two.id}: RENEWAL"])


def test_followup_by_id_only(db: Db) -> None:
    contacts.add(db, "Ada Lovelace")
    item = followups.add(db, "Ada Lovelace", "Call back", due="2030-01-01")
    assert resolve(db, refs.followup, item.id)[1] == item.id
    assert resolve(db, refs.followup, str(item.id))[1] == item.id
    assert resolve(db, refs.followup, f"#{item.id}")[1] == item.id
    for ref in ("Call back", 999, 10**30, -1, "abc"):
        with pytest.raises(NotFound):
            resolve(db, refs.followup, ref)


# --------------------------------------------------------------------------------------------
# customers: a contact or a company


def test_customer_prefixed_forms(db: Db) -> None:
    company = companies.add(db, "Acme")
    person = contacts.add(db, "Ada", company="Acme")
    assert resolve(db, refs.customer, f"contact:{person.id}") == ("Contact", person.id, "Ada")
    assert resolve(db, refs.customer, f"company:{company.id}") == ("Company", company.id, "Acme")
    assert resolve(db, refs.customer, f"Company: {company.id}")[0] == "Company"
    assert resolve(db, refs.customer, "company:acme")[0] == "Company"
    assert resolve(db, refs.customer, "contact:ada")[0] == "Contact"
    with pytest.raises(NotFound):
        resolve(db, refs.customer, "contact:999")
    with pytest.raises(NotFound):
        resolve(db, refs.customer, "company:ada")


def test_customer_by_bare_id(db: Db) -> None:
    # Companies and contacts number independently; make their ids differ.
    companies.add(db, "Filler One")
    companies.add(db, "Filler Two")
    company = companies.add(db, "Acme")
    person = contacts.add(db, "Ada")
    assert person.id != company.id
    assert resolve(db, refs.customer, str(person.id))[0] == "Contact"
    assert resolve(db, refs.customer, str(company.id)) == ("Company", company.id, "Acme")
    with pytest.raises(NotFound):
        resolve(db, refs.customer, "999")


def test_a_bare_id_of_both_a_contact_and_a_company_means_the_contact(db: Db) -> None:
    # `contact add Ada --company Acme` makes contact 1 and company 1; `log call 1 …` is Ada.
    person = contacts.add(db, "Ada", company="Acme")
    company = companies.get(db, "acme")
    assert person.id == company.id
    assert resolve(db, refs.customer, str(person.id)) == ("Contact", person.id, "Ada")
    assert resolve(db, refs.customer, f"company:{company.id}")[0] == "Company"


def test_customer_by_email_and_unique_name(db: Db) -> None:
    companies.add(db, "Acme")
    person = contacts.add(db, "Ada", email="ada@example.com")
    assert resolve(db, refs.customer, "ADA@example.com")[1] == person.id
    assert resolve(db, refs.customer, "ada") == ("Contact", person.id, "Ada")
    assert resolve(db, refs.customer, "ACME")[0] == "Company"
    with pytest.raises(NotFound):
        resolve(db, refs.customer, "nobody")
    with pytest.raises(NotFound):
        resolve(db, refs.customer, "nobody@example.com")


def test_customer_name_shared_by_contact_and_company_is_ambiguous(db: Db) -> None:
    company = companies.add(db, "Jordan")
    person = contacts.add(db, "jordan")
    with pytest.raises(Ambiguous) as caught:
        resolve(db, refs.customer, "JORDAN")
    assert sorted(caught.value.candidates) == sorted(
        [f"contact {person.id}: jordan", f"company {company.id}: Jordan"]
    )
    assert "contact:ID or company:ID" in str(caught.value)


def test_customer_name_ambiguous_among_contacts_lists_them(db: Db) -> None:
    one = contacts.add(db, "Sam")
    two = contacts.add(db, "SAM")
    with pytest.raises(Ambiguous) as caught:
        resolve(db, refs.customer, "sam")
    assert sorted(caught.value.candidates) == sorted(
        [f"contact {one.id}: Sam", f"contact {two.id}: SAM"]
    )


def test_customer_rows_are_live_table_rows(db: Db) -> None:
    companies.add(db, "Acme")
    contacts.add(db, "Ada")
    with db.read() as session:
        assert isinstance(refs.customer(session, "acme"), Company)
        assert isinstance(refs.customer(session, "ada"), Contact)

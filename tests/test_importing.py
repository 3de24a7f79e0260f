"""Import service: every kind of input file, every error path, duplicates, all-or-nothing."""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest

from smallcrm import activities, companies, contacts, followups, importing, leads
from smallcrm.errors import Invalid
from smallcrm.values import normalize_phone, validate_email

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def run(db, kind: str, name: str, **options):
    return importing.import_file(db, kind, FIXTURES / name, **options)


def by_email(db) -> dict[str, object]:
    return {c.email: c for c in contacts.list_contacts(db)}


@pytest.mark.parametrize(
    "name",
    ["bom_crlf.csv", "semicolons.csv", "tabs.tsv", "quoted_newlines.csv"],
)
def test_text_variants_import(db, name: str) -> None:
    result = run(db, "contacts", name)
    assert result.written and result.rejected == 0
    found = by_email(db)
    assert found["ada@example.com"].name == "Ada Lovelace"


def test_bom_crlf_values_are_clean(db) -> None:
    run(db, "contacts", "bom_crlf.csv")
    ada = by_email(db)["ada@example.com"]
    assert ada.phone == "+14155550123"
    assert ada.extra == {}
    assert by_email(db)["alan@example.org"].phone == "+442079460958"


def test_semicolons_create_the_company_once(db) -> None:
    run(db, "contacts", "semicolons.csv")
    assert [c.name for c in companies.list_companies(db)] == ["Analytical Engines"]
    assert {c.company for c in contacts.list_contacts(db)} == {"Analytical Engines"}


def test_quoted_newlines_kept(db) -> None:
    run(db, "contacts", "quoted_newlines.csv")
    assert by_email(db)["ada@example.com"].note == 'first line\nsecond, with comma\nthird "quoted"'


def test_tab_delimited_title_with_comma(db) -> None:
    run(db, "contacts", "tabs.tsv")
    assert by_email(db)["ada@example.com"].title == "Countess, of Lovelace"


def test_latin1_without_encoding_is_refused_naming_the_line(db) -> None:
    result = run(db, "contacts", "latin1.csv")
    assert not result.written and result.refused
    assert [line for line, _ in result.errors] == [2, 3]
    assert "UTF-8" in result.errors[0][1] and "--encoding" in result.errors[0][1]
    assert contacts.list_contacts(db) == []


def test_latin1_with_encoding(db) -> None:
    run(db, "contacts", "latin1.csv", encoding="latin-1")
    zoe = by_email(db)["zoe@example.com"]
    assert zoe.name == "Zoë Müller" and zoe.extra == {"City": "Zürich"}


def test_invalid_rows_at_known_lines_write_nothing(db) -> None:
    result = run(db, "contacts", "invalid_rows.csv")
    assert result.refused and not result.written
    lines = [line for line, _ in result.errors]
    assert lines == [4, 6, 7]  # the quoted newline makes row 2 span lines 2-3
    assert "needs a name" in result.errors[0][1]
    assert "invalid email" in result.errors[1][1]
    assert "phone" in result.errors[2][1]
    assert contacts.list_contacts(db) == []
    assert result.summary() == "imported 0, updated 0, skipped 2, rejected 3"


def test_rejects_file_imports_the_good_rows(db, tmp_path: Path) -> None:
    rejects = tmp_path / "bad.csv"
    result = run(db, "contacts", "invalid_rows.csv", rejects=rejects)
    assert result.written and (result.imported, result.rejected) == (2, 3)
    assert sorted(by_email(db)) == ["ada@example.com", "alan@example.org"]
    text = rejects.read_text()
    assert text.splitlines()[0] == "Name,Email,Phone,Notes,error"
    assert "line 6: invalid email" in text and "Grace Hopper,not-an-email" in text
    assert rejects.stat().st_mode & 0o777 == 0o600


def test_dry_run_writes_nothing(db) -> None:
    result = run(db, "contacts", "semicolons.csv", dry_run=True)
    assert result.dry_run and not result.written and result.imported == 2
    assert contacts.list_contacts(db) == [] and companies.list_companies(db) == []


def test_duplicates_in_file_and_database(db) -> None:
    contacts.add(db, "Alan", email="ALAN@example.org")
    result = run(db, "contacts", "duplicates.csv")
    assert (result.imported, result.skipped) == (1, 2)
    assert by_email(db)["ada@example.com"].name == "Ada Lovelace"
    again = run(db, "contacts", "duplicates.csv")
    assert (again.imported, again.updated, again.skipped) == (0, 0, 3)


def test_duplicates_error_policy(db) -> None:
    result = run(db, "contacts", "duplicates.csv", on_duplicate="error")
    assert result.refused
    assert result.errors == [(3, "duplicate of line 2")]


def test_duplicates_update_policy(db) -> None:
    contacts.add(db, "Alan", email="alan@example.org")
    result = run(db, "contacts", "duplicates.csv", on_duplicate="update")
    assert (result.imported, result.updated) == (1, 2)
    found = {c.email.lower(): c for c in contacts.list_contacts(db)}
    assert found["ada@example.com"].name == "Ada L."  # the later row updated the new record
    assert found["alan@example.org"].name == "Alan Turing"
    again = run(db, "contacts", "duplicates.csv", on_duplicate="update")
    assert again.imported == 0 and len(contacts.list_contacts(db)) == 2


def test_unknown_columns_and_tags_kept(db) -> None:
    run(db, "contacts", "unknown_columns.csv")
    ada = by_email(db)["ada@example.com"]
    assert ada.extra == {"Favourite Colour": "blue", "Shoe Size": "38"}
    assert ada.tags == ["math", "vip"]
    assert by_email(db)["alan@example.org"].extra == {"Shoe Size": "44"}


def test_formula_prefix_stripped_only_when_export_added_it(db) -> None:
    run(db, "contacts", "formulas.csv")
    found = by_email(db)
    assert found["eve@example.com"].name == '=HYPERLINK("http://evil")'
    assert found["dash@example.com"].name == "-dash"
    assert found["dash@example.com"].note == "@cmd"


@pytest.mark.parametrize(
    ("value", "shown"),
    [("=1", "'=1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("'=1", "''=1"), ("'plain", "'plain"), ("plain", "plain"), ("", "")],
)  # fmt: skip
def test_neutralise_round_trip(value: str, shown: str) -> None:
    assert importing.neutralise(value) == shown
    assert importing.unneutralise(shown) == value


def test_tool_aliases(db) -> None:
    run(db, "contacts", "google.csv")
    run(db, "contacts", "outlook.csv")
    run(db, "contacts", "salesforce.csv")
    found = by_email(db)
    ada = found["ada@example.com"]
    assert (ada.name, ada.phone, ada.company, ada.title) == (
        "Ada King Lovelace", "+14155550123", "Analytical Engines", "Countess",
    )  # fmt: skip
    assert ada.tags == ["mycontacts", "vip"]
    assert ada.extra == {"E-mail 1 - Label": "* Work", "Phone 1 - Label": "Mobile"}
    alan = found["alan@example.org"]
    assert (alan.name, alan.company, alan.tags) == (
        "Alan Turing",
        "Bletchley Park",
        ["codes", "war"],
    )
    grace = found["grace@example.com"]
    assert (grace.company, grace.title, grace.phone) == ("US Navy", "Rear Admiral", "+12025550173")
    assert grace.extra == {"Lead Source": "Conference"}


def test_map_overrides(db) -> None:
    run(db, "contacts", "unknown_columns.csv", mapping={"Favourite Colour": "title", "Tags": "-"})
    ada = by_email(db)["ada@example.com"]
    assert ada.title == "blue" and ada.tags == [] and ada.extra == {"Shoe Size": "38"}


def test_map_errors(db) -> None:
    with pytest.raises(Invalid, match="no column 'Nope'"):
        run(db, "contacts", "semicolons.csv", mapping={"Nope": "title"})
    with pytest.raises(Invalid, match="unknown field"):
        run(db, "contacts", "semicolons.csv", mapping={"Name": "shoe"})


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "is empty"),
        ("header_only.csv", "header but no rows"),
        ("binary.csv", "not a text file"),
        ("missing.csv", "no such file"),
    ],
)
def test_file_errors(db, name: str, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        run(db, "contacts", name)


def test_directory_and_bad_encoding_and_delimiter(db, tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="directory"):
        importing.import_file(db, "contacts", tmp_path)
    with pytest.raises(Invalid, match="unknown encoding"):
        run(db, "contacts", "semicolons.csv", encoding="klingon")
    with pytest.raises(Invalid, match="--delimiter"):
        run(db, "contacts", "semicolons.csv", delimiter="ab")


def test_stdin_is_read(db) -> None:
    data = (FIXTURES / "bom_crlf.csv").read_bytes()
    result = importing.import_file(db, "contacts", "-", stdin=io.BytesIO(data))
    assert result.imported == 2


def test_vcard_import(db, tmp_path: Path) -> None:
    result = run(db, "contacts", "contacts.vcf")
    assert (result.imported, result.skipped, result.rejected) == (0, 2, 1) and result.refused
    assert result.errors[0][0] == 19 and "invalid email" in result.errors[0][1]
    result = run(db, "contacts", "contacts.vcf", rejects=tmp_path / "x.csv")
    assert (result.imported, result.rejected) == (2, 1)
    assert "line 19: invalid email" in (tmp_path / "x.csv").read_text()
    ada = by_email(db)["ada@example.com"]
    assert (ada.phone, ada.company, ada.title, ada.note) == (
        "+14155550123", "Analytical Engines", "Countess", "Met in London",
    )  # fmt: skip
    assert ada.tags == ["math", "vip"] and ada.extra == {"Department": "Research"}
    alan = by_email(db)["alan@example.org"]
    assert alan.extra == {
        "E-mail 2": "alan.home@example.org",
        "Website": "https://example.org/alan",
    }


def test_companies_dedupe_by_name_and_domain(db) -> None:
    result = run(db, "companies", "companies.csv")
    assert (result.imported, result.skipped) == (2, 1)  # Engines Two shares the domain
    found = {c.name: c for c in companies.list_companies(db)}
    assert found["Analytical Engines"].domain == "engines.example"
    assert found["Bletchley Park"].country == "UK"
    assert run(db, "companies", "companies.csv").skipped == 3


def _people(db) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com", company="Engines")
    contacts.add(db, "Alan Turing", email="alan@example.org")


def test_leads_link_by_email_and_reject_unknown(db, tmp_path: Path) -> None:
    _people(db)
    result = run(db, "leads", "leads.csv")
    assert result.refused
    assert [line for line, _ in result.errors] == [3, 4]
    assert "no contact with email" in result.errors[0][1]
    assert "unknown stage" in result.errors[1][1]
    result = run(db, "leads", "leads.csv", rejects=tmp_path / "r.csv")
    assert (result.imported, result.rejected) == (1, 2)
    [lead] = leads.list_leads(db, status="all")
    assert (lead.title, lead.contact, lead.company, lead.stage) == (
        "Engine order", "Ada Lovelace", "Engines", "Qualified",
    )  # fmt: skip
    assert (lead.value_minor, lead.currency, str(lead.expected_close)) == (
        500050,
        "EUR",
        "2026-12-01",
    )


def test_activities_and_followups(db) -> None:
    _people(db)
    assert run(db, "activities", "activities.csv").imported == 2
    assert run(db, "activities", "activities.csv").skipped == 2
    found = {a.summary: a for a in activities.list_activities(db)}
    assert (
        found["Intro call"].body == "Talked, at length" and found["Intro call"].duration_min == 30
    )
    assert found["Site visit"].contact == "Alan Turing"
    assert run(db, "followups", "followups.csv").imported == 2
    assert run(db, "followups", "followups.csv").skipped == 2
    titles = [f.title for f in followups.list_followups(db)]
    assert titles == ["Send proposal", "Call back"]


def test_imported_contacts_are_searchable(db) -> None:
    from smallcrm import search

    run(db, "contacts", "semicolons.csv")
    hits = search.search(db, "analyt")
    assert {(h.kind, h.title) for h in hits} >= {
        ("contact", "Ada Lovelace"),
        ("company", "Analytical Engines"),
    }


def test_fast_email_check_agrees_with_the_validator() -> None:
    samples = [
        "a@example.com", "a.b+c@sub.example.co.uk", "a..b@example.com", ".a@example.com",
        "a@localhost", "a@example", "a@test.test", "a@-x.com", "x@exam_ple.com", "é@example.com",
        "a@b.c", "a\"b@example.com", "a@example.com.", "a@123.123.123.123", "user@xn--bcher-kva.ch",
    ]  # fmt: skip
    for address in samples:
        try:
            expected = validate_email(address)
        except Invalid:
            expected = None
        try:
            got = importing.check_email(address)
        except Invalid:
            got = None
        assert got == expected, address


@pytest.mark.parametrize("region", [None, "GB", "DE"])
def test_fast_phone_normaliser_agrees_with_normalize_phone(region: str | None) -> None:
    rng = random.Random(7)
    normaliser = importing.PhoneNormaliser(region)
    formats = [
        lambda: f"({rng.randint(100, 999)}) {rng.randint(100, 999)}-{rng.randint(0, 9999):04d}",
        lambda: f"1-{rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(0, 9999):04d}",
        lambda: f"+44 {rng.choice(['20', '0 20', '7700', '121'])} {rng.randint(0, 10**7)}",
        lambda: f"+49 {rng.randint(30, 9999)} {rng.randint(10**4, 10**8)}",
        lambda: f"+54 9 11 {rng.randint(10**7, 10**8 - 1)}",
        lambda: f"+52 1 55 {rng.randint(10**7, 10**8 - 1)}",
        lambda: f"+{rng.randint(1, 999)} {rng.randint(10**5, 10**11)}",
        lambda: f"{rng.randint(10**5, 10**12)}",
        lambda: f"0{rng.choice(['20', '121', '161', '7700', '30', '89'])} {rng.randint(0, 10**8)}",
        lambda: f"+44 (0){rng.choice(['20', '1800 20'])} {rng.randint(10**5, 10**8)}",
        lambda: f"{rng.choice(['1', '001', '00'])}-{rng.randint(200, 999)}.{rng.randint(0, 10**7)}",
    ]
    for _ in range(3000):
        text = rng.choice(formats)()
        try:
            expected = normalize_phone(text, region)
        except Invalid:
            expected = None
        try:
            got = normaliser(text)
        except Invalid:
            got = None
        assert got == expected, text

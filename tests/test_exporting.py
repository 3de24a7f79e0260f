"""Export: CSV that spreadsheets open safely and that re-imports to the same records, JSON equal
to the list commands', vCard and iCalendar that other programs read back, filters, privacy."""

from __future__ import annotations

import csv
import io
import json
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smallcrm import companies, contacts, exporting, followups, importing, leads
from smallcrm.store import Db

FIXTURES = Path(__file__).parent / "fixtures" / "import"
NOTE = 'Line one, with a comma\nline two "quoted" — naïve café 日本'


@pytest.fixture
def cli(db_target: str) -> Iterator[Any]:
    """Run `smallcrm --db <the test's database> ARGS` in this process."""
    from smallcrm.cli import context
    from smallcrm.cli.main import app

    runner = CliRunner()

    def run(*args: str, input: bytes | str | None = None) -> Any:
        context.reset()
        return runner.invoke(app, ["--db", db_target, *args], input=input)

    yield run
    context.reset()


def export_csv(db: Db, kind: str = "contacts", **options: Any) -> str:
    out = io.StringIO(newline="")
    exporting.write_csv(db, kind, out, **options)
    return out.getvalue()


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def comparable(contact: Any) -> tuple[Any, ...]:
    """A contact without what the database assigns (ids, versions, times)."""
    return (
        contact.name, contact.email, contact.phone, contact.company, contact.title,
        contact.stage, contact.owner, contact.tags, contact.note, contact.consent,
        contact.do_not_contact, contact.extra,
    )  # fmt: skip


def sample(db: Db) -> None:
    """Contacts with everything a round trip can lose: tags, phones, companies, notes with
    commas, quotes and newlines, formula-like text, unknown columns (extra)."""
    importing.import_file(db, "contacts", FIXTURES / "unknown_columns.csv")
    contacts.add(
        db, "Grace Hopper", email="grace@example.com", phone="+1 202 555 0173",
        company="US Navy", title="Rear Admiral", stage="client", tags_=["navy", "cobol"],
        note=NOTE, consent=True,
    )  # fmt: skip
    contacts.add(db, '=HYPERLINK("http://evil")', email="eve@example.com", note="@SUM(A1)")
    contacts.add(db, "-minus", phone="+44 20 7946 0958", title="+plus", tags_=["-x"])


# --------------------------------------------------------------------------------------------
# CSV: formulas


def test_csv_neutralises_formula_cells_and_raw_does_not(db: Db) -> None:
    sample(db)
    safe = {r["email"] or r["name"]: r for r in rows_of(export_csv(db))}
    eve = safe["eve@example.com"]
    assert eve["name"] == '\'=HYPERLINK("http://evil")' and eve["note"] == "'@SUM(A1)"
    minus = safe["'-minus"]
    assert minus["title"] == "'+plus" and minus["tags"] == "'-x"
    assert minus["phone"] == "'+442079460958"
    for row in safe.values():  # no cell starts like a formula
        for key, value in row.items():
            assert not value.startswith(importing.FORMULA_STARTS), (key, value)
    raw = {r["email"] or r["name"]: r for r in rows_of(export_csv(db, raw=True))}
    assert raw["eve@example.com"]["name"] == '=HYPERLINK("http://evil")'
    assert raw["-minus"]["title"] == "+plus"


def test_phone_cells_start_with_plus_and_are_neutralised(db: Db) -> None:
    contacts.add(db, "Alan Turing", email="alan@example.org", phone="+44 20 7946 0958")
    [row] = rows_of(export_csv(db))
    assert row["phone"] == "'+442079460958"
    [row] = rows_of(export_csv(db, raw=True))
    assert row["phone"] == "+442079460958"


# --------------------------------------------------------------------------------------------
# CSV: round trip


def test_csv_round_trip_gives_the_same_records(db: Db, tmp_path: Path) -> None:
    sample(db)
    before = sorted(comparable(c) for c in contacts.list_contacts(db))
    path = tmp_path / "contacts.csv"
    path.write_text(export_csv(db), encoding="utf-8", newline="")
    again = importing.import_file(db, "contacts", path)
    assert (again.imported, again.updated, again.rejected) == (0, 0, 0)
    assert again.skipped == len(before)
    for contact in contacts.list_contacts(db):
        contacts.delete(db, str(contact.id))
    result = importing.import_file(db, "contacts", path)
    assert (result.imported, result.rejected) == (len(before), 0)
    after = sorted(comparable(c) for c in contacts.list_contacts(db))
    assert after == before
    ada = contacts.get(db, "ada@example.com")
    assert ada.extra == {"Favourite Colour": "blue", "Shoe Size": "38"}
    assert ada.tags == ["math", "vip"]
    assert contacts.get(db, "grace@example.com").note == NOTE


def test_csv_round_trip_through_the_cli(cli: Any, tmp_path: Path) -> None:
    source = FIXTURES / "unknown_columns.csv"
    assert cli("import", "contacts", str(source)).exit_code == 0
    path = tmp_path / "out.csv"
    assert cli("export", "contacts", "-o", str(path)).exit_code == 0
    result = cli("import", "contacts", str(path))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "imported 0, updated 0, skipped 2, rejected 0"


def test_extra_columns_are_the_union_in_first_seen_order(db: Db) -> None:
    sample(db)
    header = export_csv(db).splitlines()[0].split(",")
    assert header[: len(exporting.field_names("contacts"))] == exporting.field_names("contacts")
    assert header[-2:] == ["Favourite Colour", "Shoe Size"]


def test_other_kinds_round_trip(db: Db, tmp_path: Path) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com", company="Engines")
    leads.add(db, "Engine order", contact="ada@example.com", value="5,000.50", currency="EUR")
    followups.add(db, "ada@example.com", "Send proposal", due="2026-12-01T09:00")
    companies.add(db, "Bletchley Park", domain="bletchley.example", tags_=["codes"])
    for kind in ("companies", "leads", "followups"):
        path = tmp_path / f"{kind}.csv"
        path.write_text(export_csv(db, kind), encoding="utf-8", newline="")
        result = importing.import_file(db, kind, path)
        assert (result.imported, result.rejected) == (0, 0), (kind, result.errors)
        assert result.skipped >= 1
    [lead] = rows_of(export_csv(db, "leads"))
    assert lead["contact_email"] == "ada@example.com" and lead["value"] == "5000.5"


# --------------------------------------------------------------------------------------------
# JSON / JSONL: the list commands' fields


@pytest.mark.parametrize(
    ("kind", "listing"),
    [
        ("contacts", ["contact", "list"]),
        ("companies", ["company", "list"]),
        ("leads", ["lead", "list", "--status", "all"]),
        ("activities", ["activity", "list"]),
        ("followups", ["followup", "list", "--status", "all"]),
    ],
)
def test_json_and_jsonl_equal_the_list_commands_json(
    db: Db, cli: Any, kind: str, listing: list[str]
) -> None:
    sample(db)  # Ada and Alan among them
    importing.import_file(db, "activities", FIXTURES / "activities.csv")
    importing.import_file(db, "followups", FIXTURES / "followups.csv")
    leads.add(db, "Engine order", contact="ada@example.com")
    listed = cli(*listing, "--format", "json")
    assert listed.exit_code == 0, listed.output
    expected = sorted(json.loads(listed.stdout), key=lambda r: r["id"])
    exported = cli("export", kind, "--format", "json")
    assert exported.exit_code == 0, exported.output
    assert sorted(json.loads(exported.stdout), key=lambda r: r["id"]) == expected
    lines = cli("export", kind, "--format", "jsonl").stdout.splitlines()
    assert sorted((json.loads(line) for line in lines), key=lambda r: r["id"]) == expected
    assert expected and list(expected[0]) == list(json.loads(lines[0]))


# --------------------------------------------------------------------------------------------
# vCard and iCalendar


def test_vcard_is_read_by_vobject_and_reimports(db: Db, cli: Any, tmp_path: Path) -> None:
    import vobject

    sample(db)
    before = {c.email: c for c in contacts.list_contacts(db)}
    result = cli("export", "contacts", "--format", "vcard")
    assert result.exit_code == 0
    cards = list(vobject.readComponents(result.stdout))
    assert len(cards) == len(before)
    grace = next(c for c in cards if c.fn.value == "Grace Hopper")
    assert grace.email.value == "grace@example.com" and grace.tel.value == "+12025550173"
    assert grace.org.value == ["US Navy"] and grace.title.value == "Rear Admiral"
    assert sorted(grace.categories.value) == ["cobol", "navy"]
    assert grace.note.value == NOTE
    path = tmp_path / "contacts.vcf"
    path.write_text(result.stdout, encoding="utf-8", newline="")
    for contact in contacts.list_contacts(db):
        contacts.delete(db, str(contact.id))
    assert importing.import_file(db, "contacts", path).imported == len(before)
    after = {c.email: c for c in contacts.list_contacts(db)}
    for email, old in before.items():
        new = after[email]
        assert (new.name, new.phone, new.company, new.title, new.tags, new.note) == (
            old.name, old.phone, old.company, old.title, old.tags, old.note,
        )  # fmt: skip
    assert importing.import_file(db, "contacts", path).imported == 0


def test_ics_is_read_by_icalendar(db: Db, cli: Any) -> None:
    from datetime import UTC, datetime

    from icalendar import Calendar

    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    first = followups.add(db, "ada@example.com", "Send proposal, v2", due="2026-12-01T09:00")
    second = followups.add(db, "ada@example.com", "Call back", due="2026-12-02T10:30+02:00")
    followups.cancel(db, second.id)
    result = cli("export", "followups", "--format", "ics")
    assert result.exit_code == 0
    calendar = Calendar.from_ical(result.stdout)
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"smallcrm-followup-{first.id}", f"smallcrm-followup-{second.id}"}
    event = events[f"smallcrm-followup-{first.id}"]
    assert str(event["summary"]) == "Send proposal, v2"
    assert event.decoded("dtstart") == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert "Contact: Ada Lovelace" in str(event["description"])
    cancelled = events[f"smallcrm-followup-{second.id}"]
    assert str(cancelled["status"]) == "CANCELLED"
    assert cancelled.decoded("dtstart") == datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


# --------------------------------------------------------------------------------------------
# Who and what is exported


def test_do_not_contact_is_left_out_unless_asked(db: Db, cli: Any) -> None:
    contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.add(db, "Quiet Person", email="quiet@example.com", do_not_contact=True)
    assert [r["email"] for r in rows_of(export_csv(db))] == ["ada@example.com"]
    everyone = export_csv(db, include_do_not_contact=True)
    assert [r["email"] for r in rows_of(everyone)] == ["ada@example.com", "quiet@example.com"]
    for fmt in ("json", "jsonl", "vcard", "csv"):
        assert "quiet@example.com" not in cli("export", "contacts", "--format", fmt).stdout
    result = cli("export", "contacts", "--format", "json", "--include-do-not-contact")
    assert "quiet@example.com" in result.stdout


@pytest.mark.parametrize(
    "filters",
    [
        ["--tag", "vip"],
        ["--company", "US Navy"],
        ["--stage", "client"],
        ["--owner", "me"],
        ["--owner", "nobody"],
        ["--search", "grac"],
        ["--search", "ada", "--tag", "math"],
        ["--limit", "2"],
    ],
)
def test_filters_are_those_of_list(db: Db, cli: Any, filters: list[str]) -> None:
    sample(db)
    listed = cli("contact", "list", "--format", "json", *filters)
    assert listed.exit_code == 0, listed.output
    expected = sorted(r["id"] for r in json.loads(listed.stdout))
    if filters[0] == "--limit":  # list orders by name, export by id
        expected = sorted(r["id"] for r in json.loads(cli("contact", "list", "--json").stdout))
        expected = expected[:2]
    for fmt in ("csv", "json"):
        result = cli("export", "contacts", "--format", fmt, *filters)
        assert result.exit_code == 0, result.output
        if fmt == "csv":
            got = [int(r["id"]) for r in rows_of(result.stdout)]
        else:
            got = [r["id"] for r in json.loads(result.stdout)]
        assert got == expected, (fmt, filters)


def test_output_file_is_private(cli: Any, tmp_path: Path) -> None:
    cli("import", "contacts", str(FIXTURES / "semicolons.csv"))
    path = tmp_path / "out.csv"
    path.write_text("old")
    path.chmod(0o644)
    result = cli("export", "contacts", "-o", str(path))
    assert result.exit_code == 0
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.read_text(encoding="utf-8").count("@example") == 2
    assert "exported 2 contacts" in result.stderr and result.stdout == ""
    for fmt in ("json", "vcard"):
        other = tmp_path / f"out.{fmt}"
        assert cli("export", "contacts", "--format", fmt, "-o", str(other)).exit_code == 0
        assert other.stat().st_mode & 0o777 == 0o600


# --------------------------------------------------------------------------------------------
# Streaming


def test_contact_rows_stream_in_batches(db: Db, tmp_path: Path) -> None:
    from smallcrm.store import bulk

    path = tmp_path / "many.csv"
    lines = [f"Person {i},p{i}@example.com,Firm {i % 7},vip" for i in range(2500)]
    path.write_text("name,email,company,tags\n" + "\n".join(lines) + "\n")
    assert importing.import_file(db, "contacts", path).imported == 2500
    with db.read() as session:
        chunks = bulk.contact_rows(session, batch=1000)
        assert isinstance(chunks, types.GeneratorType)
        first = next(chunks)
        assert len(first) == 1000 and first[0][bulk.CONTACT_COLUMNS.index("tags")] == "vip"
        assert [len(c) for c in chunks] == [1000, 500]
    assert isinstance(exporting.records(db, "contacts"), types.GeneratorType)
    rows = rows_of(export_csv(db))
    assert len(rows) == 2500
    assert [int(r["id"]) for r in rows] == sorted(int(r["id"]) for r in rows)
    assert rows[-1]["email"] == "p2499@example.com" and rows[-1]["company"] == "Firm 0"


def test_times_are_local_with_offset(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    ada = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    monkeypatch.setenv("TZ", "Europe/Berlin")
    [row] = rows_of(export_csv(db))
    from smallcrm.values import local_zone

    assert row["created_at"] == ada.created_at.astimezone(local_zone()).isoformat()
    assert row["created_at"].endswith(("+01:00", "+02:00"))


def test_csv_times_equal_the_list_commands_json(db: Db, cli: Any) -> None:
    from datetime import UTC, datetime

    from smallcrm.store.tables import Contact

    sample(db)
    with db.write() as session:  # a time without microseconds prints without them
        row = session.get(Contact, contacts.get(db, "ada@example.com").id)
        row.created_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        session.add(row)
    listed = {r["id"]: r for r in json.loads(cli("contact", "list", "--json").stdout)}
    for fmt_rows in (rows_of(export_csv(db)), rows_of(export_csv(db, tag="navy"))):
        for row in fmt_rows:
            shown = listed[int(row["id"])]
            assert (row["created_at"], row["updated_at"]) == (
                shown["created_at"],
                shown["updated_at"],
            )
    ada = next(r for r in rows_of(export_csv(db)) if r["email"] == "ada@example.com")
    assert ada["created_at"] == "2026-01-02T03:04:05+00:00"


def test_csv_times_without_extra_columns(db: Db, cli: Any) -> None:
    from datetime import UTC, datetime

    from smallcrm.store.tables import Contact

    first = contacts.add(db, "Ada Lovelace", email="ada@example.com")
    contacts.add(db, "Alan Turing", email="alan@example.org")
    with db.write() as session:
        row = session.get(Contact, first.id)
        row.updated_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
        session.add(row)
    listed = {r["id"]: r for r in json.loads(cli("contact", "list", "--json").stdout)}
    rows = rows_of(export_csv(db))
    assert list(rows[0]) == exporting.field_names("contacts")
    for row in rows:
        shown = listed[int(row["id"])]
        assert (row["created_at"], row["updated_at"]) == (shown["created_at"], shown["updated_at"])
    assert rows[0]["updated_at"] == "2026-01-02T03:04:05+00:00"

"""Hostile input: whatever text or bytes arrive — in a CSV, a date, an amount, a search box, a
name — smallcrm stores them exactly or refuses them with its own error, and every list shows
them without crashing or letting them drive the terminal."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from smallcrm import activities, contacts, importing, search, timeline
from smallcrm.errors import Invalid, SmallCrmError
from smallcrm.store import Db, open_db
from smallcrm.values import parse_amount, parse_date, parse_when

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text as hostile as it gets: controls, bidi overrides, markup, quotes, FTS and SQL syntax.
NASTY = st.lists(
    st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\x00\x1b\r\n\t\"'*:^()[]{}\\/-+~!@#%&|<>=;,.\u202e\u200b\ufeff")),
        st.sampled_from(["NEAR", "AND", "OR", "NOT", "[/b]", "[bold]", "\x1b[2J", "--", "/*"]),
    ),
    max_size=30,
).map("".join)


@pytest.fixture
def sdb(db_path: Path) -> Db:
    database = open_db(str(db_path))
    yield database  # type: ignore[misc]
    database.dispose()


# --- parsers: only the project's errors -----------------------------------------------------


@FUZZ
@given(NASTY)
@example("2026-02-30")
@example("+99999999999d")
@example("in 99999999999999999999 years")
@example("friday 25pm")
def test_when_parsers_raise_only_smallcrm_errors(text: str) -> None:
    for parse in (parse_when, parse_date):
        try:
            parse(text)
        except SmallCrmError:
            pass


@FUZZ
@given(NASTY, st.sampled_from(["USD", "JPY", "BHD", "EUR"]))
@example("1e400", "USD")
@example("9" * 400, "USD")
@example("1,2,3.4.5", "EUR")
@example("NaN", "USD")
def test_amount_parser_raises_only_smallcrm_errors(text: str, currency: str) -> None:
    try:
        value = parse_amount(text, currency)
    except SmallCrmError:
        return
    assert isinstance(value, int) and value >= 0


def test_search_input_is_never_query_syntax(sdb: Db) -> None:
    contacts.add(sdb, 'Ada "Quoted" Lovelace', email="ada@example.com", note="NEAR(x y) AND *")

    @FUZZ
    @given(NASTY)
    @example('"')
    @example("NEAR(")
    @example("ada*")
    @example("a:b")
    @example("^ada")
    def check(query: str) -> None:
        hits = search.search(sdb, query)
        assert all(hit.kind in ("contact", "company", "lead", "activity") for hit in hits)
        contacts.list_contacts(sdb, search=query)

    check()
    assert [h.title for h in search.search(sdb, '"quoted')] == ['Ada "Quoted" Lovelace']


def test_csv_reader_raises_only_smallcrm_errors(sdb: Db) -> None:
    header = b"name,email,phone,company,tags,note\n"

    @FUZZ
    @given(
        st.one_of(
            st.binary(max_size=300),
            st.builds(lambda body: header + body, st.binary(max_size=300)),
            st.builds(
                lambda rows: header + "\n".join(rows).encode("utf-8", "surrogatepass"),
                st.lists(NASTY, max_size=5),
            ),
        ),
        st.sampled_from([None, "latin-1", "utf-16"]),
        st.sampled_from([None, ",", ";", "\t"]),
    )
    @example(b"\xef\xbb\xbfname\r\nA\r\n", None, None)
    @example(b'name\n"unterminated\n', None, None)
    @example(b"name,name\nA,B\n", None, None)
    @example(b"\x00\x00\x00", None, None)
    def check(data: bytes, encoding: str | None, delimiter: str | None) -> None:
        try:
            result = importing.import_file(
                sdb, "contacts", "-", stdin=io.BytesIO(data), dry_run=True,
                encoding=encoding, delimiter=delimiter,
            )  # fmt: skip
        except SmallCrmError:
            return
        assert result.imported + result.rejected + result.skipped >= 0

    check()


@FUZZ
@given(name=NASTY, note=NASTY)
def test_any_text_is_stored_exactly_or_refused(sdb: Db, name: str, note: str) -> None:
    try:
        made = contacts.add(sdb, name, note=note)
    except Invalid:
        return
    again = contacts.get(sdb, str(made.id))
    assert again.name == name.strip() and again.note == (note if note.strip() else None)
    contacts.delete(sdb, str(made.id))


# --- big and broken values, through the real command ----------------------------------------


def smallcrm(db_path: Path, *args: str | bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "SMALLCRM_DB": str(db_path)}
    return subprocess.run(
        [sys.executable, "-m", "smallcrm", *args],
        input=b"",
        capture_output=True,
        env=env,
        timeout=120,
    )


def test_huge_and_broken_values_are_stored_or_refused_cleanly(db_path: Path) -> None:
    db = open_db(str(db_path))
    megabyte = ("Long note line \x1b[31m with [b]markup[/b]\n" * 30_000)[:1_000_000]
    big = contacts.add(db, "Big Note", email="big@example.com", note=megabyte)
    activities.log(db, "note", "big@example.com", "Huge body", body=megabyte)
    assert contacts.get(db, "big@example.com").note == megabyte
    assert timeline.timeline(db, "big@example.com")[0].detail == megabyte
    with pytest.raises(Invalid, match="longer than 500"):
        contacts.add(db, "x" * 10_000)
    with pytest.raises(Invalid, match="NUL"):
        contacts.add(db, "Nul\x00Name")
    with pytest.raises(Invalid, match="NUL"):
        contacts.edit(db, str(big.id), note="a\x00b")
    with pytest.raises(Invalid, match="UTF-8"):
        contacts.add(db, "Bad \udcff bytes")
    contacts.add(db, "Escape \x1b[2J\x1b]0;pwned\x07 [/b] \u202eevil", email="esc@example.com")
    db.dispose()

    too_long = smallcrm(db_path, "contact", "add", "y" * 10_000)
    assert too_long.returncode == 1
    assert too_long.stderr == b"error: contact name is longer than 500 characters\n"
    undecodable = smallcrm(db_path, "contact", "add", b"Bad \xff\xfe bytes")
    assert undecodable.returncode == 1
    assert undecodable.stderr.startswith(b"error: ") and b"UTF-8" in undecodable.stderr
    other_field = smallcrm(db_path, "contact", "add", "Fine", "--title", b"\xff")
    assert other_field.returncode == 1 and b"UTF-8" in other_field.stderr

    for args in (
        ("contact", "list"),
        ("contact", "list", "--format", "csv"),
        ("contact", "show", "big@example.com"),
        ("timeline", "big@example.com"),
        ("activity", "list"),
        ("search", "long note"),
        ("history",),
    ):
        shown = smallcrm(db_path, *args)
        assert shown.returncode == 0, (args, shown.stderr)
        assert b"Traceback" not in shown.stderr
        if "csv" in args:  # for programs: the exact text, quoted
            continue
        assert b"\x1b" not in shown.stdout, args  # escapes never reach the terminal raw
        assert "\u202e".encode() not in shown.stdout, args

    listed = smallcrm(db_path, "contact", "list", "--json")
    names = [c["name"] for c in json.loads(listed.stdout)]
    assert "Escape \x1b[2J\x1b]0;pwned\x07 [/b] \u202eevil" in names  # JSON keeps it exact
    assert "Bad" not in " ".join(names) and "Fine" not in names

"""Parsing of user values: dates, durations, money, emails, phones, percentages, choices."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smallcrm import values
from smallcrm.errors import Invalid
from smallcrm.values import (
    ACTIVITY_KINDS,
    CURRENCY_EXPONENTS,
    LIFECYCLE_STAGES,
    RELATIONSHIP_TYPES,
    choice,
    currency_code,
    format_money,
    local_zone,
    minor_to_major,
    normalize_phone,
    parse_amount,
    parse_date,
    parse_duration,
    parse_percent,
    parse_when,
    validate_email,
)

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 23 November 2026, 15:00 in Berlin (CET, UTC+1) = 14:00 UTC.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=BERLIN)
PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
LIGHT = settings(PROPERTY, max_examples=150)


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")


def local(text: str, now: datetime = NOW) -> datetime:
    """parse_when's answer as Berlin wall time without tzinfo, for readable expectations."""
    result = parse_when(text, now=now)
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)
    return result.astimezone(BERLIN).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------
# choice


@pytest.mark.parametrize(
    "given_, expected",
    [
        ("prospect", "prospect"),
        ("PROSPECT", "prospect"),
        ("  Prospect ", "prospect"),
        ("first-time customer", "first-time customer"),
        ("first_time_customer", "first-time customer"),
        ("First-Time Customer", "first-time customer"),
        ("first time customer", "first-time customer"),
        ("FIRST-TIME-CUSTOMER", "first-time customer"),
        ("repeat_customer", "repeat customer"),
    ],
)
def test_choice_matches_variants(given_: str, expected: str) -> None:
    assert choice(given_, LIFECYCLE_STAGES, "stage") == expected


def test_choice_other_vocabularies() -> None:
    assert choice("Partnership", RELATIONSHIP_TYPES, "relationship") == "partnership"
    assert choice("SMS", ACTIVITY_KINDS, "activity kind") == "sms"
    assert LIFECYCLE_STAGES[0] == "suspect" and len(LIFECYCLE_STAGES) == 8
    assert RELATIONSHIP_TYPES == ("basic", "reactive", "accountable", "proactive", "partnership")
    assert ACTIVITY_KINDS == ("call", "email", "meeting", "note", "visit", "sms", "other")


@pytest.mark.parametrize("bad", ["", "   ", "lead", "prosp", "first", "-", "_"])
def test_choice_rejects_unknown(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        choice(bad, LIFECYCLE_STAGES, "stage")
    message = str(caught.value)
    assert message.startswith(f"unknown stage '{bad}'; expected one of: suspect, prospect, ")
    assert message.endswith("advocate, partner")


def test_choice_message_is_one_visible_line() -> None:
    with pytest.raises(Invalid) as caught:
        choice("x\n\x1b[2Jy", ACTIVITY_KINDS, "kind")
    assert "\n" not in str(caught.value) and "\x1b" not in str(caught.value)


# ------------------------------------------------------------------------------------------
# local_zone


def test_local_zone_honours_tz(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Europe/Berlin")
    zone = local_zone()
    assert isinstance(zone, ZoneInfo) and zone.key == "Europe/Berlin"
    # DST-correct, unlike a fixed offset taken from "now".
    assert datetime(2026, 7, 1, tzinfo=zone).utcoffset() == timedelta(hours=2)
    assert datetime(2026, 12, 1, tzinfo=zone).utcoffset() == timedelta(hours=1)
    monkeypatch.setenv("TZ", ":America/New_York")
    assert datetime(2026, 7, 1, tzinfo=local_zone()).utcoffset() == timedelta(hours=-4)


def test_local_zone_fallbacks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "")
    assert local_zone() is UTC
    monkeypatch.setenv("TZ", "No/Such_Zone")
    assert datetime(2026, 1, 1, tzinfo=local_zone()).utcoffset() is not None
    monkeypatch.setenv("TZ", "../../etc/passwd")
    assert datetime(2026, 1, 1, tzinfo=local_zone()).utcoffset() is not None
    monkeypatch.delenv("TZ")
    assert datetime(2026, 1, 1, tzinfo=local_zone()).utcoffset() is not None


def test_system_local_fallback_tzinfo_works() -> None:
    zone = values._SystemLocal()
    moment = datetime(2026, 6, 1, 12, tzinfo=UTC).astimezone(zone)
    assert moment.astimezone(UTC) == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert isinstance(zone.tzname(moment), str) and zone.dst(moment) is not None


# ------------------------------------------------------------------------------------------
# parse_when: the grammar


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    "text, expected",
    [
        # ISO 8601: local time unless an offset is given
        ("2026-12-01", datetime(2026, 12, 1)),
        ("2026-12-01T09:30", datetime(2026, 12, 1, 9, 30)),
        ("2026-12-01 09:30", datetime(2026, 12, 1, 9, 30)),
        ("2026-12-01t09:30", datetime(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30:15", datetime(2026, 12, 1, 9, 30, 15)),
        ("2026-12-01T09:30:15.250", datetime(2026, 12, 1, 9, 30, 15, 250000)),
        ("2026-12-01 9:30", datetime(2026, 12, 1, 9, 30)),
        ("2026-12-01T09:30Z", datetime(2026, 12, 1, 10, 30)),
        ("2026-12-01T09:30:00z", datetime(2026, 12, 1, 10, 30)),
        ("2026-12-01T09:30+05:30", datetime(2026, 12, 1, 5, 0)),
        ("2026-12-01T09:30-0500", datetime(2026, 12, 1, 15, 30)),
        ("2026-12-01T09:30+01", datetime(2026, 12, 1, 9, 30)),
        ("2026-12-01 09:30 +00:00", datetime(2026, 12, 1, 10, 30)),
        ("2026-07-01", datetime(2026, 7, 1)),  # summer: CEST
        # words
        ("now", datetime(2026, 11, 23, 15, 0)),
        ("today", datetime(2026, 11, 23)),
        ("tomorrow", datetime(2026, 11, 24)),
        ("yesterday", datetime(2026, 11, 22)),
        ("  ToMoRRoW  ", datetime(2026, 11, 24)),
        # in N units
        ("in 3 days", datetime(2026, 11, 26, 15)),
        ("in 1 day", datetime(2026, 11, 24, 15)),
        ("in 2 weeks", datetime(2026, 12, 7, 15)),
        ("in 1 week", datetime(2026, 11, 30, 15)),
        ("in 4 hours", datetime(2026, 11, 23, 19)),
        ("in 1 hour", datetime(2026, 11, 23, 16)),
        ("in an hour", datetime(2026, 11, 23, 16)),
        ("in 30 minutes", datetime(2026, 11, 23, 15, 30)),
        ("in 1 minute", datetime(2026, 11, 23, 15, 1)),
        ("in 1 month", datetime(2026, 12, 23, 15)),
        ("in 2 months", datetime(2027, 1, 23, 15)),
        ("in 1 year", datetime(2027, 11, 23, 15)),
        ("IN   3   DAYS", datetime(2026, 11, 26, 15)),
        ("2 days ago", datetime(2026, 11, 21, 15)),
        # +N / -N
        ("+2d", datetime(2026, 11, 25, 15)),
        ("+4h", datetime(2026, 11, 23, 19)),
        ("+30m", datetime(2026, 11, 23, 15, 30)),
        ("+1w", datetime(2026, 11, 30, 15)),
        ("-2d", datetime(2026, 11, 21, 15)),
        ("-3h", datetime(2026, 11, 23, 12)),
        ("+2 days", datetime(2026, 11, 25, 15)),
        ("+0d", datetime(2026, 11, 23, 15)),
        # weekdays (NOW is a Monday)
        ("next monday", datetime(2026, 11, 30)),
        ("next tuesday", datetime(2026, 11, 24)),
        ("monday", datetime(2026, 11, 23)),  # today counts
        ("friday", datetime(2026, 11, 27)),
        ("sunday", datetime(2026, 11, 29)),
        ("mon", datetime(2026, 11, 23)),
        ("fri", datetime(2026, 11, 27)),
        ("Thurs", datetime(2026, 11, 26)),
        ("next fri", datetime(2026, 11, 27)),
        ("this friday", datetime(2026, 11, 27)),
        ("last friday", datetime(2026, 11, 20)),
        ("on friday", datetime(2026, 11, 27)),
        # day + time
        ("friday 9am", datetime(2026, 11, 27, 9)),
        ("Friday 9 AM", datetime(2026, 11, 27, 9)),
        ("friday 9:15pm", datetime(2026, 11, 27, 21, 15)),
        ("friday 9 p.m.", datetime(2026, 11, 27, 21)),
        ("tomorrow 14:30", datetime(2026, 11, 24, 14, 30)),
        ("next monday 10:00", datetime(2026, 11, 30, 10)),
        ("today 5pm", datetime(2026, 11, 23, 17)),
        ("tomorrow at 9", datetime(2026, 11, 24, 9)),
        ("tomorrow, 9am", datetime(2026, 11, 24, 9)),
        ("tomorrow 12am", datetime(2026, 11, 24, 0)),
        ("tomorrow 12pm", datetime(2026, 11, 24, 12)),
        ("tomorrow noon", datetime(2026, 11, 24, 12)),
        ("tomorrow 14:30:45", datetime(2026, 11, 24, 14, 30, 45)),
        ("9am tomorrow", datetime(2026, 11, 24, 9)),
        ("at 10:00 on friday", datetime(2026, 11, 27, 10)),
        # a time alone is today
        ("3pm", datetime(2026, 11, 23, 15)),
        ("14:30", datetime(2026, 11, 23, 14, 30)),
        ("at 9", datetime(2026, 11, 23, 9)),
        ("noon", datetime(2026, 11, 23, 12)),
        ("midnight", datetime(2026, 11, 23, 0)),
        # dateutil fallback
        ("1 Dec 2026", datetime(2026, 12, 1)),
        ("Dec 1 2026 3pm", datetime(2026, 12, 1, 15)),
        ("December 1, 2026", datetime(2026, 12, 1)),
        ("dec 2026", datetime(2026, 12, 1)),  # a month means its first day
        ("march", datetime(2026, 3, 1)),
        ("5th", datetime(2026, 11, 5)),
        ("1.12.2026", datetime(2026, 12, 1)),  # dotted dates are day first
        ("12/01/2026", datetime(2026, 12, 1)),  # slashed dates are month first
        ("20261201", datetime(2026, 12, 1)),
        ("Dec 1 2026 3pm UTC", datetime(2026, 12, 1, 16)),
        ("Dec 1 2026 3pm +0200", datetime(2026, 12, 1, 14)),
    ],
)
def test_parse_when_forms(text: str, expected: datetime) -> None:
    assert local(text) == expected


@pytest.mark.usefixtures("utc")
@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12-01T09:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T09:30+01:00", datetime(2026, 12, 1, 8, 30, tzinfo=UTC)),
        ("today", datetime(2026, 11, 23, tzinfo=UTC)),
        ("tomorrow 9am", datetime(2026, 11, 24, 9, tzinfo=UTC)),
        ("+2d", datetime(2026, 11, 25, 14, tzinfo=UTC)),
        ("now", datetime(2026, 11, 23, 14, tzinfo=UTC)),
    ],
)
def test_parse_when_in_utc(text: str, expected: datetime) -> None:
    result = parse_when(text, now=NOW)
    assert result == expected and result.utcoffset() == timedelta(0)


def test_parse_when_result_is_utc(berlin: None) -> None:
    result = parse_when("2026-12-01T09:30", now=NOW)
    assert result.tzinfo is not None and result.tzinfo.utcoffset(result) == timedelta(0)
    assert result == datetime(2026, 12, 1, 8, 30, tzinfo=UTC)


def test_parse_when_other_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    assert parse_when("2026-12-01T09:30", now=NOW) == datetime(2026, 12, 1, 14, 30, tzinfo=UTC)
    # NOW is 09:00 on Monday in New York, so "today" is the same Monday there.
    assert parse_when("today", now=NOW) == datetime(2026, 11, 23, 5, tzinfo=UTC)
    late = datetime(2026, 11, 24, 3, tzinfo=UTC)  # still Monday 22:00 in New York
    assert parse_when("tomorrow", now=late) == datetime(2026, 11, 24, 5, tzinfo=UTC)


def test_parse_when_now_defaults_to_current_time(berlin: None) -> None:
    before = datetime.now(UTC)
    result = parse_when("now")
    assert before <= result <= datetime.now(UTC)
    assert parse_when("+1h") - datetime.now(UTC) < timedelta(hours=1, seconds=5)


def test_parse_when_naive_now_is_local(berlin: None) -> None:
    naive = datetime(2026, 11, 23, 15, 0)
    assert parse_when("now", now=naive) == datetime(2026, 11, 23, 14, tzinfo=UTC)


def test_parse_when_month_end_clamps(berlin: None) -> None:
    end_of_january = datetime(2026, 1, 31, 15, tzinfo=BERLIN)
    assert local("in 1 month", end_of_january) == datetime(2026, 2, 28, 15)
    assert local("-1mo", end_of_january) == datetime(2025, 12, 31, 15)
    leap_day = datetime(2028, 2, 29, 9, tzinfo=BERLIN)
    assert local("in 1 year", leap_day) == datetime(2029, 2, 28, 9)
    assert local("in 4 years", leap_day) == datetime(2032, 2, 29, 9)


def test_next_weekday_is_strictly_after_today(berlin: None) -> None:
    sunday = datetime(2026, 11, 29, 10, tzinfo=BERLIN)
    assert local("next monday", sunday) == datetime(2026, 11, 30)
    assert local("next sunday", sunday) == datetime(2026, 12, 6)
    assert local("sunday", sunday) == datetime(2026, 11, 29)
    assert local("last sunday", sunday) == datetime(2026, 11, 22)


# ------------------------------------------------------------------------------------------
# parse_when: daylight saving time


def test_dst_spring_forward(berlin: None) -> None:
    # Berlin moves from CET (+1) to CEST (+2) at 02:00 on Sunday 29 March 2026.
    saturday_noon = datetime(2026, 3, 28, 12, tzinfo=BERLIN)
    # Calendar days keep the wall clock time: 23 real hours later.
    assert parse_when("+1d", now=saturday_noon) == datetime(2026, 3, 29, 10, tzinfo=UTC)
    assert parse_when("in 1 day", now=saturday_noon) == datetime(2026, 3, 29, 10, tzinfo=UTC)
    # Hours are real hours.
    assert parse_when("+24h", now=saturday_noon) == datetime(2026, 3, 29, 11, tzinfo=UTC)
    assert parse_when("tomorrow", now=saturday_noon) == datetime(2026, 3, 28, 23, tzinfo=UTC)
    assert parse_when("tomorrow 9am", now=saturday_noon) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert parse_when("sunday 9am", now=saturday_noon) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert parse_when("2026-07-01", now=saturday_noon) == datetime(2026, 6, 30, 22, tzinfo=UTC)
    assert parse_when("2026-01-01", now=saturday_noon) == datetime(2025, 12, 31, 23, tzinfo=UTC)
    # 02:30 does not exist that day; it must still give an answer, one hour either side.
    gap = parse_when("2026-03-29T02:30", now=saturday_noon)
    assert datetime(2026, 3, 29, 0, 30, tzinfo=UTC) <= gap
    assert gap <= datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_dst_fall_back(berlin: None) -> None:
    # Berlin moves from CEST (+2) back to CET (+1) at 03:00 on Sunday 25 October 2026.
    saturday_noon = datetime(2026, 10, 24, 12, tzinfo=BERLIN)
    assert parse_when("+1d", now=saturday_noon) == datetime(2026, 10, 25, 11, tzinfo=UTC)
    assert parse_when("+24h", now=saturday_noon) == datetime(2026, 10, 25, 10, tzinfo=UTC)
    assert parse_when("+1w", now=saturday_noon) == datetime(2026, 10, 31, 11, tzinfo=UTC)
    assert parse_when("tomorrow 9am", now=saturday_noon) == datetime(2026, 10, 25, 8, tzinfo=UTC)


def test_dst_now_in_summer(berlin: None) -> None:
    summer = datetime(2026, 7, 15, 15, tzinfo=BERLIN)
    assert parse_when("today", now=summer) == datetime(2026, 7, 14, 22, tzinfo=UTC)
    assert parse_when("in 6 months", now=summer) == datetime(2027, 1, 15, 14, tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# parse_when: rejections


WHEN_HELP = "use e.g. 2026-12-01, 2026-12-01T09:30, tomorrow, +2d, next monday, friday 9am"


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "blah",
        "32/13/2026",
        "2026-02-30",
        "2026-13-01",
        "2026-12-01T25:00",
        "2026-12-01T09:60",
        "2026-12-01T09:30+24:00",
        "12",
        "9",
        "25:00",
        "13pm",
        "0am",
        "tomorrow 25:00",
        "friday 13pm",
        "next",
        "next month",
        "in days",
        "in 3",
        "+d",
        "+2x",
        "2d",
        "mon day",
        "Dec 1 2026 3pm EST",  # unknown zone names are not silently taken as local time
        "+99999999999d",
        "-99999999999d",
        "+99999999999h",
        "in 99999999999 years",
        "in 9999 years",
        "0001-01-01",  # before year 1 in UTC
        "9999-12-31T23:59-05:00",  # after year 9999 in UTC
        "\x00",
        "tomorrow\x00",
        "9" * 5000,
        "a" * 100_000,
        "\x1b[31mred",
    ],
)
def test_parse_when_rejects(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_when(bad, now=NOW)
    message = str(caught.value)
    assert message.startswith("cannot read '") and message.endswith(f"' as a date; {WHEN_HELP}")
    assert "\n" not in message and "\x1b" not in message and "\x00" not in message
    assert len(message) < 200


def test_parse_when_message_example() -> None:
    with pytest.raises(Invalid, match="^cannot read 'blah' as a date; use e.g. 2026-12-01"):
        parse_when("blah")


# ------------------------------------------------------------------------------------------
# parse_date


@pytest.mark.usefixtures("berlin")
@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01", date(2026, 12, 1)),
        ("today", date(2026, 11, 23)),
        ("tomorrow", date(2026, 11, 24)),
        ("yesterday", date(2026, 11, 22)),
        ("next monday", date(2026, 11, 30)),
        ("friday 9am", date(2026, 11, 27)),
        ("+2d", date(2026, 11, 25)),
        ("in 2 weeks", date(2026, 12, 7)),
        ("+9h", date(2026, 11, 24)),  # 15:00 + 9h is past midnight
        ("1 Dec 2026", date(2026, 12, 1)),
        ("2026-12-01T23:30Z", date(2026, 12, 2)),  # already 2 December in Berlin
        ("9999-12-31", date(9999, 12, 31)),
    ],
)
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, now=NOW) == expected


def test_parse_date_rejects(berlin: None) -> None:
    for bad in ("", "blah", "2026-02-30", "+99999999999d"):
        with pytest.raises(Invalid, match="as a date"):
            parse_date(bad, now=NOW)


# ------------------------------------------------------------------------------------------
# parse_duration


@pytest.mark.parametrize(
    "text, expected",
    [
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("1w", timedelta(weeks=1)),
        ("30s", timedelta(seconds=30)),
        ("1h30m", timedelta(minutes=90)),
        ("1h 30m", timedelta(minutes=90)),
        ("90", timedelta(minutes=90)),
        ("0", timedelta(0)),
        ("15 min", timedelta(minutes=15)),
        ("15 mins", timedelta(minutes=15)),
        ("1 minute", timedelta(minutes=1)),
        ("2 hours", timedelta(hours=2)),
        ("1 hour", timedelta(hours=1)),
        ("2 hrs", timedelta(hours=2)),
        ("3 days", timedelta(days=3)),
        ("2 weeks", timedelta(weeks=2)),
        ("45 seconds", timedelta(seconds=45)),
        ("1 hour and 30 minutes", timedelta(minutes=90)),
        ("1.5h", timedelta(minutes=90)),
        ("  2H  ", timedelta(hours=2)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "bad",
    ["", " ", "-5", "-15m", "+15m", "m", "h30", "1mo", "2 years", "abc", "1.5.2h", "15 m m",
     "9" * 300, "99999999999999w", "1e3", "nan", "\x00", "15m\x00"],
)  # fmt: skip
def test_parse_duration_rejects(bad: str) -> None:
    with pytest.raises(Invalid, match="as a duration"):
        parse_duration(bad)


# ------------------------------------------------------------------------------------------
# money


def test_currency_exponents() -> None:
    two = "USD EUR GBP CHF CAD AUD NZD SEK NOK DKK PLN CZK INR BRL MXN ZAR SGD HKD CNY"
    for code in two.split():
        assert CURRENCY_EXPONENTS[code] == 2
    for code in "JPY KRW ISK CLP VND".split():
        assert CURRENCY_EXPONENTS[code] == 0
    for code in "KWD BHD JOD OMR TND".split():
        assert CURRENCY_EXPONENTS[code] == 3


@pytest.mark.parametrize(
    "text, expected",
    [("usd", "USD"), ("EUR", "EUR"), (" jpy ", "JPY"), ("XyZ", "XYZ")],
)
def test_currency_code(text: str, expected: str) -> None:
    assert currency_code(text) == expected


@pytest.mark.parametrize("bad", ["", "US", "USDD", "U$D", "123", "ÄÖÜ", "usd\x00", "u s"])
def test_currency_code_rejects(bad: str) -> None:
    with pytest.raises(Invalid, match="invalid currency"):
        currency_code(bad)


@pytest.mark.parametrize(
    "text, currency, expected",
    [
        ("5000", "USD", 500000),
        ("5000.50", "USD", 500050),
        ("5000.5", "USD", 500050),
        ("5,000.50", "USD", 500050),
        ("1,234,567.5", "USD", 123456750),
        ("  5000  ", "USD", 500000),
        ("$5000", "USD", 500000),
        ("$ 5,000.50", "USD", 500050),
        ("€1,000", "EUR", 100000),
        ("£0.99", "GBP", 99),
        ("0", "USD", 0),
        ("0.00", "USD", 0),
        ("007", "USD", 700),
        ("0.01", "USD", 1),
        ("500", "JPY", 500),
        ("1,500", "jpy", 1500),
        ("5.505", "KWD", 5505),
        ("5.5", "KWD", 5500),
        ("12.34", "XYZ", 1234),  # unknown codes have two decimals
        ("10000000000000", "USD", 10**15),  # the largest amount allowed
        ("1000000000000000", "JPY", 10**15),
    ],
)
def test_parse_amount(text: str, currency: str, expected: int) -> None:
    assert parse_amount(text, currency) == expected


def test_parse_amount_defaults_to_usd() -> None:
    assert parse_amount("5000.50") == 500050


@pytest.mark.parametrize(
    "bad, currency, reason",
    [
        ("-5", "USD", "negative"),
        ("-5.00", "USD", "negative"),
        ("$-5", "USD", "negative"),
        ("-$5", "USD", "negative"),
        ("", "USD", "as an amount"),
        ("   ", "USD", "as an amount"),
        ("5,00", "USD", "as an amount"),
        ("50,00,000", "USD", "as an amount"),
        ("5,0000", "USD", "as an amount"),
        (",500", "USD", "as an amount"),
        ("5.505", "USD", "too many decimals"),
        ("5.5", "JPY", "too many decimals"),
        ("5.0", "JPY", "too many decimals"),
        ("5.5055", "KWD", "too many decimals"),
        ("1e5", "USD", "as an amount"),
        ("nan", "USD", "as an amount"),
        ("NaN", "USD", "as an amount"),
        ("inf", "USD", "as an amount"),
        ("Infinity", "USD", "as an amount"),
        ("abc", "USD", "as an amount"),
        ("5 dollars", "USD", "as an amount"),
        ("5.", "USD", "as an amount"),
        (".5", "USD", "as an amount"),
        ("5..5", "USD", "as an amount"),
        ("5 000", "USD", "as an amount"),
        ("٥٠٠", "USD", "as an amount"),  # Arabic-Indic digits are not ASCII digits
        ("$$5", "USD", "as an amount"),
        ("5$", "USD", "as an amount"),
        ("0x10", "USD", "as an amount"),
        ("5\x00", "USD", "as an amount"),
        ("10000000000000.01", "USD", "too large"),
        ("99999999999999999999", "USD", "too large"),
        ("9" * 150, "USD", "too large"),
        ("9" * 5000, "USD", "as an amount"),
        ("1,000,000,000,000,000,000", "USD", "too large"),
    ],
)
def test_parse_amount_rejects(bad: str, currency: str, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        parse_amount(bad, currency)


def test_parse_amount_bad_currency() -> None:
    with pytest.raises(Invalid, match="invalid currency"):
        parse_amount("5", "dollars")


@pytest.mark.parametrize(
    "minor, currency, major",
    [
        (500050, "USD", 5000.5),
        (500000, "USD", 5000),
        (1, "USD", 0.01),
        (0, "USD", 0),
        (500, "JPY", 500),
        (5505, "KWD", 5.505),
        (123456789012345, "USD", 1234567890123.45),
    ],
)
def test_minor_to_major(minor: int, currency: str, major: float) -> None:
    result = minor_to_major(minor, currency)
    assert result == major
    assert type(result) is type(major)


@pytest.mark.parametrize(
    "minor, currency, shown",
    [
        (500050, "USD", "5,000.50 USD"),
        (500000, "USD", "5,000.00 USD"),
        (5, "usd", "0.05 USD"),
        (0, "EUR", "0.00 EUR"),
        (500, "JPY", "500 JPY"),
        (1234567, "JPY", "1,234,567 JPY"),
        (5505, "KWD", "5.505 KWD"),
        (123456750, "USD", "1,234,567.50 USD"),
    ],
)
def test_format_money(minor: int, currency: str, shown: str) -> None:
    assert format_money(minor, currency) == shown


@LIGHT
@given(
    minor=st.integers(min_value=0, max_value=10**15),
    currency=st.sampled_from(["USD", "JPY", "KWD", "EUR"]),
)
def test_money_round_trips(minor: int, currency: str) -> None:
    shown = format_money(minor, currency)
    assert parse_amount(shown.removesuffix(f" {currency}"), currency) == minor
    assert parse_amount(shown.removesuffix(f" {currency}").replace(",", ""), currency) == minor
    exponent = CURRENCY_EXPONENTS[currency]
    assert round(minor_to_major(minor, currency) * 10**exponent) == minor


# ------------------------------------------------------------------------------------------
# email, phone, percent


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ada@example.com", "ada@example.com"),
        ("  Ada.Lovelace@Example.COM \n", "Ada.Lovelace@Example.COM"),
        ("first+tag@sub.example.org", "first+tag@sub.example.org"),
        ("josé@exämple.de", "josé@exämple.de"),
    ],
)
def test_validate_email(text: str, expected: str) -> None:
    assert validate_email(text) == expected


@pytest.mark.parametrize(
    "bad",
    ["", "   ", "ada", "ada@", "@example.com", "ada@example", "ada@@example.com",
     "ada lovelace@example.com", "ada@exa mple.com", "ada@localhost", "a" * 400 + "@x.com",
     "ada@example.com\x00", "\x1b[2J@example.com"],
)  # fmt: skip
def test_validate_email_rejects(bad: str) -> None:
    with pytest.raises(Invalid) as caught:
        validate_email(bad)
    message = str(caught.value)
    assert message.startswith("invalid email '") and "': " in message
    assert "\n" not in message and "\x1b" not in message


@pytest.mark.parametrize(
    "text, region, expected",
    [
        ("(415) 555-0123", None, "+14155550123"),
        ("415.555.0123", None, "+14155550123"),
        ("+1 415 555 0123", None, "+14155550123"),
        ("+44 20 7946 0958", None, "+442079460958"),
        ("+44 20 7946 0958", "DE", "+442079460958"),  # a leading + ignores the region
        ("020 7946 0958", "GB", "+442079460958"),
        ("020 7946 0958", "gb", "+442079460958"),
        ("030 123456", "DE", "+4930123456"),
        ("  +49 30 123456  ", None, "+4930123456"),
    ],
)
def test_normalize_phone(text: str, region: str | None, expected: str) -> None:
    assert normalize_phone(text, region) == expected


@pytest.mark.parametrize(
    "bad, region",
    [("", None), ("   ", None), ("abc", None), ("123", None), ("+999 123", None),
     ("020 7946 0958", None), ("555-0123", "XX"), ("1" * 300, None), ("+1\x00415", None)],
)  # fmt: skip
def test_normalize_phone_rejects(bad: str, region: str | None) -> None:
    with pytest.raises(Invalid, match="^invalid phone number '"):
        normalize_phone(bad, region)


@pytest.mark.parametrize(
    "text, expected",
    [("40", 40), ("40%", 40), (" 40 % ", 40), ("0", 0), ("100", 100), ("100%", 100), ("007", 7)],
)
def test_parse_percent(text: str, expected: int) -> None:
    assert parse_percent(text) == expected


@pytest.mark.parametrize(
    "bad", ["", "%", "101", "-1", "40.5", "4 0", "forty", "1000", "40%%", "%40", "٤٠", "1e2"]
)
def test_parse_percent_rejects(bad: str) -> None:
    with pytest.raises(Invalid, match="as a percentage"):
        parse_percent(bad)


# ------------------------------------------------------------------------------------------
# Properties: any text gives a value or Invalid, never another exception

_TOKENS = [
    "in", "next", "this", "last", "at", "on", "ago", "today", "tomorrow", "yesterday", "now",
    "monday", "fri", "9am", "12pm", "13pm", "14:30", "25:00", "noon", "+2d", "-3h", "+99999999999d",
    "3", "99999999999", "days", "weeks", "months", "years", "mo", "h", "m", "dec", "2026",
    "2026-12-01", "2026-02-30", "T09:30", "Z", "+05:00", "1.12.2026", "12/01/2026", "EST", "UTC",
    ",", ".", ":", "-", "+", "0", "\x00", "\n", "é", "١",
]  # fmt: skip
_GRAMMARISH = st.lists(st.sampled_from(_TOKENS), max_size=6).map(" ".join)
_ANY_TEXT = st.one_of(st.text(), _GRAMMARISH, st.text(alphabet="0123456789+-:., TZdhmwapn"))


@PROPERTY
@given(
    text=_ANY_TEXT,
    zone=st.sampled_from(["Europe/Berlin", "UTC", "America/New_York", "Pacific/Kiritimati"]),
    offset_minutes=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_parse_when_raises_only_invalid(
    monkeypatch: pytest.MonkeyPatch, text: str, zone: str, offset_minutes: int
) -> None:
    monkeypatch.setenv("TZ", zone)
    now = NOW.astimezone(timezone(timedelta(minutes=offset_minutes)))
    try:
        result = parse_when(text, now=now)
    except Invalid as error:
        assert "\n" not in str(error)
    else:
        assert result.utcoffset() == timedelta(0)
    try:
        parse_date(text, now=now)
    except Invalid:
        pass


@PROPERTY
@given(
    text=st.one_of(st.text(), st.text(alphabet="0123456789,.$€£ -+eE")),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_parse_amount_raises_only_invalid(text: str, currency: str) -> None:
    try:
        minor = parse_amount(text, currency)
    except Invalid:
        pass
    else:
        assert isinstance(minor, int) and 0 <= minor <= 10**15


@PROPERTY
@given(text=st.one_of(st.text(), st.text(alphabet="0123456789 .hmsdwinourt")))
def test_parse_duration_raises_only_invalid(text: str) -> None:
    try:
        duration = parse_duration(text)
    except Invalid:
        pass
    else:
        assert duration >= timedelta(0)


@LIGHT
@given(text=st.one_of(st.text(), st.text(alphabet="0123456789% -.")))
def test_parse_percent_raises_only_invalid(text: str) -> None:
    try:
        percent = parse_percent(text)
    except Invalid:
        pass
    else:
        assert 0 <= percent <= 100


@LIGHT
@given(text=st.one_of(st.text(), st.sampled_from(LIFECYCLE_STAGES).map(str.upper)))
def test_choice_raises_only_invalid(text: str) -> None:
    try:
        assert choice(text, LIFECYCLE_STAGES, "stage") in LIFECYCLE_STAGES
    except Invalid:
        pass


@LIGHT
@given(text=st.one_of(st.text(), st.text(alphabet="ABCXYZabc$1 ")))
def test_currency_code_raises_only_invalid(text: str) -> None:
    try:
        assert len(currency_code(text)) == 3
    except Invalid:
        pass


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(st.text(), st.text(alphabet="ab@.-+ éx1\x00")))
def test_validate_email_raises_only_invalid(text: str) -> None:
    try:
        assert validate_email(text) == text.strip()
    except Invalid:
        pass


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(st.text(), st.text(alphabet="0123456789+-() x")),
    region=st.sampled_from([None, "US", "GB", "DE", "XX", "", "usa"]),
)
def test_normalize_phone_raises_only_invalid(text: str, region: str | None) -> None:
    try:
        assert normalize_phone(text, region).startswith("+")
    except Invalid:
        pass


@LIGHT
@given(days=st.integers(min_value=0, max_value=3000), hours=st.integers(0, 1000))
def test_relative_shifts(utc: None, days: int, hours: int) -> None:
    now = NOW.astimezone(UTC)
    assert parse_when(f"+{days}d", now=now) == now + timedelta(days=days)
    assert parse_when(f"in {hours} hours", now=now) == now + timedelta(hours=hours)
    assert parse_duration(f"{hours}h{days}m") == timedelta(hours=hours, minutes=days)


# ------------------------------------------------------------------------------------------
# Import cost


def test_import_is_stdlib_only() -> None:
    code = (
        "import sys, smallcrm.values, smallcrm.textsafe;"
        "heavy = {'dateutil', 'phonenumbers', 'email_validator'} & set(sys.modules);"
        "print(sorted(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(values.__file__).parents[1],
    ).stdout
    assert out.strip() == "[]"

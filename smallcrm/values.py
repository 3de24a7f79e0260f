"""Reading the values people type: dates, durations, money, emails, phones, stages.

Shared by the CLI and the TUI. Every parser raises :class:`smallcrm.errors.Invalid` with a
one-line message for anything it cannot read, and nothing else for any string input.

Only the standard library is imported here at import time; dateutil, phonenumbers and
email_validator are imported by the functions that need them, so ``smallcrm --help`` stays fast.
"""

from __future__ import annotations

import functools
import os
import re
import time
import warnings
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from datetime import time as dtime
from decimal import Decimal
from zoneinfo import ZoneInfo

from smallcrm.errors import Invalid
from smallcrm.textsafe import truncate, visible

__all__ = [
    "ACTIVITY_KINDS",
    "CURRENCY_EXPONENTS",
    "LIFECYCLE_STAGES",
    "RELATIONSHIP_TYPES",
    "choice",
    "currency_code",
    "currency_exponent",
    "format_money",
    "local_zone",
    "minor_to_major",
    "normalize_phone",
    "parse_amount",
    "parse_date",
    "parse_duration",
    "parse_percent",
    "parse_when",
    "validate_email",
]

LIFECYCLE_STAGES: tuple[str, ...] = (
    "suspect",
    "prospect",
    "first-time customer",
    "repeat customer",
    "client",
    "member",
    "advocate",
    "partner",
)
RELATIONSHIP_TYPES: tuple[str, ...] = (
    "basic",
    "reactive",
    "accountable",
    "proactive",
    "partnership",
)
ACTIVITY_KINDS: tuple[str, ...] = ("call", "email", "meeting", "note", "visit", "sms", "other")

# Longest input any parser looks at; longer text is rejected before any work is done.
_MAX_INPUT = 200


def _shown(text: str) -> str:
    """The user's input as it appears inside an error message: visible, one line, short."""
    return truncate(visible(text), 60)


def _words(text: str) -> str:
    """Lower case, single spaces, no surrounding whitespace."""
    return " ".join(text.lower().split())


# --------------------------------------------------------------------------------------------
# Choices


def _choice_key(text: str) -> str:
    return " ".join(text.lower().replace("_", " ").replace("-", " ").split())


def choice(value: str, choices: tuple[str, ...], what: str) -> str:
    """Match `value` to one of `choices` ignoring case and `_`/`-`/space differences.

    >>> choice("First_Time Customer", LIFECYCLE_STAGES, "stage")
    'first-time customer'
    """
    key = _choice_key(value)
    if key:
        for candidate in choices:
            if _choice_key(candidate) == key:
                return candidate
    raise Invalid(f"unknown {what} '{_shown(value)}'; expected one of: {', '.join(choices)}")


# --------------------------------------------------------------------------------------------
# Time zone


class _SystemLocal(tzinfo):
    """The C library's idea of local time (honours POSIX TZ strings), DST-correct via mktime."""

    def _gmtoff(self, stamp: float) -> timedelta:
        return timedelta(seconds=time.localtime(stamp).tm_gmtoff)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(seconds=-time.timezone)
        fields = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1)
        return self._gmtoff(time.mktime(fields))

    def dst(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(0)
        return self.utcoffset(dt) - timedelta(seconds=-time.timezone)

    def tzname(self, dt: datetime | None) -> str:
        if dt is None:
            return time.tzname[0]
        fields = (dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second, 0, 0, -1)
        return time.strftime("%Z", time.localtime(time.mktime(fields)))

    def fromutc(self, dt: datetime) -> datetime:
        stamp = (dt.replace(tzinfo=None) - datetime(1970, 1, 1)).total_seconds()
        return dt + self._gmtoff(stamp)

    def __repr__(self) -> str:
        return "smallcrm.values._SystemLocal()"


@functools.cache
def _system_zone() -> tzinfo:
    """The zone /etc/localtime points at (by name when it can), else the C library's."""
    try:
        target = os.path.realpath("/etc/localtime")
        if "/zoneinfo/" in target:
            try:
                return ZoneInfo(target.split("/zoneinfo/", 1)[1])
            except (KeyError, ValueError, OSError):
                pass
        with open("/etc/localtime", "rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (ValueError, OSError):
        return _SystemLocal()


def local_zone() -> tzinfo:
    """The local time zone: $TZ when it names a zone (Europe/Berlin), else the system's."""
    name = os.environ.get("TZ")
    if name is None:
        return _system_zone()
    name = name.removeprefix(":")
    if not name:
        return UTC  # POSIX: an empty TZ is UTC
    try:
        if name.startswith("/"):
            with open(name, "rb") as handle:
                return ZoneInfo.from_file(handle, key=name)
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
        pass
    # A POSIX rule string such as "CET-1CEST,M3.5.0,M10.5.0/3": the C library understands it.
    return _SystemLocal()


# --------------------------------------------------------------------------------------------
# Dates and times

_WHEN_HELP = "use e.g. 2026-12-01, 2026-12-01T09:30, tomorrow, +2d, next monday, friday 9am"

_WEEKDAYS = {
    "monday": 0, "mon": 0,
    "tuesday": 1, "tue": 1, "tues": 1,
    "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_DAY_OFFSETS = {"today": 0, "tomorrow": 1, "tmrw": 1, "yesterday": -1}

_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "s"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "w"),
    **dict.fromkeys(("mo", "month", "months"), "mo"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "y"),
}
_UNIT_RE = "|".join(sorted(_UNITS, key=len, reverse=True))
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

# Patterns are plain strings: re compiles and caches them on first use, keeping import fast.
_ISO = (
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[t ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r" ?(?P<tz>z|[+-]\d{2}(?::?\d{2})?)?)?"
)
_SHIFT = rf"(?P<sign>[+-]) ?(?P<n>\d+) ?(?P<unit>{_UNIT_RE})"
_IN = rf"in (?P<n>\d+|an?) ?(?P<unit>{_UNIT_RE})"
_AGO = rf"(?P<n>\d+|an?) ?(?P<unit>{_UNIT_RE}) ago"
_TIME = (
    r"(?P<h>\d{1,2})(?::(?P<mi>\d{2})(?::(?P<s>\d{2}))?)? ?(?P<ap>[ap]\.?m\.?)?"
    r"|(?P<word>noon|midnight)"
)
_DAY = (
    r"(?P<rel>today|tomorrow|tmrw|yesterday)"
    rf"|(?:(?P<which>next|this|last) )?(?P<wd>{'|'.join(_WEEKDAYS)})"
)
_DAY_TIME = rf"(?:on )?(?:{_DAY})(?:,? (?:at )?(?:{_TIME}))?"
_TIME_DAY = rf"(?:at )?(?:{_TIME}),? (?:on )?(?:{_DAY})"
_TIME_ONLY = rf"(?:at )?(?:{_TIME})"


def _read_time(match: re.Match[str], *, bare: bool) -> dtime | None:
    """The time of day in `match`, or None when it has none (or, if `bare`, is just a number)."""
    if match["word"]:
        return dtime(12) if match["word"] == "noon" else dtime(0)
    if match["h"] is None:
        return None
    hour = int(match["h"])
    minute = int(match["mi"] or 0)
    second = int(match["s"] or 0)
    if match["ap"]:
        if not 1 <= hour <= 12:
            raise ValueError("hour must be 1..12 with am/pm")
        hour = hour % 12 + (12 if match["ap"].startswith("p") else 0)
    elif bare and match["mi"] is None:
        raise ValueError("a bare number is not a time")
    return dtime(hour, minute, second)  # ValueError when out of range


def _at(day: date, clock: dtime, zone: tzinfo) -> datetime:
    return datetime.combine(day, clock).replace(tzinfo=zone)


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    day = min(moment.day, (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month])
    return moment.replace(year=year, month=month + 1, day=day)  # ValueError when out of range


def _shift(now: datetime, local: datetime, zone: tzinfo, amount: int, unit: str) -> datetime:
    """`now` moved by `amount` units: by the clock for s/m/h, by the calendar (same time) else."""
    if unit in ("s", "m", "h"):
        return now.astimezone(UTC) + timedelta(seconds=amount * _SECONDS[unit])  # real time
    wall = local.replace(tzinfo=None, fold=0)
    if unit in ("d", "w"):
        wall = wall + timedelta(seconds=amount * _SECONDS[unit])
    else:
        wall = _add_months(wall, amount * (12 if unit == "y" else 1))
    return wall.replace(tzinfo=zone)


def _count(text: str) -> int:
    return 1 if text in ("a", "an") else int(text)


def _iso(match: re.Match[str], zone: tzinfo) -> datetime:
    day = date(int(match["y"]), int(match["mo"]), int(match["d"]))
    if match["h"] is None:
        return _at(day, dtime(0), zone)
    fraction = (match["f"] or "").ljust(6, "0")
    clock = dtime(int(match["h"]), int(match["mi"]), int(match["s"] or 0), int(fraction or 0))
    offset = match["tz"]
    if offset is None:
        return _at(day, clock, zone)
    if offset == "z":
        return _at(day, clock, UTC)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return _at(day, clock, timezone(sign * delta))  # ValueError when >= 24h


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DOTTED_DATE = r"\d{1,2}\.\d{1,2}\.\d{2,4}\b.*"  # 1.12.2026 is day first


def _fallback(text: str, today: date, zone: tzinfo) -> datetime | None:
    """Free-form dates through dateutil ("1 Dec 2026", "Dec 1 2026 3pm"); None if unreadable."""
    lowered = text.lower()
    if text.isdigit() and len(text) != 8:  # "12" is not a date; "20261201" is
        return None
    if not any(c.isdigit() for c in text) and not any(month in lowered for month in _MONTHS):
        return None
    from dateutil import parser

    # Parse twice with different defaults: a field that differs was not in the text.
    first = datetime.combine(today, dtime(0))
    other = datetime(
        2000 if today.year != 2000 else 2001,
        1 if today.month != 1 else 2,
        1 if today.day != 1 else 2,
    )
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dayfirst = bool(re.fullmatch(_DOTTED_DATE, text))
            result = parser.parse(text, default=first, dayfirst=dayfirst)
            probe = parser.parse(text, default=other, dayfirst=dayfirst)
    except Exception:  # ParserError, OverflowError, ValueError...: all mean "cannot read"
        return None
    if caught:  # UnknownTimezoneWarning: "3pm EST" would silently become 3pm local time
        return None
    year_given, month_given = result.year == probe.year, result.month == probe.month
    if month_given and result.day != probe.day:
        result = result.replace(day=1)  # "dec 2026" is the first of December, not the 23rd
    elif year_given and not month_given:
        result = result.replace(month=1, day=1)
    if result.tzinfo is None or result.utcoffset() is None:
        result = result.replace(tzinfo=zone)
    return result


def _parse_when(text: str, now: datetime, zone: tzinfo) -> datetime | None:
    if len(text) > _MAX_INPUT or "\x00" in text:
        return None
    words = _words(text)
    if not words:
        return None
    local = now.astimezone(zone)
    today = local.date()
    if words == "now":
        return now
    if match := re.fullmatch(_ISO, words):
        return _iso(match, zone)
    if match := re.fullmatch(_SHIFT, words):
        amount = int(match["n"]) * (-1 if match["sign"] == "-" else 1)
        return _shift(now, local, zone, amount, _UNITS[match["unit"]])
    if match := re.fullmatch(_IN, words):
        return _shift(now, local, zone, _count(match["n"]), _UNITS[match["unit"]])
    if match := re.fullmatch(_AGO, words):
        return _shift(now, local, zone, -_count(match["n"]), _UNITS[match["unit"]])
    if match := re.fullmatch(_DAY_TIME, words) or re.fullmatch(_TIME_DAY, words):
        if match["rel"]:
            day = today + timedelta(days=_DAY_OFFSETS[match["rel"]])
        else:
            ahead = (_WEEKDAYS[match["wd"]] - today.weekday()) % 7
            if match["which"] == "next":
                ahead = ahead or 7  # strictly after today
            elif match["which"] == "last":
                ahead = ahead - 7  # strictly before today
            day = today + timedelta(days=ahead)
        return _at(day, _read_time(match, bare=False) or dtime(0), zone)
    if match := re.fullmatch(_TIME_ONLY, words):
        clock = _read_time(match, bare=not words.startswith("at "))
        return _at(today, clock, zone) if clock is not None else None
    return _fallback(" ".join(text.split()), today, zone)


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """Read a point in time; returns an aware datetime in UTC.

    Accepts ISO 8601 (an offset is honoured, otherwise local time), ``now``, ``today``,
    ``tomorrow``, ``yesterday``, ``in 3 days``, ``+2d``/``-4h``, ``next monday``, ``friday 9am``,
    ``tomorrow at 14:30`` and free-form dates such as ``1 Dec 2026``. Dates without a time mean
    00:00 local time. `now` (aware; naive means local) defaults to the current time.
    """
    zone = local_zone()
    if now is None:
        now = datetime.now(UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        now = now.replace(tzinfo=zone)
    try:
        result = _parse_when(text, now, zone)
        if result is not None:
            return result.astimezone(UTC)
    except (ValueError, OverflowError, ArithmeticError):
        pass  # out-of-range fields, years past 9999, huge shifts
    raise Invalid(f"cannot read '{_shown(text)}' as a date; {_WHEN_HELP}")


def parse_date(text: str, *, now: datetime | None = None) -> date:
    """Read a day (same grammar as :func:`parse_when`); returns the local calendar date."""
    moment = parse_when(text, now=now)
    try:
        return moment.astimezone(local_zone()).date()
    except (ValueError, OverflowError):
        raise Invalid(f"cannot read '{_shown(text)}' as a date; {_WHEN_HELP}") from None


_DURATION_PART = rf"(\d+(?:\.\d+)?) ?({_UNIT_RE})"
_DURATION = rf"(?:\d+(?:\.\d+)? ?(?:{_UNIT_RE}) ?)+"


def parse_duration(text: str) -> timedelta:
    """Read a length of time: ``15m``, ``2h``, ``1h30m``, ``2 hours``, ``90`` (minutes)."""
    problem = f"cannot read '{_shown(text)}' as a duration; use e.g. 15m, 2h, 1h30m, 90 (minutes)"
    if len(text) > _MAX_INPUT:
        raise Invalid(problem)
    words = _words(text).replace(" and ", " ").replace(",", "")
    try:
        if re.fullmatch(r"\d+(?:\.\d+)?", words):
            return timedelta(minutes=float(Decimal(words)))
        if not re.fullmatch(_DURATION, words):
            raise Invalid(problem)
        seconds = Decimal(0)
        for number, unit in re.findall(_DURATION_PART, words):
            unit = _UNITS[unit]
            if unit not in _SECONDS:  # months and years have no fixed length
                raise Invalid(problem)
            seconds += Decimal(number) * _SECONDS[unit]
        return timedelta(seconds=float(seconds))
    except (ValueError, OverflowError, ArithmeticError):
        raise Invalid(problem) from None


# --------------------------------------------------------------------------------------------
# Money

CURRENCY_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        "USD EUR GBP CHF CAD AUD NZD SEK NOK DKK PLN CZK INR BRL MXN ZAR SGD HKD CNY".split(), 2
    ),
    **dict.fromkeys("JPY KRW ISK CLP VND".split(), 0),
    **dict.fromkeys("KWD BHD JOD OMR TND".split(), 3),
}
_MAX_MINOR = 10**15
_AMOUNT = r"[$€£]? ?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?"


def currency_code(text: str) -> str:
    """A three-letter currency code, upper case (unknown codes are allowed, with 2 decimals)."""
    code = text.strip()
    if not re.fullmatch(r"[A-Za-z]{3}", code):
        raise Invalid(f"invalid currency '{_shown(text)}'; use a three-letter code such as USD")
    return code.upper()


def currency_exponent(currency: str) -> int:
    """How many decimals the currency has (2 for codes not in :data:`CURRENCY_EXPONENTS`)."""
    return CURRENCY_EXPONENTS.get(currency_code(currency), 2)


def parse_amount(text: str, currency: str = "USD") -> int:
    """Read an amount of money as exact integer minor units (cents): ``5,000.50`` -> 500050."""
    exponent = currency_exponent(currency)
    problem = f"cannot read '{_shown(text)}' as an amount; use e.g. 5000, 5000.50, 5,000.50"
    if len(text) > _MAX_INPUT:
        raise Invalid(problem)
    stripped = text.strip()
    if stripped.lstrip("$€£ ").startswith("-"):
        raise Invalid(f"amount cannot be negative: '{_shown(text)}'")
    match = re.fullmatch(_AMOUNT, stripped)
    if not match:
        raise Invalid(problem)
    fraction = match["frac"] or ""
    if len(fraction) > exponent:
        code = currency_code(currency)
        allowed = {0: "no decimals", 1: "1 decimal"}.get(exponent, f"{exponent} decimals")
        raise Invalid(f"too many decimals in '{_shown(text)}': {code} has {allowed}")
    digits = match["int"].replace(",", "") + fraction.ljust(exponent, "0")
    if len(digits) > 20 or int(digits) > _MAX_MINOR:
        raise Invalid(f"amount too large: '{_shown(text)}'")
    return int(digits)


def _major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-currency_exponent(currency))


def minor_to_major(minor: int, currency: str) -> int | float:
    """Minor units as a JSON number in major units: 500050 USD -> 5000.5, 500000 -> 5000."""
    value = _major(minor, currency)
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def format_money(minor: int, currency: str) -> str:
    """Minor units for a table: ``5,000.50 USD``, ``500 JPY``."""
    exponent = currency_exponent(currency)
    return f"{_major(minor, currency):,.{exponent}f} {currency_code(currency)}"


# --------------------------------------------------------------------------------------------
# Email, phone, percent


def validate_email(text: str) -> str:
    """Check an email address's syntax (no network look-ups); returns it stripped, as given."""
    address = text.strip()
    if not address:
        raise Invalid("invalid email '': it is empty")
    if len(address) > 320:
        raise Invalid(f"invalid email '{_shown(address)}': it is too long")
    from email_validator import EmailNotValidError
    from email_validator import validate_email as check

    try:
        check(address, check_deliverability=False)
    except EmailNotValidError as error:
        reason = " ".join(str(error).split()) or "not a valid address"
        raise Invalid(f"invalid email '{_shown(address)}': {visible(reason)}") from None
    except (ValueError, UnicodeError):
        raise Invalid(f"invalid email '{_shown(address)}': not a valid address") from None
    return address


def normalize_phone(text: str, region: str | None = None) -> str:
    """A phone number in E.164 (``+14155550123``); `region` (default US) applies without a '+'."""
    problem = f"invalid phone number '{_shown(text)}'"
    if not text.strip() or len(text) > _MAX_INPUT or "\x00" in text:
        raise Invalid(problem)
    import phonenumbers

    try:
        number = phonenumbers.parse(text, (region or "US").upper())
    except (phonenumbers.NumberParseException, ValueError, UnicodeError):
        raise Invalid(problem) from None
    if not phonenumbers.is_possible_number(number):
        raise Invalid(problem)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_percent(text: str) -> int:
    """A whole percentage 0..100: ``40`` or ``40%``."""
    match = re.fullmatch(r"\s*([0-9]{1,3})\s*%?\s*", text)
    if not match or int(match[1]) > 100:
        raise Invalid(f"cannot read '{_shown(text)}' as a percentage; use a whole number 0..100")
    return int(match[1])

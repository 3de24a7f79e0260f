"""What one spreadsheet cell means: formula prefixes, yes/no, tags, emails, phone numbers.

Pure functions of text (no database), shared by import and export. Email and phone checks give
the same answers as :mod:`smallcrm.values`, only faster on the values a large file repeats.
"""

from __future__ import annotations

import re
from typing import Any

from smallcrm.errors import Invalid
from smallcrm.textsafe import truncate, visible

#: A cell starting with one of these is run by a spreadsheet; export puts `'` before it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: str) -> str:
    """A cell a spreadsheet shows as text: `'` before =, +, -, @, tab, CR, LF (after any `'`)."""
    if value and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def unneutralise(value: str) -> str:
    """Undo exactly the `'` export puts before a value a spreadsheet would run as a formula."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """Case-insensitive key as the database's lower() sees it (ASCII letters fold)."""
    return text.lower() if text.isascii() else text.translate(_ASCII_LOWER)


_TRUE = {"true", "yes", "y", "1", "x", "on", "t", "checked"}
_FALSE = {"false", "no", "n", "0", "off", "f", ""}


def parse_bool(value: str | None, what: str) -> bool:
    text = (value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise Invalid(f"{what} must be yes or no, not '{truncate(visible(value or ''), 40)}'")


_TAG_SPLIT = re.compile(r"\s*(?:,|;|:::)\s*")


def split_tags(value: str | None) -> list[str]:
    """Tags from one cell: separated by commas, semicolons or Google's ` ::: `."""
    if not value or not value.strip():
        return []
    from smallcrm import tags

    parts = [p.strip().removeprefix("* ") for p in _TAG_SPLIT.split(value.strip())]
    return tags.clean(p for p in parts if p)


_ATOM_TEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+")
_DOMAINS: dict[str, bool] = {}


def _domain_ok(domain: str) -> bool:
    """The full check's verdict on `a@domain`, remembered (a file repeats few domains)."""
    known = _DOMAINS.get(domain)
    if known is None:
        from smallcrm.values import validate_email

        try:
            validate_email("a@" + domain)
            known = True
        except Invalid:
            known = False
        if len(_DOMAINS) > 50_000:
            _DOMAINS.clear()
        _DOMAINS[domain] = known
    return known


def check_email(text: str) -> str:
    """Same answer as :func:`smallcrm.values.validate_email`, fast for plain ASCII addresses.

    The full check costs ~70 µs; an ASCII dot-atom local part is valid by its syntax alone,
    and the domain's verdict is cached, so a 100,000-row file is not dominated by it.
    """
    address = text.strip()
    local, at, domain = address.rpartition("@")
    if (
        at
        and len(local) <= 64
        and len(address) <= 254
        and _ATOM_TEXT.fullmatch(local)  # a dot-atom: dots only between atoms
        and local[0] != "."
        and local[-1] != "."
        and ".." not in local
        and domain.isascii()
        and _domain_ok(domain.lower())
    ):
        return address
    from smallcrm.values import validate_email

    return validate_email(address)


_PHONE_SEPARATORS = str.maketrans("", "", " -.()/\u00a0\u2011\u2013")
_DIGITS_OR_BAR = re.compile(r"[0-9|]+")


class PhoneNormaliser:
    """:func:`smallcrm.values.normalize_phone`, remembered by the shape of the number.

    phonenumbers needs ~50 µs a number. How it reads a number depends on the country code, the
    first digits (which national prefix they start with) and the length, not on the last
    digits; and whether the result is possible depends on the country code and length only. So
    once a full parse of `+44 20 7946 0958` has shown that the output is `+44` and the input's
    digits, every `+44 20 7...` of the same length is answered the same way. Countries whose
    national prefix rules rewrite digits (Argentina, …) always get the full parse.
    """

    def __init__(self, region: str | None) -> None:
        self.region = (region or "US").upper()
        self.shapes: dict[tuple[Any, ...], tuple[str, int] | None] = {}
        self.regions: dict[str, Any] = {}
        self.codes: dict[str, tuple[str, str] | None] = {}

    def _rules(self, region: str) -> tuple[tuple[str, ...], Any, str] | None:
        """(the literal national prefixes a region strips, its international dialling prefix
        as a pattern, its country code), or None when its rules rewrite digits."""
        known = self.regions.get(region, ())
        if known == ():
            import phonenumbers

            meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
            rule = meta.national_prefix_for_parsing if meta else None
            if meta is None or meta.national_prefix_transform_rule is not None:
                known = None
            elif rule is None or _DIGITS_OR_BAR.fullmatch(rule):
                prefixes = tuple(sorted((rule or "").split("|"), key=len, reverse=True))
                idd = re.compile(meta.international_prefix) if meta.international_prefix else None
                known = (tuple(p for p in prefixes if p), idd, str(meta.country_code))
            else:
                known = None
            self.regions[region] = known
        return known

    def _country_code(self, digits: str) -> tuple[str, str] | None:
        """(country code, its main region) that an international number starts with."""
        head = digits[:3]
        found = self.codes.get(head, ())
        if found == ():
            import phonenumbers

            found = None
            for size in (1, 2, 3):
                regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(head[:size]))
                if regions:
                    found = head[:size], regions[0]
                    break
            self.codes[head] = found
        return found

    def __call__(self, text: str) -> str:
        compact = text.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
        if not compact.isascii() or not compact.lstrip("+").isdigit():
            compact = compact.strip().translate(_PHONE_SEPARATORS)  # dots, slashes, NBSP, …
        plus = compact[:1] == "+"
        digits = compact[1:] if plus else compact
        if not (digits.isdigit() and digits.isascii() and 6 <= len(digits) <= 17):
            return self._parsed(text)
        if plus:
            found = self.codes.get(digits[:3]) or self._country_code(digits)
            if found is None:
                return self._parsed(text)
            code, region = found
            national = digits[len(code) :]
        else:
            code, region, national = "", self.region, digits
        rules = self.regions.get(region) or self._rules(region)
        if rules is None:
            return self._parsed(text)
        prefixes, idd, country = rules
        if not plus and (
            national.startswith(country) or (idd is not None and idd.match(national))
        ):  # 44 20…, 00 44 20…: whether (and which) country code leads depends on every digit
            return self._parsed(text)
        starts = ""
        for prefix in prefixes:  # longest first
            if national.startswith(prefix):
                starts = prefix
                break
        key = (code, national[:3], starts, len(national))
        shape = self.shapes.get(key, ())
        if shape:
            return shape[0] + national[shape[1] :]
        result = self._parsed(text)  # raises Invalid: that shape is not cached
        if shape == ():
            self.shapes[key] = self._shape(result, national, starts, "+" + (code or country))
        return result

    def _parsed(self, text: str) -> str:
        from smallcrm.values import normalize_phone

        return normalize_phone(text, self.region)

    @staticmethod
    def _shape(result: str, national: str, starts: str, prefix: str) -> tuple[str, int] | None:
        """(prefix, digits dropped) such that result == prefix + national[dropped:]."""
        for dropped in sorted({0, 1, 2, 3, len(starts)}):
            if len(national) - dropped >= 4 and result == prefix + national[dropped:]:
                return prefix, dropped
        return None

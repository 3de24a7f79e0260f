"""Reading an import file: where it comes from, how it is encoded, and its rows as fields.

A reader yields :class:`Row` for each record and :class:`Unreadable` for a row that cannot be
read (undecodable bytes, a broken vCard); both carry the row's first line in the file.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import csv
import io
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from smallcrm import columns
from smallcrm.errors import Invalid
from smallcrm.importing.cells import unneutralise

_SAMPLE = 64 * 1024
_SURROGATES = re.compile("[\udc80-\udcff]")


class Row(NamedTuple):
    line: int
    values: dict[str, str]  # field -> cell, only the non-blank ones
    extra: dict[str, str]  # unknown column -> cell
    raw: list[str]  # the cells as read (for the rejects file)


class Unreadable(NamedTuple):
    line: int
    reason: str
    raw: list[str]


class Source:
    """The file being imported: its path, size and how to read it. `-` is standard input,
    spooled to a private temporary file first so it is read like any file."""

    def __init__(self, source: str | os.PathLike[str], stdin: IO[bytes] | None) -> None:
        self.spooled: str | None = None
        if str(source) == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            fd, self.spooled = tempfile.mkstemp(prefix="smallcrm-stdin-")
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, 1024 * 1024)
            self.path = Path(self.spooled)
            self.name = "standard input"
        else:
            self.path = Path(source).expanduser()
            self.name = str(source)
            if not self.path.exists():
                raise Invalid(f"cannot open {self.name}: no such file")
            if self.path.is_dir():
                raise Invalid(f"cannot open {self.name}: it is a directory")
            try:
                with self.path.open("rb"):
                    pass
            except OSError as error:
                raise Invalid(f"cannot open {self.name}: {error.strerror or error}") from None
        self.size = self.path.stat().st_size

    def close(self) -> None:
        if self.spooled:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.spooled)

    def sample(self) -> bytes:
        with self.path.open("rb") as handle:
            return handle.read(_SAMPLE)

    def decodes(self, encoding: str) -> bool:
        """Whether the whole file is valid in `encoding` (then rows need no byte check)."""
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            with self.path.open("rb") as handle:
                while chunk := handle.read(1024 * 1024):
                    decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeError:  # UTF-16 without a BOM raises the parent class
            return False
        return True


def parse_encoding(name: str | None) -> str:
    """The codec for --encoding (UTF-8 with or without BOM when not given)."""
    if not name:
        return "utf-8-sig"
    try:
        codec = codecs.lookup(name)
    except LookupError:
        raise Invalid(f"unknown encoding '{name}'") from None
    return "utf-8-sig" if codec.name == "utf-8" else codec.name


def parse_delimiter(given: str) -> str:
    """A --delimiter value: one character, or tab/comma/semicolon/pipe by name."""
    named = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
    value = named.get(given.lower(), given)
    if len(value) != 1 or value in "\r\n\"'" or value.isalnum():
        raise Invalid(f"--delimiter must be one character such as , ; or tab, not {given!r}")
    return value


def _shown_encoding(encoding: str) -> str:
    return "UTF-8" if encoding.startswith("utf-8") else encoding


def check_text(source: Source, encoding: str) -> str:
    """Refuse empty and binary files; returns the decoded first 64 KiB."""
    data = source.sample()
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise Invalid(f"{source.name} is empty")
    wide = encoding.startswith(("utf-16", "utf-32"))
    if b"\x00" in data and not wide:
        raise Invalid(f"{source.name} is not a text file (it holds binary data)")
    try:  # the sample may end inside a character: decoded as the first part of a stream
        decoder = codecs.getincrementaldecoder(encoding)("surrogateescape")
        text = decoder.decode(data, final=len(data) < _SAMPLE)
    except UnicodeError:  # UTF-16/32 cannot escape what they cannot read
        raise Invalid(_not_text(source, encoding)) from None
    odd = sum(1 for ch in text if (ch < " " and ch not in "\t\r\n\f") or "\udc80" <= ch <= "\udcff")
    if text and odd > max(8, len(text) // 20):
        raise Invalid(_not_text(source, encoding))
    return text


def _not_text(source: Source, encoding: str) -> str:
    return (
        f"{source.name} is not a text file in {_shown_encoding(encoding)} "
        "(give its encoding with --encoding)"
    )


def is_vcard(source: Source, encoding: str) -> bool:
    if source.path.suffix.lower() in (".vcf", ".vcard"):
        return True
    head = source.sample()[:200].decode(encoding, errors="ignore").lstrip("\ufeff \r\n\t")
    return head.upper().startswith("BEGIN:VCARD")


def _undecodable(cells: Sequence[str], encoding: str) -> str:
    match = _SURROGATES.search("".join(cells))
    byte = f" (byte 0x{ord(match.group()) - 0xDC00:02X})" if match else ""
    return (
        f"cannot be read as {_shown_encoding(encoding)}{byte}; "
        "give the file's encoding with --encoding, e.g. --encoding latin-1"
    )


class CsvReader:
    """Rows of a CSV file mapped to fields (:mod:`smallcrm.columns`); unknown columns go to
    `extra`. A cell export neutralised (`'=…`) is read back without its `'`."""

    def __init__(
        self,
        kind: str,
        source: Source,
        *,
        mapping: Mapping[str, str],
        delimiter: str | None,
        encoding: str,
    ) -> None:
        self.kind = kind
        self.source = source
        self.encoding = encoding
        sample = check_text(source, encoding)
        first_line = sample.lstrip("\ufeff").splitlines()[0] if sample.strip() else ""
        if delimiter is not None:
            self.delimiter = parse_delimiter(delimiter)
        else:
            counts = {d: first_line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: counts[d])
            self.delimiter = best if counts[best] else ","
        self.clean = source.decodes(encoding)  # else each row is checked for bad bytes
        self.binary = source.path.open("rb")
        self.text = io.TextIOWrapper(
            self.binary, encoding=encoding, errors="surrogateescape", newline=""
        )
        self.reader = csv.reader(self.text, delimiter=self.delimiter, strict=False)
        try:
            header = next(self.reader, None)
            while header is not None and not "".join(header).strip():
                header = next(self.reader, None)
        except csv.Error as error:
            raise Invalid(f"{source.name}: line {self.reader.line_num}: {error}") from None
        except UnicodeError:
            raise Invalid(_not_text(source, encoding)) from None
        if header is None:
            raise Invalid(f"{source.name} is empty")
        if _SURROGATES.search("".join(header)):
            reason = _undecodable(header, encoding)
            raise Invalid(f"{source.name}: line {self.reader.line_num}: {reason}")
        self.headers = [unneutralise(h.strip().lstrip("\ufeff")) for h in header]
        self.line_offset = 0  # lines of the file before where `self.reader` started
        self._plan(mapping)

    def _plan(self, mapping: Mapping[str, str]) -> None:
        """Which column feeds which field; the rest are extras, named after their header."""
        overrides: dict[str, str] = {}
        for column, target in mapping.items():
            key = columns.header_key(column)
            if not any(columns.header_key(h) == key for h in self.headers):
                shown = ", ".join(h for h in self.headers if h) or "(none)"
                raise Invalid(f"--map: no column '{column}' in {self.source.name}; it has: {shown}")
            overrides[key] = target
        self.fields: dict[str, list[int]] = {}
        self.extras: list[tuple[int, str]] = []
        seen: dict[str, int] = {}
        for index, header in enumerate(self.headers):
            target = overrides.get(columns.header_key(header))
            if target is None:
                target = columns.field_for(self.kind, header) if header else None
            if target == columns.IGNORE:
                continue
            if target is None or target == "extra":
                name = header or f"column {index + 1}"
                if name in seen:
                    seen[name] += 1
                    name = f"{name} ({seen[name]})"
                else:
                    seen[name] = 1
                self.extras.append((index, name))
            else:
                self.fields.setdefault(target, []).append(index)

    def position(self) -> int:
        try:
            return self.binary.tell()
        except (OSError, ValueError):
            return 0

    @property
    def lines_read(self) -> int:
        """The file's lines read so far (the csv module reads none ahead of its rows)."""
        return self.reader.line_num + self.line_offset

    def from_offset(self, offset: int, lines_before: int) -> CsvReader:
        """A reader of the same file's rows from byte `offset`, the start of a row after
        `lines_before` lines (see :func:`find_split`), with this reader's columns."""
        part = copy.copy(self)
        part.binary = self.source.path.open("rb")
        part.binary.seek(offset)
        # Plain UTF-8: a BOM counts only at the start of the file.
        encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        part.text = io.TextIOWrapper(
            part.binary, encoding=encoding, errors="surrogateescape", newline=""
        )
        part.reader = csv.reader(part.text, delimiter=self.delimiter, strict=False)
        part.line_offset = lines_before
        return part

    def __iter__(self) -> Iterator[Row | Unreadable]:
        reader = self.reader
        offset = self.line_offset
        headers = self.headers
        width = len(headers)
        # A field fed by one column (the usual case) is read without a loop.
        single = [(name, ix[0]) for name, ix in self.fields.items() if len(ix) == 1]
        several = [(name, ix) for name, ix in self.fields.items() if len(ix) > 1]
        extras = self.extras
        check_bytes = not self.clean
        previous = reader.line_num + offset
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                line, previous = previous + 1, reader.line_num + offset
                yield Unreadable(line, f"cannot read this row: {error}", [])
                continue
            except UnicodeError:
                line = previous + 1
                raise Invalid(
                    f"{self.source.name}: line {line}: cannot be read as "
                    f"{_shown_encoding(self.encoding)}; give its encoding with --encoding"
                ) from None
            line, previous = previous + 1, reader.line_num + offset
            count = len(cells)
            if not count or not "".join(cells).strip():
                continue
            if check_bytes and _SURROGATES.search("".join(cells)):
                yield Unreadable(line, _undecodable(cells, self.encoding), cells)
                continue
            values: dict[str, str] = {}
            extra: dict[str, str] = {}
            for name, i in single:
                if i < count:
                    cell = cells[i]
                    if cell and not cell.isspace():
                        values[name] = unneutralise(cell) if cell[0] == "'" else cell
            for name, indexes in several:
                for i in indexes:
                    cell = cells[i] if i < count else ""
                    if cell and not cell.isspace():
                        cell = unneutralise(cell) if cell[0] == "'" else cell
                        if name in values:
                            extra[headers[i]] = cell  # a second E-mail column: kept
                        else:
                            values[name] = cell
            for i, name in extras:
                if i < count and cells[i]:
                    cell = cells[i]
                    extra[name] = unneutralise(cell) if cell[0] == "'" else cell
            if count > width:
                for i in range(width, count):
                    if cells[i].strip():
                        extra[f"column {i + 1}"] = cells[i]
            yield Row(line, values, extra, cells)

    def close(self) -> None:
        self.text.close()


def find_split(path: Path, past: int | None = None) -> tuple[int, int] | None:
    """(byte offset, lines before it) of the first line start past byte `past` (the middle
    of the file unless given) of a UTF-8 CSV file that is outside any quoted cell, where a
    second reader may start; None if none.

    CSV doubles a quote inside a quoted cell, so a line ends a row when an even number of
    quote characters come before it. A stray quote in an unquoted cell breaks that rule; the
    reader of the first part confirms the split by ending a row on exactly that line (see
    smallcrm.importing.parallel). Lines are counted as the reader counts them: LF, CRLF and a
    lone CR each end one."""
    target = path.stat().st_size // 2 if past is None else past
    quotes = newlines = crs = crlfs = done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            while chunk.endswith(b"\r") and (more := handle.read(1)):
                chunk += more  # a CRLF is never cut in two
            if done + len(chunk) > target:
                start = max(0, target - done)
                seen = quotes + chunk.count(b'"', 0, start)
                at = chunk.find(b"\n", start)
                while at != -1:
                    seen += chunk.count(b'"', start, at)
                    if seen % 2 == 0:
                        lines = newlines + chunk.count(b"\n", 0, at + 1)
                        lone_crs = (
                            crs
                            + chunk.count(b"\r", 0, at)
                            - crlfs
                            - chunk.count(b"\r\n", 0, at + 1)
                        )
                        return done + at + 1, lines + lone_crs
                    start = at
                    at = chunk.find(b"\n", at + 1)
            quotes += chunk.count(b'"')
            newlines += chunk.count(b"\n")
            crs += chunk.count(b"\r")
            crlfs += chunk.count(b"\r\n")
            done += len(chunk)
    return None


class VcardReader:
    """Contacts from a .vcf file (Google, Apple, khard, …): one row per card."""

    headers = ["vcard"]
    delimiter = ","

    def __init__(self, source: Source, encoding: str) -> None:
        check_text(source, encoding)
        self.source = source
        self.encoding = encoding
        self.binary = source.path.open("rb")
        self.text = io.TextIOWrapper(self.binary, encoding=encoding, errors="surrogateescape")

    def position(self) -> int:
        try:
            return self.binary.tell()
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[Row | Unreadable]:
        try:
            yield from self._cards()
        except UnicodeError:
            raise Invalid(_not_text(self.source, self.encoding)) from None

    def _cards(self) -> Iterator[Row | Unreadable]:
        card: list[str] = []
        start = 0
        for number, line in enumerate(self.text, start=1):
            stripped = line.strip().lstrip("\ufeff")
            if not card:
                if stripped.upper() == "BEGIN:VCARD":
                    card, start = [line], number
                elif stripped:
                    yield Unreadable(number, "not inside a vCard (BEGIN:VCARD … END:VCARD)", [line])
                continue
            card.append(line)
            if stripped.upper() == "END:VCARD":
                yield self._card(start, "".join(card))
                card = []
        if card:
            yield Unreadable(start, "vCard has no END:VCARD", ["".join(card)])

    def _card(self, line: int, text: str) -> Row | Unreadable:
        if _SURROGATES.search(text):
            return Unreadable(line, _undecodable([text], self.encoding), [text])
        import vobject

        try:
            card = vobject.readOne(text)
        except Exception as error:  # vobject raises many kinds for broken cards
            reason = " ".join(str(error).split())[:100] or type(error).__name__
            return Unreadable(line, f"cannot read this vCard: {reason}", [text])
        values, extra = card_fields(card)
        return Row(line, values, extra, [text])

    def close(self) -> None:
        self.text.close()


def _props(card: Any, name: str) -> list[Any]:
    return list(card.contents.get(name, []))


def _text(prop: Any) -> str:
    value = prop.value
    if isinstance(value, list):
        return ", ".join(str(v) for v in value if str(v).strip())
    return str(value)


def _preferred_first(props: list[Any]) -> list[Any]:
    def rank(prop: Any) -> int:
        types = {t.lower() for t in prop.params.get("TYPE", [])}
        return 0 if "pref" in types or "PREF" in prop.params else 1

    return sorted(props, key=rank)


def card_fields(card: Any) -> tuple[dict[str, str], dict[str, str]]:
    """A vCard as (fields, extra): FN (or N), preferred EMAIL/TEL first, ORG, TITLE, NOTE,
    CATEGORIES; further emails and phones, addresses, URLs, birthdays and the like as extra."""
    values: dict[str, str] = {}
    extra: dict[str, str] = {}
    fn = _props(card, "fn")
    if fn and _text(fn[0]).strip():
        values["name"] = _text(fn[0]).strip()
    elif n := _props(card, "n"):
        parts = n[0].value
        joined = " ".join(
            str(p).strip()
            for p in (parts.prefix, parts.given, parts.additional, parts.family, parts.suffix)
            if str(p).strip()
        )
        if joined:
            values["name"] = joined
    for prop_name, field_name, label in (("email", "email", "E-mail"), ("tel", "phone", "Phone")):
        for index, prop in enumerate(_preferred_first(_props(card, prop_name))):
            value = _text(prop).strip()
            if value.lower().startswith("tel:"):
                value = value[4:]
            if not value:
                continue
            if field_name not in values:
                values[field_name] = value
            else:
                extra[f"{label} {index + 1}"] = value
    if org := _props(card, "org"):
        parts = org[0].value if isinstance(org[0].value, list) else [org[0].value]
        parts = [str(p).strip() for p in parts if str(p).strip()]
        if parts:
            values["company"] = parts[0]
            if len(parts) > 1:
                extra["Department"] = ", ".join(parts[1:])
    for prop_name in ("title", "note"):
        props = _props(card, prop_name)
        if props and _text(props[0]).strip():
            values[prop_name] = _text(props[0])
    names: list[str] = []
    for prop in _props(card, "categories"):
        names.extend(prop.value if isinstance(prop.value, list) else [prop.value])
    if joined := ", ".join(str(n) for n in names if str(n).strip()):
        values["tags"] = joined
    for prop_name, label in (
        ("adr", "Address"), ("url", "Website"), ("bday", "Birthday"), ("nickname", "Nickname"),
        ("role", "Role"),
    ):  # fmt: skip
        for index, prop in enumerate(_props(card, prop_name)):
            value = prop.value
            if prop_name == "adr":
                value = ", ".join(
                    str(p).strip()
                    for p in (value.street, value.city, value.region, value.code, value.country)
                    if str(p).strip()
                )
            if text := str(value).strip():
                extra[label if index == 0 else f"{label} {index + 1}"] = text
    return values, extra

"""Text from the database is made safe to show: no control, bidi or invisible characters."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallcrm.textsafe import _cells, truncate, visible

# Everything visible() must neutralise, by the brief: C0, DEL, C1, zero-width and bidi marks.
NEUTRALISED = (
    {chr(c) for c in range(0x20)}
    | {"\x7f"}
    | {chr(c) for c in range(0x80, 0xA0)}
    | {chr(c) for c in range(0x200B, 0x2010)}
    | {chr(c) for c in range(0x202A, 0x202F)}
    | {chr(c) for c in range(0x2066, 0x206A)}
    | {"\ufeff"}
    # Beyond the brief: Arabic letter mark, line/paragraph separators, lone surrogates.
    | {"\u061c", "\u2028", "\u2029"}
    | {chr(c) for c in range(0xD800, 0xE000)}
)


def test_none_is_empty() -> None:
    assert visible(None) == ""
    assert visible(None, multiline=True) == ""
    assert visible("") == ""


@pytest.mark.parametrize(
    "text",
    ["Ada Lovelace", "Zoë Ünïcødé ✓", "日本語", "[bold]not markup[/bold]", "a\\u202eb", "😀", " "],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert visible(text) == text
    assert visible(text, multiline=True) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("\x1b[31mred\x1b[0m", "␛[31mred␛[0m"),
        ("\x00", "␀"),
        ("a\x07b", "a␇b"),
        ("a\rb", "a␍b"),
        ("a\x08b", "a␈b"),
        ("\x1f", "␟"),
        ("a\tb", "a b"),
        ("a\nb", "a⏎b"),
        ("a\r\nb", "a⏎b"),
        ("\x7f", "␡"),
        ("\x9b31m", "\\u009b31m"),
        ("\x80\x9f", "\\u0080\\u009f"),
        ("\u202eevil", "\\u202eevil"),
        ("a\u200bb", "a\\u200bb"),
        ("\u200e\u200f", "\\u200e\\u200f"),
        ("\u202a\u202d", "\\u202a\\u202d"),
        ("\u2066x\u2069", "\\u2066x\\u2069"),
        ("\ufeffBOM", "\\ufeffBOM"),
        ("a\u2028b", "a\\u2028b"),
        ("\ud800", "\\ud800"),
        ("ok\u00a0nbsp", "ok\u00a0nbsp"),  # not printable to Python, but harmless: kept
    ],
)
def test_controls_become_visible(text: str, expected: str) -> None:
    assert visible(text) == expected


def test_multiline_keeps_newlines_only() -> None:
    assert visible("line 1\nline 2\x1b", multiline=True) == "line 1\nline 2␛"
    assert visible("a\r\nb\rc", multiline=True) == "a\nb␍c"
    assert visible("a\tb\n", multiline=True) == "a b\n"
    assert visible("a\u2028b", multiline=True) == "a\\u2028b"


def test_escape_picture_example() -> None:
    assert visible("\x1b") == "␛" == chr(0x241B)


_NASTY = st.sampled_from(sorted(NEUTRALISED - {chr(c) for c in range(0xD800, 0xE000)}))
_TEXT = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(exclude_categories=())),  # includes lone surrogates
    st.lists(st.one_of(_NASTY, st.characters()), max_size=30).map("".join),
)


@settings(max_examples=250, deadline=None)
@given(text=_TEXT)
def test_visible_output_never_contains_neutralised(text: str) -> None:
    single = visible(text)
    assert not NEUTRALISED.intersection(single)
    multi = visible(text, multiline=True)
    assert not (NEUTRALISED - {"\n"}).intersection(multi)
    assert multi.count("\n") == text.count("\n")
    assert visible(single) == single  # idempotent
    assert visible(multi, multiline=True) == multi
    single.encode("utf-8")  # always encodable for a terminal


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.characters(exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"))))
def test_visible_keeps_ordinary_text(text: str) -> None:
    assert visible(text) == text


def test_visible_is_fast() -> None:
    clean = [f"Contact {i} Lovelace" for i in range(100_000)]
    start = time.perf_counter()
    for text in clean:
        visible(text)
    elapsed = time.perf_counter() - start
    # ~10 ms on a laptop; generous for slow CI machines.
    assert elapsed < 0.25, elapsed
    dirty = [f"Contact {i}\x1b[2J" for i in range(10_000)]
    start = time.perf_counter()
    for text in dirty:
        visible(text)
    assert time.perf_counter() - start < 0.25


@pytest.mark.parametrize(
    "text, width, expected",
    [
        ("hello world", 20, "hello world"),
        ("hello world", 11, "hello world"),
        ("hello world", 10, "hello wor…"),
        ("hello world", 5, "hell…"),
        ("hello", 1, "…"),
        ("hello", 0, ""),
        ("hello", -3, ""),
        ("", 5, ""),
        ("Zoë Ünïcødé", 11, "Zoë Ünïcødé"),
        ("Zoë Ünïcødé", 5, "Zoë …"),
        ("日本語テキスト", 14, "日本語テキスト"),  # wide characters take two cells
        ("日本語テキスト", 7, "日本語…"),
        ("日本語テキスト", 6, "日本…"),
        ("e\u0301e\u0301e\u0301", 3, "e\u0301e\u0301e\u0301"),  # combining marks take none
        ("e\u0301e\u0301e\u0301x", 3, "e\u0301e\u0301…"),
    ],
)
def test_truncate(text: str, width: int, expected: str) -> None:
    assert truncate(text, width) == expected


@settings(max_examples=150, deadline=None)
@given(text=st.text(), width=st.integers(min_value=0, max_value=40))
def test_truncate_properties(text: str, width: int) -> None:
    result = truncate(text, width)
    if width == 0:
        assert result == ""
    elif result != text:
        assert result.endswith("…") and text.startswith(result[:-1])
        # Width is in terminal cells: zero-width characters (combining marks, U+00AD) are free.
        assert sum(_cells(char) for char in result[:-1]) + 1 <= width

"""The one place where text from the database is made safe to show on a terminal.

Stored text is kept exactly as given; whatever shows it (tables, the TUI, error messages) runs it
through :func:`visible` first, so an escape sequence, a carriage return or a right-to-left override
in a contact's name cannot repaint the screen or disguise what is shown.

Stdlib only: this is imported by every front end.
"""

from __future__ import annotations

import unicodedata

__all__ = ["NEUTRALISED", "truncate", "visible"]


def _neutralised() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x20):  # C0 controls -> control pictures (ESC -> ␛)
        table[code] = chr(0x2400 + code)
    table[0x09] = " "  # a tab is just a space in a cell
    table[0x0A] = "\u23ce"  # ⏎
    table[0x7F] = "\u2421"  # ␡
    escaped = [
        *range(0x80, 0xA0),  # C1 controls (CSI 0x9B starts an escape sequence on some terminals)
        0x061C,  # Arabic letter mark (bidi)
        *range(0x200B, 0x2010),  # zero-width space/joiners, LRM, RLM
        0x2028,  # line separator
        0x2029,  # paragraph separator
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2066, 0x206A),  # bidi isolates
        0xFEFF,  # zero-width no-break space / BOM
        *range(0xD800, 0xE000),  # lone surrogates: a terminal encoder would fail on them
    ]
    for code in escaped:
        table[code] = f"\\u{code:04x}"
    return table


#: Every code point :func:`visible` replaces, with what it becomes (single-line form).
NEUTRALISED: dict[int, str] = _neutralised()
_SINGLE_LINE = str.maketrans(NEUTRALISED)
_MULTILINE = str.maketrans({**NEUTRALISED, 0x0A: "\n"})


def visible(text: str | None, *, multiline: bool = False) -> str:
    """Return `text` with control, bidi and invisible formatting characters made visible.

    C0 controls become control pictures (ESC -> '␛'), a tab a space, DEL '␡', C1 controls and
    bidi/zero-width characters the literal text ``\\u202e``. A newline becomes '⏎' unless
    `multiline`; a CR LF pair counts as one newline. None gives "".
    """
    if text is None:
        return ""
    if text.isprintable():  # the common case: nothing to replace (every code above is not)
        return text
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return text.translate(_MULTILINE if multiline else _SINGLE_LINE)


def _cells(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def truncate(text: str, width: int) -> str:
    """Cut `text` to at most `width` terminal cells, ending with '…' when it was cut.

    Wide (CJK) characters count as two cells, combining marks as none.
    """
    if width <= 0:
        return ""
    if text.isascii():
        return text if len(text) <= width else text[: width - 1] + "…"
    if len(text) <= width and all(_cells(c) == 1 for c in text):
        return text
    total = sum(_cells(c) for c in text)
    if total <= width:
        return text
    used = 0
    for index, char in enumerate(text):
        cells = _cells(char)
        if used + cells > width - 1:
            return text[:index] + "…"
        used += cells
    return text  # not reached: total > width

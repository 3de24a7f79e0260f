"""Printing records: tables for people, JSON / JSONL / CSV for programs.

Everything a command prints about records goes through :func:`emit` (lists) or
:func:`emit_one` (one record). Rich is imported only when a table goes to a terminal; JSON, JSONL,
CSV and piped tables are written with the standard library, so scripts start fast.

Text from the database reaches the terminal through :func:`smallcrm.textsafe.visible` and as
rich ``Text`` (never markup), so a name like ``[/b]`` or ``ESC[2J`` prints literally.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from smallcrm.textsafe import truncate, visible

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "Col",
    "emit",
    "emit_one",
    "err_console",
    "is_terminal",
    "out_console",
    "plain",
    "write_line",
]

# --------------------------------------------------------------------------------------------
# JSON-ready values


_zone_cache: dict[str | None, Any] = {}


def _zone() -> Any:
    """The local zone, looked up once per TZ (a JSON list may hold thousands of times)."""
    key = os.environ.get("TZ")
    zone = _zone_cache.get(key)
    if zone is None:
        from smallcrm.values import local_zone

        zone = _zone_cache[key] = local_zone()
    return zone


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:  # stored times are UTC; a naive one is UTC too
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(_zone())


_SIMPLE = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[str, ...]] = {}


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _SIMPLE:
        return value
    if kind is datetime or isinstance(value, datetime):
        return _local(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if kind.__name__ == "Decimal":  # without importing decimal for every run
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str | int | float):  # subclasses (enums and the like)
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return str(value)


def plain(record: Any) -> dict[str, Any]:
    """A record as a JSON-ready dict: every field, times ISO 8601 with the local offset,
    dates ISO, money in major units beside `currency` (as the records carry it)."""
    if isinstance(record, Mapping):
        return {str(k): _jsonable(v) for k, v in record.items()}
    kind = type(record)
    names = _FIELDS.get(kind)
    if names is None:
        if not dataclasses.is_dataclass(record):
            raise TypeError(f"cannot show {kind.__name__}")
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(record))
    simple = _SIMPLE
    result = {}
    for name in names:
        value = getattr(record, name)
        result[name] = value if type(value) in simple else _jsonable(value)
    return result


def _field_names(record_or_type: Any) -> list[str]:
    if isinstance(record_or_type, Mapping):
        return [str(k) for k in record_or_type]
    return [f.name for f in dataclasses.fields(record_or_type)]


# --------------------------------------------------------------------------------------------
# Where output goes


def is_terminal(stream: Any = None) -> bool:
    """Whether `stream` (stdout by default) is a terminal a person reads."""
    stream = sys.stdout if stream is None else stream
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def write_line(text: str = "") -> None:
    """One line on stdout (plain text, no rich)."""
    sys.stdout.write(text + "\n")


_consoles: dict[str, Console] = {}


def _console(stderr: bool) -> Console:
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    key = f"{'err' if stderr else 'out'}:{id(stream)}"
    console = _consoles.get(key)
    if console is None:
        # markup/emoji/highlight off: nothing the database holds is ever interpreted.
        console = Console(
            file=stream,
            stderr=stderr,
            markup=False,
            emoji=False,
            highlight=False,
            soft_wrap=False,
        )
        if len(_consoles) > 8:  # tests swap streams; do not keep old ones alive
            _consoles.clear()
        _consoles[key] = console
    return console


def out_console() -> Console:
    """A rich console on stdout (colour only on a terminal; NO_COLOR honoured)."""
    return _console(stderr=False)


def err_console() -> Console:
    """A rich console on stderr (colour only on a terminal; NO_COLOR honoured)."""
    return _console(stderr=True)


# --------------------------------------------------------------------------------------------
# Table cells


def _cell(value: Any) -> str:
    """A value as one line of table text (already made visible)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return _local(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{visible(str(k))}={_cell(v)}" for k, v in value.items())
    return visible(str(value))


def money(record: Any) -> str:
    """A lead's value for a table: ``5,000.50 USD``."""
    from smallcrm.values import format_money

    minor = getattr(record, "value_minor", None)
    currency = getattr(record, "currency", None)
    if minor is None or not currency:
        return _cell(getattr(record, "value", None))
    try:
        return format_money(minor, currency)
    except Exception:  # an odd stored currency code must not break a listing
        return f"{getattr(record, 'value', minor)} {visible(currency)}"


def _due(record: Any) -> str:
    return _cell(getattr(record, "due_at", None))


def _percent(record: Any) -> str:
    value = getattr(record, "probability", None)
    return "" if value is None else f"{value}%"


class Col:
    """A table column: which field, its header, and how it behaves when space is short.

    Columns with a lower `priority` are dropped first on a narrow terminal; long cells are cut
    to `max_width` with an ellipsis. (A plain class: a dataclass costs ~1 ms more per start.)
    """

    __slots__ = ("get", "header", "justify", "key", "max_width", "min_width", "priority")

    def __init__(
        self,
        key: str,
        header: str | None = None,
        get: Callable[[Any], Any] | None = None,
        max_width: int | None = None,
        min_width: int = 6,
        priority: int = 5,
        justify: str = "left",
    ) -> None:
        self.key = key
        self.header = header
        self.get = get
        self.max_width = max_width
        self.min_width = min_width
        self.priority = priority
        self.justify = justify

    def __repr__(self) -> str:
        return f"Col({self.key!r}, {self.header!r})"

    def title(self) -> str:
        return self.header if self.header is not None else self.key.replace("_", " ")

    def text(self, record: Any) -> str:
        if self.get is not None:
            value = self.get(record)
        elif isinstance(record, Mapping):
            value = record.get(self.key)
        else:
            value = getattr(record, self.key, None)
        return _cell(value)


_ID = Col("id", "ID", min_width=2, priority=10, justify="right")

TABLES: dict[str, list[Col]] = {
    "Contact": [
        _ID,
        Col("name", "Name", max_width=30, min_width=10, priority=10),
        Col("email", "Email", max_width=32, min_width=10, priority=8),
        Col("phone", "Phone", max_width=16, priority=4),
        Col("company", "Company", max_width=24, min_width=8, priority=7),
        Col("title", "Title", max_width=24, priority=2),
        Col("stage", "Stage", max_width=20, priority=3),
        Col("owner", "Owner", max_width=16, priority=5),
        Col("tags", "Tags", max_width=24, priority=1),
    ],
    "Company": [
        _ID,
        Col("name", "Name", max_width=30, min_width=10, priority=10),
        Col("domain", "Domain", max_width=28, priority=7),
        Col("industry", "Industry", max_width=20, priority=3),
        Col("city", "City", max_width=18, priority=4),
        Col("country", "Country", max_width=14, priority=2),
        Col("relationship", "Relationship", max_width=14, priority=1),
        Col("owner", "Owner", max_width=16, priority=5),
        Col("tags", "Tags", max_width=24, priority=1),
    ],
    "Lead": [
        _ID,
        Col("title", "Title", max_width=30, min_width=10, priority=10),
        Col("stage", "Stage", max_width=16, priority=9),
        Col("status", "Status", priority=4),
        Col("value", "Value", get=money, max_width=20, priority=8, justify="right"),
        Col("probability", "Prob", get=_percent, priority=2, justify="right"),
        Col("expected_close", "Close", priority=6),
        Col("contact", "Contact", max_width=24, priority=5),
        Col("company", "Company", max_width=24, priority=5),
        Col("owner", "Owner", max_width=16, priority=3),
    ],
    "Activity": [
        _ID,
        Col("occurred_at", "When", priority=9),
        Col("kind", "Kind", priority=8),
        Col("summary", "Summary", max_width=50, min_width=12, priority=10),
        Col("contact", "Contact", max_width=24, priority=6),
        Col("company", "Company", max_width=24, priority=5),
        Col("lead", "Lead", max_width=24, priority=2),
        Col("user", "By", max_width=16, priority=3),
    ],
    "FollowUp": [
        _ID,
        Col("due_at", "Due", get=_due, priority=9),
        Col("title", "Title", max_width=40, min_width=10, priority=10),
        Col("status", "Status", priority=3),
        Col("contact", "Contact", max_width=24, priority=7),
        Col("company", "Company", max_width=24, priority=5),
        Col("lead", "Lead", max_width=24, priority=2),
        Col("owner", "Owner", max_width=16, priority=4),
    ],
    "TimelineEntry": [
        Col("at", "When", priority=10),
        Col("type", "Type", priority=9),
        Col("summary", "Summary", max_width=60, min_width=12, priority=10),
        Col("detail", "Detail", max_width=40, priority=3),
        Col("user", "By", max_width=16, priority=4),
    ],
    "SearchHit": [
        Col("kind", "Kind", priority=10),
        Col("id", "ID", min_width=2, priority=10, justify="right"),
        Col("title", "Match", max_width=40, min_width=10, priority=10),
        Col("detail", "Detail", max_width=30, priority=4),
        Col("contact", "Contact", max_width=24, priority=8),
        Col("company", "Company", max_width=24, priority=7),
    ],
    "User": [
        _ID,
        Col("name", "Name", max_width=30, priority=10),
        Col("email", "Email", max_width=40, priority=8),
        Col("created_at", "Since", priority=3),
    ],
    "Stage": [
        Col("position", "#", min_width=1, priority=10, justify="right"),
        Col("name", "Stage", max_width=30, priority=10),
        Col("probability", "Prob", get=_percent, priority=6, justify="right"),
        Col("stale_days", "Stale after (days)", priority=5, justify="right"),
        Col("pipeline", "Pipeline", max_width=20, priority=3),
    ],
}


def _columns(records: Sequence[Any], columns: Sequence[Any] | None, kind: Any) -> list[Col]:
    if columns is not None:
        result = []
        for item in columns:
            if isinstance(item, Col):
                result.append(item)
            elif isinstance(item, tuple):
                result.append(Col(item[0], item[1]))
            else:
                result.append(Col(str(item), max_width=40))
        return result
    sample = records[0] if records else kind
    name = sample.__name__ if isinstance(sample, type) else type(sample).__name__
    if name in TABLES:
        return TABLES[name]
    if sample is None:
        return []
    skip = {"version", "extra"}
    return [Col(f, max_width=40) for f in _field_names(sample) if f not in skip]


def _row_style(record: Any) -> str | None:
    if getattr(record, "overdue", False):
        return "red"
    if getattr(record, "stale", False):
        return "yellow"
    return None


def _fit(cols: list[Col], cells: list[list[str]], width: int) -> tuple[list[Col], list[int]]:
    """Choose columns and their widths so a row fits `width` cells without wrapping."""
    from rich.cells import cell_len

    natural = []
    for index, col in enumerate(cols):
        longest = max((cell_len(row[index]) for row in cells), default=0)
        wanted = max(longest, cell_len(col.title()))
        if col.max_width:
            wanted = min(wanted, max(col.max_width, cell_len(col.title())))
        natural.append(max(wanted, 1))
    keep = list(range(len(cols)))

    def minimum(i: int) -> int:
        return min(natural[i], max(cols[i].min_width, min(cell_len(cols[i].title()), 8)))

    def overhead(count: int) -> int:
        return 3 * (count - 1)  # padding, divider, padding between columns; none at the edges

    # Drop the least important columns while even their minimum widths do not fit.
    while len(keep) > 1 and sum(minimum(i) for i in keep) + overhead(len(keep)) > width:
        victim = min(keep[::-1], key=lambda i: cols[i].priority)
        keep.remove(victim)
    widths = {i: natural[i] for i in keep}
    available = max(width - overhead(len(keep)), len(keep))
    # Shrink the widest columns first, never below their minimum.
    while sum(widths.values()) > available:
        shrinkable = [i for i in keep if widths[i] > minimum(i)]
        if not shrinkable:
            break
        widest = max(shrinkable, key=lambda i: (widths[i], -cols[i].priority))
        widths[widest] -= 1
    return [cols[i] for i in keep], [widths[i] for i in keep]


def _table(records: Sequence[Any], cols: list[Col]) -> None:
    cells = [[col.text(r) for col in cols] for r in records]
    if not is_terminal():
        # Piped: nothing but the data, tab-separated, one record a line (like gh).
        out = sys.stdout
        for row in cells:
            out.write("\t".join(row) + "\n")
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    console = out_console()
    used = [i for i in range(len(cols)) if any(row[i] for row in cells)]  # skip empty columns
    cols = [cols[i] for i in used]
    cells = [[row[i] for i in used] for row in cells]
    chosen, widths = _fit(cols, cells, console.width)
    indexes = [cols.index(c) for c in chosen]
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        expand=False,
        header_style="bold",
    )
    for col, width in zip(chosen, widths, strict=True):
        table.add_column(
            col.title(),
            justify=col.justify,  # type: ignore[arg-type]
            no_wrap=True,
            overflow="ellipsis",
            width=width,
            min_width=width,
            max_width=width,
        )
    for record, row in zip(records, cells, strict=True):
        table.add_row(
            *(Text(truncate(row[i], w)) for i, w in zip(indexes, widths, strict=True)),
            style=_row_style(record),
        )
    console.print(table)


# --------------------------------------------------------------------------------------------
# The entry points


def _dump(value: Any) -> str:
    import json

    if is_terminal():
        return json.dumps(value, ensure_ascii=False, indent=2)
    return json.dumps(value, ensure_ascii=False)  # the C encoder: fast for big lists


def emit(
    records: Iterable[Any],
    fmt: str,
    columns: Sequence[Any] | None = None,
    *,
    kind: type | None = None,
) -> None:
    """Print a list of records as a table, a JSON array, JSON lines or CSV.

    `columns` (field names, ``(field, header)`` pairs or :class:`Col`) chooses a table's
    columns; JSON/JSONL/CSV always carry every field. `kind` names the record type so an empty
    CSV still gets its header row.
    """
    items = list(records)
    if fmt == "json":
        sys.stdout.write(_dump([plain(r) for r in items]) + "\n")
    elif fmt == "jsonl":
        import json

        out = sys.stdout
        for record in items:
            out.write(json.dumps(plain(record), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        _csv(items, kind)
    else:
        if items:
            _table(items, _columns(items, columns, kind))


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        import json

        return json.dumps(value, ensure_ascii=False) if value else ""
    return value


def _csv(items: list[Any], kind: type | None) -> None:
    import csv

    if not items and kind is None:
        return
    names = _field_names(items[0] if items else kind)
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(names)
    for record in items:
        data = plain(record)
        writer.writerow([_csv_cell(data.get(name)) for name in names])


def _show_fields(record: Any) -> list[tuple[str, str]]:
    """(label, text) pairs for a show table: links as 'name (#id)', no internal fields."""
    data: dict[str, Any]
    if isinstance(record, Mapping):
        data = dict(record)
    else:
        data = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    rows: list[tuple[str, str]] = []
    for key, value in data.items():
        if key in ("version", "value_minor"):
            continue
        if key.endswith("_id") and key[:-3] in data:
            continue  # shown with its name below
        if key == "value" and "value_minor" in data:
            text = money(record)
        elif f"{key}_id" in data and data[f"{key}_id"] is not None:
            text = f"{_cell(value)} (#{data[f'{key}_id']})"
        elif key == "extra" and isinstance(value, Mapping):
            for extra_key, extra_value in value.items():
                rows.append((visible(str(extra_key)), _cell(extra_value)))
            continue
        elif isinstance(value, str) and key in ("note", "body", "detail"):
            text = visible(value, multiline=is_terminal())
        elif isinstance(value, bool):
            text = "yes" if value else "no"  # one record: "no" says more than a blank
        else:
            text = _cell(value)
        rows.append((key.replace("_", " "), text))
    return rows


def emit_one(record: Any, fmt: str) -> None:
    """Print one record: a JSON object, one JSON line, a one-row CSV, or a field table."""
    if fmt == "json":
        sys.stdout.write(_dump(plain(record)) + "\n")
    elif fmt == "jsonl":
        import json

        sys.stdout.write(json.dumps(plain(record), ensure_ascii=False) + "\n")
    elif fmt == "csv":
        _csv([record], None)
    else:
        rows = _show_fields(record)
        if not is_terminal():
            sys.stdout.write("".join(f"{label}\t{text}\n" for label, text in rows))
            return
        from rich.table import Table
        from rich.text import Text

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, text in rows:
            if text:  # a person reading it needs no empty fields
                grid.add_row(Text(label), Text(text))
        out_console().print(grid)


def label(record: Any) -> str:
    """A record's display name (name, title or summary), made visible."""
    for name in ("name", "title", "summary"):
        value = getattr(record, name, None)
        if value is not None:
            return visible(str(value))
    return ""


def announce(
    verb: str, what: str, record: Any, fmt: str | None = None, quiet: bool = False
) -> None:
    """The outcome of a change: `Created contact 12: Ada Lovelace`; the id alone with `quiet`;
    the record itself with --format json/jsonl/csv."""
    if fmt in ("json", "jsonl", "csv"):
        emit_one(record, fmt)
    elif quiet:
        write_line(str(record.id))
    else:
        write_line(f"{verb} {what} {record.id}: {label(record)}")


def confirm(question: str, yes: bool) -> None:
    """Go on when `yes`; on a terminal ask `question`; otherwise refuse (exit 1), as gh does."""
    if yes:
        return
    if not is_terminal(sys.stdin):
        from smallcrm.errors import Invalid

        raise Invalid("refusing to delete without confirmation; pass --yes to confirm")
    import typer

    if not typer.confirm(question, default=False, err=True):
        sys.stderr.write("Nothing deleted.\n")
        raise typer.Exit(1)


def label_of(text: str | None) -> str:
    """Any stored text, safe to print on one line."""
    return visible(text)


def when(moment: datetime | None) -> str:
    """A time for people: local, to the minute."""
    return _cell(moment)


def local_time(moment: datetime) -> datetime:
    """A stored (UTC) time in the local zone."""
    return _local(moment)

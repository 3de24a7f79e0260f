"""Option sets written once and shared by every command (`--format`, `--json`, `--limit`, `-q`)."""

from __future__ import annotations

from typing import Annotated

import typer

FORMATS = ("table", "json", "jsonl", "csv")


def _check_format(value: str | None) -> str | None:
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered not in FORMATS:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(FORMATS)}")
    return lowered


def _complete_format(incomplete: str) -> list[str]:
    return [name for name in FORMATS if name.startswith(incomplete.lower())]


FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help="Output format: table (for people), json, jsonl or csv (for programs).",
        callback=_check_format,
        autocompletion=_complete_format,
        metavar="table|json|jsonl|csv",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Short for --format json.", show_default=False),
]
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit",
        "-n",
        min=0,
        help="Show at most N records (default: everything that matches).",
        metavar="N",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only the record's id.", show_default=False),
]
YesOpt = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Do not ask for confirmation (needed when stdin is not a terminal).",
        show_default=False,
    ),
]


def chosen_format(fmt: str | None, json_flag: bool = False) -> str:
    """The output format asked for: --json wins over the default; --format over nothing."""
    if json_flag:
        if fmt not in (None, "json"):
            raise typer.BadParameter(
                "--json and --format cannot both be given", param_hint="--json"
            )
        return "json"
    return fmt or "table"


OwnerOpt = Annotated[
    str | None,
    typer.Option(
        "--owner",
        help="Only records owned by this user (a name, email or id; `me` is you).",
        metavar="USER",
        show_default=False,
    ),
]
MineOpt = Annotated[
    bool,
    typer.Option("--mine", help="Only my records (same as --owner me).", show_default=False),
]


def owner_filter(owner: str | None, mine: bool) -> str | None:
    """The owner to filter by: --mine means `me`; both together must agree."""
    if mine:
        if owner not in (None, "me"):
            raise typer.BadParameter("--mine and --owner cannot both be given", param_hint="--mine")
        return "me"
    return owner


def usage_error(message: str) -> typer.Exit:
    """Raise a usage error (exit 2) with `message`, the way the parser reports one."""
    try:
        from typer._click.exceptions import UsageError
    except ImportError:  # pragma: no cover
        from click.exceptions import UsageError
    raise UsageError(message)


def edit_changes(
    fields: dict[str, object], tag: list[str] | None, untag: list[str] | None
) -> dict[str, object]:
    """The fields an `edit` command was given (None means not given), plus tag changes."""
    changes = {name: value for name, value in fields.items() if value is not None}
    if tag:
        changes["add_tags"] = tag
    if untag:
        changes["remove_tags"] = untag
    return changes

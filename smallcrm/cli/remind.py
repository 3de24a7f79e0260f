"""`smallcrm remind`: deliver due follow-up reminders; made for cron.

Parses the options, calls :func:`smallcrm.reminders.run` once and reports: delivered reminders
as the channel prints them, each failure as one `error: CHANNEL: reason` line, exit 1 if any.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from smallcrm.textsafe import visible

CHANNELS = ("stdout", "email", "desktop", "exec")

app = typer.Typer(
    name="remind",
    help="Deliver due follow-up reminders (for cron).",
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _complete_channel(incomplete: str) -> list[str]:
    return [name for name in CHANNELS if name.startswith(incomplete.lower())]


def _utf8_output() -> None:
    """Cron runs us with LANG=C: write UTF-8 anyway, so a title like 'Zoë' survives."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding in ("utf8", "utf_8"):
            continue
        try:
            stream.reconfigure(encoding="utf-8", errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            pass


def _setting(key: str) -> str | None:
    from smallcrm import settings

    value = settings.setting(key)
    if value is None:
        return None
    return str(value).strip() or None


@app.command("remind")
def remind(
    *,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be sent; send and mark nothing."),
    ] = False,
    via: Annotated[
        str | None,
        typer.Option(
            "--via",
            metavar="stdout|email|desktop|exec",
            help="How to deliver: stdout (one line per reminder, for cron mail; the default), "
            "email (to each owner's address over SMTP), desktop (notify-send) or exec "
            "(run --exec CMD per reminder). Default: the config's remind.via, else stdout.",
            autocompletion=_complete_channel,
            show_default=False,
        ),
    ] = None,
    exec_command: Annotated[
        str | None,
        typer.Option(
            "--exec",
            metavar="CMD",
            help="Shell command run once per reminder (implies --via exec), with the "
            "follow-up as one JSON object on stdin; a non-zero exit is a failed delivery.",
            show_default=False,
        ),
    ] = None,
    ahead: Annotated[
        str | None,
        typer.Option(
            "--ahead",
            metavar="DURATION",
            help="Also remind of what falls due within DURATION from now (15m, 2h, 1d).",
            show_default=False,
        ),
    ] = None,
    owner: Annotated[
        list[str] | None,
        typer.Option(
            "--owner",
            metavar="USER",
            help="Only follow-ups owned by USER (`me` for yourself); repeat for several. "
            "Default: everyone's.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Deliver every open follow-up due by now (+ --ahead) that was not reminded yet, and mark
    it reminded. A failed delivery stays due for the next run and makes the exit code 1.

    Overlapping runs never deliver the same reminder twice. Example crontab line:
    */5 * * * * /home/me/.local/bin/smallcrm --db /home/me/crm.db remind
    """
    channel = (via or "").strip().lower() or None
    if channel is not None and channel not in CHANNELS:
        raise typer.BadParameter(
            f"{via!r} is not one of {', '.join(CHANNELS)}", param_hint="'--via'"
        )
    if exec_command is not None:
        if channel not in (None, "exec"):
            raise typer.BadParameter("--exec goes with --via exec", param_hint="'--exec'")
        channel = "exec"
    channel = channel or _setting("remind.via") or "stdout"
    if channel not in CHANNELS:
        from smallcrm.errors import Invalid

        raise Invalid(
            f"remind.via in the config is '{visible(channel)}'; "
            f"expected one of: {', '.join(CHANNELS)}"
        )
    command = exec_command if exec_command is not None else _setting("remind.exec")
    if channel == "exec" and not (command or "").strip():
        raise typer.BadParameter("--via exec needs --exec CMD", param_hint="'--exec'")

    _utf8_output()
    from smallcrm import reminders
    from smallcrm.cli.context import get_db

    outcome = reminders.run(
        get_db(),
        via=channel,
        command=command,
        ahead=ahead,
        owners=owner or (),
        dry_run=dry_run,
        out=sys.stdout,
    )
    if outcome.dry_run:
        _show_plan(outcome)
    elif outcome.delivered and channel != "stdout" and _interactive():
        count = len(outcome.delivered)
        sys.stderr.write(f"delivered {count} reminder{'s' if count != 1 else ''} by {channel}\n")
    if outcome.failures:
        sys.stdout.flush()
        for failure in outcome.failures:
            sys.stderr.write(f"error: {visible(str(failure))}\n")
        raise typer.Exit(1)


def _interactive() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _show_plan(outcome) -> None:  # type: ignore[no-untyped-def]
    from smallcrm import reminders

    out = sys.stdout
    for plan in outcome.planned:
        to = f" to {plan.target}" if plan.target else ""
        shown = reminders.line(plan.followup, do_not_contact=plan.do_not_contact)
        out.write(f"would remind via {outcome.channel}{to}: {shown}\n")
    count = len(outcome.planned)
    if count:
        noun = "follow-up" if count == 1 else "follow-ups"
        out.write(f"dry run: {count} {noun} due; nothing sent, nothing marked\n")
    else:
        out.write("dry run: nothing due\n")

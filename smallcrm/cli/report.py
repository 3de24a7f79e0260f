"""`smallcrm report`: pipeline, forecast, activity and win-rate reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import typer

from smallcrm import records
from smallcrm.cli import output
from smallcrm.cli.context import get_db
from smallcrm.cli.options import (
    FormatOpt,
    JsonOpt,
    MineOpt,
    OwnerOpt,
    chosen_format,
    owner_filter,
)
from smallcrm.cli.output import Col

app = typer.Typer(
    help="Pipeline, forecast, activity and win-rate reports.",
    no_args_is_help=True,
    add_completion=False,
)

PipelineOpt = Annotated[
    str | None,
    typer.Option(
        "--pipeline",
        help="Report on this pipeline (name or id). Default: the default pipeline.",
        metavar="NAME",
        show_default=False,
    ),
]


def _since_opt(default: str) -> Any:
    return typer.Option(
        "--since",
        help=f"Count from this time (a date, `-2w`, `last monday`...). Default: {default}.",
        metavar="WHEN",
        show_default=False,
    )


def _money(field: str) -> Any:
    """A cell getter: a major-unit amount beside `currency`, as `1,234.50 USD`."""

    def get(row: Any) -> str:
        from smallcrm.values import currency_exponent, format_money

        amount = getattr(row, field)
        try:
            exponent = currency_exponent(row.currency)
            return format_money(int(Decimal(str(amount)).scaleb(exponent)), row.currency)
        except Exception:  # an odd stored currency code must not break a report
            return f"{amount} {output.label_of(row.currency)}"

    return get


def _number(field: str, suffix: str = "") -> Any:
    def get(row: Any) -> str:
        value = getattr(row, field)
        return "" if value is None else f"{value}{suffix}"

    return get


def _right(key: str, header: str, get: Any = None, priority: int = 5) -> Col:
    return Col(key, header, get=get, priority=priority, justify="right", min_width=4)


@app.command("pipeline")
def pipeline_command(
    pipeline: PipelineOpt = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Open leads per stage: count, total, weighted value, average days in stage, stale.

    Weighted value is value x the lead's probability (its stage's unless set). One row per
    stage and currency, then a total row per currency.
    """
    from smallcrm import reports

    form = chosen_format(fmt, json_)
    rows = reports.pipeline_report(
        get_db(), pipeline_name=pipeline, owner=owner_filter(owner, mine)
    )
    columns = [
        Col("stage", "Stage", get=lambda r: r.stage if r.row == "stage" else "Total",
            max_width=24, priority=10),
        _right("count", "Leads", priority=9),
        _right("total", "Total", _money("total"), priority=8),
        _right("weighted", "Weighted", _money("weighted"), priority=7),
        _right("avg_days_in_stage", "Avg days", _number("avg_days_in_stage"), priority=4),
        _right("stale", "Stale", priority=6),
    ]  # fmt: skip
    output.emit(rows, form, columns, kind=records.PipelineReportRow)


@app.command("forecast")
def forecast_command(
    months: Annotated[
        int,
        typer.Option(
            "--months",
            min=1,
            max=120,
            help="How many months ahead, this one included (1-120).",
            metavar="N",
        ),
    ] = 3,
    pipeline: Annotated[
        str | None,
        typer.Option(
            "--pipeline",
            help="Only this pipeline's leads (name or id). Default: every pipeline.",
            metavar="NAME",
            show_default=False,
        ),
    ] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Open leads by month of expected close: count, total and weighted value.

    Periods: overdue (close date passed), this month and the next up to --months, later,
    and no date; one row per period and currency.
    """
    from smallcrm import reports

    form = chosen_format(fmt, json_)
    rows = reports.forecast(
        get_db(), months=months, pipeline_name=pipeline, owner=owner_filter(owner, mine)
    )
    columns = [
        Col("period", "Close", priority=10),
        _right("count", "Leads", priority=9),
        _right("total", "Total", _money("total"), priority=8),
        _right("weighted", "Weighted", _money("weighted"), priority=7),
    ]
    output.emit(rows, form, columns, kind=records.ForecastRow)


@app.command("activity")
def activity_command(
    since: Annotated[str | None, _since_opt("30 days ago")] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Activities per rep since a time: a count per kind and the total."""
    from smallcrm import reports
    from smallcrm.values import ACTIVITY_KINDS

    form = chosen_format(fmt, json_)
    rows = reports.activity_report(get_db(), since=since, owner=owner_filter(owner, mine))
    columns = [
        Col("rep", "Rep", get=lambda r: r.rep if r.rep is not None else "(nobody)",
            max_width=20, priority=10),
        *(_right(kind, kind.capitalize(), priority=5) for kind in ACTIVITY_KINDS),
        _right("total", "Total", priority=9),
    ]  # fmt: skip
    output.emit(rows, form, columns, kind=records.ActivityReportRow)


@app.command("winrate")
def winrate_command(
    since: Annotated[str | None, _since_opt("90 days ago")] = None,
    owner: OwnerOpt = None,
    mine: MineOpt = False,
    fmt: FormatOpt = None,
    json_: JsonOpt = False,
) -> None:
    """Leads closed since a time, per owner: won, lost, win rate, won value, days to close.

    Win rate is won / (won + lost); days to close run from a lead's creation to its close.
    """
    from smallcrm import reports

    form = chosen_format(fmt, json_)
    rows = reports.winrate(get_db(), since=since, owner=owner_filter(owner, mine))
    columns = [
        Col("owner", "Owner", get=lambda r: r.owner if r.owner is not None else "(nobody)",
            max_width=20, priority=10),
        _right("won", "Won", priority=9),
        _right("lost", "Lost", priority=8),
        _right("win_rate", "Win rate", _number("win_rate", "%"), priority=9),
        _right("won_value", "Won value", _money("won_value"), priority=7),
        _right("avg_days_to_close", "Avg days", _number("avg_days_to_close"), priority=4),
    ]  # fmt: skip
    output.emit(rows, form, columns, kind=records.WinRateRow)

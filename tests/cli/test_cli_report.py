"""`smallcrm report pipeline | forecast | activity | winrate`."""

from __future__ import annotations

import csv
import io
import json

import pytest


@pytest.fixture
def deals(cli):
    cli.ok("user", "add", "Grace")
    ada = str(cli.new_id("contact", "add", "Ada"))
    cli.ok("lead", "add", "Engine", "--contact", ada, "--value", "1,000.50", "--stage", "New")
    cli.ok("lead", "add", "Boiler", "--contact", ada, "--value", "2000", "--stage", "Proposal",
           "--owner", "grace", "--close", "+400d")  # fmt: skip
    won = str(cli.new_id("lead", "add", "Pump", "--value", "300"))
    lost = str(cli.new_id("lead", "add", "Valve", "--value", "50", "--owner", "grace"))
    cli.ok("lead", "won", won)
    cli.ok("lead", "lost", lost)
    cli.ok("log", "call", ada, "Called about the engine")
    cli.ok("log", "email", ada, "Sent the quote")
    return ada


def test_report_pipeline_json(cli, deals):
    rows = cli.json("report", "pipeline", "--json")
    stages = [r["stage"] for r in rows if r["row"] == "stage"]
    assert stages == ["New", "Contacted", "Qualified", "Proposal", "Negotiation"]
    new = rows[0]
    assert new["count"] == 1 and new["total"] == 1000.5 and new["weighted"] == 100.05
    assert new["currency"] == "USD" and new["avg_days_in_stage"] == 0.0 and new["stale"] == 0
    total = rows[-1]
    assert total["row"] == "total" and total["stage"] is None
    assert (total["count"], total["total"], total["weighted"]) == (2, 3000.5, 1300.05)
    grace = cli.json("report", "pipeline", "--owner", "grace", "--format", "json")
    assert grace[-1]["count"] == 1 and grace[-1]["total"] == 2000
    assert cli.json("report", "pipeline", "--mine", "--json")[-1]["count"] == 1
    table = cli.ok("report", "pipeline")
    assert "New\t1\t1,000.50 USD\t100.05 USD" in table and "Total\t2\t" in table
    lines = cli.ok("report", "pipeline", "--format", "jsonl").splitlines()
    assert [json.loads(line) for line in lines] == rows
    parsed = list(csv.DictReader(io.StringIO(cli.ok("report", "pipeline", "--format", "csv"))))
    assert parsed[0]["stage"] == "New" and parsed[0]["total"] == "1000.5"


def test_report_forecast_activity_winrate_json(cli, deals):
    rows = cli.json("report", "forecast", "--json")
    assert [r["period"] for r in rows][0] == "overdue" and len(rows) == 3 + 3
    by_period = {r["period"]: r for r in rows}
    assert by_period["later"]["count"] == 1 and by_period["later"]["total"] == 2000
    assert by_period["no date"]["count"] == 1 and by_period["no date"]["weighted"] == 100.05
    assert len(cli.json("report", "forecast", "--months", "6", "--json")) == 6 + 3

    activity = cli.json("report", "activity", "--json")
    assert [(r["rep"], r["call"], r["email"], r["total"]) for r in activity] == [
        ("tester", 1, 1, 2)
    ]
    assert cli.json("report", "activity", "--since", "tomorrow", "--json") == []
    assert cli.json("report", "activity", "--owner", "grace", "--json") == []

    wins = cli.json("report", "winrate", "--json")
    assert [
        (r["owner"], r["won"], r["lost"], r["win_rate"], r["won_value"], r["currency"])
        for r in wins
    ] == [("Grace", 0, 1, 0.0, 0, "USD"), ("tester", 1, 0, 100.0, 300, "USD")]
    assert "100.0%" in cli.ok("report", "winrate")


def test_report_errors(cli):
    assert cli("report", "nonsense").exit_code == 2
    assert cli.fails(2, "report", "nonsense").startswith("error: ")
    message = cli.fails(1, "report", "activity", "--since", "whenever")
    assert "cannot read 'whenever'" in message
    cli.fails(1, "report", "winrate", "--since", "not a date")
    cli.fails(1, "report", "pipeline", "--owner", "nobody")
    cli.fails(2, "report", "forecast", "--months", "0")
    cli.fails(2, "report", "pipeline", "--format", "xml")
    assert cli.ok("report", "activity") == ""
    assert cli.ok("report", "winrate", "--format", "csv").startswith("owner_id,owner,currency,")

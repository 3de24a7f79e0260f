"""`smallcrm company` and `smallcrm lead`."""

from __future__ import annotations

import csv
import io
import json

COMPANY_FIELDS = {
    "id", "name", "domain", "industry", "city", "country", "relationship", "owner", "tags",
}  # fmt: skip
LEAD_FIELDS = {
    "id", "title", "contact_id", "contact", "company_id", "company", "stage", "status", "value",
    "currency", "probability", "expected_close", "owner", "created_at", "closed_at",
}  # fmt: skip


def test_company_add_list_show(cli):
    out = cli.ok("company", "add", "Acme", "--domain", "https://www.Acme.example/x")
    assert out.startswith("Created company ") and out.endswith(": Acme\n")
    record = cli.json(
        "company", "add", "Globex", "--industry", "Energy", "--city", "Springfield",
        "--country", "US", "--relationship", "Proactive", "--tag", "big", "--json",
    )  # fmt: skip
    assert COMPANY_FIELDS <= set(record)
    assert record["relationship"] == "proactive" and record["tags"] == ["big"]
    rows = cli.json("company", "list", "--json")
    assert [r["name"] for r in rows] == ["Acme", "Globex"]
    assert rows[0]["domain"] == "acme.example"
    assert cli.json("company", "show", "acme.example", "--json")["name"] == "Acme"
    assert cli.json("company", "show", "globex", "--json")["id"] == record["id"]
    jsonl = [json.loads(x) for x in cli.ok("company", "list", "--format", "jsonl").splitlines()]
    assert jsonl == rows
    parsed = list(csv.DictReader(io.StringIO(cli.ok("company", "list", "--format", "csv"))))
    assert [r["name"] for r in parsed] == ["Acme", "Globex"] and parsed[1]["tags"] == "big"
    assert [r["name"] for r in cli.json("company", "list", "--limit", "1", "--json")] == ["Acme"]
    assert [r["name"] for r in cli.json("company", "list", "--tag", "big", "--json")] == ["Globex"]
    filtered = cli.json("company", "list", "--relationship", "proactive", "--json")
    assert [r["name"] for r in filtered] == ["Globex"]
    assert [r["name"] for r in cli.json("company", "list", "-s", "acm", "--json")] == ["Acme"]


def test_company_failures(cli):
    cli.ok("company", "add", "Acme")
    assert "already exists" in cli.fails(1, "company", "add", "ACME")
    assert "relationship" in cli.fails(1, "company", "add", "X", "--relationship", "enemy")
    assert "domain" in cli.fails(1, "company", "add", "X", "--domain", "not a domain")
    assert cli.fails(1, "company", "show", "Initech") == "error: no company 'Initech'"
    assert "nothing to change" in cli.fails(2, "company", "edit", "Acme")


def test_company_edit_and_delete(cli):
    acme = str(cli.new_id("company", "add", "Acme"))
    ada = str(cli.new_id("contact", "add", "Ada", "--company", acme))
    assert cli.ok("company", "edit", acme, "--city", "Paris", "--tag", "eu") == (
        f"Updated company {acme}: Acme\n"
    )
    record = cli.json("company", "edit", acme, "--untag", "eu", "--name", "Acme SA", "--json")
    assert record["city"] == "Paris" and record["tags"] == [] and record["name"] == "Acme SA"
    assert "--yes" in cli.fails(1, "company", "delete", acme)
    assert cli.ok("company", "delete", acme, "--yes") == f"Deleted company {acme}: Acme SA\n"
    assert cli.json("contact", "show", ada, "--json")["company_id"] is None


def test_lead_add_belongs_to_the_contacts_company(cli, people):
    record = cli.json("lead", "show", str(people["deal"]), "--json")
    assert LEAD_FIELDS <= set(record)
    assert record["contact_id"] == people["ada"] and record["contact"] == "Ada Lovelace"
    assert record["company_id"] == people["acme"] and record["company"] == "Acme"
    assert record["value"] == 5000.5 and record["currency"] == "USD"
    assert record["stage"] == "New" and record["status"] == "open"
    other = cli.json(
        "lead", "add", "Side deal", "--contact", "Ada Lovelace", "--company", "Globex",
        "--value", "5000", "--currency", "eur", "--stage", "QUALIFIED", "--close", "2026-12-01",
        "--probability", "40%", "--owner", "me", "--json",
    )  # fmt: skip
    assert other["company"] == "Globex" and other["value"] == 5000 and other["currency"] == "EUR"
    assert other["stage"] == "Qualified" and other["probability"] == 40
    assert other["expected_close"] == "2026-12-01"
    out = cli.ok("lead", "add", "Third")
    assert out.startswith("Created lead ") and out.endswith(": Third\n")


def test_lead_add_failures(cli, people):
    assert "amount" in cli.fails(1, "lead", "add", "X", "--value", "lots")
    assert "negative" in cli.fails(1, "lead", "add", "X", "--value", "-5")
    assert "unknown stage" in cli.fails(1, "lead", "add", "X", "--stage", "Dreaming")
    assert "as a date" in cli.fails(1, "lead", "add", "X", "--close", "someday")
    assert "percentage" in cli.fails(1, "lead", "add", "X", "--probability", "150")
    assert "currency" in cli.fails(1, "lead", "add", "X", "--currency", "dollars")
    assert "no contact" in cli.fails(1, "lead", "add", "X", "--contact", "Nobody")


def test_lead_list_filters_and_formats(cli, people):
    second = cli.new_id("lead", "add", "Boiler", "--stage", "proposal", "--company", "Globex")
    rows = cli.json("lead", "list", "--json")
    assert [r["title"] for r in rows] == ["Engine order", "Boiler"]
    assert [r["title"] for r in cli.json("lead", "list", "--stage", "Proposal", "--json")] == [
        "Boiler"
    ]
    assert cli.json("lead", "list", "--limit", "1", "--json")[0]["title"] == "Engine order"
    assert [r["id"] for r in cli.json("lead", "list", "--company", "Globex", "--json")] == [second]
    assert len(cli.json("lead", "list", "--mine", "--json")) == 2
    assert cli.json("lead", "list", "--stale", "--json") == []
    cli.ok("lead", "won", str(second))
    assert [r["title"] for r in cli.json("lead", "list", "--status", "won", "--json")] == ["Boiler"]
    assert len(cli.json("lead", "list", "--status", "all", "--json")) == 2
    assert "unknown status" in cli.fails(1, "lead", "list", "--status", "maybe")
    parsed = list(csv.DictReader(io.StringIO(cli.ok("lead", "list", "--format", "csv"))))
    assert parsed[0]["value"] == "5000.5" and parsed[0]["currency"] == "USD"
    lines = cli.ok("lead", "list", "--format", "jsonl").splitlines()
    assert json.loads(lines[0])["title"] == "Engine order"


def test_lead_move_won_lost(cli, people):
    deal = str(people["deal"])
    assert (
        cli.ok("lead", "move", deal, "proposal") == f"Moved lead {deal} to Proposal: Engine order\n"
    )
    assert cli.json("lead", "move", deal, "NEGOTIATION", "--json")["stage"] == "Negotiation"
    assert "unknown stage" in cli.fails(1, "lead", "move", deal, "Heaven")
    cli.fails(2, "lead", "move", deal)
    assert cli.ok("lead", "won", deal) == f"Won lead {deal}: Engine order\n"
    assert "already won" in cli.fails(1, "lead", "won", deal)
    record = cli.json("lead", "lost", deal, "--reason", "budget", "--json")
    assert record["status"] == "lost" and record["lost_reason"] == "budget"
    assert record["closed_at"] is not None
    assert cli.json("lead", "move", deal, "New", "--json")["status"] == "open"
    cli.fails(1, "lead", "won", "999999")


def test_lead_edit_and_delete(cli, people):
    deal = str(people["deal"])
    record = cli.json("lead", "edit", deal, "--value", "7,500", "--title", "Big order", "--json")
    assert record["value"] == 7500 and record["title"] == "Big order"
    assert "nothing to change" in cli.fails(2, "lead", "edit", deal)
    assert "--yes" in cli.fails(1, "lead", "delete", deal)
    assert cli.ok("lead", "delete", deal, "-y") == f"Deleted lead {deal}: Big order\n"
    cli.fails(1, "lead", "show", deal)

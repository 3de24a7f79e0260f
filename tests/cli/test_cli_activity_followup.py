"""`smallcrm log`, `activity`, `followup`, `timeline`, `today`, `search`, `user`."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

ACTIVITY_FIELDS = {
    "id", "kind", "summary", "body", "occurred_at", "contact_id", "company_id", "lead_id", "user",
}  # fmt: skip
FOLLOWUP_FIELDS = {
    "id", "title", "due_at", "status", "contact_id", "lead_id", "owner", "reminded_at", "done_at",
}  # fmt: skip


def test_log_prints_what_was_logged(cli, people):
    ada = people["ada"]
    out = cli.ok("log", "meeting", "ada@example.com", "Demo of the engine")
    assert out.startswith("Logged meeting ") and out.endswith(
        " with Ada Lovelace: Demo of the engine\n"
    )
    record = cli.json(
        "log", "CALL", str(ada), "Follow-up call", "--at", "2026-01-02T09:30", "--lead",
        str(people["deal"]), "--duration", "15", "--body", "long\nnotes", "--json",
    )  # fmt: skip
    assert ACTIVITY_FIELDS <= set(record)
    assert record["kind"] == "call" and record["lead_id"] == people["deal"]
    assert record["occurred_at"] == "2026-01-02T09:30:00+00:00"
    assert record["body"] == "long\nnotes" and record["user"] == "tester"
    company = cli.json("log", "note", "company:" + str(people["acme"]), "Account note", "--json")
    assert company["company_id"] == people["acme"] and company["contact_id"] is None


def test_log_failures(cli, people):
    assert "activity kind" in cli.fails(1, "log", "fax", str(people["ada"]), "x")
    assert "as a date" in cli.fails(1, "log", "call", str(people["ada"]), "x", "--at", "whenever")
    assert "no contact or company" in cli.fails(1, "log", "call", "Nobody", "x")
    cli.fails(2, "log", "call", str(people["ada"]))
    cli.fails(2, "log", "call", str(people["ada"]), "x", "--duration", "long")


def test_activity_list_filters(cli, people):
    cli.ok("log", "email", "Alan Turing", "Sent the paper", "--at", "2020-01-01")
    rows = cli.json("activity", "list", "--json")
    assert [r["summary"] for r in rows] == ["Discussed the engine", "Sent the paper"]
    assert all(ACTIVITY_FIELDS <= set(r) for r in rows)
    assert [r["summary"] for r in cli.json("activity", "list", "--kind", "email", "--json")] == [
        "Sent the paper"
    ]
    by_contact = cli.json("activity", "list", "--contact", "Ada Lovelace", "--json")
    assert [r["summary"] for r in by_contact] == ["Discussed the engine"]
    by_company = cli.json("activity", "list", "--company", "Acme", "--json")
    assert [r["summary"] for r in by_company] == ["Discussed the engine"]
    assert len(cli.json("activity", "list", "--since", "2021-01-01", "--json")) == 1
    assert len(cli.json("activity", "list", "--limit", "1", "--json")) == 1
    assert len(cli.json("activity", "list", "--mine", "--json")) == 2
    parsed = list(csv.DictReader(io.StringIO(cli.ok("activity", "list", "--format", "csv"))))
    assert parsed[1]["kind"] == "email"
    lines = cli.ok("activity", "list", "--format", "jsonl").splitlines()
    assert [json.loads(x)["id"] for x in lines] == [r["id"] for r in rows]
    assert "activity kind" in cli.fails(1, "activity", "list", "--kind", "fax")
    shown = cli.json("activity", "show", str(people["call"]), "--json")
    assert shown["summary"] == "Discussed the engine"
    cli.fails(1, "activity", "show", "999999")
    assert "--yes" in cli.fails(1, "activity", "delete", str(people["call"]))
    cli.ok("activity", "delete", str(people["call"]), "--yes")
    cli.fails(1, "activity", "show", str(people["call"]))


def test_followup_add_and_list(cli, people):
    out = cli.ok("followup", "add", "Alan Turing", "Call Alan", "--due", "2020-01-01T09:00")
    assert out.startswith("Created follow-up ") and out.endswith(": Call Alan\n")
    record = cli.json(
        "followup", "add", "company:" + str(people["acme"]), "Renewal", "--due", "tomorrow 9am",
        "--lead", str(people["deal"]), "--owner", "me", "--json",
    )  # fmt: skip
    assert FOLLOWUP_FIELDS <= set(record)
    assert record["lead_id"] == people["deal"] and record["owner"] == "tester"
    datetime.fromisoformat(record["due_at"])
    rows = cli.json("followup", "list", "--json")
    assert [r["title"] for r in rows] == ["Call Alan", "Renewal", "Send the plans"]
    overdue = cli.json("followup", "list", "--due", "overdue", "--json")
    assert [r["title"] for r in overdue] == ["Call Alan"] and overdue[0]["overdue"] is True
    assert cli.json("followup", "list", "--due", "today", "--json") == []
    week = cli.json("followup", "list", "--due", "week", "--json")
    assert [r["title"] for r in week] == ["Call Alan", "Renewal", "Send the plans"]
    assert len(cli.json("followup", "list", "--mine", "--json")) == 3
    assert cli.json("followup", "list", "--owner", "ghost", "--json") == []
    assert len(cli.json("followup", "list", "--limit", "2", "--json")) == 2
    parsed = list(csv.DictReader(io.StringIO(cli.ok("followup", "list", "--format", "csv"))))
    assert [r["title"] for r in parsed] == [r["title"] for r in rows]
    lines = cli.ok("followup", "list", "--format", "jsonl").splitlines()
    assert [json.loads(x) for x in lines] == rows


def test_followup_failures(cli, people):
    ada = str(people["ada"])
    assert "as a date" in cli.fails(1, "followup", "add", ada, "x", "--due", "soonish")
    cli.fails(2, "followup", "add", ada, "x")  # --due is required
    assert "due window" in cli.fails(1, "followup", "list", "--due", "never")
    assert "unknown status" in cli.fails(1, "followup", "list", "--status", "maybe")
    assert "no follow-up" in cli.fails(1, "followup", "done", "999999")
    assert "no follow-up" in cli.fails(1, "followup", "done", "abc")
    cli.fails(2, "followup", "snooze", str(people["todo"]))


def test_followup_done_snooze_cancel(cli, people):
    todo = str(people["todo"])
    out = cli.ok("followup", "snooze", todo, "--until", "2030-01-01T10:00")
    assert out == f"Snoozed follow-up {todo} until 2030-01-01 10:00: Send the plans\n"
    assert cli.ok("followup", "done", todo) == f"Marked follow-up {todo} done: Send the plans\n"
    assert "already done" in cli.fails(1, "followup", "done", todo)
    assert "only open" in cli.fails(1, "followup", "snooze", todo, "--until", "+1d")
    assert cli.json("followup", "list", "--json") == []
    done = cli.json("followup", "list", "--status", "done", "--json")
    assert done[0]["done_at"] is not None and done[0]["status"] == "done"
    other = str(cli.new_id("followup", "add", todo and str(people["alan"]), "x", "--due", "+1d"))
    assert cli.json("followup", "cancel", other, "--json")["status"] == "cancelled"
    assert len(cli.json("followup", "list", "--status", "all", "--json")) == 2
    assert cli.json("followup", "show", other, "--json")["id"] == int(other)
    cli.ok("followup", "delete", other, "--yes")
    cli.fails(1, "followup", "show", other)


def test_timeline_newest_first(cli, people):
    ada = str(people["ada"])
    cli.ok("log", "note", ada, "Old note", "--at", "2001-01-01")
    entries = cli.json("timeline", ada, "--json")
    assert {"at", "type", "summary", "contact_id"} <= set(entries[0])
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True)
    assert entries[-1]["summary"] == "Old note"
    types = {e["type"] for e in entries}
    assert {"call", "note", "followup"} <= types
    assert len(cli.json("timeline", ada, "--limit", "2", "--json")) == 2
    company = cli.json("timeline", "company:" + str(people["acme"]), "--json")
    assert any(e["summary"] == "Old note" for e in company)
    lines = cli.ok("timeline", ada, "--format", "jsonl").splitlines()
    assert len(lines) == len(entries)
    parsed = list(csv.DictReader(io.StringIO(cli.ok("timeline", ada, "--format", "csv"))))
    assert parsed[-1]["summary"] == "Old note"
    assert "Old note" in cli.ok("timeline", ada)
    cli.fails(1, "timeline", "Nobody")


def test_today_briefing(cli, people):
    ada = str(people["ada"])
    cli.ok("followup", "add", ada, "Late call", "--due", "-3d")
    cli.ok("followup", "add", ada, "Today call", "--due", "today 23:59")
    cli.ok("lead", "edit", str(people["deal"]), "--close", "today")
    text = cli.ok("today")
    assert text.index("Overdue (1)") < text.index("Due today (1)") < text.index("Closing")
    assert "1 overdue · 1 due today · 0 stale leads · 1 closing this week" in text
    assert "Late call" in text and "Today call" in text and "Engine order" in text
    assert "Send the plans" not in text  # due in two days
    data = cli.json("today", "--json")
    assert set(data) >= {"overdue", "due_today", "stale_leads", "closing_this_week"}
    assert [f["title"] for f in data["overdue"]] == ["Late call"]
    assert [f["title"] for f in data["due_today"]] == ["Today call"]
    assert [lead["title"] for lead in data["closing_this_week"]] == ["Engine order"]
    assert cli.json("today", "--owner", "ghost", "--json")["overdue"] == []
    assert len(cli.json("today", "--mine", "--json")["overdue"]) == 1
    rows = [json.loads(x) for x in cli.ok("today", "--format", "jsonl").splitlines()]
    assert [r["section"] for r in rows] == ["overdue", "due_today", "closing_this_week"]
    parsed = list(csv.DictReader(io.StringIO(cli.ok("today", "--format", "csv"))))
    assert [r["title"] for r in parsed] == ["Late call", "Today call", "Engine order"]


def test_today_when_nothing_is_due(cli):
    text = cli.ok("today")
    assert "0 overdue · 0 due today · 0 stale leads · 0 closing this week" in text
    assert cli.ok("today", "--format", "csv").startswith("section,")


def test_search_names_the_kind_and_customer(cli, people):
    hits = cli.json("search", "engine", "--json")
    kinds = {(h["kind"], h["title"]) for h in hits}
    assert ("lead", "Engine order") in kinds and ("activity", "Discussed the engine") in kinds
    activity = next(h for h in hits if h["kind"] == "activity")
    assert activity["contact"] == "Ada Lovelace" and activity["contact_id"] == people["ada"]
    lead = next(h for h in hits if h["kind"] == "lead")
    assert lead["company"] == "Acme" and lead["company_id"] == people["acme"]
    assert cli.ok("search", "zzzqqq") == ""
    assert cli.json("search", "zzzqqq", "--json") == []
    assert cli.ok("search", '"(*') == ""  # literal text, never query syntax
    assert len(cli.json("search", "engine", "--limit", "1", "--json")) == 1
    plain = cli.ok("search", "lovelace")
    assert any(
        line.startswith("contact\t") and "Ada Lovelace" in line for line in plain.splitlines()
    )
    lines = cli.ok("search", "engine", "--format", "jsonl").splitlines()
    assert len(lines) == len(hits)
    parsed = list(csv.DictReader(io.StringIO(cli.ok("search", "engine", "--format", "csv"))))
    assert {r["kind"] for r in parsed} >= {"lead", "activity"}


def test_user_add_and_list(cli):
    out = cli.ok("user", "add", "Sam Ortiz", "--email", "sam@example.com")
    assert out.startswith("Created user ") and out.endswith(": Sam Ortiz\n")
    assert cli.new_id("user", "add", "Priya") > 0
    users = cli.json("user", "list", "--json")
    assert {"Sam Ortiz", "Priya"} <= {u["name"] for u in users}
    assert next(u for u in users if u["name"] == "Sam Ortiz")["email"] == "sam@example.com"
    assert len(cli.json("user", "list", "--limit", "1", "--json")) == 1
    assert "already exists" in cli.fails(1, "user", "add", "sam ortiz")
    assert "invalid email" in cli.fails(1, "user", "add", "Lee", "--email", "x")
    contact = cli.json("contact", "add", "Ada", "--owner", "Sam Ortiz", "--json")
    assert contact["owner"] == "Sam Ortiz"
    parsed = list(csv.DictReader(io.StringIO(cli.ok("user", "list", "--format", "csv"))))
    assert {"id", "name", "email"} <= set(parsed[0])

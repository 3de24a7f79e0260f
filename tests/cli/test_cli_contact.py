"""`smallcrm contact`: add, list, show, edit, delete, merge, in every format."""

from __future__ import annotations

import csv
import io
import json

CONTACT_FIELDS = {
    "id", "name", "email", "phone", "company_id", "company", "title", "stage", "owner",
    "tags", "created_at", "updated_at",
}  # fmt: skip


def test_add_prints_a_sentence_the_id_or_the_record(cli):
    out = cli.ok("contact", "add", "Ada Lovelace", "--email", "ada@example.com")
    assert out.startswith("Created contact ")
    first = int(out.split()[2].rstrip(":"))
    assert out == f"Created contact {first}: Ada Lovelace\n"
    quiet = cli.ok("contact", "add", "Alan Turing", "-q")
    assert quiet.strip().isdigit() and int(quiet) != first
    record = cli.json("contact", "add", "Grace Hopper", "--format", "json")
    assert record["name"] == "Grace Hopper"
    assert CONTACT_FIELDS <= set(record)
    assert record["owner"] == "tester"


def test_add_with_every_option(cli):
    record = cli.json(
        "contact", "add", "Ada Lovelace", "--email", "ada@example.com", "--phone",
        "+44 20 7946 0958", "--company", "Analytical Engines", "--title", "Countess",
        "--stage", "PROSPECT", "--tag", "vip", "--tag", "math,poet", "--note", "first line",
        "--json",
    )  # fmt: skip
    assert record["phone"] == "+442079460958"
    assert record["company"] == "Analytical Engines" and isinstance(record["company_id"], int)
    assert record["stage"] == "prospect"
    assert sorted(record["tags"]) == ["math", "poet", "vip"]
    assert record["note"] == "first line"
    assert record["created_at"][:4].isdigit() and record["created_at"].endswith("+00:00")


def test_add_failures(cli, people):
    assert "invalid email" in cli.fails(1, "contact", "add", "X", "--email", "not-an-email")
    assert "lifecycle stage" in cli.fails(1, "contact", "add", "X", "--stage", "bogus")
    assert "phone" in cli.fails(1, "contact", "add", "X", "--phone", "12")
    assert "already exists" in cli.fails(1, "contact", "add", "Y", "--email", "ADA@example.com")
    assert "no user" in cli.fails(1, "contact", "add", "X", "--owner", "nobody")
    cli.fails(2, "contact", "add")  # NAME is missing: a usage error
    cli.fails(2, "contact", "add", "X", "--no-such-option")


def test_list_formats_parse_back(cli, people):
    rows = cli.json("contact", "list", "--json")
    assert [r["name"] for r in rows] == ["Ada Lovelace", "Alan Turing", "Grace Hopper"]
    assert all(CONTACT_FIELDS <= set(r) for r in rows)
    assert rows == cli.json("contact", "list", "--format", "json")
    lines = [
        json.loads(line) for line in cli.ok("contact", "list", "--format", "jsonl").splitlines()
    ]
    assert lines == rows
    parsed = list(csv.DictReader(io.StringIO(cli.ok("contact", "list", "--format", "csv"))))
    assert [r["name"] for r in parsed] == [r["name"] for r in rows]
    assert parsed[0]["email"] == "ada@example.com" and parsed[0]["tags"] == "vip"
    assert CONTACT_FIELDS <= set(parsed[0])


def test_list_filters_and_limit(cli, people):
    def names(*args):
        return [r["name"] for r in cli.json("contact", "list", "--json", *args)]

    assert names("--limit", "2") == ["Ada Lovelace", "Alan Turing"]
    assert names("--limit", "0") == []
    assert names("--search", "lovel") == ["Ada Lovelace"]
    assert names("--tag", "vip") == ["Ada Lovelace"]
    assert names("--company", "Globex") == ["Grace Hopper"]
    assert names("--owner", "me") == names("--mine") == names()
    assert names("--owner", "somebody-else") == []
    assert names("--search", "zzzz") == []
    cli.fails(2, "contact", "list", "--limit", "-1")
    cli.fails(2, "contact", "list", "--format", "xml")
    cli.fails(2, "contact", "list", "--json", "--format", "csv")
    assert "no company" in cli.fails(1, "contact", "list", "--company", "Initech")


def test_empty_list_prints_nothing_but_csv_keeps_its_header(cli):
    assert cli.ok("contact", "list") == ""
    assert cli.json("contact", "list", "--json") == []
    assert cli.ok("contact", "list", "--format", "jsonl") == ""
    header = cli.ok("contact", "list", "--format", "csv").splitlines()
    assert header and header[0].startswith("id,name,email")


def test_show_by_id_email_and_name(cli, people):
    by_id = cli.json("contact", "show", str(people["ada"]), "--json")
    assert by_id == cli.json("contact", "show", "ADA@example.com", "--format", "json")
    assert by_id == cli.json("contact", "show", "ada lovelace", "--json")
    assert by_id["company"] == "Acme" and by_id["company_id"] == people["acme"]
    one = cli.ok("contact", "show", str(people["ada"]), "--format", "jsonl")
    assert json.loads(one) == by_id
    shown = cli.ok("contact", "show", "Ada Lovelace", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(shown)))
    assert rows[0]["name"] == "Ada Lovelace"
    plain = cli.ok("contact", "show", str(people["ada"]))
    assert "name\tAda Lovelace\n" in plain and f"company\tAcme (#{people['acme']})\n" in plain
    assert "do not contact\tno\n" in plain  # a yes/no field says no, not nothing


def test_show_failures(cli, people):
    assert cli.fails(1, "contact", "show", "999999") == "error: no contact '999999'"
    cli.ok("contact", "add", "Alan Turing")
    message = cli.fails(1, "contact", "show", "alan turing")
    assert "matches 2 contacts" in message
    assert f"{people['alan']}: Alan Turing" in message  # the candidates, on the same line
    cli.fails(2, "contact", "show")


def test_edit_changes_only_what_is_given(cli, people):
    ada = str(people["ada"])
    out = cli.ok("contact", "edit", ada, "--title", "Countess", "--tag", "poet", "--untag", "vip")
    assert out == f"Updated contact {ada}: Ada Lovelace\n"
    record = cli.json("contact", "show", ada, "--json")
    assert record["title"] == "Countess" and record["tags"] == ["poet"]
    assert record["email"] == "ada@example.com"
    record = cli.json(
        "contact", "edit", ada, "--name", "Ada King", "--email", "", "--company", "Globex",
        "--stage", "client", "--owner", "me", "--note", "n", "--phone", "+1 415 555 0100",
        "--json",
    )  # fmt: skip
    assert record["name"] == "Ada King" and record["email"] is None
    assert record["company"] == "Globex" and record["stage"] == "client"
    assert record["phone"] == "+14155550100"
    assert cli.ok("contact", "edit", ada, "--title", "x", "-q").strip() == ada


def test_edit_failures(cli, people):
    ada = str(people["ada"])
    assert "nothing to change" in cli.fails(2, "contact", "edit", ada)
    assert "invalid email" in cli.fails(1, "contact", "edit", ada, "--email", "nope")
    assert "already exists" in cli.fails(1, "contact", "edit", ada, "--email", "alan@example.com")
    cli.fails(1, "contact", "edit", "999999", "--title", "x")


def test_delete_needs_yes_without_a_terminal(cli, people):
    ada = str(people["ada"])
    message = cli.fails(1, "contact", "delete", ada)
    assert "--yes" in message
    assert cli.json("contact", "show", ada, "--json")["id"] == int(ada)
    assert cli.ok("contact", "delete", ada, "--yes") == f"Deleted contact {ada}: Ada Lovelace\n"
    cli.fails(1, "contact", "show", ada)
    cli.fails(1, "contact", "delete", ada, "--yes")


def test_delete_asks_on_a_terminal(cli, people, monkeypatch):
    from smallcrm.cli import output

    monkeypatch.setattr(output, "is_terminal", lambda stream=None: True)
    alan = str(people["alan"])
    result = cli("contact", "delete", alan, input="n\n")
    assert result.exit_code == 1
    assert "Delete contact" in result.stderr and "Nothing deleted" in result.stderr
    cli.ok("contact", "show", alan)
    result = cli("contact", "delete", alan, input="y\n")
    assert result.exit_code == 0 and "Deleted contact" in result.stdout
    cli.fails(1, "contact", "show", alan)


def test_merge_folds_other_into_keep(cli, people):
    ada, alan = str(people["ada"]), str(people["alan"])
    cli.ok("log", "note", alan, "Met at the conference")
    out = cli.ok("contact", "merge", ada, alan)
    assert out == f"Merged contact {alan} into {ada}: Ada Lovelace\n"
    cli.fails(1, "contact", "show", alan)
    summaries = [a["summary"] for a in cli.json("activity", "list", "--contact", ada, "--json")]
    assert "Met at the conference" in summaries
    assert "into itself" in cli.fails(1, "contact", "merge", ada, ada)
    cli.fails(1, "contact", "merge", ada, "999999")
    merged = cli.json("contact", "merge", ada, str(people["grace"]), "--json")
    assert merged["id"] == int(ada)


def test_contact_without_subcommand_shows_help(cli):
    result = cli("contact")
    assert result.exit_code == 0
    assert "add" in result.stdout and "merge" in result.stdout

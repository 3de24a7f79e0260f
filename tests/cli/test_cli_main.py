"""The root command: version, help, exit codes, errors, `--db`, databases it refuses, safe text."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest

from smallcrm import __version__


@pytest.fixture
def bare(sqlite_cli):
    """The CLI without a --db option (SMALLCRM_DB / the data dir decide)."""

    def run(*args, input=None):
        return sqlite_cli(*args, input=input, db=False)

    return run


def test_version(bare):
    result = bare("--version")
    assert result.exit_code == 0 and result.stdout == f"smallcrm {__version__}\n"


def test_help_lists_every_command(bare):
    from smallcrm.cli.main import COMMANDS, _available

    result = bare("--help")
    assert result.exit_code == 0
    for name in COMMANDS:
        assert (name in result.stdout) == _available(name) or not _available(name)
    for name in ("contact", "company", "lead", "log", "followup", "today", "search", "db"):
        assert name in result.stdout
    assert "--install-completion" in result.stdout and "--db" in result.stdout


def test_no_arguments_without_a_terminal_prints_help(bare):
    result = bare()
    assert result.exit_code == 0 and "Usage: smallcrm" in result.stdout


def test_usage_errors_are_one_line_and_exit_2(sqlite_cli):
    line = sqlite_cli.fails(2, "contactz")
    assert "No such command 'contactz'" in line and "Did you mean 'contact'" in line
    assert "contact list --help" in sqlite_cli.fails(2, "contact", "list", "--bogus")
    assert "Missing argument" in sqlite_cli.fails(2, "contact", "show")
    sqlite_cli.fails(2, "contact", "lis")
    sqlite_cli.fails(2, "--no-such-global")


def test_db_option_is_accepted_after_the_command(bare, db_path):
    ada = bare("contact", "add", "Ada", "-q", "--db", str(db_path))
    assert ada.exit_code == 0, ada.stderr
    shown = bare("contact", "show", ada.stdout.strip(), f"--db={db_path}", "--json")
    assert json.loads(shown.stdout)["name"] == "Ada"


def test_smallcrm_db_environment_variable(bare, db_path, monkeypatch):
    monkeypatch.setenv("SMALLCRM_DB", str(db_path))
    assert bare("db", "path").stdout == f"{db_path}\n"
    assert bare("contact", "add", "Env", "-q").exit_code == 0
    assert json.loads(bare("contact", "list", "--json").stdout)[0]["name"] == "Env"


def test_default_database_lives_in_the_data_dir(bare, isolated_env):
    result = bare("db", "path")
    assert result.exit_code == 0
    assert result.stdout.strip() == str(isolated_env / "data" / "crm.db")
    assert bare("contact", "list").exit_code == 0  # created and migrated on first use
    assert (isolated_env / "data" / "crm.db").exists()


def test_missing_database_directory(sqlite_cli, tmp_path):
    sqlite_cli.target = str(tmp_path / "nowhere" / "crm.db")
    line = sqlite_cli.fails(1, "contact", "list")
    assert "does not exist" in line
    assert not (tmp_path / "nowhere").exists()


def test_database_from_a_newer_smallcrm_is_refused(sqlite_cli, db_path):
    with sqlite3.connect(db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'zzzz_future'")
    line = sqlite_cli.fails(1, "contact", "list")
    assert "newer smallcrm" in line
    assert "newer" in sqlite_cli.fails(1, "db", "migrate")
    with sqlite3.connect(db_path) as conn:  # left untouched
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == (
            "zzzz_future",
        )


def test_a_file_that_is_not_a_database(sqlite_cli, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    sqlite_cli.target = str(junk)
    assert "not a smallcrm database" in sqlite_cli.fails(1, "contact", "list")


def test_db_path_migrate_check(sqlite_cli, db_path, tmp_path):
    assert sqlite_cli.ok("db", "path") == f"{db_path}\n"
    assert "nothing to do" in sqlite_cli.ok("db", "migrate")
    report = sqlite_cli.ok("db", "check")
    assert "integrity: ok" in report and "foreign keys: ok" in report and "schema: " in report
    data = sqlite_cli.json("db", "check", "--json")
    assert data["ok"] is True and data["integrity"] == [] and data["revision"]
    fresh = tmp_path / "fresh.db"
    sqlite_cli.target = str(fresh)
    assert "(new database) -> " in sqlite_cli.ok("db", "migrate")
    assert fresh.exists()


def test_db_check_reports_problems_with_exit_1(sqlite_cli, db_path):
    sqlite_cli.ok("contact", "add", "Ada")
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")
        conn.execute("UPDATE contact SET company_id = 424242")
    result = sqlite_cli("db", "check")
    assert result.exit_code == 1
    assert "foreign keys: PROBLEMS" in result.stdout
    assert result.stderr.startswith("error: database check found")


def test_control_characters_and_markup_are_shown_literally(sqlite_cli):
    nasty = "\x1b[2J\x1b]0;pwned\x07[/b]Eve [bold]x[/bold]\u202e"
    ident = sqlite_cli.new_id("contact", "add", nasty, "--note", "line1\nline2\x1b[31m")
    for args in (("contact", "list"), ("contact", "show", str(ident)), ("search", "eve")):
        out = sqlite_cli.ok(*args)
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
        assert "␛[2J" in out and "[/b]Eve [bold]x[/bold]" in out
    raw = sqlite_cli.ok("contact", "show", str(ident), "--json")
    assert "\\u001b[2J" in raw and "\x1b" not in raw
    assert json.loads(raw)["name"] == nasty  # stored exactly as given
    jsonl = sqlite_cli.ok("contact", "list", "--format", "jsonl")
    assert json.loads(jsonl)["name"] == nasty
    parsed = list(csv.DictReader(io.StringIO(sqlite_cli.ok("contact", "list", "--format", "csv"))))
    assert parsed[0]["name"] == nasty  # CSV is for programs: exact text
    line = sqlite_cli.fails(1, "contact", "show", "\x1b[2Jnobody")
    assert "\x1b" not in line and "␛[2Jnobody" in line


def test_rich_table_on_a_terminal_fits_and_truncates(sqlite_cli, terminal):
    long_name = "Bartholomew " * 8 + "End"
    sqlite_cli.ok("contact", "add", long_name, "--email", "bart@example.com", "--company", "Acme")
    sqlite_cli.ok("contact", "add", "[/b] \x1b[2J", "--email", "x@example.com")
    terminal(60)
    out = sqlite_cli.ok("contact", "list")
    lines = [line for line in out.splitlines() if line.strip()]
    assert all(len(line) <= 60 for line in lines), out
    assert "…" in out and "Bartholomew" in out and "End" not in out
    assert "[/b] ␛[2J" in out and "\x1b[2J" not in out
    assert lines[0].split()[:2] == ["ID", "Name"]
    terminal(160)
    wide = sqlite_cli.ok("contact", "list")
    assert "bart@example.com" in wide and "Acme" in wide


def test_narrow_terminal_drops_minor_columns(sqlite_cli, terminal):
    sqlite_cli.ok("contact", "add", "Ada Lovelace", "--email", "ada@example.com", "--tag", "t")
    terminal(40)
    out = sqlite_cli.ok("contact", "list")
    assert "Ada Lovelace" in out
    assert "Tags" not in out
    assert all(len(line) <= 40 for line in out.splitlines())


def test_show_on_a_terminal(sqlite_cli, terminal):
    ident = sqlite_cli.new_id("contact", "add", "Ada", "--note", "one\ntwo")
    terminal(80)
    out = sqlite_cli.ok("contact", "show", str(ident))
    lines = [line.rstrip() for line in out.splitlines()]
    assert any(line.startswith("name") and line.endswith("Ada") for line in lines)
    assert (
        any(line.endswith("one") for line in lines)
        and lines[lines.index(next(line for line in lines if line.endswith("one"))) + 1].strip()
        == "two"
    )
    assert not any(line.startswith("email") for line in lines)


def test_today_on_a_terminal(sqlite_cli, terminal):
    ada = str(sqlite_cli.new_id("contact", "add", "Ada"))
    sqlite_cli.ok("followup", "add", ada, "Late " + "x" * 200, "--due", "-2d")
    terminal(50)
    out = sqlite_cli.ok("today")
    assert "Overdue (1)" in out
    assert all(len(line) <= 50 for line in out.splitlines())


def test_overdue_and_stale_rows_are_coloured():
    from smallcrm.cli.output import _row_style

    class Row:
        overdue = True

    class Lead:
        stale = True

    assert _row_style(Row()) == "red" and _row_style(Lead()) == "yellow"
    assert _row_style(object()) is None


def test_keyboard_interrupt_exits_130_quietly(sqlite_cli, monkeypatch):
    from smallcrm import contacts

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(contacts, "list_contacts", interrupted)
    result = sqlite_cli("contact", "list")
    assert result.exit_code == 130
    assert "Traceback" not in result.output


def test_an_unexpected_error_is_one_line(sqlite_cli, monkeypatch):
    from smallcrm import contacts

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(contacts, "list_contacts", broken)
    line = sqlite_cli.fails(1, "contact", "list")
    assert "RuntimeError: boom" in line


def test_tui_needs_a_terminal(sqlite_cli):
    assert "terminal" in sqlite_cli.fails(1, "tui")


def test_demo_without_a_terminal_prints_the_agenda(sqlite_cli, tmp_path):
    pytest.importorskip("smallcrm.demo")
    sqlite_cli.target = str(tmp_path / "demo.db")
    result = sqlite_cli("demo", "--no-tui")
    assert result.exit_code == 0, result.stderr
    assert "overdue" in result.stdout and "Today" in result.stdout
    assert (tmp_path / "demo.db").exists()

"""The installed entry point in real subprocesses: imports, pipes, file modes, start-up hygiene.

Each test starts fresh interpreters, so import-time errors cannot hide behind an in-process
CliRunner, and `sys.modules` shows exactly what a command loads.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(sys.executable).parent / "smallcrm"

# Modules the plain CLI must never load for --help / --version (the database stack, the TUI and
# the parsers of phones, emails, dates, vCards and calendars).
NOT_FOR_HELP = (
    "sqlmodel", "sqlalchemy", "textual", "phonenumbers", "alembic", "email_validator",
    "dateutil", "vobject", "icalendar",
    "pydantic",  # typer 0.29 and later coerce options through it (pyproject keeps below 0.29)
)  # fmt: skip
NOT_FOR_LIST = ("textual", "phonenumbers", "alembic")


def test_help_and_version_load_no_heavy_module_and_no_command(cli_probe):
    code, loaded, commands, out, _stderr = cli_probe("--help", heavy=NOT_FOR_HELP)
    assert code == 0 and "contact" in out and "followup" in out
    assert loaded == [] and commands == []
    code, loaded, commands, out, _stderr = cli_probe("--version", heavy=NOT_FOR_HELP + ("rich",))
    assert code == 0 and out.startswith("smallcrm ")
    assert loaded == [] and commands == []


def test_a_group_help_builds_only_that_group(cli_probe):
    code, loaded, commands, out, _stderr = cli_probe(
        "contact", "list", "--help", heavy=NOT_FOR_HELP
    )
    assert code == 0 and "--search" in out
    assert loaded == [] and commands == ["smallcrm.cli.contact"]


def test_contact_list_loads_no_tui_phone_or_migration_code(db_path, cli_probe, child_env):
    env = child_env(SMALLCRM_DB=str(db_path))
    code, loaded, commands, out, _stderr = cli_probe(
        "contact", "list", "--format", "json", heavy=NOT_FOR_LIST + ("rich",), env=env
    )
    assert code == 0 and json.loads(out) == []
    assert loaded == []  # not even rich: JSON needs no tables
    code, loaded, _commands, _out, _stderr = cli_probe(
        "followup", "list", heavy=NOT_FOR_LIST, env=env
    )
    assert code == 0 and loaded == []


def test_a_contacts_import_into_a_local_file_loads_no_database_stack(
    db_path, tmp_path, cli_probe, child_env
):
    source = tmp_path / "in.csv"
    source.write_text("Name,Email,Company\nAda,ada@example.com,Analytical\nBob,,\n")
    env = child_env(SMALLCRM_DB=str(db_path))
    stack = ("sqlalchemy", "sqlmodel", "alembic", "pydantic")
    code, loaded, _commands, out, _stderr = cli_probe(
        "import", "contacts", str(source), heavy=stack, env=env
    )
    assert code == 0 and out == "imported 2, updated 0, skipped 0, rejected 0\n"
    assert loaded == []
    code, loaded, _commands, out, _stderr = cli_probe(
        "import", "companies", str(source), heavy=stack, env=env
    )  # other kinds go through the store
    assert code == 0 and "imported 2" in out and "sqlalchemy" in loaded
    code, _loaded, _commands, out, _stderr = cli_probe(
        "contact", "list", "--format", "csv", heavy=(), env=env
    )
    assert "ada@example.com" in out and "Analytical" in out


# What `followup list` must not define: tables and records it never reads.
NOT_FOR_FOLLOWUP_LIST = (
    "smallcrm.store.tables.history", "smallcrm.store.tables.tag", "smallcrm.store.tables.activity",
    "smallcrm.records.history", "smallcrm.records.reports", "smallcrm.records.sales",
)  # fmt: skip


def test_a_read_command_defines_only_the_tables_and_records_it_reads(db_path, cli_probe, child_env):
    env = child_env(SMALLCRM_DB=str(db_path))
    code, loaded, _commands, out, _stderr = cli_probe(
        "followup", "list", "--format", "json", heavy=NOT_FOR_FOLLOWUP_LIST, env=env
    )
    assert code == 0 and json.loads(out) == []
    assert loaded == []


def test_the_console_script_flushes_everything_and_keeps_exit_codes(db_path, child_env):
    env = child_env(SMALLCRM_DB=str(db_path))
    for number in range(3):
        subprocess.run(
            [str(SCRIPT), "contact", "add", f"Ada {number}", "--note", "n" * 50_000],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
    done = subprocess.run(
        [str(SCRIPT), "contact", "list", "--format", "json"], capture_output=True, env=env
    )
    assert done.returncode == 0 and done.stderr == b""
    assert [c["name"] for c in json.loads(done.stdout)] == ["Ada 0", "Ada 1", "Ada 2"]
    done = subprocess.run([str(SCRIPT), "contact", "show", "nobody"], capture_output=True, env=env)
    assert (done.returncode, done.stderr) == (1, b"error: no contact 'nobody'\n")
    done = subprocess.run([str(SCRIPT), "contact", "show"], capture_output=True, env=env)
    assert done.returncode == 2 and done.stderr.startswith(b"error: ")


def test_installed_console_script_and_python_m(db_path, child_env):
    assert SCRIPT.exists(), "the project is not installed in this venv"
    env = child_env(SMALLCRM_DB=str(db_path))
    done = subprocess.run(
        [str(SCRIPT), "contact", "add", "Ada Lovelace"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0 and done.stdout.startswith("Created contact "), done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "smallcrm", "contact", "show", "nobody"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 1 and done.stderr == "error: no contact 'nobody'\n"
    assert done.stdout == ""


def test_output_piped_into_head_ends_quietly(db_path, child_env):
    env = child_env(SMALLCRM_DB=str(db_path))
    big_note = "x" * 120_000  # one argument may hold 128 KiB; a pipe 64 KiB
    subprocess.run(
        [str(SCRIPT), "contact", "add", "Ada", "--note", big_note], check=True, env=env,
        capture_output=True,
    )  # fmt: skip
    process = subprocess.Popen(
        [str(SCRIPT), "contact", "list", "--format", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(10)
    process.stdout.close()  # what `| head -c 10` does
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0
    assert stderr == b""


def test_files_written_are_private(tmp_path, child_env):
    target = tmp_path / "private" / "crm.db"
    target.parent.mkdir()
    env = child_env(SMALLCRM_DB=str(target))
    old = os.umask(0o022)
    try:
        done = subprocess.run(
            [str(SCRIPT), "contact", "add", "Ada"], capture_output=True, text=True, env=env
        )
    finally:
        os.umask(old)
    assert done.returncode == 0, done.stderr
    for path in target.parent.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_python_dash_m(args, child_env):
    done = subprocess.run(
        [sys.executable, "-m", "smallcrm", *args], capture_output=True, text=True, env=child_env()
    )
    assert done.returncode == 0 and done.stderr == ""


def test_shell_completion(child_env):
    def complete(words: str, cword: int) -> list[str]:
        env = child_env(_SMALLCRM_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
        done = subprocess.run([str(SCRIPT)], capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert complete("smallcrm co", 1) == ["contact", "company"]
    assert complete("smallcrm contact l", 2) == ["list"]
    assert complete("smallcrm followup list --due o", 4) == ["overdue"]

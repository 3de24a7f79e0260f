"""`smallcrm import` and `smallcrm export` through the real CLI (in-process, CliRunner): every
exit code, the summary line, `line N: reason` on stderr, rejects, dry runs, standard input,
and files that are not what they claim to be."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
SUMMARY = "imported {}, updated {}, skipped {}, rejected {}"


@pytest.fixture
def cli(db_target: str) -> Iterator[Any]:
    """Run `smallcrm --db <the test's database> ARGS` in this process."""
    from smallcrm.cli import context
    from smallcrm.cli.main import app

    runner = CliRunner()

    def run(*args: str, input: bytes | str | None = None) -> Any:
        context.reset()
        return runner.invoke(app, ["--db", db_target, *args], input=input)

    yield run
    context.reset()


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def last_line(result: Any) -> str:
    return result.stdout.splitlines()[-1]


def emails(cli: Any) -> list[str]:
    result = cli("contact", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return sorted(c["email"] or "" for c in json.loads(result.stdout))


def one_error_line(result: Any) -> str:
    """The run failed cleanly: exit 1, one `error:` line on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return errors[0]


# --------------------------------------------------------------------------------------------
# Import: success


def test_import_prints_the_summary_last_and_exits_0(cli: Any) -> None:
    result = cli("import", "contacts", fixture("bom_crlf.csv"))
    assert result.exit_code == 0, result.output
    assert last_line(result) == SUMMARY.format(2, 0, 0, 0)
    assert result.stderr == ""
    assert emails(cli) == ["ada@example.com", "alan@example.org"]


@pytest.mark.parametrize(
    "name", ["bom_crlf.csv", "semicolons.csv", "tabs.tsv", "quoted_newlines.csv", "google.csv"]
)
def test_import_reads_every_text_variant(cli: Any, name: str) -> None:
    result = cli("import", "contacts", fixture(name))
    assert result.exit_code == 0, result.output
    assert "ada@example.com" in emails(cli)


def test_importing_the_same_file_twice_changes_nothing(cli: Any) -> None:
    assert last_line(cli("import", "contacts", fixture("duplicates.csv"))) == SUMMARY.format(
        2, 0, 1, 0
    )
    again = cli("import", "contacts", fixture("duplicates.csv"))
    assert again.exit_code == 0 and last_line(again) == SUMMARY.format(0, 0, 3, 0)


def test_on_duplicate_update_and_error(cli: Any) -> None:
    cli("import", "contacts", fixture("bom_crlf.csv"))
    updated = cli("import", "contacts", fixture("duplicates.csv"), "--on-duplicate", "update")
    assert updated.exit_code == 0 and last_line(updated) == SUMMARY.format(0, 1, 2, 0)
    refused = cli("import", "contacts", fixture("duplicates.csv"), "--on-duplicate", "error")
    assert refused.exit_code == 1
    assert "line 2: a contact with email ada@example.com already exists" in refused.stderr


def test_stdin_dash_is_read(cli: Any) -> None:
    data = (FIXTURES / "semicolons.csv").read_bytes()
    result = cli("import", "contacts", "-", input=data)
    assert result.exit_code == 0, result.output
    assert last_line(result) == SUMMARY.format(2, 0, 0, 0)
    assert emails(cli) == ["ada@example.com", "alan@example.org"]


def test_map_and_encoding_and_delimiter_options(cli: Any) -> None:
    result = cli(
        "import", "contacts", fixture("unknown_columns.csv"), "--map", "Favourite Colour=title"
    )
    assert result.exit_code == 0
    shown = json.loads(cli("contact", "show", "ada@example.com", "--format", "json").stdout)
    assert shown["title"] == "blue" and shown["extra"] == {"Shoe Size": "38"}
    latin = cli("import", "contacts", fixture("latin1.csv"), "--encoding", "latin-1")
    assert latin.exit_code == 0 and last_line(latin) == SUMMARY.format(2, 0, 0, 0)
    tabs = cli("import", "contacts", fixture("tabs.tsv"), "--delimiter", "tab")
    assert tabs.exit_code == 0


def test_other_kinds_import(cli: Any) -> None:
    cli("import", "contacts", fixture("bom_crlf.csv"))
    for kind, name in (
        ("companies", "companies.csv"),
        ("activities", "activities.csv"),
        ("followups", "followups.csv"),
    ):
        result = cli("import", kind, fixture(name))
        assert result.exit_code == 0, (kind, result.output)
        assert last_line(result).startswith("imported ")


# --------------------------------------------------------------------------------------------
# Import: invalid rows


def test_invalid_rows_write_nothing_and_name_each_line(cli: Any) -> None:
    result = cli("import", "contacts", fixture("invalid_rows.csv"))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith("line 4: a contact needs a name")
    assert lines[1].startswith("line 6: invalid email 'not-an-email'")
    assert lines[2] == "line 7: invalid phone number '12'"
    assert lines[-1].startswith("error: 3 rows are invalid; nothing was imported")
    assert last_line(result) == SUMMARY.format(0, 0, 2, 3)
    assert emails(cli) == []


def test_rejects_file_gets_an_error_column_and_exit_0(cli: Any, tmp_path: Path) -> None:
    rejects = tmp_path / "bad.csv"
    result = cli("import", "contacts", fixture("invalid_rows.csv"), "--rejects", str(rejects))
    assert result.exit_code == 0, result.output
    assert last_line(result) == SUMMARY.format(2, 0, 0, 3)
    assert "line 6: invalid email" in result.stderr
    rows = list(csv.DictReader(io.StringIO(rejects.read_text(encoding="utf-8"), newline="")))
    assert [r["error"].split(":")[0] for r in rows] == ["line 4", "line 6", "line 7"]
    assert rows[1]["Email"] == "not-an-email" and rows[1]["Name"] == "Grace Hopper"
    assert rejects.stat().st_mode & 0o777 == 0o600
    assert emails(cli) == ["ada@example.com", "alan@example.org"]


def test_dry_run_writes_nothing(cli: Any, tmp_path: Path) -> None:
    result = cli("import", "contacts", fixture("semicolons.csv"), "--dry-run")
    assert result.exit_code == 0
    assert last_line(result) == SUMMARY.format(2, 0, 0, 0)
    assert "nothing was written" in result.stderr
    assert emails(cli) == []
    bad = cli("import", "contacts", fixture("invalid_rows.csv"), "--dry-run")
    assert bad.exit_code == 1 and "line 4:" in bad.stderr
    rejects = tmp_path / "bad.csv"
    with_rejects = cli(
        "import", "contacts", fixture("invalid_rows.csv"), "--dry-run", "--rejects", str(rejects)
    )
    assert with_rejects.exit_code == 0 and not rejects.exists()
    assert emails(cli) == []


def test_undecodable_bytes_name_the_line_and_write_nothing(cli: Any) -> None:
    result = cli("import", "contacts", fixture("latin1.csv"))
    line = one_error_line(result)
    assert "nothing was imported" in line
    assert "line 2: cannot be read as UTF-8 (byte 0xEB)" in result.stderr
    assert "--encoding" in result.stderr
    assert emails(cli) == []


def test_undecodable_header(cli: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Na\xefme,Email\nAda,ada@example.com\n")
    line = one_error_line(cli("import", "contacts", str(path)))
    assert "line 1" in line and "UTF-8" in line


# --------------------------------------------------------------------------------------------
# Import: files that cannot be imported


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing.csv", "no such file"),
        ("empty.csv", "is empty"),
        ("header_only.csv", "has a header but no rows"),
        ("binary.csv", "not a text file"),
    ],
)
def test_file_problems_are_one_error_line(cli: Any, name: str, message: str) -> None:
    result = cli("import", "contacts", fixture(name))
    assert message in one_error_line(result)
    assert result.stdout == ""


def test_stdin_problems(cli: Any) -> None:
    assert "is empty" in one_error_line(cli("import", "contacts", "-", input=b""))
    junk = bytes(range(256)) * 8
    assert "not a text file" in one_error_line(cli("import", "contacts", "-", input=junk))


def test_a_directory_is_one_error_line(cli: Any, tmp_path: Path) -> None:
    assert "directory" in one_error_line(cli("import", "contacts", str(tmp_path)))


def test_unknown_map_column_is_one_error_line(cli: Any) -> None:
    line = one_error_line(cli("import", "contacts", fixture("semicolons.csv"), "--map", "X=title"))
    assert "no column 'X'" in line


@pytest.mark.parametrize(
    "args",
    [
        ["import", "people", fixture("semicolons.csv")],
        ["import", "contacts", fixture("semicolons.csv"), "--on-duplicate", "merge"],
        ["import", "contacts", fixture("semicolons.csv"), "--delimiter", "ab"],
        ["import", "contacts", fixture("semicolons.csv"), "--encoding", "klingon"],
        ["import", "contacts", fixture("semicolons.csv"), "--map", "Name"],
        ["import", "contacts", fixture("semicolons.csv"), "--map", "Name=shoe"],
        ["import", "contacts"],
        ["export", "people"],
        ["export", "contacts", "--format", "xml"],
        ["export", "companies", "--format", "vcard"],
        ["export", "contacts", "--format", "ics"],
        ["export", "contacts", "--since", "today"],
    ],
)
def test_usage_errors_exit_2(cli: Any, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error:") and "Traceback" not in result.output
    assert emails(cli) == []


# --------------------------------------------------------------------------------------------
# Export


def test_export_to_stdout_and_file(cli: Any, tmp_path: Path) -> None:
    cli("import", "contacts", fixture("semicolons.csv"))
    result = cli("export", "contacts")
    assert result.exit_code == 0 and result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [r["email"] for r in rows] == ["ada@example.com", "alan@example.org"]
    assert rows[0]["company"] == "Analytical Engines"
    path = tmp_path / "contacts.json"
    written = cli("export", "contacts", "--format", "json", "-o", str(path))
    assert written.exit_code == 0 and written.stdout == ""
    assert len(json.loads(path.read_text(encoding="utf-8"))) == 2
    assert path.stat().st_mode & 0o777 == 0o600


def test_export_empty_database(cli: Any) -> None:
    result = cli("export", "contacts")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [",".join(_contact_fields())]
    assert json.loads(cli("export", "leads", "--format", "json").stdout) == []


def _contact_fields() -> list[str]:
    from smallcrm.exporting import field_names

    return field_names("contacts")


def test_export_failures_exit_1(cli: Any, tmp_path: Path) -> None:
    cli("import", "contacts", fixture("semicolons.csv"))
    assert "no company" in one_error_line(cli("export", "contacts", "--company", "Nope"))
    target = tmp_path / "missing-dir" / "out.csv"
    assert "cannot write" in one_error_line(cli("export", "contacts", "-o", str(target)))


def test_every_kind_and_format_exports(cli: Any, tmp_path: Path) -> None:
    cli("import", "contacts", fixture("bom_crlf.csv"))
    cli("import", "activities", fixture("activities.csv"))
    cli("import", "followups", fixture("followups.csv"))
    cli("import", "leads", fixture("leads.csv"), "--rejects", str(tmp_path / "r.csv"))
    for kind in ("contacts", "companies", "leads", "activities", "followups"):
        for fmt in ("csv", "json", "jsonl"):
            result = cli("export", kind, "--format", fmt)
            assert result.exit_code == 0, (kind, fmt, result.output)
    assert cli("export", "contacts", "--format", "vcard").stdout.startswith("BEGIN:VCARD")
    assert cli("export", "followups", "--format", "ics").stdout.startswith("BEGIN:VCALENDAR")


# --------------------------------------------------------------------------------------------
# The installed command, as scripts run it


def test_installed_command_reads_a_pipe_and_writes_one(db_target: str, tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = Path(sys.executable).parent / "smallcrm"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "smallcrm"]
    env = {**os.environ, "SMALLCRM_DB": db_target}
    data = (FIXTURES / "quoted_newlines.csv").read_bytes()
    done = subprocess.run(
        [*command, "import", "contacts", "-"], input=data, capture_output=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines()[-1] == SUMMARY.format(2, 0, 0, 0)
    exported = subprocess.run(
        [*command, "export", "contacts", "--format", "jsonl"], capture_output=True, env=env,
        timeout=120,
    )  # fmt: skip
    assert exported.returncode == 0 and exported.stderr == b""
    notes = [json.loads(line)["note"] for line in exported.stdout.decode().splitlines()]
    assert notes[0] == 'first line\nsecond, with comma\nthird "quoted"'
    bad = subprocess.run(
        [*command, "import", "contacts", str(tmp_path / "nope.csv")], capture_output=True,
        env=env, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1 and bad.stdout == b""
    assert bad.stderr.decode().startswith("error: cannot open") and b"Traceback" not in bad.stderr

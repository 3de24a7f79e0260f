"""Fixtures for CLI tests: run `smallcrm` in-process (CliRunner) against the test's database.

`cli(*args)` runs the root app with `--db <this test's database>` and returns the Result;
`cli.ok(*args)` asserts exit 0 and returns stdout; `cli.json(*args)` parses stdout as JSON;
`cli.fails(code, *args)` asserts the exit code and one `error:` line on stderr.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner


class Cli:
    def __init__(self, target: str | None) -> None:
        from smallcrm.cli.main import app

        self.app = app
        self.target = target
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, db: bool = True) -> Any:
        argv = ["--db", self.target, *args] if db and self.target else list(args)
        return self.runner.invoke(self.app, argv, input=input, prog_name="smallcrm")

    def ok(self, *args: str, input: str | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, (
            f"{args} exited {result.exit_code}\nstdout: {result.stdout}\n"
            f"stderr: {result.stderr}\nexception: {result.exception!r}"
        )
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args))

    def new_id(self, *args: str) -> int:
        """Run an `add` with -q and return the new record's id."""
        return int(self.ok(*args, "-q").strip())

    def fails(self, code: int, *args: str, input: str | None = None) -> str:
        """Assert exit `code`, nothing on stdout, and one `error:` line on stderr; return it."""
        result = self(*args, input=input)
        assert result.exit_code == code, (
            f"{args} exited {result.exit_code}, wanted {code}\nstdout: {result.stdout}\n"
            f"stderr: {result.stderr}\nexception: {result.exception!r}"
        )
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error: "), result.stderr
        assert "Traceback" not in result.output
        return lines[0]


@pytest.fixture
def cli(db_target: str) -> Cli:
    """The CLI on this test's database (runs on every backend)."""
    return Cli(db_target)


@pytest.fixture
def sqlite_cli(db_path: Any) -> Cli:
    """The CLI on this test's SQLite file (for tests that need the file itself)."""
    return Cli(str(db_path))


@pytest.fixture
def people(cli: Cli) -> dict[str, int]:
    """A small CRM: two companies, three contacts, a lead, a follow-up and an activity."""
    ids = {
        "acme": cli.new_id("company", "add", "Acme", "--domain", "acme.example"),
        "globex": cli.new_id("company", "add", "Globex"),
        "ada": cli.new_id(
            "contact", "add", "Ada Lovelace", "--email", "ada@example.com",
            "--company", "Acme", "--tag", "vip", "--title", "CTO",
        ),
        "alan": cli.new_id("contact", "add", "Alan Turing", "--email", "alan@example.com"),
        "grace": cli.new_id("contact", "add", "Grace Hopper", "--company", "Globex"),
    }  # fmt: skip
    ids["deal"] = cli.new_id(
        "lead", "add", "Engine order", "--contact", str(ids["ada"]), "--value", "5,000.50"
    )
    ids["call"] = cli.new_id("log", "call", str(ids["ada"]), "Discussed the engine")
    ids["todo"] = cli.new_id("followup", "add", str(ids["ada"]), "Send the plans", "--due", "+2d")
    return ids


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Make output believe stdout is a terminal `width` columns wide (colour stays off)."""

    def make(width: int = 80) -> None:
        from rich.console import Console

        from smallcrm.cli import output

        monkeypatch.setattr(output, "is_terminal", lambda stream=None: True)
        monkeypatch.setattr(
            output,
            "out_console",
            lambda: Console(
                file=__import__("sys").stdout,
                width=width,
                force_terminal=True,
                color_system=None,
                markup=False,
                emoji=False,
                highlight=False,
            ),
        )

    return make

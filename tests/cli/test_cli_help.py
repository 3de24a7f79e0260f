"""Every command documents itself (as sqlite-utils' test_docs does): help on each command and
each parameter, the root's static help table agrees with the modules, README.md names them."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import typer

from smallcrm.cli.main import COMMANDS, LazySubGroup, _available, load_command

ROOT = Path(__file__).resolve().parents[2]
NAMES = [name for name in COMMANDS if _available(name)]


def _commands(name: str):
    """(path, click command) for the command `name` and, for a group, each of its commands."""
    command = load_command(name)
    if isinstance(command, LazySubGroup):
        for sub in command.list_commands(None):
            yield f"{name} {sub}", command.get_command(None, sub)
    else:
        yield name, command


@pytest.mark.parametrize("name", NAMES)
def test_every_command_and_parameter_has_help(name):
    for path, command in _commands(name):
        assert command is not None, path
        assert (command.help or "").strip(), f"`smallcrm {path}` has no help"
        for param in command.params:
            if param.name in ("help", "install_completion", "show_completion"):
                continue
            assert (getattr(param, "help", None) or "").strip(), (
                f"`smallcrm {path}`: parameter {param.name} has no help"
            )


@pytest.mark.parametrize("name", NAMES)
def test_static_table_matches_the_module(name):
    module_name, short = COMMANDS[name]
    app: typer.Typer = importlib.import_module(module_name).app
    assert short.strip() and len(short) <= 80, f"COMMANDS[{name!r}] is not one short line"
    if len(app.registered_commands) > 1:  # a group: its help is the summary itself
        assert app.info.help == short, (
            f"COMMANDS[{name!r}] says {short!r}, the group {app.info.help!r}"
        )
    else:
        assert (load_command(name).help or "").strip()


@pytest.mark.parametrize("name", NAMES)
def test_help_runs(name, sqlite_cli):
    for path, _command in _commands(name):
        result = sqlite_cli(*path.split(), "--help", db=False)
        assert result.exit_code == 0, (path, result.output)
        assert "Usage: smallcrm " + path in " ".join(result.stdout.split())


def test_readme_mentions_every_command():
    text = (ROOT / "README.md").read_text()
    for name in COMMANDS:
        assert f"smallcrm {name}" in text, f"README.md does not show `smallcrm {name}`"
    assert "--install-completion" in text

"""The layers, enforced twice: import-linter's contracts (pyproject.toml) over the source, and
fresh interpreters that import the modules and look at what got loaded.

The store knows no service; services know no front end and load heavy libraries only when a
function needs them; the CLI starts without Textual, phonenumbers, Alembic or SQLModel."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import smallcrm

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(smallcrm.__file__).parent

FRONT_END_LIBRARIES = {"typer", "rich", "textual", "click"}
# Imported lazily, inside the functions that need them (DESIGN.md: heavy imports are lazy).
HEAVY_LIBRARIES = {
    "textual", "alembic", "phonenumbers", "email_validator", "vobject", "icalendar", "dateutil",
}  # fmt: skip


def loaded_after_importing(modules: list[str]) -> set[str]:
    """The top-level names and smallcrm modules in sys.modules after importing `modules` in a
    new interpreter."""
    script = textwrap.dedent(
        """
        import importlib, json, sys
        for name in json.loads(sys.argv[1]):
            importlib.import_module(name)
        names = {m.split(".")[0] for m in sys.modules} | {
            m for m in sys.modules if m.startswith("smallcrm.")
        }
        print(json.dumps(sorted(names)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, json.dumps(modules)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout))


#: Modules of smallcrm/ that the store may import too: they import nothing of the project.
SHARED_BY_EVERY_LAYER = {"smallcrm.errors", "smallcrm.lazy"}


def service_modules() -> list[str]:
    """Every module of the service layer: smallcrm.* except the front ends and __main__."""
    return sorted(
        f"smallcrm.{info.name}"
        for info in pkgutil.iter_modules([str(PACKAGE)])
        if info.name not in {"cli", "tui", "store", "__main__"}
    )


def store_modules() -> list[str]:
    """smallcrm.store and its modules (not the Alembic scripts, which only Alembic runs)."""
    names = ["smallcrm.store", "smallcrm.store.migrations", "smallcrm.store.migrations.runner"]
    names += [
        f"smallcrm.store.{info.name}"
        for info in pkgutil.iter_modules([str(PACKAGE / "store")])
        if not info.ispkg
    ]
    return sorted(set(names))


def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.skip("import-linter is not installed")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "0 broken" in output
    assert "BROKEN" not in output


def test_the_contract_lists_name_every_service_module() -> None:
    """A module added to the service layer must be added to pyproject's contracts too."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = {c["name"]: c for c in config["tool"]["importlinter"]["contracts"]}
    services = set(contracts["Services know no front end"]["source_modules"])
    above_store = set(
        contracts["The store knows nothing of the layers above it"]["forbidden_modules"]
    )
    for module in service_modules():
        assert module in services, f"{module} is missing from 'Services know no front end'"
        if module not in SHARED_BY_EVERY_LAYER:
            assert module in above_store, f"{module} is missing from the store's contract"


def test_the_store_loads_no_service_and_no_front_end() -> None:
    loaded = loaded_after_importing(store_modules())
    services = set(service_modules()) - SHARED_BY_EVERY_LAYER
    assert loaded & services == set()
    assert loaded & {"smallcrm.cli", "smallcrm.tui"} == set()
    assert loaded & FRONT_END_LIBRARIES == set()
    assert "textual" not in loaded


def test_services_load_no_front_end_and_no_heavy_library() -> None:
    # All at once: what none of them loads together, none loads alone.
    modules = service_modules()
    assert {"smallcrm.contacts", "smallcrm.search", "smallcrm.agenda"} <= set(modules)
    loaded = loaded_after_importing(modules)
    assert loaded & FRONT_END_LIBRARIES == set()
    assert loaded & HEAVY_LIBRARIES == set()
    assert not any(m.startswith(("smallcrm.cli", "smallcrm.tui")) for m in loaded)


def _cli_main() -> str:
    if not (PACKAGE / "cli" / "__init__.py").exists():
        pytest.skip("smallcrm.cli does not exist yet")
    return "smallcrm.cli.main" if (PACKAGE / "cli" / "main.py").exists() else "smallcrm.cli"


def test_starting_the_cli_loads_no_tui_phone_migration_or_orm_library() -> None:
    loaded = loaded_after_importing(["smallcrm.cli", _cli_main()])
    assert loaded & {"textual", "phonenumbers", "alembic", "sqlmodel"} == set()
    assert not any(m.startswith("smallcrm.tui") for m in loaded)


def test_no_cli_module_loads_textual_at_import() -> None:
    _cli_main()
    modules = sorted(
        f"smallcrm.cli.{info.name}" for info in pkgutil.iter_modules([str(PACKAGE / "cli")])
    )
    loaded = loaded_after_importing(modules)
    assert "textual" not in loaded
    assert not any(m.startswith("smallcrm.tui") for m in loaded)

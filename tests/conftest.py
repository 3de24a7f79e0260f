"""Fixtures shared by every test: an isolated environment and a migrated database per test.

Migrations run once per session into a template; each test gets a copy (a file copy is ~100x
cheaper than migrating; on PostgreSQL, `CREATE DATABASE ... TEMPLATE`).

Backends: a test that uses `db` or `db_target` runs once per backend, `[sqlite]` and
`[postgres]`, the PostgreSQL one against a real server these fixtures start (tests/pg.py).
Exceptions, decided per test at collection:
- `@pytest.mark.backends("sqlite")` (or any list) says where a test runs;
- a test that also uses `db_path` (a SQLite file) runs on SQLite only;
- tests under tests/tui/ and tests/store/ run on SQLite only unless marked.
`--backend sqlite|postgres|all` (or SMALLCRM_TEST_BACKEND) narrows a run. When no server can
be started the `[postgres]` runs are skipped with the reason, unless
SMALLCRM_TEST_POSTGRES=require (as in CI), which makes them fail instead.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smallcrm.store import Db, open_db

TEST_USER = "tester"
BACKENDS = ("sqlite", "postgres")
SQLITE_ONLY_DIRS = ("tui", "store")
TESTS = Path(__file__).parent


def _load_pg() -> Any:
    spec = importlib.util.spec_from_file_location("smallcrm_tests_pg", TESTS / "pg.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


pg = _load_pg()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=("all", *BACKENDS),
        default=os.environ.get("SMALLCRM_TEST_BACKEND", "all"),
        help="database backends for tests using `db`/`db_target` (default: all)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "backends(*names): the backends ('sqlite', 'postgres') a test using db/db_target runs on",
    )


def _postgres_wanted() -> str:
    """'require', 'skip' or 'auto' (SMALLCRM_TEST_POSTGRES)."""
    value = os.environ.get("SMALLCRM_TEST_POSTGRES", "auto").strip().lower()
    return value if value in ("require", "skip") else "auto"


@functools.cache
def postgres_unavailable() -> str | None:
    """Why no PostgreSQL server can be started here, or None."""
    if _postgres_wanted() == "skip":
        return "SMALLCRM_TEST_POSTGRES=skip"
    try:
        pg.check_available()
    except pg.Unavailable as error:
        return str(error)
    return None


def _allowed_backends(metafunc: pytest.Metafunc) -> tuple[str, ...]:
    marker = metafunc.definition.get_closest_marker("backends")
    if marker is not None:
        unknown = set(marker.args) - set(BACKENDS)
        if unknown:
            raise pytest.UsageError(f"unknown backends {sorted(unknown)} on {metafunc.function}")
        return tuple(marker.args)
    if "db_path" in metafunc.fixturenames:
        return ("sqlite",)
    relative = Path(metafunc.definition.path).resolve().relative_to(TESTS.resolve())
    if relative.parts and relative.parts[0] in SQLITE_ONLY_DIRS:
        return ("sqlite",)
    return BACKENDS


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" not in metafunc.fixturenames:
        return
    chosen = metafunc.config.getoption("backend")
    params = []
    for name in _allowed_backends(metafunc):
        if chosen not in ("all", name):
            continue
        marks: list[Any] = []
        if name == "postgres":
            marks.append(pytest.mark.postgres)
            reason = postgres_unavailable()
            if reason and _postgres_wanted() != "require":
                marks.append(pytest.mark.skip(reason=f"no PostgreSQL: {reason}"))
        params.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every location smallcrm knows at the test's own directory."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("SMALLCRM_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("SMALLCRM_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("SMALLCRM_CONFIG", str(home / "config.toml"))
    monkeypatch.setenv("SMALLCRM_USER", TEST_USER)
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("NO_COLOR", "1")
    from smallcrm import settings

    settings._config_file.cache_clear()
    return home


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = open_db(str(path))
    # A checkpoint cannot run inside a write transaction (BEGIN IMMEDIATE): read-only here.
    with db.engine.execution_options(smallcrm_begin="DEFERRED").connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def db_path(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "crm.db"
    shutil.copyfile(template_db, path)
    path.chmod(0o600)
    return path


# --- PostgreSQL ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    """A running PostgreSQL server for the session (tests/pg.py `Server`)."""
    reason = postgres_unavailable()
    if reason:
        if _postgres_wanted() == "require":
            pytest.fail(f"SMALLCRM_TEST_POSTGRES=require but no PostgreSQL: {reason}")
        pytest.skip(f"no PostgreSQL: {reason}")
    try:
        server = pg.Server()
    except pg.Unavailable as error:
        if _postgres_wanted() == "require":
            pytest.fail(f"the PostgreSQL test server did not start: {error}")
        pytest.skip(f"the PostgreSQL test server did not start: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_databases(pg_server: Any) -> Iterator[Any]:
    databases = pg.Databases(pg_server)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def pg_url(pg_databases: Any, pg_server: Any) -> Iterator[str]:
    """The URL of a new, migrated, empty PostgreSQL database of this test's own."""
    name = pg_databases.take()
    try:
        yield pg_server.url(name)
    finally:
        pg_databases.give_back(name)


# --- Either backend --------------------------------------------------------------------------


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """'sqlite' or 'postgres' (parametrized by pytest_generate_tests)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_target(backend: str, request: pytest.FixtureRequest) -> str:
    """What `--db` takes for this test's database: the SQLite file's path or the URL."""
    if backend == "postgres":
        return request.getfixturevalue("pg_url")
    return str(request.getfixturevalue("db_path"))


@pytest.fixture
def db(db_target: str) -> Iterator[Db]:
    database = open_db(db_target)
    yield database
    database.dispose()


# --- smallcrm in a fresh interpreter ---------------------------------------------------------

# Runs the CLI as the console script does, then reports its exit code, which of `heavy` it
# loaded and which command modules (so a test sees exactly what a command imports).
_PROBE = """
import sys
sys.argv = ["smallcrm", *sys.argv[1:]]
import smallcrm.cli.main as main
try:
    main.run()
except SystemExit as exit_:
    code = exit_.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
commands = sorted(m for m in sys.modules if m.startswith("smallcrm.cli.") and m not in (
    "smallcrm.cli.main", "smallcrm.cli.context", "smallcrm.cli.options", "smallcrm.cli.output"))
sys.stderr.write("\\nPROBE " + repr((code, heavy, commands)) + "\\n")
"""


def _child_env(**extra: str) -> dict[str, str]:
    # PYTHONDONTWRITEBYTECODE would make every child compile smallcrm from source, which an
    # installed smallcrm never does.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def _probe(
    *args: str, heavy: tuple[str, ...], env: dict[str, str] | None = None
) -> tuple[Any, list[str], list[str], str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=heavy), *args],
        capture_output=True,
        text=True,
        env=env or _child_env(),
        timeout=120,
    )
    marker = done.stderr.rsplit("PROBE ", 1)
    assert len(marker) == 2, done.stderr
    code, loaded, commands = eval(marker[1])  # our own repr() from above
    return code, loaded, commands, done.stdout, done.stderr


@pytest.fixture
def child_env() -> Callable[..., dict[str, str]]:
    """The environment for a smallcrm child process, with `extra` variables set."""
    return _child_env


@pytest.fixture
def cli_probe() -> Callable[..., tuple[Any, list[str], list[str], str, str]]:
    """Run `smallcrm ARGS` in a fresh interpreter: (exit code, the modules of `heavy` it
    loaded, the command modules it loaded, stdout, stderr)."""
    return _probe

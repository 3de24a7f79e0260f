"""Fixtures shared by every test: an isolated environment and a migrated database per test.

Migrations run once per session into a template file; each test gets a copy (a file copy is
~100x cheaper than migrating).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from smallcrm.store import Db, open_db

TEST_USER = "tester"


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
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return path


@pytest.fixture
def db_path(tmp_path: Path, template_db: Path) -> Path:
    path = tmp_path / "crm.db"
    shutil.copyfile(template_db, path)
    path.chmod(0o600)
    return path


@pytest.fixture
def db(db_path: Path) -> Iterator[Db]:
    database = open_db(str(db_path))
    yield database
    database.dispose()

"""Fixtures for the TUI tests: an app over a test database, a frozen clock, fixed demo data."""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from smallcrm.store import Db, open_db

#: The moment the demo data and every relative time in the snapshots are computed from.
FIXED_NOW = datetime(2026, 3, 4, 15, 30, tzinfo=UTC)


async def settle(pilot, delay: float = 0.0) -> None:  # type: ignore[no-untyped-def]
    """Let timers fire, workers finish and their results reach the screen."""
    app = pilot.app
    if delay:
        await pilot.pause(delay)
    for _ in range(4):
        await pilot.pause()
        await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop (no async plugin needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A migrated database to copy per test (closing the last connection checkpoints the WAL)."""
    path = tmp_path_factory.mktemp("tui-template") / "template.db"
    open_db(str(path)).dispose()
    return path


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[], datetime]:
    """Every service and the app see FIXED_NOW as now (days in stage, overdue, relative times)."""

    def now() -> datetime:
        return FIXED_NOW

    for name, module in list(sys.modules.items()):
        if name.startswith("smallcrm") and hasattr(module, "now_utc"):
            monkeypatch.setattr(module, "now_utc", now)
    return now


@pytest.fixture
def demo_db(db: Db, frozen_clock: Callable[[], datetime]) -> Iterator[Db]:
    """The demo CRM (5 users, 60 companies, 300 contacts, 120 leads…) as of FIXED_NOW."""
    from smallcrm.demo import populate

    populate(db, now=FIXED_NOW)
    yield db


@pytest.fixture
def make(frozen_clock: Callable[[], datetime]):  # type: ignore[no-untyped-def]
    """Build the app over a database, with the frozen clock and no background refresh."""
    from smallcrm.tui.app import make_app

    def build(db: Db):  # type: ignore[no-untyped-def]
        return make_app(db, clock=frozen_clock, refresh_seconds=0)

    return build

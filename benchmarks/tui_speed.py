"""How fast the TUI is on a big database, measured with Pilot, against a minimal Textual app
measured in the same run.

    .venv/bin/python benchmarks/tui_speed.py [--check]

Builds benchmarks/data/tui_big.db first if needed (see tui_data.py). Prints one line per figure
with its budget:
- first screen ready: the board filled, as a multiple of a minimal app's start-and-exit (≤ 2x);
- peak memory of this process (≤ 150 MB);
- each search keystroke on the contacts screen until the table shows its results (≤ 150 ms);
- opening the customer with 5,000 activities (≤ 500 ms), and the next page of its timeline and
  of the contact list (≤ 100 ms).
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import tui_data  # noqa: E402

SIZE = (120, 40)


async def _until(check: Callable[[], bool], timeout: float = 30.0) -> float:
    """Wait (yielding to the app) until `check()`; returns the moment it became true."""
    deadline = time.perf_counter() + timeout
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await asyncio.sleep(0.001)
    return time.perf_counter()


def _keystroke(app: Any, key: str, char: str) -> None:
    """Deliver a key as the terminal driver does, and return at once: `pilot.press` would then
    wait for the app to go idle twice (~50 ms), which is the harness's time, not the app's."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)  # noqa: SLF001


async def minimal_start_and_exit() -> float:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("hello")
            yield Footer()

    started = time.perf_counter()
    async with Minimal().run_test(size=SIZE):
        pass
    return time.perf_counter() - started


MINIMAL_CHILD = """
import asyncio
from textual.app import App
from textual.widgets import Footer, Static

class Minimal(App):
    def compose(self):
        yield Static("hello")
        yield Footer()

async def main():
    async with Minimal().run_test(size=(120, 40)):
        pass

asyncio.run(main())
"""

SMALLCRM_CHILD = """
import asyncio, os, sys
from pathlib import Path
os.environ["SMALLCRM_DB"] = sys.argv[1]
from smallcrm.cli.context import get_db
from smallcrm.tui.app import make_quick_app
from smallcrm.tui.screens.board import BoardScreen
from smallcrm.tui.widgets.board_column import BoardColumn

async def main():
    # What `smallcrm` does (smallcrm/cli/tui.py): the board read from the file, the store
    # (and the day's backup) opened on another thread after it.
    app = make_quick_app(get_db, Path(sys.argv[1]), refresh_seconds=0)
    async with app.run_test(size=(120, 40)):
        while True:
            screen = app.screen
            if isinstance(screen, BoardScreen) and any(c.leads for c in screen.query(BoardColumn)):
                break
            await asyncio.sleep(0.001)
        print("ready", flush=True)
        app.db.finish()
    app.db.dispose()

asyncio.run(main())
"""


FLOOR_CHILD = """
import asyncio, sys
from smallcrm.database import open_database
from textual.app import App
from textual.widgets import Footer, Static

class Minimal(App):
    def compose(self):
        yield Static("hello")
        yield Footer()

async def main():
    db = open_database(sys.argv[1])
    async with Minimal().run_test(size=(120, 40)):
        print("ready", flush=True)
    db.dispose()

asyncio.run(main())
"""

#: PYTHONDONTWRITEBYTECODE would make every child compile our modules from source, which an
#: installed smallcrm never does (site-packages, like the minimal app's imports, has .pyc files).
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cold_start(code: str, *args: str, until: str | None = None) -> float:
    """Seconds from starting a fresh interpreter until it prints `until` (or exits)."""
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=CHILD_ENV
    ) as child:
        assert child.stdout is not None
        if until is not None:
            for line in child.stdout:
                if line.strip() == until:
                    break
        elapsed = time.perf_counter() - started
        child.communicate()
    if child.returncode:
        raise RuntimeError(f"the benchmark child failed ({child.returncode})")
    return elapsed if until is not None else time.perf_counter() - started


def cold(db_path: Path, runs: int = 5) -> list[tuple[str, float, float, str]]:
    """Medians of `runs` fresh processes each, the three kinds taking turns."""
    cold_start(MINIMAL_CHILD)  # warm the disk cache and write any missing .pyc files
    cold_start(SMALLCRM_CHILD, str(db_path), until="ready")
    minimal, floor, ours = [], [], []
    for _ in range(runs):
        minimal.append(cold_start(MINIMAL_CHILD))
        floor.append(cold_start(FLOOR_CHILD, str(db_path), until="ready"))
        ours.append(cold_start(SMALLCRM_CHILD, str(db_path), until="ready"))
    minimal_s, floor_s, ours_s = (statistics.median(x) for x in (minimal, floor, ours))
    return [
        ("new process: minimal app start and exit", minimal_s * 1000, 0, "ms"),
        ("new process: smallcrm board filled", ours_s * 1000, 2 * minimal_s * 1000, "ms"),
        ("  … as a multiple of the minimal app", ours_s / minimal_s, 2.0, "x"),
        # For reference: the same minimal app after importing and opening the database stack,
        # the least any screen over this store can cost.
        ("  floor: minimal app after opening the database", floor_s * 1000, 0, "ms"),
        ("  … floor as a multiple of the minimal app", floor_s / minimal_s, 0, "x"),
    ]


def services(db_path: Path) -> list[tuple[str, float, float, str]]:
    """The database work behind each figure alone (what the worker threads do), best of 3."""
    from smallcrm import activities, contacts, followups, leads, timeline
    from smallcrm.store import open_db
    from smallcrm.tui.screens.board import CARDS_PER_STAGE
    from smallcrm.tui.screens.contacts import PAGE, SEARCH_ORDER
    from smallcrm.tui.screens.customer import PAGE as TIMELINE_PAGE

    def best(job: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            job()
            times.append(time.perf_counter() - started)
        return min(times) * 1000

    db = open_db(str(db_path))
    busy = str(tui_data.BUSY_CONTACT)
    try:
        rows = [
            ("  services: board", best(lambda: leads.board(db, per_stage=CARDS_PER_STAGE)),
             0, "ms"),
        ]  # fmt: skip
        for text in ("g", "gra", "grace", "grace l"):
            cost = best(
                lambda text=text: contacts.list_contacts(
                    db, search=text, order=SEARCH_ORDER, limit=PAGE + 1
                )
            )
            rows.append((f"  services: contacts matching {text!r}", cost, 150, "ms"))

        def next_page() -> None:
            page = contacts.list_contacts(db, limit=PAGE + 1, offset=PAGE)
            activities.last_activity_by_contact(db, [c.id for c in page])

        rows.append(("  services: contacts next page", best(next_page), 100, "ms"))

        def customer() -> None:
            contacts.get(db, busy)
            leads.list_leads(db, contact=busy, limit=50)
            followups.list_followups(db, contact=busy, limit=50)
            timeline.timeline(db, f"contact:{busy}", limit=TIMELINE_PAGE + 1)

        rows.append(("  services: customer page", best(customer), 500, "ms"))
        more = best(
            lambda: timeline.timeline(
                db, f"contact:{busy}", limit=TIMELINE_PAGE + 1, offset=TIMELINE_PAGE
            )
        )
        rows.append(("  services: timeline next page", more, 100, "ms"))
    finally:
        db.dispose()
    return rows


async def run(db_path: Path) -> list[tuple[str, float, float, str]]:
    from smallcrm.store import open_db
    from smallcrm.tui.app import make_app
    from smallcrm.tui.screens.board import BoardScreen
    from smallcrm.tui.screens.contacts import PAGE, ContactsScreen
    from smallcrm.tui.screens.customer import CustomerScreen
    from smallcrm.tui.widgets.board_column import BoardColumn
    from smallcrm.tui.widgets.timeline import TimelineList

    results: list[tuple[str, float, float, str]] = []
    minimal = statistics.median([await minimal_start_and_exit() for _ in range(5)])
    results.append(("in process: minimal app start and exit", minimal * 1000, 0, "ms"))

    db = open_db(str(db_path))
    try:
        started = time.perf_counter()
        app = make_app(db, refresh_seconds=0)
        async with app.run_test(size=SIZE) as pilot:

            def board_ready() -> bool:
                screen = app.screen
                if not isinstance(screen, BoardScreen) or screen.data is None:
                    return False
                return any(column.leads for column in screen.query(BoardColumn))

            ready = await _until(board_ready) - started
            # For reference only: a warm start leaves out the interpreter and Textual, the part
            # a person waits for; the new-process figures above are the ones with a budget.
            results.append(("in process: board filled", ready * 1000, 0, "ms"))
            results.append(("  … as a multiple of the minimal app", ready / minimal, 0, "x"))

            # Contacts: search as you type, one keystroke at a time.
            await pilot.press("c")
            await _until(lambda: isinstance(app.screen, ContactsScreen) and app.screen.page)
            screen = app.screen
            assert isinstance(screen, ContactsScreen)
            await pilot.press("f")
            timings = []
            typed = ""
            for key in "grace lov":
                typed += key
                await pilot.pause(0.2)  # a person types a few keys a second
                pressed = time.perf_counter()
                _keystroke(app, "space" if key == " " else key, key)
                done = await _until(
                    lambda text=typed: (
                        screen.page is not None and screen.page.search == text.strip()
                    )
                )
                timings.append((typed, (done - pressed) * 1000))
            for text, ms in timings:
                results.append((f"search keystroke → list updated ({text!r})", ms, 150, "ms"))

            # Next page of the contact list.
            await pilot.press("escape", "escape")
            await _until(lambda: screen.page is not None and screen.page.search == "")
            await _until(lambda: not screen._busy())  # noqa: SLF001
            screen.query_one("#contact-table").focus()
            await pilot.press("ctrl+end")
            await pilot.pause(0.3)
            pressed = time.perf_counter()
            await pilot.press("down")
            done = await _until(lambda: screen.page is not None and screen.page.offset == PAGE)
            results.append(("contacts: next page", (done - pressed) * 1000, 100, "ms"))

            # The customer with 5,000 activities.
            await pilot.pause(0.3)
            pressed = time.perf_counter()
            app.open_customer("contact", tui_data.BUSY_CONTACT)

            def customer_ready() -> bool:
                current = app.screen
                return isinstance(current, CustomerScreen) and current.data is not None

            done = await _until(customer_ready)
            results.append(("customer with 5,000 activities opens", (done - pressed) * 1000,
                            500, "ms"))  # fmt: skip
            customer = app.screen
            timeline = customer.query_one(TimelineList)
            loaded = len(timeline.entries)
            await pilot.pause(0.3)
            pressed = time.perf_counter()
            timeline.highlighted = loaded - 1
            done = await _until(lambda: len(timeline.entries) > loaded)
            results.append(("timeline: next page", (done - pressed) * 1000, 100, "ms"))
    finally:
        db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.append(("peak memory (max RSS of this process)", peak, 150, "MB"))
    return results


def main() -> int:
    check = "--check" in sys.argv[1:]  # exit 1 when a figure is over its budget
    os.environ.setdefault("SMALLCRM_USER", "rep 01")
    path = tui_data.build()
    results = cold(path)
    results += asyncio.run(run(path))
    results += services(path)
    failed = 0
    for name, value, budget, unit in results:
        verdict = ""
        if budget:
            ok = value <= budget
            failed += not ok
            verdict = f"  (budget {budget:.0f}{unit}: {'ok' if ok else 'OVER'})"
            if unit == "x":
                verdict = f"  (budget {budget:.1f}x: {'ok' if ok else 'OVER'})"
        shown = f"{value:.2f}x" if unit == "x" else f"{value:.0f} {unit}"
        print(f"{name:<52} {shown:>10}{verdict}")
    print(f"{len(results) - failed} within budget, {failed} over")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 1 if failed and check else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""A few deliberate layouts, on the fixed demo data with a frozen clock, at 80x24 and 120x40.

Update after an intended change with `pytest tests/tui/test_snapshots.py --snapshot-update`
and look at the SVGs in __snapshots__/ before committing them.
"""

from __future__ import annotations

import pytest

from smallcrm import leads

from .conftest import settle

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
def test_board(snap_compare, demo_db, make, size) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(make(demo_db), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_customer_timeline(snap_compare, demo_db, make, size) -> None:  # type: ignore[no-untyped-def]
    lead = leads.board(demo_db)[0].leads[0]
    app = make(demo_db)

    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        app.open_customer("contact", lead.contact_id)
        await settle(pilot)

    assert snap_compare(app, terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_agenda(snap_compare, demo_db, make, size) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(make(demo_db), terminal_size=size, run_before=ready)


@pytest.mark.parametrize("size", SIZES)
def test_contacts(snap_compare, demo_db, make, size) -> None:  # type: ignore[no-untyped-def]
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("down", "down")
        await settle(pilot)

    assert snap_compare(make(demo_db), terminal_size=size, run_before=ready)

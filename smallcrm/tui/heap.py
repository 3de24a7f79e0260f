"""Keeping the garbage collector from stalling the interface."""

from __future__ import annotations

import gc

#: The moments of this process whose heap was frozen already (see `freeze_heap`).
_FROZEN: set[str] = set()


def freeze_heap(moment: str) -> None:
    """Move every object alive now out of the cyclic garbage collector's sight, once per moment.

    The database stack, Textual and the first screen live as long as the process; a full
    collection that walks them all takes 50-100 ms, long enough to stall a keystroke. Frozen,
    they are skipped (reference counting still frees what becomes unreachable); only the
    objects made since are walked. Done once at start and once when the board first shows.
    """
    if moment not in _FROZEN:
        _FROZEN.add(moment)
        gc.freeze()

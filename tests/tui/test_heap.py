"""The garbage collector is kept from stalling the interface: what lives as long as the process
is frozen out of its sight, once."""

from __future__ import annotations

import gc

from smallcrm.tui import heap
from smallcrm.tui.show import update_static


def test_freeze_heap_freezes_once_per_moment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[str] = []
    monkeypatch.setattr(heap, "_FROZEN", set())
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    heap.freeze_heap("start")
    heap.freeze_heap("start")
    heap.freeze_heap("board")
    assert calls == ["freeze", "freeze"]


def test_update_static_redraws_only_what_changed() -> None:
    from textual.content import Content

    class Recorder:
        def __init__(self, width: object) -> None:
            self.updates: list[tuple[str, bool]] = []
            self.styles = type("S", (), {"width": width})()

        def update(self, content: Content, *, layout: bool = True) -> None:
            self.updates.append((content.plain, layout))

    widget = Recorder(None)  # sized by its content
    update_static(widget, Content("1–60 of 300"))  # type: ignore[arg-type]
    update_static(widget, Content("1–60 of 300"))  # type: ignore[arg-type]
    update_static(widget, Content("61–120 of 300"))  # type: ignore[arg-type]
    update_static(widget, Content("61–120 of 301"))  # type: ignore[arg-type]
    update_static(widget, Content.styled("61–120 of 301", "bold"))  # type: ignore[arg-type]
    assert widget.updates == [
        ("1–60 of 300", True),
        ("61–120 of 300", True),  # wider: the layout must make room
        ("61–120 of 301", False),  # as wide: only this line is redrawn
        ("61–120 of 301", False),  # a new style is a redraw too
    ]

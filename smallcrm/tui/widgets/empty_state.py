"""What an empty screen says instead of nothing: how to start."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

START_HERE = Content.assemble(
    ("Nothing here yet.", "bold"),
    "\n\nTo start:\n\n",
    ("  n", "bold $accent"),
    "   add your first contact here\n",
    ("  smallcrm import contacts FILE.csv", "bold $accent"),
    "\n      bring in a spreadsheet (from your shell)\n",
    ("  smallcrm demo", "bold $accent"),
    "\n      try a sample team CRM in its own database\n\n",
    ("Press ? for every key.", "$text-muted"),
)


class EmptyState(Static):
    """A friendly, actionable message shown where a list would be."""

    DEFAULT_CLASSES = "empty-state"

    def __init__(self, message: Content | None = None, *, id: str | None = None) -> None:
        super().__init__(message or START_HERE, id=id)

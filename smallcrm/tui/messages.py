"""Messages the app understands from anywhere, named in the past tense.

Messages that belong to one widget are nested in it (e.g. `BoardColumn.LeadChosen`).
"""

from __future__ import annotations

from textual.message import Message


class DataChanged(Message):
    """Something was saved: every screen reloads when it is shown next."""

    def __init__(self, kind: str, record_id: int | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id


class CustomerRequested(Message):
    """A person asked to open a contact's or company's page."""

    def __init__(self, kind: str, record_id: int) -> None:
        super().__init__()
        self.kind = kind
        self.record_id = record_id


class LeadRequested(Message):
    """A person asked to open a lead's page."""

    def __init__(self, lead_id: int) -> None:
        super().__init__()
        self.lead_id = lead_id

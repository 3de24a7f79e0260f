"""Importing leads, activities and follow-ups: records that refer to a contact or company.

A reference is a contact's email, an id or a unique name; one that matches nothing (or several)
makes the row invalid. Duplicates: leads by title, contact and company; activities by kind,
summary, time, contact and company; follow-ups by title, due time, contact and company.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from smallcrm import settings
from smallcrm.common import clean_text
from smallcrm.importing.cells import fold
from smallcrm.importing.kinds import Kind, RowError, extra_json, joined_tags, row_name, when_value
from smallcrm.importing.reading import Row
from smallcrm.textsafe import truncate, visible

_LEAD_STATUSES = {
    "open": "open", "won": "won", "lost": "lost", "closed won": "won", "closed lost": "lost",
    "closedwon": "won", "closedlost": "lost", "active": "open",
}  # fmt: skip
_FOLLOWUP_STATUSES = {
    "open": "open", "done": "done", "cancelled": "cancelled", "canceled": "cancelled",
    "completed": "done", "complete": "done", "not started": "open", "in progress": "open",
}  # fmt: skip


def _same(column: Any, value: Any) -> Any:
    return column == value if value else column.is_(None)


class Leads(Kind):
    kind = "leads"
    what = "lead"
    tag_kind = "lead"
    index_kind = "lead"
    columns = (
        "title", "contact_id", "company_id", "pipeline_id", "stage_id", "status", "value_minor",
        "currency", "probability", "expected_close", "owner_id", "lost_reason", "closed_at",
        "tags", "extra",
    )  # fmt: skip
    update_fields = (
        "stage_id", "status", "value_minor", "currency", "probability", "expected_close",
        "owner_id", "lost_reason",
    )  # fmt: skip
    dates = {"expected_close": date.fromisoformat, "closed_at": datetime.fromisoformat}

    def __init__(self, db: Any, on_duplicate: str) -> None:
        super().__init__(db, on_duplicate)
        self.stages: dict[tuple[str, str], tuple[int, int]] = {}

    def model(self) -> Any:
        from smallcrm.store.tables import Lead

        return Lead

    def stage(self, session: Any, pipeline_name: str, stage_name: str) -> tuple[int, int]:
        from smallcrm import pipeline

        key = (pipeline_name.strip().casefold(), stage_name.strip().casefold())
        if key not in self.stages:
            pipe = pipeline.resolve_pipeline(session, pipeline_name.strip() or None)
            stage = (
                pipeline.resolve_stage(session, pipe.id, stage_name)
                if stage_name.strip()
                else pipeline.stages_of(session, pipe.id)[0]
            )
            self.stages[key] = (pipe.id, stage.id)
        return self.stages[key]

    def prepare(self, session: Any, row: Row) -> tuple[str | None, str | None, list[Any]]:
        from smallcrm.leads import _probability
        from smallcrm.values import currency_code, parse_amount, parse_date

        values = row.values
        title = row_name(values.get("title"), "lead")
        contact = self.contact_ref(session, values)
        company_id = self.company_ref(session, values)
        if company_id is None and contact is not None:
            company_id = contact[1]
        contact_id = contact[0] if contact else None
        pipeline_id, stage_id = self.stage(
            session, values.get("pipeline", ""), values.get("stage", "")
        )
        status_text = values.get("status", "").strip().lower()
        status = _LEAD_STATUSES.get(status_text) if status_text else "open"
        if status is None:
            raise RowError(
                f"unknown status '{truncate(visible(status_text), 30)}'; use open, won or lost"
            )
        currency = (
            currency_code(values["currency"])
            if values.get("currency", "").strip()
            else settings.default_currency()
        )
        amount = values.get("value", "").strip()
        close = values.get("expected_close", "").strip()
        closed_at = when_value(values.get("closed_at"), "closed_at") if status != "open" else None
        return (
            f"{title.casefold()}\x1f{contact_id}\x1f{company_id}",
            None,
            [
                title, contact_id, company_id, pipeline_id, stage_id, status,
                parse_amount(amount, currency) if amount else 0, currency,
                _probability(values.get("probability", "").strip() or None),
                parse_date(close).isoformat() if close else None,
                self.owner(session, values.get("owner")),
                clean_text(values.get("lost_reason"), "lost reason") if status == "lost" else None,
                closed_at, joined_tags(values.get("tags")), extra_json(row),
            ],
        )  # fmt: skip

    def match(self, session: Any, staged: list[list[Any]]) -> Iterator[tuple[list[Any], int, str]]:
        from sqlalchemy import func
        from sqlmodel import select

        from smallcrm.store.tables import Lead

        for item in staged:
            title = self.value(item, "title")
            found = session.exec(
                select(Lead.id)
                .where(func.lower(Lead.title) == fold(title))
                .where(_same(Lead.contact_id, self.value(item, "contact_id")))
                .where(_same(Lead.company_id, self.value(item, "company_id")))
                .order_by(Lead.id)
            ).first()
            if found is not None:
                yield (
                    item,
                    found,
                    f"lead '{truncate(visible(title), 60)}' already exists (id {found})",
                )

    def inserts(self) -> dict[str, str]:
        plain = (
            "title", "contact_id", "company_id", "pipeline_id", "stage_id", "status",
            "value_minor", "currency", "probability", "expected_close", "lost_reason", "extra",
        )  # fmt: skip
        return {
            **{name: f'"{name}"' for name in plain},
            "owner_id": 'COALESCE(NULLIF("owner_id", 0), :me)',
            "closed_at": 'CASE WHEN "status" != \'open\' THEN COALESCE("closed_at", :now) END',
        }

    def constants(self, now: datetime) -> dict[str, Any]:
        return {"version": 1, "stage_entered_at": now, "created_at": now, "updated_at": now}

    def after_inserts(self, session: Any, scratch: Any, ids: range, me_id: int) -> None:
        """Each new lead's stage history: created, and won or lost when it came closed."""
        from smallcrm.store.bulk import Loader
        from smallcrm.store.tables import StageChange, now_utc

        table = StageChange.__table__
        columns = ["lead_id", "from_stage_id", "to_stage_id", "event", "changed_at", "user_id"]
        loader = Loader(session, table, columns)
        now = now_utc().isoformat()
        expressions = [
            ":base + ord", '"stage_id"', '"status"',
            "CASE WHEN \"status\" != 'open' THEN COALESCE(\"closed_at\", :now) END",
        ]  # fmt: skip
        params = {"base": ids.start, "now": now}
        for chunk in scratch.inserts(expressions, params):
            events = []
            for lead_id, stage_id, status, closed in chunk:
                events.append((lead_id, None, stage_id, "created", now, me_id))
                if status != "open":
                    events.append((lead_id, stage_id, None, status, closed, me_id))
            loader.run(events)


class Activities(Kind):
    kind = "activities"
    what = "activity"
    index_kind = "activity"
    columns = (
        "kind", "direction", "summary", "body", "occurred_at", "duration_min", "contact_id",
        "company_id", "lead_id", "user_id",
    )  # fmt: skip
    update_fields = ("direction", "body", "duration_min", "lead_id", "user_id")

    def model(self) -> Any:
        from smallcrm.store.tables import Activity

        return Activity

    def prepare(self, session: Any, row: Row) -> tuple[str | None, str | None, list[Any]]:
        from smallcrm.activities import DIRECTIONS, _duration
        from smallcrm.values import ACTIVITY_KINDS, choice

        values = row.values
        kind = (
            choice(values["kind"], ACTIVITY_KINDS, "activity kind") if "kind" in values else "note"
        )
        summary = row_name(values.get("summary"), "activity summary")
        occurred = when_value(values.get("occurred_at"), "occurred_at")
        if occurred is None:
            raise RowError("an activity needs a date (an occurred_at or date column)")
        direction = values.get("direction", "").strip()
        contact_id, company_id, lead = self.customer(session, values)
        return (
            f"{kind}\x1f{summary}\x1f{occurred}\x1f{contact_id}\x1f{company_id}",
            None,
            [
                kind, choice(direction, DIRECTIONS, "direction") if direction else None, summary,
                clean_text(values.get("body"), "body"), occurred,
                _duration(values.get("duration_min", "").strip() or None), contact_id,
                company_id, lead.id if lead is not None else None,
                self.owner(session, values.get("user")),
            ],
        )  # fmt: skip

    def match(self, session: Any, staged: list[list[Any]]) -> Iterator[tuple[list[Any], int, str]]:
        from sqlmodel import select

        from smallcrm.store.tables import Activity

        for item in staged:
            found = session.exec(
                select(Activity.id)
                .where(
                    Activity.occurred_at == datetime.fromisoformat(self.value(item, "occurred_at"))
                )
                .where(Activity.kind == self.value(item, "kind"))
                .where(Activity.summary == self.value(item, "summary"))
                .where(_same(Activity.contact_id, self.value(item, "contact_id")))
                .where(_same(Activity.company_id, self.value(item, "company_id")))
                .order_by(Activity.id)
            ).first()
            if found is not None:
                yield item, found, f"the same activity already exists (id {found})"

    def inserts(self) -> dict[str, str]:
        plain = (
            "kind", "direction", "summary", "body", "occurred_at", "duration_min", "contact_id",
            "company_id", "lead_id",
        )  # fmt: skip
        return {
            **{name: f'"{name}"' for name in plain},
            "user_id": 'COALESCE(NULLIF("user_id", 0), :me)',
        }

    def constants(self, now: datetime) -> dict[str, Any]:
        return {"created_at": now}


class Followups(Kind):
    kind = "followups"
    what = "follow-up"
    columns = (
        "title", "due_at", "status", "contact_id", "company_id", "lead_id", "owner_id", "done_at",
    )  # fmt: skip
    update_fields = ("status", "lead_id", "owner_id", "done_at")
    dates = {"done_at": datetime.fromisoformat}

    def model(self) -> Any:
        from smallcrm.store.tables import FollowUp

        return FollowUp

    def prepare(self, session: Any, row: Row) -> tuple[str | None, str | None, list[Any]]:
        values = row.values
        title = row_name(values.get("title"), "follow-up title")
        due = when_value(values.get("due_at"), "due_at")
        if due is None:
            raise RowError("a follow-up needs a due time (a due_at or due column)")
        status_text = values.get("status", "").strip().lower()
        status = _FOLLOWUP_STATUSES.get(status_text) if status_text else "open"
        if status is None:
            raise RowError(
                f"unknown status '{truncate(visible(status_text), 30)}'; "
                "use open, done or cancelled"
            )
        done_at = when_value(values.get("done_at"), "done_at") if status == "done" else None
        contact_id, company_id, lead = self.customer(session, values)
        return (
            f"{title.casefold()}\x1f{due}\x1f{contact_id}\x1f{company_id}",
            None,
            [
                title, due, status, contact_id, company_id, lead.id if lead is not None else None,
                self.owner(session, values.get("owner")), done_at,
            ],
        )  # fmt: skip

    def match(self, session: Any, staged: list[list[Any]]) -> Iterator[tuple[list[Any], int, str]]:
        from sqlalchemy import func
        from sqlmodel import select

        from smallcrm.store.tables import FollowUp

        for item in staged:
            found = session.exec(
                select(FollowUp.id)
                .where(FollowUp.due_at == datetime.fromisoformat(self.value(item, "due_at")))
                .where(func.lower(FollowUp.title) == fold(self.value(item, "title")))
                .where(_same(FollowUp.contact_id, self.value(item, "contact_id")))
                .where(_same(FollowUp.company_id, self.value(item, "company_id")))
                .order_by(FollowUp.id)
            ).first()
            if found is not None:
                yield item, found, f"the same follow-up already exists (id {found})"

    def inserts(self) -> dict[str, str]:
        plain = ("title", "due_at", "status", "contact_id", "company_id", "lead_id")
        return {
            **{name: f'"{name}"' for name in plain},
            "owner_id": 'COALESCE(NULLIF("owner_id", 0), :me)',
            "done_at": 'CASE WHEN "status" = \'done\' THEN COALESCE("done_at", :now) END',
        }

    def constants(self, now: datetime) -> dict[str, Any]:
        return {"version": 1, "created_at": now, "updated_at": now}

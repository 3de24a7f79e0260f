"""Pipelines and stages: the default pipeline, adding, renaming, reordering, removing stages."""

from __future__ import annotations

import pytest

from smallcrm import leads, pipeline
from smallcrm.errors import Duplicate, Invalid, NotFound
from smallcrm.store import Db

DEFAULT = ["New", "Contacted", "Qualified", "Proposal", "Negotiation"]


def stage_names(db: Db) -> list[str]:
    return [s.name for s in pipeline.list_stages(db)]


def test_default_pipeline(db: Db) -> None:
    assert pipeline.list_pipelines(db) == ["Sales"]
    stages = pipeline.list_stages(db)
    assert [s.name for s in stages] == DEFAULT
    assert [s.position for s in stages] == [1, 2, 3, 4, 5]
    assert all(s.pipeline == "Sales" for s in stages)
    probabilities = [s.probability for s in stages]
    assert probabilities == sorted(probabilities) and all(0 < p < 100 for p in probabilities)
    assert all(s.stale_days >= 1 for s in stages)


def test_list_stages_by_pipeline_name_or_id(db: Db) -> None:
    pipeline_id = pipeline.list_stages(db)[0].pipeline_id
    assert [s.name for s in pipeline.list_stages(db, "sales")] == DEFAULT
    assert [s.name for s in pipeline.list_stages(db, str(pipeline_id))] == DEFAULT
    for ref in ("Marketing", "999", "²", "9" * 40):
        with pytest.raises(NotFound):
            pipeline.list_stages(db, ref)


def test_resolve_stage_ignores_case_and_lists_stages_when_unknown(db: Db) -> None:
    with db.read() as session:
        pipe = pipeline.default_pipeline(session)
        assert pipeline.resolve_stage(session, pipe.id, " qUALIFIED ").name == "Qualified"
        with pytest.raises(Invalid) as caught:
            pipeline.resolve_stage(session, pipe.id, "Won")
    assert "New, Contacted, Qualified, Proposal, Negotiation" in str(caught.value)


def test_add_stage_at_the_end_and_at_a_position(db: Db) -> None:
    added = pipeline.add_stage(db, "Contract", probability=90, stale_days=5)
    assert (added.name, added.position, added.probability, added.stale_days) == (
        "Contract", 6, 90, 5,
    )  # fmt: skip
    first = pipeline.add_stage(db, "Lead In", position=1)
    assert first.position == 1
    assert stage_names(db) == ["Lead In", *DEFAULT, "Contract"]
    assert [s.position for s in pipeline.list_stages(db)] == list(range(1, 8))
    # Out-of-range positions are clamped.
    pipeline.add_stage(db, "Way Out", position=99)
    pipeline.add_stage(db, "Way In", position=-3)
    assert stage_names(db)[0] == "Way In" and stage_names(db)[-1] == "Way Out"


def test_add_stage_failures(db: Db) -> None:
    with pytest.raises(Duplicate):
        pipeline.add_stage(db, "new")
    with pytest.raises(Invalid):
        pipeline.add_stage(db, "  ")
    with pytest.raises(Invalid):
        pipeline.add_stage(db, "Odd", probability=101)
    with pytest.raises(Invalid):
        pipeline.add_stage(db, "Odd", probability=-1)
    with pytest.raises(Invalid):
        pipeline.add_stage(db, "Odd", stale_days=0)
    with pytest.raises(NotFound):
        pipeline.add_stage(db, "Odd", pipeline="Marketing")
    assert stage_names(db) == DEFAULT


def test_rename_stage(db: Db) -> None:
    lead = leads.add(db, "Deal", stage="proposal")
    renamed = pipeline.rename_stage(db, "PROPOSAL", "Quote")
    assert renamed.name == "Quote" and renamed.position == 4
    assert leads.get(db, str(lead.id)).stage == "Quote"
    assert pipeline.rename_stage(db, "quote", "QUOTE").name == "QUOTE"  # case only
    with pytest.raises(Duplicate):
        pipeline.rename_stage(db, "QUOTE", "new")
    with pytest.raises(Invalid):
        pipeline.rename_stage(db, "Nope", "Other")
    with pytest.raises(Invalid):
        pipeline.rename_stage(db, "QUOTE", "")


def test_move_stage(db: Db) -> None:
    assert pipeline.move_stage(db, "negotiation", 1) == [
        "Negotiation", "New", "Contacted", "Qualified", "Proposal",
    ]  # fmt: skip
    assert stage_names(db)[0] == "Negotiation"
    assert [s.position for s in pipeline.list_stages(db)] == [1, 2, 3, 4, 5]
    assert pipeline.move_stage(db, "Negotiation", 50)[-1] == "Negotiation"
    with pytest.raises(Invalid):
        pipeline.move_stage(db, "Nope", 1)


def test_moved_stages_change_the_board_order(db: Db) -> None:
    leads.add(db, "A", stage="New")
    leads.add(db, "B", stage="Negotiation")
    pipeline.move_stage(db, "Negotiation", 1)
    assert [lead.title for lead in leads.list_leads(db)] == ["B", "A"]


def test_remove_stage(db: Db) -> None:
    lead = leads.add(db, "Deal", stage="Qualified")
    with pytest.raises(Invalid, match="1 leads"):
        pipeline.remove_stage(db, "qualified")
    leads.move(db, str(lead.id), "Proposal")
    # The lead's history still names the stage it passed through, so removing it needs no
    # history rewrite; the stage-change rows simply lose the link.
    pipeline.remove_stage(db, "qualified")
    assert stage_names(db) == ["New", "Contacted", "Proposal", "Negotiation"]
    assert [s.position for s in pipeline.list_stages(db)] == [1, 2, 3, 4]
    with pytest.raises(Invalid):
        pipeline.remove_stage(db, "qualified")

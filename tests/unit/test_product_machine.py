"""The product machine (config/machines/product.yaml) and the stage catalogue agree."""

from __future__ import annotations

import pytest

from lendflow.domain.errors import Refused
from lendflow.lifecycle.catalog import STAGE_IDS, earlier
from lendflow.states.machine import machine

PRODUCT = machine("product")


def test_go_leads_through_the_stages_in_catalogue_order_then_live() -> None:
    chain = ["charter"]
    while chain[-1] != "live":
        chain.append(PRODUCT.table[(chain[-1], "go")])
    assert chain == [*STAGE_IDS, "live"]
    assert PRODUCT.table[("draft", "start")] == "charter"


def test_recycle_only_goes_back_to_an_earlier_stage() -> None:
    for (source, trigger), dest in PRODUCT.table.items():
        if trigger.startswith("recycle_to_"):
            assert dest == trigger.removeprefix("recycle_to_")
            assert dest in earlier(source)
    for stage in STAGE_IDS:
        for target in earlier(stage):
            assert PRODUCT.table[(stage, f"recycle_to_{target}")] == target


def test_every_stage_can_be_held_resumed_and_killed_and_kill_is_final() -> None:
    for stage in STAGE_IDS:
        held = PRODUCT.table[(stage, "hold")]
        assert held == f"{stage}_on_hold"
        assert PRODUCT.table[(held, "resume")] == stage
        assert PRODUCT.table[(stage, "kill")] == "killed"
        assert PRODUCT.table[(held, "kill")] == "killed"
    assert {"killed", "retired"} <= PRODUCT.definition.final_states
    assert not [key for key in PRODUCT.table if key[0] == "killed"]


def test_go_needs_every_criterion_passed_and_hold_a_note() -> None:
    with pytest.raises(Refused, match="not every automatic criterion of the gate passed"):
        PRODUCT.fire("design", "go", {"criteria_passed": False}, label="product anxin v1")
    assert PRODUCT.fire("design", "go", {"criteria_passed": True}).dest == "build_test"
    with pytest.raises(Refused, match="a hold needs a note"):
        PRODUCT.fire("research", "hold", {"note": "  "})
    assert PRODUCT.fire("research", "hold", {"note": "budget"}).dest == "research_on_hold"
    with pytest.raises(Refused, match="recycle_to_design needs build_test or launch"):
        PRODUCT.fire("research", "recycle_to_design")

"""The Stage-Gate engine through its services: runs, gates, four eyes, locking, events.

Stage work is stood in for by a fixed outcome here (the flows' own tests run the
real stages); what is under test is the order of stages, the gate rules and the
records they leave.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import BadInput, Conflict, Refused
from lendflow.lifecycle import gates
from lendflow.lifecycle import products as product_lifecycle
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import stage
from lendflow.lifecycle.inputs import capture_inputs, read_spec
from lendflow.lifecycle.results import StageOutcome, StageRunResult
from lendflow.loans import audit
from lendflow.products import catalogue as products
from lendflow.store import events
from lendflow.store.tables import product_versions
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.context import Workspace

DAY = date(2026, 2, 2)


def started(ws: Workspace, stage_id: str, user: str = "pm", code: str = "anxin"):  # type: ignore[no-untyped-def]
    inputs = capture_inputs(stage(stage_id), {}, use_samples=True)
    return stage_runs.start_run(ws, ws.actor(user), code, stage_id, inputs, DAY)


def outcome(passed: bool = True) -> StageOutcome:
    criteria = [
        Criterion("evidence_enough", True, "430 responses (at least 200)"),
        Criterion("apr_under_cap", passed, "highest APR 20.98% within the cap 24%"),
    ]
    return StageOutcome({"stage": "work"}, criteria, b"<html>report</html>", "html", [])


def run(ws: Workspace, stage_id: str, user: str = "pm", passed: bool = True) -> StageRunResult:
    return stage_runs.finish_run(ws, started(ws, stage_id, user), outcome(passed))


def decide(ws: Workspace, stage_id: str, decision: str, user: str = "committee1", **kw):  # type: ignore[no-untyped-def]
    return gates.decide(ws, ws.actor(user), "anxin", stage_id, decision, as_of=DAY, **kw)


def state(ws: Workspace, code: str = "anxin") -> str:
    view = product_lifecycle.product_pipeline(ws, ws.actor("auditor"), code)
    return str(view.state)


@pytest.fixture
def draft(ws: Workspace) -> Workspace:
    product_lifecycle.create_product(ws, ws.actor("pm"), "anxin", "安心借", DAY)
    return ws


def walk_to(ws: Workspace, last: str) -> None:
    """Run and pass every stage up to and including `last`'s gate."""
    for stage_id in ("charter", "research", "design"):
        run(ws, stage_id)
        decide(ws, stage_id, "go")
        if stage_id == last:
            return


def test_a_new_product_is_a_draft_whose_first_stage_is_the_charter(draft: Workspace) -> None:
    ws = draft
    assert state(ws) == "draft"
    with pytest.raises(Refused, match="anxin v1 is at the charter stage; research runs after"):
        started(ws, "research")
    result = run(ws, "charter")
    assert (result.state, result.criteria_passed) == ("charter", True)
    gate = gates.gate_view(ws, ws.actor("committee1"), "anxin")
    assert (gate.stage, gate.run, gate.run_by) == ("charter", result.run, "pm")


def test_creating_products_is_checked(draft: Workspace) -> None:
    ws = draft
    with pytest.raises(Refused, match="product anxin already exists"):
        product_lifecycle.create_product(ws, ws.actor("pm"), "anxin", "again", DAY)
    with pytest.raises(BadInput, match="product code must be"):
        product_lifecycle.create_product(ws, ws.actor("pm"), "Anxin Loan", "x", DAY)
    with pytest.raises(Refused, match=r"committee1 \(product_committee\) may not create products"):
        product_lifecycle.create_product(ws, ws.actor("committee1"), "other", "x", DAY)
    listed = product_lifecycle.list_products(ws, ws.actor("auditor"))
    assert {p.code: p.state for p in listed}["anxin"] == "draft"


def test_a_failed_run_leaves_the_product_where_it_was_and_the_stage_can_run_again(
    draft: Workspace,
) -> None:
    ws = draft
    attempt = started(ws, "charter")
    stage_runs.fail_run(ws, attempt, "charter.yaml: line 3: objective: Field required")
    assert state(ws) == "draft"
    history = stage_runs.stage_history(ws, ws.actor("auditor"), "anxin", "charter")
    assert [(r.status, r.error) for r in history.runs] == [
        ("failed", "charter.yaml: line 3: objective: Field required")
    ]
    with pytest.raises(Refused, match="anxin v1 is a draft; its charter must run before any gate"):
        decide(ws, "charter", "go")
    run(ws, "charter")
    assert state(ws) == "charter"


def test_four_eyes_and_only_the_committee_decides(draft: Workspace) -> None:
    ws = draft
    run(ws, "charter", user="head")
    with pytest.raises(Refused, match=r"user head ran charter \(run \d+\); another member"):
        decide(ws, "charter", "go", user="head")
    with pytest.raises(Refused, match=r"user pm \(product_manager\) may not decide product gates"):
        decide(ws, "charter", "go", user="pm")
    with pytest.raises(Refused, match="may not run product stages"):
        started(ws, "charter", user="committee1")
    assert decide(ws, "charter", "go", user="committee2").state == "research"


def test_failed_criteria_stop_go_and_the_stage_can_be_recycled(draft: Workspace) -> None:
    ws = draft
    walk_to(ws, "research")
    run(ws, "design", passed=False)
    with pytest.raises(Refused, match="cannot go: not every automatic criterion of the gate"):
        decide(ws, "design", "go")
    with pytest.raises(Refused, match="recycle only goes back: design can be recycled back to"):
        decide(ws, "design", "recycle", to="design", note="again")
    with pytest.raises(BadInput, match="recycle needs --to STAGE"):
        decide(ws, "design", "recycle")
    with pytest.raises(BadInput, match="only for recycle"):
        decide(ws, "design", "kill", to="charter")
    back = decide(ws, "design", "recycle", to="research", note="APR above the cap")
    assert (back.state, back.to_stage, back.criteria_passed) == (
        "research",
        "research",
        False,
    )
    with pytest.raises(Refused, match="research has no successful run waiting at its gate"):
        decide(ws, "research", "go")
    with pytest.raises(Refused, match="design runs after research passes its gate"):
        started(ws, "design")
    run(ws, "research")
    decide(ws, "research", "go")
    run(ws, "design")
    assert decide(ws, "design", "go").state == "build_test"


def test_kill_is_final(draft: Workspace) -> None:
    ws = draft
    run(ws, "charter")
    assert decide(ws, "charter", "kill", note="no sponsor").state == "killed"
    with pytest.raises(Refused, match="anxin v1 was killed; a kill is final"):
        decide(ws, "charter", "resume")
    with pytest.raises(Refused, match="anxin v1 was killed; a kill is final"):
        started(ws, "charter")
    stages = product_lifecycle.product_pipeline(ws, ws.actor("auditor"), "anxin").stages
    assert [s.status for s in stages][:2] == ["killed", "not started"]


def test_a_hold_needs_a_note_and_resumes_at_the_same_gate(draft: Workspace) -> None:
    ws = draft
    walk_to(ws, "charter")
    waiting = run(ws, "research").run
    with pytest.raises(Refused, match="a hold needs a note"):
        decide(ws, "research", "hold")
    assert decide(ws, "research", "hold", note="等待资金到位").state == "research_on_hold"
    with pytest.raises(Refused, match="on hold at the research gate; the committee must resume"):
        started(ws, "research")
    with pytest.raises(Refused, match="on hold at the research gate; resume or kill it"):
        decide(ws, "research", "go")
    resumed = decide(ws, "research", "resume", user="committee2")
    assert (resumed.state, resumed.run) == ("research", waiting)
    with pytest.raises(Refused, match="is not on hold"):
        decide(ws, "research", "resume")
    assert decide(ws, "research", "go").run == waiting


def test_a_design_that_goes_becomes_the_versions_spec(draft: Workspace) -> None:
    ws = draft
    walk_to(ws, "design")
    (spec_input,) = capture_inputs(stage("design"), {}, use_samples=True)
    spec = read_spec(spec_input, "anxin")
    versions = product_lifecycle.product_versions_view(ws, ws.actor("auditor"), "anxin")
    (v1,) = versions.versions
    assert (v1.state, v1.sha256, v1.gate_run) == ("build_test", spec_input.sha256, None)
    assert (v1.min_amount, v1.max_amount) == (spec.amount.min, spec.amount.max)
    assert v1.annual_rate == str(spec.rate.annual)
    stages = product_lifecycle.product_pipeline(ws, ws.actor("auditor"), "anxin").stages
    assert [(s.stage, s.status) for s in stages] == [
        ("charter", "passed"),
        ("research", "passed"),
        ("design", "passed"),
        ("build_test", "open"),
        ("launch", "not started"),
    ]
    assert stages[2].last_decision is not None
    assert stages[2].last_decision.decided_by == "committee1"


def test_a_run_that_finishes_after_the_product_moved_on_is_a_conflict(draft: Workspace) -> None:
    ws = draft
    slow, fast = started(ws, "charter"), started(ws, "charter")
    stage_runs.finish_run(ws, fast, outcome())
    decide(ws, "charter", "go")
    with pytest.raises(Conflict, match="anxin v1 changed while charter ran"):
        stage_runs.finish_run(ws, slow, outcome())
    assert state(ws) == "research"


def test_every_step_of_the_lifecycle_is_an_event_and_the_chain_holds(draft: Workspace) -> None:
    ws = draft
    failed = started(ws, "charter")
    stage_runs.fail_run(ws, failed, "bad file")
    run(ws, "charter")
    decide(ws, "charter", "go", note="ok")
    trail = run_in_transaction(ws.engine, lambda uow: events.for_entity(uow, "product", "anxin"))
    assert [(e["name"], e["trigger"], e["to_state"]) for e in trail] == [
        ("ProductCreated", "create", "draft"),
        ("StageRunStarted", None, None),
        ("StageRunFailed", None, None),
        ("StageRunStarted", None, None),
        ("StageRunSucceeded", "start", "charter"),
        ("GateDecided", "go", "research"),
    ]
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_reports_are_stored_with_their_runs(draft: Workspace) -> None:
    ws = draft
    first = run(ws, "charter").run
    view, report = stage_runs.stored_report(ws, ws.actor("auditor"), "anxin", "charter")
    assert (view.run, report) == (first, b"<html>report</html>")
    assert view.inputs[0].file == "samples/charter.yaml"
    assert view.inputs[0].from_samples is True


def test_versions_diff_field_by_field(ws: Workspace, tmp_path: Path) -> None:
    original = next(p for p in example_product_paths() if p.name == "cash-easy.yaml")
    changed = tmp_path / "cash-easy.yaml"
    changed.write_text(
        original.read_text(encoding="utf-8").replace('annual: "15.60"', 'annual: "16.20"'),
        encoding="utf-8",
    )
    products.import_product(ws, ws.actor("admin"), changed, activate=False, as_of=DAY)
    diff = product_lifecycle.diff_versions(ws, ws.actor("auditor"), "cash-easy", 1, 2)
    assert [c.model_dump() for c in diff.changes] == [
        {"field": "rate.annual", "from": "15.60", "to": "16.20"}
    ]
    assert any(line.startswith('+  annual: "16.20"') for line in diff.diff)
    states = [
        v.state
        for v in product_lifecycle.product_versions_view(
            ws, ws.actor("auditor"), "cash-easy"
        ).versions
    ]
    assert states == ["live", "draft"]
    live = run_in_transaction(
        ws.engine,
        lambda uow: uow.connection.execute(
            select(product_versions.c.state).where(product_versions.c.version == 1)
        ).all(),
    )
    assert ("live",) in live

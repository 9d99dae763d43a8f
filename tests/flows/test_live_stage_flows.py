"""Stages 5–7 and the monthly review, run for real under Prefect's test harness.

Stages 1–4 are stood in for as in the service tests (their own flows are tested
beside these); launch, operate and improve run as flows on the shipped samples.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lendflow.bootstrap import init_workspace
from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.flows.review import month_end_before, product_review
from lendflow.flows.runtime import workspace
from lendflow.flows.stages import stage_flow
from lendflow.flows.stages.improve import improve_stage
from lendflow.flows.stages.launch import launch_stage
from lendflow.flows.stages.operate import operate_stage
from lendflow.lifecycle import live_gates, live_stages
from lendflow.lifecycle import products as product_lifecycle
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import samples_folder
from lendflow.lifecycle.results import GateDecision
from lendflow.lifecycle.stages.launch.stage import education_material
from lendflow.loans import applications, disbursement
from lendflow.loans.applications import Application
from lendflow.store.tables import campaigns
from tests.service.lifecycle_walk import LAUNCHED, walk_to_launch

REVIEWED, IMPROVED = date(2026, 7, 31), date(2026, 8, 12)


@pytest.fixture
def at_launch(isolated_environment: Path) -> str:
    """A workspace whose product anxin waits to launch (stages 1–4 passed)."""
    init_workspace(Settings(home=isolated_environment))
    walk_to_launch(workspace())
    return "anxin"


def decide(code: str, stage: str, decision: str, on: date, **kw: str) -> GateDecision:
    ws = workspace()
    return live_gates.decide(ws, ws.actor("committee1"), code, stage, decision, as_of=on, **kw)


def state(code: str, version: int | None = None) -> str:
    ws = workspace()
    return str(product_lifecycle.product_pipeline(ws, ws.actor("auditor"), code, version).state)


def stored(code: str, stage: str) -> str:
    ws = workspace()
    return live_stages.stored_report(ws, ws.actor("auditor"), code, stage)[1].decode("utf-8")


def bad_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def lend(code: str, serial: int, on: date) -> int:
    ws = workspace()
    ops = ws.actor("ops")
    application = Application.parse(
        product=code,
        name="钱七",
        national_id=sample_national_id(date(1993, 6, 7), serial),
        phone="13512345678",
        monthly_income="11000",
        amount="8000",
        term=6,
        consents="all",
    )
    loan_id = applications.apply(ws, ops, application, on).id
    applications.start_review(ws, ops, loan_id, on)
    applications.approve(ws, ws.actor("risk"), loan_id, on)
    disbursement.disburse(ws, ops, loan_id, on)
    return loan_id


def test_the_launch_flow_plans_keeps_campaigns_and_educates_then_goes_live(at_launch: str) -> None:
    assert stage_flow("launch") is launch_stage
    result = launch_stage(code=at_launch, user="pm", as_of=LAUNCHED, samples=True)
    assert result["criteria_passed"] is True
    assert [s["name"] for s in result["samples"]] == ["channels", "campaigns"]
    report = stored(at_launch, "launch")
    assert "产品推广与市场营销" in report and "自有 App 与小程序" in report
    assert result["charts"] == 2 and report.count("<svg") == 2
    ws = workspace()
    with ws.engine.connect() as c:
        kept = c.execute(select(campaigns.c.code, campaigns.c.budget)).all()
    assert [tuple(k) for k in kept] == [
        ("first-loan-30", 30_000_000),
        ("referral-2026", 10_000_000),
    ]
    _, material = education_material(ws, ws.actor("auditor"), at_launch, "en", "md")
    assert b"# Anxin Loan: before you borrow" in material
    went = decide(at_launch, "launch", "go", LAUNCHED)
    assert (went.state, went.retired_versions) == ("live", ())


def test_bad_launch_inputs_fail_the_stage_with_file_line_and_problem(
    at_launch: str, tmp_path: Path
) -> None:
    channels = (samples_folder() / "channels.csv").read_text(encoding="utf-8")
    negative = bad_file(tmp_path, "channels.csv", channels.replace(",18.00,", ",-18.00,"))
    with pytest.raises(BadInput) as failed:
        launch_stage(
            code=at_launch, user="pm", as_of=LAUNCHED, inputs={"channels": negative}, samples=True
        )
    assert failed.value.message == (
        f"{negative}: line 3: cost_per_acquisition cannot be negative, got -18.00"
    )
    plan = (samples_folder() / "campaigns.yaml").read_text(encoding="utf-8")
    endless = bad_file(tmp_path, "campaigns.yaml", plan.replace("    ends_on: 2026-12-31\n", "", 1))
    line = plan.splitlines().index("  - code: first-loan-30") + 1
    with pytest.raises(BadInput) as failed:
        launch_stage(
            code=at_launch, user="pm", as_of=LAUNCHED, inputs={"campaigns": endless}, samples=True
        )
    assert failed.value.message == f"{endless}: line {line}: campaigns[0].ends_on: Field required"
    ws = workspace()
    runs = stage_runs.stage_history(ws, ws.actor("auditor"), at_launch, "launch").runs
    assert [r.status for r in runs] == ["failed", "failed"]
    assert runs[0].error is not None
    assert runs[0].error.endswith("line 3: cost_per_acquisition cannot be negative, got -18.00")
    assert state(at_launch) == "launch"
    with ws.engine.connect() as c:
        assert c.execute(select(campaigns.c.id)).all() == []


def test_operate_and_the_monthly_review_write_review_reports(at_launch: str) -> None:
    launch_stage(code=at_launch, user="pm", as_of=LAUNCHED, samples=True)
    decide(at_launch, "launch", "go", LAUNCHED)
    lend(at_launch, 1, date(2026, 7, 6))
    lend(at_launch, 2, date(2026, 7, 20))
    reviewed = product_review(as_of=REVIEWED)
    assert reviewed["as_of"] == "2026-07-31"
    assert [(r["code"], r["version"]) for r in reviewed["reviewed"]] == [("anxin", 1)]
    report = stored(at_launch, "operate")
    assert "运营管理与监控" in report and "16,000.00" in report and "<svg" in report
    ws = workspace()
    history = live_stages.stage_history(ws, ws.actor("auditor"), at_launch, "operate")
    assert [r.run_by for r in history.runs] == ["scheduler"]
    assert history.at_gate == reviewed["reviewed"][0]["run"]
    kept = decide(at_launch, "operate", "go", REVIEWED)
    assert (kept.state, kept.decided_by) == ("live", "committee1")
    again = operate_stage(code=at_launch, user="pm", as_of=date(2026, 8, 31))
    assert (again["stage"], again["state"]) == ("operate", "live")
    with pytest.raises(Refused, match="the review of 2026-07-31 failed for nosuch"):
        product_review(as_of=REVIEWED, products=["nosuch"])


def test_the_review_reviews_the_month_before_it_was_scheduled() -> None:
    # 02:00 on 1 August in Shanghai is 18:00 on 31 July in UTC: the month reviewed is July.
    assert month_end_before(datetime(2026, 7, 31, 18, 0, tzinfo=UTC)) == date(2026, 7, 31)
    assert month_end_before(datetime(2026, 3, 1, 2, 0, tzinfo=UTC)) == date(2026, 2, 28)


def test_the_improve_flow_opens_the_next_version_through_a_recycle(
    at_launch: str, tmp_path: Path
) -> None:
    launch_stage(code=at_launch, user="pm", as_of=LAUNCHED, samples=True)
    decide(at_launch, "launch", "go", LAUNCHED)
    lend(at_launch, 3, date(2026, 7, 6))
    feedback = (samples_folder() / "feedback.csv").read_text(encoding="utf-8")
    lines = feedback.splitlines()
    fields = lines[3].split(",")
    fields[2] = "6"
    lines[3] = ",".join(fields)
    out_of_range = bad_file(tmp_path, "feedback.csv", "\n".join(lines) + "\n")
    with pytest.raises(BadInput) as failed:
        improve_stage(
            code=at_launch,
            user="pm",
            as_of=IMPROVED,
            inputs={"feedback": out_of_range},
            samples=True,
        )
    assert failed.value.message == f"{out_of_range}: line 4: rating must be between 1 and 5, got 6"
    assert state(at_launch) == "live"
    result = improve_stage(code=at_launch, user="pm", as_of=IMPROVED, samples=True)
    assert result["criteria_passed"] is True
    report = stored(at_launch, "improve")
    assert "反馈与改进机制" in report and "净推荐值" in report and "标准年利率" in report
    ws = workspace()
    plan = live_stages.run_outputs(ws, ws.actor("auditor"), at_launch, "improve")[1]["plan"]
    assert plan["changes"][0]["path"] == "rate.annual"  # 标准年利率 in the report
    opened = decide(at_launch, "improve", "recycle", IMPROVED, to="design")
    assert opened.opened_version is not None
    assert opened.opened_version.version == 2
    assert (state(at_launch, 1), state(at_launch, 2)) == ("live", "design")


def test_version_2_goes_through_design_and_build_test_while_version_1_lends(
    isolated_environment: Path, tmp_path: Path
) -> None:
    """Every stage a real flow: v1 from its charter to live, then v2 from the improvement."""
    from lendflow.flows.stages.build_test import build_test_stage
    from lendflow.flows.stages.charter import charter_stage
    from lendflow.flows.stages.design import design_stage
    from lendflow.flows.stages.research import research_stage
    from lendflow.lifecycle.stages.improve.stage import version_spec

    init_workspace(Settings(home=isolated_environment))
    ws = workspace()
    code = "anxin"
    product_lifecycle.create_product(ws, ws.actor("pm"), code, "安心借", date(2026, 1, 5))
    for flow_of, on in (
        (charter_stage, date(2026, 1, 6)),
        (research_stage, date(2026, 1, 20)),
        (design_stage, date(2026, 2, 2)),
        (build_test_stage, date(2026, 2, 16)),
        (launch_stage, LAUNCHED),
    ):
        result = flow_of(code=code, user="pm", as_of=on, samples=True)
        assert result["criteria_passed"] is True, result["criteria"]
        decide(code, result["stage"], "go", on)
    v1_loans = [lend(code, 10, date(2026, 7, 6)), lend(code, 11, date(2026, 7, 20))]
    improve_stage(code=code, user="pm", as_of=IMPROVED, samples=True)
    decide(code, "improve", "recycle", IMPROVED, to="design")
    proposed = tmp_path / "anxin-v2.yaml"
    proposed.write_text(version_spec(ws, ws.actor("pm"), code, 2)[0], encoding="utf-8")

    designed = design_stage(
        code=code, user="pm", as_of=date(2026, 8, 20), inputs={"spec": str(proposed)}
    )
    assert designed["criteria_passed"] is True, designed["criteria"]
    decide(code, "design", "go", date(2026, 8, 20))
    assert loan_version(lend(code, 12, date(2026, 8, 25))) == 1  # v1 still lends
    built = build_test_stage(code=code, user="pm", as_of=date(2026, 9, 1))
    assert built["criteria_passed"] is True, built["criteria"]
    decide(code, "build_test", "go", date(2026, 9, 1))
    before = loan_snapshot(v1_loans)
    relaunched = launch_stage(code=code, user="pm", as_of=date(2026, 9, 15), samples=True)
    assert relaunched["version"] == 2
    went = decide(code, "launch", "go", date(2026, 9, 15))
    assert (went.version, went.retired_versions) == (2, (1,))
    assert (state(code, 1), state(code, 2)) == ("retired", "live")
    assert loan_version(lend(code, 13, date(2026, 9, 16))) == 2
    assert loan_snapshot(v1_loans) == before


def loan_version(loan_id: int) -> int:
    from lendflow.store.tables import loans, product_versions

    with workspace().engine.connect() as c:
        return int(
            c.execute(
                select(product_versions.c.version)
                .join(loans, loans.c.product_version_id == product_versions.c.id)
                .where(loans.c.id == loan_id)
            ).scalar_one()
        )


def loan_snapshot(loan_ids: list[int]) -> list[dict]:  # type: ignore[type-arg]
    from lendflow.store.tables import instalments, loans

    with workspace().engine.connect() as c:
        rows = c.execute(select(loans).where(loans.c.id.in_(loan_ids))).mappings()
        plan = c.execute(select(instalments).where(instalments.c.loan_id.in_(loan_ids)))
        return [dict(r) for r in rows] + [dict(r) for r in plan.mappings()]

"""Stage 4, build and test, run for real under Prefect's test harness on the sample product."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import pytest

from lendflow.bootstrap import init_workspace
from lendflow.config.settings import Settings
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import Refused
from lendflow.flows.runtime import workspace
from lendflow.flows.stages import stage_flow
from lendflow.flows.stages.build_test import build_test_stage
from lendflow.flows.stages.charter import charter_stage
from lendflow.flows.stages.design import design_stage
from lendflow.flows.stages.research import research_stage
from lendflow.lifecycle import gates, live_stages
from lendflow.lifecycle import products as product_lifecycle
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.reports import render
from lendflow.lifecycle.results import RunContext
from lendflow.lifecycle.stages.build_test import build_test_report
from lendflow.lifecycle.stages.design import documents as design_documents
from lendflow.loans import views as loan_views

CHARTER_DAY, RESEARCH_DAY, DESIGN_DAY = date(2026, 1, 6), date(2026, 1, 20), date(2026, 2, 2)
BUILD_DAY = date(2026, 2, 16)
CHECKS = [
    "sandbox_built",
    "automated_approve",
    "automated_reject",
    "refer_then_officer_approve",
    "withdraw",
    "disburse",
    "repay_on_time",
    "late_then_cured",
    "default_and_write_off",
    "prepay",
    "audit_verify_clean",
    "schedules_sum_to_principal",
    "states_in_loan_machine",
    "balances_equal_journal",
    "personal_data_encrypted",
    "personal_data_masked",
    "roles_refused",
    "sql_injection_inert",
    "script_injection_escaped",
    "template_injection_inert",
    "oversized_values_rejected",
]


@pytest.fixture
def designed(isolated_environment: Path) -> str:
    """The sample product anxin, its design passed: waiting to be built and tested."""
    init_workspace(Settings(home=isolated_environment))
    ws = workspace()
    product_lifecycle.create_product(ws, ws.actor("pm"), "anxin", "安心借", CHARTER_DAY)
    for stage_flow_, on in (
        (charter_stage, CHARTER_DAY),
        (research_stage, RESEARCH_DAY),
        (design_stage, DESIGN_DAY),
    ):
        result = stage_flow_(code="anxin", user="pm", as_of=on, samples=True)
        assert result["criteria_passed"], result["criteria"]
        gates.decide(ws, ws.actor("committee1"), "anxin", result["stage"], "go", as_of=on)
    return "anxin"


def test_build_test_runs_the_sample_product_through_every_check(designed: str) -> None:
    assert stage_flow("build_test") is build_test_stage
    result = build_test_stage(code=designed, user="pm", as_of=BUILD_DAY, samples=True)
    assert result["samples"] == []
    failed = [c for c in result["criteria"] if not c["passed"]]
    assert failed == []
    assert [c["name"] for c in result["criteria"]] == CHECKS
    figures = {c["name"]: c["figure"] for c in result["criteria"]}
    assert figures["late_then_cured"].startswith(
        "loan 2 missed its 2025-04-07 repayment: on 2025-04-17 it was overdue at dpd 9 (M1,"
    )
    assert "written off on 2025-10-05 past 180 dpd" in figures["default_and_write_off"]
    assert figures["roles_refused"].startswith("10 of 10 refused by role, nothing changed")

    ws = workspace()
    auditor = ws.actor("auditor")
    view, report = stage_runs.stored_report(ws, auditor, designed, "build_test")
    html = report.decode("utf-8")
    assert "系统开发与测试" in html and "功能测试中的贷款" in html
    assert html.count("通过") >= len(CHECKS)
    assert "<script>alert" not in html
    _, outputs = live_stages.run_outputs(ws, auditor, designed, "build_test")
    criteria = [Criterion.from_dict(c.model_dump()) for c in view.criteria]
    ctx = RunContext(view.run, designed, "安心借", 1, "build_test", "pm", BUILD_DAY, "en")
    english = render(build_test_report(ctx, outputs, criteria)).decode("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in english and "<script>alert" not in english
    pipeline = product_lifecycle.product_pipeline(ws, auditor, designed)
    assert (pipeline.state, pipeline.gate_run) == ("build_test", view.run)
    assert loan_views.list_loans(ws, auditor) == []  # the sandbox's loans never reach the book

    decided = gates.decide(
        ws, ws.actor("committee2"), designed, "build_test", "go", as_of=BUILD_DAY
    )
    assert (decided.from_state, decided.state) == ("build_test", "launch")


def test_build_test_waits_for_a_design_that_passed(isolated_environment: Path) -> None:
    init_workspace(Settings(home=isolated_environment))
    ws = workspace()
    product_lifecycle.create_product(ws, ws.actor("pm"), "anxin", "安心借", CHARTER_DAY)
    with pytest.raises(Refused, match="build_test runs after design passes its gate"):
        build_test_stage(code="anxin", user="pm", as_of=BUILD_DAY)


def test_the_design_run_keeps_the_documents_it_checked(designed: str) -> None:
    ws = workspace()
    auditor = ws.actor("auditor")
    kept = design_documents.stored_documents(ws, auditor, designed)
    assert [(d["kind"], d["locale"]) for d in kept] == [
        (kind, locale)
        for kind in ("brochure", "contract", "risk-disclosure")
        for locale in ("zh-CN", "en")
    ]
    for document in kept:
        content = document["content"].encode("utf-8")
        assert hashlib.sha256(content).hexdigest() == document["sha256"]
        assert len(content) == document["size"]
    assert "借款合同（范本）" in kept[2]["content"] and "安心借" in kept[2]["content"]
    report = stage_runs.stored_report(ws, auditor, designed, "design")[1].decode("utf-8")
    assert "产品文件" in report and "anxin-v1-contract.zh-CN.html" in report
    assert all(d["sha256"] in report for d in kept)

"""The stage flows, run for real under Prefect's test harness on the shipped samples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from prefect import flow, task

from lendflow.bootstrap import init_workspace
from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput, Refused
from lendflow.flows.runtime import workspace
from lendflow.flows.stages import stage_flow
from lendflow.flows.stages.charter import charter_stage
from lendflow.flows.stages.design import design_stage
from lendflow.flows.stages.research import research_stage
from lendflow.flows.stages.steps import STEP
from lendflow.lifecycle import gates
from lendflow.lifecycle import products as product_lifecycle
from lendflow.lifecycle import runs as stage_runs
from lendflow.lifecycle.catalog import samples_folder

CHARTER_DAY, RESEARCH_DAY, DESIGN_DAY = date(2026, 1, 6), date(2026, 1, 20), date(2026, 2, 2)


@pytest.fixture
def anxin(isolated_environment: Path) -> str:
    """A workspace with the draft product anxin."""
    init_workspace(Settings(home=isolated_environment))
    ws = workspace()
    product_lifecycle.create_product(ws, ws.actor("pm"), "anxin", "安心借", CHARTER_DAY)
    return "anxin"


def go(code: str, stage: str, on: date) -> None:
    ws = workspace()
    gates.decide(ws, ws.actor("committee1"), code, stage, "go", as_of=on)


def report(code: str, stage: str) -> str:
    ws = workspace()
    return stage_runs.stored_report(ws, ws.actor("auditor"), code, stage)[1].decode("utf-8")


def where(code: str) -> tuple[str, int | None]:
    ws = workspace()
    view = product_lifecycle.product_pipeline(ws, ws.actor("auditor"), code)
    return view.state, view.gate_run


def to_research(code: str) -> None:
    charter_stage(code=code, user="pm", as_of=CHARTER_DAY, samples=True)
    go(code, "charter", CHARTER_DAY)


def test_each_stage_flow_runs_on_the_samples_and_stores_its_report(anxin: str) -> None:
    charter = charter_stage(code=anxin, user="pm", as_of=CHARTER_DAY, samples=True)
    assert (charter["state"], charter["criteria_passed"]) == ("charter", True)
    assert charter["samples"] == [{"name": "charter", "file": "samples/charter.yaml"}]
    document = report(anxin, "charter")
    assert "制定目的及范围" in document and "新市民" in document
    go(anxin, "charter", CHARTER_DAY)

    research = research_stage(code=anxin, user="pm", as_of=RESEARCH_DAY, samples=True)
    assert research["criteria_passed"] is True
    assert [c["name"] for c in research["criteria"]] == [
        "survey_sample_size",
        "target_segments_covered",
        "competitors_benchmarked",
        "market_history",
        "market_growing",
    ]
    document = report(anxin, "research")
    assert research["charts"] == 5 and document.count("<svg") == 5
    assert "市场调研与需求分析" in document and "鼎泰银行" in document
    go(anxin, "research", RESEARCH_DAY)

    design = design_stage(code=anxin, user="pm", as_of=DESIGN_DAY, samples=True)
    assert design["criteria_passed"] is True
    assert len(design["criteria"]) == 10
    document = report(anxin, "design")
    assert "rate_above_pricing_floor" in [c["name"] for c in design["criteria"]]
    assert "利率不低于定价底线" in document and "<svg" in document
    assert where(anxin) == ("design", design["run"])


def test_the_flows_are_found_by_stage(anxin: str) -> None:
    assert stage_flow("research") is research_stage
    assert stage_flow("no_such_stage") is None


def bad_file(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_bad_inputs_fail_the_stage_with_file_line_and_problem(anxin: str, tmp_path: Path) -> None:
    to_research(anxin)
    survey = (samples_folder() / "survey.csv").read_text(encoding="utf-8")
    header, _, rows = survey.partition("\n")
    lines = rows.splitlines()
    fields = lines[2].split(",")
    fields[6] = "n/a"
    lines[2] = ",".join(fields)
    cases = [
        (
            bad_file(tmp_path, "no-income.csv", header.replace(",monthly_income", "") + "\n"),
            "no-income.csv: line 1: missing column monthly_income",
        ),
        (
            bad_file(tmp_path, "text-income.csv", header + "\n" + "\n".join(lines) + "\n"),
            "text-income.csv: line 4: monthly_income is not an amount: 'n/a'",
        ),
        (bad_file(tmp_path, "empty.csv", ""), "empty.csv: the file is empty"),
    ]
    for path, message in cases:
        with pytest.raises(BadInput) as failed:
            research_stage(
                code=anxin, user="pm", as_of=RESEARCH_DAY, inputs={"survey": path}, samples=True
            )
        assert failed.value.message.startswith(f"{path}")
        assert message in failed.value.message
        assert where(anxin) == ("research", None)
    ws = workspace()
    runs = stage_runs.stage_history(ws, ws.actor("auditor"), anxin, "research").runs
    assert [r.status for r in runs] == ["failed"] * 3
    assert runs[1].error is not None
    assert runs[1].error.endswith(
        "line 4: monthly_income is not an amount: 'n/a' (use digits like 1000 or 1000.50)"
    )

    research_stage(code=anxin, user="pm", as_of=RESEARCH_DAY, samples=True)
    go(anxin, "research", RESEARCH_DAY)
    spec = (samples_folder() / "product-spec.yaml").read_text(encoding="utf-8")
    unknown = bad_file(
        tmp_path, "spec.yaml", spec.replace("kind: consumer\n", "kind: consumer\nflavour: mint\n")
    )
    line = spec.splitlines().index("kind: consumer") + 2
    with pytest.raises(BadInput) as failed:
        design_stage(code=anxin, user="pm", as_of=DESIGN_DAY, inputs={"spec": unknown})
    assert (
        failed.value.message == f"{unknown}: line {line}: flavour: Extra inputs are not permitted"
    )
    assert where(anxin) == ("design", None)


def test_a_design_over_the_apr_cap_fails_its_gate_and_goes_back(anxin: str, tmp_path: Path) -> None:
    to_research(anxin)
    research_stage(code=anxin, user="pm", as_of=RESEARCH_DAY, samples=True)
    go(anxin, "research", RESEARCH_DAY)
    spec = (samples_folder() / "product-spec.yaml").read_text(encoding="utf-8")
    dear = bad_file(tmp_path, "dear.yaml", spec.replace('max: "19.20"', 'max: "30.00"'))
    result = design_stage(code=anxin, user="pm", as_of=DESIGN_DAY, inputs={"spec": dear})
    failed = [c for c in result["criteria"] if not c["passed"]]
    assert [c["name"] for c in failed] == ["apr_under_cap"]
    assert "exceeds the cap 24%" in failed[0]["figure"]
    assert "FAIL" in report(anxin, "design") or "未通过" in report(anxin, "design")
    ws = workspace()
    with pytest.raises(Refused, match="not every automatic criterion of the gate passed"):
        gates.decide(ws, ws.actor("committee1"), anxin, "design", "go", as_of=DESIGN_DAY)
    back = gates.decide(
        ws,
        ws.actor("committee1"),
        anxin,
        "design",
        "recycle",
        to="research",
        note="price over the APR cap",
        as_of=DESIGN_DAY,
    )
    assert back.state == "research"


def test_a_step_retries_chance_failures_but_not_bad_input() -> None:
    calls = {"flaky": 0, "bad": 0}
    quick = {**STEP, "retry_delay_seconds": 0}

    @task(**quick)
    def flaky() -> str:
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise OSError("database is locked")
        return "done"

    @task(**quick)
    def bad() -> None:
        calls["bad"] += 1
        raise BadInput("survey.csv: line 2: age is not a whole number: 'x'")

    @flow
    def probe() -> str:
        first = flaky.submit().result()
        with pytest.raises(BadInput):
            bad.submit().result()
        return str(first)

    assert probe() == "done"
    assert calls == {"flaky": 2, "bad": 1}

"""The design gate's checks, on the shipped research: each names its figure when it fails."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import pytest

from lendflow.config.policy import load_policy
from lendflow.config.product_spec import ProductSpec
from lendflow.config.settings import Settings
from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import Problems
from lendflow.lifecycle.catalog import samples_folder, stage
from lendflow.lifecycle.inputs import (
    capture_inputs,
    read_charter,
    read_competitors,
    read_market,
    read_spec,
    read_survey,
)
from lendflow.lifecycle.stages.charter import charter_outputs
from lendflow.lifecycle.stages.design import checks as design_checks
from lendflow.lifecycle.stages.design.checks import (
    DesignContext,
    register_design_check,
    run_design_checks,
)
from lendflow.lifecycle.stages.research import competitor_benchmark, market_trends, target_customers
from lendflow.workspace.context import Workspace

POLICY = load_policy()
DESIGN_DAY = date(2026, 2, 2)
CHECKS = [
    "amount_in_demand_band",
    "apr_under_cap",
    "apr_against_competitors",
    "instalment_affordable",
    "rate_above_pricing_floor",
    "policy_limits",
    "risk_controls_valid",
    "overdue_strategy_valid",
    "loan_process_defined",
    "documents_complete",
]


@pytest.fixture(scope="module")
def evidence() -> tuple[dict, dict]:  # type: ignore[type-arg]
    charter = read_charter(capture_inputs(stage("charter"), {}, use_samples=True)[0])
    survey, rivals, market = capture_inputs(stage("research"), {}, use_samples=True)
    segments = [s.code for s in charter.target_segments]
    rows = read_survey(survey)
    research = {
        "customers": target_customers(rows, segments, POLICY.affordability.limit_for("anxin")),
        "competitors": competitor_benchmark(
            read_competitors(rivals), rows, segments, POLICY.apr_cap.limit
        ),
        "market": market_trends(read_market(market)),
    }
    return charter_outputs(charter), research


def spec(replace: tuple[str, str] | None = None) -> ProductSpec:
    (source,) = capture_inputs(stage("design"), {}, use_samples=True)
    if replace is not None:
        assert source.text.count(replace[0]) == 1
        source = dataclasses.replace(source, text=source.text.replace(*replace))
    return read_spec(source, "anxin")


def checked(
    evidence, product: ProductSpec, workspace: Workspace | None = None
) -> dict[str, Criterion]:  # type: ignore[no-untyped-def]
    charter, research = evidence
    context = DesignContext(
        "anxin", product, "spec.yaml", charter, research, POLICY, workspace, 1, DESIGN_DAY
    )
    return {c.name: c for c in run_design_checks(context)}


def failed(results: dict[str, Criterion]) -> list[str]:
    return [name for name, c in results.items() if not c.passed]


def test_the_sample_design_passes_every_check_in_order(evidence) -> None:  # type: ignore[no-untyped-def]
    results = checked(evidence, spec())
    assert list(results) == CHECKS
    assert all(c.passed for c in results.values()), [c for c in results.values() if not c.passed]
    assert results["instalment_affordable"].figure == (
        "largest loan 18,000.00 over 24 repayments at 16.80% costs 888.30 a month; affordable"
        " at median income: new_citizens 2,325.00, gig_workers 2,800.00"
    )


def test_a_rate_above_the_apr_cap_fails_its_check_with_the_figure(evidence) -> None:  # type: ignore[no-untyped-def]
    results = checked(evidence, spec(('max: "19.20"', 'max: "30.00"')))
    failed = [name for name, c in results.items() if not c.passed]
    assert failed == ["apr_under_cap"]
    figure = results["apr_under_cap"].figure
    assert figure.startswith("highest APR 34.")
    assert figure.endswith("exceeds the cap 24%")


def test_a_largest_loan_beyond_the_segments_means_fails_affordability(evidence) -> None:  # type: ignore[no-untyped-def]
    results = checked(evidence, spec(("terms: [6, 12, 18, 24]", "terms: [3, 6]")))
    failed = [name for name, c in results.items() if not c.passed]
    assert failed == ["instalment_affordable"]
    assert results["instalment_affordable"].figure.endswith(
        "beyond the means of new_citizens, gig_workers"
    )


def test_amounts_outside_the_demand_band_fail(evidence) -> None:  # type: ignore[no-untyped-def]
    result = checked(evidence, spec(('max: "18000.00"', 'max: "50000.00"')))
    band = result["amount_in_demand_band"]
    assert not band.passed
    assert "max 50,000.00 is above the band's high end 19,000.00" in band.figure


def test_a_price_under_the_floor_or_without_assumptions_fails(evidence) -> None:  # type: ignore[no-untyped-def]
    risky = checked(
        evidence, spec(('probability_of_default: "4.50"', 'probability_of_default: "9.00"'))
    )
    floor = risky["rate_above_pricing_floor"]
    assert not floor.passed
    assert "below the floor 17.05%" in floor.figure
    bare = spec()
    bare = bare.model_copy(update={"pricing": None})
    unpriced = checked(evidence, bare)["rate_above_pricing_floor"]
    assert not unpriced.passed and "states no pricing assumptions" in unpriced.figure


def test_the_design_gate_takes_further_registered_checks(
    evidence, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(design_checks, "DESIGN_CHECKS", list(design_checks.DESIGN_CHECKS))
    register_design_check(
        "channel_partner_vetted",
        lambda ctx: Criterion("channel_partner_vetted", False, "no partner"),
    )
    results = checked(evidence, spec())
    assert list(results) == [*CHECKS, "channel_partner_vetted"]
    assert not results["channel_partner_vetted"].passed
    with pytest.raises(ValueError, match="already registered"):
        register_design_check("apr_under_cap", design_checks.apr_under_cap)


def test_a_design_without_its_scorecard_fails_the_risk_controls(evidence) -> None:  # type: ignore[no-untyped-def]
    results = checked(evidence, spec(("scorecard: consumer-v1 ", "scorecard: null ")))
    assert failed(results) == ["risk_controls_valid"]
    assert results["risk_controls_valid"].figure.startswith(
        "the spec names no scorecard: automated review cannot decide"
    )
    unknown = checked(evidence, spec(("challenger: consumer-v2", "challenger: consumer-v9")))
    assert failed(unknown) == ["risk_controls_valid"]
    assert "challenger: no scorecard or decision table 'consumer-v9'" in (
        unknown["risk_controls_valid"].figure
    )


def test_a_grade_the_table_gives_without_a_price_fails_the_risk_controls(evidence) -> None:  # type: ignore[no-untyped-def]
    results = checked(evidence, spec((', E: "19.20"}', "}")))
    assert failed(results) == ["risk_controls_valid"]
    assert results["risk_controls_valid"].figure == (
        "rate.by_grade: grade E of consumer-rules-v1 has no rate"
    )


def test_an_overdue_strategy_without_penalty_terms_fails(evidence) -> None:  # type: ignore[no-untyped-def]
    bare = spec().model_copy(update={"penalty": None})
    results = checked(evidence, bare)
    assert "overdue_strategy_valid" in failed(results)
    assert results["overdue_strategy_valid"].figure.endswith(
        "; no penalty terms (penalty: annual_rate, base)"
    )
    early = checked(evidence, spec(("write_off_dpd: 180", "write_off_dpd: 60")))
    assert failed(early) == ["overdue_strategy_valid"]
    assert "write-off at 60 dpd comes before the last bucket M3+ (from 91 dpd)" in (
        early["overdue_strategy_valid"].figure
    )


def test_a_design_without_a_coherent_loan_process_fails(evidence) -> None:  # type: ignore[no-untyped-def]
    unprocessed = checked(evidence, spec().model_copy(update={"process": None}))
    assert failed(unprocessed) == ["loan_process_defined"]
    assert unprocessed["loan_process_defined"].figure.startswith("the spec defines no loan process")
    slow = checked(evidence, spec(("within: 15 days", "within: 20 business days")))
    assert failed(slow) == ["loan_process_defined"]
    assert slow["loan_process_defined"].figure.endswith(
        "complaint within 20 business days (up to 28 calendar days) is longer than the"
        " policy's 15 days"
    )
    payout = "payout, name: {zh-CN: 放款, en: Payout}, within: 1 business day"
    late = checked(evidence, spec((payout, payout.replace("1 business day", "12 business days"))))
    assert late["loan_process_defined"].figure.endswith(
        "payout within 12 business days (up to 18 calendar days) does not come before an"
        " approval lapses (15 days)"
    )
    with pytest.raises(Problems) as vague:
        spec((payout, payout.replace("1 business day", "3 weeks")))
    sample = (samples_folder() / "product-spec.yaml").read_text(encoding="utf-8")
    line = next(n for n, text in enumerate(sample.splitlines(), 1) if payout in text)
    assert vague.value.problems == [
        f"samples/product-spec.yaml: line {line}: process.steps[3].within: write a service level"
        ' like "4 hours", "1 business day" or "15 days", got \'3 weeks\''
    ]


def test_a_template_that_drops_a_required_clause_fails_the_documents_check(
    evidence, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    packaged = Path(__file__).parents[2] / "lendflow" / "templates" / "zh-CN" / "contract.html.j2"
    folder = tmp_path / "templates"
    (folder / "zh-CN").mkdir(parents=True)
    text = packaged.read_text(encoding="utf-8")
    start = text.index('<section data-content="penalty">')
    end = text.index("</section>", start) + len("</section>")
    (folder / "zh-CN" / "contract.html.j2").write_text(text[:start] + text[end:], encoding="utf-8")
    own = Workspace(settings=Settings(home=tmp_path / "home", templates=folder))
    results = checked(evidence, spec(), own)
    assert failed(results) == ["documents_complete"]
    assert results["documents_complete"].figure.startswith("contract (zh-CN): html: penalty terms")
    shutil.rmtree(folder)
    assert not failed(checked(evidence, spec(), Workspace(settings=Settings(home=tmp_path))))

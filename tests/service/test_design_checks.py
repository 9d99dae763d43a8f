"""The design gate's checks, on the shipped research: each names its figure when it fails."""

from __future__ import annotations

import dataclasses

import pytest

from lendflow.config.policy import load_policy
from lendflow.config.product_spec import ProductSpec
from lendflow.services import design_checks
from lendflow.services.charter_stage import charter_outputs
from lendflow.services.design_checks import DesignContext, register_design_check, run_design_checks
from lendflow.services.research_stage import competitor_benchmark, market_trends, target_customers
from lendflow.services.stage_catalog import stage
from lendflow.services.stage_inputs import (
    capture_inputs,
    read_charter,
    read_competitors,
    read_market,
    read_spec,
    read_survey,
)
from lendflow.services.stage_results import Criterion

POLICY = load_policy()
CHECKS = [
    "amount_in_demand_band",
    "apr_under_cap",
    "apr_against_competitors",
    "instalment_affordable",
    "rate_above_pricing_floor",
    "policy_limits",
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


def checked(evidence, product: ProductSpec) -> dict[str, Criterion]:  # type: ignore[no-untyped-def]
    charter, research = evidence
    context = DesignContext("anxin", product, "spec.yaml", charter, research, POLICY)
    return {c.name: c for c in run_design_checks(context)}


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
        "risk_controls_valid", lambda ctx: Criterion("risk_controls_valid", False, "no scorecard")
    )
    results = checked(evidence, spec())
    assert list(results) == [*CHECKS, "risk_controls_valid"]
    assert not results["risk_controls_valid"].passed
    with pytest.raises(ValueError, match="already registered"):
        register_design_check("apr_under_cap", design_checks.apr_under_cap)

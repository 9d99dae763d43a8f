"""The design gate's checks: a product spec held against the research and the policy.

Each check is named and returns one criterion with the figure behind it. The
design gate's criteria are exactly the checks registered here, in order: the
positioning checks below, then the risk controls, overdue strategy, loan process
and documents (controls); further checks join with `register_design_check`
and take part in every later design run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from lendflow.config.policy import borrower_cap
from lendflow.config.product_spec import ProductSpec, costliest_loan, policy_problems
from lendflow.domain.affordability import monthly_equivalent
from lendflow.domain.apr import apr_of_schedule
from lendflow.domain.criteria import Criterion
from lendflow.domain.pricing_floor import pricing_floor
from lendflow.domain.research import percentile_rank, percentile_rate
from lendflow.domain.schedule import generate
from lendflow.lifecycle.stages.design.context import QUOTE_DATE, DesignContext
from lendflow.lifecycle.stages.design.controls import (
    documents_complete,
    loan_process_defined,
    overdue_strategy_valid,
    risk_controls_valid,
)
from lendflow.rendering.formats import yuan

_PERCENT = Decimal("0.01")


Check = Callable[[DesignContext], Criterion]


@dataclass(frozen=True)
class DesignCheck:
    name: str
    evaluate: Check


DESIGN_CHECKS: list[DesignCheck] = []


def register_design_check(name: str, evaluate: Check) -> None:
    """Add a check to the design gate; names are unique."""
    if any(check.name == name for check in DESIGN_CHECKS):
        raise ValueError(f"design check {name!r} is already registered")
    DESIGN_CHECKS.append(DesignCheck(name, evaluate))


def run_design_checks(context: DesignContext) -> list[Criterion]:
    """Every registered check, in order; each returns its own criterion."""
    results = []
    for check in DESIGN_CHECKS:
        result = check.evaluate(context)
        if result.name != check.name:
            raise ValueError(f"design check {check.name} answered as {result.name}")
        results.append(result)
    return results


def loan_aprs(spec: ProductSpec, rate: Decimal) -> list[tuple[Decimal, int, int]]:
    """(APR, amount, term) of the loans at each end of the amount range and every term."""
    return [
        (
            apr_of_schedule(
                generate(spec.schedule_terms(amount, term, QUOTE_DATE, annual_rate=rate))
            ).compound.quantize(_PERCENT, ROUND_HALF_UP),
            amount,
            term,
        )
        for term in spec.terms
        for amount in sorted({spec.amount.min, spec.amount.max})
    ]


def amount_in_demand_band(ctx: DesignContext) -> Criterion:
    """The amount range lies inside the target segments' demand band and covers its median."""
    name = "amount_in_demand_band"
    band = ctx.research["customers"]["demand_band"]
    if band is None:
        return Criterion(
            name, False, "research found no survey responses in the target segments", {"band": None}
        )
    low, high = ctx.spec.amount.min, ctx.spec.amount.max
    problems, found = [], []
    if low < band["low"]:
        problems.append(f"min {yuan(low)} is below the band's low end {yuan(band['low'])}")
        found.append("below_band")
    if high > band["high"]:
        problems.append(f"max {yuan(high)} is above the band's high end {yuan(band['high'])}")
        found.append("above_band")
    if not low <= band["median"] <= high:
        problems.append(f"the median wanted, {yuan(band['median'])}, is outside the range")
        found.append("median_outside")
    figure = (
        f"amounts {yuan(low)} – {yuan(high)} against the target demand band (P10–P90)"
        f" {yuan(band['low'])} – {yuan(band['high'])}, median {yuan(band['median'])}"
    )
    facts = {"low": low, "high": high, "band": band, "problems": found}
    return Criterion(name, not problems, "; ".join([figure, *problems]), facts)


def apr_under_cap(ctx: DesignContext) -> Criterion:
    """The costliest loan the product can make stays within the policy's APR cap."""
    apr, amount, term = costliest_loan(ctx.spec)
    apr = apr.quantize(_PERCENT, ROUND_HALF_UP)
    cap = ctx.policy.apr_cap
    verdict = "within" if apr <= cap.limit else "exceeds"
    return Criterion(
        "apr_under_cap",
        apr <= cap.limit,
        f"highest APR {apr}% (rate {ctx.spec.rate.highest}%, amount {yuan(amount)},"
        f" {term} repayments, fees included) {verdict} the cap {cap.describe()}",
        {
            "apr": apr,
            "rate": ctx.spec.rate.highest,
            "amount": amount,
            "term": term,
            "cap": cap.limit,
            "lpr": None
            if cap.kind != "lpr_multiple"
            else {"multiple": cap.multiple, "lpr": cap.lpr, "on": str(cap.lpr_date)},
        },
    )


def apr_against_competitors(ctx: DesignContext) -> Criterion:
    """The standard price sits no higher than the policy's percentile of competitor APRs."""
    name = "apr_against_competitors"
    aprs = [Decimal(c["apr"]) for c in ctx.research["competitors"]["benchmark"]]
    if not aprs:
        return Criterion(name, False, "research benchmarked no competitors", {"competitors": 0})
    standard = max(apr for apr, _, _ in loan_aprs(ctx.spec, ctx.spec.rate.annual))
    limit_at = ctx.policy.product_gates.competitor_apr_percentile
    limit = percentile_rate(aprs, limit_at)
    quartiles = [(p, percentile_rate(aprs, p)) for p in (25, 50, 75)]
    rank = percentile_rank(aprs, standard)
    return Criterion(
        name,
        standard <= limit,
        f"standard APR {standard}% (rate {ctx.spec.rate.annual}%) ranks at the"
        f" {rank}th percentile of {len(aprs)} competitors"
        f" ({', '.join(f'P{p} {v}%' for p, v in quartiles)}); at most P{limit_at} {limit}%",
        {
            "standard": standard,
            "rate": ctx.spec.rate.annual,
            "rank": rank,
            "competitors": len(aprs),
            "quartiles": quartiles,
            "limit_at": limit_at,
            "limit": limit,
        },
    )


def instalment_affordable(ctx: DesignContext) -> Criterion:
    """The largest loan's instalment is affordable at each target segment's median income.

    The largest amount over the longest term at the standard rate: the lowest
    instalment a borrower of the largest loan can choose. Instalments of weekly
    or daily products are brought to a month.
    """
    name = "instalment_affordable"
    spec = ctx.spec
    largest, longest = spec.amount.max, max(spec.terms)
    schedule = generate(
        spec.schedule_terms(largest, longest, QUOTE_DATE, annual_rate=spec.rate.annual)
    )
    instalment = max(i.total for i in schedule.instalments)
    monthly = monthly_equivalent(instalment, spec.repayment.every, spec.repayment.frequency)
    segments = {s["segment"]: s for s in ctx.research["customers"]["segments"]}
    targets = [code for code in ctx.research["customers"]["target_segments"] if code in segments]
    if not targets:
        return Criterion(
            name, False, "research has no affordability figures for the target", {"segments": []}
        )
    affordable = {code: segments[code]["affordable_instalment"] for code in targets}
    too_dear = [code for code, limit in affordable.items() if monthly > limit]
    figure = (
        f"largest loan {yuan(largest)} over {longest} repayments at {spec.rate.annual}%"
        f" costs {yuan(monthly)} a month; affordable at median income: "
        + ", ".join(f"{code} {yuan(limit)}" for code, limit in affordable.items())
    )
    if too_dear:
        figure += f"; beyond the means of {', '.join(too_dear)}"
    facts = {
        "largest": largest,
        "longest": longest,
        "rate": spec.rate.annual,
        "monthly": int(Decimal(monthly).quantize(Decimal(1), ROUND_HALF_UP)),
        "segments": list(affordable.items()),
        "too_dear": too_dear,
    }
    return Criterion(name, not too_dear, figure, facts)


def rate_above_pricing_floor(ctx: DesignContext) -> Criterion:
    """The cheapest loan still earns the cost of funds, expected loss and operating cost."""
    name = "rate_above_pricing_floor"
    pricing = ctx.spec.pricing
    if pricing is None:
        return Criterion(
            name,
            False,
            "the spec states no pricing assumptions (pricing: cost_of_funds,"
            " probability_of_default, loss_given_default, operating_cost)",
            {"pricing": False},
        )
    floor = pricing_floor(
        pricing.cost_of_funds,
        pricing.probability_of_default,
        pricing.loss_given_default,
        pricing.operating_cost,
    )
    lowest, amount, term = min(loan_aprs(ctx.spec, ctx.spec.rate.lowest))
    verdict = "at or above" if lowest >= floor.floor else "below"
    return Criterion(
        name,
        lowest >= floor.floor,
        f"lowest APR {lowest}% (rate {ctx.spec.rate.lowest}%, amount {yuan(amount)}, {term}"
        f" repayments) {verdict} the floor {floor.floor}% = cost of funds"
        f" {floor.cost_of_funds}% + expected loss {pricing.probability_of_default}% ×"
        f" {pricing.loss_given_default}% = {floor.expected_loss}% + operating cost"
        f" {floor.operating_cost}%",
        {
            "pricing": True,
            "lowest": lowest,
            "rate": ctx.spec.rate.lowest,
            "amount": amount,
            "term": term,
            "floor": floor.floor,
            "cost_of_funds": floor.cost_of_funds,
            "probability_of_default": pricing.probability_of_default,
            "loss_given_default": pricing.loss_given_default,
            "expected_loss": floor.expected_loss,
            "operating_cost": floor.operating_cost,
        },
    )


def policy_limits(ctx: DesignContext) -> Criterion:
    """The policy's other limits: no fees out of the principal, overdue charges, borrower cap.

    The APR cap is `apr_under_cap`'s; its problem (field `rate`) is not repeated here.
    """
    prefix = f"{ctx.source}: "
    problems = [
        p.removeprefix(prefix)
        for p in policy_problems(ctx.spec, ctx.policy, ctx.source)
        if not p.startswith(f"{prefix}rate:")
    ]
    penalty = ctx.spec.penalty.annual_rate if ctx.spec.penalty else None
    figure = (
        "; ".join(problems)
        if problems
        else (
            f"no fee deducted from the principal; penalty"
            f" {'none' if penalty is None else f'{penalty}%'} within the overdue-charges cap"
            f" {ctx.policy.overdue_charges_cap}%; max amount {yuan(ctx.spec.amount.max)} within"
            f" the single-borrower cap {yuan(borrower_cap(ctx.policy, ctx.spec.kind))}"
        )
    )
    facts = {
        "penalty": penalty,
        "overdue_charges_cap": ctx.policy.overdue_charges_cap,
        "max_amount": ctx.spec.amount.max,
        "single_borrower_cap": borrower_cap(ctx.policy, ctx.spec.kind),
        "messages": problems,
    }
    return Criterion("policy_limits", not problems, figure, facts)


for _name, _check in (
    ("amount_in_demand_band", amount_in_demand_band),
    ("apr_under_cap", apr_under_cap),
    ("apr_against_competitors", apr_against_competitors),
    ("instalment_affordable", instalment_affordable),
    ("rate_above_pricing_floor", rate_above_pricing_floor),
    ("policy_limits", policy_limits),
    ("risk_controls_valid", risk_controls_valid),
    ("overdue_strategy_valid", overdue_strategy_valid),
    ("loan_process_defined", loan_process_defined),
    ("documents_complete", documents_complete),
):
    register_design_check(_name, _check)

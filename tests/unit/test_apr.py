"""APR by the PBOC method: IRR of the borrower's real cash flows, annualised two ways."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from lendflow.domain.apr import apr_of_flows, apr_of_schedule, periodic_irr
from lendflow.domain.errors import BadInput
from lendflow.domain.schedule import ScheduleTerms, generate

TWO = Decimal("0.01")


def test_pboc_annex_example() -> None:
    """PBOC 公告〔2021〕第3号 annex: 100,000 borrowed, 1,000 fee up front, twelve
    monthly payments of 8,833.33: 12.80% simple, 13.58% by the IRR method."""
    flows = [10_000_000 - 100_000] + [-883_333] * 12
    apr = apr_of_flows(flows, Fraction(12))
    assert apr.simple.quantize(TWO) == Decimal("12.80")
    assert apr.compound.quantize(TWO) == Decimal("13.58")


def test_apr_without_fees_is_the_nominal_rate_simple() -> None:
    terms = ScheduleTerms(
        principal=10_000_000, annual_rate=Decimal(12), repayments=12, disbursed=date(2026, 1, 15)
    )
    apr = apr_of_schedule(generate(terms))
    assert apr.simple.quantize(TWO) == Decimal("12.00")
    assert apr.compound.quantize(TWO) == Decimal("12.68")


def test_fees_are_part_of_the_apr() -> None:
    plain = ScheduleTerms(
        principal=10_000_000, annual_rate=Decimal(12), repayments=12, disbursed=date(2026, 1, 15)
    )
    with_fees = ScheduleTerms(
        principal=10_000_000,
        annual_rate=Decimal(12),
        repayments=12,
        disbursed=date(2026, 1, 15),
        upfront_fee=100_000,
        fee_per_instalment=10_000,
    )
    assert apr_of_schedule(generate(with_fees)).compound > apr_of_schedule(generate(plain)).compound


def test_interest_free_loan_has_zero_apr() -> None:
    assert periodic_irr([120_000] + [-10_000] * 12) == 0


def test_irr_solves_the_flows_to_zero_present_value() -> None:
    flows = [99_000] + [-9_000] * 12
    r = periodic_irr(flows)
    npv = sum(Decimal(f) / (1 + r) ** t for t, f in enumerate(flows))
    assert abs(npv) < Decimal("1e-20")


@pytest.mark.parametrize("flows", [[], [-100, 50], [100, 10], [0, -10]])
def test_flows_without_a_loan_shape_are_refused(flows: list[int]) -> None:
    with pytest.raises(BadInput, match="APR needs"):
        periodic_irr(flows)

"""APR by the PBOC method: IRR of the borrower's real cash flows, annualised over repayment
periods (compound and simple) and over the flows' actual dates (XIRR, 365-day year)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendflow.domain.apr import (
    DatedFlow,
    apr_of_flows,
    apr_of_schedule,
    daily_irr,
    periodic_irr,
    schedule_dated_flows,
    xirr,
)
from lendflow.domain.calendar import Frequency, add_months
from lendflow.domain.errors import BadInput
from lendflow.domain.schedule import Method, ScheduleTerms, apply_method, generate

TWO = Decimal("0.01")


def test_pboc_annex_example() -> None:
    """PBOC 公告〔2021〕第3号 annex: 100,000 borrowed, 1,000 fee up front, twelve
    monthly payments of 8,833.33: 12.80% simple, 13.58% by the IRR method."""
    flows = [10_000_000 - 100_000] + [-883_333] * 12
    dated = [(date(2026, 1, 15), flows[0])] + [
        (add_months(date(2026, 1, 15), n), flow) for n, flow in enumerate(flows[1:], 1)
    ]
    apr = apr_of_flows(flows, Fraction(12), dated)
    assert apr.simple.quantize(TWO) == Decimal("12.80")
    assert apr.compound.quantize(TWO) == Decimal("13.58")
    # paid out on 15 Jan 2026: February's 28 days come first, so a little more over the dates
    assert apr.actual_dates.quantize(TWO) == Decimal("13.64")
    assert _npv(dated, Decimal("0.1364")) < 0 < _npv(dated, Decimal("0.1365"))


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


# --- over actual dates ------------------------------------------------------------------------

PERCENT = Decimal(100)


def test_a_year_to_the_day_is_the_plain_rate() -> None:
    """1,000.00 received on 1 Jan 2025, 1,100.00 paid on 1 Jan 2026: 365 days, 10.00%."""
    rate = xirr([(date(2025, 1, 1), 100_000), (date(2026, 1, 1), -110_000)])
    assert abs(rate - Decimal("0.1")) < Decimal("1e-30")


def test_a_leap_year_counts_366_days_against_a_365_day_year() -> None:
    """The same loan over 2024 runs 366 days: 1.1^(365/366) − 1 = 9.97%."""
    rate = xirr([(date(2024, 1, 1), 100_000), (date(2025, 1, 1), -110_000)])
    assert (rate * PERCENT).quantize(TWO) == Decimal("9.97")


def test_ten_days_at_one_percent_compound_over_the_year() -> None:
    """1% for 10 days is 1.01^36.5 − 1 = 43.79% a year: a short period weighs what it lasts."""
    rate = xirr([(date(2026, 1, 5), 100_000), (date(2026, 1, 15), -101_000)])
    assert (rate * PERCENT).quantize(TWO) == Decimal("43.79")


# 10,000.00 at 18% over twelve months, paid out on 5 Jan 2026 less a 200.00 fee, the first
# instalment on 15 Jan (10 days on), then the 15th of every month.
SHORT_FIRST_PERIOD = ScheduleTerms(
    principal=1_000_000,
    annual_rate=Decimal(18),
    repayments=12,
    disbursed=date(2026, 1, 5),
    first_repayment=date(2026, 1, 15),
    upfront_fee=20_000,
)


def _npv(flows: list[DatedFlow], annual: Decimal) -> Decimal:
    """Present value on the first flow's day at an annual rate, counted in days/365: the
    definition, written out independently of the solver."""
    start = flows[0][0]
    return sum(
        (
            Decimal(amount) / (1 + annual) ** (Decimal((day - start).days) / 365)
            for day, amount in flows
        ),
        Decimal(0),
    )


def test_a_short_first_period_and_a_fee_cost_more_over_actual_dates() -> None:
    """The periodic IRR counts the 10-day first period as a month (24.25% compound, 21.91%
    simple); over the real dates the same payments cost 27.67% a year. Hand check: the
    present value of the flows (9,800.00 in on 5 Jan; 916.80 on 15 Jan and the 15th of
    each month, 916.81 on 15 Dec) changes sign between 27.67% and 27.68%."""
    schedule = generate(SHORT_FIRST_PERIOD)
    flows = schedule_dated_flows(schedule)
    assert flows[:3] == [
        (date(2026, 1, 5), 980_000),
        (date(2026, 1, 15), -91_680),
        (date(2026, 2, 15), -91_680),
    ]
    assert flows[-1] == (date(2026, 12, 15), -91_681)
    apr = apr_of_schedule(schedule)
    assert apr.compound.quantize(TWO) == Decimal("24.25")
    assert apr.simple.quantize(TWO) == Decimal("21.91")
    assert apr.actual_dates.quantize(TWO) == Decimal("27.67")
    assert _npv(flows, Decimal("0.2767")) < 0 < _npv(flows, Decimal("0.2768"))
    assert apr.highest == apr.actual_dates


def test_the_solved_rate_sets_the_present_value_to_zero_within_a_fen() -> None:
    flows = schedule_dated_flows(generate(SHORT_FIRST_PERIOD))
    assert abs(_npv(flows, xirr(flows))) < Decimal("0.01")


def test_an_interest_free_loan_is_zero_over_actual_dates_too() -> None:
    flows: list[DatedFlow] = (
        [(date(2026, 1, 5), 120_000)]
        + [(date(2026, m, 5), -10_000) for m in range(2, 13)]
        + [(date(2027, 1, 5), -10_000)]
    )
    assert daily_irr(flows) == 0
    assert xirr(flows) == 0


def test_the_order_of_the_payments_does_not_matter() -> None:
    flows: list[DatedFlow] = [
        (date(2026, 1, 5), 100_000),
        (date(2026, 3, 5), -52_000),
        (date(2026, 2, 5), -52_000),
    ]
    assert xirr(flows) == xirr([flows[0], flows[2], flows[1]])


@pytest.mark.parametrize(
    "flows",
    [
        [],
        [(date(2026, 1, 5), -100), (date(2026, 2, 5), 50)],
        [(date(2026, 1, 5), 100), (date(2026, 2, 5), 10)],
        [(date(2026, 1, 5), 100), (date(2026, 1, 4), -110)],
    ],
)
def test_dated_flows_without_a_loan_shape_are_refused(flows: list[DatedFlow]) -> None:
    with pytest.raises(BadInput, match="APR needs"):
        xirr(flows)


MONTHLY = st.builds(
    lambda principal, rate, repayments, disbursed, fee, method: apply_method(
        ScheduleTerms(
            principal=principal,
            annual_rate=rate,
            repayments=repayments,
            disbursed=disbursed,
            upfront_fee=fee,
        ),
        method,
    ),
    st.integers(min_value=100_000, max_value=10_000_000),
    st.integers(min_value=0, max_value=3600).map(lambda cents: Decimal(cents).scaleb(-2)),
    st.integers(min_value=1, max_value=36),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=50_000),
    st.sampled_from(list(Method)),
)


@settings(max_examples=150, deadline=None)
@given(MONTHLY)
def test_a_regular_monthly_schedule_is_close_to_its_periodic_apr(terms: ScheduleTerms) -> None:
    """Months last 28 to 31 days, so m months from the payout last 28m to 31m days: the
    actual-dates APR lies between the periodic IRR compounded over periods of 31 days a
    month and over periods of 28 (a bullet loan is one period of all its months)."""
    schedule = generate(terms)
    apr = apr_of_schedule(schedule)
    growth = 1 + apr.periodic
    months = terms.every
    shortest = (growth ** (Decimal(365) / (28 * months)) - 1) * PERCENT
    longest = (growth ** (Decimal(365) / (31 * months)) - 1) * PERCENT
    slack = Decimal("1e-20")
    assert longest - slack <= apr.actual_dates <= shortest + slack


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=1_000, max_value=10_000_000),
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=3650), st.integers(min_value=1, max_value=100)
        ),
        min_size=1,
        max_size=40,
    ),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
)
def test_xirr_solves_any_loan_to_zero_present_value_within_a_fen(
    received: int, payments: list[tuple[int, int]], start: date
) -> None:
    """Whatever the dates and the shares of the money paid back (in all 100% to 4,000%
    of it, from the next day to ten years on), the rate found discounts the flows to
    nothing, to the fen."""
    weight = sum(share for _, share in payments)
    scale = max(weight, 100)  # pay back at least what was received
    flows: list[DatedFlow] = [(start, received)] + [
        (start + timedelta(days=days), (-received * share * scale) // (weight * 100))
        for days, share in payments
    ]
    daily = daily_irr(flows)
    assert 0 <= daily < 1000
    discount = 1 / (1 + daily)
    npv = sum(
        (Decimal(amount) * discount ** (day - start).days for day, amount in flows), Decimal(0)
    )
    assert abs(npv) < Decimal("0.01")


def test_weekly_and_daily_periods_have_an_actual_dates_figure_too() -> None:
    weekly = generate(
        ScheduleTerms(
            principal=500_000,
            annual_rate=Decimal(12),
            repayments=8,
            disbursed=date(2026, 1, 5),
            frequency=Frequency.WEEKS,
        )
    )
    apr = apr_of_schedule(weekly)
    # 52 weeks are 364 days, so the weekly IRR compounded over 365/7 periods is a little more
    assert apr.actual_dates > apr.compound
    assert (apr.actual_dates - apr.compound).copy_abs() < Decimal("0.05")

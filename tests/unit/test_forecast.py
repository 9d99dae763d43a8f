"""Market trend and forecast: log-linear fit, prediction intervals, growth."""

from __future__ import annotations

import math
from decimal import Decimal
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.forecast import (
    average_rate,
    fit_trend,
    forecast,
    student_t_quantile,
    year_on_year,
)


def test_an_exact_exponential_series_is_fitted_exactly() -> None:
    # 1% a month from 1,000,000 yuan: slope log(1.01), no residual, no interval.
    series = [round(100_000_000 * 1.01**i) for i in range(36)]
    trend = fit_trend(series)
    assert trend.slope == pytest.approx(math.log(1.01), abs=1e-9)
    assert trend.monthly_growth == Decimal("1.00")
    assert trend.annual_growth == Decimal("12.68")  # 1.01 ** 12 - 1
    ahead = forecast(trend, months=12)
    assert [p.step for p in ahead] == list(range(1, 13))
    assert ahead[0].expected == pytest.approx(100_000_000 * 1.01**36, rel=1e-6)
    assert all(abs(p.high - p.low) <= 2 for p in ahead)


@given(
    start=st.integers(min_value=10**8, max_value=10**12),
    moves=st.lists(st.floats(min_value=0.8, max_value=1.25), min_size=3, max_size=47),
)
def test_every_forecast_month_holds_its_expectation_inside_a_widening_interval(
    start: int, moves: list[float]
) -> None:
    values = [start]
    for move in moves:
        values.append(max(1, round(values[-1] * move)))
    ahead = forecast(fit_trend(values), months=12)
    for point in ahead:
        assert point.low <= point.expected <= point.high
    spreads = [p.high / p.expected for p in ahead]
    # Rounding to the fen may wobble a ratio by a millionth; the interval never narrows.
    assert all(later >= earlier - 1e-6 for earlier, later in pairwise(spreads))


def test_student_t_quantiles_match_the_tables() -> None:
    assert student_t_quantile(0.975, 34) == pytest.approx(2.0322, abs=0.001)
    assert student_t_quantile(0.975, 10) == pytest.approx(2.2281, abs=0.001)
    assert student_t_quantile(0.975, 5) == pytest.approx(2.5706, abs=0.001)
    assert student_t_quantile(0.95, 20) == pytest.approx(1.7247, abs=0.001)


def test_year_on_year_growth_is_exact_and_needs_two_years() -> None:
    assert year_on_year([100] * 12 + [110] * 12) == Decimal("10.00")
    assert year_on_year([3] * 12 + [4] * 12) == Decimal("33.33")
    assert year_on_year([100] * 23) is None


def test_a_trend_needs_three_positive_months() -> None:
    with pytest.raises(ValueError, match="three months"):
        fit_trend([1, 2])
    with pytest.raises(ValueError, match="above zero"):
        fit_trend([1, 0, 2])


def test_average_rate_rounds_to_a_hundredth() -> None:
    assert average_rate([Decimal("2.41"), Decimal("2.64"), Decimal("2.53")]) == Decimal("2.53")

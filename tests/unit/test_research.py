"""Research arithmetic: percentiles, affordability, demand by segment, competitor gaps."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.research import (
    Competitor,
    SurveyResponse,
    affordable_instalment,
    amount_histogram,
    apr_percentiles,
    demand_band,
    find_gaps,
    percentile,
    percentile_fen,
    percentile_rank,
    percentile_rate,
    segment_demand,
    weighted_rating,
)

FIFTY = Decimal(50)


def person(
    segment: str,
    amount: int,
    income: int,
    *,
    expenses: int = 0,
    debt: int = 0,
    term: int = 12,
    purpose: str = "household",
    n: int = 0,
) -> SurveyResponse:
    return SurveyResponse(f"R{n}", segment, 30, amount, term, purpose, income, expenses, debt)


def rival(
    lender: str,
    apr: str,
    low: int = 100_000,
    high: int = 5_000_000,
    terms: tuple[int, ...] = (3, 6, 12),
    methods: tuple[str, ...] = ("annuity",),
    rating: str = "4.5",
    reviews: int = 100,
) -> Competitor:
    return Competitor(
        lender, "p", Decimal(apr), low, high, terms, methods, Decimal(rating), reviews
    )


def test_percentiles_interpolate_between_the_closest_ranks() -> None:
    values = [100, 200, 300, 400]
    assert percentile(values, 0) == 100
    assert percentile(values, 100) == 400
    assert percentile(values, 50) == 250
    assert percentile(values, 25) == Fraction(175)
    assert percentile_fen([1, 2], 50) == 2  # 1.5 fen rounds half up
    assert percentile_rate([Decimal("3.65"), Decimal("4.35")], 50) == Decimal("4.00")


@given(st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=60))
def test_a_percentile_lies_within_the_data_and_grows_with_p(values: list[int]) -> None:
    previous = None
    for p in (0, 10, 25, 50, 75, 90, 100):
        value = percentile(values, p)
        assert min(values) <= value <= max(values)
        if previous is not None:
            assert value >= previous
        previous = value


def test_percentile_rank_counts_ties_half() -> None:
    values = [Decimal(x) for x in ("10", "20", "20", "30")]
    assert percentile_rank(values, Decimal("5")) == Decimal("0.0")
    assert percentile_rank(values, Decimal("20")) == Decimal("50.0")
    assert percentile_rank(values, Decimal("31")) == Decimal("100.0")


def test_affordable_instalment_takes_the_tighter_of_ratio_and_budget() -> None:
    # 6,500 income: 50% is 3,250, less 400 debts = 2,850; budget 6,500 - 3,775 - 400 = 2,325.
    assert affordable_instalment(650_000, 377_500, 40_000, FIFTY) == 232_500
    # Frugal: the ratio binds. 10,000 income, 2,000 expenses, no debt: 5,000.
    assert affordable_instalment(1_000_000, 200_000, 0, FIFTY) == 500_000
    # Over-indebted: nothing.
    assert affordable_instalment(500_000, 300_000, 300_000, FIFTY) == 0


@given(
    income=st.integers(min_value=1, max_value=10**9),
    expenses=st.integers(min_value=0, max_value=10**9),
    debt=st.integers(min_value=0, max_value=10**9),
    cap=st.decimals(min_value=0, max_value=100, places=2),
)
def test_an_affordable_instalment_never_breaks_either_limit(
    income: int, expenses: int, debt: int, cap: Decimal
) -> None:
    amount = affordable_instalment(income, expenses, debt, cap)
    assert amount >= 0
    if amount > 0:
        assert amount <= income - expenses - debt
        assert (amount + debt) * 100 <= income * cap + 50  # within half a fen of the ratio


def test_segment_demand_summarises_each_segment_largest_first() -> None:
    survey = [
        person("gig", 500_000, 800_000, expenses=450_000, debt=50_000, term=12, n=1),
        person("gig", 1_000_000, 900_000, expenses=500_000, term=24, n=2),
        person("gig", 1_500_000, 700_000, expenses=400_000, debt=100_000, term=12, n=3),
        person("grad", 300_000, 500_000, expenses=350_000, term=6, purpose="rent", n=4),
    ]
    gig, grad = segment_demand(survey, FIFTY)
    assert (gig.segment, gig.responses, gig.share) == ("gig", 3, Decimal("75.0"))
    assert gig.amounts[50] == 1_000_000
    assert gig.terms == {12: 2, 24: 1}
    assert gig.median_income == 800_000
    # Median income 8,000, expenses 4,500, debt 500: min(4,000 - 500, 3,000) = 3,000.
    assert gig.affordable_instalment == 300_000
    assert grad.purposes == {"rent": 1}


def test_the_demand_band_is_the_middle_of_the_target_segments_only() -> None:
    survey = [person("t", amount, 500_000, n=i) for i, amount in enumerate(range(100, 1100, 100))]
    survey.append(person("other", 10**9, 500_000, n=99))
    band = demand_band(survey, ["t"])
    assert (band.low, band.median, band.high, band.responses) == (190, 550, 910, 10)
    with pytest.raises(ValueError, match="no survey responses"):
        demand_band(survey, ["nobody"])


def test_amount_histogram_puts_each_amount_in_one_band() -> None:
    bars = dict(amount_histogram([100_000, 499_999, 500_000, 30_000_000]))
    assert bars["0 – 5,000"] == 2
    assert bars["5,000 – 10,000"] == 1
    assert bars["≥ 200,000"] == 1
    assert sum(bars.values()) == 4


def test_competitor_percentiles_and_rating_weighted_by_reviews() -> None:
    rivals = [
        rival("a", "10", rating="5.0", reviews=300),
        rival("b", "20", rating="3.0", reviews=100),
    ]
    assert apr_percentiles(rivals)[50] == Decimal("15.00")
    assert weighted_rating(rivals) == Decimal("4.50")


def test_gaps_find_unserved_terms_rare_methods_price_holes_and_poor_service() -> None:
    target = [person("t", 800_000, 600_000, term=18, n=i) for i in range(3)]
    target += [person("t", 800_000, 600_000, term=12, n=10 + i) for i in range(7)]
    rivals = [
        rival("a", "6.00", methods=("annuity", "equal_principal")),
        rival("b", "18.00", rating="3.5", reviews=900),
        rival("c", "20.00"),
    ]
    gaps = {(g.kind, g.subject): g for g in find_gaps(rivals, target, Decimal(24))}
    term = gaps[("term", "18")]
    assert (term.demand_share, term.offered_by, term.of) == (Decimal("30.0"), 0, 3)
    assert ("term", "12") not in gaps  # everyone offers 12 months
    assert gaps[("method", "equal_principal")].offered_by == 1
    assert ("method", "annuity") not in gaps
    assert ("price", "6.00% – 18.00%") in gaps
    assert gaps[("service", "rating < 4.0")].demand_share == Decimal("81.8")

"""The accrual rules: interest earned to a day, the running period, upfront fee shares."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.accrual import (
    FOLLOWED,
    earned,
    expected_accrued,
    followed,
    running_terms,
    upfront_shares,
)
from lendflow.domain.repayment import InstalmentState, accrued_interest

START = date(2026, 1, 12)


def test_a_mid_period_day_earns_its_share_rounded_half_up() -> None:
    # 130.00 over 31 days: 15 days are 62.9032… → 62.90; 16 days 67.0967… → 67.10
    start = START.toordinal()
    assert earned(13_000, 0, start, 31, start + 15) == 6_290
    assert earned(13_000, 0, start, 31, start + 16) == 6_710
    assert earned(13_000, 0, start, 31, start) == 0
    assert earned(13_000, 0, start, 31, start + 40) == 13_000
    # a waiver covers the period's first days: nothing is earned until it is used up
    assert earned(13_000, 5_000, start, 31, start + 10) == 0
    assert earned(13_000, 5_000, start, 31, start + 15) == 1_290


@given(
    interest=st.integers(0, 10**9),
    waived=st.integers(0, 10**6),
    days=st.integers(1, 400),
    offset=st.integers(-30, 430),
)
def test_accrual_agrees_with_the_payoffs_interest_to_date(
    interest: int, waived: int, days: int, offset: int
) -> None:
    waived = min(waived, interest)
    due = START + timedelta(days=days)
    on = START + timedelta(days=offset)
    item = InstalmentState(1, due, 0, interest, 0, interest_waived=waived)
    payoff_figure = max(accrued_interest(item, START, on) - waived, 0)
    assert earned(interest, waived, START.toordinal(), days, on.toordinal()) == payoff_figure


@given(st.integers(0, 10**8), st.lists(st.integers(1, 95), min_size=1, max_size=36))
def test_upfront_shares_add_up_to_the_fee_and_follow_the_days(fee: int, lengths: list[int]) -> None:
    dues, day = [], START
    for length in lengths:
        day += timedelta(days=length)
        dues.append(day)
    shares = upfront_shares(fee, START, dues)
    assert sum(shares) == fee
    assert all(share >= 0 for share in shares)
    total = (dues[-1] - START).days
    for share, length in zip(shares, lengths, strict=True):
        assert abs(share - fee * length / total) <= 1  # straight line, to the fen


def test_the_running_period_and_what_is_accrued_of_it() -> None:
    states = [
        InstalmentState(0, START, 0, 0, 5_000, recognised=True),  # an upfront fee
        InstalmentState(1, date(2026, 2, 12), 80_000, 13_000, 0, recognised=True),
        InstalmentState(2, date(2026, 3, 12), 80_000, 12_000, 0),
        InstalmentState(3, date(2026, 4, 12), 80_000, 11_000, 0),
    ]
    terms = running_terms(states, START)
    assert terms is not None
    assert (terms.start, terms.days, terms.interest) == (date(2026, 2, 12).toordinal(), 28, 12_000)
    # 7 of 28 days into the second period: 120.00 × 7 / 28 = 30.00
    assert expected_accrued(states, START, date(2026, 2, 19)) == 3_000
    assert running_terms([*states[:2]], START) is None


@given(
    since=st.integers(739_000, 739_400),
    closed=st.integers(0, 120),
    start=st.none() | st.integers(738_900, 739_500),
    days=st.integers(0, 95),
    interest=st.integers(0, 10**7),
    waived=st.integers(0, 10**5),
    outstanding=st.integers(0, 10**9),
    stored=st.tuples(st.integers(0, 10**12), st.integers(0, 10**7), st.integers(0, 10**8)),
)
def test_a_loan_following_the_mark_has_what_its_nights_would_have_written(
    since: int,
    closed: int,
    start: int | None,
    days: int,
    interest: int,
    waived: int,
    outstanding: int,
    stored: tuple[int, int, int],
) -> None:
    """`followed` at the mark equals the nightly watermark applied day by day from the
    day the loan began to follow: a day's principal added to its fen-days, its accrual
    moved to what its period has earned, the day's part to income. Whatever it stored
    then (a period that had just started, or accrued interest a due date left behind)."""
    principal_days, accrued, income = stored
    row = {
        "follows_from": since,
        "principal_outstanding": outstanding,
        "accrual_start": start,
        "accrual_days": days,
        "accrual_interest": interest,
        "accrual_waived": waived,
        "cob_through": date.fromordinal(since),
        "principal_days": principal_days,
        "interest_accrued": accrued,
        "accrual_income": income,
    }
    nightly = dict(row)
    for day in range(since + 1, since + closed + 1):
        nightly["cob_through"] = date.fromordinal(day)
        nightly["principal_days"] += outstanding
        if start is not None:
            now = earned(interest, waived, start, days, day)
            nightly["accrual_income"] += now - nightly["interest_accrued"]
            nightly["interest_accrued"] = now
    figures = followed(row, date.fromordinal(since + closed))
    assert figures == {name: nightly[name] for name in FOLLOWED}

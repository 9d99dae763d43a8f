"""Business dates and the reprocessing order, as properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.business_date import check_backdated, check_horizon, check_open_date
from lendflow.domain.errors import BadInput
from lendflow.domain.ledger import Account
from lendflow.domain.reprocessing import Payment, replay_steps, reversal_lines

DAYS = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))
OFFSET = st.integers(min_value=0, max_value=400)


@given(paid_out=DAYS, closed=OFFSET, asked=st.integers(min_value=-400, max_value=400))
def test_money_goes_only_on_the_open_date_once_days_are_closed(
    paid_out: date, closed: int, asked: int
) -> None:
    closed_through = paid_out + timedelta(days=closed)
    as_of = closed_through + timedelta(days=1 + asked)
    if asked == 0:
        check_open_date(7, as_of, closed_through, paid_out)
        return
    with pytest.raises(BadInput) as refused:
        check_open_date(7, as_of, closed_through, paid_out)
    message = str(refused.value)
    assert "\n" not in message
    assert f"its open business date is {closed_through + timedelta(days=1)}" in message


@given(paid_out=DAYS, ahead=st.integers(min_value=0, max_value=400))
def test_before_any_closed_day_only_history_bounds_the_date(paid_out: date, ahead: int) -> None:
    check_open_date(7, paid_out + timedelta(days=ahead), paid_out - timedelta(days=1), paid_out)


@given(today=DAYS, horizon=st.integers(min_value=0, max_value=7), ahead=OFFSET)
def test_nothing_is_dated_beyond_the_horizon(today: date, horizon: int, ahead: int) -> None:
    as_of = today + timedelta(days=ahead)
    if ahead <= horizon:
        check_horizon(as_of, today, horizon)
    else:
        with pytest.raises(BadInput, match="ahead of today"):
            check_horizon(as_of, today, horizon)


@given(paid_out=DAYS, closed=OFFSET, value=st.integers(min_value=-30, max_value=430))
def test_backdated_money_falls_on_a_closed_day(paid_out: date, closed: int, value: int) -> None:
    closed_through = paid_out + timedelta(days=closed)
    value_date = paid_out + timedelta(days=value)
    if paid_out <= value_date <= closed_through:
        check_backdated(7, value_date, closed_through, paid_out)
    else:
        with pytest.raises(BadInput):
            check_backdated(7, value_date, closed_through, paid_out)


@given(
    paid_out=DAYS,
    closed=st.integers(min_value=0, max_value=120),
    offsets=st.lists(st.integers(min_value=0, max_value=121), max_size=12),
)
def test_replay_closes_every_day_once_after_that_days_payments(
    paid_out: date, closed: int, offsets: list[int]
) -> None:
    closed_through = paid_out + timedelta(days=closed)
    payments = [
        Payment(paid_out + timedelta(days=o), 100 + n, f"p{n}") for n, o in enumerate(offsets)
    ]
    steps = replay_steps(payments, paid_out, closed_through)
    closed_days = [s.on for s in steps if s.closes_day]
    assert closed_days == [paid_out + timedelta(days=n) for n in range(closed + 1)]
    assert sorted(s.payment.reference for s in steps if s.payment) == sorted(
        p.reference for p in payments
    )
    assert [s.on for s in steps] == sorted(s.on for s in steps)
    for n, step in enumerate(steps):
        if step.payment is not None and step.on <= closed_through:
            assert any(later.closes_day and later.on == step.on for later in steps[n + 1 :])
    for day in {p.on for p in payments}:
        same_day = [s.payment.reference for s in steps if s.payment and s.on == day]
        assert same_day == [p.reference for p in payments if p.on == day]


@given(
    receivables=st.lists(
        st.tuples(
            st.sampled_from(
                [Account.INTEREST_RECEIVABLE, Account.FEE_RECEIVABLE, Account.PENALTY_RECEIVABLE]
            ),
            st.integers(min_value=1, max_value=10**9),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_loans_part_of_a_chunk_entry_reverses_balanced(
    receivables: list[tuple[Account, int]],
) -> None:
    lines = [(str(account), amount, 0) for account, amount in receivables]
    undone = reversal_lines(lines, whole_chunk=True)
    assert sum(line.debit for line in undone) == sum(line.credit for line in undone)
    for account, amount in receivables:
        assert any(line.account == account and line.credit == amount for line in undone)

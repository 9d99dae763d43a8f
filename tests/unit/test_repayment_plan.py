"""Properties of repayment plans and payoff quotes over realistic, partly paid loans.

`plan_repayment` decides where every fen of a borrower's payment goes and what the
ledger books for it; `payoff_quote` is the amount a borrower is told settles the loan.
If either loses or invents money, charges interest that has not been earned, or
settles a loan for less than the quote, the books and the borrower's contract part ways.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lendflow.domain.allocation import COMPONENTS
from lendflow.domain.repayment import (
    InstalmentChange,
    InstalmentState,
    RepaymentPlan,
    accrued_interest,
    payoff_quote,
    plan_repayment,
)
from lendflow.domain.schedule import (
    Amortization,
    InterestMethod,
    InterestPeriod,
    ScheduleTerms,
    generate,
)

SETTINGS = settings(max_examples=120, deadline=None)
DISBURSED = st.dates(min_value=date(2022, 1, 1), max_value=date(2030, 12, 31))
RATES = st.integers(min_value=0, max_value=3600).map(lambda cents: Decimal(cents).scaleb(-2))
ORDERS = st.permutations(COMPONENTS).map(tuple)
PAID_FIELDS = ("principal", "interest", "fee", "penalty")


@st.composite
def schedule_terms(draw: st.DrawFn) -> ScheduleTerms:
    """Valid loan terms of the kinds lendflow's products use (monthly, daily interest, fees)."""
    repayments = draw(st.integers(min_value=1, max_value=12))
    principal = draw(st.integers(min_value=10_000, max_value=20_000_000))
    return ScheduleTerms(
        principal=principal,
        annual_rate=draw(RATES),
        repayments=repayments,
        disbursed=draw(DISBURSED),
        amortization=draw(st.sampled_from(list(Amortization))),
        interest=draw(st.sampled_from(list(InterestMethod))),
        interest_period=draw(st.sampled_from(list(InterestPeriod))),
        principal_grace=draw(st.integers(0, repayments - 1)),
        upfront_fee=draw(st.sampled_from([0, 0, principal // 100])),
        fee_per_instalment=draw(st.sampled_from([0, 0, principal // 1000, 500])),
    )


def fresh_states(terms: ScheduleTerms) -> list[InstalmentState]:
    """The instalments as disbursement stores them (row 0 holds an upfront fee)."""
    schedule = generate(terms)
    rows = []
    if terms.upfront_fee:
        rows.append(InstalmentState(0, terms.disbursed, 0, 0, terms.upfront_fee, recognised=True))
    rows += [
        InstalmentState(i.n, i.due_date, i.principal, i.interest, i.fee)
        for i in schedule.instalments
    ]
    return rows


def recognised_by(states: list[InstalmentState], as_of: date) -> list[InstalmentState]:
    """What `recognise_due` does before a payment: everything due is booked receivable."""
    return [replace(s, recognised=s.recognised or s.due_date <= as_of) for s in states]


def applied(states: list[InstalmentState], plan: RepaymentPlan) -> list[InstalmentState]:
    """The instalments after the plan is written to them."""
    out = []
    for state in states:
        change = plan.changes.get(state.n)
        if change is None:
            out.append(state)
            continue
        out.append(
            replace(
                state,
                principal_paid=state.principal_paid + change.principal_paid,
                interest_paid=state.interest_paid + change.interest_paid,
                fee_paid=state.fee_paid + change.fee_paid,
                penalty_paid=state.penalty_paid + change.penalty_paid,
                interest_waived=state.interest_waived + change.interest_waived,
                fee_waived=state.fee_waived + change.fee_waived,
            )
        )
    return out


@st.composite
def random_partial(draw: st.DrawFn, terms: ScheduleTerms, as_of: date) -> list[InstalmentState]:
    """Any partial payments on any instalment; penalties only on instalments already due."""
    out = []
    for state in fresh_states(terms):
        penalty = draw(st.sampled_from([0, 0, 137, 2_500])) if state.due_date < as_of else 0

        def part(total: int) -> int:
            return draw(st.one_of(st.just(0), st.just(total), st.integers(0, total)))

        out.append(
            replace(
                state,
                penalty=penalty,
                principal_paid=part(state.principal),
                interest_paid=part(state.interest),
                fee_paid=part(state.fee),
                penalty_paid=part(penalty),
            )
        )
    return recognised_by(out, as_of)


@st.composite
def paid_history(draw: st.DrawFn, terms: ScheduleTerms, as_of: date) -> list[InstalmentState]:
    """The state earlier repayments (planned by the engine itself) leave behind."""
    states = fresh_states(terms)
    day = terms.disbursed
    for _ in range(draw(st.integers(0, 4))):
        day += timedelta(days=draw(st.integers(0, (as_of - day).days)))
        states = recognised_by(states, day)
        quote = payoff_quote(states, day, terms.disbursed).total
        if quote <= 1:
            break
        amount = draw(st.integers(1, quote - 1))  # an earlier payment that did not settle
        states = applied(states, plan_repayment(states, amount, day, terms.disbursed))
    return recognised_by(states, as_of)


@st.composite
def loans(draw: st.DrawFn) -> tuple[list[InstalmentState], date, date]:
    """(instalments, disbursed on, as of): a partly paid loan and a business date."""
    terms = draw(schedule_terms())
    maturity = generate(terms).maturity
    span = (maturity - terms.disbursed).days + 90
    as_of = terms.disbursed + timedelta(days=draw(st.integers(0, span)))
    builder = draw(st.sampled_from([random_partial, paid_history]))
    return draw(builder(terms, as_of)), terms.disbursed, as_of


@st.composite
def payments(draw: st.DrawFn) -> tuple[list[InstalmentState], date, date, int, tuple[str, ...]]:
    """A loan, a date, an amount around the payoff (below, at, above) and a waterfall."""
    states, disbursed, as_of = draw(loans())
    quote = payoff_quote(states, as_of, disbursed).total
    amount = draw(
        st.one_of(
            st.integers(1, max(quote * 2, 2)),
            st.sampled_from([quote - 1, quote, quote + 1]).filter(lambda a: a > 0),
            st.integers(1, 300),
        )
    )
    return states, disbursed, as_of, amount, draw(ORDERS)


def paid_in(change: InstalmentChange, component: str) -> int:
    return getattr(change, f"{component}_paid")


@SETTINGS
@given(payments())
def test_every_fen_of_the_payment_is_allocated(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """The cash debit must equal the credits, or the repayment entry cannot balance."""
    states, disbursed, as_of, amount, order = case
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    assert plan.amount == amount
    assert plan.allocated == amount


@SETTINGS
@given(payments())
def test_nothing_is_paid_or_waived_beyond_what_was_owed(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """Paying or waiving more than owed would drive an instalment negative; the only money
    taken back is a settlement's refund of what was paid in advance and not earned."""
    states, disbursed, as_of, amount, order = case
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    by_n = {s.n: s for s in states}
    for n, change in plan.changes.items():
        owed = by_n[n].owed()
        for component in PAID_FIELDS:
            floor = -getattr(by_n[n], f"{component}_paid") if plan.settles else 0
            assert paid_in(change, component) >= floor
        assert change.interest_waived >= 0 and change.fee_waived >= 0
        assert change.principal_paid <= owed.principal
        assert change.penalty_paid <= owed.penalty
        assert change.interest_paid + change.interest_waived <= owed.interest
        assert change.fee_paid + change.fee_waived <= owed.fee
    for state in applied(states, plan):
        owed = state.owed()
        assert min(owed.principal, owed.interest, owed.fee, owed.penalty) >= 0


@SETTINGS
@given(payments())
def test_the_plan_books_what_it_writes_to_the_instalments(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """Ledger credits and instalment payments must agree, or `audit verify` flags the loan."""
    states, disbursed, as_of, amount, order = case
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    by_n = {s.n: s for s in states}
    changes = plan.changes.items()
    assert plan.principal == sum(c.principal_paid for _, c in changes)
    assert plan.penalty == sum(c.penalty_paid for _, c in changes)
    assert plan.interest_from_receivable == sum(
        c.interest_paid for n, c in changes if by_n[n].recognised
    )
    # a settlement gives back unearned interest and fees paid in advance: negative changes
    assert plan.interest_to_income - plan.interest_refund == sum(
        c.interest_paid for n, c in changes if not by_n[n].recognised
    )
    assert plan.fee_from_receivable == sum(c.fee_paid for n, c in changes if by_n[n].recognised)
    assert plan.fee_to_income - plan.fee_refund == sum(
        c.fee_paid for n, c in changes if not by_n[n].recognised
    )


@SETTINGS
@given(payments())
def test_settles_exactly_when_the_payoff_is_reached(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """The quote a borrower is given must be precisely the amount that closes the loan."""
    states, disbursed, as_of, amount, order = case
    quote = payoff_quote(states, as_of, disbursed)
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    assert plan.settles == (amount >= quote.total)


@SETTINGS
@given(payments())
def test_a_settling_plan_pays_all_principal_and_leaves_nothing_owed(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """A closed loan with principal still on an instalment would be lost money."""
    states, disbursed, as_of, amount, order = case
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    if not plan.settles:
        return
    quote = payoff_quote(states, as_of, disbursed)
    assert plan.principal == sum(s.owed().principal for s in states)
    assert plan.principal == quote.principal
    assert plan.penalty == quote.penalty
    assert plan.overpayment == amount - quote.total
    assert all(s.settled for s in applied(states, plan))


@SETTINGS
@given(payments())
def test_overpayment_and_waivers_only_when_settling(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """Money is kept as credit, and interest forgiven, only when the loan is paid off."""
    states, disbursed, as_of, amount, order = case
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    waived = sum(c.interest_waived + c.fee_waived for c in plan.changes.values())
    if plan.overpayment:
        assert plan.settles
    if waived:
        assert plan.settles
    if not plan.settles:
        assert plan.overpayment == 0 and waived == 0


@SETTINGS
@given(payments())
def test_arrears_are_cleared_before_paying_ahead(
    case: tuple[list[InstalmentState], date, date, int, tuple[str, ...]],
) -> None:
    """A payment must cure arrears before it is spent on instalments not yet due."""
    states, disbursed, as_of, amount, order = case
    plan = plan_repayment(states, amount, as_of, disbursed, order)
    if plan.settles:
        return
    by_n = {s.n: s for s in states}
    ahead = [n for n, c in plan.changes.items() if by_n[n].due_date > as_of and any_paid(c)]
    if ahead:
        assert all(s.settled for s in applied(states, plan) if s.due_date <= as_of)


def any_paid(change: InstalmentChange) -> bool:
    return any(paid_in(change, component) for component in PAID_FIELDS)


@SETTINGS
@given(loans())
def test_the_quote_lies_between_principal_owed_and_everything_owed(
    case: tuple[list[InstalmentState], date, date],
) -> None:
    """Settling early never costs more than paying every instalment, nor less than the
    principal (less whatever was paid in advance and not earned, which is given back)."""
    states, disbursed, as_of = case
    quote = payoff_quote(states, as_of, disbursed)
    owed = [s.owed() for s in states]
    assert quote.principal == sum(o.principal for o in owed)
    assert quote.principal - quote.credit <= quote.total <= sum(o.total for o in owed)
    assert min(quote.interest, quote.fee, quote.penalty, quote.credit) >= 0


@st.composite
def periods(draw: st.DrawFn) -> tuple[InstalmentState, date, date, date]:
    """An instalment, its period start and two business dates inside the period, in order."""
    start = draw(DISBURSED)
    length = draw(st.integers(1, 120))
    due = start + timedelta(days=length)
    interest = draw(st.integers(0, 5_000_000))
    first, second = sorted(draw(st.lists(st.integers(0, length), min_size=2, max_size=2)))
    state = InstalmentState(1, due, 100_000, interest, 0)
    return state, start, start + timedelta(days=first), start + timedelta(days=second)


@SETTINGS
@given(periods())
def test_accrued_interest_grows_with_time_up_to_the_instalments_interest(
    case: tuple[InstalmentState, date, date, date],
) -> None:
    """Interest to date may never fall as days pass, nor exceed what the schedule charges."""
    state, start, earlier, later = case
    accrued_earlier = accrued_interest(state, start, earlier)
    accrued_later = accrued_interest(state, start, later)
    assert 0 <= accrued_earlier <= accrued_later <= state.interest
    assert accrued_interest(state, start, start) == 0
    assert accrued_interest(state, start, state.due_date) == state.interest
    assert accrued_interest(state, start, state.due_date + timedelta(days=40)) == state.interest
    assert accrued_interest(state, start, start - timedelta(days=3)) == 0


# --- a worked example ------------------------------------------------------------------------
#
# 3,000.00 at 12% a year over 3 months from 2026-01-15, 30/360 monthly: the period rate is 1%.
# The instalment is 3000 * 0.01 * 1.01^3 / (1.01^3 - 1) = 1,020.07 (1020.0663...).
#   1  2026-02-15  interest 30.00  principal   990.07  balance 2,009.93
#   2  2026-03-15  interest 20.10  principal   999.97  balance 1,009.96  (20.0993 rounds up)
#   3  2026-04-15  interest 10.10  principal 1,009.96  balance     0.00  (10.0996, last absorbs)
WORKED = ScheduleTerms(
    principal=300_000, annual_rate=Decimal(12), repayments=3, disbursed=date(2026, 1, 15)
)


def worked_states() -> list[InstalmentState]:
    return fresh_states(WORKED)


def test_the_worked_schedule_is_as_computed_by_hand() -> None:
    """The example's own arithmetic, so the repayment examples below rest on checked numbers."""
    rows = [(s.n, s.due_date, s.principal, s.interest) for s in worked_states()]
    assert rows == [
        (1, date(2026, 2, 15), 99_007, 3_000),
        (2, date(2026, 3, 15), 99_997, 2_010),
        (3, date(2026, 4, 15), 100_996, 1_010),
    ]


def test_paying_the_first_instalment_on_its_due_date_leaves_the_rest_untouched() -> None:
    """A borrower paying exactly what is due must not see later instalments change."""
    due_on = date(2026, 2, 15)
    states = recognised_by(worked_states(), due_on)
    plan = plan_repayment(states, 102_007, due_on, WORKED.disbursed)
    assert not plan.settles
    assert plan.changes == {1: InstalmentChange(principal_paid=99_007, interest_paid=3_000)}
    assert plan.principal == 99_007
    assert plan.interest_from_receivable == 3_000
    assert plan.interest_to_income == plan.overpayment == 0
    after = applied(states, plan)
    assert after[0].settled
    assert after[1:] == states[1:]


def test_paying_off_on_the_first_due_date_waives_all_later_interest() -> None:
    """On a due date the next period has earned nothing yet: payoff is instalment 1 + principal."""
    due_on = date(2026, 2, 15)
    states = recognised_by(worked_states(), due_on)
    quote = payoff_quote(states, due_on, WORKED.disbursed)
    assert (quote.principal, quote.interest, quote.fee, quote.penalty) == (300_000, 3_000, 0, 0)
    plan = plan_repayment(states, 303_500, due_on, WORKED.disbursed)
    assert plan.settles
    assert plan.overpayment == 500
    assert plan.changes[2].interest_waived == 2_010
    assert plan.changes[3].interest_waived == 1_010


def test_paying_off_mid_period_charges_interest_to_the_day() -> None:
    """Settling 14 of 28 days into period 2 charges half that period's interest, 10.05."""
    as_of = date(2026, 3, 1)
    states = applied(
        recognised_by(worked_states(), date(2026, 2, 15)),
        plan_repayment(worked_states(), 102_007, date(2026, 2, 15), WORKED.disbursed),
    )
    quote = payoff_quote(states, as_of, WORKED.disbursed)
    assert (quote.principal, quote.interest) == (200_993, 1_005)
    plan = plan_repayment(states, quote.total, as_of, WORKED.disbursed)
    assert plan.settles and plan.overpayment == 0
    assert plan.interest_to_income == 1_005
    assert plan.changes[2].interest_waived == 1_005
    assert plan.changes[3].interest_waived == 1_010


def test_a_payment_must_be_positive() -> None:
    """A zero or negative repayment is not a payment; the plan refuses it."""
    with pytest.raises(ValueError, match="more than zero"):
        plan_repayment(worked_states(), 0, date(2026, 2, 15), WORKED.disbursed)


# --- known bug: interest paid in advance is kept when the loan is paid off -------------------


def interest_earned_by(states: list[InstalmentState], as_of: date, disbursed: date) -> int:
    """Scheduled interest of instalments due by `as_of`, plus the running period's to the day."""
    due = sum(s.interest for s in states if s.due_date <= as_of)
    running = [s for s in states if s.due_date > as_of and s.n > 0]
    if not running:
        return due
    current = running[0]
    earlier = [s.due_date for s in states if 0 < s.n < current.n]
    return due + accrued_interest(current, max(earlier, default=disbursed), as_of)


@pytest.mark.parametrize(
    ("paid_on", "first_payment"),
    [
        pytest.param(date(2026, 2, 15), 102_007 + 2_010, id="instalment-1-and-next-interest"),
        pytest.param(date(2026, 1, 16), 300_096, id="one-fen-short-of-payoff"),
    ],
)
def test_interest_kept_at_payoff_is_only_what_was_earned(paid_on: date, first_payment: int) -> None:
    """Payoff promises interest to the day; paying ahead first must not cost the borrower more.

    Paying 3,000.96 on 2026-01-16, one fen short of that day's payoff of 3,000.97, spends
    60.20 on all three periods' interest; settling the next day then costs only the last
    59.24 of principal, so the loan costs 60.20 of interest for two days instead of 1.94.
    """
    disbursed = WORKED.disbursed
    states = recognised_by(worked_states(), paid_on)
    states = applied(states, plan_repayment(states, first_payment, paid_on, disbursed))
    settle_on = paid_on + timedelta(days=1)
    states = recognised_by(states, settle_on)
    quote = payoff_quote(states, settle_on, disbursed)
    after = applied(states, plan_repayment(states, quote.total, settle_on, disbursed))
    kept = sum(s.interest_paid for s in after)
    assert kept <= interest_earned_by(worked_states(), settle_on, disbursed)

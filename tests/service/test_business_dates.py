"""Business dates: money on the loan's open date, a horizon after the real date, backdated
money through reprocessing, resumed payouts on the date asked for, the overpayment limit.

The loan of test_cob_golden: cash-easy, 10,000.00 over 3 months at 15.60%, paid out
2026-01-12; instalments due 12 Feb, 12 Mar and 12 Apr.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.domain.errors import BadInput, LendflowError, Refused
from lendflow.loans import applications, audit, disbursement, repayments, reversals
from lendflow.store.tables import events, journal_entries, journal_lines, loans, payouts
from lendflow.workspace.payments import GatewayError
from tests.service.loan_rows import current_loan

CONFIG = load_cob_config()
DAY = timedelta(days=1)
LOAN_COLUMNS = (
    "state",
    "dpd",
    "bucket",
    "classification",
    "principal_outstanding",
    "interest_receivable",
    "fee_receivable",
    "penalty_receivable",
    "credit_balance",
    "cob_through",
    "principal_days",
    "overdue_principal_days",  # the charges cap's bases, rebuilt by reprocessing
)


def open_loan(ws, ops, risk, applicant, paid_out: date = date(2026, 1, 12)) -> int:  # type: ignore[no-untyped-def]
    asked = paid_out - timedelta(days=2)
    loan = applications.apply(ws, ops, applicant(amount="10000", term=3), asked)
    applications.start_review(ws, ops, loan.id, asked)
    applications.approve(ws, risk, loan.id, asked + DAY)
    disbursement.disburse(ws, ops, loan.id, paid_out)
    return loan.id


def close(ws, first: date, last: date) -> None:  # type: ignore[no-untyped-def]
    cob.close_range(ws, 1, 10_000, first, last, "cob", CONFIG)


def loan_state(ws, loan_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    row = current_loan(ws, loan_id)
    return {k: row[k] for k in LOAN_COLUMNS}


def account_totals(ws, loan_id: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Net of each balance-sheet account over the loan's lines.

    Income, interest accrued and the provision expense are left out: close of business
    books a chunk's income, its nightly accrual (and a month end's provision expense) on one
    line naming no loan, so a loan's share of it is only seen through its receivables (and
    its allowance): the loans' `interest_accrued` columns are compared instead (and `audit
    verify` proves the account whole).
    """
    with ws.engine.connect() as c:
        rows = c.execute(
            select(
                journal_lines.c.account, func.sum(journal_lines.c.debit - journal_lines.c.credit)
            )
            .where(journal_lines.c.loan_id == loan_id)
            .group_by(journal_lines.c.account)
        ).all()
    totals: dict[str, int] = defaultdict(int)
    for account, net in rows:
        if (
            int(net)
            and not account.endswith("_income")
            and account not in ("interest_accrued", "provision_expense")
        ):
            totals[account] = int(net)
    totals["accrued_column"] = current_loan(ws, loan_id)["interest_accrued"]
    return dict(totals)


def book_totals(ws) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Net of each account over the whole journal."""
    with ws.engine.connect() as c:
        rows = c.execute(
            select(
                journal_lines.c.account, func.sum(journal_lines.c.debit - journal_lines.c.credit)
            ).group_by(journal_lines.c.account)
        ).all()
    return {account: int(net) for account, net in rows if int(net)}


def event_names(ws, loan_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return list(
            c.execute(
                select(events.c.name)
                .where(events.c.entity == "loan", events.c.entity_id == str(loan_id))
                .order_by(events.c.id)
            ).scalars()
        )


# finding 2: money dated after a loan's closed days


def test_money_dated_after_the_open_date_is_refused(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    before = loan_state(ws, loan_id)
    with pytest.raises(BadInput) as refused:
        repayments.repay(ws, ops, loan_id, 1_000_000, date(2026, 5, 1))
    message = str(refused.value)
    assert "\n" not in message
    assert "closed through 2026-03-20" in message
    assert "open business date is 2026-03-21" in message
    assert "close 2026-03-21 … 2026-04-30 first" in message
    assert loan_state(ws, loan_id) == before
    # on the open date it is taken
    paid = repayments.repay(ws, ops, loan_id, 100_000, date(2026, 3, 21))
    assert paid.payment.amount == 100_000


def test_money_dated_into_closed_days_points_to_the_backdated_path(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    with pytest.raises(
        BadInput, match=r"open business date is 2026-03-21: use `loan repay --backdated`"
    ):
        repayments.repay(ws, ops, loan_id, 100_000, date(2026, 3, 1))


# finding 3: no upper bound on business dates


def test_a_date_far_after_today_is_refused_everywhere(
    ws, ops, risk, applicant, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ws, "clock", lambda: date(2026, 1, 20))
    loan_id = open_loan(ws, ops, risk, applicant)
    before = loan_state(ws, loan_id)
    with pytest.raises(BadInput, match=r"2062-02-12 is after 2026-01-21: dates may run at most 1"):
        repayments.repay(ws, ops, loan_id, 106_000, date(2062, 2, 12))
    with pytest.raises(BadInput, match="after 2026-01-21"):
        repayments.quote(ws, ops, loan_id, date(2062, 2, 12))
    with pytest.raises(
        BadInput, match=r"cannot close 2026-01-21: it is after today \(2026-01-20\)"
    ):
        cob.close_range(ws, 1, 10_000, date(2026, 1, 12), date(2026, 1, 21), "cob", CONFIG)
    with pytest.raises(BadInput, match="after 2026-01-21"):
        applications.apply(ws, ops, applicant(amount="10000", term=3), date(2099, 1, 1))
    assert loan_state(ws, loan_id) == before
    # the day after today is still inside the horizon
    repayments.repay(ws, ops, loan_id, 10_000, date(2026, 1, 21))


def test_a_payout_far_after_today_is_refused(ws, ops, risk, applicant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(ws, "clock", lambda: date(2026, 1, 12))
    loan = applications.apply(ws, ops, applicant(amount="10000", term=3), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    with pytest.raises(BadInput, match="2026-01-20 is after 2026-01-13"):
        disbursement.disburse(ws, ops, loan.id, date(2026, 1, 20))


# finding 6 (part): overpayment limit


def test_an_overpayment_over_the_policy_limit_is_refused(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    before = loan_state(ws, loan_id)
    with pytest.raises(Refused) as refused:
        repayments.repay(ws, ops, loan_id, 6_000_000_000, date(2026, 1, 20))
    assert "over the policy's limit of 10000.00" in str(refused.value)
    assert loan_state(ws, loan_id) == before
    quote = repayments.quote(ws, ops, loan_id, date(2026, 1, 20))
    settled = repayments.repay(ws, ops, loan_id, quote.total + 500_000, date(2026, 1, 20))
    assert settled.credit_balance == 500_000


# finding 7: a resumed payout is booked on the date it was asked for


def test_a_resumed_payout_is_booked_on_the_date_it_was_asked_for(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(amount="10000", term=3), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    real_pay_out = ws.gateway.pay_out
    calls = {"n": 0}

    def times_out_once(reference: str, amount: int, customer_id: int) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            real_pay_out(reference, amount, customer_id)  # paid, but the answer is lost
            raise GatewayError("timed out", transient=True)
        return real_pay_out(reference, amount, customer_id)

    ws.gateway.pay_out = times_out_once  # type: ignore[method-assign]
    with pytest.raises(GatewayError):
        disbursement.disburse(ws, ops, loan.id, date(2026, 1, 12))
    resumed = disbursement.disburse(ws, ops, loan.id, date(2026, 1, 14))
    assert resumed.disbursed_on == date(2026, 1, 12)
    assert resumed.maturity_on == date(2026, 4, 12)
    with ws.engine.connect() as c:
        asked = c.execute(select(payouts.c.requested_on)).scalar_one()
    assert asked == date(2026, 1, 12)


# backdated repayments: the same loan as if the money had arrived on its day


def test_backdated_repayment_says_so_and_keeps_the_books_provable(
    ws, ops, risk, auditor, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    with ws.engine.connect() as c:
        lines_before = c.execute(select(func.count()).select_from(journal_lines)).scalar_one()
    result = repayments.repay_backdated(ws, ops, loan_id, 342_037, date(2026, 2, 12), "file-0212")
    assert result.payment.amount == 342_037
    names = event_names(ws, loan_id)
    # the restart first, then the days booked again tell their own moves, then the payment
    restart = names.index("LoanReprocessed")
    assert names[-1] == "RepaymentBackdated" and names.count("LoanReprocessed") == 1
    assert "LoanFellOverdue" in names[restart:]  # its next instalment still fell due unpaid
    with ws.engine.connect() as c:
        lines_after = c.execute(select(func.count()).select_from(journal_lines)).scalar_one()
    assert lines_after > lines_before  # reversed and booked again, nothing deleted
    with ws.engine.connect() as c:
        payload = c.execute(
            select(events.c.payload).where(events.c.name == "LoanReprocessed")
        ).scalar_one()
        reversed_on = c.execute(
            select(func.min(journal_entries.c.business_date)).where(
                journal_entries.c.kind == "reversal"
            )
        ).scalar_one()
    # booked again from the value date: what came before it stands
    assert json.loads(payload)["from"] == "2026-02-12"
    assert json.loads(payload)["to"] == "2026-03-20"
    assert reversed_on == date(2026, 2, 12)
    assert audit.verify(ws, auditor).ok
    # the same reference again moves nothing
    again = repayments.repay_backdated(ws, ops, loan_id, 342_037, date(2026, 2, 12), "file-0212")
    assert again.replayed


@pytest.mark.parametrize(
    "value_day", [date(2026, 1, 20), date(2026, 2, 12), date(2026, 2, 25), date(2026, 3, 19)]
)
@pytest.mark.parametrize("amount", [50_000, 342_037, 800_000])
def test_repay_then_close_equals_close_then_backdated_repay(
    ws, ops, risk, applicant, value_day, amount
) -> None:  # type: ignore[no-untyped-def]
    """Two equal loans: one paid on its day then closed, the other closed then paid backdated.

    Both also take an ordinary repayment on 2026-02-20 and are closed through 2026-03-20.
    """
    ordered = open_loan(ws, ops, risk, applicant)
    backdated = open_loan(ws, ops, risk, applicant)
    last = date(2026, 3, 20)
    d = date(2026, 1, 12)
    while d <= last:
        if d == value_day:
            repayments.repay(ws, ops, ordered, amount, d, idempotency_key="on-its-day")
        if d == date(2026, 2, 20):
            repayments.repay(ws, ops, ordered, 100_000, d, idempotency_key="o-0220")
            repayments.repay(ws, ops, backdated, 100_000, d, idempotency_key="b-0220")
        close(ws, d, d)
        d += DAY
    before_backdating = book_totals(ws)
    repayments.repay_backdated(ws, ops, backdated, amount, value_day, "late-file")
    assert loan_state(ws, backdated) == loan_state(ws, ordered)
    assert account_totals(ws, backdated) == account_totals(ws, ordered)
    # the whole book: cash moved by the money only, and income by as much as receivables
    after = book_totals(ws)
    assert after["cash"] - before_backdating["cash"] == amount
    assert sum(after.values()) == 0
    with ws.engine.connect() as c:
        penalties = dict(
            c.execute(
                select(loans.c.id, loans.c.penalty_receivable).where(
                    loans.c.id.in_((ordered, backdated))
                )
            ).all()
        )
    assert penalties[ordered] == penalties[backdated]


def test_backdated_repayment_is_refused_on_the_open_date(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    with pytest.raises(
        BadInput, match=r"not a closed day of loan 1 .* open business date 2026-03-21"
    ):
        repayments.repay_backdated(ws, ops, loan_id, 1_000, date(2026, 3, 21), "x")


def test_a_reversed_repayment_leaves_the_loan_as_if_never_paid(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    paid = open_loan(ws, ops, risk, applicant)
    never = open_loan(ws, ops, risk, applicant)
    admin = ws.actor("admin")
    close(ws, date(2026, 1, 12), date(2026, 2, 9))
    repayments.repay(ws, ops, paid, 342_037, date(2026, 2, 10), idempotency_key="bounced")
    close(ws, date(2026, 2, 10), date(2026, 3, 20))
    asked = reversals.ask_reversal(ws, ops, paid, "bounced", "transfer bounced", date(2026, 3, 21))
    assert (asked.status, asked.amount) == ("pending", 342_037)
    with pytest.raises(Refused, match="another person must approve it"):
        reversals.approve_reversal(ws, ops, asked.id, date(2026, 3, 21))
    with pytest.raises(LendflowError, match="may not reverse repayments"):
        reversals.approve_reversal(ws, risk, asked.id, date(2026, 3, 21))
    done = reversals.approve_reversal(ws, admin, asked.id, date(2026, 3, 21))
    assert (done.status, done.decided_by) == ("reversed", "admin")
    assert loan_state(ws, paid) == loan_state(ws, never)
    assert account_totals(ws, paid) == account_totals(ws, never)
    assert "RepaymentReversed" in event_names(ws, paid)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    value_day=st.dates(min_value=date(2026, 1, 12), max_value=date(2026, 3, 9)),
    amount=st.integers(min_value=1, max_value=900_000),
    later=st.integers(min_value=1, max_value=200_000),
)
def test_backdating_is_the_same_as_paying_on_the_day(
    ws, ops, risk, applicant, value_day, amount, later
) -> None:  # type: ignore[no-untyped-def]
    """For any day, amount and later repayment: "repay on D, then close the days" ends
    exactly as "close the days, then repay on D backdated" (balances, penalty, days past
    due, class, journal totals per balance-sheet account)."""
    ordered = open_loan(ws, ops, risk, applicant)
    backdated = open_loan(ws, ops, risk, applicant)
    last = date(2026, 3, 10)
    d = date(2026, 1, 12)
    while d <= last:
        if d == value_day:
            repayments.repay(ws, ops, ordered, amount, d)
        if d == date(2026, 3, 10):
            repayments.repay(ws, ops, ordered, later, d)
            repayments.repay(ws, ops, backdated, later, d)
        cob.close_range(ws, ordered, backdated, d, d, "cob", CONFIG)
        d += DAY
    repayments.repay_backdated(ws, ops, backdated, amount, value_day)
    assert loan_state(ws, backdated) == loan_state(ws, ordered)
    assert account_totals(ws, backdated) == account_totals(ws, ordered)


def test_repayments_dated_after_the_open_date_racing_cob_change_nothing(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    """Finding 2's race: repayments dated 05-01 posted while close of business closes
    03-21 … 04-29 (so 05-01 is after the open date whatever the interleaving). Every
    one is refused, and the book ends as close of business alone leaves it (the
    reference loans, never paid)."""
    racing = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    reference = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    outcomes: list[str] = []

    def pay() -> None:
        for n in range(30):
            loan_id = racing[n % len(racing)]
            try:
                repayments.repay(ws, ops, loan_id, 100_000, date(2026, 5, 1))
                outcomes.append("taken")
            except (BadInput, Refused) as refused:
                outcomes.append(str(refused).split(";")[0])

    payer = threading.Thread(target=pay)
    payer.start()
    cob.close_range(ws, racing[0], racing[-1], date(2026, 3, 21), date(2026, 4, 29), "cob", CONFIG)
    payer.join()
    cob.close_range(
        ws, reference[0], reference[-1], date(2026, 3, 21), date(2026, 4, 29), "cob", CONFIG
    )
    assert "taken" not in outcomes and len(outcomes) == 30
    for raced, untouched in zip(racing, reference, strict=True):
        assert loan_state(ws, raced) == loan_state(ws, untouched)
        assert account_totals(ws, raced) == account_totals(ws, untouched)


def test_a_history_booked_out_of_order_is_rebuilt_from_the_payout(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """A loan paid before close of business ever closed a day of it (allowed), then closed
    through days before that payment, has books no in-order replay gives. Backdated money
    then rebuilds it from its payout, and it ends as a loan booked in order."""
    legacy = open_loan(ws, ops, risk, applicant)
    ordered = open_loan(ws, ops, risk, applicant)
    repayments.repay(ws, ops, legacy, 100_000, date(2026, 2, 20), idempotency_key="early")
    cob.close_range(ws, ordered, ordered, date(2026, 1, 12), date(2026, 2, 19), "cob", CONFIG)
    repayments.repay(ws, ops, ordered, 100_000, date(2026, 2, 20), idempotency_key="o1")
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    assert loan_state(ws, legacy) != loan_state(ws, ordered)  # closed as if paid early
    repayments.repay_backdated(ws, ops, legacy, 50_000, date(2026, 3, 1), "late")
    repayments.repay_backdated(ws, ops, ordered, 50_000, date(2026, 3, 1), "late-o")
    assert loan_state(ws, legacy) == loan_state(ws, ordered)
    assert account_totals(ws, legacy) == account_totals(ws, ordered)
    with ws.engine.connect() as c:
        froms = [
            json.loads(p)["from"]
            for p in c.execute(
                select(events.c.payload)
                .where(events.c.name == "LoanReprocessed")
                .order_by(events.c.id)
            ).scalars()
        ]
    assert froms == ["2026-01-12", "2026-03-01"]
    assert audit.verify(ws, auditor).ok


def state_trail(ws, loan_id: int) -> list[tuple[str | None, str | None]]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return [
            (r.from_state, r.to_state)
            for r in c.execute(
                select(events.c.from_state, events.c.to_state)
                .where(
                    events.c.entity == "loan",
                    events.c.entity_id == str(loan_id),
                    events.c.to_state.is_not(None),
                )
                .order_by(events.c.id)
            )
        ]


def test_a_backdated_payment_that_cures_the_loan_tells_the_move_in_its_trail(
    ws, ops, risk, applicant, auditor
) -> None:  # type: ignore[no-untyped-def]
    """Found by the fault simulator: the loan was booked again as current from the value
    date while its trail still said overdue, so its status and its events disagreed."""
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    assert loan_state(ws, loan_id)["state"] == "overdue"
    repayments.repay_backdated(ws, ops, loan_id, 400_000, date(2026, 2, 12), "bank-0212")
    assert loan_state(ws, loan_id)["state"] == "active"
    trail = state_trail(ws, loan_id)
    assert trail[-1][1] == "active"
    assert all(before[1] == after[0] for before, after in pairwise(trail))
    assert audit.verify(ws, auditor).ok

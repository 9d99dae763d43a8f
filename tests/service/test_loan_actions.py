"""Loan actions the documents promise: waivers, acceleration, restructuring (each asked by
one person, approved by another) and refunds of a credit balance through the gateway.

The loan: cash-easy, 10,000.00 over 6 months at 15.60% (a month's interest is 1.30% of
the balance), a 10.00 service fee with every instalment, penalty 24% a year over 360
days on overdue principal, 3 days' grace; paid out 2026-01-12. Its schedule:

    n  due         principal  interest  fee
    1  2026-02-12  1,613.32   130.00    10.00
    2  2026-03-12  1,634.29   109.03    10.00
    3  2026-04-12  1,655.54    87.78    10.00
    4  2026-05-12  1,677.06    66.26    10.00
    5  2026-06-12  1,698.86    44.46    10.00
    6  2026-07-12  1,720.93    22.37    10.00

Instalment 1 falls overdue at the close of 02-16 (4 days late, past the grace) and
from then carries 1,613.32 x 24% / 360 = 1.0755 -> 1.08 penalty a day; instalment 2
from 03-13 carries 1,634.29 x 24% / 360 = 1.0895 -> 1.09 a day.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from lendflow.domain.errors import BadInput, Forbidden, KeyReused, LendflowError, NotFound, Refused
from lendflow.loans import (
    applications,
    audit,
    disbursement,
    loan_requests,
    refunds,
    repayments,
    reversals,
)
from lendflow.monitoring.kpis import product_kpis
from lendflow.store.tables import (
    documents,
    events,
    instalments,
    journal_entries,
    journal_lines,
    loans,
)
from lendflow.store.tables import (
    refunds as refund_rows,
)
from lendflow.workspace.faults import KILLED_EXIT_CODE
from lendflow.workspace.payments import GatewayError
from tests.service.test_business_dates import close, loan_state

PAID_OUT = date(2026, 1, 12)


def open_loan(ws, ops, risk, applicant) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(amount="10000", term=6), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    return loan.id


def rows(ws, loan_id: int) -> dict[int, dict[str, Any]]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        found = c.execute(
            select(instalments).where(instalments.c.loan_id == loan_id).order_by(instalments.c.n)
        ).mappings()
        return {r["n"]: dict(r) for r in found}


def lines_of(ws, kind: str) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return [
            tuple(r)
            for r in c.execute(
                select(journal_lines.c.account, journal_lines.c.debit, journal_lines.c.credit)
                .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
                .where(journal_entries.c.kind == kind)
                .order_by(journal_lines.c.id)
            ).all()
        ]


def event_names(ws, loan_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return list(
            c.execute(
                select(events.c.name)
                .where(events.c.entity == "loan", events.c.entity_id == str(loan_id))
                .order_by(events.c.id)
            ).scalars()
        )


def clean(ws) -> None:  # type: ignore[no-untyped-def]
    report = audit.verify(ws, ws.actor("auditor"))
    assert report.problems == []


# --- waivers --------------------------------------------------------------------------


def test_a_penalty_waiver_asked_by_one_and_approved_by_another(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    # 02-16 … 02-20: five days of 1.08 on instalment 1
    assert loan_state(ws, loan_id)["penalty_receivable"] == 540
    asked = loan_requests.ask_waiver(
        ws, ops, loan_id, "penalty", 300, "hardship", date(2026, 2, 21)
    )
    assert (asked.status, asked.kind, asked.amount, asked.component) == (
        "pending",
        "waive",
        300,
        "penalty",
    )
    assert loan_state(ws, loan_id)["penalty_receivable"] == 540  # nothing moves when asked
    with pytest.raises(Forbidden, match="may not approve loan actions"):
        loan_requests.approve_request(ws, ops, asked.id, date(2026, 2, 21))
    done = loan_requests.approve_request(ws, risk, asked.id, date(2026, 2, 21))
    assert (done.status, done.decided_by) == ("approved", "risk")
    assert done.loan is not None and done.loan.outstanding.penalty == 240
    state = loan_state(ws, loan_id)
    assert (state["penalty_receivable"], state["state"]) == (240, "overdue")
    assert rows(ws, loan_id)[1]["penalty"] == 240
    assert lines_of(ws, "waiver") == [("penalty_waived", 300, 0), ("penalty_receivable", 0, 300)]
    assert event_names(ws, loan_id)[-2:] == ["LoanActionAsked", "ChargesWaived"]
    clean(ws)
    # close of business charges on as before: 2.40 + 1.08 on 02-21
    close(ws, date(2026, 2, 21), date(2026, 2, 21))
    assert loan_state(ws, loan_id)["penalty_receivable"] == 348
    clean(ws)


def test_a_fee_waiver_takes_the_fee_owed_off_the_oldest_instalment(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    assert loan_state(ws, loan_id)["fee_receivable"] == 2_000  # instalments 1 and 2
    asked = loan_requests.ask_waiver(
        ws, ops, loan_id, "fees", 1_500, "complaint", date(2026, 3, 21)
    )
    loan_requests.approve_request(ws, risk, asked.id, date(2026, 3, 21))
    assert loan_state(ws, loan_id)["fee_receivable"] == 500
    after = rows(ws, loan_id)
    assert (after[1]["fee_waived"], after[2]["fee_waived"], after[3]["fee_waived"]) == (
        1_000,
        500,
        0,
    )
    assert lines_of(ws, "waiver") == [("fee_waived", 1_500, 0), ("fee_receivable", 0, 1_500)]
    clean(ws)
    # the waived fee is never charged again: what is due now is 5.00 of fees
    quote = repayments.quote(ws, ops, loan_id, date(2026, 3, 21))
    assert quote.fees == 500
    clean(ws)


def test_waiving_more_than_is_owed_is_refused_and_changes_nothing(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    before = loan_state(ws, loan_id)
    with pytest.raises(Refused, match=r"cannot waive 5\.41 of penalty; only 5\.40 is owed"):
        loan_requests.ask_waiver(ws, ops, loan_id, "penalty", 541, "hardship", date(2026, 2, 21))
    asked = loan_requests.ask_waiver(
        ws, ops, loan_id, "penalty", 540, "hardship", date(2026, 2, 21)
    )
    # the borrower pays the penalty before the waiver is approved: nothing is left to waive
    repayments.repay(ws, ops, loan_id, 540, date(2026, 2, 21), "pay-penalty")
    paid = loan_state(ws, loan_id)
    with pytest.raises(Refused, match=r"only 0\.00 is owed"):
        loan_requests.approve_request(ws, risk, asked.id, date(2026, 2, 21))
    assert loan_state(ws, loan_id) == paid and paid["penalty_receivable"] == 0
    assert before["penalty_receivable"] == 540
    assert lines_of(ws, "waiver") == []
    clean(ws)


def test_the_person_who_asked_may_not_approve(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    admin = ws.actor("admin")
    asked = loan_requests.ask_waiver(
        ws, admin, loan_id, "penalty", 100, "goodwill", date(2026, 2, 21)
    )
    with pytest.raises(Refused, match="another person must approve it"):
        loan_requests.approve_request(ws, admin, asked.id, date(2026, 2, 21))
    assert loan_state(ws, loan_id)["penalty_receivable"] == 540
    loan_requests.approve_request(ws, risk, asked.id, date(2026, 2, 21))
    with pytest.raises(Refused, match=f"loan request {asked.id} is already approved"):
        loan_requests.approve_request(ws, risk, asked.id, date(2026, 2, 21))
    assert loan_state(ws, loan_id)["penalty_receivable"] == 440


def test_a_request_declined_by_another_is_never_approved_after(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    asked = loan_requests.ask_waiver(
        ws, ops, loan_id, "penalty", 300, "hardship", date(2026, 2, 21)
    )
    before = loan_state(ws, loan_id)
    declined = loan_requests.decline_request(
        ws, risk, asked.id, "  no hardship shown  ", date(2026, 2, 21)
    )
    assert (declined.status, declined.decided_by, declined.decided_on) == (
        "declined",
        "risk",
        date(2026, 2, 21),
    )
    assert (declined.declined_because, declined.reason) == ("no hardship shown", "hardship")
    assert loan_state(ws, loan_id) == before  # nothing moves: 5.40 of penalty still owed
    assert before["penalty_receivable"] == 540
    assert lines_of(ws, "waiver") == []
    assert event_names(ws, loan_id)[-2:] == ["LoanActionAsked", "LoanActionDeclined"]
    with ws.engine.connect() as c:
        told = c.execute(
            select(events.c.payload).where(events.c.name == "LoanActionDeclined")
        ).scalar_one()
    assert json.loads(told) == {
        "customer_id": 1,
        "request_id": asked.id,
        "kind": "waive",
        "asked_by": "ops",
        "component": "penalty",
        "amount": 300,
        "reason": "no hardship shown",
    }
    with pytest.raises(Refused, match=f"loan request {asked.id} is already declined"):
        loan_requests.approve_request(ws, ws.actor("admin"), asked.id, date(2026, 2, 21))
    with pytest.raises(Refused, match=f"loan request {asked.id} is already declined"):
        loan_requests.decline_request(ws, ws.actor("admin"), asked.id, "again", date(2026, 2, 21))
    assert loan_state(ws, loan_id) == before
    listed = loan_requests.list_requests(ws, ops, loan_id).items
    assert [(r.status, r.declined_because) for r in listed] == [("declined", "no hardship shown")]
    # declined, it no longer stands in the way of asking again
    again = loan_requests.ask_waiver(
        ws, ops, loan_id, "penalty", 100, "hardship", date(2026, 2, 21)
    )
    assert again.status == "pending"
    clean(ws)


def test_declining_is_refused_in_one_line_and_changes_nothing(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    admin = ws.actor("admin")
    asked = loan_requests.ask_waiver(
        ws, admin, loan_id, "penalty", 100, "goodwill", date(2026, 2, 21)
    )
    trail = event_names(ws, loan_id)
    day = date(2026, 2, 21)
    with pytest.raises(Refused, match="another person must decline it"):
        loan_requests.decline_request(ws, admin, asked.id, "changed my mind", day)
    with pytest.raises(Forbidden, match="may not decline loan actions"):
        loan_requests.decline_request(ws, ops, asked.id, "not needed", day)
    with pytest.raises(NotFound, match="loan request 999 does not exist"):
        loan_requests.decline_request(ws, risk, 999, "not needed", day)
    with pytest.raises(BadInput, match="--reason: say why in 1 to 200 characters"):
        loan_requests.decline_request(ws, risk, asked.id, "   ", day)
    with pytest.raises(BadInput, match="it cannot be declined on 2026-02-20, before that"):
        loan_requests.decline_request(ws, risk, asked.id, "not needed", date(2026, 2, 20))
    assert loan_requests.list_requests(ws, ops, loan_id).items[0].status == "pending"
    assert event_names(ws, loan_id) == trail
    loan_requests.approve_request(ws, risk, asked.id, day)
    approved = event_names(ws, loan_id)
    with pytest.raises(Refused, match=f"loan request {asked.id} is already approved"):
        loan_requests.decline_request(ws, risk, asked.id, "too late", day)
    assert loan_requests.list_requests(ws, ops, loan_id).items[0].status == "approved"
    assert event_names(ws, loan_id) == approved
    assert loan_state(ws, loan_id)["penalty_receivable"] == 440


def test_an_action_is_approved_only_on_the_open_business_date(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    asked = loan_requests.ask_waiver(
        ws, ops, loan_id, "penalty", 100, "hardship", date(2026, 2, 21)
    )
    with pytest.raises(LendflowError, match="its open business date is 2026-02-21"):
        loan_requests.approve_request(ws, risk, asked.id, date(2026, 2, 23))


# --- acceleration ---------------------------------------------------------------------


def test_acceleration_before_the_products_days_is_refused_with_the_rule(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 5, 12))  # 89 days past due
    with pytest.raises(
        Refused,
        match="refused by rule ACCELERATION_DAYS: loan 1 is 89 days past due; cash-easy"
        " declares a loan due only from 90 days past due",
    ):
        loan_requests.ask_acceleration(ws, ops, loan_id, "no contact", date(2026, 5, 13))


def test_acceleration_makes_every_instalment_fall_due_with_the_interest_earned(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 5, 13))  # 90 days past due
    before = loan_state(ws, loan_id)
    assert (before["dpd"], before["interest_receivable"]) == (90, 39_307)  # instalments 1-4
    asked = loan_requests.ask_acceleration(ws, ops, loan_id, "no contact", date(2026, 5, 14))
    with pytest.raises(Refused, match="already has a accelerate request waiting"):
        loan_requests.ask_acceleration(ws, ops, loan_id, "again", date(2026, 5, 14))
    done = loan_requests.approve_request(ws, risk, asked.id, date(2026, 5, 14))
    assert done.loan is not None and done.loan.accelerated_on == date(2026, 5, 14)
    after = rows(ws, loan_id)
    # instalment 5's period runs 05-12 to 06-12 (31 days): 2 days of 44.46 is 2.87
    # (2.8684 rounded half up); instalment 6 has earned nothing; neither fee is owed
    assert [(after[n]["due_date"], after[n]["interest_waived"], after[n]["fee_waived"])
            for n in (4, 5, 6)] == [
        (date(2026, 5, 12), 0, 0),
        (date(2026, 5, 14), 4_446 - 287, 1_000),
        (date(2026, 5, 14), 2_237, 1_000),
    ]  # fmt: skip
    assert loan_state(ws, loan_id)["state"] == "overdue"
    # nothing was paid ahead to give back; the accrual is trued up to the shortened period:
    # closed through 05-13, instalment 5 had accrued 1 of 31 days, 44.46 / 31 = 1.43, and its
    # new 2-day period, 41.59 of it waived, has earned nothing by then (22.23 - 41.59 < 0)
    assert lines_of(ws, "acceleration") == [
        ("interest_income", 143, 0),
        ("interest_accrued", 0, 143),
    ]
    # the quote on the acceleration date: all principal, interest 393.07 + 2.87, four fees
    quote = repayments.quote(ws, ops, loan_id, date(2026, 5, 14))
    assert (quote.principal, quote.interest, quote.fees) == (1_000_000, 39_594, 4_000)
    with ws.engine.connect() as c:
        kinds = list(
            c.execute(select(documents.c.kind).where(documents.c.loan_id == loan_id)).scalars()
        )
    assert "acceleration-notice" in kinds and done.notice_sha256 is not None
    assert event_names(ws, loan_id)[-2:] == ["LoanAccelerated", "AccelerationNoticeIssued"]
    clean(ws)
    # close of business recognises them on 05-14 and charges penalty on all principal after
    close(ws, date(2026, 5, 14), date(2026, 5, 15))
    state = loan_state(ws, loan_id)
    assert (state["interest_receivable"], state["fee_receivable"]) == (39_594, 4_000)
    assert state["dpd"] == 92
    clean(ws)
    with pytest.raises(Refused, match="already declared due on 2026-05-14"):
        loan_requests.ask_acceleration(ws, ops, loan_id, "again", date(2026, 5, 16))


# --- restructuring --------------------------------------------------------------------


def test_a_restructure_lends_the_payoff_again_on_a_new_schedule(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    state = loan_state(ws, loan_id)
    # penalty: 02-16 … 03-20 is 33 days of 1.08 on instalment 1, 03-13 … 03-20 is 8 of
    # 1.09 on instalment 2: 35.64 + 8.72
    assert (state["state"], state["interest_receivable"], state["fee_receivable"]) == (
        "overdue",
        23_903,
        2_000,
    )
    assert state["penalty_receivable"] == 3_564 + 872
    asked = loan_requests.ask_restructure(
        ws, ops, loan_id, 12, None, "plan agreed", date(2026, 3, 21)
    )
    assert loan_state(ws, loan_id) == state  # asked, not yet approved
    done = loan_requests.approve_request(ws, risk, asked.id, date(2026, 3, 21))
    # instalment 3's period 03-12 to 04-12 (31 days) earned 9 days of 87.78: 25.48
    # (25.4845); everything owed is lent again
    principal = 1_000_000 + 23_903 + 2_000 + 4_436 + 2_548
    assert done.principal == principal == 1_032_887
    after = loan_state(ws, loan_id)
    # current again, but a restructured loan stays special mention for its observation year
    assert (after["state"], after["dpd"], after["classification"]) == (
        "active",
        0,
        "special_mention",
    )
    # the portfolio indicators hold it there too, though its new schedule is not yet due
    shown = product_kpis(ws, ops, "cash-easy", date(2026, 3, 25))
    assert shown.kpis.classes == {"special_mention": 1}
    assert product_kpis(ws, ops, "cash-easy", date(2026, 3, 20)).kpis.classes == {
        "special_mention": 1  # before: 37 days late on its first instalment
    }
    assert after["principal_outstanding"] == principal
    assert (after["interest_receivable"], after["fee_receivable"], after["penalty_receivable"]) == (
        0,
        0,
        0,
    )
    with ws.engine.connect() as c:
        flags = c.execute(
            select(loans.c.restructured_on, loans.c.restructure_count, loans.c.maturity_on).where(
                loans.c.id == loan_id
            )
        ).one()
    assert tuple(flags) == (date(2026, 3, 21), 1, date(2027, 3, 21))
    schedule = rows(ws, loan_id)
    old = [schedule[n] for n in range(1, 7)]
    assert all(r["paid_on"] == date(2026, 3, 21) for r in old)
    assert [r["due_date"] for r in old[2:]] == [date(2026, 3, 21)] * 4  # fell due on 03-21
    new = [schedule[n] for n in range(7, 19)]
    assert sum(r["principal"] for r in new) == principal
    assert (new[0]["due_date"], new[0]["interest"], new[0]["fee"]) == (
        date(2026, 4, 21),
        13_428,  # 10,328.87 x 1.30% = 134.2753
        0,
    )
    assert new[-1]["due_date"] == date(2027, 3, 21)
    # the running period's 25.48: 22.65 accrued through 03-20 (8 of 31 days of 87.78),
    # and the restructure's own day, 2.83, straight to income
    assert lines_of(ws, "restructure") == [
        ("loan_principal", principal, 0),
        ("loan_principal", 0, 1_000_000),
        ("interest_receivable", 0, 23_903),
        ("interest_accrued", 0, 2_265),
        ("interest_income", 0, 283),
        ("fee_receivable", 0, 2_000),
        ("penalty_receivable", 0, 4_436),
    ]
    assert event_names(ws, loan_id)[-1] == "LoanRestructured"
    clean(ws)
    # the new schedule runs: its first period is from 03-21, not from an old due date
    quote = repayments.quote(ws, ops, loan_id, date(2026, 3, 21))
    assert (quote.principal, quote.interest, quote.penalty) == (principal, 0, 0)
    close(ws, date(2026, 3, 21), date(2026, 4, 25))
    assert loan_state(ws, loan_id)["interest_receivable"] == 13_428
    clean(ws)
    repayments.repay(ws, ops, loan_id, 100_000, date(2026, 4, 26), "after-restructure")
    clean(ws)


def test_a_restructure_waits_for_approval_and_a_rate_outside_the_band_is_refused(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 3, 20))
    before = loan_state(ws, loan_id)
    from decimal import Decimal

    with pytest.raises(Refused, match=r"RESTRUCTURE_RATE: .* 9\.00% lies outside cash-easy's band"):
        loan_requests.ask_restructure(
            ws, ops, loan_id, 12, Decimal("9.00"), "plan", date(2026, 3, 21)
        )
    asked = loan_requests.ask_restructure(
        ws, ops, loan_id, 12, Decimal("10.80"), "plan", date(2026, 3, 21)
    )
    assert asked.status == "pending" and asked.annual_rate == Decimal("10.80")
    assert loan_state(ws, loan_id) == before  # asked, not approved: nothing changes
    with ws.engine.connect() as c:
        count = c.execute(
            select(func.count()).select_from(instalments).where(instalments.c.loan_id == loan_id)
        ).scalar_one()
    assert count == 6


def test_a_loan_with_an_action_is_not_reprocessed(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    asked = loan_requests.ask_waiver(
        ws, ops, loan_id, "penalty", 100, "hardship", date(2026, 2, 21)
    )
    loan_requests.approve_request(ws, risk, asked.id, date(2026, 2, 21))
    with pytest.raises(Refused, match="has a waiver booked; it cannot be reprocessed"):
        repayments.repay_backdated(ws, ops, loan_id, 10_000, date(2026, 2, 14), "late-news")
    repayments.repay(ws, ops, loan_id, 10_000, date(2026, 2, 21), "bounced")
    asked = reversals.ask_reversal(ws, ops, loan_id, "bounced", "bounced", date(2026, 2, 21))
    with pytest.raises(Refused, match="cannot be reprocessed"):
        reversals.approve_reversal(ws, ws.actor("admin"), asked.id, date(2026, 2, 21))
    clean(ws)


# --- refunds --------------------------------------------------------------------------


def overpaid(ws, ops, risk, applicant, extra: int) -> int:  # type: ignore[no-untyped-def]
    """The loan settled on 02-10 with `extra` fen more than its payoff: a credit balance."""
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, date(2026, 1, 12), date(2026, 2, 9))
    quote = repayments.quote(ws, ops, loan_id, date(2026, 2, 10))
    paid = repayments.repay(ws, ops, loan_id, quote.total + extra, date(2026, 2, 10), "payoff")
    assert (paid.status, paid.credit_balance) == ("closed", extra)
    return loan_id


def test_a_refund_pays_the_credit_balance_back_once(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = overpaid(ws, ops, risk, applicant, 20_000)
    first = refunds.refund(ws, ops, loan_id, 15_000, "BACK-1", date(2026, 2, 11))
    assert (first.credit_balance, first.refund.amount, first.replayed) == (5_000, 15_000, False)
    again = refunds.refund(ws, ops, loan_id, 15_000, "BACK-1", date(2026, 2, 11))
    assert (again.credit_balance, again.replayed) == (5_000, True)
    assert ws.gateway.payouts()[f"RF-{loan_id}-BACK-1"] == 15_000  # paid once
    assert lines_of(ws, "refund") == [("overpayment", 15_000, 0), ("cash", 0, 15_000)]
    assert event_names(ws, loan_id)[-1] == "CreditRefunded"
    with pytest.raises(KeyReused):
        refunds.refund(ws, ops, loan_id, 1_000, "BACK-1", date(2026, 2, 11))
    with pytest.raises(Refused, match=r"cannot refund 50\.01; its credit balance is 50\.00"):
        refunds.refund(ws, ops, loan_id, 5_001, "BACK-2", date(2026, 2, 11))
    assert loan_state(ws, loan_id)["credit_balance"] == 5_000
    with pytest.raises(Forbidden):
        refunds.refund(ws, risk, loan_id, 5_000, "BACK-3", date(2026, 2, 11))
    refunds.refund(ws, ops, loan_id, 5_000, "BACK-3", date(2026, 2, 11))
    assert loan_state(ws, loan_id)["credit_balance"] == 0
    clean(ws)


def test_a_declined_refund_frees_the_amount_and_a_timeout_finishes_once(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = overpaid(ws, ops, risk, applicant, 10_000)
    ws.gateway.fail_next = 1
    with pytest.raises(GatewayError, match="declined"):
        refunds.refund(ws, ops, loan_id, 10_000, "TRY-1", date(2026, 2, 11))
    assert loan_state(ws, loan_id)["credit_balance"] == 10_000
    ws.gateway.timeout_next, ws.gateway.pay_before_timeout = 1, True
    with pytest.raises(GatewayError, match="timed out"):
        refunds.refund(ws, ops, loan_id, 10_000, "TRY-2", date(2026, 2, 11))
    # TRY-2 may have been paid: its amount stays reserved until it is resumed
    with pytest.raises(Refused, match=r"100\.00 of it already being refunded"):
        refunds.refund(ws, ops, loan_id, 10_000, "TRY-3", date(2026, 2, 11))
    done = refunds.refund(ws, ops, loan_id, 10_000, "TRY-2", date(2026, 2, 12))
    assert done.credit_balance == 0
    payouts = ws.gateway.payouts()
    assert f"RF-{loan_id}-TRY-1" not in payouts and payouts[f"RF-{loan_id}-TRY-2"] == 10_000
    with ws.engine.connect() as c:
        on = c.execute(
            select(journal_entries.c.business_date).where(journal_entries.c.kind == "refund")
        ).scalar_one()
    assert on == date(2026, 2, 11)  # booked on the day it was asked for
    clean(ws)


REFUND = """
import sys
from datetime import date
from lendflow.bootstrap import open_workspace
from lendflow.loans.refunds import refund

ws = open_workspace()
refund(ws, ws.actor("ops"), int(sys.argv[1]), 12_345, "KILL-1", date(2026, 2, 11))
"""


def test_a_refund_killed_after_the_gateway_pays_once_when_resumed(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    loan_id = overpaid(ws, ops, risk, applicant, 20_000)
    env = {
        **os.environ,
        "LENDFLOW_HOME": str(ws.settings.home),
        "LENDFLOW_DATABASE_URL": ws.settings.resolved_database_url,
        "LENDFLOW_FAULT": "refund.after_gateway",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    killed = subprocess.run(
        [sys.executable, "-c", REFUND, str(loan_id)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == KILLED_EXIT_CODE, killed.stderr
    assert loan_state(ws, loan_id)["credit_balance"] == 20_000  # paid, not yet booked
    resumed = refunds.refund(ws, ops, loan_id, 12_345, "KILL-1", date(2026, 2, 12))
    assert resumed.credit_balance == 20_000 - 12_345
    with ws.engine.connect() as c:
        status = c.execute(select(refund_rows.c.status, refund_rows.c.attempts)).one()
    assert tuple(status) == ("paid", 2)
    assert ws.gateway.payouts()[f"RF-{loan_id}-KILL-1"] == 12_345
    clean(ws)

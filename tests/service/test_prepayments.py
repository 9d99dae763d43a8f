"""Partial prepayments with interest recalculated (`loans.prepayments`), on both databases.

The loan: cash-easy's terms (10,000.00 over 6 months at 15.60%, 1.30% a month; a 10.00
service fee with every instalment), paid out 2026-01-12, under a product whose
`prepayment` setting recalculates. Its schedule:

    n  due         principal  interest  fee
    1  2026-02-12  1,613.32   130.00    10.00
    2  2026-03-12  1,634.29   109.03    10.00
    3  2026-04-12  1,655.54    87.78    10.00
    4  2026-05-12  1,677.06    66.26    10.00
    5  2026-06-12  1,698.86    44.46    10.00
    6  2026-07-12  1,720.93    22.37    10.00

The borrower pays instalment 1 (1,753.32) on its due date and prepays 4,000.00 the same
day: 8,386.68 of principal becomes 4,386.68, and instalments 2-6 carried
109.03 + 87.78 + 66.26 + 44.46 + 22.37 = 329.90 of interest.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.errors import BadInput, Refused
from lendflow.loans import applications, audit, disbursement, prepayments, repayments, reversals
from lendflow.products import catalogue as products
from lendflow.store.tables import documents, instalments
from tests.service.test_business_dates import close, loan_state
from tests.service.test_loan_actions import clean, event_names, lines_of, rows

PAID_OUT = date(2026, 1, 12)
FIRST_DUE = date(2026, 2, 12)


def variant(ws, tmp_path: Path, code: str, setting: str) -> str:  # type: ignore[no-untyped-def]
    text = example_product_paths()[0].read_text(encoding="utf-8")
    assert "code: cash-easy" in text
    path = tmp_path / f"{code}.yaml"
    path.write_text(
        text.replace("code: cash-easy", f"code: {code}") + f"prepayment: {setting}\n",
        encoding="utf-8",
    )
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=date(2026, 1, 5))
    return code


@pytest.fixture
def reducing(ws, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    return variant(ws, tmp_path, "cash-less", "reduce_instalment")


@pytest.fixture
def shortening(ws, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    return variant(ws, tmp_path, "cash-short", "reduce_term")


def open_loan(ws, ops, risk, applicant, product: str) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(
        ws, ops, applicant(product=product, amount="10000", term=6), date(2026, 1, 10)
    )
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    return loan.id


def first_paid(ws, ops, risk, applicant, product: str) -> int:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant, product)
    close(ws, PAID_OUT, date(2026, 2, 11))
    repayments.repay(ws, ops, loan_id, 175_332, FIRST_DUE, f"inst-1-{loan_id}")
    return loan_id


def schedule_of(ws, loan_id: int) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    return [
        (r["n"], r["due_date"], r["principal"], r["interest"], r["fee"])
        for r in rows(ws, loan_id).values()
    ]


def test_reduce_instalment_lowers_the_interest_by_the_hand_computed_amount(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, reducing
) -> None:
    loan_id = first_paid(ws, ops, risk, applicant, reducing)
    done = prepayments.prepay(ws, ops, loan_id, 400_000, FIRST_DUE, "pre-1")
    # 4,386.68 over the five months left: 4,386.68 x 0.013 x 1.013^5 / (1.013^5 - 1)
    # = 911.85 a month; interest on 4,386.68, 3,531.86, 2,666.92, 1,791.31, 900.13:
    # 57.03 + 45.91 + 34.66 + 23.25 + 11.70 = 172.55, so 329.90 - 172.55 = 157.35 less
    got = done.prepayment
    assert (got.principal_before, got.principal_after) == (838_668, 438_668)
    assert (got.instalment_before, got.instalment_after) == (174_332, 91_185)
    assert (got.interest_before, got.interest_after, got.interest_saved) == (32_990, 17_255, 15_735)
    assert (got.method, got.schedule_version, got.instalments_dropped) == (
        "reduce_instalment",
        2,
        [],
    )
    assert got.maturity_on == date(2026, 7, 12)
    assert schedule_of(ws, loan_id)[1:] == [
        (2, date(2026, 3, 12), 85_482, 5_703, 1_000),
        (3, date(2026, 4, 12), 86_594, 4_591, 1_000),
        (4, date(2026, 5, 12), 87_719, 3_466, 1_000),
        (5, date(2026, 6, 12), 88_860, 2_325, 1_000),
        (6, date(2026, 7, 12), 90_013, 1_170, 1_000),
    ]
    state = loan_state(ws, loan_id)
    assert (state["state"], state["principal_outstanding"]) == ("active", 438_668)
    assert lines_of(ws, "prepayment") == [("cash", 400_000, 0), ("loan_principal", 0, 400_000)]
    assert event_names(ws, loan_id)[-1] == "InterestRecalculated"
    kept = prepayments.schedule_versions(ws, ops, loan_id).versions
    assert [(v.version, v.reason, v.amount, v.interest) for v in kept] == [
        (1, "payout", 0, 13_000 + 32_990),
        (2, "prepayment", 400_000, 13_000 + 17_255),
    ]
    assert kept[0].instalments[1].principal == 163_429  # the old schedule stays whole
    with ws.engine.connect() as c:
        supplement = c.execute(
            select(documents.c.sha256).where(
                documents.c.loan_id == loan_id, documents.c.kind == "contract-supplement"
            )
        ).scalar_one()
    assert supplement == got.supplement_sha256
    clean(ws)
    # the recalculated instalment falls due and is paid like any other
    close(ws, FIRST_DUE, date(2026, 3, 11))
    paid = repayments.repay(ws, ops, loan_id, 85_482 + 5_703 + 1_000, date(2026, 3, 12), "inst-2")
    assert paid.status == "active" and paid.outstanding.principal == 438_668 - 85_482
    close(ws, date(2026, 3, 12), date(2026, 3, 20))
    clean(ws)


def test_a_replay_of_the_key_is_the_first_answer(ws, ops, risk, applicant, reducing) -> None:  # type: ignore[no-untyped-def]
    loan_id = first_paid(ws, ops, risk, applicant, reducing)
    first = prepayments.prepay(ws, ops, loan_id, 400_000, FIRST_DUE, "pre-1")
    again = prepayments.prepay(ws, ops, loan_id, 400_000, FIRST_DUE, "pre-1")
    assert again.replayed and again.prepayment == first.prepayment
    assert loan_state(ws, loan_id)["principal_outstanding"] == 438_668  # moved once


def test_reduce_term_keeps_the_instalment_and_ends_sooner(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, shortening
) -> None:
    loan_id = first_paid(ws, ops, risk, applicant, shortening)
    done = prepayments.prepay(ws, ops, loan_id, 400_000, FIRST_DUE, "pre-1")
    # 1,743.32 of principal and interest a month: 4,386.68 earns 57.03 (1,686.29 principal),
    # 2,700.39 earns 35.11 (1,708.21), the last 992.18 earns 12.90 on 2026-05-12
    assert schedule_of(ws, loan_id)[1:] == [
        (2, date(2026, 3, 12), 168_629, 5_703, 1_000),
        (3, date(2026, 4, 12), 170_821, 3_511, 1_000),
        (4, date(2026, 5, 12), 99_218, 1_290, 1_000),
    ]
    got = done.prepayment
    assert (got.instalments_dropped, got.maturity_on) == ([5, 6], date(2026, 5, 12))
    assert (got.interest_after, got.interest_saved) == (10_504, 22_486)
    state = loan_state(ws, loan_id)
    assert state["principal_outstanding"] == 438_668
    clean(ws)


def test_what_cannot_be_prepaid_is_refused_and_nothing_changes(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, reducing
) -> None:
    plain = first_paid(ws, ops, risk, applicant, "cash-easy")
    with pytest.raises(Refused, match="rule PREPAYMENT: cash-easy does not recalculate"):
        prepayments.prepay(ws, ops, plain, 100_000, FIRST_DUE)
    loan_id = open_loan(ws, ops, risk, applicant, reducing)
    close(ws, PAID_OUT, date(2026, 2, 12))
    before = loan_state(ws, loan_id)
    with pytest.raises(Refused, match=r"has 1,?753\.32 due and unpaid on 2026-02-13"):
        prepayments.prepay(ws, ops, loan_id, 100_000, date(2026, 2, 13))
    repayments.repay(ws, ops, loan_id, 175_332 + 10_000, date(2026, 2, 13), "more")
    with pytest.raises(Refused, match=r"100\.00 paid ahead on instalments not yet due"):
        prepayments.prepay(ws, ops, loan_id, 100_000, date(2026, 2, 13))
    other = first_paid(ws, ops, risk, applicant, reducing)
    with pytest.raises(Refused, match="that settles the loan"):
        prepayments.prepay(ws, ops, other, 838_668, FIRST_DUE)
    with pytest.raises(BadInput, match="more than zero"):
        prepayments.prepay(ws, ops, other, 0, FIRST_DUE)
    assert loan_state(ws, other)["principal_outstanding"] == 838_668
    assert before["principal_outstanding"] == 1_000_000
    assert prepayments.schedule_versions(ws, ops, other).versions == []
    clean(ws)


def test_a_prepaid_loan_is_not_reprocessed(ws, ops, risk, applicant, reducing) -> None:  # type: ignore[no-untyped-def]
    loan_id = first_paid(ws, ops, risk, applicant, reducing)
    prepayments.prepay(ws, ops, loan_id, 400_000, FIRST_DUE, "pre-1")
    close(ws, FIRST_DUE, date(2026, 2, 20))
    with pytest.raises(Refused, match="has a prepayment booked; it cannot be reprocessed"):
        repayments.repay_backdated(ws, ops, loan_id, 10_000, date(2026, 2, 14), "late-news")
    asked = reversals.ask_reversal(
        ws, ops, loan_id, f"inst-1-{loan_id}", "bounced", date(2026, 2, 21)
    )
    with pytest.raises(Refused, match="has a prepayment booked; it cannot be reprocessed"):
        reversals.approve_reversal(ws, ws.actor("admin"), asked.id, date(2026, 2, 21))
    assert loan_state(ws, loan_id)["principal_outstanding"] == 438_668
    clean(ws)


def test_the_audit_rebuilds_the_recalculated_schedule_and_names_an_edit(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, reducing
) -> None:
    loan_id = first_paid(ws, ops, risk, applicant, reducing)
    prepayments.prepay(ws, ops, loan_id, 400_000, FIRST_DUE, "pre-1")
    clean(ws)
    third = rows(ws, loan_id)[3]
    with ws.engine.begin() as c:
        c.execute(
            instalments.update()
            .where(instalments.c.id == third["id"])
            .values(interest=third["interest"] + 1)
        )
    found = audit.verify(ws, ws.actor("auditor")).problems
    assert found == [
        f"loan {loan_id} instalment 3: interest is 45.92 but the schedule says 45.91",
        f"loan {loan_id}: its instalments differ from schedule version 2 kept for it",
    ]

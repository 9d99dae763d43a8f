"""The borrower-level class rule (policy `classification.borrower_worst_class`): every live
loan of a borrower takes the worst class among them, never a better one than its own
evidence gives, and lets go of it once no loan of the borrower is worse."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.config.policy import Classification
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.store import events
from lendflow.store.tables import loans
from lendflow.store.uow import run_in_transaction

CONFIG = load_cob_config()
DAY = timedelta(days=1)
BORROWER = 900  # one person: both applications carry the same national ID
LATE_PAID_OUT = date(2026, 1, 12)  # first due 2026-02-12, never paid
CURRENT_PAID_OUT = date(2026, 5, 1)  # first due 2026-06-01
SUBSTANDARD_ON = date(2026, 5, 14)  # 91 days after 2026-02-12 (grace of 3 days long passed)
HUNDRED_DAYS = date(2026, 5, 23)  # 100 days after 2026-02-12
RULE = "borrower's worst class (policy classification.borrower_worst_class)"


def worst_class_rule(ws, on: bool) -> None:  # type: ignore[no-untyped-def]
    ws.__dict__["policy"] = ws.policy.model_copy(
        update={"classification": Classification(borrower_worst_class=on)}
    )


def open_loan(ws, ops, risk, applicant, paid_out: date) -> int:  # type: ignore[no-untyped-def]
    asked = paid_out - 2 * DAY
    loan = applications.apply(ws, ops, applicant(amount="10000", term=12, serial=BORROWER), asked)
    applications.start_review(ws, ops, loan.id, asked)
    applications.approve(ws, risk, loan.id, asked + DAY)
    disbursement.disburse(ws, ops, loan.id, paid_out)
    return loan.id


def two_loans(ws, ops, risk, applicant) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """One loan never paid from 2026-01-12, and one of the same borrower paid out on
    2026-05-01 with nothing due before 2026-06-01; closed through 2026-04-30."""
    late = open_loan(ws, ops, risk, applicant, LATE_PAID_OUT)
    cob.close_range(ws, 1, 10_000, LATE_PAID_OUT, CURRENT_PAID_OUT - DAY, "cob", CONFIG)
    current = open_loan(ws, ops, risk, applicant, CURRENT_PAID_OUT)
    return late, current


def standing(ws, loan_id: int) -> tuple[str, str | None, int]:  # type: ignore[no-untyped-def]
    """(class, own class kept beside it, days past due)."""
    with ws.engine.connect() as c:
        row = c.execute(
            select(loans.c.classification, loans.c.own_classification, loans.c.dpd).where(
                loans.c.id == loan_id
            )
        ).one()
    return row[0], row[1], row[2]


def reclassified(ws, loan_id: int) -> list[tuple[date, str, str]]:  # type: ignore[no-untyped-def]
    """(business date, class, reason) of each LoanReclassified event of the loan."""
    found = run_in_transaction(ws.engine, lambda uow: events.for_entity(uow, "loan", str(loan_id)))
    told = [(e["business_date"], json.loads(e["payload"])) for e in found]
    return [
        (on, payload["classification"], payload["reason"])
        for (on, payload), e in zip(told, found, strict=True)
        if e["name"] == "LoanReclassified"
    ]


def test_a_current_loan_takes_the_class_of_the_borrowers_loan_100_days_late(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    worst_class_rule(ws, True)
    late, current = two_loans(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, CURRENT_PAID_OUT, HUNDRED_DAYS, "cob", CONFIG)
    assert standing(ws, late) == ("substandard", None, 100)
    # nothing of its own is due: its own evidence says normal, the borrower's says worse
    assert standing(ws, current) == ("substandard", "normal", 0)
    assert reclassified(ws, current) == [
        (CURRENT_PAID_OUT, "special_mention", f"{RULE}: loan {late} is special_mention"),
        (SUBSTANDARD_ON, "substandard", f"{RULE}: loan {late} is substandard"),
    ]
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_the_rule_lets_go_once_no_loan_of_the_borrower_is_worse(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    worst_class_rule(ws, True)
    late, current = two_loans(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, CURRENT_PAID_OUT, HUNDRED_DAYS, "cob", CONFIG)
    settled_on = HUNDRED_DAYS + DAY
    payoff = repayments.quote(ws, ops, late, settled_on).total
    repayments.repay(ws, ops, late, payoff, settled_on, idempotency_key="settle")
    cob.close_range(ws, 1, 10_000, settled_on, settled_on, "cob", CONFIG)
    assert standing(ws, late)[0] == "normal"  # closed: no longer live
    assert standing(ws, current) == ("normal", None, 0)
    assert reclassified(ws, current)[-1] == (
        settled_on,
        "normal",
        "back to its own class normal: no other live loan of the borrower is worse",
    )
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_with_the_rule_off_the_current_loan_stays_normal(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    worst_class_rule(ws, False)
    late, current = two_loans(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, CURRENT_PAID_OUT, HUNDRED_DAYS, "cob", CONFIG)
    assert standing(ws, late) == ("substandard", None, 100)
    assert standing(ws, current) == ("normal", None, 0)
    assert reclassified(ws, current) == []


def test_turning_the_rule_off_gives_a_loan_its_own_class_back(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    worst_class_rule(ws, True)
    late, current = two_loans(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, CURRENT_PAID_OUT, HUNDRED_DAYS, "cob", CONFIG)
    worst_class_rule(ws, False)
    next_day = HUNDRED_DAYS + DAY
    cob.close_range(ws, 1, 10_000, next_day, next_day, "cob", CONFIG)
    assert standing(ws, late)[0] == "substandard"
    assert standing(ws, current) == ("normal", None, 0)
    assert reclassified(ws, current)[-1] == (
        next_day,
        "normal",
        "back to its own class normal: the rule (policy"
        " classification.borrower_worst_class) is off",
    )
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_a_loan_in_another_chunk_counts_with_the_class_it_has_when_this_one_closes(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """Each chunk writes only its own loans: the current loan's chunk closing a date before
    the late loan's sees yesterday's class of it, and follows it the next day."""
    worst_class_rule(ws, True)
    late, current = two_loans(ws, ops, risk, applicant)
    d = CURRENT_PAID_OUT
    while d <= SUBSTANDARD_ON + DAY:
        cob.close_range(ws, current, current, d, d, "cob", CONFIG)
        cob.close_range(ws, late, late, d, d, "cob", CONFIG)
        if d == SUBSTANDARD_ON:
            assert standing(ws, late)[0] == "substandard"
            assert standing(ws, current) == ("special_mention", "normal", 0)
        d += DAY
    assert standing(ws, current) == ("substandard", "normal", 0)


def test_a_loan_made_worse_by_the_rule_that_pays_its_own_arrears_keeps_the_borrowers_class(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """The current loan falls 9 days late on its own (special mention; substandard by the
    rule) and pays: graded on its own evidence it is normal again, never held as if it had
    been substandard itself; the rule's class stays until close of business weighs it."""
    worst_class_rule(ws, True)
    _, current = two_loans(ws, ops, risk, applicant)
    cob.close_range(ws, 1, 10_000, CURRENT_PAID_OUT, date(2026, 6, 10), "cob", CONFIG)
    assert standing(ws, current) == ("substandard", "special_mention", 9)
    repayments.repay(ws, ops, current, 100_000, date(2026, 6, 11), idempotency_key="arrears")
    assert standing(ws, current) == ("substandard", "normal", 0)
    with ws.engine.connect() as c:
        held = c.execute(select(loans.c.held_since).where(loans.c.id == current)).scalar_one()
    assert held is None
    cob.close_range(ws, 1, 10_000, date(2026, 6, 11), date(2026, 6, 11), "cob", CONFIG)
    assert standing(ws, current) == ("substandard", "normal", 0)
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems

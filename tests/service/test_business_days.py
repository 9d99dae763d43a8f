"""A due date on a public holiday, paid on the next working day, through the real engine.

Three products made from cash-easy (15.60% a year, 0.10% service fee an instalment,
penalty 24% a year / 360 on overdue principal) with no grace days, so that only the
business-day calendar can keep a borrower from being late, differing only in
`schedule.non_working_due`. Each lends 10,000.00 over 3 months on Wednesday 1 July 2026:
scheduled due dates Saturday 1 August, Tuesday 1 September and Thursday 1 October 2026.

2026's National Day holiday is 1–7 October, so the first working day after it is
Thursday 8 October, and Saturday 1 August's is Monday 3 August. Instalments (principal,
interest, fee): 3,290.37 + 130.00 + 10.00 = 3,430.37; 3,333.14 + 87.23 + 10.00 =
3,430.37; 3,376.49 + 43.89 + 10.00 = 3,430.38. A day's penalty on the last one's
principal: 3,376.49 × 24% / 360 = 2.2510 → 2.25.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lendflow.close_of_business import sweep as cob
from lendflow.config.business_calendar import CALENDAR_FILE_NAME
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.domain.business_days import CalendarNotKnown
from lendflow.domain.money import parse_amount
from lendflow.loans import applications, audit, disbursement, repayments, views
from lendflow.products import catalogue as products
from lendflow.store.tables import events, loans

PAID_OUT = date(2026, 7, 1)
DAY = timedelta(days=1)
CONFIG = load_cob_config()


def product_file(folder: Path, code: str, rule: str) -> Path:
    """cash-easy as `code`, with no grace days and `rule` for non-working due dates."""
    source = next(p for p in example_product_paths() if p.stem == "cash-easy")
    text = source.read_text(encoding="utf-8")
    text = text.replace("code: cash-easy", f"code: {code}")
    text = text.replace(
        "  rounding: HALF_UP\n", f"  rounding: HALF_UP\n  non_working_due: {rule}\n"
    )
    text = text.replace("grace_days: 3", "grace_days: 0")
    path = folder / f"{code}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def rules(ws, tmp_path: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The three products, live: rule -> product code."""
    admin = ws.actor("admin")
    codes = {"move": "holiday-move", "keep_with_grace": "holiday-keep", "ignore": "holiday-ignore"}
    for rule, code in codes.items():
        products.import_product(
            ws, admin, product_file(tmp_path, code, rule), activate=True, as_of=PAID_OUT
        )
    return codes


def lend(ws, ops, risk, applicant, product: str) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(product=product, amount="10000", term=3), PAID_OUT)
    applications.start_review(ws, ops, loan.id, PAID_OUT)
    applications.approve(ws, risk, loan.id, PAID_OUT)
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    return loan.id


def close(ws, first: date, last: date) -> None:  # type: ignore[no-untyped-def]
    counts = cob.close_range(ws, 1, 10_000, first, last, "cob", CONFIG)
    assert "weekends_only_judgements" not in counts.model_dump(mode="json")


def due_dates(ws, ops, loan_id: int) -> list[date]:  # type: ignore[no-untyped-def]
    return [i.due_date for i in views.schedule(ws, ops, loan_id).instalments]


def standing(ws, loan_id: int) -> tuple[str, int, int]:  # type: ignore[no-untyped-def]
    """(status, days past due, penalty receivable in fen)."""
    with ws.engine.connect() as c:
        row = c.execute(
            select(loans.c.state, loans.c.dpd, loans.c.penalty_receivable).where(
                loans.c.id == loan_id
            )
        ).one()
    return row.state, row.dpd, row.penalty_receivable


def fell_overdue(ws, loan_id: int) -> list[date]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return list(
            c.execute(
                select(events.c.business_date).where(
                    events.c.entity_id == str(loan_id), events.c.name == "LoanFellOverdue"
                )
            ).scalars()
        )


def pay_first_two(ws, ops, loan_id: int, on_1: date, on_2: date) -> None:  # type: ignore[no-untyped-def]
    """Instalments 1 and 2 paid on the days given, every day up to 30 September closed."""
    close(ws, PAID_OUT, on_1 - DAY)
    repayments.repay(ws, ops, loan_id, parse_amount("3430.37"), on_1)
    close(ws, on_1, on_2 - DAY)
    repayments.repay(ws, ops, loan_id, parse_amount("3430.37"), on_2)
    close(ws, on_2, date(2026, 9, 30))


def test_move_puts_the_due_dates_on_working_days_and_the_payment_on_8_october_is_on_time(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, rules
) -> None:
    loan_id = lend(ws, ops, risk, applicant, rules["move"])
    assert due_dates(ws, ops, loan_id) == [date(2026, 8, 3), date(2026, 9, 1), date(2026, 10, 8)]
    schedule = views.schedule(ws, ops, loan_id)
    assert [i.total for i in schedule.instalments] == [343_037, 343_037, 343_038]
    assert all(i.on_time_until is None for i in schedule.instalments)  # already working days

    pay_first_two(ws, ops, loan_id, date(2026, 8, 3), date(2026, 9, 1))
    close(ws, date(2026, 10, 1), date(2026, 10, 7))
    assert standing(ws, loan_id) == ("active", 0, 0)
    paid = repayments.repay(ws, ops, loan_id, parse_amount("3430.38"), date(2026, 10, 8))
    assert paid.status == "closed"
    assert fell_overdue(ws, loan_id) == []
    assert audit.verify(ws, auditor).ok


def test_keep_with_grace_keeps_1_october_and_counts_days_late_from_9_october(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, rules
) -> None:
    on_time = lend(ws, ops, risk, applicant, rules["keep_with_grace"])
    late = lend(ws, ops, risk, applicant, rules["keep_with_grace"])
    assert due_dates(ws, ops, on_time) == [date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    shown = views.schedule(ws, ops, on_time).instalments
    assert [i.on_time_until for i in shown] == [date(2026, 8, 3), None, date(2026, 10, 8)]

    # both pay instalment 1 on Monday 3 August (due Saturday 1 August): not late
    close(ws, PAID_OUT, date(2026, 8, 2))
    for loan_id in (on_time, late):
        repayments.repay(ws, ops, loan_id, parse_amount("3430.37"), date(2026, 8, 3))
    close(ws, date(2026, 8, 3), date(2026, 8, 31))
    for loan_id in (on_time, late):
        repayments.repay(ws, ops, loan_id, parse_amount("3430.37"), date(2026, 9, 1))
    close(ws, date(2026, 9, 1), date(2026, 10, 7))
    assert standing(ws, on_time) == standing(ws, late) == ("active", 0, 0)

    repayments.repay(ws, ops, on_time, parse_amount("3430.38"), date(2026, 10, 8))
    close(ws, date(2026, 10, 8), date(2026, 10, 8))
    assert standing(ws, late) == ("active", 0, 0)  # 8 October: still on time
    close(ws, date(2026, 10, 9), date(2026, 10, 9))
    # 9 October: one day late, one day's penalty on 3,376.49
    assert standing(ws, late) == ("overdue", 1, 225)
    assert fell_overdue(ws, late) == [date(2026, 10, 9)]
    assert fell_overdue(ws, on_time) == []
    assert audit.verify(ws, auditor).ok


def test_a_working_day_due_date_is_unaffected(ws, ops, risk, applicant, rules) -> None:  # type: ignore[no-untyped-def]
    """Tuesday 1 September unpaid: late on the 2nd under every rule (the first instalment
    paid on Friday 31 July, before its due date under any rule)."""
    loans_by_rule = {rule: lend(ws, ops, risk, applicant, code) for rule, code in rules.items()}
    close(ws, PAID_OUT, date(2026, 7, 30))
    for loan_id in loans_by_rule.values():
        repayments.repay(ws, ops, loan_id, parse_amount("3430.37"), date(2026, 7, 31))
    close(ws, date(2026, 7, 31), date(2026, 9, 2))
    # 3,333.14 × 24% / 360 = 2.2221 → 2.22 for the one day
    for loan_id in loans_by_rule.values():
        assert standing(ws, loan_id) == ("overdue", 1, 222)


def test_ignoring_the_calendar_makes_the_holiday_payer_late(
    ws, ops, risk, applicant, rules
) -> None:  # type: ignore[no-untyped-def]
    """What the rules prevent: under `ignore` the same borrower is late from 2 October."""
    loan_id = lend(ws, ops, risk, applicant, rules["ignore"])
    assert due_dates(ws, ops, loan_id)[2] == date(2026, 10, 1)
    pay_first_two(ws, ops, loan_id, date(2026, 8, 1), date(2026, 9, 1))  # on the Saturday
    close(ws, date(2026, 10, 1), date(2026, 10, 7))
    # late 2–7 October: six days' penalty of 2.25 on 3,376.49
    assert standing(ws, loan_id) == ("overdue", 6, 6 * 225)
    assert fell_overdue(ws, loan_id) == [date(2026, 10, 2)]


def test_the_lenders_calendar_file_overrides_the_package(
    ws, ops, risk, auditor, applicant, rules
) -> None:  # type: ignore[no-untyped-def]
    """A local holiday on Thursday 8 October: the due moves to Friday 9 October."""
    (ws.settings.home / CALENDAR_FILE_NAME).write_text("holidays: [2026-10-08]\n", encoding="utf-8")
    ws.__dict__.pop("calendar", None)  # read once per workspace: this one reads it again
    loan_id = lend(ws, ops, risk, applicant, rules["move"])
    assert due_dates(ws, ops, loan_id)[2] == date(2026, 10, 9)
    assert audit.verify(ws, auditor).ok


def test_closing_a_year_the_calendar_does_not_know_is_refused_for_a_product_that_needs_it(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, rules
) -> None:
    """Loans disbursed 1 July 2026 over 12 months reach 2027, which chinese_calendar 1.11
    does not list: the schedule moves those dates off weekends (and the payout's event
    says so); closing a 2027 day with a keep_with_grace loan is refused, naming the year."""
    year = max(ws.calendar.known_years) + 1
    loan = applications.apply(
        ws, ops, applicant(product=rules["move"], amount="10000", term=12), PAID_OUT
    )
    applications.start_review(ws, ops, loan.id, PAID_OUT)
    applications.approve(ws, risk, loan.id, PAID_OUT)
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    later = [d for d in due_dates(ws, ops, loan.id) if d.year == year]
    assert later and all(d.weekday() < 5 for d in later)
    with ws.engine.connect() as c:
        payload = c.execute(
            select(events.c.payload).where(
                events.c.entity_id == str(loan.id), events.c.name == "LoanDisbursed"
            )
        ).scalar_one()
    assert json.loads(payload)["calendar_assumed_years"] == [year]

    kept = lend(ws, ops, risk, applicant, rules["keep_with_grace"])
    assert kept
    # closing 1 January asks only about 31 December (is a due date of it still on time?)
    close(ws, PAID_OUT, date(year, 1, 1))
    with pytest.raises(CalendarNotKnown, match=f"does not know the public holidays of {year}"):
        close(ws, date(year, 1, 2), date(year, 1, 2))
    assert standing(ws, kept)[1] == (date(year, 1, 1) - date(2026, 8, 3)).days  # unchanged

    # the lender may choose weekends alone for such a year; the run says it did
    (ws.settings.home / CALENDAR_FILE_NAME).write_text(
        "unknown_years: weekends_only\n", encoding="utf-8"
    )
    ws.__dict__.pop("calendar", None)
    counts = cob.close_range(ws, 1, 10_000, date(year, 1, 2), date(year, 1, 2), "cob", CONFIG)
    assert counts.weekends_only_judgements == 1
    assert counts.model_dump(mode="json")["weekends_only_judgements"] == 1

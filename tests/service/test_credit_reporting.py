"""Credit reporting: a small book built through the real use cases, reported for July 2026.

The book (cash-easy, 15.60% a year, 等额本息, a 0.10% service fee with every instalment,
grace 3 days, penalty 24% a year / 360 on overdue principal):

- loan 1: 10,000.00 over 6 months, paid out 2026-01-12, due the 12th. Instalment 1 paid
  late on 20 Feb; 2 on its day (12 Mar); 3 and 4 missed and paid together on 20 May;
  5 on its day (12 Jun); paid off on 1 Jul. Late twice, then closed: its status string
  for July reads, oldest first, 17 months not yet open (Aug 2024 … Dec 2025), January
  (open, nothing due) ``*``, February one overdue ``1``, March ``N``, April one overdue
  ``1``, May two overdue at once (13–20 May) ``2``, June ``N``, July closed ``C``.
- loan 2: 5,000.00 over 6 months, paid out 2026-03-05, every instalment paid on its day.
- loan 3: 3,000.00 over 3 months, paid out 2026-02-01, never paid; its borrower gave no
  credit_reporting consent, so it is never reported.
- loan 4: 8,000.00 over 6 months, paid out 2026-04-20, never paid: at 31 July three
  instalments are overdue (20 May, 20 Jun, 20 Jul), 72 days from the oldest.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications, credit_reporting, disbursement, repayments, views
from lendflow.loans.applications import Application
from lendflow.workspace.credit_bureau import FileBureau

CONFIG = load_cob_config()
DAY = timedelta(days=1)
GOLDEN = Path(__file__).parent / "golden" / "credit_bureau_2026-07.txt"
WITHOUT_REPORTING = "credit_check,personal_information,sensitive_personal_information"


class Book:
    """The workspace's days closed in order, with each action on its open business date."""

    def __init__(self, ws: Any, ops: Any, risk: Any) -> None:
        self.ws, self.ops, self.risk = ws, ops, risk
        self.closed: date | None = None
        self.serial = 500

    def close_through(self, last: date) -> None:
        first = self.closed + DAY if self.closed else last
        if first <= last:
            cob.close_range(self.ws, 1, 10_000, first, last, "cob", CONFIG)
            self.closed = last

    def open_on(self, day: date) -> None:
        """Close every day before `day`, so `day` is the open business date."""
        if self.closed is not None:
            self.close_through(day - DAY)

    def lend(self, amount: str, term: int, on: date, consents: str = "all") -> int:
        self.serial += 1
        application = Application.parse(
            product="cash-easy",
            name="张三",
            national_id=sample_national_id(date(1990, 5, 17), self.serial),
            phone="13812345678",
            monthly_income="20000",
            amount=amount,
            term=term,
            consents=consents,
        )
        self.open_on(on)
        loan = applications.apply(self.ws, self.ops, application, on)
        applications.start_review(self.ws, self.ops, loan.id, on)
        applications.approve(self.ws, self.risk, loan.id, on)
        disbursement.disburse(self.ws, self.ops, loan.id, on)
        if self.closed is None:
            self.closed = on - DAY
        return loan.id

    def instalment(self, loan_id: int, n: int) -> int:
        """What instalment `n` was scheduled to cost (principal, interest and fee), in fen."""
        row = next(r for r in views.schedule(self.ws, self.ops, loan_id).instalments if r.n == n)
        return row.principal + row.interest + row.fee

    def pay(self, loan_id: int, on: date, amount: int, key: str) -> None:
        self.open_on(on)
        repayments.repay(self.ws, self.ops, loan_id, amount, on, key)

    def pay_arrears(self, loan_id: int, on: date, instalments: list[int], key: str) -> None:
        """The instalments that fell due and the penalty charged on them so far."""
        self.open_on(on)
        penalty = views.show(self.ws, self.ops, loan_id, on).outstanding.penalty
        due = sum(self.instalment(loan_id, n) for n in instalments)
        repayments.repay(self.ws, self.ops, loan_id, due + penalty, on, key)

    def pay_off(self, loan_id: int, on: date, key: str) -> None:
        self.open_on(on)
        quote = repayments.quote(self.ws, self.ops, loan_id, on)
        repayments.repay(self.ws, self.ops, loan_id, quote.total, on, key)


def build_book(ws: Any, ops: Any, risk: Any) -> Book:
    book = Book(ws, ops, risk)
    late = book.lend("10000", 6, date(2026, 1, 12))
    careless = book.lend("3000", 3, date(2026, 2, 1), consents=WITHOUT_REPORTING)
    book.pay_arrears(late, date(2026, 2, 20), [1], "a-1")
    good = book.lend("5000", 6, date(2026, 3, 5))
    book.pay(late, date(2026, 3, 12), book.instalment(late, 2), "a-2")
    book.pay(good, date(2026, 4, 5), book.instalment(good, 1), "b-1")
    never = book.lend("8000", 6, date(2026, 4, 20))
    book.pay(good, date(2026, 5, 5), book.instalment(good, 2), "b-2")
    book.pay_arrears(late, date(2026, 5, 20), [3, 4], "a-3")
    book.pay(good, date(2026, 6, 5), book.instalment(good, 3), "b-3")
    book.pay(late, date(2026, 6, 12), book.instalment(late, 5), "a-5")
    book.pay_off(late, date(2026, 7, 1), "a-off")
    book.pay(good, date(2026, 7, 5), book.instalment(good, 4), "b-4")
    book.close_through(date(2026, 7, 31))
    assert (late, careless, good, never) == (1, 2, 3, 4)
    return book


def test_july_report_matches_the_golden_file(ws, ops, risk, auditor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build_book(ws, ops, risk)
    out = tmp_path / "july.txt"
    done = credit_reporting.report_month(
        ws, auditor, "2026-07", date(2026, 8, 3), FileBureau(out)
    )
    print(out.read_text())
    assert out.read_bytes() == GOLDEN.read_bytes()

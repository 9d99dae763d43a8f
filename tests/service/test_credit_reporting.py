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
from sqlalchemy import select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.domain.errors import BadInput, Forbidden, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.loans import (
    applications,
    consents,
    credit_reporting,
    disbursement,
    repayments,
    reversals,
    views,
)
from lendflow.loans.applications import Application
from lendflow.store import credit_reports as store
from lendflow.store.tables import credit_reports
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


def report(ws: Any, actor: Any, path: Path, month: str = "2026-07", on: date = date(2026, 8, 3)):  # type: ignore[no-untyped-def]
    return credit_reporting.report_month(ws, actor, month, on, FileBureau(path))


def kept(ws: Any, month: str = "2026-07") -> list[tuple[int, int]]:
    with ws.engine.connect() as c:
        rows = c.execute(
            select(credit_reports.c.loan_id, credit_reports.c.revision)
            .where(credit_reports.c.month == month)
            .order_by(credit_reports.c.loan_id, credit_reports.c.revision)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def records(path: Path) -> dict[str, list[str]]:
    """The file's account and correction records by account id."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("|")[2]: line.split("|") for line in lines if line[0] in "AC"}


def test_july_report_matches_the_golden_file(ws, ops, risk, auditor, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    book = build_book(ws, ops, risk)
    out = tmp_path / "july.txt"
    monkeypatch.setattr(store, "CHUNK", 2)  # read two loans at a time: a chunk's edge
    done = report(ws, auditor, out)
    assert out.read_bytes() == GOLDEN.read_bytes()
    assert (done.records, done.corrections, done.first_reported) == (3, 0, 3)
    assert done.outstanding == 170989 + 800000  # loans 3 and 4 owe principal; 1 is closed
    assert kept(ws) == [(1, 0), (3, 0), (4, 0)]  # loan 2 gave no credit_reporting consent
    # The figures, worked by hand. Loan 1 paid off on 1 July: instalment 6's principal
    # 1,720.93 and 19 of its period's 30 days of interest, 22.37 x 19/30 = 14.17.
    assert records(out)["LF-C-00000001"][9] == "1735.10"
    # Loan 4 at 31 July: instalments 1-3 of 1,402.65 unpaid since 20 May (72 days), with
    # the penalty close of business charged on them, 8,000.00 of principal still owed.
    row = records(out)["LF-C-00000004"]
    penalty = views.show(ws, ops, 4, date(2026, 8, 1)).outstanding.penalty
    assert book.instalment(4, 1) == book.instalment(4, 2) == book.instalment(4, 3) == 140265
    assert row[11:14] == [f"{(3 * 140265 + penalty) / 100:.2f}", "72", row[13]]
    assert penalty == 10469


def test_a_loan_late_twice_then_closed_reads_as_worked_by_hand(
    ws, ops, risk, auditor, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    build_book(ws, ops, risk)
    july = records(_report(ws, auditor, tmp_path, "2026-07"))["LF-C-00000001"][13]
    # Aug 2024 … Dec 2025 not open; January nothing due; February late (paid 20 Feb);
    # March on time; April late; May two instalments late at once; June on time; July closed.
    assert july == "/" * 17 + "*" + "1" + "N" + "1" + "2" + "N" + "C"
    may = records(_report(ws, auditor, tmp_path, "2026-05"))["LF-C-00000001"][13]
    assert may == "/" * 19 + "*1N12"


def _report(ws: Any, auditor: Any, folder: Path, month: str) -> Path:
    path = folder / f"{month}.txt"
    report(ws, auditor, path, month)
    return path


def test_a_changed_month_goes_out_again_as_corrections(ws, ops, risk, auditor, tmp_path) -> None:  # type: ignore[no-untyped-def]
    build_book(ws, ops, risk)
    first = tmp_path / "first.txt"
    report(ws, auditor, first)
    again = tmp_path / "again.txt"
    done = report(ws, auditor, again, on=date(2026, 8, 4))
    assert again.read_bytes() == first.read_bytes()  # same book, same bytes
    assert (done.corrections, done.first_reported) == (0, 0)
    assert kept(ws) == [(1, 0), (3, 0), (4, 0)]  # nothing new to keep
    # Loan 3's July repayment bounced (reversed); loan 4's borrower paid 2,000.00 on
    # 25 July, which reached the lender late (backdated).
    admin = ws.actor("admin")
    asked = reversals.ask_reversal(ws, ops, 3, "b-4", "transfer bounced", date(2026, 8, 1))
    reversals.approve_reversal(ws, admin, asked.id, date(2026, 8, 1))
    repayments.repay_backdated(ws, ops, 4, 200000, date(2026, 7, 25), "d-late")
    corrected = tmp_path / "corrected.txt"
    done = report(ws, auditor, corrected, on=date(2026, 8, 5))
    assert (done.records, done.corrections, done.first_reported) == (3, 2, 0)
    before, after = records(first), records(corrected)
    assert after["LF-C-00000001"] == before["LF-C-00000001"]
    good = after["LF-C-00000003"]
    assert good[:2] == ["C", "1"]
    # Instalment 4 (871.66 + 5.00 fee, due 5 July; principal 838.53) is unpaid at 31 July:
    # 26 days late, overdue from 9 July (grace 3 days), penalty 838.53 x 24%/360 = 0.56 a
    # day for 23 days = 12.88; principal owed 1,709.89 + 838.53 = 2,548.42; July now
    # shows one instalment overdue.
    assert good[8:] == [
        "876.66", "0.00", "2548.42", "889.54", "26", "///////////////////*NNN1", "2"
    ]  # fmt: skip
    # Loan 4 (instalments of 1,394.65 + 8.00 fee; principal 1,290.65, 1,307.43, 1,324.43).
    # Penalty to 24 July, a day on each overdue principal x 24%/360: 0.86 from 24 May
    # (62 days, 53.32), 0.87 from 21 June (34 days, 29.58), 0.88 from 21 July (4 days,
    # 3.52). The 2,000.00 of 25 July paid instalment 1 whole with its penalty (1,455.97),
    # then on instalment 2 its penalty 29.58, fee 8.00, interest 87.22 and 419.23 of
    # principal: principal owed 8,000.00 - 1,290.65 - 419.23 = 6,290.12. At 31 July it
    # owes 888.20 of instalment 2 and 1,402.65 of instalment 3, penalty 3.52 + 7 x 0.88 on
    # instalment 3 and 7 x 0.59 on instalment 2's 888.20: 2,304.66 overdue, the oldest due
    # 20 June, 41 days before.
    never = after["LF-C-00000004"]
    assert never[:2] == ["C", "1"] and never[9:14] == [
        "2000.00", "6290.12", "2304.66", "41", "////////////////////*123"
    ]  # fmt: skip
    # The same as the loan's own balances say is owed on instalments 2 and 3.
    owed = views.show(ws, ops, 4, date(2026, 8, 1)).outstanding
    not_due = sum(r.principal for r in views.schedule(ws, ops, 4).instalments if r.n in (4, 5, 6))
    arrears = owed.principal - not_due + owed.interest + owed.fees + owed.penalty
    assert never[11:14] == [f"{arrears / 100:.2f}", "41", "////////////////////*123"]
    assert corrected.read_text().splitlines()[-1].split("|")[:3] == ["T", "3", "2"]
    assert kept(ws) == [(1, 0), (3, 0), (3, 1), (4, 0), (4, 1)]
    # Run once more: the corrections stand as they went out, nothing new is kept.
    last = tmp_path / "last.txt"
    report(ws, auditor, last, on=date(2026, 8, 6))
    assert last.read_bytes() == corrected.read_bytes()
    assert kept(ws) == [(1, 0), (3, 0), (3, 1), (4, 0), (4, 1)]


def test_a_month_not_closed_is_refused_and_nothing_is_written(
    ws, ops, risk, auditor, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    book = Book(ws, ops, risk)
    book.lend("10000", 6, date(2026, 1, 12))
    book.lend("5000", 3, date(2026, 6, 1))
    book.close_through(date(2026, 7, 30))
    out = tmp_path / "july.txt"
    with pytest.raises(Refused) as refused:
        report(ws, auditor, out)
    assert refused.value.message == (
        "month 2026-07 is not closed: close of business has closed loan 1 only through"
        " 2026-07-30 (2 live loans behind); close 2026-07-31 first"
    )
    with pytest.raises(Refused, match="month 2026-08 is not over on 2026-08-31"):
        report(ws, auditor, out, "2026-08", date(2026, 8, 31))
    with pytest.raises(BadInput, match="the month must be 01 to 12"):
        report(ws, auditor, out, "2026-13")
    assert not out.exists() and kept(ws) == []
    book.close_through(date(2026, 7, 31))
    assert report(ws, auditor, out).records == 2


def test_only_loans_with_credit_reporting_consent_in_force_are_reported(
    ws, ops, risk, auditor, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    book = Book(ws, ops, risk)
    book.lend("10000", 6, date(2026, 1, 12))
    book.close_through(date(2026, 2, 28))
    consents.withdraw(ws, ops, 1, "credit_reporting", date(2026, 2, 10))
    assert report(ws, auditor, tmp_path / "jan.txt", "2026-01").records == 1
    assert report(ws, auditor, tmp_path / "feb.txt", "2026-02").records == 0
    assert (tmp_path / "feb.txt").read_text() == "H|LFCR|1|2026-02|2026-02-28\nT|0|0|0.00\n"


def test_reporting_takes_the_right_to_report(ws, ops, risk, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Forbidden, match="may not report to the credit reference system"):
        report(ws, risk, tmp_path / "july.txt")
    assert not (tmp_path / "july.txt").exists()


def test_the_command_line_writes_the_file_and_says_so_in_one_line(
    ws, ops, risk, lendflow, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", ws.settings.resolved_database_url)
    build_book(ws, ops, risk)
    out = tmp_path / "july.txt"
    bad = lendflow(f"report credit-bureau --month 2026-13 --out {out} --as auditor")
    assert bad.exit_code == 2
    assert bad.error() == "error: --month is not a month: '2026-13' (the month must be 01 to 12)"
    early = lendflow(
        f"report credit-bureau --month 2026-08 --out {out} --as auditor --on 2026-08-10"
    )
    assert early.exit_code == 1 and "month 2026-08 is not over" in early.error()
    assert not out.exists()
    nowhere = lendflow(
        f"report credit-bureau --month 2026-07 --out {tmp_path / 'no' / 'july.txt'}"
        " --as auditor --on 2026-08-03"
    )
    assert nowhere.exit_code == 2 and "cannot write" in nowhere.error()
    assert kept(ws) == []  # the month is kept as reported only once it went out
    done = lendflow(
        f"report credit-bureau --month 2026-07 --out {out} --as auditor --on 2026-08-03"
    )
    assert done.exit_code == 0, done.stderr
    assert out.read_bytes() == GOLDEN.read_bytes()
    line = done.stdout.strip()
    assert "\n" not in line
    assert line.startswith(
        "credit bureau 2026-07: 3 records (0 corrections, 3 first reported), outstanding"
        f" 9709.89, written to {out} (sha256 "
    )

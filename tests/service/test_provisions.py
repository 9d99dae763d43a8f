"""Month-end provisions by class, write-offs against the allowance, recoveries booked back,
and the finance team's reports over the journal (SQLite, and PostgreSQL when set).

cash-easy, 3 monthly instalments, grace 3 days. A book of three loans, none repaid:
  A 10,000.00 paid out 12 Jan 2026: first due 12 Feb, 138 days past due on 30 Jun -> 次级
  B  6,000.00 paid out 12 May 2026: first due 12 Jun, 18 days past due on 30 Jun -> 关注
  C  3,000.00 paid out 20 Jun 2026: nothing due yet on 30 Jun -> 正常
Provisions on 30 Jun (default rates): A 30% = 3,000.00, B 3% = 180.00, C 1.5% = 45.00,
together 3,225.00. On 31 May A was already 次级 (108 days) at 3,000.00 and B 正常 at
1.5% = 90.00, so the 30 Jun entry is the change: B +90.00, C +45.00 = 135.00.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from lendflow.accounting import ledger
from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.domain.credit_reporting import Month
from lendflow.domain.errors import Forbidden
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.store.tables import journal_entries, journal_lines, loan_provisions

CONFIG = load_cob_config()
GOLDEN = Path(__file__).with_name("golden") / "journal_2026-01.csv"


def open_loan(ws, ops, risk, applicant, on: date, amount: str) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(amount=amount, term=3), on)
    applications.start_review(ws, ops, loan.id, on)
    applications.approve(ws, risk, loan.id, on)
    disbursement.disburse(ws, ops, loan.id, on)
    return loan.id


def close(ws, first: date, last: date) -> None:  # type: ignore[no-untyped-def]
    cob.close_range(ws, 1, 10_000, first, last, "cob", CONFIG)


def small_book(ws, ops, risk, applicant) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    a = open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2026, 5, 11))
    b = open_loan(ws, ops, risk, applicant, date(2026, 5, 12), "6000")
    close(ws, date(2026, 5, 12), date(2026, 6, 19))
    c = open_loan(ws, ops, risk, applicant, date(2026, 6, 20), "3000")
    close(ws, date(2026, 6, 20), date(2026, 6, 30))
    return a, b, c


def allowance_lines(ws, on: date) -> dict[int | None, tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Each line of the provision entry of `on`: loan -> (debit, credit)."""
    with ws.engine.connect() as c:
        rows = c.execute(
            select(journal_lines.c.loan_id, journal_lines.c.debit, journal_lines.c.credit)
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(journal_entries.c.kind == "provision", journal_entries.c.business_date == on)
        ).all()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_a_small_book_is_provided_for_by_class_at_each_month_end(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    _a, b, c = small_book(ws, ops, risk, applicant)
    assert allowance_lines(ws, date(2026, 6, 30)) == {
        b: (0, 9_000),
        c: (0, 4_500),
        None: (13_500, 0),  # the provision expense of the chunk
    }
    assert allowance_lines(ws, date(2026, 6, 15)) == {}  # not a month end: nothing
    found = ledger.provisions(ws, auditor, date(2026, 7, 3))
    assert found.month_end == date(2026, 6, 30)
    assert [
        (x.classification, x.loans, x.principal, x.rate, x.provision) for x in found.classes
    ] == [
        ("normal", 1, 300_000, Decimal("1.5"), 4_500),
        ("special_mention", 1, 600_000, Decimal("3"), 18_000),
        ("substandard", 1, 1_000_000, Decimal("30"), 300_000),
    ]
    assert (found.specific, found.general, found.total) == (322_500, 0, 322_500)
    assert found.allowance == found.allowance_at_month_end == 322_500
    shown = found.model_dump(mode="json")
    assert shown["total"] == "3225.00" and shown["classes"][0]["provision"] == "45.00"
    earlier = ledger.provisions(ws, auditor, date(2026, 6, 29))
    assert earlier.month_end == date(2026, 5, 31) and earlier.total == 300_000 + 9_000
    assert audit.verify(ws, auditor).ok


def test_the_general_provision_is_added_on_every_live_loan(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """1% general on the 10,000.00 loan, normal on 31 Jan: 150.00 + 100.00 = 250.00."""
    ws.policy = ws.policy.model_copy(
        update={
            "provisions": ws.policy.provisions.model_copy(update={"general_percent": Decimal(1)})
        }
    )
    loan = open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2026, 1, 31))
    assert allowance_lines(ws, date(2026, 1, 31)) == {loan: (0, 25_000), None: (25_000, 0)}
    found = ledger.provisions(ws, auditor, date(2026, 1, 31))
    assert (found.specific, found.general, found.allowance) == (15_000, 10_000, 25_000)
    assert audit.verify(ws, auditor).ok


def test_a_loan_paid_off_is_released_at_the_next_month_end(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan = open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2026, 2, 2))
    assert allowance_lines(ws, date(2026, 1, 31)) == {loan: (0, 15_000), None: (15_000, 0)}
    quote = repayments.quote(ws, ops, loan, date(2026, 2, 3))
    repayments.repay(ws, ops, loan, quote.total, date(2026, 2, 3))
    close(ws, date(2026, 2, 3), date(2026, 2, 28))
    assert allowance_lines(ws, date(2026, 2, 28)) == {loan: (15_000, 0), None: (0, 15_000)}
    assert ledger.provisions(ws, auditor, date(2026, 2, 28)).allowance == 0
    assert audit.verify(ws, auditor).ok


def test_a_write_off_uses_the_allowance_and_a_recovery_is_booked_back(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """Never repaid, the loan is 可疑 on 31 Jan 2027 (60% of 10,000.00 = 6,000.00) and is
    written off at 360 days past due on 10 Feb 2027: the allowance pays 6,000.00 of the
    loss, the rest is expense. 500.00 recovered on 15 Feb goes back to the allowance and
    is released against the provision expense on 28 Feb."""
    loan = open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2027, 2, 14))
    assert allowance_lines(ws, date(2027, 1, 31)) == {}  # 可疑 since November: no change
    with ws.engine.connect() as c:
        kept = c.execute(
            select(loan_provisions.c.classification, loan_provisions.c.specific).where(
                loan_provisions.c.month_end == date(2027, 1, 31)
            )
        ).one()
        written = c.execute(
            select(journal_lines.c.account, journal_lines.c.debit, journal_lines.c.credit)
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(journal_entries.c.kind == "write_off")
        ).all()
    assert tuple(kept) == ("doubtful", 600_000)
    debits = {account: debit for account, debit, _ in written if debit}
    # what was held in suspense (non-accrual) was never income: it is no loss either
    held = debits.pop("interest_suspense", 0) + debits.pop("penalty_suspense", 0)
    loss = sum(credit for _, _, credit in written) - held
    assert held > 0
    assert debits == {"loan_loss_allowance": 600_000, "write_off_expense": loss - 600_000}
    assert ledger.provisions(ws, auditor, date(2027, 2, 14)).allowance == 0

    repayments.repay(ws, ops, loan, 50_000, date(2027, 2, 15))
    assert ledger.provisions(ws, auditor, date(2027, 2, 15)).allowance == 50_000
    close(ws, date(2027, 2, 15), date(2027, 2, 28))
    assert allowance_lines(ws, date(2027, 2, 28)) == {loan: (50_000, 0), None: (0, 50_000)}

    month = ledger.month_end(ws, auditor, Month(2027, 2))
    assert (month.written_off, month.written_off_from_allowance) == (loss, 600_000)
    assert month.recoveries == 50_000 and month.provision_charged == -50_000
    assert month.provisions.allowance == 0
    assert audit.verify(ws, auditor).ok


def test_a_backdated_repayment_provides_for_the_month_end_again(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """Overdue on 31 Mar (关注: 3% of 10,000.00 = 300.00); a payment dated 13 Feb of the
    first two instalments, booked in April, leaves it current then: the March provision is
    reversed for the loan and made again at 1.5% of what the journal then holds."""
    loan = open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2026, 4, 2))
    assert ledger.provisions(ws, auditor, date(2026, 4, 2)).classes[0].classification == (
        "special_mention"
    )
    repayments.repay_backdated(ws, ops, loan, 700_000, date(2026, 2, 13))
    found = ledger.provisions(ws, auditor, date(2026, 4, 2))
    assert [x.classification for x in found.classes] == ["normal"]
    assert found.allowance == found.total == found.classes[0].provision
    assert found.classes[0].provision == (found.classes[0].principal * 15 + 500) // 1000
    assert audit.verify(ws, auditor).ok


def test_the_audit_names_an_allowance_that_is_not_the_provision(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    loan = open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2026, 2, 1))
    with ws.engine.begin() as c:
        c.execute(update(loan_provisions).values(specific=14_000))
    problems = audit.verify(ws, auditor).problems
    assert f"loan {loan}: provision of 2026-01-31 is 140.00 but its allowance then is 150.00" in (
        problems
    )
    assert f"loan {loan}: provision of 2026-01-31: 1.5% of 10000.00 is 150.00, not 140.00" in (
        problems
    )
    with ws.engine.begin() as c:
        c.execute(loan_provisions.delete())
        c.execute(loan_provisions.insert().values(
            month_end=date(2025, 12, 31), loan_id=loan, classification="normal", principal=0,
            rate="0", specific=0, general=0,
        ))  # fmt: skip
    problems = audit.verify(ws, auditor).problems
    assert f"loan {loan}: closed through 2026-02-01 but not provided for at 2026-01-31" in problems


def test_the_trial_balance_balances_and_is_the_journal(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    small_book(ws, ops, risk, applicant)
    found = ledger.trial_balance(ws, auditor, date(2026, 6, 30))
    assert found.total_debit == found.total_credit > 0
    with ws.engine.connect() as c:
        net = dict(
            c.execute(
                select(
                    journal_lines.c.account,
                    func.sum(journal_lines.c.debit - journal_lines.c.credit),
                ).group_by(journal_lines.c.account)
            ).all()
        )
    by_code = {a.code: a for a in found.accounts}
    assert {code: int(v) for code, v in net.items()} == {
        code: a.balance for code, a in by_code.items() if code in net
    }
    assert by_code["loan_principal"].debit == 1_900_000  # nothing repaid: 10,000 + 6,000 + 3,000
    assert by_code["loan_loss_allowance"].credit == 322_500
    assert by_code["loan_loss_allowance"].name == "贷款损失准备"
    before = ledger.trial_balance(ws, auditor, date(2026, 1, 11))
    assert before.total_debit == before.total_credit == 0
    shown = found.model_dump(mode="json")
    assert set(shown) == {"as_of", "accounts", "total_debit", "total_credit"}
    assert set(shown["accounts"][0]) == {"code", "name", "gl_code", "debit", "credit", "balance"}


def test_the_journal_export_is_the_golden_csv(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    open_loan(ws, ops, risk, applicant, date(2026, 1, 12), "10000")
    close(ws, date(2026, 1, 12), date(2026, 2, 12))
    content, done = ledger.export_journal(ws, auditor, date(2026, 1, 1), date(2026, 1, 31))
    assert content.decode("utf-8") == GOLDEN.read_text(encoding="utf-8")
    # the payout, 19 nights of accrual (13 to 31 Jan) and the month end's provision
    assert (done.lines, done.entries) == (42, 21)
    accrued = sum(
        int(Decimal(line.split(",")[8]) * 100)
        for line in content.decode("utf-8").splitlines()
        if ",accrual,,interest_income," in line
    )
    assert accrued > 0
    assert done.total_debit == done.total_credit == 1_000_000 + 15_000 + accrued


def test_the_ledger_is_read_by_auditors_and_finance_only(  # type: ignore[no-untyped-def]
    ws, ops, applicant
) -> None:
    with pytest.raises(Forbidden, match="may not read the ledger"):
        ledger.trial_balance(ws, ops, date(2026, 1, 5))
    finance = ws.actor("finance")
    assert ledger.provisions(ws, finance, date(2026, 1, 5)).month_end is None

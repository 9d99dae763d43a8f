"""Double-entry bookkeeping: the chart of accounts and balanced journal entries.

Every money movement is one entry whose debits equal its credits. A loan's
stored balances are a cache of its lines per account; `audit verify` rebuilds
them from the journal and compares.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from lendflow.domain.errors import LendflowError


class Account(StrEnum):
    """The chart of accounts."""

    CASH = "cash"  # settlement account at the bank / payment channel
    LOAN_PRINCIPAL = "loan_principal"  # principal receivable
    INTEREST_RECEIVABLE = "interest_receivable"
    FEE_RECEIVABLE = "fee_receivable"
    PENALTY_RECEIVABLE = "penalty_receivable"
    INTEREST_INCOME = "interest_income"
    FEE_INCOME = "fee_income"
    PENALTY_INCOME = "penalty_income"
    OVERPAYMENT = "overpayment"  # customer credit balance: a liability
    WRITE_OFF_EXPENSE = "write_off_expense"
    RECOVERY_INCOME = "recovery_income"
    MARKETING_EXPENSE = "marketing_expense"
    # Contra-income: penalty and fees the lender gave up after charging them (a waiver
    # both people approved). Debited, so the income accounts keep what was charged.
    PENALTY_WAIVED = "penalty_waived"
    FEE_WAIVED = "fee_waived"
    # Accrual accounting (`domain.accrual`). Interest earned and not yet fallen due, net of
    # interest received before it was earned: close of business debits it day by day.
    INTEREST_ACCRUED = "interest_accrued"
    # An upfront fee not yet earned: a liability released period by period over the term.
    DEFERRED_FEE_INCOME = "deferred_fee_income"
    # Non-accrual: interest and penalty of a non-performing loan held back from income
    # until the borrower pays them (contra-assets against the receivables).
    INTEREST_SUSPENSE = "interest_suspense"
    PENALTY_SUSPENSE = "penalty_suspense"
    # Loan-loss provisions: the allowance (贷款损失准备) is a contra-asset held per loan and
    # credit-normal; month-end close of business moves it to each loan's provision against
    # the expense, a write-off uses it and a recovery is credited back to it.
    LOAN_LOSS_ALLOWANCE = "loan_loss_allowance"
    PROVISION_EXPENSE = "provision_expense"


# Loan balance column -> (account, +1 when the balance is debit-normal, -1 credit-normal)
LOAN_BALANCES: dict[str, tuple[Account, int]] = {
    "principal_outstanding": (Account.LOAN_PRINCIPAL, 1),
    "interest_receivable": (Account.INTEREST_RECEIVABLE, 1),
    "fee_receivable": (Account.FEE_RECEIVABLE, 1),
    "penalty_receivable": (Account.PENALTY_RECEIVABLE, 1),
    "credit_balance": (Account.OVERPAYMENT, -1),
    "interest_suspended": (Account.INTEREST_SUSPENSE, -1),
    "penalty_suspended": (Account.PENALTY_SUSPENSE, -1),
}


class UnbalancedEntry(LendflowError):
    """A programming error: an entry whose debits and credits differ."""


@dataclass(frozen=True, slots=True)
class Line:
    account: Account
    debit: int = 0
    credit: int = 0


@dataclass
class EntryDraft:
    """A journal entry being built; `lines()` refuses to hand out an unbalanced one."""

    kind: str
    memo: str = ""
    _lines: list[Line] = field(default_factory=list)

    def debit(self, account: Account, amount: int) -> EntryDraft:
        if amount:
            self._add(Line(account, debit=amount))
        return self

    def credit(self, account: Account, amount: int) -> EntryDraft:
        if amount:
            self._add(Line(account, credit=amount))
        return self

    def _add(self, line: Line) -> None:
        if line.debit < 0 or line.credit < 0:
            raise UnbalancedEntry(f"{self.kind}: negative amount on {line.account}")
        self._lines.append(line)

    def lines(self) -> list[Line]:
        debits = sum(line.debit for line in self._lines)
        credits = sum(line.credit for line in self._lines)
        if debits != credits:
            raise UnbalancedEntry(f"{self.kind}: debits {debits} != credits {credits}")
        if not self._lines:
            raise UnbalancedEntry(f"{self.kind}: an entry needs lines")
        return list(self._lines)


def balance_changes(lines: Iterable[Line]) -> dict[str, int]:
    """How an entry's lines move a loan's stored balance columns."""
    changes = dict.fromkeys(LOAN_BALANCES, 0)
    by_account = {account: (column, sign) for column, (account, sign) in LOAN_BALANCES.items()}
    for line in lines:
        target = by_account.get(line.account)
        if target:
            column, sign = target
            changes[column] += sign * (line.debit - line.credit)
    return changes


INCOME_TYPES: dict[str, tuple[Account, Account | None]] = {
    "interest": (Account.INTEREST_INCOME, None),
    "fee": (Account.FEE_INCOME, Account.FEE_WAIVED),
    "penalty": (Account.PENALTY_INCOME, Account.PENALTY_WAIVED),
    "recovery": (Account.RECOVERY_INCOME, None),
}
"""Income by type for the month-end report: its account and the contra account that
keeps what was given up after being charged."""
ACCRUED_ACCOUNTS = (
    Account.INTEREST_RECEIVABLE,
    Account.FEE_RECEIVABLE,
    Account.PENALTY_RECEIVABLE,
    Account.INTEREST_ACCRUED,
)
"""Income earned and not yet received: the receivables and the interest accrued."""
SUSPENSE_ACCOUNTS: tuple[Account, ...] = (Account.INTEREST_SUSPENSE, Account.PENALTY_SUSPENSE)
"""Income of loans in non-accrual held back until the borrower pays it (credit-normal)."""


def trial_balance(
    sums: dict[str, tuple[int, int]], chart: Iterable[str] = tuple(Account)
) -> list[tuple[str, int, int, int]]:
    """(account, debit balance, credit balance, signed balance) for every account of the
    chart, in its order, then any other the sums hold (by code): an account's net
    balance stands on one side, so the two columns' totals agree when the journal does."""
    codes = [str(c) for c in chart]
    codes += sorted(code for code in sums if code not in codes)
    rows = []
    for code in codes:
        debit, credit = sums.get(code, (0, 0))
        balance = debit - credit
        rows.append((code, max(balance, 0), max(-balance, 0), balance))
    return rows

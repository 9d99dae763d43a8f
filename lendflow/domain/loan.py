"""The loan aggregate: one loan with its instalments and balances, deciding what money does.

A use case loads a `Loan` through the repository, asks it what a repayment, a write-off
or a day's ageing means, saves what changed (with the version check), posts the journal
lines it returns and appends the events. The aggregate reads and writes nothing itself,
so the same rules serve the operator's command, a batch file and the simulated book.

Close of business ages the whole book set-wise in SQL and cannot load a `Loan` per row,
but it takes every rule from the same functions: `charges_falling_due` for what becomes
receivable, and the delinquency functions (days late, buckets, class, penalty, the move
a loan's days past due call for) in `domain.delinquency`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lendflow.domain.accrual import NO_TERMS, on_books, running_columns
from lendflow.domain.allocation import COMPONENTS
from lendflow.domain.ledger import Account, EntryDraft, Line, balance_changes
from lendflow.domain.repayment import InstalmentState, Payoff, RepaymentPlan, payoff_quote
from lendflow.domain.repayment import plan_repayment as _plan_repayment
from lendflow.domain.statuses import LoanStatus

PAID_AND_WAIVED = (
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "penalty_paid",
    "interest_waived",
    "fee_waived",
)
"""The instalment columns a payment moves."""

BOOK_BALANCES = (
    "principal_outstanding",
    "interest_receivable",
    "fee_receivable",
    "penalty_receivable",
)
"""What the borrower owes on the books; the credit balance is what the lender owes back."""

ACCRUAL_COLUMNS = (
    "accrual_start",
    "accrual_days",
    "accrual_interest",
    "accrual_waived",
    "interest_accrued",
)
"""The loan's running period and what close of business accrued of it (`domain.accrual`)."""

REPAYABLE = frozenset({LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.WRITTEN_OFF})
"""A written-off loan still takes money: as a recovery, not against its balances."""


CHARGE_COLUMNS = ("interest", "interest_paid", "interest_waived", "fee", "fee_paid", "fee_waived")
"""What `charges_falling_due` reads of an instalment, in the order it takes them."""


def charges_falling_due(
    interest: int,
    interest_paid: int,
    interest_waived: int,
    fee: int,
    fee_paid: int,
    fee_waived: int,
) -> tuple[int, int]:
    """(interest, fee) that become receivable when an instalment falls due.

    Whatever of it was paid in advance was income when paid, and a waiver is never
    owed, so only the rest is booked. The one definition of "what fell due": the loan
    aggregate calls it per instalment, close of business per row it reads (in
    `CHARGE_COLUMNS` order).
    """
    return interest - interest_paid - interest_waived, fee - fee_paid - fee_waived


def charges_of(instalment: Mapping[str, Any]) -> tuple[int, int]:
    """`charges_falling_due` of a stored instalment row."""
    return charges_falling_due(*(instalment[c] for c in CHARGE_COLUMNS))


@dataclass
class Instalment:
    """One scheduled instalment as stored, and the columns changed since it was read."""

    row: dict[str, Any]
    changed: dict[str, Any] = field(default_factory=dict)
    _state: InstalmentState | None = field(default=None, repr=False, compare=False)
    """The row as an `InstalmentState`, made once until `set` changes the row: a repayment
    asks for every instalment's state three times."""

    def __getitem__(self, column: str) -> Any:
        return self.row[column]

    def set(self, **values: Any) -> None:
        self.row.update(values)
        self.changed.update(values)
        self._state = None

    def state(self) -> InstalmentState:
        if self._state is None:
            self._state = InstalmentState.from_row(self.row)
        return self._state

    def owed_after_payment(self) -> int:
        row = self.row
        scheduled = row["principal"] + row["interest"] + row["fee"] + row["penalty"]
        return scheduled - sum(row[f] for f in PAID_AND_WAIVED)


@dataclass(frozen=True)
class Repayment:
    """What a payment did: the plan, the entries to post and the move it calls for."""

    amount: int
    plan: RepaymentPlan | None
    charges_due: list[Line]
    entry: list[Line]
    entry_kind: str
    balances: dict[str, int]
    trigger: str | None = None
    """`close` when the payment settles the loan, `cure` when it clears every arrear."""

    def event_payload(self, key: str) -> dict[str, Any]:
        plan = self.plan
        if plan is None:
            return {"amount": self.amount, "idempotency_key": key}
        return {
            "amount": self.amount,
            "principal": plan.principal,
            "interest": plan.interest_from_receivable + plan.interest_to_income,
            "fee": plan.fee_from_receivable + plan.fee_to_income,
            "penalty": plan.penalty,
            "overpayment": plan.overpayment,
            "refunded": plan.interest_refund + plan.fee_refund,
            "settles": plan.settles,
            "idempotency_key": key,
        }


@dataclass
class Loan:
    """A disbursed loan: its stored row (status, balances, version) and its instalments."""

    row: dict[str, Any]
    instalments: list[Instalment]
    accrual: dict[str, Any] = field(default_factory=dict)
    """Accrual columns changed since the loan was read (`ACCRUAL_COLUMNS`)."""

    @classmethod
    def from_rows(cls, row: Mapping[str, Any], instalments: Sequence[dict[str, Any]]) -> Loan:
        return cls(dict(row), [Instalment(r) for r in instalments])

    @property
    def id(self) -> int:
        return int(self.row["id"])

    @property
    def status(self) -> LoanStatus:
        return LoanStatus(self.row["state"])

    def states(self) -> list[InstalmentState]:
        return [i.state() for i in self.instalments]

    def owed_on_books(self, balances: Mapping[str, int] | None = None) -> int:
        values = {**self.row, **(balances or {})}
        return sum(values[c] for c in BOOK_BALANCES)

    def changed_instalments(self) -> dict[int, dict[str, Any]]:
        """Instalment id → the columns to write, each instalment once."""
        return {i["id"]: i.changed for i in self.instalments if i.changed}

    @property
    def schedule_start(self) -> date:
        """Where the running schedule began: the payout, or the last restructure."""
        return schedule_start(self.row)

    def payoff(self, as_of: date) -> Payoff:
        return payoff_quote(self.states(), as_of, self.schedule_start)

    def has_arrears(self, as_of: date) -> bool:
        return any(s.due_date <= as_of and not s.settled for s in self.states())

    def recognise_due(self, as_of: date) -> list[Line]:
        """Book what fell due by `as_of` and was never recognised; the entry's lines.

        As close of business does: the interest leaves accrual (`interest_accrued` keeps
        the difference: the day's accrual the coming close of business still posts), the
        next period starts accruing, and the fees earned over the period (the periodic fee,
        the upfront fee's share and any fee paid ahead) are released to income.
        """
        interest = fee = released = taken = 0
        for item in self.instalments:
            if item["recognised"] or item["due_date"] > as_of:
                continue
            more_interest, more_fee = charges_of(item.row)
            interest += more_interest
            fee += more_fee
            released += item.row.get("upfront_share", 0) + item["fee_paid"]
            taken += item["interest"] - item["interest_waived"]
            item.set(recognised=True)
        if not interest and not fee and not taken and not released:
            return []
        self.accrual = {
            **self.accrual_now(),
            "interest_accrued": self.accrual_now()["interest_accrued"] - taken,
            **running_columns(self.states(), self.schedule_start),
        }
        return (
            EntryDraft("charges_due")
            .debit(Account.INTEREST_RECEIVABLE, interest)
            .credit(Account.INTEREST_ACCRUED, interest)
            .debit(Account.FEE_RECEIVABLE, fee)
            .debit(Account.DEFERRED_FEE_INCOME, released)
            .credit(Account.FEE_INCOME, fee + released)
            .lines()
        )

    def accrual_now(self) -> dict[str, Any]:
        """The loan's accrual columns as they stand (changed by this aggregate or as read)."""
        return {c: self.accrual.get(c, self.row.get(c, 0)) for c in ACCRUAL_COLUMNS}

    def repay(self, amount: int, as_of: date, order: Sequence[str] = COMPONENTS) -> Repayment:
        """Spend a payment by the product's waterfall: what fell due first, then ahead.

        A payment reaching the payoff settles the loan (`close`); one that leaves an
        overdue loan with nothing due unpaid cures it. After write-off it is a recovery.
        """
        if self.status is LoanStatus.WRITTEN_OFF:
            return self._recovery(amount)
        charges = self.recognise_due(as_of)
        plan = _plan_repayment(self.states(), amount, as_of, self.schedule_start, order)
        held = self.held_back()
        self._apply(plan, as_of)
        entry = settlement_lines(
            EntryDraft("repayment").debit(Account.CASH, plan.amount), plan, held
        )
        entry = entry.credit(Account.OVERPAYMENT, plan.overpayment).lines()
        if plan.settles:
            self.accrual.update(NO_TERMS, interest_accrued=0)
        balances = {**_balances_after(self.row, charges, entry), **self.accrual}
        trigger = None
        if plan.settles:
            trigger = "close"
        elif self.status is LoanStatus.OVERDUE and not self.has_arrears(as_of):
            trigger = "cure"
        return Repayment(amount, plan, charges, entry, "repayment", balances, trigger)

    def held_back(self) -> HeldBack:
        """What the books hold of the loan that is not yet income, before a payment."""
        states = self.states()
        return HeldBack(
            accrued=on_books(self.accrual_now()["interest_accrued"], states),
            deferred_fees=sum(
                i.row.get("upfront_share", 0)
                for i in self.instalments
                if i["n"] > 0 and not i["recognised"]
            ),
            interest_suspended=self.row.get("interest_suspended", 0),
            penalty_suspended=self.row.get("penalty_suspended", 0),
        )

    def _apply(self, plan: RepaymentPlan, as_of: date) -> None:
        by_n = {i["n"]: i for i in self.instalments}
        for n, change in plan.changes.items():
            item = by_n[n]
            item.set(
                **{f: item[f] + getattr(change, f) for f in PAID_AND_WAIVED if getattr(change, f)}
            )
            if item.owed_after_payment() == 0 and item["paid_on"] is None:
                item.set(paid_on=as_of)
            if plan.settles and not item["recognised"]:
                item.set(recognised=True)  # nothing more will ever fall due on it

    def _recovery(self, amount: int) -> Repayment:
        """Money received after write-off is booked back to the loan-loss allowance, not
        to a loan balance: the write-off used the allowance, so what comes back restores
        it, and the next month end releases it against the provision expense."""
        entry = (
            EntryDraft("recovery")
            .debit(Account.CASH, amount)
            .credit(Account.LOAN_LOSS_ALLOWANCE, amount)
            .lines()
        )
        return Repayment(amount, None, [], entry, "recovery", {})


def schedule_start(row: Mapping[str, Any]) -> date:
    """Where a loan's running schedule began: its payout, or its last restructure (the
    first period of a new schedule runs from the restructure's date)."""
    started: date = row.get("restructured_on") or row["disbursed_on"]
    return started


@dataclass(frozen=True)
class HeldBack:
    """What the books hold of a loan that is not income yet: its share of interest
    accrued (net of interest paid ahead), the upfront fee still deferred, and the
    interest and penalty in suspense (non-accrual)."""

    accrued: int = 0
    deferred_fees: int = 0
    interest_suspended: int = 0
    penalty_suspended: int = 0


def settlement_lines(draft: EntryDraft, plan: RepaymentPlan, held: HeldBack) -> EntryDraft:
    """The credit side of money spent by a plan, on accrual accounting.

    Interest paid before its instalment fell due stands against what is accrued (Cr
    interest_accrued); a fee paid ahead is deferred. A settlement takes the loan out of
    accrual: what is accrued on the books is settled, and the running period's interest
    for the days since the last close of business (not accrued yet) is income at once;
    the upfront fee still deferred is earned. Interest and penalty paid on a loan with
    amounts in suspense are income as they arrive (the suspense is released, all of it
    at a settlement, when everything owed is paid)."""
    interest_ahead = plan.interest_to_income - plan.interest_refund
    to_accrued, to_income = interest_ahead, 0
    fee_released = 0
    interest_release = min(plan.interest_from_receivable, held.interest_suspended)
    penalty_release = min(plan.penalty, held.penalty_suspended)
    if plan.settles:
        to_accrued, to_income = held.accrued, interest_ahead - held.accrued
        fee_released = held.deferred_fees
        interest_release, penalty_release = held.interest_suspended, held.penalty_suspended
    return (
        draft.debit(Account.DEFERRED_FEE_INCOME, plan.fee_refund + fee_released)
        .debit(Account.INTEREST_ACCRUED, max(-to_accrued, 0))
        .debit(Account.INTEREST_INCOME, max(-to_income, 0))
        .credit(Account.LOAN_PRINCIPAL, plan.principal)
        .credit(Account.INTEREST_RECEIVABLE, plan.interest_from_receivable)
        .credit(Account.INTEREST_ACCRUED, max(to_accrued, 0))
        .credit(Account.INTEREST_INCOME, max(to_income, 0))
        .credit(Account.FEE_RECEIVABLE, plan.fee_from_receivable)
        .credit(Account.DEFERRED_FEE_INCOME, plan.fee_to_income)
        .credit(Account.FEE_INCOME, fee_released)
        .credit(Account.PENALTY_RECEIVABLE, plan.penalty)
        .debit(Account.INTEREST_SUSPENSE, interest_release)
        .credit(Account.INTEREST_INCOME, interest_release)
        .debit(Account.PENALTY_SUSPENSE, penalty_release)
        .credit(Account.PENALTY_INCOME, penalty_release)
    )


def _balances_after(row: Mapping[str, Any], *entries: list[Line]) -> dict[str, int]:
    """The loan's balance columns that the entries move, at their new values."""
    moved: dict[str, int] = {}
    for lines in entries:
        for column, delta in balance_changes(lines).items():
            moved[column] = moved.get(column, 0) + delta
    return {c: row[c] + d for c, d in moved.items() if d}

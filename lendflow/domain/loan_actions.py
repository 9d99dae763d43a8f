"""The loan actions the contract promises, as rules over the loan aggregate: waiving
penalty or fees, declaring the whole loan due early (acceleration), and a new schedule
for what is owed (restructuring).

Each takes a `Loan` (its row and instalments), changes its instalments in place (the
use case writes `loan.changed_instalments()`) and returns the balanced journal lines
and the balances they leave. Nothing here reads or writes storage, and the audit
rebuilds an accelerated or restructured schedule with `schedule_after`, the same rule.

- A **waiver** takes penalty or fees the borrower owes off the books, oldest instalment
  first: the receivable is credited and a contra-income account (`PENALTY_WAIVED`,
  `FEE_WAIVED`) debited, so income keeps what was charged. Only what is owed now (the
  receivable) can be waived. A waived penalty lowers the instalment's `penalty`; a waived
  fee raises its `fee_waived`.
- **Acceleration** on date A: every instalment not yet due falls due on A with all its
  principal. Of their interest only what the running period earned by A stays owed (pro
  rata to the day, as at payoff); later interest and the fees of instalments not yet due
  are waived (`interest_waived`, `fee_waived`), and what was paid ahead on them goes to
  the borrower's credit balance. Close of business then recognises them on A and ages
  and charges penalty on them like any instalment: days past due keep counting from the
  oldest unpaid due date.
- **Restructuring** on date R settles the old schedule with what it would take to pay the
  loan off on R (the payoff quote: all principal, what fell due, the running period's
  interest to R, less what was paid ahead), and lends that sum again as the principal of
  a new schedule from R (`restructured_terms`: the product's generator, no fees). Old
  instalments not yet due fall due on R and show as settled on R; the new ones follow
  them in number. Nothing is charged twice and nothing owed is lost: interest, fees and
  penalty owed are capitalised into the new principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from lendflow.domain.accrual import NO_TERMS, running_columns, running_terms
from lendflow.domain.errors import Refused
from lendflow.domain.ledger import Account, EntryDraft, Line, balance_changes
from lendflow.domain.loan import Loan, settlement_lines
from lendflow.domain.money import format_fen
from lendflow.domain.repayment import earned_ahead, plan_repayment
from lendflow.domain.schedule import ScheduleTerms

WAIVABLE = ("penalty", "fees")
"""What a waiver may take off: penalty interest, or fees."""

ACTION_ENTRY_KINDS = ("waiver", "acceleration", "restructure", "refund", "prepayment")
"""Journal entries of loan actions. A loan that has one is not reprocessed (a backdated
or reversed repayment): reprocessing rebuilds the loan from its payout through
repayments and closed days only, and would lose what the action did (a prepayment's
recalculated schedule depends on the balance of its day, which a replay would change)."""


@dataclass(frozen=True)
class Outcome:
    """What an action decided: the entries to post (kind, lines) and the loan's balance
    columns they move, at their new values."""

    entries: list[tuple[str, list[Line]]] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    """The action's figures in fen, for its event and answer."""


def _balances_after(row: dict[str, Any], entries: list[tuple[str, list[Line]]]) -> dict[str, int]:
    moved: dict[str, int] = {}
    for _, lines in entries:
        for column, delta in balance_changes(lines).items():
            moved[column] = moved.get(column, 0) + delta
    return {c: row[c] + d for c, d in moved.items() if d}


def waive(loan: Loan, component: str, amount: int) -> Outcome:
    """Take `amount` of penalty or fees off what the borrower owes, oldest instalment
    first; refused beyond what is owed now."""
    if component not in WAIVABLE:
        raise ValueError(f"a waiver is of penalty or fees, not {component!r}")
    if amount <= 0:
        raise Refused("a waiver must be more than zero")
    owed_column = "penalty_receivable" if component == "penalty" else "fee_receivable"
    owed = loan.row[owed_column]
    if amount > owed:
        raise Refused(
            f"loan {loan.id}: cannot waive {format_fen(amount)} of {component}; only"
            f" {format_fen(owed)} is owed"
        )
    left = amount
    for item in loan.instalments:
        if not left:
            break
        if component == "penalty":
            taken = min(item["penalty"] - item["penalty_paid"], left)
            if taken > 0:
                item.set(penalty=item["penalty"] - taken)
        else:
            if not item["recognised"]:
                continue
            taken = min(item["fee"] - item["fee_paid"] - item["fee_waived"], left)
            if taken > 0:
                item.set(fee_waived=item["fee_waived"] + taken)
        left -= max(taken, 0)
    if left:  # pragma: no cover - the receivable is what the instalments owe (audit)
        raise Refused(f"loan {loan.id}: its instalments owe less {component} than its books")
    if component == "penalty":
        draft = EntryDraft("waiver").debit(Account.PENALTY_WAIVED, amount)
        lines = draft.credit(Account.PENALTY_RECEIVABLE, amount).lines()
    else:
        draft = EntryDraft("waiver").debit(Account.FEE_WAIVED, amount)
        lines = draft.credit(Account.FEE_RECEIVABLE, amount).lines()
    entries = [("waiver", lines)]
    return Outcome(entries, _balances_after(loan.row, entries), {component: amount})


def accelerate(loan: Loan, on: date) -> Outcome:
    """Declare the loan due on `on`: every instalment not yet due falls due then, with
    the interest its running period earned; later interest and fees are never owed."""
    interest_refund = fee_refund = principal = 0
    accrued = loan.accrual_now()["interest_accrued"]
    by_n = {item["n"]: item for item in loan.instalments}
    for state, earned in earned_ahead(loan.states(), on, loan.schedule_start):
        item = by_n[state.n]
        kept_paid = min(state.interest_paid, earned)
        interest_refund += state.interest_paid - kept_paid
        fee_refund += state.fee_paid
        principal += state.principal - state.principal_paid
        item.set(
            due_date=on,
            interest_paid=kept_paid,
            interest_waived=state.interest - earned,
            fee_paid=0,
            fee_waived=state.fee,
        )
    # The running period now ends today with only what it earned: accrued interest is
    # trued up to what the new period has earned by the last day closed (the day's own
    # accrual, tomorrow's close of business, brings it to the whole of it).
    through = loan.row.get("cob_through")
    loan.accrual.update(running_columns(loan.states(), loan.schedule_start))
    terms = running_terms(loan.states(), loan.schedule_start)
    trued = terms.earned(through) if terms is not None and through is not None else accrued
    loan.accrual["interest_accrued"] = trued
    true_up = trued - accrued
    income = (
        Account.INTEREST_INCOME
        if loan.row.get("non_accrual_since") is None
        else (Account.INTEREST_SUSPENSE)
    )
    entries = []
    if interest_refund or fee_refund or true_up:
        lines = (
            EntryDraft("acceleration")
            .debit(Account.INTEREST_ACCRUED, interest_refund + max(true_up, 0))
            .credit(income, max(true_up, 0))
            .debit(income, max(-true_up, 0))
            .credit(Account.INTEREST_ACCRUED, max(-true_up, 0))
            .debit(Account.DEFERRED_FEE_INCOME, fee_refund)
            .credit(Account.OVERPAYMENT, interest_refund + fee_refund)
            .lines()
        )
        entries.append(("acceleration", lines))
    return Outcome(
        entries,
        {**_balances_after(loan.row, entries), **loan.accrual},
        {"principal_falling_due": principal, "refunded_to_credit": interest_refund + fee_refund},
    )


def restructure(loan: Loan, on: date) -> Outcome:
    """Settle the old schedule on `on` with its payoff and lend that sum again; the
    outcome's figures give the new principal (`principal`) the new schedule is made for."""
    charges = loan.recognise_due(on)
    states = loan.states()
    quote = loan.payoff(on)
    if quote.total <= 0 or loan.row["principal_outstanding"] <= 0:
        raise Refused(f"loan {loan.id} has no balance to restructure")
    plan = plan_repayment(states, quote.total, on, loan.schedule_start)
    held = loan.held_back()
    by_n = {item["n"]: item for item in loan.instalments}
    for n, change in plan.changes.items():
        item = by_n[n]
        item.set(
            **{
                column: item[column] + getattr(change, column)
                for column in change.__dataclass_fields__
                if getattr(change, column)
            }
        )
    for item in loan.instalments:
        if item["due_date"] > on:
            item.set(due_date=on)  # the old schedule ends on the restructure's date
        if item["paid_on"] is None and item.owed_after_payment() == 0:
            item.set(paid_on=on)
        if not item["recognised"]:
            item.set(recognised=True)  # nothing more will ever fall due on it
    # settled as a payoff is, on accrual accounting (`settlement_lines`), with the sum lent again
    draft = EntryDraft("restructure").debit(Account.LOAN_PRINCIPAL, quote.total)
    lines = settlement_lines(draft, plan, held).lines()
    loan.accrual.update(NO_TERMS, interest_accrued=0)
    entries = [("charges_due", charges)] if charges else []
    entries.append(("restructure", lines))
    return Outcome(
        entries,
        {**_balances_after(loan.row, entries), **loan.accrual},
        {
            "principal": quote.total,
            "old_principal": plan.principal,
            "interest": plan.interest_from_receivable + plan.interest_to_income,
            "fees": plan.fee_from_receivable + plan.fee_to_income,
            "penalty": plan.penalty,
            "paid_ahead": quote.credit,
        },
    )


def restructured_terms(terms: ScheduleTerms) -> ScheduleTerms:
    """The product's schedule terms for a restructure's new schedule: no fee is charged
    for it (neither upfront nor per instalment)."""
    return replace(terms, upfront_fee=0, fee_per_instalment=0, first_repayment=None)


ScheduleRow = tuple[int, date, int, int, int]
"""(n, due date, principal, interest, fee) of one instalment as scheduled."""


@dataclass(frozen=True)
class ScheduleChange:
    """One approved acceleration (`new_rows` empty) or restructure on `on`."""

    on: date
    new_rows: tuple[ScheduleRow, ...] = ()


def schedule_after(
    rows: Sequence[ScheduleRow], changes: Sequence[ScheduleChange]
) -> list[ScheduleRow]:
    """The schedule as the loan's accelerations and restructures left it, in order: at
    each, every instalment not yet due falls due on its date, and a restructure's new
    instalments follow."""
    current = list(rows)
    for change in changes:
        current = [
            (n, change.on if due > change.on else due, principal, interest, fee)
            for n, due, principal, interest, fee in current
        ]
        current += list(change.new_rows)
    return current

"""The auditor: what must hold of the book after every step of the fault simulator.

`audit verify` is the base (every entry balances, the journal balances in total,
stored balances equal the journal, instalments agree with the principal the
ledger says was repaid, the event chain verifies). The auditor adds what it cannot
see, because it needs the world outside the database:

- loan statuses: each one of the loan machine, each recorded move one of its
  transitions, and each loan's status the last `to_state` its events name;
- nothing negative: no balance below zero, no instalment paid or waived beyond
  what it charges;
- balances that fit the status: nothing owed before the payout or once closed or
  written off, principal owed while active or overdue, and a paid-out loan's
  instalments repaying exactly its principal;
- no double payout: each loan is paid out at most once at the gateway and booked
  at most once, a disbursed loan's principal is what the gateway paid under its
  reference, and money the gateway paid without a booked loan is only ever a
  payout still in flight (pending, to be resumed), never failed or unknown;
- every borrower payment that lendflow accepted is booked exactly once, under its
  key, for its amount, and a refused one not at all;
- money is conserved (the identity below, exact to the fen).

The conservation identity, over the gateway, the borrowers' bank statement and the
journal (all in fen; "paid out" counts booked payouts only, the in-flight ones are
checked above):

    paid out by the gateway - received from borrowers + other cash paid (rewards)
      = principal outstanding + interest, fee and penalty receivable - credit balances
        + write-off, provision and marketing expense - interest, fee and penalty income
        - the loan-loss allowance (a write-off uses it, a recovery restores it)

The left side comes from outside the ledger (the gateway's own records and what the
simulator's borrowers paid); the right side from the loans' stored balances and the
journal's income and expense accounts. It holds only if no cash is booked without a
payment, no payment is lost, and no balance drifts from its entries.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lendflow.domain.ledger import LOAN_BALANCES, Account
from lendflow.domain.statuses import LoanStatus
from lendflow.loans import audit
from lendflow.states.machine import machine
from lendflow.store import book_checks
from lendflow.store import torture as reads
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

DISBURSED = frozenset(
    {LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF}
)
OUTSTANDING = frozenset({LoanStatus.ACTIVE, LoanStatus.OVERDUE})
OWES_NOTHING = frozenset(LoanStatus) - DISBURSED | {LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF}
RECEIVABLES = (
    "principal_outstanding",
    "interest_receivable",
    "fee_receivable",
    "penalty_receivable",
)
PAYOUT_KIND = "disbursement"
REPAY_KEY_PREFIX = "repay:"
OTHER_CASH_KINDS = frozenset({"referral_reward"})
"""Journal entries that pay cash to someone other than a borrower's loan."""
PAID_PARTS = ("principal", "interest", "fee", "penalty")
WAIVABLE = ("interest", "fee")


@dataclass(frozen=True)
class BorrowerPayment:
    """One payment a borrower sent, as the simulator's bank statement keeps it."""

    key: str
    loan_id: int
    amount: int
    accepted: bool
    keyed: bool = True
    """False when the use case books it under a key of its own (a backdated repayment)."""


@dataclass
class Statement:
    """What borrowers paid, by key: the outside record lendflow's cash must agree with."""

    payments: dict[str, BorrowerPayment] = field(default_factory=dict)

    def record(self, payment: BorrowerPayment) -> None:
        known = self.payments.get(payment.key)
        if known is not None and known.accepted and not payment.accepted:
            return  # an accepted payment stays accepted: a later refusal is of a resend
        self.payments[payment.key] = payment

    def received(self) -> int:
        return sum(p.amount for p in self.payments.values() if p.accepted)


@dataclass(frozen=True)
class Book:
    """One read of the book: loans, instalments, journal lines, payouts, moves."""

    loans: list[dict[str, Any]]
    instalments: list[dict[str, Any]]
    lines: list[dict[str, Any]]
    payouts: list[dict[str, Any]]
    moves: list[tuple[str, str, str, str]]


def read_book(ws: Workspace) -> Book:
    def read(uow: UnitOfWork) -> Book:
        return Book(
            loans=reads.loan_rows(uow),
            instalments=reads.instalment_rows(uow),
            lines=reads.journal_lines_by_entry(uow),
            payouts=reads.payout_rows(uow),
            moves=book_checks.loan_moves(uow),
        )

    return run_in_transaction(ws.engine, read)


def check_book(ws: Workspace, gateway_paid: Mapping[str, int], statement: Statement) -> list[str]:
    """Every broken invariant of the book, as one line each (empty when all hold)."""
    problems = list(audit.verify(ws, ws.actor("auditor")).problems)
    book = read_book(ws)
    problems += statuses(book)
    problems += nothing_negative(book)
    problems += balances_fit_statuses(book)
    problems += payouts_once(book, gateway_paid)
    problems += payments_booked(book, statement)
    problems += money_conserved(book, gateway_paid, statement)
    return problems


def statuses(book: Book) -> list[str]:
    """Each status is the loan machine's, each move a transition, and the last move's
    destination is the status the loan holds."""
    loan_machine = machine("loan")
    legal = set(loan_machine.definition.state_names)
    initial = loan_machine.definition.initial
    problems: list[str] = []
    last: dict[str, str] = {}
    for loan_id, trigger, source, dest in book.moves:
        if (
            not (not source and dest == initial)
            and loan_machine.table.get((source, trigger)) != dest
        ):
            problems.append(f"loan {loan_id}: {source} --{trigger}--> {dest} is not a transition")
        previous = last.get(loan_id)
        if source and previous is not None and previous != source:
            problems.append(
                f"loan {loan_id}: moved from {source}, but its last move left it {previous}"
            )
        last[loan_id] = dest
    for loan in book.loans:
        state = loan["state"]
        if state not in legal:
            problems.append(f"loan {loan['id']} is {state}, no status of the loan machine")
        said = last.get(str(loan["id"]))
        if said != state:
            problems.append(f"loan {loan['id']} is {state} but its events say {said}")
    return problems


def nothing_negative(book: Book) -> list[str]:
    """No balance below zero; no instalment paid (or waived) beyond what it charges."""
    problems = [
        f"loan {loan['id']}: {column} is negative ({loan[column]})"
        for loan in book.loans
        for column in (*LOAN_BALANCES, "written_off_amount")
        if loan[column] < 0
    ]
    for row in book.instalments:
        for part in PAID_PARTS:
            settled = row[f"{part}_paid"] + (row[f"{part}_waived"] if part in WAIVABLE else 0)
            if row[f"{part}_paid"] < 0 or settled > row[part]:
                problems.append(
                    f"loan {row['loan_id']} instalment {row['n']}: {part} paid"
                    f" {row[f'{part}_paid']} (waived {row.get(f'{part}_waived', 0)})"
                    f" of {row[part]}"
                )
    return problems


def balances_fit_statuses(book: Book) -> list[str]:
    """A loan's balances say what its status says: nothing owed before the payout or once
    closed or written off; principal owed while active or overdue; and a paid-out loan's
    instalments repay exactly its principal."""
    problems = []
    scheduled: Counter[int] = Counter()
    for row in book.instalments:
        scheduled[row["loan_id"]] += row["principal"]
    for loan in book.loans:
        loan_id, state = loan["id"], loan["state"]
        owed = {c: loan[c] for c in RECEIVABLES if loan[c]}
        if state in OWES_NOTHING and owed:
            problems.append(f"loan {loan_id} is {state} but still owes {owed}")
        if state in OUTSTANDING and loan["principal_outstanding"] <= 0:
            problems.append(f"loan {loan_id} is {state} but owes no principal")
        if state in DISBURSED and scheduled[loan_id] != loan["principal"]:
            problems.append(
                f"loan {loan_id}: its instalments repay {scheduled[loan_id]} of the"
                f" {loan['principal']} lent"
            )
        if state == LoanStatus.WRITTEN_OFF and loan["written_off_amount"] <= 0:
            problems.append(f"loan {loan_id} is written off but nothing was written off")
    return problems


def payouts_once(book: Book, gateway_paid: Mapping[str, int]) -> list[str]:
    """Each loan paid out at most once and booked at most once, for what the gateway paid."""
    problems: list[str] = []
    booked: dict[int, list[int]] = defaultdict(list)
    cash_by_entry = _cash_by_entry(book.lines, PAYOUT_KIND)
    for (loan_id, _entry), cash in cash_by_entry.items():
        booked[loan_id].append(-cash)
    payout_of = {p["reference"]: p for p in book.payouts}
    by_loan = {p["loan_id"]: p for p in book.payouts}
    for reference, amount in gateway_paid.items():
        if reference not in payout_of:
            problems.append(f"the gateway paid {reference} ({amount}) that lendflow never asked")
    for loan in book.loans:
        loan_id, state = loan["id"], loan["state"]
        entries = booked.get(loan_id, [])
        payout = by_loan.get(loan_id)
        paid = gateway_paid.get(payout["reference"]) if payout else None
        if len(entries) > 1:
            problems.append(f"loan {loan_id}: paid out {len(entries)} times in the journal")
        if state in DISBURSED:
            if paid is None:
                problems.append(f"loan {loan_id} is {state} but the gateway never paid it")
            if entries != [loan["principal"]] or paid not in (None, loan["principal"]):
                problems.append(
                    f"loan {loan_id}: principal {loan['principal']}, journal paid out {entries},"
                    f" gateway paid {paid}"
                )
            if loan["principal"] != loan["approved_amount"]:
                problems.append(
                    f"loan {loan_id}: principal {loan['principal']} but {loan['approved_amount']}"
                    " was approved"
                )
            if payout is not None and payout["status"] != "paid":
                problems.append(f"loan {loan_id} is {state} but its payout is {payout['status']}")
        else:
            if entries:
                problems.append(f"loan {loan_id} is {state} but the journal paid it out")
            if paid is not None and (payout is None or payout["status"] != "pending"):
                status = payout["status"] if payout else "unknown"
                problems.append(
                    f"loan {loan_id} is {state}: the gateway paid {paid} but its payout is {status}"
                )
    return problems


def payments_booked(book: Book, statement: Statement) -> list[str]:
    """Each accepted payment booked once under its key for its amount; a refused one never."""
    cash_by_key: Counter[str] = Counter()
    entries_by_key: Counter[str] = Counter()
    seen: set[int] = set()
    for line in book.lines:
        key = line["idempotency_key"] or ""
        if not key.startswith(REPAY_KEY_PREFIX):
            continue
        if line["entry_id"] not in seen:
            seen.add(line["entry_id"])
            entries_by_key[key] += 1
        if line["account"] == Account.CASH.value:
            cash_by_key[key] += line["debit"] - line["credit"]
    problems = []
    for payment in statement.payments.values():
        if not payment.keyed:
            continue
        key = REPAY_KEY_PREFIX + payment.key
        count, cash = entries_by_key.get(key, 0), cash_by_key.get(key, 0)
        if payment.accepted and (count != 1 or cash != payment.amount):
            problems.append(
                f"loan {payment.loan_id}: payment {payment.key} of {payment.amount} was accepted"
                f" but is booked {count} times for {cash}"
            )
        if not payment.accepted and count:
            problems.append(
                f"loan {payment.loan_id}: payment {payment.key} was refused but is booked"
                f" {count} times for {cash}"
            )
    return problems


def money_conserved(book: Book, gateway_paid: Mapping[str, int], statement: Statement) -> list[str]:
    """The conservation identity of the module's docstring, exact to the fen."""
    net = _net_by_account(book.lines)
    disbursed = {f"LF-{loan['id']}" for loan in book.loans if loan["state"] in DISBURSED}
    paid_out = sum(amount for ref, amount in gateway_paid.items() if ref in disbursed)
    received = statement.received()
    other_cash_paid = -sum(
        line["debit"] - line["credit"]
        for line in book.lines
        if line["kind"] in OTHER_CASH_KINDS and line["account"] == Account.CASH.value
    )
    outstanding = sum(
        sign * loan[column] for loan in book.loans for column, (_a, sign) in LOAN_BALANCES.items()
    )
    balance_accounts = {account.value for account, _sign in LOAN_BALANCES.values()}
    # every other account: expenses (debit-normal, positive) and income (negative)
    results = sum(
        amount
        for account, amount in net.items()
        if account != Account.CASH.value and account not in balance_accounts
    )
    left = paid_out - received + other_cash_paid
    right = outstanding + results
    if left == right:
        return []
    return [
        f"money not conserved: gateway paid out {paid_out} - borrowers paid {received}"
        f" + rewards paid {other_cash_paid} = {left}, but receivables less credits"
        f" {outstanding} + expenses less income {results} = {right}"
    ]


def _net_by_account(lines: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    net: Counter[str] = Counter()
    for line in lines:
        net[line["account"]] += line["debit"] - line["credit"]
    return dict(net)


def _cash_by_entry(lines: Iterable[Mapping[str, Any]], kind: str) -> dict[tuple[int, int], int]:
    """Net cash (debit - credit) of each entry of `kind`, by (loan id, entry id)."""
    cash: Counter[tuple[int, int]] = Counter()
    for line in lines:
        if line["kind"] == kind and line["account"] == Account.CASH.value:
            cash[(line["loan_id"], line["entry_id"])] += line["debit"] - line["credit"]
    return dict(cash)

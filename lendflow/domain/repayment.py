"""What a repayment does to a loan: payoff quotes and repayment plans.

Pure arithmetic over the loan's instalments. A payment first serves what is
due (oldest instalment first, the product's waterfall within each); what is
left is paid in advance on the next instalments. A payment that reaches the
payoff amount settles the loan: the current period's interest is charged pro
rata to the day, later interest and fees are waived, and any excess is kept
as the customer's credit balance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from typing import Any

from lendflow.domain.allocation import COMPONENTS, Owed, allocate
from lendflow.domain.money import div_round


@dataclass(frozen=True, slots=True)
class InstalmentState:
    """An instalment as stored: what was scheduled and what has happened to it."""

    n: int
    due_date: date
    principal: int
    interest: int
    fee: int
    penalty: int = 0
    principal_paid: int = 0
    interest_paid: int = 0
    fee_paid: int = 0
    penalty_paid: int = 0
    interest_waived: int = 0
    fee_waived: int = 0
    recognised: bool = False

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> InstalmentState:
        """From a stored instalment row (a mapping with these field names)."""
        return cls(*_state_fields(row))

    def owed(self) -> Owed:
        return Owed(
            self.n,
            penalty=self.penalty - self.penalty_paid,
            fee=self.fee - self.fee_paid - self.fee_waived,
            interest=self.interest - self.interest_paid - self.interest_waived,
            principal=self.principal - self.principal_paid,
        )

    @property
    def settled(self) -> bool:
        return self.owed().total == 0


_STATE_FIELD_NAMES = tuple(InstalmentState.__dataclass_fields__)
_state_fields = itemgetter(*_STATE_FIELD_NAMES)


@dataclass(frozen=True, slots=True)
class Payoff:
    """What settles the loan on a date, by component (fen).

    `credit` is what the borrower paid in advance and has not earned us: interest
    of later periods and fees of instalments not yet due. Settling refunds it, so
    paying early never costs more than settling later.
    """

    principal: int
    interest: int
    fee: int
    penalty: int
    credit: int = 0

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee + self.penalty - self.credit


@dataclass
class InstalmentChange:
    """Increments to one instalment's paid and waived amounts."""

    principal_paid: int = 0
    interest_paid: int = 0
    fee_paid: int = 0
    penalty_paid: int = 0
    interest_waived: int = 0
    fee_waived: int = 0


@dataclass
class RepaymentPlan:
    """How a payment is spent, and what the ledger must show for it."""

    amount: int
    changes: dict[int, InstalmentChange] = field(default_factory=dict)
    principal: int = 0
    interest_from_receivable: int = 0
    interest_to_income: int = 0  # paid before it was recognised: in advance or accrued at payoff
    fee_from_receivable: int = 0
    fee_to_income: int = 0
    penalty: int = 0
    overpayment: int = 0
    interest_refund: int = 0  # unearned interest paid in advance, given back at payoff
    fee_refund: int = 0  # fees of instalments not yet due paid in advance, given back
    settles: bool = False

    def change(self, n: int) -> InstalmentChange:
        return self.changes.setdefault(n, InstalmentChange())

    @property
    def allocated(self) -> int:
        return (
            self.principal
            + self.interest_from_receivable
            + self.interest_to_income
            + self.fee_from_receivable
            + self.fee_to_income
            + self.penalty
            + self.overpayment
            - self.interest_refund
            - self.fee_refund
        )


def accrued_interest(instalment: InstalmentState, period_start: date, as_of: date) -> int:
    """Interest of the running period earned by `as_of`, pro rata to the day (half up)."""
    days = (instalment.due_date - period_start).days
    elapsed = min(max((as_of - period_start).days, 0), days)
    if days <= 0:
        return instalment.interest
    return div_round(instalment.interest * elapsed, days)


def _due_and_future(
    instalments: Sequence[InstalmentState], as_of: date
) -> tuple[list[InstalmentState], list[InstalmentState]]:
    due = [i for i in instalments if i.due_date <= as_of and not i.settled]
    future = [i for i in instalments if i.due_date > as_of and not i.settled]
    return due, future


def _period_start(
    instalments: Sequence[InstalmentState], current: InstalmentState, disbursed: date
) -> date:
    """When the instalment's period began: the previous due date, or the day the schedule
    started (the payout, or a restructure, whose new schedule runs from its date)."""
    earlier = [i.due_date for i in instalments if i.n < current.n and i.n > 0]
    return max([*earlier, disbursed])


def _not_yet_due(instalments: Sequence[InstalmentState], as_of: date) -> list[InstalmentState]:
    """Every instalment not yet due, paid in advance or not (the first is the running one)."""
    return [i for i in instalments if i.due_date > as_of]


def _earned(
    instalments: Sequence[InstalmentState],
    ahead: list[InstalmentState],
    index: int,
    as_of: date,
    disbursed_on: date,
) -> int:
    """Interest a not-yet-due instalment has earned by `as_of`: the running period's, pro rata."""
    if index:
        return 0
    item = ahead[0]
    accrued = accrued_interest(item, _period_start(instalments, item, disbursed_on), as_of)
    # A waiver (interest-free first days) covers the start of the period, so what
    # has accrued is charged only beyond it.
    return max(accrued - item.interest_waived, 0)


def earned_ahead(
    instalments: Sequence[InstalmentState], as_of: date, disbursed_on: date
) -> list[tuple[InstalmentState, int]]:
    """Every instalment not yet due on `as_of`, with the interest it has earned by then
    (the running period's pro rata, later ones none): what settling, declaring the loan
    due early or restructuring it charges of them."""
    ahead = _not_yet_due(instalments, as_of)
    return [
        (item, _earned(instalments, ahead, index, as_of, disbursed_on))
        for index, item in enumerate(ahead)
    ]


def payoff_quote(instalments: Sequence[InstalmentState], as_of: date, disbursed_on: date) -> Payoff:
    """Everything due, all remaining principal and the running period's interest to date,
    less what was paid in advance on interest and fees not earned."""
    due, _ = _due_and_future(instalments, as_of)
    ahead = _not_yet_due(instalments, as_of)
    owed = [i.owed() for i in due]
    interest = sum(o.interest for o in owed)
    credit = 0
    for index, item in enumerate(ahead):
        earned = _earned(instalments, ahead, index, as_of, disbursed_on)
        interest += max(earned - item.interest_paid, 0)
        credit += max(item.interest_paid - earned, 0) + item.fee_paid
    return Payoff(
        principal=sum(o.principal for o in owed)
        + sum(i.principal - i.principal_paid for i in ahead),
        interest=interest,
        fee=sum(o.fee for o in owed),
        penalty=sum(o.penalty for o in owed),
        credit=credit,
    )


def _spend(
    plan: RepaymentPlan, states: dict[int, InstalmentState], n: int, component: str, amount: int
) -> None:
    change = plan.change(n)
    setattr(change, f"{component}_paid", getattr(change, f"{component}_paid") + amount)
    recognised = states[n].recognised
    if component == "principal":
        plan.principal += amount
    elif component == "penalty":
        plan.penalty += amount
    elif component == "interest":
        if recognised:
            plan.interest_from_receivable += amount
        else:
            plan.interest_to_income += amount
    elif recognised:
        plan.fee_from_receivable += amount
    else:
        plan.fee_to_income += amount


def plan_repayment(
    instalments: Sequence[InstalmentState],
    amount: int,
    as_of: date,
    disbursed_on: date,
    order: Sequence[str] = COMPONENTS,
) -> RepaymentPlan:
    """Spend `amount` on the loan as of `as_of`; the plan says where every fen went."""
    if amount <= 0:
        raise ValueError("a repayment must be more than zero")
    states = {i.n: i for i in instalments}
    plan = RepaymentPlan(amount=amount)
    due, future = _due_and_future(instalments, as_of)
    quote = payoff_quote(instalments, as_of, disbursed_on)
    if amount >= quote.total:
        _settle(plan, instalments, states, due, future, as_of, disbursed_on)
        plan.overpayment = amount - quote.total
        plan.settles = True
        return plan
    spent_on_due = allocate(amount, [i.owed() for i in due], order)
    for part in spent_on_due.parts:
        _spend(plan, states, part.n, part.component, part.amount)
    advance_order = [c for c in order if c != "penalty"] + ["penalty"]
    ahead = allocate(spent_on_due.remainder, [i.owed() for i in future], advance_order)
    for part in ahead.parts:
        _spend(plan, states, part.n, part.component, part.amount)
    if ahead.remainder:  # pragma: no cover - a payment below payoff cannot exceed what is owed
        raise AssertionError("payment below the payoff amount left money unallocated")
    return plan


def _settle(
    plan: RepaymentPlan,
    instalments: Sequence[InstalmentState],
    states: dict[int, InstalmentState],
    due: list[InstalmentState],
    future: list[InstalmentState],
    as_of: date,
    disbursed_on: date,
) -> None:
    """Pay off: everything due, all principal, interest to date; waive the rest and give
    back what was paid in advance on interest not earned and fees not yet due."""
    for item in due:
        owed = item.owed()
        for component in COMPONENTS:
            amount = getattr(owed, component)
            if amount:
                _spend(plan, states, item.n, component, amount)
    ahead = _not_yet_due(instalments, as_of)
    for index, item in enumerate(ahead):
        principal = item.principal - item.principal_paid
        if principal:
            _spend(plan, states, item.n, "principal", principal)
        earned = _earned(instalments, ahead, index, as_of, disbursed_on)
        change = plan.change(item.n)
        if earned > item.interest_paid:
            _spend(plan, states, item.n, "interest", earned - item.interest_paid)
        elif earned < item.interest_paid:
            change.interest_paid -= item.interest_paid - earned
            plan.interest_refund += item.interest_paid - earned
        change.interest_waived += item.interest - earned - item.interest_waived
        if item.fee_paid:
            change.fee_paid -= item.fee_paid
            plan.fee_refund += item.fee_paid
        change.fee_waived += item.fee - item.fee_waived

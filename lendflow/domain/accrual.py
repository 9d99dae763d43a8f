"""Daily accrual of contract interest: what a loan has earned to a date, and what its
books hold of it.

Interest is earned day by day over each instalment's period (from the previous due date,
or the day the schedule started, to its due date), pro rata to the day and rounded half
up once: `earned` is the same figure a payoff charges for the running period
(`domain.repayment.accrued_interest` less the waiver covering the period's start), so
accruing and settling can never disagree.

Close of business cannot read every loan's instalments each night, so each loan row
keeps its running period (`Terms`: start and length in days, interest and interest
waived) and what close of business has accrued of it so far (`interest_accrued`). A
night's accrual for a chunk is then one set-based pass over the loan rows: the sum of
`earned(d) - interest_accrued`, posted as one entry (Dr interest_accrued, Cr
interest_income) naming no loan, and the same statement that moves the watermark sets
`interest_accrued` to `earned(d)`. Because each night posts the difference from what
is stored, a night run twice (the watermark refuses it anyway) or a period whose terms
changed (an acceleration) posts only what is missing: accruals never duplicate.

What the books hold for one loan (`on_books`) is what was accrued less what fell due
(moved to interest receivable) and less interest paid in advance (received before it
was earned, so it stands against what is accrued): the `interest_accrued` account, which
names no loan on its accrual lines, adds up to the sum of `on_books` over the live book,
and `audit verify` proves both that sum and, per loan, `interest_accrued` against the
schedule's interest earned to the loan's last closed day (`expected_accrued`).

Fees are recognised straight line over the term, per instalment period: an upfront fee
is deferred at payout (Cr deferred_fee_income) and each instalment, when it falls due,
releases its share (`upfront_shares`: the fee spread over the term's days, each share the
difference of two rounded cumulative figures, so they add up to the fee exactly); a
periodic fee is the charge for its own period and is income when the period ends.
Straight line rather than effective interest: the loans are short, the fee small beside
the interest, and a share per period is a figure a borrower and an auditor can check by
hand; the effective-interest method would need the loan's internal rate re-solved after
every prepayment and give, on a 12-month loan, monthly figures a few fen apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from lendflow.domain.errors import Conflict
from lendflow.domain.money import div_round
from lendflow.domain.repayment import InstalmentState


@dataclass(frozen=True, slots=True)
class Terms:
    """The running period of a loan as close of business accrues it: its first day as a
    day number (`date.toordinal`, so the SQL is integer arithmetic on both databases),
    its length in days, its interest and the interest waived of it."""

    start: int
    days: int
    interest: int
    waived: int

    def earned(self, on: date) -> int:
        return earned(self.interest, self.waived, self.start, self.days, on.toordinal())

    def columns(self) -> dict[str, int | None]:
        return {
            "accrual_start": self.start,
            "accrual_days": self.days,
            "accrual_interest": self.interest,
            "accrual_waived": self.waived,
        }


NO_TERMS: dict[str, int | None] = {
    "accrual_start": None,
    "accrual_days": None,
    "accrual_interest": 0,
    "accrual_waived": 0,
}
"""A loan with nothing running (matured, settled, written off, not yet paid out)."""


FOLLOWED = ("cob_through", "principal_days", "interest_accrued", "accrual_income")
"""The figures close of business moves on every live loan each night."""


def followed(loan: Mapping[str, Any], through: date) -> dict[str, Any]:
    """`FOLLOWED` of a loan that follows its id range's mark, closed through `through`.

    The loan stores them as of day number `follows_from`. Each day closed since adds
    that day's principal to its fen-days and moves its accrual to what its running
    period has earned by then, the day's part to income (a loan in non-accrual never
    follows a mark): the nightly increments add up to the figures at `through` exactly,
    as long as nothing else changed the loan, and any change writes them first."""
    days = through.toordinal() - loan["follows_from"]
    figures = {
        "cob_through": through,
        "principal_days": loan["principal_days"] + loan["principal_outstanding"] * days,
        "interest_accrued": loan["interest_accrued"],
        "accrual_income": loan["accrual_income"],
    }
    if days > 0 and loan["accrual_start"] is not None:
        now = earned(
            loan["accrual_interest"],
            loan["accrual_waived"],
            loan["accrual_start"],
            loan["accrual_days"],
            through.toordinal(),
        )
        figures["accrual_income"] += now - loan["interest_accrued"]
        figures["interest_accrued"] = now
    return figures


def through_mark(loan: Mapping[str, Any], through: date | None) -> dict[str, Any]:
    """A following loan's row with its figures through its range's mark (`followed`);
    every reader of a following loan comes here, the plain reads of `loan show` too. A
    mark the book does not hold for it is the book's inconsistency, never a guess."""
    if through is None:
        raise Conflict(f"loan {loan['id']} follows a close-of-business mark the book does not hold")
    return {**loan, **followed(loan, through)}


def earned(interest: int, waived: int, start: int, days: int, on: int) -> int:
    """Interest of a period earned by the end of day number `on`: pro rata to the whole
    days elapsed since `start` (none before it, all of it from the due date on), rounded
    half up, less the waiver (which covers the period's first days)."""
    if days <= 0:
        return max(interest - waived, 0)
    elapsed = min(max(on - start, 0), days)
    return max(div_round(interest * elapsed, days) - waived, 0)


def period_start(states: Sequence[InstalmentState], item: InstalmentState, started: date) -> date:
    """Where an instalment's period began: the previous instalment's due date, or the day
    the running schedule started (payout or restructure), whichever is later."""
    earlier = [s.due_date for s in states if 0 < s.n < item.n]
    return max([*earlier, started])


def terms_of(states: Sequence[InstalmentState], item: InstalmentState, started: date) -> Terms:
    begin = period_start(states, item, started)
    return Terms(
        begin.toordinal(), (item.due_date - begin).days, item.interest, item.interest_waived
    )


def running_terms(states: Sequence[InstalmentState], started: date) -> Terms | None:
    """The period close of business accrues next: the first instalment (by number) not yet
    fallen due on the books; None when every instalment has."""
    open_ = [s for s in states if s.n > 0 and not s.recognised]
    if not open_:
        return None
    return terms_of(states, min(open_, key=lambda s: s.n), started)


def running_columns(states: Sequence[InstalmentState], started: date) -> dict[str, int | None]:
    """The loan columns of its running period (`NO_TERMS` when nothing runs)."""
    terms = running_terms(states, started)
    return terms.columns() if terms is not None else dict(NO_TERMS)


def expected_accrued(states: Sequence[InstalmentState], started: date, through: date) -> int:
    """What `interest_accrued` must be for a loan closed through `through`: the schedule's
    interest earned to that day, less the interest of the instalments fallen due (which
    left accrual in full when they did)."""
    total = 0
    for item in states:
        if item.n <= 0:
            continue
        total += terms_of(states, item, started).earned(through)
        if item.recognised:
            total -= item.interest - item.interest_waived
    return total


def paid_ahead(states: Sequence[InstalmentState]) -> int:
    """Interest received before its instalment fell due (it stands against the accrual)."""
    return sum(s.interest_paid for s in states if s.n > 0 and not s.recognised)


def on_books(interest_accrued: int, states: Sequence[InstalmentState]) -> int:
    """The loan's share of the `interest_accrued` account."""
    return interest_accrued - paid_ahead(states)


def upfront_shares(fee: int, started: date, dues: Sequence[date]) -> list[int]:
    """An upfront fee spread straight line over the term's days, one share per instalment
    (in due-date order): each share is the difference of the fee's rounded cumulative
    figure at its due date and at the one before, so the shares add up to the fee."""
    if not dues:
        return []
    total = (dues[-1] - started).days
    shares: list[int] = []
    before = 0
    for due in dues:
        elapsed = min(max((due - started).days, 0), total)
        cumulative = div_round(fee * elapsed, total) if total > 0 else fee
        shares.append(cumulative - before)
        before = cumulative
    shares[-1] += fee - before
    return shares


def reaches_non_accrual(levels: Sequence[tuple[str, int]], code: str, stop_from: str) -> bool:
    """Whether a class is `stop_from` or worse, on the product's ladder of classes."""
    codes = [c for c, _ in levels]
    if stop_from not in codes or code not in codes:
        return False
    return codes.index(code) >= codes.index(stop_from)

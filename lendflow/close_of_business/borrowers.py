"""The borrower-level class rule, as close of business applies it to one chunk's day.

With the policy's `classification.borrower_worst_class`, every live loan of a borrower
takes the worst class among that borrower's live loans, never a better one than its own
evidence gives (`domain.classification.with_borrower_class`). Each class is placed on its
own product's ladder, so loans of products with different ladders compare by how far
down they stand.

Found set-based, never loan by loan: one statement finds the borrowers of the range whose
loans may need another class (one the rule made worse, or one with a loan classed below
normal anywhere in the book), with those of loans judged differently today, and one reads
every live loan of theirs. Only the range's own loans still to close today are written:
a borrower's loans in other chunks count with the class they have now (today's, or the
day before's when their chunk has not closed today yet) and are written by their own
chunk, so no chunk ever waits on another's rows.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from lendflow.close_of_business.day import Day, LoanDay
from lendflow.domain.classification import Levels, rank, with_borrower_class
from lendflow.store import cob_queries as q

_AT = {column.name: at for at, column in enumerate(q.LOAN_COLUMNS)}
_CLOSES_TODAY = len(q.LOAN_COLUMNS)  # `BORROWERS_LOANS` adds it after the loan's columns
RULE = "policy classification.borrower_worst_class"


class _Member:
    """One live loan of a borrower: its class on its own evidence, where that stands on its
    product's ladder, and the row read (None for a loan the day already judged)."""

    __slots__ = ("id", "levels", "own", "row", "worst")

    def __init__(self, loan_id: int, levels: Levels, own: str, row: tuple[Any, ...] | None):
        self.id, self.levels, self.own, self.row = loan_id, levels, own, row
        self.worst = rank(levels, own)


def borrower_classes(day: Day) -> None:
    """Give the range's loans still to close the class the borrower-level rule calls for,
    after the delinquency step has graded each on its own evidence (with the rule off,
    only give the loans it made worse back their own class)."""
    on = day.policy.classification.borrower_worst_class
    borrowers = _borrowers(day, on)
    if not borrowers:
        return
    groups: dict[int, list[_Member]] = defaultdict(list)
    for row in q.fetch_by_ids(day.uow, q.BORROWERS_LOANS, sorted(borrowers), day.params):
        if row[_AT["state"]] not in q.LIVE:
            continue
        member = _member(day, row)
        if member is not None:
            groups[row[_AT["customer_id"]]].append(member)
    for members in groups.values():
        worst = max(members, key=lambda m: (m.worst, -m.id)) if on else None
        for member in members:
            _apply(day, member, worst)


def _borrowers(day: Day, on: bool) -> set[int]:
    """The borrowers whose loans in the range may need another class today."""
    if not on:
        return {row[0] for row in q.fetch(day.uow, q.LIFTED_BORROWERS, day.params)}
    found = {row[0] for row in q.fetch(day.uow, q.BORROWERS_TO_CLASS, day.params)}
    # a loan graded differently today: its borrower's other loans may follow it
    found.update(
        loan.customer_id for loan in day.judged() if loan.new_classification != loan.evidence_class
    )
    return found


def _member(day: Day, row: tuple[Any, ...]) -> _Member | None:
    """A borrower's live loan as the rule weighs it: a loan judged today by the class the
    day gave it on its own evidence (none if it leaves the book today), any other by its
    own class as stored."""
    loan_id = row[_AT["id"]]
    levels = day.spec(row[_AT["product_version_id"]]).delinquency.levels
    judged = day.loans.get(loan_id)
    if judged is not None and judged.judged:
        return _Member(loan_id, levels, judged.new_classification, None) if judged.live else None
    own = row[_AT["own_classification"]] or row[_AT["classification"]]
    return _Member(loan_id, levels, own, row)


def _apply(day: Day, member: _Member, worst: _Member | None) -> None:
    """Give one loan of the range still to close today its class under the rule (its own
    when no loan of the borrower is worse), with the reason."""
    code, own = with_borrower_class(member.levels, member.own, worst.worst if worst else 0)
    if own is not None:
        assert worst is not None
        reason = f"borrower's worst class ({RULE}): loan {worst.id} is {worst.own}"
    elif worst is None:
        reason = f"back to its own class {code}: the rule ({RULE}) is off"
    else:
        reason = f"back to its own class {code}: no other live loan of the borrower is worse"
    if member.row is None:  # judged today: graded on its own evidence
        loan = day.loans[member.id]
        if own is None:
            if loan.own_classification is not None:
                loan.reason = f"{reason} ({loan.reason})"
            return
    else:
        row = member.row
        if (code, own) == (row[_AT["classification"]], row[_AT["own_classification"]]):
            return  # it has the class the rule calls for
        found = _read(day, member)
        if found is None:
            return
        loan = found
    loan.new_classification, loan.new_own_classification, loan.reason = code, own, reason


def _read(day: Day, member: _Member) -> LoanDay | None:
    """The loan's working record if this chunk closes it today, read in full (and so
    judged, with the figures it stands at) since the day had not read it yet."""
    assert member.row is not None
    if not day.lo <= member.id <= day.hi or not member.row[_CLOSES_TODAY]:
        return None  # another chunk's, or closed on its own date (behind)
    loan = day.loans.get(member.id)
    if loan is None:
        loan = day.loans[member.id] = LoanDay(member.id, 0, 0, 0, 0)
    loan.read_in_full(member.row[:_CLOSES_TODAY])
    loan.spec = day.spec(loan.product_version_id)
    loan.new_dpd, loan.new_bucket = loan.dpd, loan.bucket
    loan.new_classification, loan.new_held_since = loan.classification, loan.held_since
    return loan

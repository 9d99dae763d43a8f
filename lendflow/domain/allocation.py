"""Allocating a repayment across instalments by the product's waterfall.

Instalments are served oldest first; within one instalment the components are
paid in the product's order (penalty, fee, interest, principal by default).
This is the "horizontal" strategy Fineract ships as its default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

COMPONENTS = ("penalty", "fee", "interest", "principal")


@dataclass(frozen=True, slots=True)
class Owed:
    """What remains owed on one instalment, in fen."""

    n: int
    penalty: int = 0
    fee: int = 0
    interest: int = 0
    principal: int = 0

    @property
    def total(self) -> int:
        return self.penalty + self.fee + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Part:
    """One slice of a payment: `amount` fen to `component` of instalment `n`."""

    n: int
    component: str
    amount: int


@dataclass(frozen=True, slots=True)
class Allocation:
    parts: tuple[Part, ...]
    remainder: int

    def total(self, component: str | None = None) -> int:
        return sum(p.amount for p in self.parts if component in (None, p.component))


def allocate(amount: int, owed: Sequence[Owed], order: Sequence[str] = COMPONENTS) -> Allocation:
    """Spread `amount` over `owed` (already oldest first) by `order`; return the rest."""
    if amount < 0:
        raise ValueError("cannot allocate a negative amount")
    if sorted(order) != sorted(COMPONENTS):
        raise ValueError(f"allocation order must name each of {COMPONENTS} once")
    left = amount
    parts: list[Part] = []
    for item in owed:
        for component in order:
            if not left:
                break
            due = getattr(item, component)
            if due > 0:
                paid = min(due, left)
                parts.append(Part(item.n, component, paid))
                left -= paid
        if not left:
            break
    return Allocation(tuple(parts), left)

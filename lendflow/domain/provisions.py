"""Loan-loss provisions by five-category class: what each loan must be provided for.

A loan's provision is its principal outstanding times its class's rate, plus the optional
general rate every live loan carries, each rounded half up to the fen on its own (a loan's
figure, not a class's, is what the allowance holds, so the class total is the sum of its
loans' provisions, never its principal times the rate). The allowance is held per loan
(its journal lines name it), so close of business can post the month's change chunk by
chunk, a write-off uses exactly the loan's own allowance, and a loan caught up behind the
book is provided for when its month end is closed, like every other step.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from lendflow.domain.errors import Conflict
from lendflow.domain.money import round_fraction

DEFAULT_RATES: dict[str, Decimal] = {
    "normal": Decimal("1.5"),  # 正常
    "special_mention": Decimal("3"),  # 关注
    "substandard": Decimal("30"),  # 次级
    "doubtful": Decimal("60"),  # 可疑
    "loss": Decimal("100"),  # 损失
}
"""Percent of principal by class (the lender may set its own in policy.yaml)."""


def is_month_end(on: date) -> bool:
    """The last calendar day of a month: the day close of business computes provisions."""
    return (on + timedelta(days=1)).day == 1


def month_end_on_or_before(on: date) -> date:
    """The latest month end not after `on`."""
    return on if is_month_end(on) else on.replace(day=1) - timedelta(days=1)


def percent_of(principal: int, percent: Decimal) -> int:
    """`percent` % of `principal` fen, rounded half up to the fen, exactly (no float)."""
    return round_fraction(Fraction(principal) * Fraction(percent) / 100)


@dataclass(frozen=True)
class ProvisionRates:
    """Percent of principal by class code, and the general rate on every live loan."""

    by_class: Mapping[str, Decimal]
    general: Decimal = Decimal(0)

    def rate_of(self, klass: str) -> Decimal:
        found = self.by_class.get(klass)
        if found is None:
            raise Conflict(
                f"no provision rate for class {klass!r}: add it to provisions.rates in policy.yaml"
            )
        return found

    def of(self, principal: int, klass: str) -> LoanProvision:
        """What a live loan of `principal` fen in `klass` must be provided for."""
        rate = self.rate_of(klass)
        return LoanProvision(
            klass, principal, rate, percent_of(principal, rate), percent_of(principal, self.general)
        )


@dataclass(frozen=True)
class LoanProvision:
    """One loan's provision at a month end: its class's part and the general part."""

    classification: str
    principal: int
    rate: Decimal
    specific: int
    general: int

    @property
    def total(self) -> int:
        return self.specific + self.general


@dataclass(frozen=True)
class ClassProvision:
    """A class's line of the provision table: its loans, principal, rate and provision."""

    classification: str
    loans: int
    principal: int
    rate: Decimal
    provision: int


def by_class(
    provisions: Iterable[LoanProvision], order: Iterable[str] = DEFAULT_RATES
) -> list[ClassProvision]:
    """The class lines, in the lender's order of classes (then any other, by code); the
    general part is not in them (it is a line of its own)."""
    lines: dict[str, list[int]] = {}
    rates: dict[str, Decimal] = {}
    for p in provisions:
        found = lines.setdefault(p.classification, [0, 0, 0])
        found[0] += 1
        found[1] += p.principal
        found[2] += p.specific
        rates[p.classification] = p.rate
    known = list(order)
    codes = [c for c in known if c in lines] + sorted(c for c in lines if c not in known)
    return [ClassProvision(c, *lines[c][:2], rates[c], lines[c][2]) for c in codes]


def allowance_used(allowance: int, written_off: int) -> int:
    """How much of a loan's allowance a write-off of `written_off` fen uses: all of it up to
    the amount (the rest of the loss is expense; an allowance left over is released at
    the next month end, the loan being provided for at nothing)."""
    return max(0, min(allowance, written_off))

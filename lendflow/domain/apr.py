"""Annualised percentage rate of a loan, as the PBOC announcement 〔2021〕第3号 asks.

The APR is the internal rate of return of the borrower's real cash flows: the
net amount actually received at disbursement (principal less any upfront fee)
against every payment made, instalment fees included. The per-period IRR r is
annualised two ways, each labelled: compound (1 + r)^k − 1 (the IRR method the
announcement prefers) and simple r × k, where k is the number of repayment
periods in a year.

Solved by Newton's method on `Decimal` at 40 digits, bracketed by bisection
so it cannot diverge; no float touches the rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Context, Decimal
from fractions import Fraction

from lendflow.domain.calendar import periods_per_year
from lendflow.domain.errors import BadInput
from lendflow.domain.schedule import Schedule

_CTX = Context(prec=40)
_RATE_TOLERANCE = Decimal("1e-18")  # far below the 0.01% an APR is shown to
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class Apr:
    """An annualised rate in percent, by both conventions, unrounded."""

    compound: Decimal
    simple: Decimal
    periodic: Decimal

    def label(self, places: int = 2) -> str:
        q = Decimal(1).scaleb(-places)
        return (
            f"{self.compound.quantize(q)}% (IRR, compound 复利)"
            f" / {self.simple.quantize(q)}% (simple 单利)"
        )


def _npv_and_slope(rate: Decimal, flows: Sequence[int]) -> tuple[Decimal, Decimal]:
    """Net present value of `flows` (one per period) and its derivative at `rate`."""
    ctx = _CTX
    discount = ctx.divide(1, ctx.add(1, rate))
    factor = Decimal(1)
    npv = Decimal(0)
    slope = Decimal(0)
    for t, flow in enumerate(flows):
        if flow:
            term = ctx.multiply(flow, factor)
            npv = ctx.add(npv, term)
            slope = ctx.subtract(slope, ctx.multiply(ctx.multiply(t, term), discount))
        factor = ctx.multiply(factor, discount)
    return npv, slope


def periodic_irr(flows: Sequence[int]) -> Decimal:
    """The rate per period at which the flows' net present value is zero.

    `flows[0]` is the money received (positive), later entries the payments
    (negative), one entry per period; a period without a payment holds 0.
    """
    if not flows or flows[0] <= 0 or all(f >= 0 for f in flows[1:]):
        raise BadInput("APR needs money received first and payments after it")
    if sum(flows) == 0:
        return Decimal(0)
    low, high = Decimal("-0.99"), Decimal(10)
    rate = Decimal("0.01")
    for _ in range(200):
        npv, slope = _npv_and_slope(rate, flows)
        if npv == 0:
            return rate
        # NPV of a loan's flows rises with the rate: received money stays, payments shrink.
        if npv < 0:
            low = rate
        else:
            high = rate
        step = _CTX.divide(npv, slope) if slope else Decimal(0)
        candidate = _CTX.subtract(rate, step)
        if not (low < candidate < high):
            candidate = _CTX.divide(low + high, 2)
        if abs(candidate - rate) < _RATE_TOLERANCE:
            return candidate
        rate = candidate
    return rate


def apr_of_flows(flows: Sequence[int], per_year: Fraction) -> Apr:
    """Annualise the IRR of per-period flows with `per_year` periods a year."""
    r = periodic_irr(flows)
    k = Decimal(per_year.numerator) / Decimal(per_year.denominator)
    compound = _CTX.subtract(_CTX.power(_CTX.add(1, r), k), 1) if r else Decimal(0)
    return Apr(
        compound=_CTX.multiply(compound, _HUNDRED),
        simple=_CTX.multiply(_CTX.multiply(r, k), _HUNDRED),
        periodic=r,
    )


def schedule_flows(schedule: Schedule) -> list[int]:
    """The borrower's cash flows per period: net received, then each instalment paid."""
    return [schedule.net_disbursed] + [-i.total for i in schedule.instalments]


def apr_of_schedule(schedule: Schedule) -> Apr:
    """APR of a schedule, with its instalments taken as one per repayment period."""
    terms = schedule.terms
    return apr_of_flows(schedule_flows(schedule), periods_per_year(terms.every, terms.frequency))

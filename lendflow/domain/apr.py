"""Annualised percentage rate of a loan, as the PBOC announcement 〔2021〕第3号 asks.

The APR is the internal rate of return of the borrower's real cash flows: the
net amount actually received at disbursement (principal less any upfront fee)
against every payment made, instalment fees included. The announcement defines
the IRR method as the rate at which the present value of the future payments
equals the loan received, and annualises it; it allows a compound and a simple
annualisation. lendflow shows three figures, each labelled:

- over repayment periods, the per-period IRR r annualised compound, (1 + r)^k − 1
  (the IRR method the announcement prefers), and simple, r × k, where k is the
  number of repayment periods in a year. Every period counts as one k-th of a
  year, so a first period of 10 days weighs as much as a whole month;
- over actual dates (XIRR), the rate R solving Σ flow_i / (1 + R)^(t_i / 365) = 0,
  where t_i is the number of calendar days from disbursement to the day the
  money moves (an upfront fee on the day of disbursement, each instalment and
  its fees on its due date). This is the same IRR measured on the calendar the
  borrower pays by: an irregular first period, or months of 28 and 31 days,
  count for what they are.

The actual-dates basis counts days against a 365-day year, every year alike
(the convention of a spreadsheet's XIRR and of `calendar.periods_per_year`
for periods of days, so a borrower can check the figure with a spreadsheet);
a span that crosses 29 February counts that day like any other, so a
leap year's 366 days are 366/365 of a year. For a regular monthly schedule it
lies between the periodic IRR compounded over months of 31 days and over
months of 28 days.

The cap check (`config.product_spec.costliest_loan`, used by `product validate`,
the design gate and credit review's pricing) takes `Apr.highest`, the higher of
the compound figures over periods and over actual dates. This is a reading, made
explicit here: the announcement's formula counts whole repayment periods and says
nothing of a period shorter or longer than the others, but it asks for the cost
against the principal the borrower actually holds and for how long, which the
actual-dates figure measures; and the periodic figure is still printed on every
contract, so neither figure a borrower reads may pass the cap.

Solved by Newton's method on `Decimal` at 40 digits, bracketed by bisection
so it cannot diverge; no float touches the rate. The actual-dates rate is
solved as a daily rate g with whole days as exponents, (1 + R) = (1 + g)^365,
so every power is an exact integer power and the solve is as cheap as the
periodic one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal
from fractions import Fraction
from functools import lru_cache

from lendflow.domain.calendar import periods_per_year
from lendflow.domain.errors import BadInput
from lendflow.domain.schedule import Schedule

_CTX = Context(prec=40)
_RATE_TOLERANCE = Decimal("1e-18")  # far below the 0.01% an APR is shown to
_DAILY_TOLERANCE = Decimal("1e-22")  # a daily rate, annualised by a power of 365
_HUNDRED = Decimal(100)
_HIGHEST = Decimal(10)  # 1,000% a period: above it a schedule is a typo, not a loan
_HIGHEST_DAILY = Decimal(1000)  # the payments 1,001 times the money a day later

DAYS_IN_YEAR = 365
"""The year of the actual-dates APR: every year 365 days, as a spreadsheet's XIRR counts."""

ACTUAL_DATES_BASIS = "XIRR over actual dates, 365-day year"

DatedFlow = tuple[date, int]
"""Money moving on a day, in fen: positive to the borrower, negative from them."""


@dataclass(frozen=True, slots=True)
class Apr:
    """An annualised rate in percent, by each convention, unrounded.

    `compound` and `simple` annualise the IRR per repayment period; `actual_dates`
    is the IRR over the flows' calendar dates (XIRR, 365-day year), compound.
    """

    compound: Decimal
    simple: Decimal
    periodic: Decimal
    actual_dates: Decimal

    @property
    def highest(self) -> Decimal:
        """The figure the APR cap is held against: the higher compound figure."""
        return max(self.compound, self.actual_dates)

    @property
    def lowest(self) -> Decimal:
        """The lower compound figure: the bottom of a range that holds both."""
        return min(self.compound, self.actual_dates)

    def label(self, places: int = 2) -> str:
        q = Decimal(1).scaleb(-places)
        return (
            f"{self.compound.quantize(q)}% (IRR, compound 复利)"
            f" / {self.simple.quantize(q)}% (simple 单利)"
            f" / {self.actual_dates.quantize(q)}% ({ACTUAL_DATES_BASIS})"
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


def _dated_npv_and_slope(
    rate: Decimal, flows: Sequence[tuple[int, int]]
) -> tuple[Decimal, Decimal]:
    """Net present value of (day, fen) flows and its derivative at a daily `rate`.

    The discount of each gap between two flows is raised once per length: a monthly
    schedule has only gaps of 28 to 31 days.
    """
    ctx = _CTX
    discount = ctx.divide(1, ctx.add(1, rate))
    gaps: dict[int, Decimal] = {}
    npv = Decimal(0)
    slope = Decimal(0)
    day = 0
    factor = Decimal(1)
    for t, flow in flows:
        if t != day:
            gap = gaps.get(t - day)
            if gap is None:
                gap = gaps[t - day] = ctx.power(discount, t - day)
            factor = ctx.multiply(factor, gap)
            day = t
        term = ctx.multiply(flow, factor)
        npv = ctx.add(npv, term)
        slope = ctx.subtract(slope, ctx.multiply(ctx.multiply(t, term), discount))
    return npv, slope


def _solve(
    npv_and_slope: Callable[[Decimal], tuple[Decimal, Decimal]],
    guess: Decimal,
    tolerance: Decimal,
    high: Decimal,
) -> Decimal:
    """The rate where a loan's NPV is zero: Newton's steps kept inside a shrinking bracket
    from −99% to `high` a period.

    The NPV of a loan's flows rises with the rate (the money received stays,
    the payments shrink), so a negative NPV says the rate is too low.
    """
    low = Decimal("-0.99")
    rate = guess
    for _ in range(400):
        npv, slope = npv_and_slope(rate)
        if npv == 0:
            return rate
        if npv < 0:
            low = rate
        else:
            high = rate
        step = _CTX.divide(npv, slope) if slope else Decimal(0)
        candidate = _CTX.subtract(rate, step)
        if not (low < candidate < high):
            candidate = _CTX.divide(low + high, 2)
        if abs(candidate - rate) < tolerance:
            return candidate
        rate = candidate
    return rate


def _check_loan_shape(amounts: Sequence[int]) -> None:
    if not amounts or amounts[0] <= 0 or all(f >= 0 for f in amounts[1:]):
        raise BadInput("APR needs money received first and payments after it")


def periodic_irr(flows: Sequence[int]) -> Decimal:
    """The rate per period at which the flows' net present value is zero.

    `flows[0]` is the money received (positive), later entries the payments
    (negative), one entry per period; a period without a payment holds 0.
    """
    _check_loan_shape(flows)
    if sum(flows) == 0:
        return Decimal(0)
    return _solve(lambda r: _npv_and_slope(r, flows), Decimal("0.01"), _RATE_TOLERANCE, _HIGHEST)


def daily_irr(flows: Sequence[DatedFlow], guess: Decimal = Decimal("0.0005")) -> Decimal:
    """The rate per calendar day at which the dated flows' net present value is zero.

    `flows[0]` is the money received (positive) on the day of disbursement; the
    others are payments (negative) on or after that day, in any order. `guess` is
    where Newton's method starts (a schedule's own periodic IRR spread over its days
    is close, and saves steps); any guess finds the same rate.
    """
    _check_loan_shape([amount for _, amount in flows])
    start = flows[0][0]
    if any(day < start for day, _ in flows):
        raise BadInput("APR needs every payment on or after the day the money was received")
    by_day = sorted(((day - start).days, amount) for day, amount in flows if amount)
    if sum(amount for _, amount in by_day) == 0:
        return Decimal(0)
    return _solve(
        lambda g: _dated_npv_and_slope(g, by_day), guess, _DAILY_TOLERANCE, _HIGHEST_DAILY
    )


def xirr(flows: Sequence[DatedFlow], guess: Decimal = Decimal("0.0005")) -> Decimal:
    """The APR over actual dates, as a fraction a year: (1 + daily IRR)^365 − 1."""
    g = daily_irr(flows, guess)
    if not g:
        return Decimal(0)
    return _CTX.subtract(_CTX.power(_CTX.add(1, g), DAYS_IN_YEAR), 1)


def apr_of_flows(flows: Sequence[int], per_year: Fraction, dated: Sequence[DatedFlow]) -> Apr:
    """Annualise the IRR of per-period flows with `per_year` periods a year, beside the
    IRR of the same money on its calendar dates (`dated`)."""
    r = periodic_irr(flows)
    k = Decimal(per_year.numerator) / Decimal(per_year.denominator)
    compound = _CTX.subtract(_CTX.power(_CTX.add(1, r), k), 1) if r else Decimal(0)
    return Apr(
        compound=_CTX.multiply(compound, _HUNDRED),
        simple=_CTX.multiply(_CTX.multiply(r, k), _HUNDRED),
        periodic=r,
        actual_dates=_CTX.multiply(xirr(dated, _CTX.divide(compound, DAYS_IN_YEAR)), _HUNDRED),
    )


def schedule_flows(schedule: Schedule) -> list[int]:
    """The borrower's cash flows per period: net received, then each instalment paid."""
    return [schedule.net_disbursed] + [-i.total for i in schedule.instalments]


def schedule_dated_flows(schedule: Schedule) -> list[DatedFlow]:
    """The borrower's cash flows on their days: the net received on the day of
    disbursement (the upfront fee is paid then), each instalment on its due date."""
    return [(schedule.terms.disbursed, schedule.net_disbursed)] + [
        (i.due_date, -i.total) for i in schedule.instalments
    ]


def apr_of_schedule(schedule: Schedule) -> Apr:
    """APR of a schedule: over its repayment periods and over its actual dates.

    Solved once per distinct set of flows: a payout prices its schedule for the loan's
    record and again for its contract, which is drawn from the stored loan, and each
    solve costs some tenths of a millisecond.
    """
    terms = schedule.terms
    return _apr_of_flows_once(
        tuple(schedule_flows(schedule)),
        periods_per_year(terms.every, terms.frequency),
        tuple(schedule_dated_flows(schedule)),
    )


@lru_cache(maxsize=256)
def _apr_of_flows_once(
    flows: tuple[int, ...], per_year: Fraction, dated: tuple[DatedFlow, ...]
) -> Apr:
    """`apr_of_flows`, remembered by value (an `Apr` is frozen, so sharing it is safe)."""
    return apr_of_flows(flows, per_year, dated)

"""Affordability: can the applicant carry the new instalment beside what they already owe?

Debt-to-income is every monthly obligation — other lenders' instalments the
applicant declared, our own open loans, and the new loan's largest instalment —
over monthly income. Instalments of weekly or daily loans are brought to a
month (52/12 weeks, 365/12 days) so one limit serves every product.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from lendflow.domain.calendar import Frequency

PERIODS_PER_MONTH: dict[Frequency, Decimal] = {
    Frequency.MONTHS: Decimal(1),
    Frequency.WEEKS: Decimal(52) / 12,
    Frequency.DAYS: Decimal(365) / 12,
}


def monthly_equivalent(instalment: int, every: int, frequency: Frequency) -> Decimal:
    """An instalment in fen falling due every `every` periods, as fen per month."""
    return Decimal(instalment) * PERIODS_PER_MONTH[frequency] / every


def debt_to_income(income: int, obligations: Decimal) -> Decimal | None:
    """Monthly obligations over monthly income, in percent to two places; None without income."""
    if income <= 0:
        return None
    return (obligations * 100 / income).quantize(Decimal("0.01"), ROUND_HALF_UP)


def largest_affordable(
    *,
    requested: int,
    minimum: int,
    step: int,
    income: int,
    other_obligations: Decimal,
    limit_percent: Decimal,
    monthly_instalment: Callable[[int], Decimal],
) -> int | None:
    """The largest principal on the product's grid (minimum + k·step, at most the request)
    whose instalment keeps debt-to-income within the limit; None when even the minimum
    does not fit.

    Instalments grow almost in proportion to principal, so a proportional first guess
    lands within a step or two; a few schedule evaluations settle it exactly.
    """
    room = Decimal(income) * limit_percent / 100 - other_obligations
    if room <= 0:
        return None

    def fits(principal: int) -> bool:
        return monthly_instalment(principal) <= room

    def on_grid(principal: int) -> int:
        return minimum + max(0, (principal - minimum) // step) * step

    if fits(requested):
        return requested
    at_request = monthly_instalment(requested)
    guess = on_grid(min(requested - step, int(requested * room / at_request)))
    while guess >= minimum and not fits(guess):
        guess -= step
    if guess < minimum:
        return None
    while guess + step < requested and fits(guess + step):
        guess += step
    return guess

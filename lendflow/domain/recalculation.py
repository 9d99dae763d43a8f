"""Interest recalculation on a partial prepayment: the schedule a prepayment leaves.

A borrower who returns part of the principal early owes interest only for the time the
money was actually used (Civil Code art. 677). The product says what the lower balance
does to the rest of the schedule (`PrepaymentMethod`):

- `none` (the default, and every product before this setting): there is no prepayment;
  money beyond what is due pays the next instalments in advance, as scheduled.
- `reduce_instalment`: the rest is re-amortised over the instalments left, so each is
  smaller and the last due date stays.
- `reduce_term`: the instalment stays as it was and the balance runs out sooner, so the
  last instalments fall away.

The running period (the first instalment not yet due on the prepayment's date `on`,
from the previous due date or the day the schedule started, `S`, to its due date `D`)
earns interest on the old balance up to `on` and on the new one after it, each part
pro rata to the day, rounded once, as Apache Fineract's progressive schedule splits a
period at a balance change. Later periods earn interest on the balance as it
runs down. Under `reduce_instalment` the new level instalment `E` is the one that pays
the new balance off exactly over the instalments left, given the running period's
actual interest `i`: with `a` the annuity factor of the periods after the running one,
`E = (B' + i) * a / (1 + a)` (at a period's start this is the plain annuity of `B'`).
The last instalment takes whatever rounding left, as everywhere in `domain.schedule`.

Pure arithmetic over the schedule as it stands (`ScheduleRow`s): the use case applies it
to a loan's instalments, and the audit applies it again to the schedule it rebuilds from
the product version, so both agree to the fen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal
from enum import StrEnum
from fractions import Fraction

from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.money import div_round, format_fen
from lendflow.domain.schedule import (
    Amortization,
    InterestMethod,
    ScheduleTerms,
    _round_instalment,
    annuity_factor,
    annuity_in_digits,
    equal_instalment,
    period_rate,
    standard_period_rate,
)

ScheduleRow = tuple[int, date, int, int, int]
"""(n, due date, principal, interest, fee) of one instalment as scheduled."""


class PrepaymentMethod(StrEnum):
    """What a partial prepayment does to the schedule (the product's `prepayment`)."""

    NONE = "none"
    REDUCE_INSTALMENT = "reduce_instalment"
    REDUCE_TERM = "reduce_term"


@dataclass(frozen=True)
class Recalculation:
    """The schedule after a prepayment and what changed, in fen."""

    rows: tuple[ScheduleRow, ...]
    """The whole schedule: instalments due by the prepayment's date as they were, then
    the recalculated ones (fewer under `reduce_term`)."""
    balance_before: int
    balance_after: int
    level_before: int
    """The running instalment's principal and interest before (the level instalment of
    an annuity; its principal part under equal principal)."""
    level_after: int
    interest_before: int
    """Interest of the instalments not yet due, before and after."""
    interest_after: int
    dropped: tuple[int, ...]
    """Numbers of the instalments no longer scheduled (`reduce_term`)."""

    @property
    def interest_saved(self) -> int:
        return self.interest_before - self.interest_after


def running_interest(
    before: int,
    after: int,
    rate: Fraction,
    start: date,
    on: date,
    due: date,
    terms: ScheduleTerms,
) -> int:
    """Interest of the running period with its balance changed on `on`: the old balance
    `before` from `start` to `on`, the new balance `after` from `on` to `due`, each pro
    rata to the day of the period's `rate`, added exactly and rounded once."""
    days = (due - start).days
    used = (on - start).days
    if days <= 0 or not 0 <= used <= days:
        raise BadInput(f"{on} does not fall in the period {start} to {due}")
    owed = before * used + after * (days - used)
    return div_round(owed * rate.numerator, rate.denominator * days, terms.rounding)


def recalculate(
    rows: Sequence[ScheduleRow],
    on: date,
    repaid: int,
    method: PrepaymentMethod,
    terms: ScheduleTerms,
    started: date,
) -> Recalculation:
    """The schedule after `repaid` fen of principal came back on `on` (negative: lent
    more, as a second tranche), under `method`, for a schedule that began on `started`
    (the payout). Only instalments not yet due on `on` change; `terms` give the rate and
    conventions (the product version's, at the loan's rate)."""
    if method is PrepaymentMethod.NONE:
        raise Refused("the product does not recalculate interest on a prepayment")
    if terms.interest is InterestMethod.FLAT:
        raise Refused("interest charged flat on the original principal is not recalculated")
    if terms.principal_grace or terms.interest_grace:
        raise Refused("a schedule with grace periods is not recalculated")
    ordered = sorted(rows, key=lambda r: r[0])
    kept = [r for r in ordered if r[0] == 0 or r[1] <= on]
    ahead = [r for r in ordered if r[0] > 0 and r[1] > on]
    if not ahead:
        raise Refused(f"no instalment is left after {on} to recalculate")
    before = sum(r[2] for r in ahead)
    after = before - repaid
    if after <= 0:
        raise Refused(
            f"{format_fen(repaid)} is all the principal left ({format_fen(before)}):"
            " that settles the loan"
        )
    running = ahead[0]
    start = max([r[1] for r in ordered if 0 < r[0] < running[0]] + [started])
    rate = period_rate(terms, start, running[1])
    first_interest = running_interest(before, after, rate, start, on, running[1], terms)
    equal_instalments = terms.amortization is Amortization.EQUAL_INSTALMENTS
    level_before = running[2] + running[3] if equal_instalments else running[2]
    count = len(ahead)
    if method is PrepaymentMethod.REDUCE_TERM:
        level = level_before
    elif equal_instalments:
        level = _level_instalment(after, first_interest, count, terms)
        if level < first_interest:
            # Almost everything came back late in the period: the old balance's days earn
            # more than the new level instalment. The running one pays its interest only
            # and the rest is an annuity over the instalments after it.
            per_period = standard_period_rate(terms)
            raw = equal_instalment(after, per_period, count - 1, terms.annuity_digits)
            level = _round_instalment(raw, terms)
    else:
        level = div_round(after, count, terms.rounding)
    new_rows: list[ScheduleRow] = []
    balance = after
    previous_due = start
    for index, (n, due, _, _, fee) in enumerate(ahead):
        if index == 0:
            interest = first_interest
        else:
            step = period_rate(terms, previous_due, due)
            interest = div_round(balance * step.numerator, step.denominator, terms.rounding)
        last = index == count - 1
        if last:
            principal = balance
        elif equal_instalments:
            principal = min(max(level - interest, 0), balance)
        else:
            principal = min(level, balance)
        balance -= principal
        new_rows.append((n, due, principal, interest, fee))
        previous_due = due
        if balance == 0 and method is PrepaymentMethod.REDUCE_TERM:
            break
    dropped = tuple(r[0] for r in ahead[len(new_rows) :])
    first_new = new_rows[0]
    level_after = first_new[2] + first_new[3] if equal_instalments else first_new[2]
    return Recalculation(
        rows=tuple(kept + new_rows),
        balance_before=before,
        balance_after=after,
        level_before=level_before,
        level_after=level_after,
        interest_before=sum(r[3] for r in ahead),
        interest_after=sum(r[3] for r in new_rows),
        dropped=dropped,
    )


def _level_instalment(balance: int, first_interest: int, count: int, terms: ScheduleTerms) -> int:
    """The level instalment that pays `balance` off over `count` instalments when the
    first of them earns `first_interest` (Fineract's EMI after a balance change)."""
    if count == 1:
        return balance + first_interest
    rate, owed = standard_period_rate(terms), balance + first_interest
    if terms.annuity_digits is None:
        factor = annuity_factor(rate, count - 1)
        return _round_instalment(owed * factor / (1 + factor), terms)
    ctx = Context(prec=terms.annuity_digits)  # as releases before the exact annuity did
    factor_in_digits = annuity_in_digits(rate, count - 1, ctx)
    raw = ctx.divide(ctx.multiply(Decimal(owed), factor_in_digits), ctx.add(1, factor_in_digits))
    return _round_instalment(Fraction(raw), terms)

"""Repayment schedules: the cumulative generator, exact to the fen.

Amounts are integer fen and rates exact fractions; every per-period amount is
the exact rational result rounded once by the product's rounding rule. The equal
instalment is no exception: an annuity at a rational rate over a whole number of
periods is rational, so it too is exact until it is rounded, and an instalment of
exactly half a fen goes the way the product's rule says (carried in `Decimal` to 34
digits it came out a hair above or below the half, and went either way).

The generator follows the conventions of Apache Fineract's cumulative schedule
(periodic rate = annual rate / periods in a year for "same as repayment"
interest, the last instalment absorbs every rounding difference, grace periods
pay no principal, and deferred interest is paid with the first instalment after
an interest grace). Where lendflow's default differs from Fineract's, the
setting is named here and Fineract's choice is one of its values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Context, Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from lendflow.domain.calendar import (
    DaysInMonth,
    DaysInYear,
    Frequency,
    MonthEndRule,
    add_periods,
    due_dates,
    year_fraction,
    year_length,
)
from lendflow.domain.errors import BadInput
from lendflow.domain.money import Rounding, div_round, format_fen

MAX_REPAYMENTS = 1200
MAX_ANNUAL_RATE = Decimal(100)  # percent a year; above this it is a typo, not a product


class Amortization(StrEnum):
    """How principal is spread: equal total instalments, or equal principal parts."""

    EQUAL_INSTALMENTS = "equal_instalments"
    EQUAL_PRINCIPAL = "equal_principal"


class InterestMethod(StrEnum):
    """Interest on the declining balance, or flat on the original principal."""

    DECLINING = "declining"
    FLAT = "flat"


class InterestPeriod(StrEnum):
    """Interest per repayment period as a fixed fraction of a year, or per actual day."""

    SAME_AS_REPAYMENT = "same_as_repayment"
    DAILY = "daily"


class LeapYears(StrEnum):
    """How an `actual` year basis counts a leap year for daily interest.

    `split` counts each day against the length of its own year (1/366 in a leap
    year, ISDA actual/actual), lendflow's default because it is what a borrower
    can check with a calendar. `fixed_365` counts every day as 1/365, which is
    what Apache Fineract does for its `actual` days-in-year setting.
    """

    SPLIT = "split"
    FIXED_365 = "fixed_365"


class MultipleRounding(StrEnum):
    """How an equal instalment is rounded to the instalment multiple.

    `nearest` takes the nearer multiple and settles a tie by the terms'
    rounding rule (Fineract's current rule: 312.50 in multiples of 1 is 312
    under HALF_EVEN, 313 under HALF_UP); `up` always rounds up, so that the
    last instalment is the smaller one and no instalment exceeds the quote.
    """

    NEAREST = "nearest"
    UP = "up"


class Method(StrEnum):
    """The four repayment methods named in Chinese lending, as presets."""

    ANNUITY = "annuity"  # 等额本息
    EQUAL_PRINCIPAL = "equal_principal"  # 等额本金
    INTEREST_ONLY = "interest_only"  # 先息后本
    BULLET = "bullet"  # 一次性还本付息


METHOD_NAMES_ZH = {
    Method.ANNUITY: "等额本息",
    Method.EQUAL_PRINCIPAL: "等额本金",
    Method.INTEREST_ONLY: "先息后本",
    Method.BULLET: "一次性还本付息",
}


@dataclass(slots=True)
class ScheduleTerms:
    """Everything that decides a schedule; amounts in fen, rate in percent a year.

    Treat it as a value: derive changed terms with `dataclasses.replace`. It is
    not frozen only because frozen dataclasses cost five times as much to build,
    and batch quoting builds one per loan.
    """

    principal: int
    annual_rate: Decimal
    repayments: int
    disbursed: date
    every: int = 1
    frequency: Frequency = Frequency.MONTHS
    amortization: Amortization = Amortization.EQUAL_INSTALMENTS
    interest: InterestMethod = InterestMethod.DECLINING
    interest_period: InterestPeriod = InterestPeriod.SAME_AS_REPAYMENT
    days_in_year: DaysInYear = DaysInYear.D360
    days_in_month: DaysInMonth = DaysInMonth.ACTUAL
    principal_grace: int = 0
    interest_grace: int = 0
    instalment_multiple: int | None = None
    first_repayment: date | None = None
    upfront_fee: int = 0
    fee_per_instalment: int = 0
    rounding: Rounding = Rounding.HALF_UP
    month_end: MonthEndRule = MonthEndRule.SAME_DAY
    leap_years: LeapYears = LeapYears.SPLIT
    multiple_rounding: MultipleRounding = MultipleRounding.NEAREST
    annuity_digits: int | None = None
    """None: the equal instalment is exact. 34: as releases before the exact annuity
    computed it (`Decimal`, 34 significant digits), which can put an instalment of
    exactly half a fen a fen off; the audit checks a loan paid out then against it."""

    def problems(self) -> list[str]:
        """Every reason these terms cannot make a schedule, as readable lines."""
        found: list[str] = []
        if self.principal <= 0:
            found.append(f"principal must be more than zero, got {format_fen(self.principal)}")
        if not self.annual_rate.is_finite() or self.annual_rate < 0:
            found.append(f"annual rate must be zero or more, got {self.annual_rate}%")
        elif self.annual_rate > MAX_ANNUAL_RATE:
            found.append(f"annual rate {self.annual_rate}% is absurd (at most {MAX_ANNUAL_RATE}%)")
        if not 1 <= self.repayments <= MAX_REPAYMENTS:
            found.append(
                f"repayments must be between 1 and {MAX_REPAYMENTS}, got {self.repayments}"
            )
        if self.every < 1:
            found.append(f"repayment period must be at least 1 {self.frequency}, got {self.every}")
        if self.principal_grace < 0 or self.principal_grace >= max(self.repayments, 1):
            found.append(
                f"principal grace must be 0 to {max(self.repayments - 1, 0)} periods,"
                f" got {self.principal_grace}"
            )
        if self.interest_grace < 0 or self.interest_grace >= max(self.repayments, 1):
            found.append(
                f"interest grace must be 0 to {max(self.repayments - 1, 0)} periods,"
                f" got {self.interest_grace}"
            )
        if self.instalment_multiple is not None and self.instalment_multiple <= 0:
            found.append("instalment multiple must be more than zero")
        if self.upfront_fee < 0 or self.fee_per_instalment < 0:
            found.append("fees cannot be negative")
        if self.upfront_fee >= self.principal > 0:
            found.append("upfront fee must be less than the principal")
        if self.first_repayment is not None and self.first_repayment <= self.disbursed:
            found.append(
                f"first repayment {self.first_repayment} must fall after disbursement"
                f" {self.disbursed}"
            )
        return found

    def check(self) -> None:
        problems = self.problems()
        if problems:
            raise BadInput(problems[0])


class Instalment(NamedTuple):
    """One row of a schedule; amounts in fen, `balance` is principal still owed after it.

    A named tuple rather than a dataclass: schedules are built by the hundred
    thousand in batch quoting and close of business, and tuples build fastest.
    """

    n: int
    due_date: date
    principal: int
    interest: int
    fee: int
    balance: int

    @property
    def total(self) -> int:
        return self.principal + self.interest + self.fee


@dataclass(slots=True)
class Schedule:
    """A whole repayment schedule and the terms that made it; totals in fen.

    A value like `ScheduleTerms`: never changed after `generate` returns it.
    """

    terms: ScheduleTerms
    instalments: tuple[Instalment, ...]
    total_principal: int
    total_interest: int
    total_fees: int

    @classmethod
    def of(cls, terms: ScheduleTerms, instalments: tuple[Instalment, ...]) -> Schedule:
        """A schedule whose totals are summed from its rows (upfront fee included)."""
        return cls(
            terms,
            instalments,
            sum(i.principal for i in instalments),
            sum(i.interest for i in instalments),
            sum(i.fee for i in instalments) + terms.upfront_fee,
        )

    @property
    def net_disbursed(self) -> int:
        """What the borrower actually receives to use: principal less upfront fees."""
        return self.terms.principal - self.terms.upfront_fee

    @property
    def total_repayable(self) -> int:
        return sum(i.total for i in self.instalments)

    @property
    def maturity(self) -> date:
        return self.instalments[-1].due_date


def apply_method(terms: ScheduleTerms, method: Method) -> ScheduleTerms:
    """Set the schedule settings that a named Chinese repayment method implies.

    先息后本 is interest every period and all principal at the end, i.e. principal
    grace on every period but the last; 一次性还本付息 is a single instalment at
    the end of the whole term.
    """
    if method is Method.ANNUITY:
        return replace(
            terms, amortization=Amortization.EQUAL_INSTALMENTS, interest=InterestMethod.DECLINING
        )
    if method is Method.EQUAL_PRINCIPAL:
        return replace(
            terms, amortization=Amortization.EQUAL_PRINCIPAL, interest=InterestMethod.DECLINING
        )
    if method is Method.INTEREST_ONLY:
        return replace(
            terms,
            amortization=Amortization.EQUAL_PRINCIPAL,
            interest=InterestMethod.DECLINING,
            principal_grace=terms.repayments - 1,
        )
    return replace(
        terms,
        amortization=Amortization.EQUAL_PRINCIPAL,
        interest=InterestMethod.DECLINING,
        repayments=1,
        every=terms.every * terms.repayments,
        principal_grace=0,
        interest_grace=0,
    )


def standard_periods_per_year(terms: ScheduleTerms) -> int:
    """Periods in a year used to divide the annual rate for period-based interest.

    Months count 12 a year and weeks 52; a period of days counts against the
    product's year basis (365 for an `actual` year).
    """
    if terms.frequency is Frequency.MONTHS:
        return 12
    if terms.frequency is Frequency.WEEKS:
        return 52
    if terms.days_in_year is DaysInYear.ACTUAL:
        return 365
    return int(terms.days_in_year.value)


def standard_period_rate(terms: ScheduleTerms) -> Fraction:
    """The exact nominal rate of one whole repayment period."""
    return _standard_rate(terms.annual_rate, terms.every, standard_periods_per_year(terms))


@lru_cache(maxsize=1024)
def _standard_rate(annual_rate: Decimal, every: int, per_year: int) -> Fraction:
    return Fraction(annual_rate) * every / (100 * per_year)


def period_rate(terms: ScheduleTerms, start: date, end: date) -> Fraction:
    """The exact rate for the period from `start` to `end` under the terms' convention."""
    if terms.interest_period is InterestPeriod.SAME_AS_REPAYMENT:
        return standard_period_rate(terms)
    annual = Fraction(terms.annual_rate) / 100
    if terms.frequency is Frequency.MONTHS and terms.days_in_month is DaysInMonth.D30:
        basis = year_length(start.year, terms.days_in_year)
        if terms.days_in_year is DaysInYear.ACTUAL and terms.leap_years is LeapYears.FIXED_365:
            basis = 365
        return annual * 30 * terms.every / basis
    if terms.days_in_year is DaysInYear.ACTUAL and terms.leap_years is LeapYears.FIXED_365:
        return annual * (end - start).days / 365
    return annual * year_fraction(start, end, terms.days_in_year, terms.days_in_month)


def equal_instalment(
    principal: int, rate: Fraction, periods: int, digits: int | None = None
) -> Fraction:
    """The level payment that repays `principal` fen over `periods` at `rate` per period.

    Returned unrounded (in fen) so the caller rounds it once, to the fen or to the
    instalment multiple: exact, or as computed at `digits` significant digits
    (`ScheduleTerms.annuity_digits`).
    """
    if digits is None:
        return principal * annuity_factor(rate, periods)
    ctx = Context(prec=digits)
    return Fraction(ctx.multiply(Decimal(principal), annuity_in_digits(rate, periods, ctx)))


@lru_cache(maxsize=4096)
def annuity_factor(rate: Fraction, periods: int) -> Fraction:
    """Payment per unit of principal, r(1+r)^n / ((1+r)^n - 1), exactly.

    Kept per rate and term: over a long term its numerator and denominator run to
    thousands of digits, which costs milliseconds once and nothing after.
    """
    if rate == 0:
        return Fraction(1, periods)
    growth = (1 + rate) ** periods
    return rate * growth / (growth - 1)


def annuity_in_digits(rate: Fraction, periods: int, ctx: Context) -> Decimal:
    """`annuity_factor` as releases before the exact annuity computed it, in `ctx`."""
    if rate == 0:
        return ctx.divide(Decimal(1), Decimal(periods))
    r = ctx.divide(Decimal(rate.numerator), Decimal(rate.denominator))
    growth = ctx.power(ctx.add(1, r), periods)
    return ctx.divide(ctx.multiply(r, growth), growth - 1)


def _round_instalment(amount: Fraction, terms: ScheduleTerms, *, share: bool = False) -> int:
    """Round an exact amount (fen) once, to the fen or to the instalment multiple."""
    multiple = terms.instalment_multiple
    if not multiple:
        return div_round(amount.numerator, amount.denominator, terms.rounding)
    units = amount / multiple
    if terms.multiple_rounding is MultipleRounding.UP:
        whole = -(-units.numerator // units.denominator)
    else:
        whole = div_round(units.numerator, units.denominator, terms.rounding)
    if not share:
        whole = max(whole, 1)  # never round a whole instalment away to nothing
    return whole * multiple


def _period_dates(terms: ScheduleTerms) -> tuple[date, ...]:
    return _dates(
        terms.disbursed,
        terms.first_repayment,
        terms.repayments,
        terms.every,
        terms.frequency,
        terms.month_end,
    )


@lru_cache(maxsize=8192)
def _dates(
    disbursed: date,
    first: date | None,
    count: int,
    every: int,
    frequency: Frequency,
    rule: MonthEndRule,
) -> tuple[date, ...]:
    """Due dates anchored on the first repayment date, or else on the disbursement date.

    Cached: a day's loans share their disbursement date and so their due dates.
    """
    if first is not None:
        return tuple(due_dates(first, count, every, frequency, rule))
    return tuple(add_periods(disbursed, i, every, frequency, rule) for i in range(1, count + 1))


def _flat_interest_parts(terms: ScheduleTerms, dates: tuple[date, ...]) -> list[int]:
    """Flat interest per period on the original principal; the last absorbs rounding."""
    n = terms.repayments
    p = terms.principal
    if terms.interest_period is InterestPeriod.DAILY:
        parts: list[int] = []
        start = terms.disbursed
        for end in dates:
            rate = period_rate(terms, start, end)
            parts.append(div_round(p * rate.numerator, rate.denominator, terms.rounding))
            start = end
        return parts
    rate = standard_period_rate(terms)
    total = div_round(p * rate.numerator * n, rate.denominator, terms.rounding)
    paying = n - terms.interest_grace
    each = div_round(total, paying, terms.rounding)
    if each * (paying - 1) > total:  # rounding up would leave the last share negative
        each = total // paying
    parts = [0] * terms.interest_grace + [each] * paying
    parts[-1] = total - each * (paying - 1)
    return parts


def generate(terms: ScheduleTerms) -> Schedule:
    """Build the repayment schedule for `terms`, or raise `BadInput` naming the problem."""
    terms.check()
    dates = _period_dates(terms)
    n = terms.repayments
    rounding = terms.rounding
    principal_periods = n - terms.principal_grace
    balance = terms.principal
    flat = terms.interest is InterestMethod.FLAT
    flat_parts = _flat_interest_parts(terms, dates) if flat else []

    level_total = 0  # the rounded equal instalment (principal + interest)
    level_principal = 0  # the fixed principal part for equal principal
    if terms.amortization is Amortization.EQUAL_INSTALMENTS and flat:
        # Flat: the principal share and the interest share are each rounded (to the
        # fen or the multiple) and added, as Fineract does; only the sum is level.
        interest_share = Fraction(sum(flat_parts), n - terms.interest_grace)
        principal_share = Fraction(terms.principal, principal_periods)
        level_total = _round_instalment(principal_share, terms, share=True) + _round_instalment(
            interest_share, terms, share=True
        )
    elif terms.amortization is Amortization.EQUAL_INSTALMENTS:
        raw = equal_instalment(
            terms.principal, standard_period_rate(terms), principal_periods, terms.annuity_digits
        )
        level_total = _round_instalment(raw, terms)
    else:
        # Equal principal: the instalment varies anyway, so the multiple does not
        # apply; the principal part is rounded to the fen (Fineract does the same).
        level_principal = div_round(terms.principal, principal_periods, rounding)

    if terms.interest_period is InterestPeriod.DAILY:
        rates = []
        start = terms.disbursed
        for due in dates:
            rate = period_rate(terms, start, due)
            rates.append((rate.numerator, rate.denominator))
            start = due
    else:
        rate = standard_period_rate(terms)
        rates = [(rate.numerator, rate.denominator)] * n

    fee = terms.fee_per_instalment
    if (
        not flat
        and rounding is Rounding.HALF_UP
        and terms.amortization is Amortization.EQUAL_INSTALMENTS
        and not terms.principal_grace
        and not terms.interest_grace
    ):
        rows, total_interest = _level_rows(dates, rates, balance, level_total, fee)
    else:
        rows, total_interest = _general_rows(
            terms, dates, rates, flat_parts, level_total, level_principal
        )
    return Schedule(
        terms, tuple(rows), terms.principal, total_interest, fee * n + terms.upfront_fee
    )


_new_row = tuple.__new__


def _level_rows(
    dates: tuple[date, ...],
    rates: list[tuple[int, int]],
    balance: int,
    level_total: int,
    fee: int,
) -> tuple[list[Instalment], int]:
    """Rows of a plain annuity (no grace, half-up): the batch-quoting hot path.

    It computes exactly what `_general_rows` computes for these terms (a test
    holds them equal); it only skips the branches that cannot apply.
    """
    rows: list[Instalment] = []
    append = rows.append
    new_row = _new_row
    total_interest = 0
    last = len(dates) - 1
    for number, due in enumerate(dates[:last], 1):
        num, den = rates[number - 1]
        interest, rest = divmod(balance * num, den)
        if rest + rest >= den:
            interest += 1
        principal = level_total - interest
        if principal < 0:
            principal = 0
        elif principal > balance:
            principal = balance
        balance -= principal
        total_interest += interest
        append(new_row(Instalment, (number, due, principal, interest, fee, balance)))
    num, den = rates[last]
    interest, rest = divmod(balance * num, den)
    if rest + rest >= den:
        interest += 1
    append(new_row(Instalment, (last + 1, dates[last], balance, interest, fee, 0)))
    return rows, total_interest + interest


def _general_rows(
    terms: ScheduleTerms,
    dates: tuple[date, ...],
    rates: list[tuple[int, int]],
    flat_parts: list[int],
    level_total: int,
    level_principal: int,
) -> tuple[list[Instalment], int]:
    """Rows for any terms: grace periods, flat interest, equal principal, any rounding."""
    n = terms.repayments
    rounding = terms.rounding
    flat = terms.interest is InterestMethod.FLAT
    equal_instalments = terms.amortization is Amortization.EQUAL_INSTALMENTS
    balance = terms.principal
    deferred = total_interest = 0
    rows: list[Instalment] = []
    for index, due in enumerate(dates):
        number = index + 1
        if flat:
            interest = flat_parts[index]
        else:
            num, den = rates[index]
            interest = div_round(balance * num, den, rounding)
        if number <= terms.principal_grace:
            principal = 0
        elif number == n:
            principal = balance
        elif equal_instalments:
            principal = min(max(level_total - interest, 0), balance)
        else:
            principal = min(level_principal, balance)
        if number <= terms.interest_grace:
            deferred += interest
            interest = 0
        elif deferred:
            interest += deferred
            deferred = 0
        balance -= principal
        total_interest += interest
        rows.append(Instalment(number, due, principal, interest, terms.fee_per_instalment, balance))
    return rows, total_interest

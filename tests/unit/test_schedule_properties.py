"""Properties every repayment schedule must have, over random loan terms, plus worked examples.

A schedule is what the borrower signs: if its principal parts do not add up to the
loan, or a balance goes up or below zero, the contract is wrong whatever the rate.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import numpy_financial as npf
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from lendflow.domain import schedule as schedule_module
from lendflow.domain.calendar import (
    DaysInMonth,
    DaysInYear,
    Frequency,
    MonthEndRule,
    add_months,
    add_periods,
)
from lendflow.domain.errors import BadInput
from lendflow.domain.money import Rounding, div_round
from lendflow.domain.schedule import (
    Amortization,
    Instalment,
    InterestMethod,
    InterestPeriod,
    LeapYears,
    Method,
    MultipleRounding,
    Schedule,
    ScheduleTerms,
    apply_method,
    equal_instalment,
    generate,
    period_rate,
    standard_period_rate,
)

SETTINGS = settings(max_examples=200, deadline=None)
DISBURSED = st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31))
RATES = st.integers(min_value=0, max_value=3600).map(lambda cents: Decimal(cents).scaleb(-2))


@st.composite
def schedule_terms(
    draw: st.DrawFn,
    *,
    amortization: Amortization | None = None,
    interest: InterestMethod | None = None,
    interest_period: InterestPeriod | None = None,
    rounding: Rounding | None = None,
    grace: bool = True,
    interest_grace: bool = True,
    multiple: bool | None = None,
    first_repayment: bool = True,
    fee: bool = False,
) -> ScheduleTerms:
    """Valid terms across every setting; keyword arguments pin settings a property needs.

    `multiple=None` draws an instalment multiple or not, `True` always sets one.
    """
    repayments = draw(st.integers(min_value=1, max_value=60))
    disbursed = draw(DISBURSED)
    if multiple is None:
        multiple = draw(st.booleans())
    return ScheduleTerms(
        principal=draw(st.integers(min_value=100, max_value=10_000_000)),
        annual_rate=draw(RATES),
        repayments=repayments,
        disbursed=disbursed,
        every=draw(st.integers(min_value=1, max_value=3)),
        frequency=draw(st.sampled_from(list(Frequency))),
        amortization=amortization or draw(st.sampled_from(list(Amortization))),
        interest=interest or draw(st.sampled_from(list(InterestMethod))),
        interest_period=interest_period or draw(st.sampled_from(list(InterestPeriod))),
        days_in_year=draw(st.sampled_from(list(DaysInYear))),
        days_in_month=draw(st.sampled_from(list(DaysInMonth))),
        principal_grace=draw(st.integers(0, repayments - 1)) if grace else 0,
        interest_grace=draw(st.integers(0, repayments - 1)) if grace and interest_grace else 0,
        instalment_multiple=draw(st.sampled_from([100, 2000])) if multiple else None,
        first_repayment=(
            disbursed + timedelta(days=draw(st.integers(1, 45)))
            if first_repayment and draw(st.booleans())
            else None
        ),
        fee_per_instalment=draw(st.integers(0, 500)) if fee else 0,
        rounding=rounding or draw(st.sampled_from(list(Rounding))),
        month_end=draw(st.sampled_from(list(MonthEndRule))),
        leap_years=draw(st.sampled_from(list(LeapYears))),
        multiple_rounding=draw(st.sampled_from(list(MultipleRounding))),
    )


PLAIN_ANNUITIES = schedule_terms(
    amortization=Amortization.EQUAL_INSTALMENTS,
    interest=InterestMethod.DECLINING,
    interest_period=InterestPeriod.SAME_AS_REPAYMENT,
    grace=False,
    multiple=False,
)
"""Equal instalments at a declining rate per period, no grace and no multiple: the
textbook annuity, level from the first instalment."""


def opening_balances(schedule: Schedule) -> list[int]:
    """The principal owed before each instalment."""
    return [schedule.terms.principal] + [row.balance for row in schedule.instalments[:-1]]


# A flat loan whose total interest is small against the number of instalments:
# 1.00 yuan at 18% flat over 8 months (see test_flat_interest_is_never_negative).
SMALL_FLAT = ScheduleTerms(
    principal=100,
    annual_rate=Decimal(18),
    repayments=8,
    disbursed=date(2024, 1, 15),
    interest=InterestMethod.FLAT,
)


# --- properties of every schedule -----------------------------------------------------------


@SETTINGS
@given(schedule_terms())
def test_principal_parts_sum_to_the_principal(terms: ScheduleTerms) -> None:
    """The borrower repays exactly what was lent, not a fen more or less."""
    schedule = generate(terms)
    assert sum(row.principal for row in schedule.instalments) == terms.principal
    assert schedule.total_principal == terms.principal
    assert schedule.total_interest == sum(row.interest for row in schedule.instalments)


@SETTINGS
@given(schedule_terms(), st.sampled_from(list(Method)))
def test_every_method_preset_repays_the_principal(terms: ScheduleTerms, method: Method) -> None:
    """Each named method (等额本息, 等额本金, 先息后本, 一次性还本付息) is a full schedule."""
    preset = apply_method(terms, method)
    schedule = generate(preset)
    rows = schedule.instalments
    assert sum(row.principal for row in rows) == terms.principal
    assert rows[-1].balance == 0
    expected_rows = 1 if method is Method.BULLET else terms.repayments
    assert len(rows) == expected_rows
    if method is Method.INTEREST_ONLY:
        assert all(row.principal == 0 for row in rows[:-1])
        assert rows[-1].principal == terms.principal
    if method is Method.BULLET and terms.first_repayment is None:
        term_end = add_periods(
            terms.disbursed, 1, terms.every * terms.repayments, terms.frequency, terms.month_end
        )
        assert rows[0].due_date == term_end


@SETTINGS
@given(schedule_terms(interest=InterestMethod.DECLINING))
def test_declining_amounts_are_never_negative(terms: ScheduleTerms) -> None:
    """No row asks for negative principal or interest, and no balance goes below zero."""
    for row in generate(terms).instalments:
        assert row.principal >= 0
        assert row.interest >= 0
        assert row.balance >= 0


@SETTINGS
@given(schedule_terms())
@example(SMALL_FLAT)
def test_amounts_are_never_negative(terms: ScheduleTerms) -> None:
    """No row asks for negative principal or interest, and no balance goes below zero."""
    for row in generate(terms).instalments:
        assert row.principal >= 0
        assert row.interest >= 0
        assert row.balance >= 0


@SETTINGS
@given(schedule_terms())
def test_balances_run_down_to_zero(terms: ScheduleTerms) -> None:
    """Each balance is the previous one less the principal paid; it never rises and ends at 0."""
    schedule = generate(terms)
    rows = schedule.instalments
    assert rows[-1].balance == 0
    for opening, row in zip(opening_balances(schedule), rows, strict=True):
        assert row.balance == opening - row.principal
        assert row.balance <= opening
        assert row.balance >= 0


@SETTINGS
@given(schedule_terms())
def test_rows_are_numbered_and_dated(terms: ScheduleTerms) -> None:
    """One row per repayment, numbered from 1, due on strictly later dates after disbursement."""
    rows = generate(terms).instalments
    assert len(rows) == terms.repayments
    assert [row.n for row in rows] == list(range(1, terms.repayments + 1))
    assert rows[0].due_date > terms.disbursed
    assert all(a.due_date < b.due_date for a, b in pairwise(rows))
    if terms.first_repayment is not None:
        assert rows[0].due_date == terms.first_repayment


@SETTINGS
@given(schedule_terms())
def test_grace_periods_carry_no_principal(terms: ScheduleTerms) -> None:
    """During a principal grace the borrower pays no principal, whatever the method."""
    rows = generate(terms).instalments
    assert all(row.principal == 0 for row in rows[: terms.principal_grace])


@SETTINGS
@given(schedule_terms(interest=InterestMethod.DECLINING))
def test_interest_grace_defers_and_does_not_forgive(terms: ScheduleTerms) -> None:
    """An interest grace moves interest later; it neither forgives nor adds any."""
    graced = generate(terms)
    plain = generate(replace(terms, interest_grace=0))
    assert all(row.interest == 0 for row in graced.instalments[: terms.interest_grace])
    assert graced.total_interest == plain.total_interest
    assert [row.principal for row in graced.instalments] == [
        row.principal for row in plain.instalments
    ]


@SETTINGS
@given(PLAIN_ANNUITIES)
def test_plain_annuity_is_level(terms: ScheduleTerms) -> None:
    """等额本息: every instalment but the last is the same amount, so the borrower can budget.

    The one exception is arithmetic, not a choice: on a tiny loan the rounded-up
    instalment can repay the balance early, after which the remaining rows are zero.
    """
    rows = generate(terms).instalments
    level = rows[0].total
    paid_off = False
    for row in rows[:-1]:
        if paid_off:
            assert row.total == 0
        elif row.total != level:
            assert row.balance == 0
            paid_off = True


@SETTINGS
@given(
    schedule_terms(amortization=Amortization.EQUAL_INSTALMENTS, interest_grace=False, multiple=True)
)
def test_instalments_are_multiples(terms: ScheduleTerms) -> None:
    """With an instalment multiple every regular instalment is a round amount; only the last
    (which settles the balance) and grace periods (interest only) may differ.

    Rows where the level instalment is overtaken by the balance (it would repay more
    than is owed) or by the interest (it would repay negative principal) are exempt.
    """
    multiple = terms.instalment_multiple
    assert multiple is not None
    schedule = generate(terms)
    rows = schedule.instalments
    regular = [
        row for row in rows[terms.principal_grace : -1] if row.principal > 0 and row.balance > 0
    ]
    for row in regular:
        assert row.total % multiple == 0
    assert len({row.total for row in regular}) <= 1


def annuity_periods_per_year(terms: ScheduleTerms) -> int:
    if terms.frequency is Frequency.MONTHS:
        return 12
    if terms.frequency is Frequency.WEEKS:
        return 52
    return 365 if terms.days_in_year is DaysInYear.ACTUAL else int(terms.days_in_year.value)


@SETTINGS
@given(PLAIN_ANNUITIES)
@example(
    ScheduleTerms(
        principal=100_000_000, annual_rate=Decimal("4.9"), repayments=60, disbursed=date(2024, 1, 1)
    )
)
@example(
    ScheduleTerms(
        principal=2_500_000,
        annual_rate=Decimal("0.03"),
        repayments=1,
        disbursed=date(2020, 1, 1),
        every=3,
    )
)
def test_annuity_matches_numpy_financial(terms: ScheduleTerms) -> None:
    """The equal instalment is the textbook annuity, so a borrower's spreadsheet agrees.

    The spreadsheet works in floats, whose error in `pmt` grows with the principal and
    shrinks with the rate (2,500,000 fen at 0.03% over one quarter is exactly 2,500,187.5
    but comes out 2,500,187.4999984), so an instalment within that error of a half fen is a
    tie the float cannot settle, and is not compared.
    """
    rate = float(terms.annual_rate) / 100 * terms.every / annuity_periods_per_year(terms)
    expected = float(npf.pmt(rate, terms.repayments, -terms.principal))
    float_error = 1e-6 + abs(expected) * 1e-9
    assume(abs(expected - math.floor(expected) - 0.5) > float_error)
    assert generate(terms).instalments[0].total == math.floor(expected + 0.5)


def exact_annuity(terms: ScheduleTerms) -> Fraction:
    """The level instalment in fen, in exact arithmetic: a rational rate over a whole
    number of periods gives a rational annuity, so only the final rounding is a choice."""
    rate = Fraction(terms.annual_rate) / 100 * terms.every / annuity_periods_per_year(terms)
    if rate == 0:
        return Fraction(terms.principal, terms.repayments)
    growth = (1 + rate) ** terms.repayments
    return terms.principal * rate * growth / (growth - 1)


# 90,015.00 yuan at 0.40% a year over two months: the level instalment is exactly
# 45,030.005 yuan, a half fen (r = 1/3000, so it is 9,001,500 x 3001^2 / (3000 x 6001)).
HALF_EVEN = Rounding.HALF_EVEN
HALF_FEN_ANNUITY = ScheduleTerms(
    principal=9_001_500, annual_rate=Decimal("0.40"), repayments=2, disbursed=date(2024, 1, 1)
)


@SETTINGS
@given(PLAIN_ANNUITIES)
@example(HALF_FEN_ANNUITY)
@example(replace(HALF_FEN_ANNUITY, rounding=HALF_EVEN))
@example(  # 3,379,501.5 fen: even is up
    replace(HALF_FEN_ANNUITY, principal=6_752_250, annual_rate=Decimal("0.80"), rounding=HALF_EVEN)
)
@example(  # 733,260.5 fen, which 34 digits made 733,260.5000…04: even is down
    replace(HALF_FEN_ANNUITY, principal=1_446_600, annual_rate=Decimal("11"), rounding=HALF_EVEN)
)
def test_the_equal_instalment_is_the_exact_annuity_rounded_once(terms: ScheduleTerms) -> None:
    """Half a fen is settled by the product's rule, never by how many digits were carried."""
    exact = exact_annuity(terms)
    rounded = div_round(exact.numerator, exact.denominator, terms.rounding)
    assert generate(terms).instalments[0].total == rounded


def test_an_annuity_of_exactly_half_a_fen_rounds_by_the_products_rule() -> None:
    assert generate(HALF_FEN_ANNUITY).instalments[0].total == 4_503_001
    half_even = replace(HALF_FEN_ANNUITY, rounding=Rounding.HALF_EVEN)
    assert generate(half_even).instalments[0].total == 4_503_000
    # releases before the exact annuity carried 34 digits: 4,503,000.4999…, rounded down
    in_34_digits = replace(HALF_FEN_ANNUITY, annuity_digits=34)
    assert generate(in_34_digits).instalments[0].total == 4_503_000


def general_path_rows(terms: ScheduleTerms) -> tuple[list[Instalment], int]:
    """Rows from `_general_rows`, with the arguments `generate` builds for a plain annuity."""
    dates = schedule_module._period_dates(terms)
    if terms.interest_period is InterestPeriod.DAILY:
        starts = (terms.disbursed, *dates[:-1])
        fractions = [
            period_rate(terms, start, end) for start, end in zip(starts, dates, strict=True)
        ]
    else:
        fractions = [standard_period_rate(terms)] * terms.repayments
    rates = [(f.numerator, f.denominator) for f in fractions]
    raw = equal_instalment(terms.principal, standard_period_rate(terms), terms.repayments)
    level_total = schedule_module._round_instalment(raw, terms)
    return schedule_module._general_rows(terms, dates, rates, [], level_total, 0)


@SETTINGS
@given(
    schedule_terms(
        amortization=Amortization.EQUAL_INSTALMENTS,
        interest=InterestMethod.DECLINING,
        rounding=Rounding.HALF_UP,
        grace=False,
        fee=True,
    )
)
def test_fast_path_equals_general_path(terms: ScheduleTerms) -> None:
    """The batch-quoting shortcut must quote exactly what the general generator would."""
    schedule = generate(terms)
    rows, total_interest = general_path_rows(terms)
    assert schedule.instalments == tuple(rows)
    assert schedule.total_interest == total_interest
    assert schedule.total_fees == terms.fee_per_instalment * terms.repayments


# --- worked examples ------------------------------------------------------------------------


def test_mortgage_example() -> None:
    """1,000,000.00 yuan at 4.9% over 30 years: the familiar 5,307.27 a month."""
    terms = ScheduleTerms(
        principal=100_000_000,
        annual_rate=Decimal("4.9"),
        repayments=360,
        disbursed=date(2024, 1, 15),
    )
    schedule = generate(terms)
    rows = schedule.instalments
    assert rows[0].total == 530_727
    assert rows[0].interest == 408_333  # 1,000,000.00 x 4.9% / 12 = 4,083.33
    assert all(row.total == 530_727 for row in rows[:-1])
    assert rows[-1].balance == 0
    assert rows[-1].due_date == date(2054, 1, 15)


def test_interest_only_example() -> None:
    """先息后本: 120,000.00 at 12% for 12 months pays 1,200.00 interest a month, then the loan."""
    terms = apply_method(
        ScheduleTerms(
            principal=12_000_000,
            annual_rate=Decimal(12),
            repayments=12,
            disbursed=date(2024, 1, 15),
        ),
        Method.INTEREST_ONLY,
    )
    rows = generate(terms).instalments
    assert len(rows) == 12
    for row in rows[:11]:
        assert (row.principal, row.interest, row.balance) == (0, 120_000, 12_000_000)
    assert (rows[11].principal, rows[11].interest, rows[11].balance) == (12_000_000, 120_000, 0)
    assert rows[11].total == 12_120_000


def test_bullet_example() -> None:
    """一次性还本付息: 10,000.00 at 12% over 6 months is one payment of 10,600.00 at the end."""
    disbursed = date(2024, 3, 15)
    terms = apply_method(
        ScheduleTerms(
            principal=1_000_000, annual_rate=Decimal(12), repayments=6, disbursed=disbursed
        ),
        Method.BULLET,
    )
    rows = generate(terms).instalments
    assert len(rows) == 1
    assert rows[0].total == 1_060_000
    assert (rows[0].principal, rows[0].interest) == (1_000_000, 60_000)
    assert rows[0].due_date == add_months(disbursed, 6) == date(2024, 9, 15)


def test_equal_principal_example() -> None:
    """等额本金: 1,200.00 over 12 months repays 100.00 of principal every month."""
    terms = apply_method(
        ScheduleTerms(
            principal=120_000, annual_rate=Decimal(12), repayments=12, disbursed=date(2024, 1, 31)
        ),
        Method.EQUAL_PRINCIPAL,
    )
    schedule = generate(terms)
    rows = schedule.instalments
    assert [row.principal for row in rows] == [10_000] * 12
    # 1% a month on the balance still owed: 12.00, 11.00, ..., 1.00.
    assert [row.interest for row in rows] == [100 * (12 - i) for i in range(12)]
    assert [row.due_date for row in rows[:3]] == [
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


def test_interest_grace_defers_interest_to_the_first_paying_instalment() -> None:
    """Interest in an interest grace is deferred to instalment 3, not forgiven."""
    plain = ScheduleTerms(
        principal=1_200_000, annual_rate=Decimal(12), repayments=12, disbursed=date(2024, 1, 15)
    )
    graced = replace(plain, interest_grace=2)
    base = generate(plain).instalments
    rows = generate(graced).instalments
    expected_interest = [
        div_round(opening * 1, 100) for opening in opening_balances(generate(plain))
    ]
    assert [row.interest for row in base] == expected_interest
    assert rows[0].interest == rows[1].interest == 0
    assert rows[2].interest == sum(expected_interest[:3])
    assert [row.interest for row in rows[3:]] == expected_interest[3:]
    assert [row.principal for row in rows] == [row.principal for row in base]
    assert generate(graced).total_interest == generate(plain).total_interest


def test_flat_interest_example() -> None:
    """Flat interest is charged on the original principal every period."""
    terms = ScheduleTerms(
        principal=1_200_000,
        annual_rate=Decimal(12),
        repayments=12,
        disbursed=date(2024, 1, 15),
        interest=InterestMethod.FLAT,
        amortization=Amortization.EQUAL_PRINCIPAL,
    )
    rows = generate(terms).instalments
    assert [row.interest for row in rows] == [12_000] * 12
    assert [row.principal for row in rows] == [100_000] * 12


def test_flat_interest_is_never_negative() -> None:
    """1.00 yuan at 18% flat over 8 months: 0.12 interest in all, 8 rows of 0.02 would be 0.16.

    The per-row share 0.015 would round up to 0.02 and leave the last row at -0.02;
    the share is rounded down instead when rounding up would overshoot the total.
    """
    rows = generate(SMALL_FLAT).instalments
    assert sum(row.interest for row in rows) == 12
    assert all(row.interest >= 0 for row in rows)


# --- validation -----------------------------------------------------------------------------

VALID = ScheduleTerms(
    principal=1_000_000, annual_rate=Decimal(12), repayments=12, disbursed=date(2024, 1, 15)
)


def test_valid_terms_have_no_problems() -> None:
    assert VALID.problems() == []
    generate(VALID)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"principal": 0}, "principal must be more than zero"),
        ({"principal": -100}, "principal must be more than zero"),
        ({"repayments": 0}, "repayments must be between"),
        ({"repayments": 1201}, "repayments must be between"),
        ({"annual_rate": Decimal(-1)}, "annual rate must be zero or more"),
        ({"annual_rate": Decimal("NaN")}, "annual rate must be zero or more"),
        ({"annual_rate": Decimal(500)}, "absurd"),
        ({"every": 0}, "repayment period must be at least 1"),
        ({"principal_grace": 12}, "principal grace"),
        ({"interest_grace": 12}, "interest grace"),
        ({"principal_grace": -1}, "principal grace"),
        ({"instalment_multiple": 0}, "instalment multiple"),
        ({"fee_per_instalment": -1}, "fees cannot be negative"),
        ({"upfront_fee": 1_000_000}, "upfront fee"),
        ({"first_repayment": date(2024, 1, 10)}, "must fall after disbursement"),
        ({"first_repayment": date(2024, 1, 15)}, "must fall after disbursement"),
    ],
)
def test_problems_are_reported_and_refused(changes: dict[str, object], words: str) -> None:
    """Impossible terms are refused with a reason a loan officer can act on, never a crash."""
    terms = replace(VALID, **changes)  # type: ignore[arg-type]
    problems = terms.problems()
    assert any(words in problem for problem in problems), problems
    with pytest.raises(BadInput):
        generate(terms)


def test_all_problems_are_listed_at_once() -> None:
    """A product sheet with several mistakes is fixed in one pass."""
    terms = replace(VALID, principal=0, repayments=0, annual_rate=Decimal(-1))
    problems = terms.problems()
    assert len(problems) >= 3
    with pytest.raises(BadInput, match="principal must be more than zero"):
        generate(terms)


def test_largest_sensible_rate_is_accepted() -> None:
    assert replace(VALID, annual_rate=Decimal(100)).problems() == []
    assert replace(VALID, annual_rate=Decimal(0)).problems() == []


def test_zero_rate_annuity_splits_the_principal() -> None:
    terms = replace(VALID, annual_rate=Decimal(0), principal=1_000_000, repayments=3)
    rows = generate(terms).instalments
    assert [row.principal for row in rows] == [333_333, 333_333, 333_334]
    assert all(row.interest == 0 for row in rows)


def test_period_rate_examples() -> None:
    """Per-period rates are exact fractions: 12% a year is exactly 1% a month."""
    assert standard_period_rate(VALID) == Fraction(1, 100)
    weekly = replace(VALID, frequency=Frequency.WEEKS, every=2, annual_rate=Decimal(26))
    assert standard_period_rate(weekly) == Fraction(1, 100)
    daily = replace(
        VALID,
        frequency=Frequency.DAYS,
        every=7,
        annual_rate=Decimal("36.5"),
        days_in_year=DaysInYear.ACTUAL,
    )
    assert standard_period_rate(daily) == Fraction(7, 1000)

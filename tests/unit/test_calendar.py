"""Calendar arithmetic: due dates that do not drift and day counts that are exact.

A due date one day off is a late payment that never happened, and a day count
one day off is interest the borrower was never told about.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lendflow.domain.calendar import (
    DaysInMonth,
    DaysInYear,
    Frequency,
    MonthEndRule,
    add_months,
    add_periods,
    day_count,
    days_30,
    due_dates,
    is_month_end,
    last_day_of_month,
    parse_date,
    periods_per_year,
    year_fraction,
    year_length,
)
from lendflow.domain.errors import BadInput

SETTINGS = settings(max_examples=200, deadline=None)
DATES = st.dates(min_value=date(1990, 1, 1), max_value=date(2060, 12, 31))
EARLY_DAYS = st.builds(
    date,
    st.integers(min_value=1990, max_value=2060),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=28),
)
MONTHS = st.integers(min_value=0, max_value=240)
SIGNED_MONTHS = st.integers(min_value=-240, max_value=240)
RULES = st.sampled_from(list(MonthEndRule))


# --- add_months -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 1, 31), 2, date(2023, 3, 31)),
        (date(2023, 1, 31), 3, date(2023, 4, 30)),
        (date(2024, 1, 15), 12, date(2025, 1, 15)),
        (date(2024, 11, 30), 3, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2024, 1, 31), -2, date(2023, 11, 30)),
        (date(2024, 5, 10), 0, date(2024, 5, 10)),
    ],
)
def test_add_months_clamps_to_month_end(start: date, months: int, expected: date) -> None:
    """A day missing from the target month falls on that month's last day."""
    assert add_months(start, months) == expected
    assert add_months(start, months, MonthEndRule.SAME_DAY) == expected


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 4, 30), 1, date(2024, 5, 31)),
        (date(2024, 2, 29), 1, date(2024, 3, 31)),
        (date(2023, 2, 28), 1, date(2023, 3, 31)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 4, 29), 1, date(2024, 5, 29)),
        (date(2024, 2, 28), 1, date(2024, 3, 28)),
    ],
)
def test_month_end_rule_keeps_month_ends(start: date, months: int, expected: date) -> None:
    """Under `month_end` a month-end anchor stays on month ends; other days behave as usual."""
    assert add_months(start, months, MonthEndRule.MONTH_END) == expected


def test_same_day_rule_keeps_the_day() -> None:
    assert add_months(date(2024, 4, 30), 1, MonthEndRule.SAME_DAY) == date(2024, 5, 30)


@SETTINGS
@given(EARLY_DAYS, SIGNED_MONTHS, SIGNED_MONTHS, RULES)
def test_add_months_composes_for_early_days(day: date, a: int, b: int, rule: MonthEndRule) -> None:
    """Up to the 28th no clamping happens, so adding months in steps equals adding them at once.

    Under `month_end` the 28th is excluded: 28 Feb of a common year is a month end.
    """
    assume(rule is MonthEndRule.SAME_DAY or day.day <= 27)
    assert add_months(add_months(day, a, rule), b, rule) == add_months(day, a + b, rule)
    assert add_months(day, a, rule).day == day.day


@SETTINGS
@given(DATES, SIGNED_MONTHS)
def test_add_months_same_day_clamps(day: date, months: int) -> None:
    """The due day is the anchor's day, or the month's last day when that is earlier."""
    result = add_months(day, months)
    assert (result.year * 12 + result.month) - (day.year * 12 + day.month) == months
    assert result.day == min(day.day, last_day_of_month(result.year, result.month))


@SETTINGS
@given(DATES, MONTHS, MONTHS)
def test_add_months_in_steps_never_lands_later(day: date, a: int, b: int) -> None:
    """Stepping from a clamped date can only lose days, which is why due dates use one anchor."""
    stepped = add_months(add_months(day, a), b)
    direct = add_months(day, a + b)
    assert stepped <= direct
    assert (stepped.year, stepped.month) == (direct.year, direct.month)


@SETTINGS
@given(DATES, SIGNED_MONTHS)
def test_month_end_rule_lands_on_month_ends(day: date, months: int) -> None:
    """Under `month_end` a month-end anchor always gives a month end."""
    result = add_months(day, months, MonthEndRule.MONTH_END)
    if is_month_end(day):
        assert is_month_end(result)
    else:
        assert result == add_months(day, months, MonthEndRule.SAME_DAY)


# --- due dates ------------------------------------------------------------------------------


def test_due_dates_do_not_drift_from_a_month_end_anchor() -> None:
    """31 Jan, 29 Feb, 31 Mar: never 29 Mar, which stepping from February would give."""
    assert due_dates(date(2024, 1, 31), 4, 1, Frequency.MONTHS) == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
    ]


def test_due_dates_month_end_rule() -> None:
    assert due_dates(date(2024, 4, 30), 3, 1, Frequency.MONTHS, MonthEndRule.MONTH_END) == [
        date(2024, 4, 30),
        date(2024, 5, 31),
        date(2024, 6, 30),
    ]


def test_due_dates_every_second_month() -> None:
    assert due_dates(date(2023, 8, 31), 3, 2, Frequency.MONTHS) == [
        date(2023, 8, 31),
        date(2023, 10, 31),
        date(2023, 12, 31),
    ]


def test_due_dates_weeks_and_days() -> None:
    assert due_dates(date(2024, 2, 26), 3, 1, Frequency.WEEKS) == [
        date(2024, 2, 26),
        date(2024, 3, 4),
        date(2024, 3, 11),
    ]
    assert due_dates(date(2024, 2, 26), 3, 2, Frequency.WEEKS) == [
        date(2024, 2, 26),
        date(2024, 3, 11),
        date(2024, 3, 25),
    ]
    assert due_dates(date(2024, 2, 27), 3, 15, Frequency.DAYS) == [
        date(2024, 2, 27),
        date(2024, 3, 13),
        date(2024, 3, 28),
    ]
    assert due_dates(date(2024, 2, 27), 0, 1, Frequency.DAYS) == []


def test_add_periods() -> None:
    assert add_periods(date(2024, 1, 31), 1, 1, Frequency.MONTHS) == date(2024, 2, 29)
    assert add_periods(date(2024, 1, 31), 2, 3, Frequency.WEEKS) == date(2024, 3, 13)
    assert add_periods(date(2024, 1, 31), 3, 10, Frequency.DAYS) == date(2024, 3, 1)


@SETTINGS
@given(
    DATES,
    st.integers(min_value=1, max_value=60),
    st.integers(min_value=1, max_value=3),
    st.sampled_from(list(Frequency)),
    RULES,
)
def test_due_dates_are_anchored_and_increasing(
    first: date, count: int, every: int, frequency: Frequency, rule: MonthEndRule
) -> None:
    """Each due date is whole periods after the first, so schedules never drift or repeat."""
    dates = due_dates(first, count, every, frequency, rule)
    assert len(dates) == count
    assert dates[0] == first
    assert all(a < b for a, b in pairwise(dates))
    for i, due in enumerate(dates):
        assert due == add_periods(first, i, every, frequency, rule)
        if frequency is Frequency.DAYS:
            assert (due - first).days == i * every
        elif frequency is Frequency.WEEKS:
            assert (due - first).days == 7 * i * every


# --- day counts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (date(2024, 1, 1), date(2024, 2, 1), 30),
        (date(2024, 1, 15), date(2024, 2, 15), 30),
        (date(2024, 1, 31), date(2024, 2, 29), 29),
        (date(2024, 1, 30), date(2024, 1, 31), 0),
        (date(2024, 1, 31), date(2024, 3, 31), 60),
        (date(2024, 2, 28), date(2024, 3, 31), 32),
        (date(2024, 2, 29), date(2024, 3, 1), 2),
        (date(2023, 12, 15), date(2024, 1, 15), 30),
        (date(2024, 1, 1), date(2025, 1, 1), 360),
        (date(2024, 3, 5), date(2024, 3, 5), 0),
    ],
)
def test_days_30(start: date, end: date, expected: int) -> None:
    """30E/360: day 31 counts as 30 at both ends, February is not adjusted."""
    assert days_30(start, end) == expected
    assert day_count(start, end, DaysInMonth.D30) == expected


def test_day_count_actual() -> None:
    assert day_count(date(2024, 1, 31), date(2024, 2, 29), DaysInMonth.ACTUAL) == 29
    assert day_count(date(2024, 2, 1), date(2024, 3, 1), DaysInMonth.ACTUAL) == 29
    assert day_count(date(2023, 2, 1), date(2023, 3, 1), DaysInMonth.ACTUAL) == 28
    assert day_count(date(2024, 1, 1), date(2025, 1, 1), DaysInMonth.ACTUAL) == 366


@SETTINGS
@given(DATES, DATES, DATES)
def test_days_30_is_additive(a: date, b: date, c: date) -> None:
    """30E/360 counts days by position, so a period split anywhere adds up to the whole."""
    assert days_30(a, b) + days_30(b, c) == days_30(a, c)


@SETTINGS
@given(EARLY_DAYS, MONTHS)
def test_days_30_whole_months_are_30_days(day: date, months: int) -> None:
    assert days_30(day, add_months(day, months)) == 30 * months


def test_year_length() -> None:
    assert year_length(2024, DaysInYear.ACTUAL) == 366
    assert year_length(2023, DaysInYear.ACTUAL) == 365
    assert year_length(2100, DaysInYear.ACTUAL) == 365
    assert year_length(2000, DaysInYear.ACTUAL) == 366
    assert year_length(2024, DaysInYear.D360) == 360
    assert year_length(2024, DaysInYear.D364) == 364
    assert year_length(2024, DaysInYear.D365) == 365


def test_year_fraction_splits_at_the_year_boundary() -> None:
    """December counts against 365 days, January against 366 (ISDA actual/actual)."""
    start, end = date(2023, 12, 1), date(2024, 2, 1)
    result = year_fraction(start, end, DaysInYear.ACTUAL)
    assert result == Fraction(31, 365) + Fraction(31, 366)
    assert isinstance(result, Fraction)
    unsplit = year_fraction(start, end, DaysInYear.ACTUAL, split_years=False)
    assert unsplit == Fraction(62, 365)


def test_year_fraction_fixed_bases() -> None:
    start, end = date(2024, 1, 1), date(2024, 3, 1)  # 60 actual days, 60 by 30E/360
    assert year_fraction(start, end, DaysInYear.D360) == Fraction(60, 360)
    assert year_fraction(start, end, DaysInYear.D365) == Fraction(60, 365)
    assert year_fraction(start, end, DaysInYear.D364) == Fraction(60, 364)
    start, end = date(2023, 1, 31), date(2023, 2, 28)  # 28 actual days, 28 by 30E/360
    assert year_fraction(start, end, DaysInYear.D360) == Fraction(28, 360)
    assert year_fraction(start, end, DaysInYear.D360, DaysInMonth.D30) == Fraction(28, 360)
    start, end = date(2024, 1, 15), date(2024, 2, 15)  # 31 actual days, 30 by 30E/360
    assert year_fraction(start, end, DaysInYear.D365) == Fraction(31, 365)
    assert year_fraction(start, end, DaysInYear.D365, DaysInMonth.D30) == Fraction(30, 365)
    assert year_fraction(start, end, DaysInYear.ACTUAL, DaysInMonth.D30) == Fraction(30, 366)


def test_year_fraction_whole_years() -> None:
    assert year_fraction(date(2024, 1, 1), date(2025, 1, 1), DaysInYear.ACTUAL) == 1
    assert year_fraction(date(2023, 1, 1), date(2025, 1, 1), DaysInYear.ACTUAL) == 2
    assert year_fraction(date(2024, 5, 5), date(2024, 5, 5), DaysInYear.ACTUAL) == 0


def test_year_fraction_refuses_a_backwards_period() -> None:
    with pytest.raises(BadInput, match="before it starts"):
        year_fraction(date(2024, 2, 1), date(2024, 1, 1), DaysInYear.ACTUAL)


@SETTINGS
@given(DATES, DATES, DATES)
def test_year_fraction_actual_is_additive(a: date, b: date, c: date) -> None:
    """Splitting a period (a part payment, a rate change) never creates or loses interest days."""
    start, middle, end = sorted([a, b, c])
    whole = year_fraction(start, end, DaysInYear.ACTUAL)
    parts = year_fraction(start, middle, DaysInYear.ACTUAL) + year_fraction(
        middle, end, DaysInYear.ACTUAL
    )
    assert whole == parts


@SETTINGS
@given(DATES, st.integers(min_value=0, max_value=3000))
def test_year_fraction_actual_counts_each_day_by_its_year(start: date, days: int) -> None:
    """Summing 1/365 or 1/366 day by day gives the same exact fraction."""
    end = start + timedelta(days=min(days, 800))
    expected = sum(
        (
            Fraction(1, year_length((start + timedelta(days=i)).year, DaysInYear.ACTUAL))
            for i in range((end - start).days)
        ),
        Fraction(0),
    )
    assert year_fraction(start, end, DaysInYear.ACTUAL) == expected


@SETTINGS
@given(DATES, DATES, st.sampled_from([DaysInYear.D360, DaysInYear.D364, DaysInYear.D365]))
def test_year_fraction_fixed_basis_is_days_over_basis(a: date, b: date, basis: DaysInYear) -> None:
    start, end = sorted([a, b])
    assert year_fraction(start, end, basis) == Fraction((end - start).days, int(basis.value))


# --- periods per year -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "frequency", "expected"),
    [
        (1, Frequency.MONTHS, Fraction(12)),
        (3, Frequency.MONTHS, Fraction(4)),
        (5, Frequency.MONTHS, Fraction(12, 5)),
        (1, Frequency.WEEKS, Fraction(52)),
        (2, Frequency.WEEKS, Fraction(26)),
        (1, Frequency.DAYS, Fraction(365)),
        (7, Frequency.DAYS, Fraction(365, 7)),
        (30, Frequency.DAYS, Fraction(73, 6)),
    ],
)
def test_periods_per_year(every: int, frequency: Frequency, expected: Fraction) -> None:
    assert periods_per_year(every, frequency) == expected


@pytest.mark.parametrize("every", [0, -1])
def test_periods_per_year_refuses_empty_periods(every: int) -> None:
    with pytest.raises(BadInput, match="repayment period"):
        periods_per_year(every, Frequency.MONTHS)


# --- parse_date -----------------------------------------------------------------------------


def test_parse_date_accepts_iso_dates() -> None:
    assert parse_date("2024-02-29") == date(2024, 2, 29)
    assert parse_date(" 2024-01-31\n", field="disbursed") == date(2024, 1, 31)


@pytest.mark.parametrize(
    "text", ["2023-02-29", "2024-13-01", "2024-00-10", "31/01/2024", "tomorrow", "", "2024-1-5"]
)
def test_parse_date_refuses_and_names_the_field(text: str) -> None:
    """A mistyped date is refused with the field named, never guessed."""
    with pytest.raises(BadInput, match=r"^first_repayment is not a date") as info:
        parse_date(text, field="first_repayment")
    assert "YYYY-MM-DD" in str(info.value)


@SETTINGS
@given(DATES)
def test_parse_date_round_trips(day: date) -> None:
    assert parse_date(day.isoformat()) == day

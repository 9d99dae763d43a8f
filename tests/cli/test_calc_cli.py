"""`lendflow calc schedule` as product managers and operators use it."""

from __future__ import annotations

import json

import pytest

BASE = "calc schedule --principal 100000 --annual-rate 12 --repayments 12 --disbursed 2026-01-15"


def test_help_lists_the_commands(lendflow) -> None:  # type: ignore[no-untyped-def]
    result = lendflow("--help")
    assert result.exit_code == 0
    for command in ("init", "demo", "calc", "product"):
        assert command in result.stdout


def test_json_schedule_has_the_documented_shape(lendflow) -> None:  # type: ignore[no-untyped-def]
    result = lendflow(
        "calc schedule --principal 1000000 --annual-rate 4.9 --repayments 360"
        " --disbursed 2026-01-15 --json"
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"instalments", "total_principal", "total_interest", "total_fees", "apr"}
    first = data["instalments"][0]
    assert first == {
        "n": 1,
        "due_date": "2026-02-15",
        "principal": "1223.94",
        "interest": "4083.33",
        "fee": "0.00",
        "total": "5307.27",
        "balance": "998776.06",
    }
    assert len(data["instalments"]) == 360
    assert data["instalments"][-1]["balance"] == "0.00"
    assert data["total_principal"] == "1000000.00"
    assert data["apr"] == {"compound": "5.01", "simple": "4.90", "actual_dates": "5.01"}


def test_pboc_example_apr_with_an_upfront_fee(lendflow) -> None:  # type: ignore[no-untyped-def]
    """A fee paid at disbursement raises the APR above the nominal rate."""
    result = lendflow(f"{BASE} --upfront-fee 1000 --json")
    data = json.loads(result.stdout)
    assert data["total_fees"] == "1000.00"
    assert float(data["apr"]["compound"]) > 12.68  # the APR without the fee


def test_table_shows_totals_and_every_apr(lendflow) -> None:  # type: ignore[no-untyped-def]
    result = lendflow(BASE)
    assert result.exit_code == 0
    assert "100,000.00" in result.stdout
    assert "APR: 12.68% (IRR, compound 复利)" in result.stdout
    assert "12.00% (simple 单利)" in result.stdout
    # paid out on 15 Jan: February's 28 days come first, so a little more over the dates
    assert "12.74% (XIRR over actual dates, 365-day year)" in result.stdout


SHORT_FIRST_PERIOD = (
    "calc schedule --principal 10000 --annual-rate 18 --repayments 12 --disbursed 2026-01-05"
    " --first-repayment 2026-01-15 --upfront-fee 200"
)


def test_a_short_first_period_costs_more_over_the_actual_dates(lendflow) -> None:  # type: ignore[no-untyped-def]
    """A 10-day first period and a 200.00 fee: per repayment period the first period counts
    as a month (24.25% compound); over the real dates (9,800.00 received on 5 Jan, 916.80
    on 15 Jan and the 15th of every month after) the borrower pays 27.67% a year."""
    data = json.loads(lendflow(f"{SHORT_FIRST_PERIOD} --json").stdout)
    assert data["instalments"][0]["due_date"] == "2026-01-15"
    assert data["instalments"][0]["total"] == "916.80"
    assert data["apr"] == {"compound": "24.25", "simple": "21.91", "actual_dates": "27.67"}
    printed = lendflow(SHORT_FIRST_PERIOD).stdout
    assert "27.67% (XIRR over actual dates, 365-day year)" in printed


def _interest(lendflow, options: str) -> list[str]:  # type: ignore[no-untyped-def]
    result = lendflow(f"{options} --json")
    assert result.exit_code == 0, result.stderr
    return [row["interest"] for row in json.loads(result.stdout)["instalments"]]


def _totals(lendflow, options: str) -> list[str]:  # type: ignore[no-untyped-def]
    result = lendflow(f"{options} --json")
    assert result.exit_code == 0, result.stderr
    return [row["total"] for row in json.loads(result.stdout)["instalments"]]


def test_rounding_settles_a_half_fen_as_the_product_does(lendflow) -> None:  # type: ignore[no-untyped-def]
    """1,000.50 for a month at 12%: 1% of 100,050 fen is 1,000.5 fen of interest."""
    one_month = "calc schedule --principal 1000.50 --annual-rate 12 --repayments 1"
    one_month += " --disbursed 2026-01-15"
    assert _interest(lendflow, one_month) == ["10.01"]
    assert _interest(lendflow, f"{one_month} --rounding HALF_UP") == ["10.01"]
    assert _interest(lendflow, f"{one_month} --rounding HALF_EVEN") == ["10.00"]


def test_leap_years_count_a_leap_day_as_split_or_fixed_365(lendflow) -> None:  # type: ignore[no-untyped-def]
    """36,600.00 at 10% a year over February 2024 (29 days, a leap year), daily interest on
    an actual year: split is 3,660,000 × 10% × 29/366 = 290.00; fixed_365 counts 29/365,
    29,079.45 fen, so 290.79."""
    february = (
        "calc schedule --principal 36600 --annual-rate 10 --repayments 1 --disbursed 2024-02-01"
        " --interest-period daily --days-in-year actual"
    )
    assert _interest(lendflow, february) == ["290.00"]
    assert _interest(lendflow, f"{february} --leap-years split") == ["290.00"]
    assert _interest(lendflow, f"{february} --leap-years fixed_365") == ["290.79"]


def test_multiple_rounding_takes_the_nearest_or_the_next_multiple_up(lendflow) -> None:  # type: ignore[no-untyped-def]
    """1,000.00 interest-free in 3 instalments in whole yuan: 333.33 is 333 to the nearest
    (the last takes 334), 334 rounded up (the last takes 332)."""
    thirds = (
        "calc schedule --principal 1000 --annual-rate 0 --repayments 3 --disbursed 2026-01-15"
        " --instalment-multiple 1"
    )
    assert _totals(lendflow, thirds) == ["333.00", "333.00", "334.00"]
    assert _totals(lendflow, f"{thirds} --multiple-rounding nearest") == [
        "333.00",
        "333.00",
        "334.00",
    ]
    assert _totals(lendflow, f"{thirds} --multiple-rounding up") == ["334.00", "334.00", "332.00"]


@pytest.mark.parametrize(
    ("method", "rows", "first_principal"),
    [
        ("annuity", 12, "7884.88"),
        ("equal-principal", 12, "8333.33"),
        ("interest-only", 12, "0.00"),
        ("bullet", 1, "100000.00"),
    ],
)
def test_method_presets(lendflow, method: str, rows: int, first_principal: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(lendflow(f"{BASE} --method {method} --json").stdout)
    assert len(data["instalments"]) == rows
    assert data["instalments"][0]["principal"] == first_principal


def test_every_option_is_accepted(lendflow) -> None:  # type: ignore[no-untyped-def]
    result = lendflow(
        "calc schedule --principal 5000 --annual-rate 12 --repayments 18 --every 1"
        " --frequency months --amortization equal-instalments --interest declining"
        " --interest-period daily --days-in-year actual --days-in-month actual"
        " --principal-grace 3 --interest-grace 0 --instalment-multiple 1"
        " --disbursed 2022-11-01 --first-repayment 2022-12-01 --upfront-fee 0 --json"
    )
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)["instalments"]
    assert [r["principal"] for r in rows[:3]] == ["0.00", "0.00", "0.00"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--principal -5", "--principal must be positive"),
        ("--principal 0", "--principal must be more than zero"),
        ("--principal 10.123", "more than two decimal places"),
        ("--principal abc", "--principal is not an amount"),
        ("--repayments 0", "repayments must be between 1 and"),
        ("--annual-rate 5000", "absurd"),
        ("--annual-rate 1e3", "--annual-rate is not a number"),
        ("--disbursed 2026-02-30", "--disbursed is not a date"),
        ("--frequency years", "Invalid value for '--frequency'"),
        ("--method annuity --interest flat", "--method annuity sets amortization"),
        ("--first-repayment 2026-01-01", "must fall after disbursement"),
        ("--rounding DOWN", "Invalid value for '--rounding'"),
        ("--leap-years fixed-365", "Invalid value for '--leap-years'"),
        ("--multiple-rounding down", "Invalid value for '--multiple-rounding'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(lendflow, options: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = lendflow(f"{BASE} {options}")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]


HOLIDAY = (
    "calc schedule --principal 10000 --annual-rate 15.60 --repayments 3 --disbursed 2026-07-01"
)
"""Due Saturday 1 August, Tuesday 1 September and Thursday 1 October 2026 (National Day,
off until the 7th): the next working days are Monday 3 August and Thursday 8 October."""


def test_move_shows_the_due_dates_on_working_days_with_the_same_amounts(lendflow) -> None:  # type: ignore[no-untyped-def]
    plain = lendflow(f"{HOLIDAY} --json").json()
    moved = lendflow(f"{HOLIDAY} --non-working-due move --json").json()
    assert [i["due_date"] for i in plain["instalments"]] == [
        "2026-08-01",
        "2026-09-01",
        "2026-10-01",
    ]
    assert [i["due_date"] for i in moved["instalments"]] == [
        "2026-08-03",
        "2026-09-01",
        "2026-10-08",
    ]
    assert [i["total"] for i in moved["instalments"]] == ["3420.37", "3420.37", "3420.38"]
    assert moved["non_working_due"] == "move"
    assert "calendar_assumed_years" not in moved
    assert "non_working_due" not in plain and "on_time_until" not in plain["instalments"][0]


def test_keep_with_grace_keeps_the_dates_and_says_until_when_each_is_on_time(lendflow) -> None:  # type: ignore[no-untyped-def]
    kept = lendflow(f"{HOLIDAY} --non-working-due keep-with-grace --json").json()
    rows = [(i["due_date"], i["on_time_until"]) for i in kept["instalments"]]
    assert rows == [
        ("2026-08-01", "2026-08-03"),
        ("2026-09-01", "2026-09-01"),
        ("2026-10-01", "2026-10-08"),
    ]
    table = lendflow(f"{HOLIDAY} --non-working-due keep-with-grace").stdout
    assert "#3 is due on 2026-10-01, not a working day: paid by 2026-10-08 it is on time" in table


def test_a_schedule_reaching_a_year_the_calendar_does_not_know_warns(lendflow) -> None:  # type: ignore[no-untyped-def]
    from lendflow.config.business_calendar import package_calendar

    year = max(package_calendar().known_years) + 1
    command = (
        f"calc schedule --principal 10000 --annual-rate 12 --repayments 3"
        f" --disbursed {year - 1}-11-20 --non-working-due move"
    )
    assert lendflow(f"{command} --json").json()["calendar_assumed_years"] == [year]
    assert f"does not know the public holidays of {year}" in lendflow(command).stdout

"""View models: stored or computed objects turned into plain, stable JSON shapes.

The CLI prints these and a future REST API will return them, so the shape of a
schedule or an APR is defined once, here. Amounts are two-place decimal strings,
rates percent strings with two places, dates ISO.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lendflow.domain.apr import Apr, apr_of_schedule
from lendflow.domain.business_days import MovedSchedule, NonWorkingDue
from lendflow.domain.money import format_fen
from lendflow.domain.schedule import Schedule

TWO = Decimal("0.01")


def percent(value: Decimal) -> str:
    return str(value.quantize(TWO))


def apr_view(apr: Apr) -> dict[str, str]:
    """The APR by each basis: per repayment period compound and simple, and over the
    actual dates of every payment (XIRR, 365-day year)."""
    return {
        "compound": percent(apr.compound),
        "simple": percent(apr.simple),
        "actual_dates": percent(apr.actual_dates),
    }


def stored_apr(apr: Apr) -> str:
    """The loan's `apr` column: compound, simple and actual-dates figures ("24.25/21.91/27.67")."""
    return f"{percent(apr.compound)}/{percent(apr.simple)}/{percent(apr.actual_dates)}"


def schedule_view(
    schedule: Schedule, apr: Apr | None = None, dates: MovedSchedule | None = None
) -> dict[str, Any]:
    """The schedule as `calc schedule --json` prints it.

    Under a rule for non-working due dates (`dates`, not `ignore`) each instalment also
    says until when a payment is on time, the rule is named, and the years whose holidays
    were not known (dates judged by weekends alone) are listed if any.
    """
    apr = apr or apr_of_schedule(schedule)
    view = _schedule_rows(schedule, apr)
    if dates is None or dates.rule is NonWorkingDue.IGNORE:
        return view
    for row, until in zip(view["instalments"], dates.on_time_until, strict=True):
        row["on_time_until"] = until.isoformat()
    view["non_working_due"] = dates.rule.value
    if dates.assumed_years:
        view["calendar_assumed_years"] = list(dates.assumed_years)
    return view


def _schedule_rows(schedule: Schedule, apr: Apr) -> dict[str, Any]:
    return {
        "instalments": [
            {
                "n": row.n,
                "due_date": row.due_date.isoformat(),
                "principal": format_fen(row.principal),
                "interest": format_fen(row.interest),
                "fee": format_fen(row.fee),
                "total": format_fen(row.total),
                "balance": format_fen(row.balance),
            }
            for row in schedule.instalments
        ],
        "total_principal": format_fen(schedule.total_principal),
        "total_interest": format_fen(schedule.total_interest),
        "total_fees": format_fen(schedule.total_fees),
        "apr": apr_view(apr),
    }

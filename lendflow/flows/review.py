"""The monthly product review: stage 6 (operate) for every live product.

Scheduled for the small hours of the first of each month, it reviews every live
product as of the month end just past — the scheduled time, not the moment a
worker picks the run up, decides which month that is — and each review is a
stage run like any other: stored with its report, waiting at the operate gate
for the product committee. A product whose review fails does not stop the
others; the flow run fails afterwards, naming them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow

from lendflow.domain.errors import LendflowError, Refused
from lendflow.flows.cob import BUSINESS_TIME_ZONE
from lendflow.flows.runtime import workspace
from lendflow.flows.stages.operate import operate_stage
from lendflow.lifecycle.live_stages import SCHEDULER, live_products


def month_end_before(moment: datetime) -> date:
    """The last day of the month before `moment`'s, where the lender operates."""
    first = moment.astimezone(BUSINESS_TIME_ZONE).date().replace(day=1)
    return date.fromordinal(first.toordinal() - 1)


def previous_month_end() -> date:
    """The month end before the time this run was scheduled for (not when it started)."""
    from prefect.runtime import flow_run

    scheduled: datetime = flow_run.scheduled_start_time
    return month_end_before(scheduled)


@flow(name="product-review")
def product_review(
    as_of: date | None = None, user: str = SCHEDULER, products: list[str] | None = None
) -> dict[str, Any]:
    """Review every live product (or those named) as of `as_of` (default: last month end)."""
    day = as_of or previous_month_end()
    codes = products if products is not None else live_products(workspace())
    reviewed: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    for code in codes:
        try:
            result = operate_stage(code=code, user=user, as_of=day)
        except LendflowError as exc:
            failed.append({"code": code, "error": exc.message})
            continue
        reviewed.append(
            {
                "code": code,
                "version": result["version"],
                "run": result["run"],
                "criteria_passed": result["criteria_passed"],
            }
        )
    if failed:
        raise Refused(
            f"the review of {day} failed for "
            + "; ".join(f"{f['code']}: {f['error']}" for f in failed)
            + (f" (reviewed: {', '.join(r['code'] for r in reviewed)})" if reviewed else "")
        )
    return {"as_of": day.isoformat(), "reviewed": reviewed}

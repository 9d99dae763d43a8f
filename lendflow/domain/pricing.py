"""Risk-based pricing: the rate for a risk grade, kept under the APR cap with fees included.

A grade's rate comes from the product's band; if fees push the costliest loan
at that rate over the cap, the rate comes down in steps of 0.01 percentage
points to the highest rate that stays within it. A grade that cannot be priced
inside the band under the cap is not lent to at all.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

RATE_STEP = Decimal("0.01")


def capped_rate(
    wanted: Decimal, lowest: Decimal, cap: Decimal, costliest_apr: Callable[[Decimal], Decimal]
) -> Decimal | None:
    """The highest rate ≤ `wanted` and ≥ `lowest` whose costliest APR is within `cap`.

    APR rises with the rate, so a bisection over whole hundredths finds it in a
    dozen APR evaluations.
    """
    if costliest_apr(wanted) <= cap:
        return wanted
    low, high = int(lowest / RATE_STEP), int(wanted / RATE_STEP)  # high is known too dear
    if costliest_apr(low * RATE_STEP) > cap:
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if costliest_apr(middle * RATE_STEP) <= cap:
            low = middle
        else:
            high = middle
    return low * RATE_STEP

"""The periodic review's recommendations, derived from the alerts and the month-end trends.

Each recommendation names the figure that prompted it, so the committee can see
why it is there and judge it: an alert raised by the spec's thresholds, a trend
over the last three month ends (PAR30 or the non-performing ratio rising every
month, the book shrinking), or service levels missed. With nothing to act on,
the one recommendation is to hold course.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

TREND_MONTHS = 3


@dataclass(frozen=True)
class Alert:
    kpi: str
    value: str
    threshold: str


@dataclass(frozen=True)
class MonthEnd:
    """One month end of the series: outstanding (fen), PAR30 and the non-performing ratio."""

    month_end: str
    outstanding: int
    par30: Decimal
    non_performing_ratio: Decimal


@dataclass(frozen=True)
class Recommendation:
    """What the review recommends, by code (templates/<locale>/_names.j2 words it), and
    the figure that prompted it, as shown to the committee."""

    code: str
    basis: str


_FOR_ALERT: dict[str, str] = {
    "par30": "tighten_credit",
    "non_performing_ratio": "strengthen_recovery",
    "approval_rate": "review_channel_quality",
    "complaints_per_thousand": "address_complaints",
}
"""The recommendation an alert on each KPI calls for."""

RECOMMENDATION_CODES = (
    *_FOR_ALERT.values(),
    "watch_par30",
    "watch_non_performing",
    "revive_growth",
    "meet_service_levels",
    "hold_course",
)
"""Every recommendation a review can make; each locale's name table words them all."""


def _rising(values: Sequence[Decimal]) -> bool:
    recent = list(values[-TREND_MONTHS:])
    return len(recent) == TREND_MONTHS and all(b > a for a, b in pairwise(recent))


def _falling(values: Sequence[int]) -> bool:
    recent = list(values[-TREND_MONTHS:])
    return len(recent) == TREND_MONTHS and all(b < a for a, b in pairwise(recent))


def recommendations(
    alerts: Sequence[Alert], series: Sequence[MonthEnd], breached_tickets: int
) -> list[Recommendation]:
    """What the review recommends, alerts first, then trends, then service."""
    found: list[Recommendation] = []
    for alert in alerts:
        code = _FOR_ALERT.get(alert.kpi)
        if code is not None:
            basis = f"{alert.kpi} {alert.value} (threshold {alert.threshold})"
            found.append(Recommendation(code, basis))
    months = [m.month_end for m in series[-TREND_MONTHS:]]
    span = f"{months[0]} – {months[-1]}" if months else ""
    par30 = [m.par30 for m in series]
    if _rising(par30) and not any(a.kpi == "par30" for a in alerts):
        found.append(
            Recommendation(
                "watch_par30",
                f"PAR30 {' → '.join(str(v) for v in par30[-TREND_MONTHS:])} ({span})",
            )
        )
    npl = [m.non_performing_ratio for m in series]
    if _rising(npl) and not any(a.kpi == "non_performing_ratio" for a in alerts):
        found.append(
            Recommendation(
                "watch_non_performing",
                f"non-performing {' → '.join(str(v) for v in npl[-TREND_MONTHS:])} ({span})",
            )
        )
    if _falling([m.outstanding for m in series]):
        found.append(
            Recommendation(
                "revive_growth",
                f"outstanding falling over {span}",
            )
        )
    if breached_tickets:
        found.append(
            Recommendation(
                "meet_service_levels",
                f"{breached_tickets} tickets past their service-level deadline",
            )
        )
    if not found:
        found.append(
            Recommendation(
                "hold_course",
                "no alert, no adverse trend, service levels met",
            )
        )
    return found

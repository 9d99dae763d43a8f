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
    code: str
    basis: str  # the figure that prompted it, as shown to the committee
    zh: str
    en: str

    def text(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh


_FOR_ALERT: dict[str, tuple[str, str, str]] = {
    "par30": (
        "tighten_credit",
        "收紧准入：复核评分卡分数线与决策表，重点检查逾期集中的渠道和客群，"
        "并加强 M1 阶段的提醒与催收。",
        "Tighten credit: review the scorecard cut-off and decision table, look at the channels"
        " and segments where arrears concentrate, and step up reminders in M1.",
    ),
    "non_performing_ratio": (
        "strengthen_recovery",
        "强化不良处置：对次级及以下贷款逐户制定清收方案，评估核销与拨备是否充足。",
        "Strengthen recovery: a plan for each substandard or worse loan, and a check that"
        " write-offs and provisions are adequate.",
    ),
    "approval_rate": (
        "review_channel_quality",
        "通过率偏低：复核获客渠道与目标客群的匹配度，检查决策表是否过严。",
        "Approval rate low: check that channels bring the target segments, and whether the"
        " decision table is too strict.",
    ),
    "complaints_per_thousand": (
        "address_complaints",
        "投诉率偏高：按主题分析投诉根因，修订话术与流程，并在反馈与改进阶段跟进。",
        "Complaints high: analyse their root causes by theme, fix scripts and processes, and"
        " follow up in the improvement stage.",
    ),
}


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
        known = _FOR_ALERT.get(alert.kpi)
        if known is not None:
            code, zh, en = known
            found.append(
                Recommendation(
                    code, f"{alert.kpi} {alert.value} (threshold {alert.threshold})", zh, en
                )
            )
    months = [m.month_end for m in series[-TREND_MONTHS:]]
    span = f"{months[0]} – {months[-1]}" if months else ""
    par30 = [m.par30 for m in series]
    if _rising(par30) and not any(a.kpi == "par30" for a in alerts):
        found.append(
            Recommendation(
                "watch_par30",
                f"PAR30 {' → '.join(str(v) for v in par30[-TREND_MONTHS:])} ({span})",
                "PAR30 连续三个月上升：尚未触及阈值，建议提前排查新放款批次（vintage）的表现。",
                "PAR30 has risen three month ends running: still under its threshold, but the"
                " newest vintages should be checked now.",
            )
        )
    npl = [m.non_performing_ratio for m in series]
    if _rising(npl) and not any(a.kpi == "non_performing_ratio" for a in alerts):
        found.append(
            Recommendation(
                "watch_non_performing",
                f"non-performing {' → '.join(str(v) for v in npl[-TREND_MONTHS:])} ({span})",
                "不良率连续三个月上升：关注迁徙率，提前介入 M2、M3 阶段贷款。",
                "The non-performing ratio has risen three month ends running: watch the roll"
                " rates and act on M2 and M3 loans early.",
            )
        )
    if _falling([m.outstanding for m in series]):
        found.append(
            Recommendation(
                "revive_growth",
                f"outstanding falling over {span}",
                "贷款余额连续三个月下降：复核渠道计划和推广活动，评估是否需要改进产品。",
                "Outstanding has fallen three month ends running: review the channel plan and"
                " campaigns, and whether the product needs improving.",
            )
        )
    if breached_tickets:
        found.append(
            Recommendation(
                "meet_service_levels",
                f"{breached_tickets} tickets past their service-level deadline",
                "客服时效未达标：增加坐席或调整排班，逐单跟进超时工单。",
                "Service levels missed: add agents or change rosters, and chase every overdue"
                " ticket.",
            )
        )
    if not found:
        found.append(
            Recommendation(
                "hold_course",
                "no alert, no adverse trend, service levels met",
                "各项指标均在阈值内、无不利趋势：维持现行策略，下月继续监测。",
                "Every indicator within its threshold and no adverse trend: hold course and"
                " review again next month.",
            )
        )
    return found

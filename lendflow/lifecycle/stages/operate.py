"""Stage 6, operate (运营管理与监控): the periodic review of a live product.

The review reads the product's book as of a business date (monitoring.kpis: KPIs,
month-end series, roll rates, vintages, alerts from the spec's thresholds), its
service tickets, and derives recommendations from the alerts and trends
(domain.review). It repeats — every month by the `product-review` schedule, or
whenever a product manager runs it — and a go at its gate keeps the product live.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.domain.criteria import Criterion
from lendflow.domain.money import parse_amount
from lendflow.domain.review import Alert, MonthEnd, recommendations
from lendflow.lifecycle.reports import chart, report_view, t, yuan
from lendflow.lifecycle.results import RunContext
from lendflow.monitoring.kpis import product_kpis
from lendflow.monitoring.tickets import list_tickets
from lendflow.rendering.charts import Series, bar_chart, line_chart
from lendflow.rendering.formats import ratio_percent as _percent
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store.uow import run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

HUNDRED = Decimal(100)
SHOWN_VERSIONS = ("live", "retired")


def versions_reviewed(ws: Workspace, code: str) -> list[tuple[int, str]]:
    """The versions that make loans or made them: live and retired, (number, state)."""
    return run_in_transaction(
        ws.engine,
        lambda uow: [
            (int(v["version"]), str(v["state"]))
            for v in lifecycle_rows.versions_of(uow, code)
            if v["state"] in SHOWN_VERSIONS and v["spec_yaml"] is not None
        ],
    )


def read_book(ws: Workspace, actor: Actor, code: str, as_of: date) -> dict[str, Any]:
    """Everything the review reads: the product's KPIs, each version's, its tickets."""
    return {
        "kpis": product_kpis(ws, actor, code, as_of),
        "versions": [
            {"version": number, "state": state, **product_kpis(ws, actor, code, as_of, number)}
            for number, state in versions_reviewed(ws, code)
        ],
        "tickets": list_tickets(ws, actor, as_of, product=code),
    }


def _service(tickets: list[dict[str, Any]], start: date) -> dict[str, Any]:
    """Tickets of the period: opened in it, resolved in it, still open, and breaches."""
    in_period = [
        ticket
        for ticket in tickets
        if date.fromisoformat(ticket["opened_on"]) >= start
        or ticket["state"] == "open"
        or (ticket["resolved_on"] and date.fromisoformat(ticket["resolved_on"]) >= start)
    ]
    return {
        "opened": sum(
            1 for ticket in in_period if date.fromisoformat(ticket["opened_on"]) >= start
        ),
        "resolved": sum(1 for ticket in in_period if ticket["resolved_on"]),
        "open": sum(1 for ticket in in_period if ticket["state"] == "open"),
        "complaints": sum(1 for ticket in in_period if ticket["kind"] == "complaint"),
        "questions": sum(1 for ticket in in_period if ticket["kind"] == "question"),
        "breached": [
            {
                k: ticket[k]
                for k in (
                    "id",
                    "kind",
                    "subject",
                    "opened_on",
                    "due_on",
                    "resolved_on",
                    "days_open",
                )
            }
            for ticket in in_period
            if ticket["breached"]
        ],
    }


def operate_outputs(book: dict[str, Any], as_of: date) -> dict[str, Any]:
    """The review's figures and the recommendations they lead to."""
    kpis = book["kpis"]
    start = as_of.replace(day=1)
    service = _service(book["tickets"], start)
    series = [
        MonthEnd(
            s["month_end"],
            parse_amount(s["outstanding"], allow_zero=True),
            Decimal(s["par30"]),
            Decimal(s["non_performing_ratio"]),
        )
        for s in kpis["series"]
    ]
    alerts = [Alert(a["kpi"], a["value"], a["threshold"]) for a in kpis["alerts"]]
    advice = recommendations(alerts, series, len(service["breached"]))
    return {
        "as_of": as_of.isoformat(),
        "period": {"from": start.isoformat(), "to": as_of.isoformat()},
        "kpis": kpis["kpis"],
        "alerts": kpis["alerts"],
        "series": kpis["series"],
        "roll_rates": kpis["roll_rates"][-1] if kpis["roll_rates"] else None,
        "vintages": kpis["vintages"],
        "versions": [
            {
                "version": v["version"],
                "state": v["state"],
                **{
                    k: v["kpis"][k]
                    for k in (
                        "applications",
                        "disbursed_count",
                        "disbursed_amount",
                        "active_loans",
                        "outstanding",
                        "par30",
                        "non_performing_ratio",
                    )
                },
            }
            for v in book["versions"]
        ],
        "service": service,
        "recommendations": [
            {"code": r.code, "basis": r.basis, "zh": r.zh, "en": r.en} for r in advice
        ],
    }


def operate_criteria(outputs: dict[str, Any]) -> list[Criterion]:
    alerts = outputs["alerts"]
    breached = outputs["service"]["breached"]
    return [
        Criterion(
            "kpis_within_thresholds",
            not alerts,
            "; ".join(a["message"] for a in alerts)
            if alerts
            else "every monitored KPI within the spec's thresholds",
        ),
        Criterion(
            "service_levels_met",
            not breached,
            f"{len(breached)} tickets past their deadline: "
            + ", ".join(f"#{b['id']}" for b in breached)
            if breached
            else f"no ticket past its deadline ({outputs['service']['opened']} opened this month)",
        ),
    ]


_KPI_ROWS = (
    ("applications", "申请笔数", "Applications", "count"),
    ("approval_rate", "通过率", "Approval rate", "ratio"),
    ("disbursed_count", "放款笔数", "Loans disbursed", "count"),
    ("disbursed_amount", "放款金额（元）", "Disbursed (CNY)", "money"),
    ("active_loans", "在贷笔数", "Active loans", "count"),
    ("outstanding", "贷款余额（元）", "Outstanding (CNY)", "money"),
    ("par1", "PAR1", "PAR1", "ratio"),
    ("par30", "PAR30", "PAR30", "ratio"),
    ("par90", "PAR90", "PAR90", "ratio"),
    ("non_performing_ratio", "不良率（次级+可疑+损失）", "Non-performing ratio", "ratio"),
    ("written_off_amount", "核销金额（元）", "Written off (CNY)", "money"),
    ("complaints_per_thousand", "每千笔投诉", "Complaints per 1,000 loans", "plain"),
)


def _cell(value: Any, kind: str) -> str:
    if kind == "ratio":
        return _percent(value)
    if kind == "money":
        return yuan(parse_amount(value, allow_zero=True))
    return f"{value:,}" if isinstance(value, int) else str(value)


def _charts(outputs: dict[str, Any], loc: str) -> tuple[Any, ...]:
    series = outputs["series"]
    if not series:
        return ()
    labels = [s["month_end"][:7] for s in series]
    drawn = [
        chart(
            t(loc, "贷款余额", "Outstanding"),
            line_chart(
                t(loc, "月末贷款余额（元）", "Outstanding at month end (CNY)"),
                labels,
                [
                    Series(
                        t(loc, "余额", "Outstanding"),
                        [float(Decimal(s["outstanding"])) for s in series],
                    )
                ],
            ),
        ),
        chart(
            t(loc, "资产质量", "Asset quality"),
            line_chart(
                t(loc, "月末 PAR30 与不良率（%）", "PAR30 and non-performing ratio (%)"),
                labels,
                [
                    Series("PAR30", [float(Decimal(s["par30"]) * HUNDRED) for s in series]),
                    Series(
                        t(loc, "不良率", "Non-performing"),
                        [float(Decimal(s["non_performing_ratio"]) * HUNDRED) for s in series],
                        dashed=True,
                    ),
                ],
                y_format=lambda v: f"{v:g}%",
            ),
        ),
    ]
    buckets = outputs["kpis"]["buckets"]
    if buckets:
        drawn.append(
            chart(
                t(loc, "逾期分布", "Loans by bucket"),
                bar_chart(
                    t(loc, "各逾期阶段贷款笔数", "Loans by delinquency bucket"),
                    list(buckets),
                    list(buckets.values()),
                ),
            )
        )
    curves = {m: v for m, v in outputs["vintages"].items() if v}
    if curves:
        longest = max(len(v) for v in curves.values())
        drawn.append(
            chart(
                t(loc, "账龄分析", "Vintages"),
                line_chart(
                    t(
                        loc,
                        "各放款月份逾期 30 天以上本金占比（%）",
                        "Share of principal ever 30+ days past due, by disbursement month (%)",
                    ),
                    [str(k) for k in range(1, longest + 1)],
                    [
                        Series(month, [float(Decimal(x) * HUNDRED) for x in values])
                        for month, values in list(curves.items())[-5:]
                    ],
                    y_format=lambda v: f"{v:g}%",
                ),
            )
        )
    return tuple(drawn)


def operate_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion]
) -> ReportView:
    loc = ctx.locale
    kpis = outputs["kpis"]
    sections = [
        ReportSection(
            heading=t(loc, "组合指标", "Portfolio"),
            paragraphs=(
                t(
                    loc,
                    f"数据截至 {outputs['as_of']}，覆盖本产品各版本的全部贷款。",
                    f"As of {outputs['as_of']}, every loan of every version of the product.",
                ),
            ),
            tables=(
                ReportTable(
                    columns=(t(loc, "指标", "Indicator"), t(loc, "数值", "Value")),
                    rows=tuple(
                        (t(loc, zh, en), _cell(kpis[key], kind)) for key, zh, en, kind in _KPI_ROWS
                    ),
                ),
                ReportTable(
                    caption=t(loc, "分版本", "By version"),
                    columns=(
                        t(loc, "版本", "Version"),
                        t(loc, "状态", "Status"),
                        t(loc, "放款笔数", "Disbursed"),
                        t(loc, "贷款余额（元）", "Outstanding"),
                        "PAR30",
                        t(loc, "不良率", "Non-performing"),
                    ),
                    rows=tuple(
                        (
                            f"v{v['version']}",
                            v["state"],
                            f"{v['disbursed_count']:,}",
                            _cell(v["outstanding"], "money"),
                            _percent(v["par30"]),
                            _percent(v["non_performing_ratio"]),
                        )
                        for v in outputs["versions"]
                    ),
                ),
            ),
            charts=_charts(outputs, loc),
        )
    ]
    rolls = outputs["roll_rates"]
    if rolls:
        columns = list(next(iter(rolls["matrix"].values())))
        sections.append(
            ReportSection(
                heading=t(loc, "迁徙率", "Roll rates"),
                paragraphs=(
                    t(
                        loc,
                        f"{rolls['from']} 各逾期阶段的贷款在 {rolls['to']} 所处的阶段（笔数）。",
                        f"Where loans in each bucket on {rolls['from']} stood on {rolls['to']}.",
                    ),
                ),
                tables=(
                    ReportTable(
                        columns=(t(loc, "从 \\ 到", "From \\ to"), *columns),
                        rows=tuple(
                            (bucket, *(str(row[c]) for c in columns))
                            for bucket, row in rolls["matrix"].items()
                        ),
                    ),
                ),
            )
        )
    alerts = outputs["alerts"]
    sections.append(
        ReportSection(
            heading=t(loc, "预警", "Alerts"),
            paragraphs=()
            if alerts
            else (t(loc, "各项指标均在规格设定的阈值内。", "Every KPI within its threshold."),),
            tables=(
                ReportTable(
                    columns=(
                        t(loc, "指标", "KPI"),
                        t(loc, "数值", "Value"),
                        t(loc, "阈值", "Threshold"),
                    ),
                    rows=tuple((a["kpi"], a["value"], a["threshold"]) for a in alerts),
                ),
            )
            if alerts
            else (),
        )
    )
    service = outputs["service"]
    sections.append(
        ReportSection(
            heading=t(loc, "客户服务", "Customer service"),
            paragraphs=(
                t(
                    loc,
                    f"本期新开工单 {service['opened']} 张（投诉 {service['complaints']}、"
                    f"咨询 {service['questions']}），已解决 {service['resolved']} 张，"
                    f"未结 {service['open']} 张，超时 {len(service['breached'])} 张。",
                    f"{service['opened']} tickets opened this period ({service['complaints']}"
                    f" complaints, {service['questions']} questions), {service['resolved']}"
                    f" resolved, {service['open']} open, {len(service['breached'])} past their"
                    " deadline.",
                ),
            ),
            tables=(
                ReportTable(
                    caption=t(loc, "超时工单", "Tickets past their deadline"),
                    columns=(
                        "#",
                        t(loc, "类型", "Kind"),
                        t(loc, "主题", "Subject"),
                        t(loc, "受理日", "Opened"),
                        t(loc, "时限", "Due"),
                        t(loc, "办结日", "Resolved"),
                    ),
                    rows=tuple(
                        (
                            str(b["id"]),
                            b["kind"],
                            b["subject"],
                            b["opened_on"],
                            b["due_on"],
                            b["resolved_on"] or "—",
                        )
                        for b in service["breached"]
                    ),
                ),
            )
            if service["breached"]
            else (),
        )
    )
    sections.append(
        ReportSection(
            heading=t(loc, "建议", "Recommendations"),
            tables=(
                ReportTable(
                    columns=(t(loc, "建议", "Recommendation"), t(loc, "依据", "Basis")),
                    rows=tuple(
                        (r["en"] if loc == "en" else r["zh"], r["basis"])
                        for r in outputs["recommendations"]
                    ),
                ),
            ),
        )
    )
    return report_view(
        ctx,
        sections,
        criteria,
        summary=(
            (t(loc, "贷款余额（元）", "Outstanding"), _cell(kpis["outstanding"], "money")),
            ("PAR30", _percent(kpis["par30"])),
            (t(loc, "预警", "Alerts"), str(len(alerts))),
        ),
    )

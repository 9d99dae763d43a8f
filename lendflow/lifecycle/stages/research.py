"""Stage 2, research (市场调研与需求分析): customers, competitors and the market → report.

Three independent steps — target customers from the survey, the competitor
benchmark, the market trend and forecast — each turn one input into plain JSON
outputs (amounts in fen, rates as decimal text); the gate then checks that the
evidence is broad enough to design on.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

from lendflow.config.policy import ProductGates
from lendflow.domain.criteria import Criterion
from lendflow.domain.forecast import average_rate, fit_trend, forecast, year_on_year
from lendflow.domain.research import (
    Competitor,
    MarketMonth,
    SurveyResponse,
    amount_histogram,
    apr_percentiles,
    demand_band,
    find_gaps,
    segment_demand,
    weighted_rating,
)
from lendflow.domain.schedule import METHOD_NAMES_ZH, Method
from lendflow.lifecycle.reports import (
    YI,
    chart,
    hundred_million,
    percent,
    report_view,
    t,
    whole_yuan,
    yuan,
)
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.charts import Band, Series, bar_chart, line_chart
from lendflow.rendering.reports import ReportSection, ReportTable, ReportView

FORECAST_MONTHS = 12
FORECAST_LEVEL = 0.95


def target_customers(
    survey: list[SurveyResponse], segments: list[str], debt_service_cap: Decimal
) -> dict[str, Any]:
    """Demand by segment, the target segments' demand band, and what they can carry."""
    target = [r for r in survey if r.segment in set(segments)]
    band = demand_band(survey, segments) if target else None
    histogram = amount_histogram(r.desired_amount for r in target)
    return {
        "responses": len(survey),
        "target_segments": list(segments),
        "target_responses": len(target),
        "debt_service_cap": str(debt_service_cap),
        "segments": [d.as_dict() for d in segment_demand(survey, debt_service_cap)],
        "demand_band": band.as_dict() if band else None,
        "amount_histogram": [[label, count] for label, count in histogram],
        "terms_wanted": {
            str(term): n for term, n in sorted(Counter(r.desired_term for r in target).items())
        },
    }


def competitor_benchmark(
    competitors: list[Competitor], survey: list[SurveyResponse], segments: list[str], cap: Decimal
) -> dict[str, Any]:
    """The benchmark table (cheapest first), APR percentiles and the gaps to position into."""
    target = [r for r in survey if r.segment in set(segments)]
    ranked = sorted(competitors, key=lambda c: (c.apr, c.lender, c.product))
    return {
        "count": len(competitors),
        "apr_cap": str(cap),
        "benchmark": [
            {
                "lender": c.lender,
                "product": c.product,
                "apr": str(c.apr),
                "min_amount": c.min_amount,
                "max_amount": c.max_amount,
                "terms": list(c.terms),
                "methods": list(c.methods),
                "rating": str(c.rating),
                "reviews": c.reviews,
            }
            for c in ranked
        ],
        "apr_percentiles": {f"p{p}": str(v) for p, v in apr_percentiles(competitors).items()},
        "weighted_rating": str(weighted_rating(competitors)),
        "gaps": [g.as_dict() for g in find_gaps(competitors, target, cap)],
    }


def _later_month(month: str, steps: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + steps
    return f"{index // 12}-{index % 12 + 1:02d}"


def _series_outlook(values: list[int], last_month: str) -> dict[str, Any]:
    trend = fit_trend(values)
    yoy = year_on_year(values)
    return {
        "yoy_growth": None if yoy is None else str(yoy),
        "trend_annual_growth": str(trend.annual_growth),
        "trend_monthly_growth": str(trend.monthly_growth),
        "forecast": [
            {"month": _later_month(last_month, p.step), **p.as_dict()}
            for p in forecast(trend, FORECAST_MONTHS, FORECAST_LEVEL)
        ],
    }


def market_trends(market: list[MarketMonth]) -> dict[str, Any]:
    """Growth of new lending and balances, their 12-month forecast, and delinquency."""
    last = market[-1].month
    rates = [m.delinquency for m in market]
    return {
        "months": len(market),
        "first": market[0].month,
        "last": last,
        "interval": f"{round(FORECAST_LEVEL * 100)}%",
        "history": [
            {
                "month": m.month,
                "volume": m.volume,
                "balance": m.balance,
                "delinquency": str(m.delinquency),
            }
            for m in market
        ],
        "volume": _series_outlook([m.volume for m in market], last),
        "balance": _series_outlook([m.balance for m in market], last),
        "delinquency": {
            "latest": str(rates[-1]),
            "average_12m": str(average_rate(rates[-12:])),
            "average_prior_12m": str(average_rate(rates[-24:-12])) if len(rates) >= 24 else None,
        },
    }


def research_criteria(outputs: dict[str, Any], gates: ProductGates) -> list[Criterion]:
    """Is the evidence broad enough to design on, and is the market worth entering?"""
    customers = outputs["customers"]
    counts = {s["segment"]: s["responses"] for s in customers["segments"]}
    targets = customers["target_segments"]
    covered = {code: counts.get(code, 0) for code in targets}
    short = [code for code, n in covered.items() if n < gates.min_segment_responses]
    competitors = outputs["competitors"]["count"]
    market = outputs["market"]
    growth = Decimal(market["volume"]["trend_annual_growth"])
    yoy = market["volume"]["yoy_growth"]
    return [
        Criterion(
            "survey_sample_size",
            customers["responses"] >= gates.min_survey_responses,
            f"{customers['responses']} survey responses (at least {gates.min_survey_responses})",
        ),
        Criterion(
            "target_segments_covered",
            bool(targets) and not short,
            ", ".join(f"{code} {n}" for code, n in covered.items())
            + f" responses (at least {gates.min_segment_responses} per target segment"
            + (f"; short: {', '.join(short)})" if short else ")"),
        ),
        Criterion(
            "competitors_benchmarked",
            competitors >= gates.min_competitors,
            f"{competitors} competing products (at least {gates.min_competitors})",
        ),
        Criterion(
            "market_history",
            market["months"] >= gates.min_market_months,
            f"{market['months']} months {market['first']} to {market['last']}"
            f" (at least {gates.min_market_months})",
        ),
        Criterion(
            "market_growing",
            growth >= 0,
            f"new lending trend {growth:+}% a year"
            + (f", {Decimal(yoy):+}% year on year" if yoy is not None else "")
            + " (not shrinking)",
        ),
    ]


GAP_KINDS = {
    "amount_band": ("金额段", "amount band"),
    "term": ("期限（月）", "term (months)"),
    "method": ("还款方式", "repayment method"),
    "price": ("价格空档（APR）", "price gap (APR)"),
    "service": ("服务口碑", "service"),
}


def research_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion], names: dict[str, str]
) -> ReportView:
    """The research report; `names` gives each segment code its display name."""
    loc = ctx.locale
    customers, rivals, market = outputs["customers"], outputs["competitors"], outputs["market"]
    sections = (
        _customers_section(customers, names, loc),
        _competitors_section(rivals, loc),
        _market_section(market, loc),
    )
    band = customers["demand_band"]
    summary = [
        (t(loc, "调研样本", "Survey responses"), str(customers["responses"])),
        (t(loc, "竞品数量", "Competitors"), str(rivals["count"])),
        (
            t(loc, "竞品 APR 中位数", "Median competitor APR"),
            percent(rivals["apr_percentiles"]["p50"]),
        ),
        (
            t(loc, "放款额趋势年增长", "New lending trend a year"),
            percent(market["volume"]["trend_annual_growth"]),
        ),
    ]
    if band:
        summary.append(
            (
                t(loc, "目标需求区间", "Target demand band"),
                f"{yuan(band['low'])} – {yuan(band['high'])}",
            )
        )
    return report_view(ctx, sections, criteria, summary=summary)


def _customers_section(customers: dict[str, Any], names: dict[str, str], loc: str) -> ReportSection:
    targets = set(customers["target_segments"])
    segments = customers["segments"]
    rows = tuple(
        (
            f"{names.get(s['segment'], s['segment'])}{' *' if s['segment'] in targets else ''}",
            str(s["responses"]),
            f"{s['share']}%",
            yuan(s["amounts"]["p25"]),
            yuan(s["amounts"]["p50"]),
            yuan(s["amounts"]["p75"]),
            yuan(s["median_income"]),
            yuan(s["affordable_instalment"]),
        )
        for s in segments
    )
    paragraphs = [
        t(
            loc,
            f"共 {customers['responses']} 份问卷；目标客群（*）{customers['target_responses']} 份。"
            f"可负担月供按收入中位数计算：债务收入比不超过 {customers['debt_service_cap']}%，"
            "且不超过收入减去生活支出和现有债务后的余额。",
            f"{customers['responses']} responses; {customers['target_responses']} in the target"
            f" segments (*). The affordable instalment is for the segment's median income: all"
            f" debt service within {customers['debt_service_cap']}% of income, and no more than"
            " what is left after living expenses and existing debts.",
        )
    ]
    band = customers["demand_band"]
    if band:
        paragraphs.append(
            t(
                loc,
                f"目标客群需求区间（P10–P90）：{yuan(band['low'])} 至 {yuan(band['high'])} 元，"
                f"中位数 {yuan(band['median'])} 元。",
                f"Target demand band (P10–P90): {yuan(band['low'])} to {yuan(band['high'])} yuan,"
                f" median {yuan(band['median'])}.",
            )
        )
    terms = customers["terms_wanted"]
    histogram = customers["amount_histogram"]
    charts = [
        chart(
            t(loc, "目标客群期望借款金额分布", "Amounts the target segments want"),
            bar_chart(
                t(
                    loc,
                    "目标客群期望借款金额分布（人数）",
                    "Amounts the target segments want (people)",
                ),
                [label for label, _ in histogram],
                [count for _, count in histogram],
            ),
        ),
        chart(
            t(loc, "各客群可负担月供", "Affordable instalment by segment"),
            bar_chart(
                t(
                    loc,
                    "各客群可负担月供（元，收入中位数）",
                    "Affordable instalment (yuan, median income)",
                ),
                [names.get(s["segment"], s["segment"]) for s in segments],
                [s["affordable_instalment"] / 100 for s in segments],
                highlight=[i for i, s in enumerate(segments) if s["segment"] in targets],
            ),
        ),
    ]
    return ReportSection(
        heading=t(loc, "目标客户", "Target customers"),
        paragraphs=tuple(paragraphs),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "客群", "Segment"),
                    t(loc, "样本", "Responses"),
                    t(loc, "占比", "Share"),
                    t(loc, "期望金额 P25", "Amount P25"),
                    t(loc, "中位数", "Median"),
                    "P75",
                    t(loc, "月收入中位数", "Median income"),
                    t(loc, "可负担月供", "Affordable instalment"),
                ),
                rows=rows,
            ),
            ReportTable(
                columns=(
                    t(loc, "期望期限（月）", "Term wanted (months)"),
                    t(loc, "人数", "People"),
                ),
                rows=tuple((term, str(n)) for term, n in terms.items()),
                caption=t(loc, "目标客群", "Target segments"),
            ),
        ),
        charts=tuple(charts),
    )


def _method(code: str, loc: str) -> str:
    return METHOD_NAMES_ZH[Method(code)] if loc != "en" else code.replace("_", " ")


def _competitors_section(rivals: dict[str, Any], loc: str) -> ReportSection:
    benchmark = rivals["benchmark"]
    rows = tuple(
        (
            c["lender"],
            c["product"],
            f"{c['apr']}%",
            f"{whole_yuan(c['min_amount'])} – {whole_yuan(c['max_amount'])}",
            "/".join(str(x) for x in c["terms"]),
            ", ".join(_method(m, loc) for m in c["methods"]),
            c["rating"],
            f"{c['reviews']:,}",
        )
        for c in benchmark
    )
    percentiles = rivals["apr_percentiles"]
    gaps = tuple(
        (
            t(loc, *GAP_KINDS[g["kind"]]),
            g["subject"],
            "—" if g["demand_share"] is None else f"{g['demand_share']}%",
            f"{g['offered_by']}/{g['of']}",
        )
        for g in rivals["gaps"]
    )
    return ReportSection(
        heading=t(loc, "竞品分析", "Competitors"),
        paragraphs=(
            t(
                loc,
                f"按评论数加权的平均评分 {rivals['weighted_rating']}。",
                f"Average rating weighted by reviews: {rivals['weighted_rating']}.",
            ),
        ),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "机构", "Lender"),
                    t(loc, "产品", "Product"),
                    "APR",
                    t(loc, "额度（元）", "Amounts (yuan)"),
                    t(loc, "期限（月）", "Terms (months)"),
                    t(loc, "还款方式", "Repayment"),
                    t(loc, "评分", "Rating"),
                    t(loc, "评论数", "Reviews"),
                ),
                rows=rows,
            ),
            ReportTable(
                columns=tuple(p.upper() for p in percentiles),
                rows=(tuple(f"{v}%" for v in percentiles.values()),),
                caption=t(loc, "竞品 APR 分位数", "Competitor APR percentiles"),
            ),
            ReportTable(
                columns=(
                    t(loc, "空档", "Gap"),
                    t(loc, "对象", "Where"),
                    t(loc, "目标客群需求占比", "Target demand"),
                    t(loc, "提供该项的竞品", "Competitors serving it"),
                ),
                rows=gaps,
                caption=t(loc, "可切入的市场空档", "Gaps to position into"),
            ),
        ),
        charts=(
            chart(
                t(loc, "竞品 APR", "Competitor APRs"),
                bar_chart(
                    t(loc, "竞品 APR（%，由低到高）", "Competitor APRs (%, cheapest first)"),
                    [c["lender"] for c in benchmark],
                    [float(c["apr"]) for c in benchmark],
                    y_format=lambda v: f"{v:g}%",
                ),
            ),
        ),
    )


def _market_section(market: dict[str, Any], loc: str) -> ReportSection:
    history = market["history"]
    volume, balance, delinquency = market["volume"], market["balance"], market["delinquency"]
    ahead = volume["forecast"]
    labels = [h["month"] for h in history] + [p["month"] for p in ahead]
    gap = [None] * len(history)
    observed = [h["volume"] / YI for h in history]
    lending_chart = line_chart(
        t(loc, "新增放款额与 12 个月预测（亿元）", "New lending and 12-month forecast (100m yuan)"),
        labels,
        [
            Series(t(loc, "实际", "actual"), observed + [None] * len(ahead)),
            Series(
                t(loc, "预测", "forecast"),
                [None] * (len(history) - 1) + [observed[-1]] + [p["expected"] / YI for p in ahead],
                dashed=True,
            ),
        ],
        band=Band(
            t(loc, f"{market['interval']} 预测区间", f"{market['interval']} interval"),
            gap + [p["low"] / YI for p in ahead],
            gap + [p["high"] / YI for p in ahead],
        ),
        y_format=lambda v: f"{v:g}",
    )
    delinquency_chart = line_chart(
        t(loc, "M1+ 逾期率（%）", "M1+ delinquency (%)"),
        [h["month"] for h in history],
        [Series(t(loc, "逾期率", "delinquency"), [float(h["delinquency"]) for h in history])],
        y_format=lambda v: f"{v:g}%",
    )
    rows = tuple(
        (
            p["month"],
            hundred_million(p["expected"]),
            hundred_million(p["low"]),
            hundred_million(p["high"]),
        )
        for p in ahead
    )
    growth = [
        (
            t(loc, "新增放款额", "New lending"),
            percent(volume["yoy_growth"]),
            percent(volume["trend_annual_growth"]),
        ),
        (
            t(loc, "贷款余额", "Balances"),
            percent(balance["yoy_growth"]),
            percent(balance["trend_annual_growth"]),
        ),
    ]
    return ReportSection(
        heading=t(loc, "市场趋势", "Market trends"),
        paragraphs=(
            t(
                loc,
                f"{market['first']} 至 {market['last']} 共 {market['months']} 个月。"
                "趋势为对数线性回归，"
                f"区间为 {market['interval']} 预测区间。M1+ 逾期率最新 {delinquency['latest']}%，"
                f"近 12 个月平均 {delinquency['average_12m']}%"
                + (
                    f"（此前 12 个月 {delinquency['average_prior_12m']}%）。"
                    if delinquency["average_prior_12m"]
                    else "。"
                ),
                f"{market['months']} months, {market['first']} to {market['last']}. The trend is"
                f" a log-linear regression; ranges are {market['interval']} prediction intervals."
                f" M1+ delinquency is {delinquency['latest']}% now,"
                f" {delinquency['average_12m']}% over twelve months"
                + (
                    f" ({delinquency['average_prior_12m']}% the twelve before)."
                    if delinquency["average_prior_12m"]
                    else "."
                ),
            ),
        ),
        tables=(
            ReportTable(
                columns=(
                    t(loc, "指标", "Series"),
                    t(loc, "同比增长", "Year on year"),
                    t(loc, "趋势年增长", "Trend a year"),
                ),
                rows=tuple(growth),
            ),
            ReportTable(
                columns=(
                    t(loc, "月份", "Month"),
                    t(loc, "预测新增放款额（亿元）", "Forecast new lending (100m yuan)"),
                    t(loc, "下限", "Low"),
                    t(loc, "上限", "High"),
                ),
                rows=rows,
            ),
        ),
        charts=(
            chart(t(loc, "新增放款额预测", "New lending forecast"), lending_chart),
            chart(t(loc, "逾期率", "Delinquency"), delinquency_chart),
        ),
    )

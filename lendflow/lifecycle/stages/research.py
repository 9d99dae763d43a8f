"""Stage 2, research (市场调研与需求分析): customers, competitors and the market → report.

Three independent steps — target customers from the survey, the competitor
benchmark, the market trend and forecast — each turn one input into plain JSON
outputs (amounts in fen, rates as decimal text); the gate then checks that the
evidence is broad enough to design on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
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
from lendflow.lifecycle.reports import stage_report
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.formats import YI
from lendflow.rendering.reports import BarChart, Chart, Line, LineChart, Report

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
            {"responses": customers["responses"], "minimum": gates.min_survey_responses},
        ),
        Criterion(
            "target_segments_covered",
            bool(targets) and not short,
            ", ".join(f"{code} {n}" for code, n in covered.items())
            + f" responses (at least {gates.min_segment_responses} per target segment"
            + (f"; short: {', '.join(short)})" if short else ")"),
            {
                "covered": [[code, n] for code, n in covered.items()],
                "minimum": gates.min_segment_responses,
                "short": short,
            },
        ),
        Criterion(
            "competitors_benchmarked",
            competitors >= gates.min_competitors,
            f"{competitors} competing products (at least {gates.min_competitors})",
            {"competitors": competitors, "minimum": gates.min_competitors},
        ),
        Criterion(
            "market_history",
            market["months"] >= gates.min_market_months,
            f"{market['months']} months {market['first']} to {market['last']}"
            f" (at least {gates.min_market_months})",
            {
                "months": market["months"],
                "first": market["first"],
                "last": market["last"],
                "minimum": gates.min_market_months,
            },
        ),
        Criterion(
            "market_growing",
            growth >= 0,
            f"new lending trend {growth:+}% a year"
            + (f", {Decimal(yoy):+}% year on year" if yoy is not None else "")
            + " (not shrinking)",
            {"growth": f"{growth:+}", "yoy": None if yoy is None else f"{Decimal(yoy):+}"},
        ),
    ]


@dataclass(frozen=True)
class SegmentRow:
    """One surveyed segment: its demand (fen), income and the instalment it can carry."""

    code: str
    target: bool
    responses: int
    share: Decimal
    p25: int
    p50: int
    p75: int
    median_income: int
    affordable: int


@dataclass(frozen=True)
class Band:
    low: int
    median: int
    high: int


@dataclass(frozen=True)
class Customers:
    responses: int
    target_responses: int
    debt_service_cap: Decimal
    segments: tuple[SegmentRow, ...]
    band: Band | None
    terms_wanted: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Rival:
    lender: str
    product: str
    apr: Decimal
    min_amount: int
    max_amount: int
    terms: tuple[int, ...]
    methods: tuple[str, ...]
    rating: Decimal
    reviews: int


@dataclass(frozen=True)
class GapRow:
    """An opening the competitors leave: `subject` is the band, term, method code, price
    range or rating below which lenders count as poorly rated."""

    kind: str
    subject: str
    demand_share: Decimal | None
    offered_by: int
    of: int


@dataclass(frozen=True)
class Rivals:
    count: int
    rows: tuple[Rival, ...]
    percentiles: tuple[tuple[str, Decimal], ...]
    weighted_rating: Decimal
    gaps: tuple[GapRow, ...]


@dataclass(frozen=True)
class Outlook:
    yoy: Decimal | None
    trend: Decimal


@dataclass(frozen=True)
class ForecastMonth:
    month: str
    expected: int
    low: int
    high: int


@dataclass(frozen=True)
class Market:
    months: int
    first: str
    last: str
    interval: str
    volume: Outlook
    balance: Outlook
    delinquency_latest: Decimal
    delinquency_12m: Decimal
    delinquency_prior_12m: Decimal | None
    forecast: tuple[ForecastMonth, ...]


@dataclass(frozen=True)
class ResearchData:
    customers: Customers
    rivals: Rivals
    market: Market
    segment_names: dict[str, str]
    """The charter's names of its target segments (the product manager's own words)."""


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def research_report(
    ctx: RunContext, outputs: dict[str, Any], criteria: list[Criterion], names: dict[str, str]
) -> Report:
    """The research report; `names` gives each target segment code the charter's name."""
    customers, rivals, market = outputs["customers"], outputs["competitors"], outputs["market"]
    data = ResearchData(_customers(customers), _rivals(rivals), _market(market), dict(names))
    return stage_report(ctx, data, criteria, _charts(customers, rivals, market, names))


def _customers(customers: dict[str, Any]) -> Customers:
    targets = set(customers["target_segments"])
    band = customers["demand_band"]
    return Customers(
        responses=customers["responses"],
        target_responses=customers["target_responses"],
        debt_service_cap=Decimal(customers["debt_service_cap"]),
        segments=tuple(
            SegmentRow(
                code=s["segment"],
                target=s["segment"] in targets,
                responses=s["responses"],
                share=Decimal(s["share"]),
                p25=s["amounts"]["p25"],
                p50=s["amounts"]["p50"],
                p75=s["amounts"]["p75"],
                median_income=s["median_income"],
                affordable=s["affordable_instalment"],
            )
            for s in customers["segments"]
        ),
        band=None if band is None else Band(band["low"], band["median"], band["high"]),
        terms_wanted=tuple((int(term), n) for term, n in customers["terms_wanted"].items()),
    )


def _rivals(rivals: dict[str, Any]) -> Rivals:
    return Rivals(
        count=rivals["count"],
        rows=tuple(
            Rival(
                lender=c["lender"],
                product=c["product"],
                apr=Decimal(c["apr"]),
                min_amount=c["min_amount"],
                max_amount=c["max_amount"],
                terms=tuple(c["terms"]),
                methods=tuple(c["methods"]),
                rating=Decimal(c["rating"]),
                reviews=c["reviews"],
            )
            for c in rivals["benchmark"]
        ),
        percentiles=tuple((p.upper(), Decimal(v)) for p, v in rivals["apr_percentiles"].items()),
        weighted_rating=Decimal(rivals["weighted_rating"]),
        gaps=tuple(
            GapRow(
                kind=g["kind"],
                subject=g["subject"].removeprefix("rating < "),
                demand_share=_decimal(g["demand_share"]),
                offered_by=g["offered_by"],
                of=g["of"],
            )
            for g in rivals["gaps"]
        ),
    )


def _market(market: dict[str, Any]) -> Market:
    volume, balance, delinquency = market["volume"], market["balance"], market["delinquency"]
    return Market(
        months=market["months"],
        first=market["first"],
        last=market["last"],
        interval=market["interval"],
        volume=Outlook(_decimal(volume["yoy_growth"]), Decimal(volume["trend_annual_growth"])),
        balance=Outlook(_decimal(balance["yoy_growth"]), Decimal(balance["trend_annual_growth"])),
        delinquency_latest=Decimal(delinquency["latest"]),
        delinquency_12m=Decimal(delinquency["average_12m"]),
        delinquency_prior_12m=_decimal(delinquency["average_prior_12m"]),
        forecast=tuple(
            ForecastMonth(p["month"], p["expected"], p["low"], p["high"])
            for p in volume["forecast"]
        ),
    )


def _charts(
    customers: dict[str, Any], rivals: dict[str, Any], market: dict[str, Any], names: dict[str, str]
) -> tuple[Chart, ...]:
    targets = set(customers["target_segments"])
    segments = customers["segments"]
    histogram = customers["amount_histogram"]
    benchmark = rivals["benchmark"]
    return (
        BarChart(
            "amounts",
            tuple(label for label, _ in histogram),
            tuple(count for _, count in histogram),
        ),
        BarChart(
            "affordable",
            tuple(s["segment"] for s in segments),
            tuple(s["affordable_instalment"] / 100 for s in segments),
            highlight=tuple(i for i, s in enumerate(segments) if s["segment"] in targets),
            names="SEGMENTS",
            given=names,
        ),
        BarChart(
            "aprs",
            tuple(c["lender"] for c in benchmark),
            tuple(float(c["apr"]) for c in benchmark),
            unit="%",
        ),
        *_market_charts(market),
    )


def _market_charts(market: dict[str, Any]) -> tuple[Chart, ...]:
    history = market["history"]
    ahead = market["volume"]["forecast"]
    gap = (None,) * len(history)
    observed = tuple(h["volume"] / YI for h in history)
    return (
        LineChart(
            "lending",
            tuple(h["month"] for h in history) + tuple(p["month"] for p in ahead),
            (
                Line("actual", observed + (None,) * len(ahead)),
                Line(
                    "forecast",
                    (None,) * (len(history) - 1)
                    + (observed[-1],)
                    + tuple(p["expected"] / YI for p in ahead),
                    dashed=True,
                ),
            ),
            band=(
                gap + tuple(p["low"] / YI for p in ahead),
                gap + tuple(p["high"] / YI for p in ahead),
            ),
            unit="g",
            figures={"interval": market["interval"]},
        ),
        LineChart(
            "delinquency",
            tuple(h["month"] for h in history),
            (Line("delinquency", tuple(float(h["delinquency"]) for h in history)),),
            unit="%",
        ),
    )

"""The month-end report as HTML with its charts: the figures of `ledger.month_end`,
written by `templates/<locale>/reports/month-end.html.j2` (no words here)."""

from __future__ import annotations

from lendflow.accounting.results import MonthEndReport
from lendflow.rendering.reports import BarChart, Chart, Line, LineChart, Report, render_kind_report


def month_end_charts(figures: MonthEndReport) -> tuple[Chart, ...]:
    """Net income by type and provisions by class for the month (yuan), and the allowance
    at each of the last twelve month ends."""
    income = tuple(line.net / 100 for line in figures.income)
    classes = figures.provisions.classes
    return (
        BarChart(
            "income", tuple(line.kind for line in figures.income), income, names="INCOME_TYPES"
        ),
        BarChart(
            "provisions",
            tuple(c.classification for c in classes) or ("normal",),
            tuple(c.provision / 100 for c in classes) or (0.0,),
            names="CLASSES",
        ),
        LineChart(
            "allowance",
            tuple(str(p.month_end)[:7] for p in figures.allowance_history),
            (Line("allowance", tuple(p.allowance / 100 for p in figures.allowance_history)),),
        ),
    )


def render_month_end(figures: MonthEndReport, locale: str = "zh-CN") -> bytes:
    """The month-end report as self-contained HTML in `locale`."""
    report = Report(
        kind="month-end",
        locale=locale,
        as_of=figures.last,
        data=figures,
        charts=month_end_charts(figures),
    )
    return render_kind_report(report)

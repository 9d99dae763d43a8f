"""What every stage report shares: its title block, the gate criteria, rendering.

A stage builds a `ReportView` of formatted text; the documents module lays it
out (Markdown, HTML or PDF, in the workspace's locale). Reports are stored as
HTML with their charts inline, and the charts also on their own with the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.formats import YI, hundred_million, whole_yuan, yuan
from lendflow.rendering.formats import percent as _percent
from lendflow.rendering.reports import (
    Chart,
    Report,
    ReportChart,
    ReportSection,
    ReportTable,
    ReportView,
    StageHeader,
    drawn_charts,
    render_kind_report,
)

REPORT_FORMAT = "html"
__all__ = ["YI", "hundred_million", "whole_yuan", "yuan"]


def t(locale: str, zh: str, en: str) -> str:
    """The text for the report's locale (zh-CN unless English is asked for)."""
    return en if locale == "en" else zh


def percent(value: str | None) -> str:
    """A stored rate (decimal text, in percent) as it was computed: '18.25' -> '18.25%'."""
    return _percent(value, None)


def report_view(
    ctx: RunContext,
    sections: Sequence[ReportSection],
    criteria: Sequence[Criterion],
    summary: Sequence[tuple[str, str]] = (),
) -> ReportView:
    """A stage report: title block, key figures, the stage's sections, then its gate."""
    loc = ctx.locale
    stage = stage_of(ctx.stage)
    passed = sum(1 for c in criteria if c.passed)
    key_figures = (
        (t(loc, "产品", "Product"), f"{ctx.product_name} ({ctx.code} v{ctx.version})"),
        (t(loc, "执行人", "Run by"), ctx.run_by),
        (t(loc, "运行编号", "Run"), str(ctx.run_id)),
        (t(loc, "闸门标准", "Gate criteria"), f"{passed}/{len(criteria)}"),
        *summary,
    )
    return ReportView(
        title=t(
            loc,
            f"{ctx.product_name} · 第{stage.number}阶段 {stage.name_zh}",
            f"{ctx.product_name} · Stage {stage.number}: {stage.name_en}",
        ),
        subtitle=t(loc, f"{stage.name_zh}报告", f"{stage.name_en} report"),
        as_of=ctx.as_of,
        sections=(*sections, criteria_section(criteria, loc)),
        summary=key_figures,
    )


def criteria_section(criteria: Sequence[Criterion], locale: str) -> ReportSection:
    """The gate's automatic criteria, each passed or failed with its figure."""
    rows = tuple(
        (c.name, t(locale, "通过", "pass") if c.passed else t(locale, "未通过", "FAIL"), c.figure)
        for c in criteria
    )
    failed = [c.name for c in criteria if not c.passed]
    verdict = (
        t(locale, "全部自动标准通过，等待闸门决策。", "Every automatic criterion passed.")
        if not failed
        else t(
            locale,
            f"未通过的标准：{', '.join(failed)}。闸门不能放行（go），可退回、暂停或终止。",
            f"Failed: {', '.join(failed)}. The gate cannot go; it may recycle, hold or kill.",
        )
    )
    return ReportSection(
        heading=t(locale, "闸门标准", "Gate criteria"),
        paragraphs=(verdict,),
        tables=(
            ReportTable(
                columns=(
                    t(locale, "标准", "Criterion"),
                    t(locale, "结果", "Result"),
                    t(locale, "依据", "Figure"),
                ),
                rows=rows,
            ),
        ),
    )


def stage_report(
    ctx: RunContext, data: Any, criteria: Sequence[Criterion], charts: Sequence[Chart] = ()
) -> Report:
    """A stage's report: its data and charts, written by `reports/<stage>.html.j2`."""
    stage = stage_of(ctx.stage)
    return Report(
        kind=ctx.stage,
        locale=ctx.locale,
        as_of=ctx.as_of,
        data=data,
        charts=tuple(charts),
        criteria=tuple(criteria),
        stage=StageHeader(
            product_name=ctx.product_name,
            code=ctx.code,
            version=ctx.version,
            stage=ctx.stage,
            number=stage.number,
            run_id=ctx.run_id,
            run_by=ctx.run_by,
        ),
    )


def render(view: Report | ReportView, locale: str | None = None) -> bytes:
    """The report as self-contained HTML (charts inline), in `locale` if given."""
    if isinstance(view, Report):
        if locale is not None and locale != view.locale:
            view = replace(view, locale=locale)
        return render_kind_report(view)
    from lendflow.rendering.reports import render_report

    return render_report(view, locale=locale or "zh-CN", fmt=REPORT_FORMAT)


def chart_records(view: Report | ReportView) -> list[dict[str, str]]:
    """Every chart of the report, to be stored with the run on its own."""
    if isinstance(view, Report):
        return [{"title": c.title, "svg": c.svg} for c in drawn_charts(view)]
    return [{"title": c.title, "svg": c.svg} for s in view.sections for c in s.charts]


def chart(title: str, svg: str) -> ReportChart:
    return ReportChart(title=title, svg=svg)

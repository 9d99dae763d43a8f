"""What every stage report shares: its header and gate criteria, rendering, its charts.

A stage builds its report's data — numbers, dates, codes and rows, never
sentences — and `stage_report` wraps it with the run's header and the gate's
criteria. The words are the templates': `<locale>/reports/<stage>.html.j2`
writes the report over the shared layout, so a zh-CN report speaks Chinese
throughout and an English one English. Reports are stored as HTML with their
charts inline, and the charts also on their own with the run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.lifecycle.results import RunContext
from lendflow.rendering.reports import (
    Chart,
    Report,
    StageHeader,
    drawn_charts,
    render_kind_report,
)

REPORT_FORMAT = "html"


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


def render(report: Report, locale: str | None = None) -> bytes:
    """The report as self-contained HTML (charts inline), in `locale` if given."""
    if locale is not None and locale != report.locale:
        report = replace(report, locale=locale)
    return render_kind_report(report)


def chart_records(report: Report) -> list[dict[str, str]]:
    """Every chart of the report, to be stored with the run on its own."""
    return [{"title": c.title, "svg": c.svg} for c in drawn_charts(report)]

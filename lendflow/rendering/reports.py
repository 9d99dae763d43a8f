"""Reports: the shared layout, and the reports each written by a template of its own.

A stage report, a monthly review or the demonstration's portfolio report is a
`Report`: the kind's data (numbers, dates, codes, rows — never sentences), its
charts as data and, for a stage, its header and gate criteria. The kind's template
`<locale>/reports/<kind>.html.j2` writes every word; it extends the shared layout
`<locale>/report.html.j2`, so every report looks the same and a lender can restyle
them all in one place. A `ReportView` of already written headings, paragraphs and
tables is still rendered by the shared layout alone (the `report` document kind).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lendflow.domain.criteria import Criterion
from lendflow.domain.errors import BadInput
from lendflow.rendering.charts import Band, Series, bar_chart, line_chart, plain
from lendflow.rendering.filters import check_locale
from lendflow.rendering.rendering import default_templates_folder


@dataclass(frozen=True)
class ReportTable:
    """A table of cells already formatted as text (amounts, rates, dates)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    caption: str = ""


@dataclass(frozen=True)
class ReportChart:
    """A chart drawn elsewhere: an inline SVG document and the title it is listed by."""

    title: str
    svg: str


@dataclass(frozen=True)
class ReportSection:
    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[ReportTable, ...] = ()
    charts: tuple[ReportChart, ...] = ()


@dataclass(frozen=True)
class ReportView:
    """A whole report; `summary` holds the key figures shown first, as (label, value)."""

    title: str
    subtitle: str
    as_of: date
    sections: tuple[ReportSection, ...]
    summary: tuple[tuple[str, str], ...] = ()


def render_report(view: ReportView, *, locale: str = "zh-CN", fmt: str = "html") -> bytes:
    """Render a report as Markdown, HTML or PDF bytes (UTF-8 for the text formats)."""
    from lendflow.rendering.rendering import render_kind

    return render_kind("report", view, locale=locale, fmt=fmt)


# --- reports written by their own templates -------------------------------------------------


@dataclass(frozen=True)
class BarChart:
    """A bar chart as data: its words (title, heading) come from the locale's chart table.

    `names` is the name table (in `<locale>/_names.j2`) the labels are codes of, and
    `given` the names the data itself gives them (a charter's segments); without
    either, labels are data (months, lenders) and are drawn as they are.
    """

    key: str
    labels: tuple[str, ...]
    values: tuple[float, ...]
    highlight: tuple[int, ...] = ()
    names: str = ""
    given: Mapping[str, str] = field(default_factory=dict)
    unit: str = ""


@dataclass(frozen=True)
class Line:
    """A line of a chart: `label` is a key of the chart's series words, or data (a month)."""

    label: str
    values: tuple[float | None, ...]
    dashed: bool = False


@dataclass(frozen=True)
class LineChart:
    """Lines over shared x labels, with an optional band; `figures` fill the words' blanks."""

    key: str
    labels: tuple[str, ...]
    lines: tuple[Line, ...]
    band: tuple[tuple[float | None, ...], tuple[float | None, ...]] | None = None
    unit: str = ""
    figures: Mapping[str, str] = field(default_factory=dict)


Chart = BarChart | LineChart


@dataclass(frozen=True)
class StageHeader:
    """Which run of which stage of which product version a stage report is of."""

    product_name: str
    code: str
    version: int
    stage: str
    number: int
    run_id: int
    run_by: str


@dataclass(frozen=True)
class Report:
    """A report written by `<locale>/reports/<kind>.html.j2` from data, not sentences.

    `data` is the kind's own dataclass of numbers, dates, codes and rows; charts are
    drawn in the locale with their words from `<locale>/reports/_charts.j2` and placed
    by the template (`charts[key]`); a stage report carries its header and gate criteria.
    """

    kind: str
    locale: str
    as_of: date
    data: Any
    charts: tuple[Chart, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    stage: StageHeader | None = None


def name_table(locale: str, table: str, templates: Path | None = None) -> Mapping[str, Any]:
    """One of the locale's name tables (`{% set TABLE = {...} %}` in `<locale>/_names.j2`)."""
    return _module(f"{check_locale(locale)}/_names.j2", templates, table)


def _module(name: str, templates: Path | None, table: str) -> Mapping[str, Any]:
    from lendflow.rendering.environment import get_template

    found = getattr(get_template(name, templates).module, table, None)
    if not isinstance(found, Mapping):
        raise BadInput(f"template {name} has no table {table}")
    return found


def _axis(unit: str) -> Callable[[float], str]:
    if unit == "%":
        return lambda v: f"{v:g}%"
    if unit == "g":
        return lambda v: f"{v:g}"
    return plain


def draw(chart: Chart, kind: str, locale: str, templates: Path | None = None) -> ReportChart:
    """The chart drawn as SVG with its words in the locale."""
    table = _module(f"{check_locale(locale)}/reports/_charts.j2", templates, "CHARTS")
    words = table.get(f"{kind}.{chart.key}")
    if words is None:
        raise BadInput(f"{locale}/reports/_charts.j2 has no words for chart {kind}.{chart.key}")
    title = str(words["title"]).format(**_figures(chart))
    heading = str(words.get("heading", words["title"])).format(**_figures(chart))
    if isinstance(chart, BarChart):
        names = name_table(locale, chart.names, templates) if chart.names else {}
        labels = [_named(label, names, chart.given, locale) for label in chart.labels]
        svg = bar_chart(
            heading, labels, chart.values, highlight=chart.highlight, y_format=_axis(chart.unit)
        )
    else:
        series_words = words.get("series", {})
        series = [
            Series(str(series_words.get(line.label, line.label)), line.values, line.dashed)
            for line in chart.lines
        ]
        band = None
        if chart.band is not None:
            band = Band(str(words["band"]).format(**chart.figures), *chart.band)
        svg = line_chart(heading, chart.labels, series, band=band, y_format=_axis(chart.unit))
    return ReportChart(title=title, svg=svg)


def _figures(chart: Chart) -> Mapping[str, str]:
    return chart.figures if isinstance(chart, LineChart) else {}


def _named(code: str, names: Mapping[str, Any], given: Mapping[str, str], locale: str) -> str:
    """A code's name: the data's own first in zh-CN (written in it), the table's in English."""
    first, second = (names, given) if locale == "en" else (given, names)
    return str(first.get(code) or second.get(code) or code)


def drawn_charts(report: Report, templates: Path | None = None) -> tuple[ReportChart, ...]:
    """Every chart of the report, drawn in its locale, in the order the report lists them."""
    if templates is None:
        templates = default_templates_folder()
    return tuple(draw(c, report.kind, report.locale, templates) for c in report.charts)


def render_kind_report(report: Report, templates: Path | None = None) -> bytes:
    """The report as self-contained HTML, written by its kind's template in its locale."""
    from lendflow.rendering.environment import get_template, render_template

    if templates is None:
        templates = default_templates_folder()
    locale = check_locale(report.locale)
    template = get_template(f"{locale}/reports/{report.kind}.html.j2", templates)
    drawn = drawn_charts(report, templates)
    context = {
        "locale": locale,
        "as_of": report.as_of,
        "data": report.data,
        "stage": report.stage,
        "criteria": report.criteria,
        "charts": {chart.key: shown for chart, shown in zip(report.charts, drawn, strict=True)},
    }
    return render_template(template, context).encode("utf-8")

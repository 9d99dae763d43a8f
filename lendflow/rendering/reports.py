"""The shared report layout: what a lifecycle stage hands over to be printed.

Stage flows build a `ReportView` of plain values — headings, paragraphs, tables
of already formatted cells, charts drawn elsewhere as inline SVG — and get back
the document bytes. The layout is one template per locale, so every stage's
report looks the same and a lender can restyle them all in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


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

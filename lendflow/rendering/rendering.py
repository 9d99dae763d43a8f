"""Render a document kind in a locale and format, checked for its required contents."""

from __future__ import annotations

import os
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from lendflow.domain.errors import BadInput
from lendflow.rendering.contents import (
    REQUIRED,
    MissingContents,
    lacking_in_view,
    missing_in_output,
)
from lendflow.rendering.environment import get_template, render_template
from lendflow.rendering.filters import check_locale

KINDS = (
    "brochure",
    "contract",
    "risk-disclosure",
    "overdue-notice",
    "acceleration-notice",
    "contract-supplement",
    "report",
)
FORMATS = ("md", "html", "pdf")
MEDIA_TYPES = {"md": "text/markdown", "html": "text/html", "pdf": "application/pdf"}


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise BadInput(f"unknown format {fmt!r} (choose {', '.join(FORMATS)})")
    return fmt


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise BadInput(f"unknown document kind {kind!r} (choose {', '.join(KINDS)})")
    return kind


def default_templates_folder() -> Path | None:
    """LENDFLOW_TEMPLATES, for callers that have no workspace settings at hand.

    Read straight from the environment: building the whole settings model for one
    folder name cost more than rendering a contract.
    """
    folder = os.environ.get("LENDFLOW_TEMPLATES")
    return Path(folder) if folder else None


def render_text(
    kind: str, view: Any, *, locale: str, fmt: str, templates: Path | None = None
) -> str:
    """Markdown or HTML of a document, refused when a required content is missing."""
    check_kind(kind)
    check_locale(locale)
    if fmt not in ("md", "html"):
        raise BadInput(f"text format must be md or html, got {fmt!r}")
    lacking = lacking_in_view(kind, view, locale)
    if lacking:
        raise MissingContents(kind, lacking)
    template = get_template(f"{locale}/{kind}.{fmt}.j2", templates)
    text = render_template(template, {**_fields(view), "locale": locale})
    missing = missing_in_output(kind, view, text, fmt, locale)
    if missing:
        raise MissingContents(kind, missing)
    return text


def render_kind(
    kind: str,
    view: Any,
    *,
    locale: str = "zh-CN",
    fmt: str = "html",
    templates: Path | None = None,
) -> bytes:
    """The document's bytes: UTF-8 Markdown or HTML, or a PDF made from the HTML."""
    check_format(fmt)
    if templates is None:
        templates = default_templates_folder()
    text = render_text(
        kind, view, locale=locale, fmt="html" if fmt == "pdf" else fmt, templates=templates
    )
    if fmt == "pdf":
        from lendflow.rendering.pdf import html_to_pdf

        return html_to_pdf(text)
    return text.encode("utf-8")


def missing_contents(
    kind: str, view: Any, *, locale: str = "zh-CN", templates: Path | None = None
) -> list[str]:
    """Every required content the document would lack, as values (the design gate's check)."""
    lacking = lacking_in_view(check_kind(kind), view, check_locale(locale))
    if lacking:
        return lacking
    problems: list[str] = []
    for fmt in ("md", "html"):
        try:
            render_text(kind, view, locale=locale, fmt=fmt, templates=templates)
        except MissingContents as exc:
            problems += [f"{fmt}: {m}" for m in exc.missing]
    return problems


def _fields(view: Any) -> dict[str, Any]:
    """The view's fields as template variables (shallow: nested views stay objects)."""
    if not is_dataclass(view) or isinstance(view, type):
        raise BadInput(f"a document is rendered from a view model, got {type(view).__name__}")
    return {f.name: getattr(view, f.name) for f in fields(view)}


__all__ = ["FORMATS", "KINDS", "MEDIA_TYPES", "REQUIRED", "render_kind", "render_text"]

"""Documents rendered from Jinja templates: brochure, contract, risk disclosure,
overdue notice and the stages' reports, in zh-CN and en, as Markdown, HTML or PDF.

Callers hand over view models (`lendflow.rendering.views`, `.reports`) and get
bytes back; every document is checked for the contents its kind requires.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lendflow.rendering.views import OverdueNoticeView


def render_overdue_notice(
    view: OverdueNoticeView,
    locale: str = "zh-CN",
    fmt: str = "html",
    *,
    templates: Path | None = None,
) -> bytes:
    """A borrower's overdue notice (build the view with documents.issuing.overdue_notice_view)."""
    from lendflow.rendering.rendering import render_kind

    return render_kind("overdue-notice", view, locale=locale, fmt=fmt, templates=templates)

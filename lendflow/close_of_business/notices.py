"""Collection notices rendered at close of business and kept as issued.

Close of business records each notice at its days-past-due milestone; with a
documents module in place it also renders the borrower's overdue notice from
the loan as it stands that night, and keeps it, sealed, with its SHA-256 — the
notice the lender can later show it sent.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from lendflow.access.permissions import SYSTEM
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


class RenderedNotices:
    """Renders and keeps one overdue notice; returns the document's SHA-256."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def __call__(self, uow: UnitOfWork, loan_id: int, on: date) -> str:
        from lendflow.documents.issuing import RenderedDocument, overdue_notice_view, store
        from lendflow.rendering import render_overdue_notice

        ws, locale = self.ws, self.ws.settings.locale
        loan = loan_store.get(uow, loan_id)
        view = overdue_notice_view(ws, uow, loan, on, locale=locale, clear=True)
        content = render_overdue_notice(view, locale, "html", templates=ws.settings.templates)
        document = RenderedDocument("overdue-notice", locale, "html", "text/html", content)
        return str(store(ws, uow, loan, document, SYSTEM, on)["sha256"])

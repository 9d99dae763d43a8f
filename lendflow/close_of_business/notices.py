"""Collection notices rendered at close of business and kept as issued.

Close of business records each notice at its days-past-due milestone; with a
documents module in place it also renders the borrower's overdue notice from
the loan as it stands that night, and keeps it, sealed, with its SHA-256 — the
notice the lender can later show it sent.

A chunk's notices are started by the collection step (each view built in the
chunk's transaction) and finished just before the transaction commits. Many of
them go to worker processes in the meantime (`documents.notice_pool`), so the
sweep closes the day while they render; a few are rendered on the spot, as a
worker's start-up would cost more than they do.
"""

from __future__ import annotations

import multiprocessing
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import SYSTEM
from lendflow.domain.errors import LendflowError, NotFound
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.documents.notice_pool import PendingNotices, Rendered
    from lendflow.rendering.views import OverdueNoticeView
    from lendflow.workspace.context import Workspace

POOL_FROM = 64
"""A chunk's day with fewer notices than this renders them in the sweep's own process."""


@dataclass
class NoticeBatch:
    """The notices of one chunk's day: started, to be kept before the commit."""

    notices: RenderedNotices
    on: date
    loans: list[dict[str, Any] | None]  # None: its view could not be built
    rendered: list[Rendered] | None = None
    pending: PendingNotices | None = None

    def finish(self, uow: UnitOfWork) -> list[str | None]:
        """Each notice's document SHA-256 in the order started; None where it could not
        be rendered (it is still recorded and counted: one bad record never stops a night)."""
        from lendflow.documents.issuing import sealed_row
        from lendflow.documents.notice_pool import PackedDocument
        from lendflow.store import documents as document_store

        ws = self.notices.ws
        rendered = self.pending.results() if self.pending is not None else self.rendered or []
        found = iter(rendered)
        shas: list[str | None] = []
        kept: list[dict[str, Any]] = []
        for loan in self.loans:
            document = next(found) if loan is not None else None
            if loan is None or not isinstance(document, PackedDocument):
                shas.append(None)
                continue
            kept.append(sealed_row(ws, loan, document, SYSTEM.name, self.on))
            shas.append(document.sha256)
        document_store.keep_many(uow, kept)
        return shas


class RenderedNotices:
    """Renders and keeps overdue notices for close of business.

    `processes`: worker processes for a chunk's day with many notices (0: always in the
    sweep's own process)."""

    def __init__(self, ws: Workspace, processes: int = 0) -> None:
        self.ws = ws
        # a daemonic process (a Dask worker's) may not start processes of its own
        self.processes = 0 if multiprocessing.current_process().daemon else processes

    def warm(self) -> None:
        """Start the worker processes now, before a large range's first notices: their
        start-up (Python, Jinja, the templates) then overlaps the sweep's first steps."""
        from lendflow.documents.notice_pool import POOL

        if self.processes:
            POOL.executor(self.processes)

    def start(self, uow: UnitOfWork, loan_ids: list[int], on: date) -> NoticeBatch:
        """Build each notice's view now, in the chunk's transaction, and set it rendering."""
        from lendflow.documents.issuing import NoticeReads, overdue_notice_view
        from lendflow.documents.notice_pool import POOL, render_notice

        ws, locale = self.ws, self.ws.settings.locale
        templates = ws.settings.templates
        found = loan_store.get_many(uow, loan_ids)
        read = NoticeReads.of(uow, found.values())
        batch = NoticeBatch(self, on, [])
        here: list[OverdueNoticeView] = []  # to render in this process
        if self.processes and len(loan_ids) >= POOL_FROM:
            batch.pending = POOL.pending(self.processes, locale, templates)
        add = batch.pending.add if batch.pending is not None else here.append
        for loan_id in loan_ids:
            try:
                loan = found.get(loan_id)
                if loan is None:
                    raise NotFound(f"loan {loan_id} does not exist")
                view = overdue_notice_view(ws, uow, loan, on, locale=locale, clear=True, read=read)
            except LendflowError:
                batch.loans.append(None)
                continue
            batch.loans.append(loan)
            add(view)  # a worker starts on the first views while the rest are built
        if batch.pending is None:
            batch.rendered = [render_notice(view, locale, templates) for view in here]
        return batch

"""Overdue notices rendered in worker processes while close of business goes on.

A night with many borrowers at a notice milestone spends most of its time in Jinja:
each notice is a whole HTML document, checked for the contents its kind requires.
The sweep builds each notice's view inside its own transaction (so the notice shows
the loan exactly as that night's steps left it), hands the views to worker
processes, and goes on closing the day; it collects the rendered documents just
before it commits, and keeps them in that same transaction. The bytes are the ones
the sweep's own process would render: the same function runs on the same view.

Workers render and compress only: sealing under the workspace key stays in the
sweep's process, so no worker ever holds the key. They are started once per
process (spawned, never forked: the sweep may run beside Prefect's threads) and
reused for every chunk and date.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import types
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from lendflow.documents.issuing import PackedDocument, RenderedDocument, pack
from lendflow.domain.errors import LendflowError

if TYPE_CHECKING:
    from lendflow.rendering.views import OverdueNoticeView

KIND = "overdue-notice"
FORMAT = "html"
BATCH = 16
"""Views per task sent to a worker: enough to make a task's round trip worth it, few
enough that a worker starts soon and that the sweep, which renders the batches no worker
has taken, is left little to wait for (a worker holds two at most; with 32 a million-loan
night was 2% slower)."""

Rendered = PackedDocument | str
"""A packed notice, or why it could not be rendered (one line)."""


def render_notice(view: OverdueNoticeView, locale: str, templates: Path | None) -> Rendered:
    """One notice rendered and packed, or the one-line reason it cannot be."""
    from lendflow.rendering import render_overdue_notice
    from lendflow.rendering.rendering import MEDIA_TYPES

    try:
        content = render_overdue_notice(view, locale, FORMAT, templates=templates)
    except LendflowError as refused:
        return str(refused)
    return pack(RenderedDocument(KIND, locale, FORMAT, MEDIA_TYPES[FORMAT], content))


def render_notices(
    views: list[OverdueNoticeView], locale: str, templates: Path | None
) -> list[Rendered]:
    """A worker's task: a batch of notices, in order."""
    return [render_notice(view, locale, templates) for view in views]


class NoticePool:
    """The worker processes of this process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._size = 0

    def executor(self, processes: int) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None or self._size != processes:
                if self._executor is not None:
                    self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = _started(processes)
                self._size = processes
            return self._executor

    def forget(self, wait: bool = False) -> None:
        """Drop the pool (one whose worker died: killed, out of memory); the next use starts
        anew. `wait`: until its workers have ended."""
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None

    def pending(self, processes: int, locale: str, templates: Path | None) -> PendingNotices:
        """Notices to send to the workers as their views are built (`PendingNotices.add`)."""
        return PendingNotices(self, self.executor(processes), locale, templates)


class PendingNotices:
    """Notices sent to the workers in batches as their views are built, so that the workers
    start on the first while the sweep builds the rest; `results` gathers them in order.

    Rather than sit idle while it waits, the sweep renders, from the last batch back, the
    batches no worker has taken yet (a batch is either taken or cancelled, never both),
    and then waits only for those already under way.
    """

    def __init__(
        self,
        pool: NoticePool,
        executor: ProcessPoolExecutor,
        locale: str,
        templates: Path | None,
    ) -> None:
        self._pool, self._executor = pool, executor
        self._locale, self._templates = locale, templates
        self._views: list[OverdueNoticeView] = []
        self._sent: list[tuple[list[OverdueNoticeView], Future[list[Rendered]]]] = []

    def add(self, view: OverdueNoticeView) -> None:
        self._views.append(view)
        if len(self._views) == BATCH:
            self._send()

    def _send(self) -> None:
        views, self._views = self._views, []
        try:
            future = self._executor.submit(render_notices, views, self._locale, self._templates)
        except BrokenProcessPool:
            self._pool.forget()
            raise
        self._sent.append((views, future))

    def results(self) -> list[Rendered]:
        if self._views:
            self._send()
        here: dict[int, list[Rendered]] = {}
        for at in range(len(self._sent) - 1, -1, -1):
            views, future = self._sent[at]
            if not future.cancel():
                break  # a worker has taken it, and so every batch before it
            here[at] = render_notices(views, self._locale, self._templates)
        found: list[Rendered] = []
        try:
            for at, (_, future) in enumerate(self._sent):
                found += here[at] if at in here else future.result()
        except BrokenProcessPool:
            # the chunk's transaction fails and is retried, with a new pool
            self._pool.forget()
            raise
        return found


def _ready() -> None:
    """A worker's first task: load what rendering needs, so the first notices wait for
    nothing but their own rendering (sending it also starts the worker)."""
    from lendflow.rendering import rendering  # noqa: F401 - Jinja and the template loader


def _started(processes: int) -> ProcessPoolExecutor:
    """A pool with its workers running, started without the process's main script.

    A spawned worker normally imports the parent's `__main__` again; a script that runs
    close of business without an `if __name__ == "__main__":` guard would then run once
    more in every worker. The workers need only lendflow, so they are started while a
    blank module stands in for `__main__` (each `submit` on a pool without an idle
    worker starts one: one task each starts them all).
    """
    executor = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"))
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        for _ in range(processes):
            executor.submit(_ready)
    finally:
        sys.modules["__main__"] = main
    return executor


POOL = NoticePool()

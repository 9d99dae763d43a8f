"""Overdue notices rendered by worker processes are the notices the sweep would render.

Three loans of 10,000.00 over 3 months miss their first instalment (due 12 Feb);
on 13 Feb each borrower is one day late and gets the first reminder. With the
threshold lowered, the night sends them to a worker process; each kept document
must be the very bytes rendered in the sweep's own process from the same loan on
the same day, and decode under the key to its recorded SHA-256.
"""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from sqlalchemy import select

from lendflow.close_of_business import notices as notice_rendering
from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.customers import registry as customers
from lendflow.documents import issuing as documents
from lendflow.documents import notice_pool
from lendflow.rendering import render_overdue_notice
from lendflow.store import loans as loan_store
from lendflow.store.tables import notices
from lendflow.store.uow import run_in_transaction
from tests.service.test_cob_golden import open_loan


def rendered_here(ws, loan_id: int, on: date) -> str:  # type: ignore[no-untyped-def]
    """The notice's SHA-256 as the sweep's own process renders it."""

    def use_case(uow):  # type: ignore[no-untyped-def]
        loan = loan_store.get(uow, loan_id)
        view = documents.overdue_notice_view(ws, uow, loan, on, locale=ws.settings.locale)
        return render_overdue_notice(view, ws.settings.locale, templates=ws.settings.templates)

    return hashlib.sha256(run_in_transaction(ws.engine, use_case)).hexdigest()


@pytest.mark.parametrize("processes", [1, 0], ids=["worker-processes", "in-process"])
def test_notices_rendered_by_workers_are_the_ones_rendered_in_process(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, monkeypatch, processes
) -> None:
    monkeypatch.setattr(notice_rendering, "POOL_FROM", 2)
    config = load_cob_config().model_copy(update={"notice_processes": processes})
    loan_ids = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    counts = cob.close_range(ws, 1, 10_000, date(2026, 2, 12), date(2026, 2, 13), "cob", config)
    assert counts.notices == 3 and counts.notices_not_rendered == 0
    with ws.engine.connect() as c:
        recorded = dict(c.execute(select(notices.c.loan_id, notices.c.document_sha256)).all())
    assert sorted(recorded) == loan_ids
    for loan_id in loan_ids:
        expected = rendered_here(ws, loan_id, date(2026, 2, 13))
        assert recorded[loan_id] == expected
        (kept,) = [d for d in documents.list_documents(ws, risk, loan_id)
                   if d.kind == "overdue-notice"]  # fmt: skip
        _, content = documents.stored_content(ws, risk, kept.id)
        assert hashlib.sha256(content).hexdigest() == expected
        assert f"LF-N-{loan_id:08d}-20260213" in content.decode("utf-8")


def test_a_notice_whose_view_cannot_be_built_is_recorded_unrendered(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, monkeypatch
) -> None:
    """One bad record never stops the night: the notice is recorded and counted without a
    document, the others are rendered by the workers as usual."""
    monkeypatch.setattr(notice_rendering, "POOL_FROM", 2)
    real = documents.overdue_notice_view
    loan_ids = [open_loan(ws, ops, risk, applicant) for _ in range(3)]

    def refuse_the_first(ws_, uow, loan, on, **kwargs):  # type: ignore[no-untyped-def]
        if loan["id"] == loan_ids[0]:
            raise documents.Refused(f"loan {loan['id']} cannot be shown")
        return real(ws_, uow, loan, on, **kwargs)

    monkeypatch.setattr(documents, "overdue_notice_view", refuse_the_first)
    config = load_cob_config().model_copy(update={"notice_processes": 1})
    counts = cob.close_range(ws, 1, 10_000, date(2026, 2, 12), date(2026, 2, 13), "cob", config)
    assert counts.notices == 3 and counts.notices_not_rendered == 1
    with ws.engine.connect() as c:
        recorded = dict(c.execute(select(notices.c.loan_id, notices.c.document_sha256)).all())
    assert recorded[loan_ids[0]] is None
    assert all(recorded[loan_id] for loan_id in loan_ids[1:])


def test_a_daemonic_process_renders_its_notices_itself(ws, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A Dask worker runs chunks in a daemonic process, which may not start processes:
    its notices are rendered in the process itself instead of failing the night."""

    class Daemonic:
        daemon = True

    monkeypatch.setattr(notice_rendering.multiprocessing, "current_process", Daemonic)
    assert notice_rendering.RenderedNotices(ws, 1).processes == 0


def test_a_nights_notices_read_loans_schedules_and_borrowers_as_single_reads_do(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """A chunk's notices read their loans, schedules and borrowers in a few statements (on
    PostgreSQL a read is a round trip): each row is what the single reads give, an id
    the book lacks is left out, and a loan without instalments has an empty schedule."""
    loan_ids = [open_loan(ws, ops, risk, applicant) for _ in range(3)]

    def reads(uow):  # type: ignore[no-untyped-def]
        many = loan_store.get_many(uow, [*loan_ids, 999_999])
        read = documents.NoticeReads.of(uow, many.values())
        single = {loan_id: loan_store.get(uow, loan_id) for loan_id in loan_ids}
        schedules = {loan_id: loan_store.instalments(uow, loan_id) for loan_id in loan_ids}
        borrowers = {row["customer_id"]: customers.get(uow, row["customer_id"])
                     for row in single.values()}  # fmt: skip
        assert loan_store.instalments_of_many(uow, [999_999]) == {999_999: []}
        return many, read, single, schedules, borrowers

    many, read, single, schedules, borrowers = run_in_transaction(ws.engine, reads)
    assert many == single
    assert read.schedules == schedules and all(len(rows) > 1 for rows in schedules.values())
    assert read.borrowers == borrowers


def test_notices_the_workers_have_not_taken_are_rendered_by_the_sweep_in_order(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, monkeypatch
) -> None:
    """Rather than wait, the sweep renders the batches no worker has started; the night's
    documents come back in the order their views were built, as one process renders them."""
    monkeypatch.setattr(notice_pool, "BATCH", 1)
    loan_ids = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    config = load_cob_config().model_copy(update={"render_notices": False})
    cob.close_range(ws, 1, 10_000, date(2026, 2, 12), date(2026, 2, 13), "cob", config)

    def views(uow):  # type: ignore[no-untyped-def]
        loans = [loan_store.get(uow, loan_id) for loan_id in loan_ids * 4]
        return [documents.overdue_notice_view(ws, uow, loan, date(2026, 2, 13), locale="zh-CN")
                for loan in loans]  # fmt: skip

    built = run_in_transaction(ws.engine, views)
    pending = notice_pool.POOL.pending(1, "zh-CN", ws.settings.templates)
    for view in built:
        pending.add(view)
    pending._sent[0][1].result()  # the worker has taken the first batches, not the last
    found = pending.results()
    here = [notice_pool.render_notice(view, "zh-CN", ws.settings.templates) for view in built]
    assert [d.sha256 for d in found] == [d.sha256 for d in here]  # type: ignore[union-attr]
    assert [d.packed for d in found] == [d.packed for d in here]  # type: ignore[union-attr]
    taken_here = sum(future.cancelled() for _, future in pending._sent)
    assert 0 < taken_here < len(built) - 1  # a worker holds two batches at most

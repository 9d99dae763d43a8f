"""Concurrency through the engine: two OS processes repaying one loan at the same moment.

Each process opens its own workspace (own engine, own connections) as two
tellers' terminals would, waits at a shared barrier, then posts. Whatever the
interleaving, every payment that was acknowledged lands exactly once and none
is lost to a concurrent update.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lendflow.access.permissions import Actor
from lendflow.bootstrap import open_workspace
from lendflow.config.settings import Settings
from lendflow.domain.errors import Conflict, LendflowError
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.store.personal_data import PersonalDataCipher
from lendflow.store.tables import customers, instalments, journal_entries
from lendflow.workspace.context import Workspace

Applicant = Callable[..., Application]
APPLIED = date(2026, 1, 10)
DECIDED = date(2026, 1, 11)
PAID_OUT = date(2026, 1, 12)
DUE = date(2026, 2, 12)
OWED_ON_DUE_DATE = 1_014_000  # 10,000.00 principal + 130.00 interest + 10.00 fee due
PROCESS_TIMEOUT = 60


Job = tuple[int, int, str]  # loan id, amount in fen, idempotency key
Answer = tuple[int, str, int, str, int | str]  # round, key, amount, outcome, outstanding or error


def repay_in_own_process(
    home: str, database_url: str, jobs: list[Job], as_of: str, start: Any, answers: Any
) -> None:
    """Child process: open a workspace; per round, line up at the barrier and post one job."""
    ws = open_workspace(Settings(home=Path(home), database_url=database_url))
    try:
        clerk = ws.actor("ops")
        day = date.fromisoformat(as_of)
        for round_no, (loan_id, amount, key) in enumerate(jobs):
            try:
                loan_views.show(ws, clerk, loan_id, day)  # connected and warm before the start
                start.wait(timeout=PROCESS_TIMEOUT)
                view = repayments.repay(ws, clerk, loan_id, amount, day, idempotency_key=key)
                answers.put((round_no, key, amount, "ok", view.outstanding.total))
            except Conflict as exc:
                answers.put((round_no, key, amount, "conflict", str(exc)))
            except BaseException as exc:  # reported to the parent, which fails the test
                answers.put((round_no, key, amount, "error", repr(exc)))
    finally:
        ws.close()


def race(settings: Settings, rounds: list[list[Job]]) -> list[list[Answer]]:
    """One process per column of `rounds`; each round's jobs are released together."""
    ctx = multiprocessing.get_context("spawn")
    width = len(rounds[0])
    start = ctx.Barrier(width)
    answers = ctx.Queue()
    processes = [
        ctx.Process(
            target=repay_in_own_process,
            args=(
                str(settings.home),
                settings.resolved_database_url,
                [jobs[column] for jobs in rounds],
                DUE.isoformat(),
                start,
                answers,
            ),
        )
        for column in range(width)
    ]
    for process in processes:
        process.start()
    try:
        results = [answers.get(timeout=PROCESS_TIMEOUT) for _ in range(width * len(rounds))]
    finally:
        for process in processes:
            process.join(timeout=PROCESS_TIMEOUT)
            if process.is_alive():  # pragma: no cover - only when a child hangs
                process.kill()
    assert [p.exitcode for p in processes] == [0] * width
    assert [r for r in results if r[3] == "error"] == []
    return [[r for r in results if r[0] == n] for n in range(len(rounds))]


def active_loan(ws: Workspace, ops: Actor, risk: Actor, applicant: Applicant) -> int:
    loan_id = applications.apply(ws, ops, applicant(), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    return loan_id


def repayment_keys(ws: Workspace, loan_id: int) -> list[str]:
    with ws.engine.connect() as conn:
        keys = conn.execute(
            select(journal_entries.c.idempotency_key)
            .where(journal_entries.c.loan_id == loan_id, journal_entries.c.kind == "repayment")
            .order_by(journal_entries.c.idempotency_key)
        ).scalars()
        return list(keys)


def paid_on_instalments(ws: Workspace, loan_id: int) -> int:
    paid = (
        instalments.c.principal_paid
        + instalments.c.interest_paid
        + instalments.c.fee_paid
        + instalments.c.penalty_paid
    )
    with ws.engine.connect() as conn:
        total = conn.execute(
            select(func.coalesce(func.sum(paid), 0)).where(instalments.c.loan_id == loan_id)
        ).scalar_one()
        return int(total)


def test_two_processes_repaying_one_loan_at_once_lose_nothing_and_double_nothing(
    ws: Workspace, settings: Settings, ops: Actor, risk: Actor, auditor: Actor, applicant: Applicant
) -> None:
    """Round 1: 300.00 and 500.00 arrive together on one loan; neither may be lost.
    Round 2: one bank payment delivered to two workers at once must count once.
    (Both rounds share one pair of processes to keep process start-up off the clock.)
    """
    two_tellers = active_loan(ws, ops, risk, applicant)
    one_payment_twice = active_loan(ws, ops, risk, applicant)
    for loan_id in (two_tellers, one_payment_twice):
        assert loan_views.show(ws, ops, loan_id, DUE).outstanding.total == OWED_ON_DUE_DATE
    tellers, duplicates = race(
        settings,
        [
            [(two_tellers, 30_000, "teller-a"), (two_tellers, 50_000, "teller-b")],
            [(one_payment_twice, 50_000, "bank-tx-77"), (one_payment_twice, 50_000, "bank-tx-77")],
        ],
    )

    # Different keys: each payment lands exactly once (a Conflict, asking the teller to
    # retry, is allowed); whatever landed is all in the books, nothing overwritten.
    landed = sorted((key, amount) for _, key, amount, outcome, _ in tellers if outcome == "ok")
    assert landed, tellers
    assert repayment_keys(ws, two_tellers) == [f"repay:{key}" for key, _ in landed]
    received = sum(amount for _, amount in landed)
    assert paid_on_instalments(ws, two_tellers) == received
    after = loan_views.show(ws, ops, two_tellers, DUE).outstanding.total
    assert after == OWED_ON_DUE_DATE - received

    # The same key twice: money moves once, and both callers hear the same answer.
    assert repayment_keys(ws, one_payment_twice) == ["repay:bank-tx-77"]
    assert paid_on_instalments(ws, one_payment_twice) == 50_000
    after = loan_views.show(ws, ops, one_payment_twice, DUE).outstanding.total
    assert after == 964_000
    acknowledged = [answer for *_, outcome, answer in duplicates if outcome == "ok"]
    assert acknowledged, duplicates
    assert set(acknowledged) == {964_000}  # a replay answers with the first result
    assert audit.verify(ws, auditor).ok


class InterleavingCipher:
    """The workspace's cipher, letting `interleave` run once, right after the customer lookup.

    `find_or_create` looks the national ID up, finds nobody, then hashes the phone
    and inserts: running another clerk's application in that gap reproduces two
    terminals entering the same new borrower at the same moment, deterministically.
    """

    def __init__(self, inner: PersonalDataCipher, interleave: Callable[[], object]) -> None:
        self.inner = inner
        self.interleave: Callable[[], object] | None = interleave

    def lookup_hash(self, text: str, field: str) -> str:
        digest = self.inner.lookup_hash(text, field)
        if field == "phone" and self.interleave is not None:
            interleave, self.interleave = self.interleave, None
            interleave()
        return digest

    def encrypt(self, text: str, field: str, row: str) -> str:
        return self.inner.encrypt(text, field, row)

    def decrypt(self, token: str, field: str, row: str) -> str:
        return self.inner.decrypt(token, field, row)


def test_a_new_borrower_entered_at_two_terminals_at_once_gets_a_clear_answer(
    ws: Workspace, settings: Settings, ops: Actor, applicant: Applicant
) -> None:
    """One customer record results, and each clerk gets an answer staff can act on."""
    if settings.is_sqlite:
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): this interleaving cannot occur")
    other_terminal = open_workspace(settings)
    try:
        ws.cipher = InterleavingCipher(  # type: ignore[assignment]
            ws.cipher,
            lambda: applications.apply(
                other_terminal,
                ops,
                applicant(serial=88, product="sme-growth", amount="20000"),
                APPLIED,
            ),
        )
        # A refusal, or a Conflict asking to try again, is a fine answer; a crash is not.
        with contextlib.suppress(LendflowError):
            applications.apply(ws, ops, applicant(serial=88), APPLIED)
    finally:
        other_terminal.close()
    with ws.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(customers)).scalar_one() == 1

"""Batch loan flows: review the queue, pay out the approved, post a repayment file.

Each flow reads as a table of contents; each task handles one chunk of loans
through the same use cases an operator's command uses, and is safe to retry:
a loan already moved is skipped, a disbursement is paid under one gateway
reference per loan, and a repayment row is posted under its channel reference.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task

from lendflow.domain.errors import LendflowError, Refused
from lendflow.flows.permissions import BATCH_PERMISSIONS
from lendflow.flows.runtime import DEFAULT_CHUNK, chunks, workspace
from lendflow.loans.applications import start_review
from lendflow.loans.disbursement import disburse
from lendflow.loans.repayment_files import RepaymentRow, read_repayment_file
from lendflow.loans.repayments import repay
from lendflow.loans.views import ids_in_state
from lendflow.workspace.payments import GatewayError

GATEWAY_ATTEMPTS = 3


@task(retries=2, retry_delay_seconds=1)
def review_chunk(loan_ids: list[int], as_of: date, user: str) -> dict[str, int]:
    ws = workspace()
    actor = ws.actor(user)
    actor.require(*BATCH_PERMISSIONS["review_applications"])
    counts: Counter[str] = Counter()
    for loan_id in loan_ids:
        try:
            counts[start_review(ws, actor, loan_id, as_of).status.value] += 1
        except Refused:
            counts["skipped"] += 1
    return dict(counts)


@flow(name="review-applications")
def review_applications(as_of: date, user: str, chunk_size: int = DEFAULT_CHUNK) -> dict[str, int]:
    """Move every submitted application into review (and through the credit decider)."""
    ws = workspace()
    actor = ws.actor(user)
    actor.require(*BATCH_PERMISSIONS["review_applications"])  # refused, never "skipped"
    pending = ids_in_state(ws, actor, "submitted")
    futures = [review_chunk.submit(batch, as_of, user) for batch in chunks(pending, chunk_size)]
    return _sum([f.result() for f in futures], scanned=len(pending))


@task(retries=2, retry_delay_seconds=1)
def disburse_chunk(loan_ids: list[int], as_of: date, user: str) -> dict[str, Any]:
    ws = workspace()
    actor = ws.actor(user)
    actor.require(*BATCH_PERMISSIONS["disburse_approved"])
    counts: Counter[str] = Counter()
    failures: list[str] = []
    for loan_id in loan_ids:
        outcome = _disburse_one(ws, actor, loan_id, as_of)
        counts[outcome[0]] += 1
        if outcome[1]:
            failures.append(outcome[1])
    return {**counts, "failures": failures}


def _disburse_one(ws: Any, actor: Any, loan_id: int, as_of: date) -> tuple[str, str | None]:
    """Pay one loan out, retrying a transient gateway error with the same reference."""
    for attempt in range(1, GATEWAY_ATTEMPTS + 1):
        try:
            disburse(ws, actor, loan_id, as_of)
            return "disbursed", None
        except GatewayError as exc:
            if not exc.transient or attempt == GATEWAY_ATTEMPTS:
                return "failed", f"loan {loan_id}: {exc.message}"
            time.sleep(0.05 * attempt)
        except Refused as exc:
            return "skipped", f"loan {loan_id}: {exc.message}"
    return "failed", f"loan {loan_id}: gave up"  # pragma: no cover


@flow(name="disburse-approved")
def disburse_approved(as_of: date, user: str, chunk_size: int = DEFAULT_CHUNK) -> dict[str, Any]:
    """Pay out every approved loan; a loan is never paid twice, whatever is retried."""
    ws = workspace()
    actor = ws.actor(user)
    actor.require(*BATCH_PERMISSIONS["disburse_approved"])
    approved = ids_in_state(ws, actor, "approved")
    futures = [disburse_chunk.submit(batch, as_of, user) for batch in chunks(approved, chunk_size)]
    results = [f.result() for f in futures]
    failures = [line for r in results for line in r.pop("failures")]
    return {**_sum(results, scanned=len(approved)), "failures": failures}


@task(retries=2, retry_delay_seconds=1)
def post_chunk(rows: list[RepaymentRow], user: str) -> dict[str, Any]:
    ws = workspace()
    actor = ws.actor(user)
    actor.require(*BATCH_PERMISSIONS["post_repayments"])
    posted = replayed = 0
    refused: list[str] = []
    for row in rows:
        try:
            result = repay(ws, actor, row.loan_id, row.amount, row.paid_on, row.idempotency_key)
        except LendflowError as exc:
            refused.append(f"line {row.line}: {exc.message}")
            continue
        if result.replayed:
            replayed += 1
        else:
            posted += 1
    return {"posted": posted, "already_posted": replayed, "refused": refused}


@flow(name="post-repayments")
def post_repayments(path: Path, user: str, chunk_size: int = DEFAULT_CHUNK) -> dict[str, Any]:
    """Post a channel's repayment file: good rows posted once each, bad rows reported."""
    workspace().actor(user).require(*BATCH_PERMISSIONS["post_repayments"])
    rows, problems = read_repayment_file(Path(path))
    futures = [post_chunk.submit(batch, user) for batch in chunks(rows, chunk_size)]
    results = [f.result() for f in futures]
    refused = [line for r in results for line in r["refused"]]
    return {
        "rows": len(rows) + len(problems),
        "posted": sum(r["posted"] for r in results),
        "already_posted": sum(r["already_posted"] for r in results),
        "bad_rows": [str(p) for p in problems],
        "refused": refused,
    }


def _sum(results: list[dict[str, int]], scanned: int) -> dict[str, int]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result)
    return {"scanned": scanned, **total}

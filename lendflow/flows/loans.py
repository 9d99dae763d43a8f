"""Batch loan flows: review the queue, pay out the approved, post a repayment file.

Each flow reads as a table of contents; each task handles one chunk of loans
through the same use cases an operator's command uses, and is safe to retry:
a loan already moved is skipped, a disbursement is paid under one gateway
reference per loan, and a repayment row is posted under its channel's reference.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from lendflow.domain.errors import Refused
from lendflow.flows.permissions import BATCH_PERMISSIONS
from lendflow.flows.runtime import DEFAULT_CHUNK, chunks, workspace
from lendflow.loans.applications import start_review
from lendflow.loans.disbursement import disburse
from lendflow.loans.repayment_files import (
    ChunkReport,
    FileChunk,
    FileLimits,
    RepaymentFile,
    RepaymentFileReport,
    inspect_repayment_file,
    post_chunk,
)
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


# Never cached: a chunk's report must say what this run posted, not what an earlier one did.
@task(retries=1, retry_delay_seconds=1, cache_policy=NO_CACHE)
def post_file_chunk(
    file: RepaymentFile,
    chunk: FileChunk,
    as_of: date,
    channel: str | None,
    limits: FileLimits,
    user: str,
) -> ChunkReport:
    ws = workspace()
    actor = ws.actor(user)
    actor.require(*BATCH_PERMISSIONS["post_repayments"])
    return post_chunk(ws, actor, file, chunk, as_of=as_of, channel=channel, limits=limits)


@flow(name="post-repayments")
def post_repayments(
    path: Path,
    user: str,
    as_of: date,
    chunk_size: int = DEFAULT_CHUNK,
    channel: str | None = None,
    errors_path: Path | None = None,
    max_rows: int = FileLimits.max_rows,
    max_bytes: int = FileLimits.max_bytes,
) -> dict[str, Any]:
    """Post a channel's repayment file chunk by chunk; every row not posted is reported.

    Chunks run one after another: every repayment appends to the one event chain, so
    chunks in parallel would only queue for its lock, each holding a connection
    (100 concurrent chunks were what exhausted the pool). One chunk, one task, one
    connection, one transaction.
    """
    workspace().actor(user).require(*BATCH_PERMISSIONS["post_repayments"])
    limits = FileLimits(max_rows=max_rows, max_bytes=max_bytes)
    file = inspect_repayment_file(Path(path), chunk_size, limits)
    with RepaymentFileReport(file, Path(errors_path) if errors_path else None) as report:
        for chunk in file.chunks:
            report.add(post_file_chunk(file, chunk, as_of, channel, limits, user))
        return report.result(channel, as_of).model_dump(mode="json")


def _sum(results: list[dict[str, int]], scanned: int) -> dict[str, int]:
    total: Counter[str] = Counter()
    for result in results:
        total.update(result)
    return {"scanned": scanned, **total}

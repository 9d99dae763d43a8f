"""The close-of-business flow under Prefect: chunked, and identical on Dask."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from lendflow.bootstrap import init_workspace
from lendflow.config.cob import default_cob_path
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.flows import cob as cob_flow
from lendflow.flows.cob import close_of_business, run_close_of_business
from lendflow.flows.runtime import workspace
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import cob_runs, instalments, loans


def build_book(home: Path) -> None:
    """Twelve cash-easy loans; some pay, some do not."""
    init_workspace(Settings(home=home))
    ws = workspace()
    ops, risk = ws.actor("ops"), ws.actor("risk")
    products.import_product(
        ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
    )
    for n in range(12):
        application = Application.parse(
            product="cash-easy",
            name=f"客户{n}",
            national_id=sample_national_id(date(1985, 6, 1), 300 + n),
            phone=f"1371234{n:04d}",
            monthly_income="12000",
            amount=str(3000 + 1000 * n),
            term=3,
            consents="all",
        )
        loan_id = applications.apply(ws, ops, application, date(2026, 1, 10)).id
        applications.start_review(ws, ops, loan_id, date(2026, 1, 10))
        applications.approve(ws, risk, loan_id, date(2026, 1, 11))
        disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
        if n % 3 == 0:
            repayments.repay(ws, ops, loan_id, 500_000, date(2026, 2, 12), f"pay-{n}")


def snapshot() -> list[tuple[object, ...]]:
    ws = workspace()
    with ws.engine.connect() as c:
        rows = c.execute(
            select(
                loans.c.id,
                loans.c.state,
                loans.c.dpd,
                loans.c.bucket,
                loans.c.classification,
                loans.c.penalty_receivable,
                loans.c.interest_receivable,
                CLOSED_THROUGH,
            ).order_by(loans.c.id)
        ).all()
        penalties = c.execute(
            select(instalments.c.loan_id, instalments.c.n, instalments.c.penalty).order_by(
                instalments.c.loan_id, instalments.c.n
            )
        ).all()
    return [tuple(r) for r in rows] + [tuple(p) for p in penalties]


def test_the_flow_keeps_at_most_parallel_chunks_in_flight_on_threads(
    isolated_environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six chunks, two at a time (`parallel_chunks: 2`): each chunk is held open a moment,
    so chunks started all at once would be seen together; the book still closes whole."""
    build_book(isolated_environment)
    config = tmp_path / "cob.yaml"
    config.write_text(
        default_cob_path()
        .read_text(encoding="utf-8")
        .replace("parallel_chunks: null", "parallel_chunks: 2"),
        encoding="utf-8",
    )
    real, lock, seen = cob_flow.close_range, threading.Lock(), {"now": 0, "most": 0}

    def held_open(*args: object) -> object:
        with lock:
            seen["now"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        try:
            time.sleep(0.3)
            return real(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(cob_flow, "close_range", held_open)
    result = close_of_business(
        date(2026, 3, 1),
        actor="ops",
        chunk_size=2,
        today=date(2026, 3, 2),
        config_path=str(config),
    )
    assert result.chunks == 6 and result.became_overdue == 8
    assert seen["most"] == 2
    live = [row for row in snapshot()[:12] if row[1] in ("active", "overdue")]
    assert len(live) == 11 and {row[-1] for row in live} == {date(2026, 3, 1)}


def test_chunks_close_the_book_and_report_counts(isolated_environment: Path) -> None:
    build_book(isolated_environment)
    result = close_of_business(date(2026, 3, 1), actor="ops", chunk_size=5, today=date(2026, 3, 2))
    assert result.chunks == 3
    assert result.became_overdue == 8 and result.cured == 0
    assert result.penalty_accrued > 0
    # the 3,000.00 loan was paid off by its 5,000.00 payment: 11 loans are still live
    assert result.buckets == {"M0": 3, "M1": 8}
    assert result.classes["special_mention"] == 8
    again = close_of_business(date(2026, 3, 1), actor="ops", chunk_size=5, today=date(2026, 3, 2))
    assert again.loans_scanned == 0 and again.penalty_accrued == 0
    checked = audit.verify(workspace(), workspace().actor("auditor"))
    assert (checked.ok, checked.anchors_checked) == (True, 2)
    assert result.anchor is not None and again.anchor is not None
    assert result.anchor.business_date == date(2026, 3, 1)
    assert again.anchor.event_id == result.anchor.event_id  # the rerun appended no event
    # each run is kept for the operators' record, with what it reported
    with workspace().engine.connect() as c:
        runs = c.execute(
            select(
                cob_runs.c.from_date, cob_runs.c.to_date, cob_runs.c.actor, cob_runs.c.counts
            ).order_by(cob_runs.c.id)
        ).all()
    assert [tuple(r[:3]) for r in runs] == [(date(2026, 3, 1), date(2026, 3, 1), "ops")] * 2
    assert [json.loads(r[3]) for r in runs] == [
        result.model_dump(mode="json"),
        again.model_dump(mode="json"),
    ]


@pytest.mark.slow  # a local Dask cluster of two worker processes: about 17 s
def test_dask_with_two_workers_gives_identical_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = {}
    for runner in ("default", "dask"):
        home = tmp_path / runner
        monkeypatch.setenv("LENDFLOW_HOME", str(home))
        monkeypatch.setenv("LENDFLOW_TASK_RUNNER", runner)
        monkeypatch.setenv("LENDFLOW_DASK_WORKERS", "2")
        build_book(home)
        counts = run_close_of_business(
            as_of=date(2026, 3, 15), actor="ops", chunk_size=4, today=date(2026, 3, 16)
        )
        # each book has its own key and event times: the anchored head differs, nothing else
        results[runner] = (counts.model_copy(update={"anchor": None}), snapshot())
    assert results["dask"] == results["default"]

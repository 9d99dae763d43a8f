"""Posting a repayment file's chunks through the use case (no Prefect): a row refused
after it wrote is undone alone, and random rows never leave a change without a report."""

from __future__ import annotations

import csv
import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lendflow.domain.errors import BadInput
from lendflow.loans import applications, audit, disbursement
from lendflow.loans import repayments as repayments_module
from lendflow.loans.repayment_files import (
    RepaymentFileReport,
    RepaymentFileResult,
    inspect_repayment_file,
    post_chunk,
)
from lendflow.store.tables import journal_entries
from lendflow.workspace.context import Workspace

HEADER = "reference,loan_id,amount,paid_on\n"
ON = date(2026, 2, 12)
FUZZ = settings(
    max_examples=1000 if os.environ.get("HYPOTHESIS_PROFILE") == "deep" else 15,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    deadline=None,
)


@pytest.fixture
def loans(ws: Workspace, applicant) -> list[int]:  # type: ignore[no-untyped-def]
    ops, risk = ws.actor("ops"), ws.actor("risk")
    ids = []
    for _ in range(3):
        loan_id = applications.apply(ws, ops, applicant(), date(2026, 1, 10)).id
        applications.start_review(ws, ops, loan_id, date(2026, 1, 10))
        applications.approve(ws, risk, loan_id, date(2026, 1, 11))
        disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
        ids.append(loan_id)
    return ids


def post_file(ws: Workspace, path: Path, chunk_size: int = 4) -> RepaymentFileResult:
    """What the flow does, chunk by chunk, without Prefect."""
    file = inspect_repayment_file(path, chunk_size)
    with RepaymentFileReport(file) as report:
        for chunk in file.chunks:
            report.add(post_chunk(ws, ws.actor("ops"), file, chunk, as_of=ON))
        return report.result(None, ON)


def rows_in(path: Path) -> int:
    """The lines after the header that are not blank (all fields empty counts as blank)."""
    count = 0
    for line in path.read_bytes().split(b"\n")[1:]:
        text = line.removesuffix(b"\r").decode("utf-8")
        try:
            fields = next(csv.reader([text], strict=True), [])
        except csv.Error:
            count += 1
            continue
        count += "\x00" in text or len(line) > 1024 or any(f.strip(" \t") for f in fields)
    return count


def repayments_posted(ws: Workspace) -> int:
    with ws.engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(journal_entries)
            .where(journal_entries.c.idempotency_key.like("repay:channel:%"))
        ).scalar_one()


def test_a_row_refused_after_it_wrote_is_undone_alone(
    ws: Workspace, loans: list[int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal comes after the row's journal entry, instalments and event were
    written: they go, the chunk's other rows stay, and the event chain stays whole."""
    remember = repayments_module.idempotency.remember

    def refuse_second(uow, key, *args, **kwargs):  # type: ignore[no-untyped-def]
        if key == "channel:P2":
            raise BadInput("refused at the very end")
        return remember(uow, key, *args, **kwargs)

    monkeypatch.setattr(repayments_module.idempotency, "remember", refuse_second)
    path = tmp_path / "f.csv"
    path.write_text(
        HEADER + "".join(f"P{i},{loans[i % 3]},100,2026-02-12\n" for i in range(1, 4)),
        encoding="utf-8",
    )
    result = post_file(ws, path)
    assert (result.posted, result.refused_by_rule, result.exit_code) == (2, 1, 1)
    assert result.first_problems == ["line 3: refused at the very end"]
    assert repayments_posted(ws) == 2
    assert audit.verify(ws, ws.actor("auditor")).ok


_row = st.one_of(
    st.text(max_size=60),
    st.tuples(
        st.sampled_from(["R1", "R2", "R3", "a:b", "", "R" * 70, "Ｒ1"]),
        st.sampled_from(
            ["1", "2", "3", "4", "9999", "0", "²", "１", "2147483647", "2147483648", "x"]
        ),
        st.sampled_from(["1", "0.01", "5.5", "0", "-1", "1e3", "１", "1.001", "99999999999"]),
        st.sampled_from(["2026-02-12", "2026-02-11", "2099-01-01", "2026-13-01", "", "x"]),
    ).map(",".join),
)


@FUZZ
@given(rows=st.lists(_row, max_size=12))
def test_random_rows_are_each_posted_or_reported_never_half_done(
    ws: Workspace, loans: list[int], tmp_path: Path, rows: list[str]
) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    before = repayments_posted(ws)
    try:
        result = post_file(ws, path)
    except BadInput as exc:  # only a file that is not CSV text at all may be refused whole
        assert "\n" not in exc.message and repayments_posted(ws) == before
        return
    assert repayments_posted(ws) == before + result.posted
    assert result.rows == rows_in(path)  # every row counted: posted, duplicate or reported
    reported = path.with_name("fuzz.csv.errors.csv").read_text(encoding="utf-8").splitlines()
    assert len(reported) == 1 + result.refused
    assert result.exit_code == (
        0 if not result.refused else 1 if result.rows > result.refused else 2
    )

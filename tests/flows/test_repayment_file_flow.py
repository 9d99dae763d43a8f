"""Repayment files through the real command and flow: exit codes, the report file,
channels, the date horizon, one connection at a time at any size, and a crash mid-chunk.

Every test runs on SQLite and (with LENDFLOW_TEST_POSTGRES_URL) on PostgreSQL.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from lendflow.bootstrap import init_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.flows import runtime
from lendflow.flows.loans import post_repayments
from lendflow.loans import applications, audit, disbursement
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store.tables import idempotency_records, journal_entries
from lendflow.workspace.context import Workspace

HEADER = "reference,loan_id,amount,paid_on\n"
PAID_ON = "2026-02-12"
ON = date(2026, 2, 12)


@pytest.fixture
def ws(
    isolated_environment: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """The flows' own workspace (as tasks open it) on the database under test."""
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", database_url)
    init_workspace(Settings(home=isolated_environment, database_url=database_url))
    runtime._workspace.cache_clear()
    workspace = runtime.workspace()
    for path in example_product_paths():
        products.import_product(
            workspace, workspace.actor("admin"), path, activate=True, as_of=date(2026, 1, 5)
        )
    yield workspace
    workspace.close()
    runtime._workspace.cache_clear()


def active_loans(ws: Workspace, count: int) -> list[int]:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    ids = []
    for serial in range(count):
        application = Application.parse(
            product="cash-easy",
            name="张三",
            national_id=sample_national_id(date(1990, 5, 17), 300 + serial),
            phone="13812345678",
            monthly_income="90000",
            amount="10000",
            term=6,
            consents="all",
        )
        loan_id = applications.apply(ws, ops, application, date(2026, 1, 10)).id
        applications.start_review(ws, ops, loan_id, date(2026, 1, 10))
        applications.approve(ws, risk, loan_id, date(2026, 1, 11))
        disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
        ids.append(loan_id)
    return ids


def write(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def repayments_posted(ws: Workspace) -> int:
    with ws.engine.connect() as connection:
        return connection.execute(
            select(func.count())
            .select_from(journal_entries)
            .where(journal_entries.c.idempotency_key.like("repay:channel:%"))
        ).scalar_one()


def report_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))[1:]


def test_exit_codes_summary_and_the_report_file(ws: Workspace, tmp_path: Path, lendflow) -> None:  # type: ignore[no-untyped-def]
    a, b = active_loans(ws, 2)
    good = write(tmp_path / "good.csv", [f"G1,{a},10.00,{PAID_ON}", f"G2,{b},20.50,{PAID_ON}"])
    run = lendflow(f"run post-repayments {good} --on {PAID_ON} --as ops")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[0] == (
        "posted 2, refused 0, duplicates 0, total amount posted 30.50"
    )
    again = lendflow(f"run post-repayments {good} --on {PAID_ON} --as ops --json")
    assert again.exit_code == 0
    assert (again.json()["posted"], again.json()["duplicates"]) == (0, 2)

    mixed = write(
        tmp_path / "mixed.csv",
        [f"M1,{a},1,{PAID_ON}", f"M2,²,1,{PAID_ON}", f"M3,9999,1,{PAID_ON}", f"M4,{b},1,{PAID_ON}"],
    )
    run = lendflow(f"run post-repayments {mixed} --on {PAID_ON} --as ops")
    assert run.exit_code == 1
    assert run.stdout.splitlines()[0] == (
        "posted 2, refused 2, duplicates 0, total amount posted 2.00"
    )
    assert report_rows(tmp_path / "mixed.csv.errors.csv") == [
        ["3", "", "invalid", "loan_id must be a number from 1 to 2147483647, got '²'"],
        ["4", "M3", "refused", "loan 9999 does not exist"],
    ]

    bad = write(tmp_path / "bad.csv", [f"B1,9999,1,{PAID_ON}", f"B2,{a},abc,{PAID_ON}"])
    errors = tmp_path / "bad-report.csv"
    run = lendflow(f"run post-repayments {bad} --on {PAID_ON} --as ops --errors {errors} --json")
    assert run.exit_code == 2
    assert (run.json()["posted"], run.json()["refused"]) == (0, 2)
    assert [row[0] for row in report_rows(errors)] == ["2", "3"]
    assert repayments_posted(ws) == 4


def test_a_file_that_is_not_a_repayment_file_fails_in_one_line(
    ws: Workspace,
    tmp_path: Path,
    lendflow,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"loan,amount\n1,2\n")
    run = lendflow(f"run post-repayments {path} --on {PAID_ON} --as ops")
    assert run.exit_code == 2
    assert "line 1: header must be reference,loan_id,amount,paid_on" in run.error()
    good = write(tmp_path / "good.csv", [f"G1,1,10.00,{PAID_ON}"])
    for errors, message in [
        (good, "the error report would overwrite the repayment file"),
        (tmp_path / "nowhere" / "e.csv", "no such folder for the error report"),
    ]:
        run = lendflow(f"run post-repayments {good} --errors {errors} --on {PAID_ON} --as ops")
        assert run.exit_code == 2 and message in run.error()
    run = lendflow(f"run post-repayments {good} --channel 'A B' --on {PAID_ON} --as ops")
    assert run.exit_code == 2 and "--channel must be 1-32 lowercase letters" in run.error()
    assert repayments_posted(ws) == 0


def test_references_are_namespaced_by_channel(ws: Workspace, tmp_path: Path, lendflow) -> None:  # type: ignore[no-untyped-def]
    (loan,) = active_loans(ws, 1)
    file = write(tmp_path / "day.csv", [f"20260212-0001,{loan},5,{PAID_ON}"])
    for channel in ("channel-a", "channel-b"):
        run = lendflow(f"run post-repayments {file} --channel {channel} --on {PAID_ON} --as ops")
        assert run.exit_code == 0 and run.stdout.startswith("posted 1,"), run.stdout
    again = lendflow(f"run post-repayments {file} --channel channel-a --on {PAID_ON} --as ops")
    assert again.exit_code == 0 and again.stdout.startswith("posted 0, refused 0, duplicates 1")
    both = write(
        tmp_path / "both.csv",
        [
            f"channel-a,20260212-0001,{loan},5,{PAID_ON}",
            f"channel-c,20260212-0001,{loan},5,{PAID_ON}",
        ],
        header="channel," + HEADER,
    )
    run = lendflow(f"run post-repayments {both} --on {PAID_ON} --as ops")
    assert run.exit_code == 0 and run.stdout.startswith("posted 1, refused 0, duplicates 1")
    assert repayments_posted(ws) == 3


def test_a_payment_dated_far_ahead_is_refused_and_blocks_nothing(
    ws: Workspace, tmp_path: Path
) -> None:
    (loan,) = active_loans(ws, 1)
    rows = [f"F1,{loan},1,2099-01-01"] + [f"L{i},{loan},1,{PAID_ON}" for i in range(50)]
    result = post_repayments(write(tmp_path / "f.csv", rows), "ops", ON, chunk_size=20)
    assert (result["posted"], result["refused"], result["exit_code"]) == (50, 1, 1)
    assert result["first_problems"] == [
        "line 2: paid_on 2099-01-01 is after the file's business date 2026-02-12"
    ]


def test_a_row_for_a_closed_day_is_booked_as_if_the_money_had_come_that_day(
    ws: Workspace, tmp_path: Path
) -> None:
    """A bank's file for 02-12 arriving after 02-20 was closed: the row takes the
    backdated path, and the loan ends as one paid on 02-12 before its days were closed."""
    from lendflow.close_of_business import sweep
    from lendflow.config.cob import load_cob_config
    from lendflow.loans import repayments
    from lendflow.store.tables import events, loans

    config = load_cob_config()
    on_time, late_file = active_loans(ws, 2)
    sweep.close_range(ws, 1, 10_000, date(2026, 1, 12), ON - timedelta(days=1), "cob", config)
    repayments.repay(ws, ws.actor("ops"), on_time, 150_000, ON, "teller-0212")
    sweep.close_range(ws, 1, 10_000, ON, date(2026, 3, 20), "cob", config)

    late = write(tmp_path / "late.csv", [f"B0212-1,{late_file},1500.00,{PAID_ON}"])
    result = post_repayments(late, "ops", date(2026, 3, 21), channel="bank")
    assert (result["posted"], result["refused"], result["exit_code"]) == (1, 0, 0)
    again = post_repayments(late, "ops", date(2026, 3, 21), channel="bank")
    assert (again["posted"], again["duplicates"], again["exit_code"]) == (0, 1, 0)

    columns = ("state", "dpd", "classification", "principal_outstanding", "penalty_receivable")
    with ws.engine.connect() as connection:
        rows = connection.execute(
            select(loans).where(loans.c.id.in_((on_time, late_file))).order_by(loans.c.id)
        ).mappings()
        paid, backdated = ({c: r[c] for c in columns} for r in rows)
        names = connection.execute(
            select(events.c.name).where(events.c.entity_id == str(late_file))
        ).scalars()
        assert {"LoanReprocessed", "RepaymentBackdated"} <= set(names)
    assert backdated == paid
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_an_unexpected_failure_rolls_back_its_chunk_only(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lendflow.loans import repayment_files

    (loan,) = active_loans(ws, 1)
    real = repayment_files.repay_value_dated

    def breaks_on_seven(ws, actor, loan_id, amount, paid_on, key):  # type: ignore[no-untyped-def]
        if key.endswith(":P7"):
            raise RuntimeError("disk on fire")
        return real(ws, actor, loan_id, amount, paid_on, key)

    monkeypatch.setattr(repayment_files, "repay_value_dated", breaks_on_seven)
    rows = [f"P{i},{loan},1,{PAID_ON}" for i in range(10)]
    result = post_repayments(write(tmp_path / "u.csv", rows), "ops", ON, chunk_size=5)
    assert (result["posted"], result["failed"], result["exit_code"]) == (5, 5, 1)
    assert repayments_posted(ws) == 5
    reasons = report_rows(tmp_path / "u.csv.errors.csv")
    assert [r[0] for r in reasons] == ["7", "8", "9", "10", "11"]
    assert reasons[0][3] == (
        "not posted: lines 7-11 were rolled back after line 9: RuntimeError: disk on fire"
    )


@pytest.mark.slow
def test_a_big_file_uses_one_connection_at_a_time(
    ws: Workspace, tmp_path: Path, database_url: str
) -> None:
    """Chunks once ran all at once, one connection each, and exhausted the pool: 17
    tracebacks at 100,000 rows. 20,000 rows on SQLite (about 20 s); PostgreSQL, slower
    per statement, gets 4,000 rows in as many chunks of 100, what exhausted its pool."""
    size, chunk_size = (20_000, 500) if database_url.startswith("sqlite") else (4_000, 100)
    loans = active_loans(ws, 40)
    file = write(
        tmp_path / "big.csv", [f"R{i},{loans[i % 40]},0.01,{PAID_ON}" for i in range(size)]
    )
    out = {"now": 0, "most": 0}

    def checkout(*_: object) -> None:
        out["now"] += 1
        out["most"] = max(out["most"], out["now"])

    def checkin(*_: object) -> None:
        out["now"] -= 1

    event.listen(ws.engine.pool, "checkout", checkout)
    event.listen(ws.engine.pool, "checkin", checkin)
    result = post_repayments(file, "ops", ON, chunk_size=chunk_size)
    assert (result["posted"], result["refused"]) == (size, 0)
    assert result["amount_posted"] == f"{size // 100}.00"
    assert out["most"] == 1
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_a_crash_inside_a_chunk_then_a_rerun_posts_every_row_exactly_once(
    ws: Workspace, tmp_path: Path, isolated_environment: Path
) -> None:
    from prefect.settings import PREFECT_API_URL

    loans = active_loans(ws, 5)
    file = write(tmp_path / "c.csv", [f"C{i},{loans[i % 5]},1,{PAID_ON}" for i in range(250)])
    env = {
        **os.environ,
        "LENDFLOW_FAULT": "repayment_file.inside_chunk@150",
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    command = [sys.executable, "-c", "from lendflow.cli import main; main()"]
    arguments = ["run", "post-repayments", str(file), "--on", PAID_ON, "--as", "ops"]
    killed = subprocess.run(
        [*command, *arguments, "--chunk-size", "100"], env=env, capture_output=True, timeout=300
    )
    assert killed.returncode == 137, killed.stderr.decode()[-2000:]
    assert repayments_posted(ws) == 100  # the first chunk committed, the second died whole
    result = post_repayments(file, "ops", ON, chunk_size=100)
    assert (result["posted"], result["duplicates"], result["refused"]) == (150, 100, 0)
    assert repayments_posted(ws) == 250
    with ws.engine.connect() as connection:
        keys = connection.execute(
            select(func.count()).select_from(idempotency_records)
        ).scalar_one()
    assert keys == 250
    assert audit.verify(ws, ws.actor("auditor")).ok

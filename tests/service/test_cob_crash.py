"""Close of business killed inside a chunk (kill -9, no cleanup) and run again ends
exactly as a run that was never interrupted: the chunk's transaction never committed,
and the watermark makes the rerun pick up where the book really stands."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from typing import Any

from sqlalchemy import func, select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.loans import applications, disbursement, repayments
from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import events, journal_lines, loans
from lendflow.workspace.faults import KILLED_EXIT_CODE

CONFIG = load_cob_config()
FIRST, LAST = date(2026, 1, 12), date(2026, 3, 31)

CLOSE = """
import sys
from datetime import date
from lendflow.bootstrap import open_workspace
from lendflow.close_of_business.sweep import close_range
from lendflow.config.cob import load_cob_config

lo, hi, first, last = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
close_range(open_workspace(), lo, hi, date.fromisoformat(first), date.fromisoformat(last),
            "cob", load_cob_config())
"""


def _loan(ws, ops, risk, applicant) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(ws, ops, applicant(amount="10000", term=3), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, date(2026, 1, 12))
    return loan.id


def _close_in_subprocess(ws, lo: int, hi: int, fault: str | None) -> int:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "LENDFLOW_HOME": str(ws.settings.home),
        "LENDFLOW_DATABASE_URL": ws.settings.resolved_database_url,
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    env.pop("LENDFLOW_FAULT", None)
    if fault:
        env["LENDFLOW_FAULT"] = fault
    done = subprocess.run(
        [sys.executable, "-c", CLOSE, str(lo), str(hi), FIRST.isoformat(), LAST.isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return done.returncode


def _loan_book(ws, loan_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        row = dict(c.execute(select(loans).where(loans.c.id == loan_id)).mappings().one())
        lines = dict(
            c.execute(
                select(journal_lines.c.account, func.sum(journal_lines.c.debit))
                .where(journal_lines.c.loan_id == loan_id)
                .group_by(journal_lines.c.account)
            ).all()
        )
        names = list(
            c.execute(
                select(events.c.name, events.c.business_date)
                .where(events.c.entity_id == str(loan_id), events.c.entity == "loan")
                .order_by(events.c.id)
            ).all()
        )
    for volatile in ("id", "version", "updated_at", "created_at", "customer_id"):
        row.pop(volatile, None)
    return {"row": row, "lines": lines, "events": names}


def test_cob_killed_inside_a_chunk_then_rerun_equals_an_uninterrupted_run(
    ws, ops, risk, applicant
) -> None:  # type: ignore[no-untyped-def]
    crashed = [_loan(ws, ops, risk, applicant) for _ in range(2)]
    clean = [_loan(ws, ops, risk, applicant) for _ in range(2)]
    # one pays on time, the other never does
    for paying in (crashed[0], clean[0]):
        repayments.repay(ws, ops, paying, 100_000, date(2026, 1, 12))
    assert _close_in_subprocess(ws, crashed[0], crashed[1], "cob.inside_chunk@40") == (
        KILLED_EXIT_CODE
    )
    with ws.engine.connect() as c:
        through = c.execute(select(CLOSED_THROUGH).where(loans.c.id == crashed[1])).scalar()
    assert FIRST <= through < LAST  # killed part-way: some days committed, the rest not
    assert _close_in_subprocess(ws, crashed[0], crashed[1], None) == 0
    cob.close_range(ws, clean[0], clean[1], FIRST, LAST, "cob", CONFIG)
    for killed, uninterrupted in zip(crashed, clean, strict=True):
        assert _loan_book(ws, killed) == _loan_book(ws, uninterrupted)


PAY_OUT = """
import sys
from datetime import date
from lendflow.bootstrap import open_workspace
from lendflow.loans.disbursement import disburse

ws = open_workspace()
disburse(ws, ws.actor("ops"), int(sys.argv[1]), date.fromisoformat(sys.argv[2]))
"""


def test_a_payout_killed_after_the_gateway_is_booked_on_its_date_when_resumed(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """Killed between the gateway's payment and the commit on 01-12, resumed on 01-14:
    paid once, and booked (schedule, journal, payout day) on 01-12 as asked."""
    loan = applications.apply(ws, ops, applicant(amount="10000", term=3), date(2026, 1, 10))
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    env = {
        **os.environ,
        "LENDFLOW_HOME": str(ws.settings.home),
        "LENDFLOW_DATABASE_URL": ws.settings.resolved_database_url,
        "LENDFLOW_FAULT": "disbursement.after_gateway",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    killed = subprocess.run(
        [sys.executable, "-c", PAY_OUT, str(loan.id), "2026-01-12"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == KILLED_EXIT_CODE, killed.stderr
    resumed = disbursement.disburse(ws, ops, loan.id, date(2026, 1, 14))
    assert (resumed.status, resumed.disbursed_on) == ("active", date(2026, 1, 12))
    with ws.engine.connect() as c:
        row = c.execute(select(loans).where(loans.c.id == loan.id)).mappings().one()
        cash_out = c.execute(
            select(func.sum(journal_lines.c.credit)).where(
                journal_lines.c.loan_id == loan.id, journal_lines.c.account == "cash"
            )
        ).scalar_one()
    assert row["cob_through"] == date(2026, 1, 11) and row["maturity_on"] == date(2026, 4, 12)
    assert cash_out == 1_000_000  # paid once

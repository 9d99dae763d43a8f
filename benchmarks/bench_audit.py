"""`audit verify` over a book built through the engine (N loans, default 10,000).

Every loan is applied for, reviewed, approved and paid out through the service layer
(without rendering contracts, which only the document check reads), half of them repay
their first instalment on its due date, and close of business closes every day to
2026-02-20 (the other half falls overdue and accrues penalty), so the audit has events,
journal entries, instalments with `paid_on` and days past due to recompute. Then `audit verify` runs
once, timed; it must find nothing.

`python -m benchmarks.bench_audit [N] [--with-contracts]` (contracts rendered at payout,
so the audit also opens and hashes every document).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.workspace.context import NoContracts

LOANS = 10_000
BUDGET_SECONDS = 60.0
APPLIED, PAID_OUT, DUE = date(2026, 1, 10), date(2026, 1, 12), date(2026, 2, 12)
CLOSED = date(2026, 2, 20)  # the half that did not pay is overdue, with penalty


def _person(i: int) -> Application:
    return Application.parse(
        product="cash-easy",
        name=f"客户{i}",
        national_id=sample_national_id(date(1980 + i % 20, 1 + i % 12, 1 + i % 28), i % 1000),
        phone=f"139{i:08d}",
        monthly_income="9000",
        amount="6000",
        term=6,
        consents="all",
    )


def run(loans: int = LOANS, *, with_contracts: bool = False) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(home=Path(folder), decisioning="manual")
        init_workspace(settings)
        ws = open_workspace(settings)
        if not with_contracts:
            ws.contracts = NoContracts()
        admin, ops, risk = ws.actor("admin"), ws.actor("ops"), ws.actor("risk")
        products.import_product(ws, admin, example_product_paths()[0], activate=True, as_of=APPLIED)
        began = time.perf_counter()
        ids = [applications.apply(ws, ops, _person(i), APPLIED).id for i in range(loans)]
        for loan_id in ids:
            applications.start_review(ws, ops, loan_id, APPLIED)
            applications.approve(ws, risk, loan_id, APPLIED)
            disbursement.disburse(ws, ops, loan_id, PAID_OUT)
        config = load_cob_config()
        cob.close_range(ws, 1, loans + 10, PAID_OUT, date(2026, 2, 11), "cob", config)
        for loan_id in ids[::2]:
            repayments.repay(ws, ops, loan_id, 110_000, DUE)
        cob.close_range(ws, 1, loans + 10, DUE, CLOSED, "cob", config)
        built = time.perf_counter() - began
        began = time.perf_counter()
        report = audit.verify(ws, ws.actor("auditor"))
        seconds = time.perf_counter() - began
        ws.close()
    contracts = "with contracts" if with_contracts else "without contracts"
    print(f"audit book of {loans:,} loans ({contracts}) built in {built:,.1f} s")
    print(
        f"audit verify over {report.loans_checked:,} loans, {report.entries_checked:,} journal"
        f" entries, {report.events_checked:,} events, {report.documents_checked:,} documents:"
        f" {seconds:,.2f} s,"
        f" {len(report.problems)} problems"
    )
    ok = report.ok and seconds <= BUDGET_SECONDS
    print(
        f"audit verify budget {BUDGET_SECONDS:.0f} s: {'OK' if ok else 'OVER BUDGET OR PROBLEMS'}"
    )
    if report.problems:
        print("\n".join(report.problems[:10]))
    return ok


if __name__ == "__main__":
    sizes = [a for a in sys.argv[1:] if a != "--with-contracts"]
    sys.exit(
        0
        if run(int(sizes[0]) if sizes else LOANS, with_contracts="--with-contracts" in sys.argv)
        else 1
    )

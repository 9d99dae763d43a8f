"""Single loan actions through the service layer on SQLite (budget ≥ 1,000 per second).

Each action is one use case in its own transaction, exactly as an operator's
command runs it: apply, start review, approve, disburse, repay.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date
from pathlib import Path

from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.services import applications, disbursement, products, repayments
from lendflow.services.applications import Application
from lendflow.services.context import open_workspace
from lendflow.services.workspace import init_workspace

BUDGET = 1_000
LOANS = 400


def run() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(home=Path(folder), decisioning="manual")  # people decide here
        init_workspace(settings)
        ws = open_workspace(settings)
        admin, ops, risk = ws.actor("admin"), ws.actor("ops"), ws.actor("risk")
        products.import_product(
            ws, admin, example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
        )
        people = [
            Application.parse(
                product="cash-easy",
                name=f"客户{i}",
                national_id=sample_national_id(
                    date(1980 + i % 20, 1 + i % 12, 1 + i % 28), i % 1000
                ),
                phone=f"139{i:08d}",
                monthly_income="9000",
                amount="6000",
                term=6,
            )
            for i in range(LOANS)
        ]
        timings: dict[str, float] = {}

        def timed(name: str, action) -> list:  # type: ignore[no-untyped-def]
            began = time.perf_counter()
            out = [action(x) for x in ids_or_people[name]]
            timings[name] = time.perf_counter() - began
            return out

        ids_or_people = {"apply": people}
        ids = [
            v["id"]
            for v in timed("apply", lambda p: applications.apply(ws, ops, p, date(2026, 1, 10)))
        ]
        for name in ("review", "approve", "disburse", "repay"):
            ids_or_people[name] = ids
        timed("review", lambda i: applications.start_review(ws, ops, i, date(2026, 1, 10)))
        timed("approve", lambda i: applications.approve(ws, risk, i, date(2026, 1, 11)))
        timed("disburse", lambda i: disbursement.disburse(ws, ops, i, date(2026, 1, 12)))
        timed("repay", lambda i: repayments.repay(ws, ops, i, 100_000, date(2026, 2, 12), f"b-{i}"))
        ws.close()
    total = sum(timings.values())
    rate = 5 * LOANS / total
    detail = ", ".join(f"{k} {LOANS / v:,.0f}/s" for k, v in timings.items())
    verdict = "OK" if rate >= BUDGET else "BELOW BUDGET"
    print(
        f"loan actions on SQLite: {rate:,.0f}/s overall ({detail}); budget {BUDGET:,}/s: {verdict}"
    )
    return rate >= BUDGET

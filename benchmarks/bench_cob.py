"""Close of business over a synthetic book (budget ≥ 100,000 loans/s, peak memory ≤ 1 GB).

The book is generated in bulk with SQL: N active loans of six monthly
instalments, disbursed over the previous half year, each accruing a running period
(daily accrual: `accrue_interest` sums every loan's day); instalments already due
are paid, except for one loan in twenty that is behind. The day before is
closed first (not timed) so that those loans are already overdue; the timed
sweep then closes one ordinary business date for the whole book — about a
thirtieth of the loans have an instalment falling due, one in twenty accrue
penalty and age a day — chunk by chunk through the service layer (the same
code each Prefect task runs), in a fresh process so its peak memory is its own.

`python -m benchmarks.bench_cob` runs this benchmark alone (`... 1000000` one size);
it prints the seconds each step took, the day's close (the watermark and the loan
rows) and the commits.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.products import catalogue as products
from lendflow.store.personal_data import customer_row

BUDGET = 100_000
MEMORY_BUDGET_MB = 1024
AS_OF = date(2026, 7, 1)
SIZES = (100_000, 1_000_000)

GENERATE = """
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :count)
INSERT INTO loans (id, customer_id, product_code, product_version_id, state, purpose,
    requested_amount, approved_amount, principal, term, annual_rate, apr, method, applied_on,
    disbursed_on, principal_outstanding, interest_receivable, fee_receivable, penalty_receivable,
    credit_balance, written_off_amount, principal_days, dpd, bucket, classification,
    cob_through, version, created_at, updated_at, accrual_start, accrual_days, accrual_interest,
    accrual_waived, interest_accrued)
SELECT n, 1, 'cash-easy', 1, 'active', 'consumption', 600000, 600000, 600000, 6, '15.60',
    '18.00/16.60', 'annuity', date(:as_of, '-' || (n % 180 + 1) || ' days'),
    date(:as_of, '-' || (n % 180 + 1) || ' days'),
    600000 - 100000 * ((n % 180 + 1) / 31), 0, 0, 0, 0, 0, 600000 * (n % 180), 0, 'M0',
    'normal', date(:as_of, '-2 days'), 1, '2026-01-01', '2026-01-01',
    CAST(julianday(:as_of) - 1721424.5 AS INTEGER) - (n % 180 + 1) % 30, 30, 7800, 0, 0
FROM seq
"""
INSTALMENTS = """
INSERT INTO instalments (loan_id, n, due_date, principal, interest, fee, penalty, principal_paid,
    interest_paid, fee_paid, penalty_paid, interest_waived, fee_waived, recognised, paid_on)
SELECT l.id, k.k, date(l.disbursed_on, '+' || k.k || ' months'), 100000, 7800, 600, 0,
    CASE WHEN date(l.disbursed_on, '+' || k.k || ' months') < :as_of AND l.id % 20 != 0
         THEN 100000 ELSE 0 END,
    CASE WHEN date(l.disbursed_on, '+' || k.k || ' months') < :as_of AND l.id % 20 != 0
         THEN 7800 ELSE 0 END,
    CASE WHEN date(l.disbursed_on, '+' || k.k || ' months') < :as_of AND l.id % 20 != 0
         THEN 600 ELSE 0 END,
    0, 0, 0,
    CASE WHEN date(l.disbursed_on, '+' || k.k || ' months') < :as_of THEN 1 ELSE 0 END,
    CASE WHEN date(l.disbursed_on, '+' || k.k || ' months') < :as_of AND l.id % 20 != 0
         THEN date(l.disbursed_on, '+' || k.k || ' months') END
FROM loans l, (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4
    UNION ALL SELECT 5 UNION ALL SELECT 6) k
"""


def generate(home: Path, count: int) -> float:
    settings = Settings(home=home)
    init_workspace(settings)
    ws = open_workspace(settings)
    products.import_product(
        ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2025, 12, 1)
    )
    began = time.perf_counter()
    cipher = ws.cipher  # one real borrower: the notices close of business renders name them
    bound = customer_row("bench")  # sealed for the row below, whose look-up hash is 'bench'
    borrower = {
        "name": cipher.encrypt("测试客户", "name", bound),
        "national_id": cipher.encrypt("110105199005170016", "national_id", bound),
        "phone": cipher.encrypt("13800000000", "phone", bound),
    }
    with ws.engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO customers (id, name_enc, national_id_enc, phone_enc, id_hash,"
                " phone_hash, monthly_income, created_at) VALUES (1, :name, :national_id,"
                " :phone, 'bench', 'bench', 0, '2026-01-01')"
            ),
            borrower,
        )
        c.execute(text(GENERATE), {"count": count, "as_of": AS_OF.isoformat()})
        c.execute(text(INSTALMENTS), {"as_of": AS_OF.isoformat()})
    ws.close()
    return time.perf_counter() - began


def _clock_steps() -> dict[str, float]:
    """Add up the seconds of each step, of the day's close and of each whole transaction."""
    from lendflow.close_of_business import day as cob_day
    from lendflow.close_of_business import steps as cob_steps
    from lendflow.close_of_business import sweep as cob

    seconds: dict[str, float] = {}

    def clocked(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return work(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - began

        return run

    for name, step in list(cob_steps.STEPS.items()):
        cob_steps.STEPS[name] = clocked(name, step)
    cob_day.Day.close = clocked("watermark and loan rows", cob_day.Day.close)  # type: ignore[method-assign]
    cob_day.Day.finish = clocked("notices kept", cob_day.Day.finish)  # type: ignore[method-assign]
    cob.events.append_many = clocked("events", cob.events.append_many)
    cob._close_day = clocked("in transaction", cob._close_day)
    return seconds


_PROCESSES = (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)


def close_book(home: str) -> None:
    """Run in a child process: close AS_OF for the whole book, print figures as JSON."""
    from lendflow.close_of_business.results import SweepCounts
    from lendflow.close_of_business.sweep import close_range, id_ranges
    from lendflow.config.cob import load_cob_config
    from lendflow.documents.notice_pool import POOL

    ws = open_workspace(Settings(home=Path(home)))
    config = load_cob_config()
    ranges = id_ranges(ws, config.chunk_size)
    # Close the day before first (not measured): the loans that are behind become
    # overdue, so the measured day is an ordinary one, not the book's first.
    for lo, hi in ranges:
        close_range(
            ws, lo, hi, AS_OF - timedelta(days=1), AS_OF - timedelta(days=1), "bench", config
        )
    steps = _clock_steps()
    began = time.perf_counter()
    totals = SweepCounts()
    for lo, hi in ranges:
        totals += close_range(ws, lo, hi, AS_OF, AS_OF, "bench", config)
    seconds = time.perf_counter() - began
    POOL.forget(wait=True)  # the notice workers end, so their peak memory is counted
    # the sweep's process and the largest worker that rendered its notices beside it
    peak_mb = sum(resource.getrusage(who).ru_maxrss for who in _PROCESSES) / 1024
    steps["commit and the rest"] = seconds - steps.pop("in transaction", 0.0)
    figures = {"seconds": seconds, "peak_mb": peak_mb, "steps": steps, **totals.model_dump()}
    print(json.dumps(figures))


def run(sizes: tuple[int, ...] = SIZES) -> bool:
    ok = True
    for count in sizes:
        with tempfile.TemporaryDirectory() as folder:
            built = generate(Path(folder), count)
            child = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_cob", "--close-book", folder],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(child.stdout.strip().splitlines()[-1])
        rate = figures["loans_scanned"] / figures["seconds"]
        fits = rate >= BUDGET and figures["peak_mb"] <= MEMORY_BUDGET_MB
        ok &= fits
        print(
            f"close of business, {count:,} active loans: {rate:,.0f} loans/s"
            f" ({figures['seconds']:.2f} s, {figures.get('became_overdue', 0):,} fell overdue,"
            f" {figures.get('instalments_fell_due', 0):,} instalments fell due), peak memory"
            f" {figures['peak_mb']:.0f} MB (book generated in {built:.1f} s);"
            f" budget {BUDGET:,}/s and {MEMORY_BUDGET_MB} MB: {'OK' if fits else 'MISSED'}"
        )
        print(
            "  seconds per step: "
            + ", ".join(f"{name} {value:.2f}" for name, value in figures["steps"].items())
        )
    return ok


def main(argv: list[str]) -> int:
    """`python -m benchmarks.bench_cob [SIZE ...]`: this benchmark alone (default both sizes)."""
    if argv[:1] == ["--close-book"]:
        close_book(argv[1])
        return 0
    sizes = tuple(int(size.replace("_", "").replace(",", "")) for size in argv) or SIZES
    return 0 if run(sizes) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

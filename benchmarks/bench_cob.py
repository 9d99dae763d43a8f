"""Close of business over a synthetic book, on SQLite and on PostgreSQL.

Budgets: 150,000 loans/s at 1,000,000 loans on SQLite with every notice rendered (the
accrual issue's), 250,000 without rendering and 100,000 on PostgreSQL (the speed
issue's), peak memory under 500 MB (the sweep's process and its notice workers).

The book is generated in bulk with SQL: N active loans of six monthly
instalments, disbursed over the previous half year, each accruing a running period
(daily accrual: `accrue_interest` sums every loan's day); instalments already due
are paid, except for one loan in twenty that is behind. The day before is
closed first (not timed) so that those loans are already overdue; the timed
sweep then closes one ordinary business date for the whole book — about a
thirtieth of the loans have an instalment falling due, one in twenty accrue
penalty and age a day — chunk by chunk through the service layer (the same
code each Prefect task runs), in a fresh process so its peak memory is its own.

Each figure is printed beside the floor it is measured against: one set-based
statement per chunk that writes every live loan's row once and commits as the sweep
commits (what any nightly pass that touches each loan must at least cost), on the same
book and machine.

On PostgreSQL the night is also closed as the flow runs it on Prefect's threads, with
`cob.yaml`'s `parallel_chunks` chunks in flight (on a second book generated alike): on
SQLite chunks would only queue for the one write lock.

`python -m benchmarks.bench_cob` runs this benchmark alone (`... 1000000` one size;
`--database-url URL` on that database, PostgreSQL in a fresh schema dropped after);
`make bench` runs it on SQLite, and on PostgreSQL when `LENDFLOW_TEST_POSTGRES_URL`
is set. It prints the seconds each step took, the day's close (the watermark and the
loan rows), the notices kept and the commits. Speed alone never fails `make bench`.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.products import catalogue as products
from lendflow.store.personal_data import customer_row

BUDGET = 150_000  # SQLite, notices rendered (the accrual issue)
QUIET_BUDGET = 250_000  # SQLite, notices not rendered (the speed issue)
POSTGRES_BUDGET = 100_000
MEMORY_BUDGET_MB = 500
AS_OF = date(2026, 7, 1)
SIZES = (100_000, 1_000_000)
POSTGRES_ENV = "LENDFLOW_TEST_POSTGRES_URL"

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


# The same book on PostgreSQL: generate_series and date arithmetic (a month added to
# the 31st ends on the month's last day there, where SQLite rolls over; the figures
# are a night's, not a schedule's).
GENERATE_POSTGRES = """
INSERT INTO loans (id, customer_id, product_code, product_version_id, state, purpose,
    requested_amount, approved_amount, principal, term, annual_rate, apr, method, applied_on,
    disbursed_on, principal_outstanding, interest_receivable, fee_receivable, penalty_receivable,
    credit_balance, written_off_amount, principal_days, dpd, bucket, classification,
    cob_through, version, created_at, updated_at, accrual_start, accrual_days, accrual_interest,
    accrual_waived, interest_accrued)
SELECT n, 1, 'cash-easy', 1, 'active', 'consumption', 600000, 600000, 600000, 6, '15.60',
    '18.00/16.60', 'annuity', CAST(:as_of AS date) - (n % 180 + 1),
    CAST(:as_of AS date) - (n % 180 + 1),
    600000 - 100000 * ((n % 180 + 1) / 31), 0, 0, 0, 0, 0, 600000 * (n % 180), 0, 'M0',
    'normal', CAST(:as_of AS date) - 2, 1, TIMESTAMPTZ '2026-01-01', TIMESTAMPTZ '2026-01-01',
    (CAST(:as_of AS date) - DATE '0001-01-01' + 1) - (n % 180 + 1) % 30, 30, 7800, 0, 0
FROM generate_series(1, :count) AS n
"""
INSTALMENTS_POSTGRES = """
INSERT INTO instalments (loan_id, n, due_date, principal, interest, fee, penalty, principal_paid,
    interest_paid, fee_paid, penalty_paid, interest_waived, fee_waived, recognised, paid_on)
SELECT l.id, k, d.due, 100000, 7800, 600, 0,
    CASE WHEN d.due < CAST(:as_of AS date) AND l.id % 20 != 0 THEN 100000 ELSE 0 END,
    CASE WHEN d.due < CAST(:as_of AS date) AND l.id % 20 != 0 THEN 7800 ELSE 0 END,
    CASE WHEN d.due < CAST(:as_of AS date) AND l.id % 20 != 0 THEN 600 ELSE 0 END,
    0, 0, 0, d.due < CAST(:as_of AS date),
    CASE WHEN d.due < CAST(:as_of AS date) AND l.id % 20 != 0 THEN d.due END
FROM loans l CROSS JOIN generate_series(1, 6) AS k
CROSS JOIN LATERAL (SELECT CAST(l.disbursed_on + make_interval(months => k) AS date) AS due) d
"""
# The floor: one statement per chunk writing each live loan's row once, then the commit.
FLOOR = """
UPDATE loans SET version = version + 1
WHERE id BETWEEN :lo AND :hi AND state IN ('active', 'overdue')
"""
# ... on SQLite walking the range in the table itself, as the sweep does (`+state`: no index)
FLOOR_SQLITE = FLOOR.replace("AND state IN", "AND +state IN")


def generate(home: Path, count: int, database_url: str | None = None) -> float:
    """The book in the workspace at `home` (on `database_url`, else its SQLite file)."""
    settings = Settings(home=home, database_url=database_url)
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
        postgres = c.dialect.name == "postgresql"
        loans, instalments = (
            (GENERATE_POSTGRES, INSTALMENTS_POSTGRES) if postgres else (GENERATE, INSTALMENTS)
        )
        c.execute(text(loans), {"count": count, "as_of": AS_OF.isoformat()})
        c.execute(text(instalments), {"as_of": AS_OF.isoformat()})
    if postgres:
        with ws.engine.connect() as c:
            autocommit = c.execution_options(isolation_level="AUTOCOMMIT")
            autocommit.execute(text("VACUUM ANALYZE"))
            autocommit.execute(text("CHECKPOINT"))  # the load's pages written before any night
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


def _workspace(home: str, database_url: str) -> Any:
    return open_workspace(Settings(home=Path(home), database_url=database_url or None))


def close_day_before(home: str, database_url: str) -> None:
    """Run in a child process: close the day before AS_OF for the whole book (not timed),
    so the loans that are behind are overdue and the timed day is an ordinary one."""
    from lendflow.close_of_business.sweep import close_range, id_ranges
    from lendflow.config.cob import load_cob_config
    from lendflow.store import checkpoints

    ws = _workspace(home, database_url)
    config = load_cob_config()
    before = AS_OF - timedelta(days=1)
    for lo, hi in id_ranges(ws, config.chunk_size):
        close_range(ws, lo, hi, before, before, "bench", config)
    # as a run ends (`finish_run`): the night's log copied back into the database file, so
    # the timed night does not pay for the day before's checkpoints
    checkpoints.settle(ws.engine)
    ws.close()


def close_book(home: str, database_url: str, render: bool, at_once: int = 1) -> None:
    """Run in a child process: close AS_OF for the whole book, print figures as JSON.

    `at_once` chunks are kept in flight on threads, as the flow keeps `parallel_chunks` on
    Prefect's threads; the steps' seconds are then left out (they overlap)."""
    from concurrent.futures import ThreadPoolExecutor

    from lendflow.close_of_business.results import SweepCounts
    from lendflow.close_of_business.sweep import close_range, id_ranges
    from lendflow.config.cob import load_cob_config
    from lendflow.documents.notice_pool import POOL
    from lendflow.store import checkpoints

    ws = _workspace(home, database_url)
    config = load_cob_config().model_copy(update={"render_notices": render})
    ranges = id_ranges(ws, config.chunk_size)
    steps = _clock_steps()
    began = time.perf_counter()
    totals = SweepCounts()
    with ThreadPoolExecutor(max_workers=at_once) as threads:
        closing = [
            threads.submit(close_range, ws, lo, hi, AS_OF, AS_OF, "bench", config)
            for lo, hi in ranges
        ]
        for chunk in closing:
            totals += chunk.result()
    checkpoints.settle(ws.engine)  # the night ends with its pages in the database file
    seconds = time.perf_counter() - began
    POOL.forget(wait=True)  # the notice workers end, so their peak memory is counted
    # the sweep's process and the largest worker that rendered its notices beside it
    peak_mb = sum(resource.getrusage(who).ru_maxrss for who in _PROCESSES) / 1024
    steps["commit and the rest"] = seconds - steps.pop("in transaction", 0.0)
    if at_once > 1:
        steps = {}  # added up over threads that overlap, they would not add up to the night
    figures = {"seconds": seconds, "peak_mb": peak_mb, "steps": steps, **totals.model_dump()}
    print(json.dumps(figures))


def floor(home: str, database_url: str) -> None:
    """Run in a child process: the floor's seconds for the whole book, as JSON."""
    from lendflow.close_of_business.sweep import id_ranges
    from lendflow.config.cob import load_cob_config
    from lendflow.store import checkpoints
    from lendflow.store.uow import UnitOfWork, run_in_transaction

    ws = _workspace(home, database_url)
    ranges = id_ranges(ws, load_cob_config().chunk_size)
    statement = text(FLOOR if ws.engine.dialect.name == "postgresql" else FLOOR_SQLITE)

    def write(uow: UnitOfWork, lo: int, hi: int) -> None:
        checkpoints.defer(uow)  # committed as the sweep commits its chunks
        uow.connection.execute(statement, {"lo": lo, "hi": hi})

    began = time.perf_counter()
    for lo, hi in ranges:
        run_in_transaction(ws.engine, lambda uow, lo=lo, hi=hi: write(uow, lo, hi))
        checkpoints.request(ws.engine)
    checkpoints.settle(ws.engine)
    print(json.dumps({"seconds": time.perf_counter() - began}))
    ws.close()


def _child(*args: str) -> dict[str, Any]:
    """Run one step of the benchmark in a fresh process; its JSON, if it prints any."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_cob", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


def _timed(step: str, home: str, database_url: str, *rest: str) -> dict[str, Any]:
    """A timed step, once what came before it is on disk: the benchmark's own writes (the
    book generated and copied, some gigabytes on a million loans) and, on PostgreSQL, the
    pages the night before left dirty in the server's buffers (`CHECKPOINT`). The night
    would otherwise pay for flushing them, which no real night does: a day passes between
    two nights, and PostgreSQL checkpoints at least every five minutes."""
    if database_url:
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.execute(text("CHECKPOINT"))
        engine.dispose()
    os.sync()
    return _child(step, home, database_url, *rest)


def _report(label: str, count: int, figures: dict[str, Any], budget: int, floor_s: float) -> bool:
    rate = figures["loans_scanned"] / figures["seconds"]
    fits = rate >= budget and figures["peak_mb"] <= MEMORY_BUDGET_MB
    print(
        f"close of business, {count:,} active loans, {label}: {rate:,.0f} loans/s"
        f" ({figures['seconds']:.2f} s, {figures.get('became_overdue', 0):,} fell overdue,"
        f" {figures.get('instalments_fell_due', 0):,} instalments fell due,"
        f" {figures.get('notices', 0):,} notices), peak memory {figures['peak_mb']:.0f} MB;"
        f" budget {budget:,}/s and {MEMORY_BUDGET_MB} MB: {'OK' if fits else 'MISSED'};"
        f" floor {figures['loans_scanned'] / floor_s:,.0f} loans/s ({floor_s:.2f} s)"
    )
    if figures["steps"]:
        print(
            "  seconds per step: "
            + ", ".join(f"{name} {value:.2f}" for name, value in figures["steps"].items())
        )
    return fits


def _sqlite(count: int) -> bool:
    with tempfile.TemporaryDirectory() as folder:
        rendered, quiet = Path(folder) / "rendered", Path(folder) / "quiet"
        built = generate(rendered, count)
        _child("--day-before", str(rendered), "")
        shutil.copytree(rendered, quiet)
        figures = _timed("--close-book", str(rendered), "", "render")
        plain = _timed("--close-book", str(quiet), "", "")
        floor_s = _timed("--floor", str(quiet), "")["seconds"]
    print(f"SQLite book of {count:,} loans generated in {built:.1f} s")
    ok = _report("notices rendered", count, figures, BUDGET, floor_s)
    return _report("notices not rendered", count, plain, QUIET_BUDGET, floor_s) and ok


def _postgres(count: int, base_url: str) -> bool:
    from benchmarks.bench_api import postgres_schema

    at_once = load_cob_config().chunks_at_once()
    with tempfile.TemporaryDirectory() as folder, postgres_schema(base_url) as url:
        built = generate(Path(folder), count, url)
        _child("--day-before", folder, url)
        figures = _timed("--close-book", folder, url, "render")
        floor_s = _timed("--floor", folder, url)["seconds"]
    # the same night as the flow runs it: `parallel_chunks` chunks in flight on threads
    with tempfile.TemporaryDirectory() as folder, postgres_schema(base_url) as url:
        generate(Path(folder), count, url)
        _child("--day-before", folder, url)
        flowing = _timed("--close-book", folder, url, "render", str(at_once))
    print(f"PostgreSQL book of {count:,} loans generated in {built:.1f} s")
    ok = _report("PostgreSQL, notices rendered", count, figures, POSTGRES_BUDGET, floor_s)
    label = f"PostgreSQL, notices rendered, {at_once} chunks at once as the flow runs them"
    return _report(label, count, flowing, POSTGRES_BUDGET, floor_s) and ok


def run(sizes: tuple[int, ...] = SIZES, database_url: str | None = None) -> bool:
    """Each size on SQLite, and on PostgreSQL (`database_url`, else the test server when
    LENDFLOW_TEST_POSTGRES_URL is set) at the largest size. Speed never fails it."""
    postgres = database_url or os.environ.get(POSTGRES_ENV)
    if database_url is None:
        for count in sizes:
            _sqlite(count)
    if postgres:
        _postgres(max(sizes), postgres)
    else:
        print(f"close of business on PostgreSQL: skipped ({POSTGRES_ENV} is not set)")
    return True


def main(argv: list[str]) -> int:
    """`python -m benchmarks.bench_cob [--database-url URL] [SIZE ...]`: this benchmark
    alone (default both sizes; with a URL, PostgreSQL only)."""
    if argv[:1] == ["--day-before"]:
        close_day_before(argv[1], argv[2])
    elif argv[:1] == ["--close-book"]:
        close_book(argv[1], argv[2], argv[3] == "render", int(argv[4]) if argv[4:] else 1)
    elif argv[:1] == ["--floor"]:
        floor(argv[1], argv[2])
    else:
        url = None
        if argv[:1] == ["--database-url"] and len(argv) > 1:
            url, argv = argv[1], argv[2:]
        try:
            sizes = tuple(_size(size) for size in argv) or SIZES
        except ValueError as exc:
            print(f"{exc}; usage: {USAGE}", file=sys.stderr)
            return 2
        from benchmarks.machine import describe

        print(describe(), flush=True)
        run(sizes, url)
    return 0


USAGE = "python -m benchmarks.bench_cob [--database-url URL] [SIZE ...]"


def _size(text: str) -> int:
    """A book size as written on the command line (1000000, 1_000_000 or 1,000,000)."""
    digits = text.replace("_", "").replace(",", "")
    if not digits.isdigit() or int(digits) < 1:
        raise ValueError(f"not a number of loans: {text!r}")
    return int(digits)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

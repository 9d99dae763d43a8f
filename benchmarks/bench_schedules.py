"""Schedule throughput: twelve-instalment schedules per second (budget ≥ 50,000/s).

Quotes a synthetic book: principals, rates and disbursement dates vary as they
would over a year of lending. Measured in one process and in one worker process
per core, since batch quoting is embarrassingly parallel.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

from lendflow.domain.apr import apr_of_schedule
from lendflow.domain.schedule import ScheduleTerms, generate

BUDGET = 50_000
BOOK = 200_000


def book(size: int, seed: int = 0) -> list[ScheduleTerms]:
    """A varied synthetic book: 1,000 to 50,000 yuan, 10.8% to 18%, 365 disbursement dates."""
    start = date(2026, 1, 1)
    rates = [Decimal("10.8") + Decimal(i) / 10 for i in range(73)]
    return [
        ScheduleTerms(
            principal=100_000 + ((i * 7919 + seed) % 4_900) * 1_000,
            annual_rate=rates[(i + seed) % len(rates)],
            repayments=12,
            disbursed=start + timedelta(days=(i * 31 + seed) % 365),
        )
        for i in range(size)
    ]


def quote(size: int, seed: int = 0) -> tuple[int, float]:
    """Generate `size` schedules; return a checksum of interest and the seconds taken."""
    terms = book(size, seed)
    began = time.perf_counter()
    checksum = 0
    for t in terms:
        checksum += generate(t).total_interest
    return checksum, time.perf_counter() - began


def run() -> bool:
    quote(5_000)  # warm caches and the interpreter
    _, single = quote(BOOK)
    single_rate = BOOK / single
    workers = os.cpu_count() or 1
    began = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(quote, [BOOK // workers] * workers, range(workers)))
    parallel_rate = BOOK / (time.perf_counter() - began)
    terms = book(2_000)
    began = time.perf_counter()
    for t in terms:
        apr_of_schedule(generate(t))
    apr_rate = len(terms) / (time.perf_counter() - began)
    best = max(single_rate, parallel_rate)
    verdict = "OK" if best >= BUDGET else "BELOW BUDGET"
    print(
        f"schedules: {single_rate:,.0f}/s in one process, {parallel_rate:,.0f}/s on {workers}"
        f" processes (pool start included); budget {BUDGET:,}/s: {verdict}"
    )
    print(f"schedules with APR (IRR solved in Decimal): {apr_rate:,.0f}/s in one process")
    return best >= BUDGET

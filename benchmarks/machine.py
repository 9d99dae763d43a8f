"""How fast the machine running the benchmarks is, as one reference figure.

The project's 2-core machines differ from one session to the next: the close-of-business
benchmark's floor (one UPDATE of every live loan per chunk) measured 457,900 loans/s on
one and 294,700 on another. Each benchmark's budget is for "this machine", so `make
bench` first prints how long a fixed pure-Python loop takes here: compare that line
before comparing any other figure with an earlier run's.
"""

from __future__ import annotations

import os
import time

ADDITIONS = 10_000_000
TRIES = 3


def loop_seconds(additions: int = ADDITIONS, tries: int = TRIES) -> float:
    """The best of `tries` runs of a loop adding `additions` integers (the interpreter's
    own speed: no library, no allocation beyond small integers, no I/O)."""
    best = float("inf")
    for _ in range(tries):
        began = time.perf_counter()
        total = 0
        for i in range(additions):
            total += i
        best = min(best, time.perf_counter() - began)
    return best


def describe() -> str:
    """The reference line `make bench` prints first."""
    cores = os.cpu_count() or 1
    return (
        f"machine: {cores} cores; a pure-Python loop of {ADDITIONS:,} additions takes"
        f" {loop_seconds():.2f} s (best of {TRIES}); compare figures only with runs whose"
        " loop took about as long"
    )


if __name__ == "__main__":
    print(describe())

"""Run every benchmark and print its figures against the budget in DESIGN.md."""

from __future__ import annotations

import sys

from benchmarks import (
    bench_api,
    bench_cli_start,
    bench_cob,
    bench_console,
    bench_decisions,
    bench_loan_actions,
    bench_pages,
    bench_schedules,
    bench_stage_run,
    machine,
)


def main() -> int:
    print(machine.describe(), flush=True)
    results = [
        bench_schedules.run(),
        bench_loan_actions.run(),
        bench_pages.run(),
        bench_decisions.run(),
        bench_cli_start.run(),
        bench_stage_run.run(),
        bench_cob.run(),
        bench_api.run(),
        bench_console.run(),
    ]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())

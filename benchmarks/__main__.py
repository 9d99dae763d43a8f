"""Run every benchmark and print its figures against the budget in DESIGN.md."""

from __future__ import annotations

import sys

from benchmarks import bench_schedules


def main() -> int:
    results = [bench_schedules.run()]
    failed = [r for r in results if not r]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

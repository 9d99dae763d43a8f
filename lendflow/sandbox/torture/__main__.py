"""`python -m lendflow.sandbox.torture --seeds 200` (or `--seed 17` to replay one seed)."""

from __future__ import annotations

import argparse
import sys
import time

from lendflow.sandbox.torture.book import DATABASES
from lendflow.sandbox.torture.runner import DEFAULT_STEPS, SeedOutcome, run_seed, run_seeds


def seed_range(text: str) -> range:
    """`200` is seeds 1 to 200; `50..80` is 50 to 80."""
    first, dots, last = text.partition("..")
    try:
        return range(int(first), int(last) + 1) if dots else range(1, int(first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must be N or FIRST..LAST, got {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m lendflow.sandbox.torture",
        description="Seeded fault simulator: a loan book driven by a random sequence, audited"
        " after every step.",
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--seed", type=int, help="run (replay) one seed")
    which.add_argument("--seeds", type=seed_range, help="N (seeds 1..N) or FIRST..LAST")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="steps per seed")
    p.add_argument("--database", choices=DATABASES, default="sqlite")
    p.add_argument("--jobs", type=int, default=2, help="seeds run side by side")
    p.add_argument(
        "--gateway-declines-paid",
        action="store_true",
        help="let the sandbox gateway decline a retry of a reference it already paid",
    )
    p.add_argument("--verbose", action="store_true", help="with --seed: print every step")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    started = time.perf_counter()
    if args.seed is not None:
        shown = (lambda step: print(step, flush=True)) if args.verbose else None
        outcome = run_seed(
            args.seed,
            args.steps,
            args.database,
            on_step=shown,
            declines_paid=args.gateway_declines_paid,
        )
        print(outcome.report())
        return 0 if outcome.ok else 1

    def show(outcome: SeedOutcome) -> None:
        if not outcome.ok:
            print(outcome.report(), flush=True)

    outcomes = run_seeds(
        args.seeds,
        args.steps,
        args.database,
        args.jobs,
        on_outcome=show,
        declines_paid=args.gateway_declines_paid,
    )
    failed = [o.seed for o in outcomes if not o.ok]
    elapsed = time.perf_counter() - started
    print(
        f"{len(outcomes)} seeds × {args.steps} steps on {args.database}, {args.jobs} jobs:"
        f" {len(outcomes) - len(failed)} held every invariant, {len(failed)} failed"
        + (f" (seeds {', '.join(map(str, failed))})" if failed else "")
        + f"; {elapsed:.1f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

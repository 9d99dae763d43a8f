"""Running seeds: one book each, audited after every step, replayable by command.

`run_seed` drives one seed's fresh book for a number of steps and stops at the
first step after which an invariant is broken (or that crashed), saying which and
the exact command that replays it. `run_seeds` runs many seeds in a pool of
processes, each seed alone in its book.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lendflow.sandbox.torture.book import fresh_book
from lendflow.sandbox.torture.breaks import BREAK_ENV, install_break
from lendflow.sandbox.torture.simulator import TODAY_ENV, Simulator, StepCrashed, StepRecord

DEFAULT_STEPS = 60
SHOWN_STEPS = 8
"""Steps shown before the one that broke, so the report says how the book got there."""
MODULE = "lendflow.sandbox.torture"


def replay_command(seed: int, steps: int, database: str, declines_paid: bool = False) -> str:
    """The command that runs exactly this seed again (with the break, if one is set)."""
    prefix = f"{BREAK_ENV}={os.environ[BREAK_ENV]} " if os.environ.get(BREAK_ENV) else ""
    flag = " --gateway-declines-paid" if declines_paid else ""
    return f"{prefix}python -m {MODULE} --seed {seed} --steps {steps} --database {database}{flag}"


@dataclass
class SeedOutcome:
    """How one seed ended: clean, or the step after which the book was found wrong."""

    seed: int
    steps: int
    database: str
    declines_paid: bool = False
    seconds: float = 0.0
    taken: int = 0
    broke_at: StepRecord | None = None
    problems: list[str] = field(default_factory=list)
    before: list[StepRecord] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def replay(self) -> str:
        return replay_command(self.seed, self.steps, self.database, self.declines_paid)

    def report(self) -> str:
        """A few lines: the seed, the broken step and its problems, the steps before it, and
        the replay command."""
        if self.ok:
            book = ", ".join(f"{status} {n}" for status, n in self.statuses.items())
            return (
                f"seed {self.seed}: {self.taken} steps, every invariant held"
                f" ({self.seconds:.1f} s; loans: {book})"
            )
        lines = [f"seed {self.seed} FAILED at {self.broke_at}"]
        lines += [f"    {problem}" for problem in self.problems[:10]]
        if len(self.problems) > 10:
            lines.append(f"    and {len(self.problems) - 10} more")
        lines.append("  steps before it:")
        lines += [f"    {step}" for step in self.before]
        lines.append(f"  replay: {self.replay}")
        return "\n".join(lines)


def run_seed(
    seed: int,
    steps: int = DEFAULT_STEPS,
    database: str = "sqlite",
    keep: Path | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    declines_paid: bool = False,
) -> SeedOutcome:
    """Drive seed's book `steps` steps (then resume what is in flight), auditing after each."""
    install_break()
    outcome = SeedOutcome(seed=seed, steps=steps, database=database, declines_paid=declines_paid)
    started = time.perf_counter()
    saved_today = os.environ.get(TODAY_ENV)
    try:
        with fresh_book(seed, database, keep) as place:
            simulator = Simulator(place, seed, declines_paid=declines_paid)
            try:
                _drive(simulator, steps, outcome, on_step)
                outcome.statuses = simulator.statuses()
            finally:
                simulator.close()
    finally:
        _restore(TODAY_ENV, saved_today)
        outcome.seconds = time.perf_counter() - started
    return outcome


def _drive(
    simulator: Simulator,
    steps: int,
    outcome: SeedOutcome,
    on_step: Callable[[StepRecord], None] | None,
) -> None:
    history: list[StepRecord] = []
    takes: list[Callable[[], StepRecord]] = [simulator.next_step] * steps + [simulator.finish]
    for take in takes:
        try:
            record = take()
        except StepCrashed as exc:
            record = StepRecord(simulator.n, "crashed", simulator.today, str(exc))
            outcome.problems = [f"the step crashed: {exc}"]
        except Exception as exc:  # an unexpected error is a finding: report it, replayably
            record = StepRecord(simulator.n, "crashed", simulator.today, type(exc).__name__)
            outcome.problems = [f"the step crashed: {type(exc).__name__}: {exc}"]
        else:
            outcome.problems = simulator.check()
        outcome.taken = record.n
        if on_step:
            on_step(record)
        if outcome.problems:
            outcome.broke_at = record
            outcome.before = history[-SHOWN_STEPS:]
            return
        history.append(record)
    in_flight = simulator.in_flight()
    if in_flight:
        outcome.broke_at = history[-1]
        outcome.problems = [f"payouts still in flight after resuming: loans {in_flight}"]


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _run_one(args: tuple[int, int, str, bool]) -> SeedOutcome:
    seed, steps, database, declines_paid = args
    return run_seed(seed, steps, database, declines_paid=declines_paid)


def run_seeds(
    seeds: Iterable[int],
    steps: int = DEFAULT_STEPS,
    database: str = "sqlite",
    jobs: int = 2,
    on_outcome: Callable[[SeedOutcome], None] | None = None,
    declines_paid: bool = False,
) -> list[SeedOutcome]:
    """Every seed in its own book, `jobs` at a time; outcomes in seed order."""
    orders = [(seed, steps, database, declines_paid) for seed in seeds]
    if jobs <= 1:
        results = []
        for order in orders:
            results.append(_run_one(order))
            if on_outcome:
                on_outcome(results[-1])
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        results = []
        for result in pool.map(_run_one, orders):
            results.append(result)
            if on_outcome:
                on_outcome(result)
    return results

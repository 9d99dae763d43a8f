"""Close-of-business configuration (cob.yaml), validated with every problem named."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lendflow.config.loading import load_model

Step = Literal[
    "expire_approvals",
    "accrue_interest",
    "recognise_due",
    "delinquency",
    "non_accrual",
    "penalty",
    "collection_notices",
    "provisions",
]
STEPS: tuple[str, ...] = Step.__args__  # type: ignore[attr-defined]
# A step that reads what another computes must come after it.
# Instalments falling due take their interest out of accrual, so the day's accrual comes
# first; non-accrual acts on the class the delinquency step sets, and penalty on both.
NEEDS = {
    "recognise_due": "accrue_interest",
    "non_accrual": "delinquency",
    "penalty": "non_accrual",
    "collection_notices": "delinquency",
    "provisions": "delinquency",  # the class and write-offs of the day it provides on
}


class CobConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    chunk_size: int = Field(default=50_000, ge=1, le=1_000_000)
    steps: list[Step] = Field(default_factory=lambda: list(STEPS), min_length=1)
    notice_days: list[int] = Field(default_factory=lambda: [1, 7, 30])
    render_notices: bool = Field(
        default=True,
        description="render each notice through the documents module and keep it as issued",
    )
    notice_processes: int | None = Field(
        default=None,
        ge=0,
        le=64,
        description="worker processes rendering a chunk's notices while the sweep goes on"
        " (none: one less than the machine's cores; 0: in the sweep's own process)",
    )

    parallel_chunks: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="chunks the flow closes at once on Prefect's threads (none: twice the"
        " machine's cores); on Dask each worker takes one at a time whatever this says",
    )

    follow_marks_from: int | None = Field(
        default=10_000,
        ge=1,
        description="id ranges of this many loans or more keep a mark their quiet loans follow"
        " instead of rewriting every loan row each night (none: never)",
    )

    def follows_marks(self, lo: int, hi: int) -> bool:
        """Whether the range `lo`…`hi` keeps a mark (`store.cob_marks`): large enough, and
        the day accrues interest (a following loan's accrual moves with the mark)."""
        least = self.follow_marks_from
        return least is not None and hi - lo + 1 >= least and "accrue_interest" in self.steps

    def processes_for_notices(self) -> int:
        """How many worker processes render notices (`notice_processes`, else one less than
        the machine's cores)."""
        if self.notice_processes is not None:
            return self.notice_processes
        return max((os.cpu_count() or 1) - 1, 0)

    def chunks_at_once(self) -> int:
        """How many chunks the flow keeps in flight on threads (`parallel_chunks`, else
        twice the machine's cores). More only queue: on SQLite every chunk waits for the
        one write lock, and on PostgreSQL twenty chunks at once on two cores closed a night
        of a million loans slower (17.8 s) than four did (14.5 s), with half as much again
        of memory."""
        if self.parallel_chunks is not None:
            return self.parallel_chunks
        return 2 * (os.cpu_count() or 1)

    @field_validator("steps")
    @classmethod
    def _ordered(cls, steps: list[str]) -> list[str]:
        if len(set(steps)) != len(steps):
            raise ValueError("a step is listed twice")
        for step, needed in NEEDS.items():
            if step in steps and (needed not in steps or steps.index(needed) > steps.index(step)):
                raise ValueError(f"{step} needs {needed} before it")
        return steps

    @field_validator("notice_days")
    @classmethod
    def _positive(cls, days: list[int]) -> list[int]:
        if any(d < 1 for d in days) or len(set(days)) != len(days):
            raise ValueError("notice days must be distinct whole days past due, 1 or more")
        return sorted(days)


def default_cob_path() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath("cob.yaml")))


def load_cob_config(path: Path | None = None) -> CobConfig:
    return load_model(CobConfig, path or default_cob_path())

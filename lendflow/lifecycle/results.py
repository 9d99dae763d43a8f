"""What a stage run produces: outputs, gate criteria, the rendered report and its charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lendflow.domain.criteria import Criterion


@dataclass(frozen=True)
class RunContext:
    """Who runs which stage of which product version, on which business date."""

    run_id: int
    code: str
    product_name: str
    version: int
    stage: str
    run_by: str
    as_of: date
    locale: str = "zh-CN"

    def label(self) -> str:
        return f"{self.code} v{self.version}"


@dataclass(frozen=True)
class StageOutcome:
    """A finished stage's work, ready to be stored with its run."""

    outputs: dict[str, Any]
    criteria: list[Criterion]
    report: bytes
    report_format: str
    charts: list[dict[str, str]] = field(default_factory=list)

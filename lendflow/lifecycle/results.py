"""What a stage run produces (outputs, gate criteria, the rendered report and its charts),
and the typed results the lifecycle's use cases return.

The CLI prints a result's `model_dump(mode="json")`: the JSON `lendflow gate|stage|product
... --json` has always printed, keys in the same order, a key that had no value to give
left out where it always was. Product states are `ProductStatus`, dates `date`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, PlainSerializer, SerializerFunctionWrapHandler, model_serializer

from lendflow.domain.criteria import Criterion
from lendflow.domain.statuses import ProductStatus
from lendflow.lifecycle.catalog import stage as stage_of
from lendflow.workspace.results import Result


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


def _absent_if_none(value: Any) -> bool:
    return value is None


class GateCriterion(Result):
    """One automatic criterion as a gate shows it: passed or not, the figure that says so,
    and the facts the figure is made of (left out when it has none)."""

    name: str
    passed: bool
    figure: str
    facts: dict[str, Any] | None = Field(default=None, exclude_if=_absent_if_none)

    @classmethod
    def of(cls, criterion: Criterion) -> GateCriterion:
        return cls.model_validate(criterion.as_dict())


def _criteria(criteria: list[Criterion]) -> tuple[GateCriterion, ...]:
    return tuple(GateCriterion.of(c) for c in criteria)


class OpenedVersion(Result):
    """The next version a recycled improvement opened in design."""

    version: int
    state: ProductStatus
    from_version: int


class GateDecision(Result):
    """A gate decided: where the version went, on which run, by whom, and the criteria read.

    `retired_versions` is given only when a launch goes (the older live versions it
    retired), `opened_version` only at a live stage's gate (null unless an improvement
    was recycled, which opens the next version)."""

    retired_versions: tuple[int, ...] | None = Field(default=None, exclude_if=_absent_if_none)
    decision_id: int
    code: str
    version: int
    stage: str
    decision: str
    to_stage: str | None
    from_state: ProductStatus
    state: ProductStatus
    run: int
    decided_by: str
    business_date: date
    note: str
    criteria_passed: bool
    criteria: tuple[GateCriterion, ...]
    opened_version: OpenedVersion | None = None

    @model_serializer(mode="wrap")
    def _opened_only_when_live(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        shown: dict[str, Any] = handler(self)
        if not stage_of(self.stage).live:
            shown.pop("opened_version", None)
        return shown


class LiveGate(Result):
    """A live stage's gate (operate, improve) with the run waiting at it."""

    code: str
    version: int
    state: ProductStatus
    stage: str
    run: int
    run_by: str
    business_date: date
    criteria_passed: bool
    criteria: tuple[GateCriterion, ...]


class GateView(Result):
    """The gate a product waits at: the pipeline's, else the first live gate with a run
    waiting; `run` is None (and `run_by`, `business_date` are left out) when no run waits.
    `live_gates` lists every live gate with a run waiting."""

    code: str
    version: int
    state: ProductStatus
    stage: str | None
    run: int | None
    criteria_passed: bool | None
    criteria: tuple[GateCriterion, ...]
    run_by: str | None = Field(default=None, exclude_if=_absent_if_none)
    business_date: date | None = Field(default=None, exclude_if=_absent_if_none)
    live_gates: tuple[LiveGate, ...] = ()

    @model_serializer(mode="wrap")
    def _keys_in_their_order(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A live gate shown in the pipeline's place names its run after `live_gates` (the
        order `gate show --json` has always printed)."""
        shown: dict[str, Any] = handler(self)
        if self.stage is not None and stage_of(self.stage).live and "run_by" in shown:
            shown["live_gates"] = shown.pop("live_gates")
            shown["run_by"] = shown.pop("run_by")
            shown["business_date"] = shown.pop("business_date")
        return shown


class StageRunResult(Result):
    """A stage run that succeeded: the run waiting at its gate, the criteria it met or
    missed, and the report it stored (format, size, number of charts)."""

    run: int
    code: str
    version: int
    stage: str
    status: str
    state: ProductStatus
    criteria_passed: bool
    criteria: tuple[GateCriterion, ...]
    report_format: str
    report_bytes: int
    charts: int


def _iso(moment: datetime) -> str:
    return moment.isoformat()


Moment = Annotated[datetime, PlainSerializer(_iso, when_used="json")]
"""A time as it was stored, shown as `datetime.isoformat` shows it."""


class RunInput(Result):
    """An input a run read: its name, the file, the file's SHA-256 and size, and whether it
    came from the shipped samples."""

    name: str
    file: str
    sha256: str
    size: int
    from_samples: bool


class RunView(Result):
    """A stage run for people and JSON: its inputs, how it ended (criteria or the error)."""

    run: int
    stage: str
    status: str
    run_by: str
    business_date: date
    inputs: tuple[RunInput, ...]
    criteria_passed: bool | None
    """None unless the run succeeded."""
    criteria: tuple[GateCriterion, ...]
    error: str | None
    report_format: str | None
    started_at: Moment | None
    finished_at: Moment | None


class StageHistory(Result):
    """Every run of a stage for one version, newest last, and the run waiting at its gate."""

    code: str
    version: int
    state: ProductStatus
    stage: str
    at_gate: int | None
    runs: tuple[RunView, ...]


class NewProduct(Result):
    """A product just created, its first version a draft."""

    code: str
    name: str
    version: int
    state: ProductStatus


class ProductSummary(Result):
    """A product in the list: its newest version, where that stands, and its live version."""

    code: str
    name: str
    versions: int
    latest_version: int | None
    state: ProductStatus | None
    live_version: int | None


class VersionSummary(Result):
    """One version of a product. Its amounts are integer fen as stored (JSON keeps the
    integers `product versions --json` has always printed); the rate is its spec's text."""

    version: int
    id: int
    state: ProductStatus
    sha256: str | None
    min_amount: int | None
    max_amount: int | None
    annual_rate: str | None
    gate_run: int | None
    created_by: str
    created_at: Moment


class ProductVersions(Result):
    """Every version of a product, oldest first."""

    code: str
    name: str
    versions: tuple[VersionSummary, ...]


class LastRun(Result):
    """The newest run of a stage, as the pipeline shows it."""

    run: int
    status: str
    run_by: str
    business_date: date
    error: str | None


class DecisionView(Result):
    """A gate decision as the pipeline shows it."""

    id: int
    stage: str
    decision: str
    to_stage: str | None
    from_state: ProductStatus
    to_state: ProductStatus
    run: int
    decided_by: str
    business_date: date
    note: str
    criteria_passed: bool


class StageRow(Result):
    """One stage of a version's way: its status (passed, at gate, open, …), its runs, the
    newest run and the newest gate decision."""

    stage: str
    number: int
    name_zh: str
    status: str
    runs: int
    last_run: LastRun | None
    last_decision: DecisionView | None


class ProductName(Result):
    code: str
    name: str


class ProductPipeline(VersionSummary, ProductName):
    """A version's way through the stages: the product's code and name, the version's
    summary, then each stage and every gate decision taken on it (pydantic lays the
    inherited fields out base by base, `ProductName` first, so the JSON keeps that order)."""

    stages: tuple[StageRow, ...]
    decisions: tuple[DecisionView, ...]


class DiffSide(Result):
    """One of the two versions compared, and whether it has a spec yet."""

    version: int
    state: ProductStatus
    has_spec: bool


class SpecChange(Result):
    """A spec field that differs: its dotted path and its value in each version (None where
    the version does not have it)."""

    field: str
    from_: str | None = Field(alias="from")
    to: str | None


class VersionDiff(Result):
    """What changed in the spec between two versions: field by field, and a unified diff."""

    code: str
    from_: DiffSide = Field(alias="from")
    to: DiffSide
    changes: tuple[SpecChange, ...]
    diff: tuple[str, ...]

"""Stage 7's inputs: customer feedback, the review minutes and the improvement plan.

The feedback CSV has one row per answer sheet: `respondent_id`, `submitted_on`
(YYYY-MM-DD), `rating` (1–5), `nps` (0–10, "how likely are you to recommend
us") and `comment`; a question left blank was not answered. The minutes and
the plan are YAML; the plan's changes name spec fields by dotted path (`rate.annual`,
`amount.max`, `terms`) and say why. Every problem is named by file and line.
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Any

import yaml
from pydantic import Field, field_validator, model_validator

from lendflow.config.loading import field_path, parse_yaml
from lendflow.config.policy import Strict
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.errors import BadInput, Problems
from lendflow.domain.feedback import FeedbackResponse
from lendflow.lifecycle.inputs import (
    CapturedInput,
    cell_text,
    read_rows,
    read_yaml_model,
    whole_number,
    yaml_line,
)

FEEDBACK_COLUMNS = ("respondent_id", "submitted_on", "rating", "nps", "comment")
MAX_COMMENT = 2000


def _optional_score(raw: str, field: str, low: int, high: int) -> int | None:
    return None if raw == "" else whole_number(raw, field, low, high)


def read_feedback(source: CapturedInput) -> list[FeedbackResponse]:
    """Every answer sheet, or every bad row as `file: line N: problem`."""
    seen: dict[str, int] = {}

    def parse(line: int, raw: dict[str, str]) -> FeedbackResponse:
        respondent = cell_text(raw["respondent_id"], "respondent_id")
        if respondent in seen:
            raise BadInput(f"respondent_id {respondent} repeats line {seen[respondent]}")
        seen[respondent] = line
        try:
            date.fromisoformat(raw["submitted_on"])
        except ValueError:
            raise BadInput(
                f"submitted_on must be a date like 2026-07-31, got {raw['submitted_on']!r}"
            ) from None
        rating = _optional_score(raw["rating"], "rating", 1, 5)
        nps = _optional_score(raw["nps"], "nps", 0, 10)
        comment = raw["comment"]
        if len(comment) > MAX_COMMENT:
            raise BadInput(f"comment is {len(comment)} characters; at most {MAX_COMMENT}")
        if rating is None and nps is None and not comment:
            raise BadInput("the row answers nothing (no rating, nps or comment)")
        return FeedbackResponse(respondent, rating, nps, comment)

    return read_rows(source, FEEDBACK_COLUMNS, parse)


class Decision(Strict):
    decision: str = Field(min_length=1)
    owner: str = ""
    due: date | None = None


class Minutes(Strict):
    """What the internal review decided, by whom, and who owns each decision."""

    title: str = Field(min_length=1)
    held_on: date
    chair: str = ""
    attendees: list[str] = Field(default_factory=list)
    findings: list[str] = Field(default_factory=list)
    decisions: list[Decision] = Field(min_length=1)


def read_minutes(source: CapturedInput) -> Minutes:
    return read_yaml_model(Minutes, source)


_PATH = re.compile(r"^[a-z_][a-z0-9_-]*(\[[0-9]+\])?(\.[a-z_][a-z0-9_-]*(\[[0-9]+\])?)*$")


class SpecChange(Strict):
    path: str
    to: Any
    why: str = ""

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.match(value):
            raise ValueError(f"path must name a spec field like rate.annual, got {value!r}")
        if value.split(".")[0] == "code":
            raise ValueError("the product code cannot change; a new product needs a charter")
        return value


class ImprovementPlan(Strict):
    """Proposed changes to the live spec: the next version is the spec with them applied."""

    title: str = Field(min_length=1)
    changes: list[SpecChange] = Field(default_factory=list)

    @model_validator(mode="after")
    def _distinct(self) -> ImprovementPlan:
        paths = [c.path for c in self.changes]
        repeated = sorted({p for p in paths if paths.count(p) > 1})
        if repeated:
            raise ValueError(f"each path may change once; repeated: {', '.join(repeated)}")
        return self


def read_plan(source: CapturedInput) -> ImprovementPlan:
    return read_yaml_model(ImprovementPlan, source)


def _steps(path: str) -> list[str | int]:
    steps: list[str | int] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        steps.append(name)
        if index:
            steps.append(int(index.rstrip("]")))
    return steps


def _set(data: dict[str, Any], path: str, value: Any) -> Any:
    """Set `path` in `data` (making missing sections), returning the value it replaced."""
    steps = _steps(path)
    node: Any = data
    for step, after in pairwise(steps):
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                raise BadInput(f"{path}: there is no item [{step}] to change")
            node = node[step]
            continue
        if not isinstance(node, dict):
            raise BadInput(f"{path}: {step} is inside a value, not a section")
        if step not in node or node[step] is None:
            node[step] = [] if isinstance(after, int) else {}
        node = node[step]
    last = steps[-1]
    if isinstance(last, int):
        if not isinstance(node, list) or last >= len(node):
            raise BadInput(f"{path}: there is no item [{last}] to change")
        before, node[last] = node[last], value
        return before
    if not isinstance(node, dict):
        raise BadInput(f"{path}: {last} is inside a value, not a section")
    before = node.get(last)
    node[last] = value
    return before


def apply_plan(
    live_spec: str, plan: ImprovementPlan, source: CapturedInput, header: str
) -> tuple[str, ProductSpec, list[dict[str, Any]]]:
    """The live spec with the plan's changes: its text, the validated spec, and each change
    (path, from, to, why). A change the spec does not accept is named by the plan's line."""
    data = parse_yaml(live_spec)
    problems: list[str] = []
    changes = []
    for index, change in enumerate(plan.changes):
        where = yaml_line(source.text, ("changes", index, "to")) or yaml_line(
            source.text, ("changes", index)
        )
        try:
            before = _set(data, change.path, change.to)
        except BadInput as exc:
            problems.append(f"{source.file}: line {where}: changes[{index}]: {exc.message}")
            continue
        changes.append({"path": change.path, "from": before, "to": change.to, "why": change.why})
    if problems:
        raise Problems(problems)
    text = header + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    try:
        spec = ProductSpec.model_validate(data)
    except Exception as exc:
        raise Problems(_spec_problems(exc, plan, source)) from None
    return text, spec, changes


def _spec_problems(exc: Exception, plan: ImprovementPlan, source: CapturedInput) -> list[str]:
    """The proposed spec's problems, each at the plan line of the change that caused it, in
    the plan's order (problems no change explains come last)."""
    errors = getattr(exc, "errors", None)
    if errors is None:  # pragma: no cover - model_validate raises ValidationError
        return [f"{source.file}: the proposed spec is not valid: {exc}"]
    found: list[tuple[int, str]] = []
    for error in errors():
        location = field_path(tuple(error["loc"]))
        message = error["msg"].removeprefix("Value error, ")
        index = next(
            (
                i
                for i, c in enumerate(plan.changes)
                if location.startswith(c.path) or c.path.startswith(location)
            ),
            None,
        )
        if index is None:
            found.append(
                (len(plan.changes), f"{source.file}: the proposed spec: {location}: {message}")
            )
            continue
        line = yaml_line(source.text, ("changes", index, "to")) or yaml_line(
            source.text, ("changes", index)
        )
        found.append(
            (index, f"{source.file}: line {line}: changes[{index}]: {location}: {message}")
        )
    return [problem for _, problem in sorted(found, key=lambda f: f[0])]

"""Scorecards and decision tables as YAML files, checked at load and pinned by version.

Each file declares its `kind`, `code` and `version`. Files in the workspace's
`scorecards/` folder take precedence over the packaged ones, so a risk team
changes a cut-off by editing YAML, never code. Every problem in a file is
reported at once as `file: path: message`. The SHA-256 of the file travels with
the compiled model so a decision can record exactly what decided it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from lendflow.config.fields import Percent
from lendflow.config.loading import MAX_YAML_BYTES, parse_model, parse_yaml, yaml_problem
from lendflow.config.policy import Strict
from lendflow.domain.credit_facts import FACTS, TABLE_FACTS
from lendflow.domain.errors import BadInput, NotFound, Problems
from lendflow.domain.money import parse_amount
from lendflow.domain.rules import (
    Condition,
    DecisionTable,
    InputKind,
    NumberLike,
    Rule,
    decimal_number,
    parse_condition,
)
from lendflow.domain.scoring import (
    CategoryBin,
    Characteristic,
    NumericBin,
    Scaling,
    Scorecard,
    coverage_problems,
)

CODE = r"^[a-z0-9][a-z0-9-]{1,62}$"
REASON = r"^[A-Z][A-Z0-9_]{1,63}$"
FOLDER_NAME = "scorecards"

Cell = Any  # each cell is checked against its input's kind when the table compiles


class ScalingSpec(Strict):
    base_score: int = Field(default=600, ge=0)
    base_odds: Percent = Decimal(50)
    pdo: int = Field(default=20, ge=1)


class ModelSpec(Strict):
    """The logistic model behind weight-of-evidence bins."""

    intercept: Decimal


class BinSpec(Strict):
    lower: str | int | None = None
    upper: str | int | None = None
    values: list[str | bool] | None = None
    points: int | None = None
    woe: Decimal | None = None
    label: str | None = None


class PointsSpec(Strict):
    points: int | None = None
    woe: Decimal | None = None


class CharacteristicSpec(Strict):
    name: str = Field(min_length=1, max_length=64)
    input: str
    reason: str = Field(pattern=REASON)
    coefficient: Decimal | None = None
    bins: list[BinSpec] = Field(min_length=1)
    otherwise: PointsSpec | None = None
    missing: PointsSpec | None = None


class ScorecardSpec(Strict):
    kind: Literal["scorecard"]
    code: str = Field(pattern=CODE)
    version: int = Field(ge=1)
    description: str = ""
    scaling: ScalingSpec = Field(default_factory=ScalingSpec)
    model: ModelSpec | None = None
    characteristics: list[CharacteristicSpec] = Field(min_length=1)


class RuleSpec(Strict):
    when: dict[str, Cell] = Field(default_factory=dict)
    outcome: Literal["approve", "refer", "reject"]
    reasons: list[str] = Field(default_factory=list)
    grade: str | None = None
    max_amount: str | int | None = None
    note: str = ""


class DecisionTableSpec(Strict):
    kind: Literal["decision_table"]
    code: str = Field(pattern=CODE)
    version: int = Field(ge=1)
    description: str = ""
    hit_policy: Literal["first", "collect"] = "first"
    grades: list[str] = Field(min_length=1)
    rules: list[RuleSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Loaded:
    """A compiled model with where it came from and the digest of its exact text."""

    model: Scorecard | DecisionTable
    source: str
    digest: str
    text: str


def _number(kind: InputKind, field: str) -> Any:
    def read(text: str) -> NumberLike:
        if kind is InputKind.MONEY:
            try:
                return parse_amount(text, field=field, allow_zero=True)
            except BadInput as exc:
                raise ValueError(str(exc)) from None
        return decimal_number(text)

    return read


def _bound(value: str | int | None, kind: InputKind, field: str) -> NumberLike | None:
    if value is None:
        return None
    return _number(kind, field)(str(value))


def _points(
    item: BinSpec | PointsSpec,
    where: str,
    woe_terms: tuple[Decimal, Decimal, int, Scaling] | None,
    problems: list[str],
) -> int:
    if woe_terms is None:
        if item.points is None or item.woe is not None:
            problems.append(f"{where}: give points (this card has no model coefficients)")
            return 0
        return item.points
    if item.woe is None or item.points is not None:
        problems.append(f"{where}: give woe (this characteristic has a model coefficient)")
        return 0
    coefficient, intercept, count, scaling = woe_terms
    return scaling.points_from_woe(item.woe, coefficient, intercept, count)


def _characteristic(
    spec: CharacteristicSpec, where: str, card: ScorecardSpec, scaling: Scaling, problems: list[str]
) -> Characteristic | None:
    kind = FACTS.get(spec.input)
    if kind is None:
        problems.append(f"{where}.input: unknown input {spec.input!r} (known: {', '.join(FACTS)})")
        return None
    woe_terms = None
    if spec.coefficient is not None:
        if card.model is None:
            problems.append(f"{where}.coefficient: the card needs model.intercept to use it")
            return None
        woe_terms = (spec.coefficient, card.model.intercept, len(card.characteristics), scaling)
    numeric, categories = [], []
    for i, b in enumerate(spec.bins):
        at = f"{where}.bins[{i}]"
        points = _points(b, at, woe_terms, problems)
        if kind in (InputKind.NUMBER, InputKind.MONEY):
            if b.values is not None:
                problems.append(f"{at}: {spec.input} is a number; use lower/upper, not values")
                continue
            try:
                low = _bound(b.lower, kind, f"{at}.lower")
                high = _bound(b.upper, kind, f"{at}.upper")
            except ValueError as exc:
                problems.append(f"{at}: {exc}")
                continue
            shown_low = "-∞" if low is None else b.lower
            shown_high = "∞" if high is None else b.upper
            label = b.label or f"[{shown_low}, {shown_high})"
            numeric.append(NumericBin(low, high, points, label))
        else:
            if b.values is None or b.lower is not None or b.upper is not None:
                problems.append(f"{at}: {spec.input} is a category; list its values")
                continue
            values = frozenset(_category(v) for v in b.values)
            categories.append(CategoryBin(values, points, b.label or ",".join(sorted(values))))
    if numeric:
        problems.extend(f"{where}.{p}" for p in coverage_problems(numeric))
    if categories:
        seen: dict[str, int] = {}
        for i, c in enumerate(categories):
            for value in c.values:
                if value in seen:
                    problems.append(f"{where}.bins[{i}]: {value!r} is also in bins[{seen[value]}]")
                seen[value] = i
        if spec.otherwise is None and kind is not InputKind.FLAG:
            problems.append(f"{where}.otherwise: give points for values no bin lists")
        if kind is InputKind.FLAG and set(seen) != {"true", "false"}:
            problems.append(f"{where}.bins: {spec.input} is true or false; give points for both")
    otherwise = (
        _points(spec.otherwise, f"{where}.otherwise", woe_terms, problems)
        if (spec.otherwise)
        else None
    )
    missing = (
        _points(spec.missing, f"{where}.missing", woe_terms, problems) if (spec.missing) else None
    )
    return Characteristic(
        spec.name, spec.input, spec.reason, tuple(numeric), tuple(categories), otherwise, missing
    )


def _category(value: str | bool) -> str:
    return str(value).lower() if isinstance(value, bool) else value


def compile_scorecard(spec: ScorecardSpec, source: str) -> Scorecard:
    scaling = Scaling(spec.scaling.base_score, spec.scaling.base_odds, spec.scaling.pdo)
    problems: list[str] = []
    characteristics = []
    names = set()
    for i, c in enumerate(spec.characteristics):
        where = f"{source}: characteristics[{i}]"
        if c.name in names:
            problems.append(f"{where}.name: {c.name!r} appears twice")
        names.add(c.name)
        compiled = _characteristic(c, where, spec, scaling, problems)
        if compiled is not None:
            characteristics.append(compiled)
    if problems:
        raise Problems(problems)
    return Scorecard(spec.code, spec.version, scaling, tuple(characteristics))


def compile_table(spec: DecisionTableSpec, source: str) -> DecisionTable:
    problems: list[str] = []
    if len(set(spec.grades)) != len(spec.grades):
        problems.append(f"{source}: grades: a grade appears twice")
    rules = []
    for i, r in enumerate(spec.rules):
        where = f"{source}: rules[{i}]"
        conditions = []
        for name, cell in r.when.items():
            kind = TABLE_FACTS.get(name)
            if kind is None:
                known = ", ".join(TABLE_FACTS)
                problems.append(f"{where}.when.{name}: unknown input (known: {known})")
                continue
            if cell is None or cell == "-":
                continue
            try:
                text, test = parse_condition(kind, cell, _number(kind, name))
            except ValueError as exc:
                problems.append(f"{where}.when.{name}: {exc}")
                continue
            conditions.append(Condition(name, text, test))
        problems.extend(_rule_output_problems(r, where, spec.grades))
        max_amount = None
        if r.max_amount is not None:
            try:
                max_amount = parse_amount(str(r.max_amount), field="max_amount")
            except BadInput as exc:
                problems.append(f"{where}.max_amount: {exc}")
        rules.append(
            Rule(i + 1, tuple(conditions), r.outcome, tuple(r.reasons), r.grade, max_amount)
        )
    if problems:
        raise Problems(problems)
    return DecisionTable(spec.code, spec.version, spec.hit_policy, tuple(spec.grades), tuple(rules))


def _rule_output_problems(rule: RuleSpec, where: str, grades: list[str]) -> list[str]:
    import re

    problems = [
        f"{where}.reasons: {code!r} is not a reason code like SCORE_TOO_LOW"
        for code in rule.reasons
        if not re.match(REASON, code)
    ]
    if rule.grade is not None and rule.grade not in grades:
        problems.append(f"{where}.grade: {rule.grade!r} is not one of {', '.join(grades)}")
    if rule.outcome == "approve" and rule.grade is None:
        problems.append(f"{where}.grade: an approve rule needs a grade (pricing is by grade)")
    if rule.outcome != "approve" and not rule.reasons:
        problems.append(f"{where}.reasons: a {rule.outcome} rule needs at least one reason code")
    return problems


def compile_text(text: str, source: str) -> Scorecard | DecisionTable:
    """Parse and check one file's text; every problem at once, as `file: path: message`."""
    try:
        data = parse_yaml(text)
    except Exception as exc:  # yaml.YAMLError, reported as one line
        raise BadInput(f"{source}:{yaml_problem(exc)}") from None
    kind = data.get("kind") if isinstance(data, dict) else None
    if kind == "scorecard":
        return compile_scorecard(parse_model(ScorecardSpec, data, source), source)
    if kind == "decision_table":
        return compile_table(parse_model(DecisionTableSpec, data, source), source)
    raise BadInput(f"{source}: kind: expected scorecard or decision_table, got {kind!r}")


def load_file(path: Path) -> Loaded:
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            raise BadInput(f"{path}: the file is over the {MAX_YAML_BYTES:,}-byte limit for YAML")
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {exc}") from None
    return Loaded(compile_text(text, str(path)), str(path), hashlib.sha256(raw).hexdigest(), text)


def packaged_folder() -> Path:
    return Path(str(resources.files("lendflow.config").joinpath(FOLDER_NAME)))


class CreditModels:
    """Finds models by code, workspace folder first; reloads a file only when it changes."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = folders
        self._cache: dict[Path, tuple[int, int, Loaded]] = {}

    def _path(self, code: str) -> Path:
        for folder in self.folders:
            path = folder / f"{code}.yaml"
            if path.is_file():
                return path
        where = ", ".join(map(str, self.folders))
        raise NotFound(f"no scorecard or decision table {code!r} in {where}")

    def get(self, code: str) -> Loaded:
        path = self._path(code)
        stat = path.stat()
        cached = self._cache.get(path)
        if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        loaded = load_file(path)
        if loaded.model.code != code:
            raise BadInput(f"{path}: code: {loaded.model.code!r} does not match the file name")
        self._cache[path] = (stat.st_mtime_ns, stat.st_size, loaded)
        return loaded

    def scorecard(self, code: str) -> Loaded:
        loaded = self.get(code)
        if not isinstance(loaded.model, Scorecard):
            raise BadInput(f"{loaded.source}: {code!r} is a decision table, not a scorecard")
        return loaded

    def table(self, code: str) -> Loaded:
        loaded = self.get(code)
        if not isinstance(loaded.model, DecisionTable):
            raise BadInput(f"{loaded.source}: {code!r} is a scorecard, not a decision table")
        return loaded


def credit_setup_problems(spec: Any, models: CreditModels, source: str) -> list[str]:
    """What stops a product's automated review from working: missing or broken models,
    and risk grades the product does not price."""
    if spec.scorecard is None and spec.decision_table is None:
        return []  # every application goes to a person
    problems: list[str] = []
    if spec.scorecard is None or spec.decision_table is None:
        return [f"{source}: scorecard and decision_table: give both for automated review"]
    found: dict[str, Loaded] = {}
    for field, code in (
        ("scorecard", spec.scorecard),
        ("decision_table", spec.decision_table),
        ("challenger", spec.challenger),
    ):
        if code is None:
            continue
        try:
            found[field] = (
                models.table(code) if field == "decision_table" else models.scorecard(code)
            )
        except Problems as exc:
            problems.extend(exc.problems)
        except BadInput as exc:
            problems.append(f"{source}: {field}: {exc.message}")
    table = found.get("decision_table")
    if table is not None and isinstance(table.model, DecisionTable):
        graded = {r.grade for r in table.model.rules if r.grade is not None}
        for grade in sorted(graded - set(spec.rate.by_grade)):
            problems.append(
                f"{source}: rate.by_grade: grade {grade} of {table.model.code} has no rate"
            )
    return problems

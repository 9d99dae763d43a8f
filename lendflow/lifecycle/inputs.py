"""Stage inputs: captured as given, then read with every problem named by file and line.

A stage run keeps each input exactly as it was read (name, file, SHA-256 and
the text, or where a large file was), and the steps parse that captured text,
so what the run recorded is what it used. A malformed file fails the step with
`file: line N: problem` lines and nothing else changes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from lendflow.config.loading import field_path, parse_yaml
from lendflow.config.policy import Strict
from lendflow.config.product_spec import ProductSpec
from lendflow.domain.errors import BadInput, LendflowError, Problems
from lendflow.domain.money import parse_amount, parse_decimal
from lendflow.domain.research import Competitor, MarketMonth, SurveyResponse
from lendflow.domain.schedule import Method
from lendflow.lifecycle.catalog import Stage, samples_folder

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

MAX_STORED_INPUT = 1024 * 1024
"""Inputs up to this many bytes are stored with the run; larger ones by reference."""


@dataclass(frozen=True)
class CapturedInput:
    """An input file as a stage run read it."""

    name: str
    file: str
    sha256: str
    size: int
    text: str
    from_samples: bool
    location: str

    def record(self) -> dict[str, Any]:
        """What the run stores: the text itself, or a reference when the file is large."""
        kept: dict[str, Any] = {
            "name": self.name,
            "file": self.file,
            "sha256": self.sha256,
            "size": self.size,
            "from_samples": self.from_samples,
        }
        if self.size <= MAX_STORED_INPUT:
            kept["content"] = self.text
        else:
            kept["reference"] = self.location
        return kept


def capture_inputs(
    stage: Stage, given: dict[str, Path], *, use_samples: bool
) -> list[CapturedInput]:
    """Read every input of `stage`: those given, and the samples for the rest if asked.

    Without `use_samples` every input must be given; a missing or unreadable
    file is refused here, before any run is recorded.
    """
    for name in given:
        stage.input(name)
    missing = [i.name for i in stage.inputs if i.name not in given]
    if missing and not use_samples:
        wanted = " ".join(f"--input {name}=FILE" for name in missing)
        raise BadInput(f"stage {stage.id} needs {wanted} (or --samples for the shipped samples)")
    captured = []
    for item in stage.inputs:
        if item.name in given:
            path = given[item.name]
            captured.append(_capture(item.name, path, str(path), from_samples=False))
        else:
            path = item.sample_path()
            shown = f"samples/{path.relative_to(samples_folder())}"
            captured.append(_capture(item.name, path, shown, from_samples=True))
    return captured


def capture_file(name: str, path: Path) -> CapturedInput:
    """One input file read outside a stage run (e.g. the survey a simulation draws from)."""
    return _capture(name, path, str(path), from_samples=False)


def _capture(name: str, path: Path, shown: str, *, from_samples: bool) -> CapturedInput:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(f"{shown}: file not found") from None
    except OSError as exc:
        raise BadInput(f"{shown}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{shown}: not UTF-8 text") from None
    return CapturedInput(
        name=name,
        file=shown,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        text=text,
        from_samples=from_samples,
        location=str(path.resolve()),
    )


# --- YAML inputs -------------------------------------------------------------------------


def yaml_line(text: str, location: tuple[int | str, ...]) -> int | None:
    """The line of the deepest part of `location` present in the YAML text."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:  # pragma: no cover - the text already parsed
        return None
    line = None
    for part in location:
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            found = next(((k, v) for k, v in node.value if k.value == part), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                break
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def read_yaml_model(model: type[M], source: CapturedInput) -> M:
    """Validate a YAML input as `model`, naming file, line and field of every problem."""
    if not source.text.strip():
        raise BadInput(f"{source.file}: the file is empty")
    try:
        data = parse_yaml(source.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BadInput(f"{source.file}:{where} {problem}") from None
    if not isinstance(data, dict):
        raise BadInput(f"{source.file}: line 1: expected a mapping of fields")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = tuple(error["loc"])
            line = yaml_line(source.text, location)
            where = f" line {line}:" if line is not None else ""
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{source.file}:{where} {field_path(location)}: {message}")
        raise Problems(problems) from None


class Segment(Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    name: str = Field(min_length=1)
    description: str = ""


class Scope(Strict):
    in_scope: list[str] = Field(default_factory=list)
    out_of_scope: list[str] = Field(default_factory=list)


class SuccessMeasure(Strict):
    name: str = Field(min_length=1)
    target: str
    unit: str = ""

    @field_validator("target", mode="before")
    @classmethod
    def _as_text(cls, value: object) -> object:
        return value if isinstance(value, str) else str(value)

    @property
    def measurable(self) -> bool:
        return re.fullmatch(r"[0-9]+(\.[0-9]+)?", self.target.strip()) is not None


class Milestone(Strict):
    name: str = Field(min_length=1)
    by: date


class Charter(Strict):
    """Stage 1's input: why the product exists, for whom, and what it will not do."""

    objective: str
    objective_en: str = ""
    target_segments: list[Segment] = Field(default_factory=list)
    scope: Scope = Field(default_factory=Scope)
    success_measures: list[SuccessMeasure] = Field(default_factory=list)
    sponsor: str = ""
    milestones: list[Milestone] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_segments(self) -> Charter:
        codes = [s.code for s in self.target_segments]
        if len(set(codes)) != len(codes):
            raise ValueError("target segment codes must be unique")
        return self


def read_charter(source: CapturedInput) -> Charter:
    return read_yaml_model(Charter, source)


def read_spec(source: CapturedInput, product_code: str) -> ProductSpec:
    """The product spec a design run checks; it must be the spec of this product."""
    spec = read_yaml_model(ProductSpec, source)
    if spec.code != product_code:
        line = yaml_line(source.text, ("code",))
        raise BadInput(
            f"{source.file}: line {line}: code: the spec is for product {spec.code!r},"
            f" not {product_code!r}"
        )
    return spec


# --- CSV inputs --------------------------------------------------------------------------


def _csv_rows(
    source: CapturedInput, columns: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Each non-blank row with its line number; the header must name every column."""
    if not source.text.strip():
        raise BadInput(f"{source.file}: the file is empty")
    reader = csv.DictReader(io.StringIO(source.text))
    header = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = header
    missing = [c for c in columns if c not in header]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise BadInput(
            f"{source.file}: line 1: missing column{plural} {', '.join(missing)}"
            f" (the header must name {', '.join(columns)})"
        )
    seen = False
    for row in reader:
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue
        seen = True
        yield reader.line_num, {k: (row.get(k) or "").strip() for k in columns}
    if not seen:
        raise BadInput(f"{source.file}: no rows after the header")


def read_rows(
    source: CapturedInput,
    columns: tuple[str, ...],
    parse: Callable[[int, dict[str, str]], T],
) -> list[T]:
    """Every row parsed, or every bad row reported as `file: line N: problem`."""
    rows: list[T] = []
    problems: list[str] = []
    for line, raw in _csv_rows(source, columns):
        try:
            rows.append(parse(line, raw))
        except LendflowError as exc:
            problems.append(f"{source.file}: line {line}: {exc.message}")
    if problems:
        raise Problems(problems)
    return rows


def whole_number(raw: str, field: str, low: int, high: int) -> int:
    if not re.fullmatch(r"[0-9]+", raw):
        raise BadInput(f"{field} is not a whole number: {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise BadInput(f"{field} must be between {low} and {high}, got {value}")
    return value


def cell_text(raw: str, field: str) -> str:
    if not raw:
        raise BadInput(f"{field} is empty")
    return raw


def rate_cell(raw: str, field: str, high: Decimal) -> Decimal:
    value = parse_decimal(raw, field=field)
    if not Decimal(0) <= value <= high:
        raise BadInput(f"{field} must be between 0 and {high}, got {value}")
    return value


SURVEY_COLUMNS = (
    "respondent_id",
    "segment",
    "age",
    "desired_amount",
    "desired_term",
    "purpose",
    "monthly_income",
    "monthly_expenses",
    "existing_debt_payment",
)


def _survey_row(raw: dict[str, str]) -> SurveyResponse:
    segment = cell_text(raw["segment"], "segment")
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", segment):
        raise BadInput(f"segment must be a code like new_citizens, got {segment!r}")
    return SurveyResponse(
        respondent=cell_text(raw["respondent_id"], "respondent_id"),
        segment=segment,
        age=whole_number(raw["age"], "age", 16, 100),
        desired_amount=parse_amount(raw["desired_amount"], field="desired_amount"),
        desired_term=whole_number(raw["desired_term"], "desired_term", 1, 120),
        purpose=cell_text(raw["purpose"], "purpose"),
        monthly_income=parse_amount(raw["monthly_income"], field="monthly_income"),
        monthly_expenses=parse_amount(
            raw["monthly_expenses"], field="monthly_expenses", allow_zero=True
        ),
        existing_debt_payment=parse_amount(
            raw["existing_debt_payment"], field="existing_debt_payment", allow_zero=True
        ),
    )


def read_survey(source: CapturedInput) -> list[SurveyResponse]:
    seen: dict[str, int] = {}

    def parse(line: int, raw: dict[str, str]) -> SurveyResponse:
        row = _survey_row(raw)
        if row.respondent in seen:
            raise BadInput(f"respondent_id {row.respondent} repeats line {seen[row.respondent]}")
        seen[row.respondent] = line
        return row

    return read_rows(source, SURVEY_COLUMNS, parse)


COMPETITOR_COLUMNS = (
    "lender",
    "product",
    "apr",
    "min_amount",
    "max_amount",
    "terms",
    "repayment_methods",
    "rating",
    "review_count",
)
_METHODS = {m.value for m in Method}


def _competitor_row(raw: dict[str, str]) -> Competitor:
    low = parse_amount(raw["min_amount"], field="min_amount")
    high = parse_amount(raw["max_amount"], field="max_amount")
    if high < low:
        raise BadInput(f"max_amount {raw['max_amount']} is below min_amount {raw['min_amount']}")
    terms = tuple(
        whole_number(t.strip(), "terms", 1, 120) for t in raw["terms"].split("|") if t.strip()
    )
    if not terms:
        raise BadInput("terms is empty (months separated by |, e.g. 3|6|12)")
    methods = tuple(m.strip() for m in raw["repayment_methods"].split("|") if m.strip())
    unknown = [m for m in methods if m not in _METHODS]
    if not methods or unknown:
        raise BadInput(
            f"repayment_methods must be some of {'|'.join(sorted(_METHODS))},"
            f" got {raw['repayment_methods']!r}"
        )
    apr = rate_cell(raw["apr"], "apr", Decimal(100))
    if apr == 0:
        raise BadInput("apr must be more than zero")
    return Competitor(
        lender=cell_text(raw["lender"], "lender"),
        product=cell_text(raw["product"], "product"),
        apr=apr,
        min_amount=low,
        max_amount=high,
        terms=tuple(sorted(set(terms))),
        methods=methods,
        rating=rate_cell(raw["rating"], "rating", Decimal(5)),
        reviews=whole_number(raw["review_count"], "review_count", 0, 10**9),
    )


def read_competitors(source: CapturedInput) -> list[Competitor]:
    return read_rows(source, COMPETITOR_COLUMNS, lambda _line, raw: _competitor_row(raw))


MARKET_COLUMNS = ("month", "new_loans_volume", "outstanding_balance", "delinquency_rate")


def _market_row(raw: dict[str, str]) -> MarketMonth:
    month = raw["month"]
    if not re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", month):
        raise BadInput(f"month must be YYYY-MM, got {month!r}")
    return MarketMonth(
        month=month,
        volume=parse_amount(raw["new_loans_volume"], field="new_loans_volume"),
        balance=parse_amount(raw["outstanding_balance"], field="outstanding_balance"),
        delinquency=rate_cell(raw["delinquency_rate"], "delinquency_rate", Decimal(100)),
    )


def _next_month(month: str) -> str:
    year, number = int(month[:4]), int(month[5:])
    return f"{year + number // 12}-{number % 12 + 1:02d}"


def read_market(source: CapturedInput) -> list[MarketMonth]:
    """The monthly series: consecutive months, oldest first, at least three of them."""
    rows = read_rows(source, MARKET_COLUMNS, lambda _line, raw: _market_row(raw))
    for before, after in pairwise(rows):
        if after.month != _next_month(before.month):
            raise BadInput(
                f"{source.file}: month {after.month} does not follow {before.month}"
                " (the series must be consecutive months, oldest first)"
            )
    if len(rows) < 3:
        raise BadInput(f"{source.file}: a trend needs at least 3 months, found {len(rows)}")
    return rows

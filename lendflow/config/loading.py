"""Loading YAML files into pydantic models with errors a person can act on.

Every problem in a file is reported at once, each as `file: field.path: message`,
so a product manager fixes a spec in one pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from lendflow.domain.errors import BadInput, Problems

M = TypeVar("M", bound=BaseModel)


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_YAML_BYTES = 1_000_000
"""The largest YAML file lendflow reads (1 MB): the biggest shipped file is a few KB, so
anything near this is a mistake or an attack, refused before it is parsed."""

_LIMIT = f"{MAX_YAML_BYTES // 1_000_000} MB"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class YamlRefused(yaml.YAMLError):
    """YAML that parses but that lendflow will not take; reported like a syntax error."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.problem_mark = mark


class InvalidDate(str):
    """A value written as a date that names no day on the calendar (2026-02-30).

    It stays the text that was written, so the model's validation names its field;
    `parse_model` reports it as `file: path: ... is not a date`.
    """

    reason: str = ""


class _StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    """Safe loading that refuses what YAML would silently accept: a key given twice (the
    last would win), and anchors and aliases (a few lines can expand to gigabytes)."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        if node in self.constructed_objects or node in self.recursive_objects:
            raise YamlRefused(
                "anchors and aliases are not allowed (the anchor here is used again)",
                node.start_mark,
            )
        return super().construct_object(node, deep)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> Any:
        seen: dict[tuple[str, str], int] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            first = seen.setdefault((key.tag, key.value), key.start_mark.line + 1)
            if first != key.start_mark.line + 1:
                raise YamlRefused(
                    f"duplicate key {key.value!r} (first given on line {first})", key.start_mark
                )
        return super().construct_mapping(node, deep)

    def construct_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return self.construct_yaml_timestamp(node)
        except ValueError as exc:
            invalid = InvalidDate(self.construct_scalar(node))
            invalid.reason = str(exc)
            return invalid


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_timestamp)


def parse_yaml(text: str) -> Any:
    """Safe YAML parsing, with libyaml's C parser when it is installed (ten times faster).

    Refuses text over `MAX_YAML_BYTES`, duplicate keys and aliases with a `yaml.YAMLError`
    that carries the line, as a syntax error does.
    """
    if len(text) > MAX_YAML_BYTES:
        raise YamlRefused(f"{len(text):,} characters is over the {_LIMIT} limit for YAML")
    return yaml.load(text, Loader=_StrictLoader)


def parse_stored_yaml(text: str) -> Any:
    """YAML that lendflow itself stored (a product version's spec), read back as it was
    read when it was accepted: a spec stored before the strict loader keeps its meaning,
    so the loans made under it are not refused."""
    return yaml.load(text, Loader=_Loader)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing, oversized or malformed file is one clear line."""
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:
            raise BadInput(f"{path}: the file is {size:,} bytes, over the {_LIMIT} limit for YAML")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {exc}") from None
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}:{yaml_problem(exc)}") from None


def yaml_problem(exc: Exception) -> str:
    """A YAML error as ` line N: problem` (or ` problem` without a line)."""
    mark = getattr(exc, "problem_mark", None)
    where = f" line {mark.line + 1}:" if mark is not None else ""
    problem = getattr(exc, "problem", None) or "not valid YAML"
    return f"{where} {problem}"


def invalid_dates(data: Any, location: tuple[int | str, ...] = ()) -> dict[str, str]:
    """{field path: message} for every value written as a date that is not one."""
    if isinstance(data, InvalidDate):
        return {field_path(location): f"{data} is not a date ({data.reason})"}
    found: dict[str, str] = {}
    items = (
        data.items()
        if isinstance(data, dict)
        else enumerate(data)
        if isinstance(data, list)
        else ()
    )
    for key, value in items:
        found.update(invalid_dates(value, (*location, key if isinstance(key, int) else str(key))))
    return found


def field_path(location: tuple[int | str, ...]) -> str:
    """Render a pydantic error location as a dotted path with [index] for lists."""
    parts: list[str] = []
    for item in location:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top)"


def validation_problems(source: str, error: ValidationError) -> list[str]:
    """Every pydantic error as `source: field.path: message`."""
    return [validation_problem(source, item) for item in error.errors()]


def validation_problem(source: str, item: Any) -> str:
    """One pydantic error as `source: field.path: message`."""
    message = item["msg"].removeprefix("Value error, ")
    return f"{source}: {field_path(item['loc'])}: {message}"


def parse_model(model: type[M], data: Any, source: str) -> M:
    """Validate `data` as `model`, raising `Problems` listing every error in `source`."""
    if not isinstance(data, dict):
        raise Problems([f"{source}: (top): expected a mapping of fields"])
    dates = invalid_dates(data)
    problems = [f"{source}: {path}: {message}" for path, message in dates.items()]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        for item in exc.errors():
            if field_path(item["loc"]) not in dates:
                problems.append(validation_problem(source, item))
        raise Problems(problems) from None
    if problems:
        raise Problems(problems)
    return parsed


def load_model(model: type[M], path: Path) -> M:
    return parse_model(model, read_yaml(path), str(path))

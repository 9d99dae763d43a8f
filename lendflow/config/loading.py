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


def parse_yaml(text: str) -> Any:
    """Safe YAML parsing, with libyaml's C parser when it is installed (ten times faster)."""
    return yaml.load(text, Loader=_Loader)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file; a missing file or a syntax error is one clear line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read: {exc}") from None
    try:
        return parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BadInput(f"{path}:{where}: {problem}") from None


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
    problems = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{source}: {field_path(item['loc'])}: {message}")
    return problems


def parse_model(model: type[M], data: Any, source: str) -> M:
    """Validate `data` as `model`, raising `Problems` listing every error in `source`."""
    if not isinstance(data, dict):
        raise Problems([f"{source}: (top): expected a mapping of fields"])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise Problems(validation_problems(source, exc)) from None


def load_model(model: type[M], path: Path) -> M:
    return parse_model(model, read_yaml(path), str(path))

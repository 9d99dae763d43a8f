"""Printing for the CLI: JSON for machines, rich tables for people."""

from __future__ import annotations

import json
import sys
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel
    from rich.console import Console


@cache
def _console() -> Console:
    """Rich is imported only by commands that print for people (JSON output skips it)."""
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 120)


class _LazyConsole:
    def __getattr__(self, name: str) -> Any:
        return getattr(_console(), name)


console: Any = _LazyConsole()


def print_json(data: Any) -> None:
    """One JSON document on stdout, UTF-8 kept readable (names in Chinese stay Chinese)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def print_result(result: BaseModel) -> None:
    """A use case's result as JSON: the same document the HTTP API serves for it."""
    print_json(result.model_dump(mode="json"))

"""A named check with its verdict and the figure behind it: gate criteria, sandbox checks.

Checks that can find several problems return them all as values, so a gate shows every
criterion that failed, not only the first.

A criterion says what it found twice: `figure`, one English line (what the stored run,
`gate show` and the English report print), and `facts`, the figures that line is made
of (counts, fen, rates as decimal text, codes), from which a report in any locale writes
its own sentence. Facts are plain JSON values, so a stored criterion keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Criterion:
    """One automatic gate criterion: its name, whether it passed, and the figure that says so."""

    name: str
    passed: bool
    figure: str
    facts: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"name": self.name, "passed": self.passed, "figure": self.figure}
        if self.facts:
            shown["facts"] = plain(self.facts)
        return shown

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Criterion:
        return cls(
            str(data["name"]), bool(data["passed"]), str(data["figure"]), data.get("facts") or {}
        )


def plain(value: Any) -> Any:
    """Facts as JSON keeps them: decimals as their text, tuples as lists."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def all_passed(criteria: list[Criterion]) -> bool:
    """A gate with no criteria has nothing to pass; one that has some needs every one."""
    return all(c.passed for c in criteria)

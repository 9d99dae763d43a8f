"""A named check with its verdict and the figure behind it: gate criteria, sandbox checks.

Checks that can find several problems return them all as values, so a gate shows every
criterion that failed, not only the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Criterion:
    """One automatic gate criterion: its name, whether it passed, and the figure that says so."""

    name: str
    passed: bool
    figure: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "passed": self.passed, "figure": self.figure}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Criterion:
        return cls(str(data["name"]), bool(data["passed"]), str(data["figure"]))


def all_passed(criteria: list[Criterion]) -> bool:
    """A gate with no criteria has nothing to pass; one that has some needs every one."""
    return all(c.passed for c in criteria)

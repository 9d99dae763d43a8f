"""Decision tables: ordered rules over typed inputs, read like a DMN table.

A rule matches when every condition it names holds. With hit policy `first`
the first matching rule decides; with `collect` every matching rule counts and
the strictest result wins (reject over refer over approve, the worst grade, the
smallest amount cap), with every reason kept. When nothing matches the
application goes to a person: a table that forgot a case must never approve.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Literal

NumberLike = int | Decimal
Outcome = Literal["approve", "refer", "reject"]
SEVERITY: dict[str, int] = {"approve": 0, "refer": 1, "reject": 2}
NO_RULE = "NO_RULE_MATCHED"


class InputKind(StrEnum):
    NUMBER = "number"
    MONEY = "money"
    CATEGORY = "category"
    FLAG = "flag"


Test = Callable[[object], bool]


@dataclass(frozen=True, slots=True)
class Condition:
    input: str
    text: str
    test: Test

    def holds(self, facts: Mapping[str, object]) -> bool:
        value = facts[self.input]
        return value is not None and self.test(value)


@dataclass(frozen=True, slots=True)
class Rule:
    number: int
    conditions: tuple[Condition, ...]
    outcome: Outcome
    reasons: tuple[str, ...] = ()
    grade: str | None = None
    max_amount: int | None = None

    def matches(self, facts: Mapping[str, object]) -> bool:
        return all(c.holds(facts) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class TableResult:
    outcome: Outcome
    reasons: tuple[str, ...]
    grade: str | None
    max_amount: int | None
    rules: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DecisionTable:
    code: str
    version: int
    hit_policy: Literal["first", "collect"]
    grades: tuple[str, ...]
    rules: tuple[Rule, ...]

    def evaluate(self, facts: Mapping[str, object]) -> TableResult:
        if self.hit_policy == "first":
            for rule in self.rules:
                if rule.matches(facts):
                    return TableResult(
                        rule.outcome, rule.reasons, rule.grade, rule.max_amount, (rule.number,)
                    )
            return TableResult("refer", (NO_RULE,), None, None, ())
        hits = [rule for rule in self.rules if rule.matches(facts)]
        if not hits:
            return TableResult("refer", (NO_RULE,), None, None, ())
        return self._collect(hits)

    def _collect(self, hits: Sequence[Rule]) -> TableResult:
        outcome = max((r.outcome for r in hits), key=SEVERITY.__getitem__)
        reasons = tuple(dict.fromkeys(reason for r in hits for reason in r.reasons))
        grades = [r.grade for r in hits if r.grade is not None]
        grade = max(grades, key=self.grades.index) if grades else None
        caps = [r.max_amount for r in hits if r.max_amount is not None]
        return TableResult(
            outcome, reasons, grade, min(caps) if caps else None, tuple(r.number for r in hits)
        )


_COMPARISON = re.compile(r"^(<=|>=|<|>|=|!=)\s*(\S+)$")
_RANGE = re.compile(r"^([\[(])\s*(\S+?)\s*\.\.\s*(\S+?)\s*([\])])$")


def parse_condition(
    kind: InputKind, written: object, number: Callable[[str], NumberLike]
) -> tuple[str, Test]:
    """Compile one cell of the table; raises ValueError with the reason a person can fix.

    Numbers take `< 580`, `>= 35`, `[540..580)` (brackets include, parentheses
    exclude) or a plain value; categories take a value or a list of values;
    flags take true or false.
    """
    if kind is InputKind.FLAG:
        if not isinstance(written, bool):
            raise ValueError(f"expected true or false, got {written!r}")
        return str(written).lower(), lambda v: v is written
    if kind is InputKind.CATEGORY:
        if isinstance(written, str):
            return written, lambda v: v == written
        if isinstance(written, list) and written and all(isinstance(w, str) for w in written):
            allowed = frozenset(written)
            return f"in {sorted(allowed)}", lambda v: v in allowed
        raise ValueError(f"expected a value or a list of values, got {written!r}")
    if isinstance(written, bool) or not isinstance(written, str | int):
        raise ValueError(f"expected a comparison like '< 580' or a range '[1..5)', got {written!r}")
    text = str(written).strip()
    return text, _numeric_test(text, number)


def _numeric_test(text: str, number: Callable[[str], NumberLike]) -> Test:
    compared = _COMPARISON.match(text)
    if compared:
        op, bound = compared.group(1), number(compared.group(2))
        tests: dict[str, Test] = {
            "<": lambda v: v < bound,  # type: ignore[operator]
            "<=": lambda v: v <= bound,  # type: ignore[operator]
            ">": lambda v: v > bound,  # type: ignore[operator]
            ">=": lambda v: v >= bound,  # type: ignore[operator]
            "=": lambda v: v == bound,
            "!=": lambda v: v != bound,
        }
        return tests[op]
    ranged = _RANGE.match(text)
    if ranged:
        low, high = number(ranged.group(2)), number(ranged.group(3))
        if high < low:
            raise ValueError(f"range {text} ends below where it starts")
        low_in, high_in = ranged.group(1) == "[", ranged.group(4) == "]"
        return lambda v: (
            (v >= low if low_in else v > low)
            and (  # type: ignore[operator]
                v <= high if high_in else v < high  # type: ignore[operator]
            )
        )
    bound = number(text)
    return lambda v: v == bound


def decimal_number(text: str) -> Decimal:
    """A plain decimal number as written in a table cell (never through float)."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    return value

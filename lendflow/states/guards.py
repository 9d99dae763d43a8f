"""Named guards and callbacks that machine definitions refer to.

A guard is a pure predicate over the transition's context (a mapping the
service fills with what the rule needs) with the one-line reason given when it
fails. Callbacks record; they never do I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Context = Mapping[str, Any]


@dataclass(frozen=True)
class Guard:
    predicate: Callable[[Context], bool]
    reason: str


GUARDS: dict[str, Guard] = {
    "approved_within_requested": Guard(
        lambda c: 0 < c["approved_amount"] <= c["requested_amount"],
        "approved amount must be more than zero and no more than the amount requested",
    ),
    "has_reason": Guard(lambda c: bool(c.get("reason")), "a rejection needs a reason code"),
    "approval_lapsed": Guard(
        lambda c: c["as_of"] > c["approval_expires_on"], "the approval has not lapsed yet"
    ),
    "approval_valid": Guard(
        lambda c: c["as_of"] <= c["approval_expires_on"],
        "the approval has lapsed; it can only expire now",
    ),
    "late_enough_to_accelerate": Guard(
        lambda c: c["days_past_due"] >= c["acceleration_days"],
        "refused by rule ACCELERATION_DAYS: the loan is not yet as many days past due as"
        " the product requires before it may be declared due",
    ),
    "fully_repaid": Guard(lambda c: c["outstanding"] == 0, "the loan still has money owing"),
    "gate_criteria_passed": Guard(
        lambda c: c["criteria_passed"] is True,
        "not every automatic criterion of the gate passed; recycle, hold or kill instead",
    ),
    "has_note": Guard(
        lambda c: bool(str(c.get("note") or "").strip()),
        "a hold needs a note saying why and what would resume it",
    ),
    "gate_criteria_passed_or_noted": Guard(
        lambda c: c["criteria_passed"] is True or bool(str(c.get("note") or "").strip()),
        "a criterion failed; keeping the product live needs a note saying what is done about it",
    ),
    "has_spec_changes": Guard(
        lambda c: c["spec_changes"] > 0,
        "the improvement plan proposes no change to the spec; there is no next version to open",
    ),
}

CALLBACKS: frozenset[str] = frozenset({"record_transition"})

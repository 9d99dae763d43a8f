"""Named fault points: where a test or the fault simulator may kill the process.

Crash safety is only proven by crashing. A use case marks the moments where a
crash is most dangerous (after the gateway paid but before the commit, inside a
close-of-business chunk, inside a repayment-file chunk) with `fault_point(name)`.
Unless `LENDFLOW_FAULT` names that point, the call costs one dictionary look-up.

`LENDFLOW_FAULT=disbursement.after_gateway` kills the process (exit 137, as
kill -9 would, with no cleanup and no commit) the first time that point is
reached; `LENDFLOW_FAULT=disbursement.after_gateway@3` the third time.
"""

from __future__ import annotations

import os

FAULT_ENV = "LENDFLOW_FAULT"
KILLED_EXIT_CODE = 137

_hits: dict[str, int] = {}


def _armed() -> tuple[str, int] | None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return None
    name, _, count = spec.partition("@")
    return name, int(count) if count.isdigit() and int(count) > 0 else 1


def fault_point(name: str) -> None:
    """Die here, at once, if `LENDFLOW_FAULT` names this point and its hit count is reached."""
    armed = _armed()
    if armed is None or armed[0] != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= armed[1]:
        os._exit(KILLED_EXIT_CODE)

"""Fault points kill the process only where and when `LENDFLOW_FAULT` says."""

from __future__ import annotations

import subprocess
import sys

from lendflow.workspace.faults import KILLED_EXIT_CODE

SCRIPT = """
from lendflow.workspace.faults import fault_point
for i in range(1, 6):
    fault_point("demo.point")
    print(i, flush=True)
"""


def _run(fault: str | None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin"}
    if fault is not None:
        env["LENDFLOW_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=False
    )


def test_an_unarmed_point_lets_the_work_finish() -> None:
    result = _run(None)
    assert result.returncode == 0
    assert result.stdout.split() == ["1", "2", "3", "4", "5"]


def test_another_point_armed_changes_nothing() -> None:
    assert _run("other.point").stdout.split() == ["1", "2", "3", "4", "5"]


def test_the_armed_point_kills_at_its_nth_hit_with_nothing_after() -> None:
    result = _run("demo.point@3")
    assert result.returncode == KILLED_EXIT_CODE
    assert result.stdout.split() == ["1", "2"]


def test_a_bare_name_kills_at_the_first_hit() -> None:
    result = _run("demo.point")
    assert result.returncode == KILLED_EXIT_CODE
    assert result.stdout == ""

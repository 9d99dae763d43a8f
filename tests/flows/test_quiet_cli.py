"""A stage run from the command line prints lendflow's lines only; Prefect's own lines
(flow and task runs starting and ending) reach the terminal with `--verbose`.

Runs the real command in a process of its own, reporting to the test harness's server
(`PREFECT_API_URL` given, as a user may give it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stage_run(lendflow, isolated_environment: Path):  # type: ignore[no-untyped-def]
    """Runs `lendflow stage run anxin charter …` in a fresh process; the product exists."""
    from prefect.settings import PREFECT_API_URL

    assert lendflow("init").exit_code == 0
    created = lendflow("product create anxin --name 安心贷 --on 2026-03-02 --as admin")
    assert created.exit_code == 0, created.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_API_URL": str(PREFECT_API_URL.value())}
    env.pop("PREFECT_LOGGING_LEVEL", None)  # a user's shell, not the test session's

    def run(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-c", "from lendflow.cli import main; main()"]
        arguments = ["stage", "run", "anxin", "charter", "--samples", "--on", "2026-03-02"]
        return subprocess.run(
            [*command, *arguments, "--as", "pm", *extra],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    return run


LENDFLOW_LINES = (
    "inputs from the shipped samples: charter (samples/charter.yaml)",
    "charter run 1 of anxin v1 succeeded; anxin is charter, waiting at the charter gate",
    "gate criteria: 4 of 4 passed",
)


def test_without_verbose_no_prefect_line_reaches_the_terminal(stage_run) -> None:  # type: ignore[no-untyped-def]
    result = stage_run()
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.splitlines()[:3] == list(LENDFLOW_LINES)
    assert "prefect" not in result.stdout.lower()


def test_with_verbose_prefect_says_what_it_runs(stage_run) -> None:  # type: ignore[no-untyped-def]
    result = stage_run("--verbose")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == list(LENDFLOW_LINES)  # lendflow's own, unchanged
    assert "Prefect: the server PREFECT_API_URL names" in result.stderr
    assert "Beginning flow run" in result.stderr
    assert "Finished in state Completed()" in result.stderr

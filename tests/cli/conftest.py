"""Running the real `lendflow` command in process, as a user would type it."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from lendflow.cli import app


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def lendflow():  # type: ignore[no-untyped-def]
    """Call as lendflow("calc schedule --principal 100 ...")."""
    runner = CliRunner()

    def run(command: str) -> Run:
        result = runner.invoke(app, shlex.split(command))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Run(result.exit_code, result.stdout, result.stderr)

    return run

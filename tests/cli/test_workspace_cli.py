"""`lendflow init`, `lendflow demo`, `lendflow product validate`, and a folder that holds
no workspace."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lendflow.config.product_spec import example_product_paths


def test_init_twice_is_safe(lendflow, isolated_environment: Path) -> None:  # type: ignore[no-untyped-def]
    first = lendflow("init --json")
    second = lendflow("init --json")
    assert first.exit_code == second.exit_code == 0
    one, two = json.loads(first.stdout), json.loads(second.stdout)
    assert one["key_created"] and not two["key_created"]
    assert one["revision"] == two["revision"]
    assert (isolated_environment / "secret.key").stat().st_mode & 0o777 == 0o600


def test_demo_never_overwrites_a_folder_it_did_not_write(lendflow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    result = lendflow(f"demo --out {tmp_path}")
    assert result.exit_code == 2
    assert "was not written by lendflow demo" in result.stderr
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_validate_ok(lendflow) -> None:  # type: ignore[no-untyped-def]
    for path in example_product_paths():
        result = lendflow(f"product validate {path}")
        assert result.exit_code == 0
        assert result.stdout.startswith("OK: ")


def test_validate_prints_every_problem_and_exits_2(lendflow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(example_product_paths()[0].read_text(encoding="utf-8"))
    data["amount"]["max"] = "-5"
    data["terms"] = "twelve"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = lendflow(f"product validate {path}")
    assert result.exit_code == 2
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{path}: ") for line in lines)
    assert any("amount.max" in line for line in lines) and any("terms" in line for line in lines)


def test_validate_a_missing_file(lendflow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = lendflow(f"product validate {tmp_path / 'nope.yaml'}")
    assert result.exit_code == 2
    assert "file not found" in result.stdout


def test_a_setting_the_environment_gets_wrong_is_refused_in_one_line(  # type: ignore[no-untyped-def]
    lendflow, monkeypatch
) -> None:
    monkeypatch.setenv("LENDFLOW_DECISIONING", "sometimes")
    run = lendflow("loan list")
    assert run.exit_code == 2
    assert run.error().strip() == (
        "error: LENDFLOW_DECISIONING='sometimes': input should be 'automated' or 'manual'"
    )
    monkeypatch.setenv("LENDFLOW_DECISIONING", "manual")
    monkeypatch.setenv("LENDFLOW_WEB_THREADS", "0")
    run = lendflow("web --port 8123")
    assert run.exit_code == 2
    assert run.error().strip() == (
        "error: LENDFLOW_WEB_THREADS='0': input should be greater than or equal to 1"
    )


@pytest.mark.parametrize(
    "command",
    [
        "loan list --as ops",
        "loan show 1 --as ops",
        "product list --as pm",
        "stage show anxin charter --as pm",
        "run review-applications --on 2026-03-02 --as ops",
    ],
)
def test_a_folder_that_holds_no_workspace_is_refused_in_one_line(  # type: ignore[no-untyped-def]
    lendflow, isolated_environment: Path, command: str
) -> None:
    """A home folder without its database (made by hand, or left by a command that failed)
    is no workspace: each command says so, where it ended in a traceback."""
    isolated_environment.mkdir()
    refused = lendflow(command)
    assert refused.exit_code == 2
    assert refused.stderr == (
        f"error: no workspace at {isolated_environment}: run `lendflow init` first\n"
    )
    assert list(isolated_environment.iterdir()) == []


def test_a_stage_run_where_there_is_no_workspace_starts_nothing_and_makes_no_folder(
    tmp_path: Path,
) -> None:
    home = tmp_path / "nowhere"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    refused = subprocess.run(
        [sys.executable, "-c", "from lendflow.cli import main; main()", "stage", "run", "anxin",
         "charter", "--samples", "--on", "2026-03-02", "--as", "pm"],
        env={**env, "LENDFLOW_HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stderr == f"error: no workspace at {home}: run `lendflow init` first\n"
    assert not home.exists()

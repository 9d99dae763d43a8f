"""A plain read as a fresh process leaves the table classes, and SQLModel, unimported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
NATIONAL_ID = sample_national_id(__import__("datetime").date(1990, 5, 17), 322)

# Runs the CLI as `lendflow loan show` does, then reports what it imported on stderr.
PROBE = """
import json, sys
sys.argv = ["lendflow", *sys.argv[1:]]
from lendflow.cli import main
try:
    main()
finally:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlmodel", "lendflow"))
    print(json.dumps(loaded), file=sys.stderr)
"""


def test_loan_show_imports_neither_the_tables_nor_sqlmodel(
    lendflow, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    imported = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05")
    assert imported.exit_code == 0, imported.stderr
    applied = lendflow(
        f"loan apply --consent all --product cash-easy --name 王五 --id-number {NATIONAL_ID}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
    )
    assert applied.exit_code == 0, applied.stderr
    loan = int(applied.stdout.strip())
    root = str(Path(sys.modules["lendflow"].__file__ or "").resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, "loan", "show", str(loan), "--on", "2026-01-10", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["id"] == loan
    loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert "lendflow.store.reads" in loaded  # the read went the fast way
    assert "lendflow.store.tables" not in loaded
    assert not [m for m in loaded if m.split(".")[0] == "sqlmodel"]

"""A plain CLI command as a fresh process: `lendflow loan show` (budget ≤ 0.8 s)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products

BUDGET = 0.8
RUNS = 7


def run() -> bool:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(home=Path(folder))
        init_workspace(settings)
        ws = open_workspace(settings)
        products.import_product(
            ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
        )
        application = Application.parse(
            product="cash-easy",
            name="张三",
            national_id=sample_national_id(date(1990, 5, 17), 123),
            phone="13812345678",
            monthly_income="8000",
            amount="10000",
            term=6,
            consents="all",
        )
        loan_id = applications.apply(ws, ws.actor("ops"), application, date(2026, 1, 10)).id
        ws.close()
        env = {**os.environ, "LENDFLOW_HOME": folder, "LENDFLOW_USER": "ops"}
        command = [
            str(Path(sys.executable).with_name("lendflow")),
            "loan",
            "show",
            str(loan_id),
            "--on",
            "2026-01-10",
        ]
        times = []
        for _ in range(RUNS):
            began = time.perf_counter()
            subprocess.run(command, env=env, check=True, capture_output=True)
            times.append(time.perf_counter() - began)
    median = statistics.median(times)
    verdict = "OK" if median <= BUDGET else "OVER BUDGET"
    print(
        f"`lendflow loan show` as a fresh process: median {median:.2f} s, best {min(times):.2f} s"
        f" over {RUNS} runs; budget {BUDGET} s: {verdict}"
    )
    return median <= BUDGET

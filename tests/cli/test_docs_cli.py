"""`lendflow docs` as a user types it: render a product's documents, list a loan's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
NATIONAL_ID = sample_national_id(__import__("datetime").date(1991, 3, 9), 457)


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    imported = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05")
    assert imported.exit_code == 0, imported.stderr
    return lendflow


def test_brochure_in_markdown_on_stdout(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk("docs render brochure --product cash-easy --on 2026-01-12")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("<!-- content: product -->\n# 随心借 产品说明书\n")
    assert "13.34% – 22.20%" in result.stdout  # the APR range, first thing after the title


def test_english_html_and_pdf_to_files(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html = tmp_path / "risk.html"
    result = desk(
        f"docs render risk-disclosure --product cash-easy --locale en --format html"
        f" --out {html} --on 2026-01-12"
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{html}: ")
    assert "<h1>Cash Easy: risk disclosure</h1>" in html.read_text(encoding="utf-8")
    pdf = tmp_path / "contract.pdf"
    result = desk(f"docs render contract --product cash-easy --format pdf --out {pdf}")
    assert result.exit_code == 0, result.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")


def test_a_loan_lists_its_contract_after_disbursement(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    applied = desk(
        f"loan apply --consent all --product cash-easy --name 赵六 --id-number {NATIONAL_ID}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 6 --on 2026-01-10"
    )
    loan = int(applied.stdout.strip())
    assert desk(f"docs list --loan {loan}").stdout == f"loan {loan} has no documents\n"
    desk(f"loan review {loan} --on 2026-01-10")
    desk(f"loan approve {loan} --as risk --on 2026-01-11")
    assert desk(f"loan disburse {loan} --on 2026-01-12").exit_code == 0
    listed = json.loads(desk(f"docs list --loan {loan} --json").stdout)
    assert [(d["kind"], d["business_date"]) for d in listed] == [("contract", "2026-01-12")]
    issued, again = tmp_path / "issued.html", tmp_path / "again.html"
    assert desk(f"docs get {listed[0]['id']} --out {issued} --as risk").exit_code == 0
    desk(f"docs render contract --loan {loan} --format html --out {again} --as risk")
    assert issued.read_bytes() == again.read_bytes()


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("docs render brochur --product cash-easy", "unknown document kind 'brochur'"),
        ("docs render brochure --product cash-easy --format pdf", "give --out PATH"),
        ("docs render brochure --product cash-easy --format docx", "unknown format 'docx'"),
        ("docs render brochure --product nope", "product 'nope' does not exist"),
        ("docs render overdue-notice --product cash-easy", "give --loan"),
        ("docs list --loan 99", "loan 99 does not exist"),
    ],
)
def test_bad_requests_exit_2_with_one_line(desk, command: str, message: str) -> None:  # type: ignore[no-untyped-def]
    result = desk(command)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr

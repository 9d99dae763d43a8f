"""Bad values at the command line: one line, exit code 2, and the book unchanged, on
SQLite and PostgreSQL alike (issue 14, finding 6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id
from tests.digest import database_digest

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")


@pytest.fixture
def book(lendflow, database_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A workspace on each database with cash-easy live and one disbursed loan (id 1)."""
    monkeypatch.setenv("LENDFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    imported = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05")
    assert imported.exit_code == 0, imported.stderr
    national_id = sample_national_id(date(1990, 5, 17), 321)
    applied = lendflow(
        f"loan apply --consent all --product cash-easy --name 王五 --id-number {national_id}"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
    )
    assert applied.stdout.strip() == "1", applied.stderr
    for step in ("review 1", "approve 1 --as risk", "disburse 1"):
        assert lendflow(f"loan {step} --on 2026-01-12").exit_code == 0
    return lendflow


def refused(book: Callable[[str], object], database_url: str, command: str) -> str:
    """Run a command that must be refused as bad input; its one line, the book unchanged."""
    before = database_digest(database_url)
    result = book(command)
    assert result.exit_code == 2, result.stderr  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    line = result.error()  # type: ignore[attr-defined]
    assert database_digest(database_url) == before
    return str(line)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("loan show 99999999999999999999", "loan id must be a whole number from 1 to 2147483647"),
        ("loan approve 3000000000 --as risk", "loan id must be a whole number from 1 to"),
        ("loan show 0", "loan id must be a whole number"),
        ("docs list --loan 2147483648", "--loan must be a whole number from 1 to 2147483647"),
        ("ticket resolve 99999999999 --resolution done", "ticket id must be a whole number"),
        ("product show cash-easy --version 3000000000", "--version must be a whole number"),
        ("loan repay 1 --amount 100000000.01 --on 2026-02-12", "--amount is too large"),
        ("loan show 1 --on 2026-02-30", "--on is not a date: 2026-02-30"),
        ("loan show 1 --on 9999-12-31", "--on must fall in the years 2000 to 2100"),
        ("kpi show cash-easy --as-of 1970-01-01", "--as-of must fall in the years 2000 to 2100"),
        ("loan withdraw 1 --note " + "x" * 2001, "--note is too long: at most 2000 characters"),
        ("ticket open question --subject " + "s" * 201, "--subject is too long: at most 200"),
        ("loan list --product " + "p" * 65, "--product is too long: at most 64 characters"),
        ("loan show 1 --as adm\x00in", "contains a control character"),
    ],
)
def test_an_out_of_bounds_value_is_one_line_and_changes_nothing(
    book, database_url: str, command: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    assert message in refused(book, database_url, command)


def test_an_idempotency_key_longer_than_its_column_is_refused(book, database_url: str) -> None:  # type: ignore[no-untyped-def]
    key = "k" * 300
    line = refused(
        book, database_url, f"loan repay 1 --amount 100 --on 2026-02-12 --idempotency-key {key}"
    )
    assert line == "error: --idempotency-key is too long: at most 100 characters"
    line = refused(book, database_url, "loan disburse 1 --idempotency-key 'a b'")
    assert "printable ASCII without spaces" in line
    longest = "k" * 100
    paid = book(f"loan repay 1 --amount 100 --on 2026-02-12 --idempotency-key {longest} --json")
    assert paid.exit_code == 0, paid.stderr
    assert json.loads(paid.stdout)["payment"]["idempotency_key"] == longest


def test_calc_refuses_a_date_past_the_bounded_years(lendflow) -> None:  # type: ignore[no-untyped-def]
    base = "calc schedule --principal 10000 --annual-rate 12 --repayments 12"
    result = lendflow(f"{base} --disbursed 9999-12-31")
    assert result.exit_code == 2
    assert result.error() == (
        "error: --disbursed must fall in the years 2000 to 2100, got 9999-12-31"
    )
    long = lendflow(f"{base.replace('12 --rep', '12 --every 200 --rep')} --disbursed 2026-01-01")
    assert long.exit_code == 2
    assert long.error() == "error: 12 repayments every 200 months run past 100 years"
    fee = lendflow(f"{base} --disbursed 2026-01-01 --upfront-fee 1000000.01")
    assert fee.error() == "error: --upfront-fee is too large: at most 1,000,000.00 yuan"


def _product_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_product_file_with_a_date_not_on_the_calendar_is_a_file_path_message(
    lendflow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    spec = _product_file(tmp_path, "valid_from: 2026-02-30\n" + CASH_EASY.read_text("utf-8"))
    result = lendflow(f"product validate {spec}")
    assert result.exit_code == 2
    assert result.stdout.strip() == (
        f"{spec}: valid_from: 2026-02-30 is not a date (day is out of range for month)"
    )


def test_a_product_file_giving_a_key_twice_is_refused_with_its_line(
    lendflow, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    text = CASH_EASY.read_text("utf-8").replace("kind: consumer\n", "kind: consumer\nkind: sme\n")
    line = text.splitlines().index("kind: sme") + 1
    result = lendflow(f"product validate {_product_file(tmp_path, text)}")
    assert result.exit_code == 2
    assert result.stdout.strip() == (
        f"{tmp_path / 'spec.yaml'}: line {line}: duplicate key 'kind' (first given on line"
        f" {line - 1})"
    )


def test_a_product_file_over_the_size_limit_is_refused_unread(lendflow, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = _product_file(tmp_path, CASH_EASY.read_text("utf-8") + "#" * 50_000_000 + "\n")
    result = lendflow(f"product validate {spec}")
    assert result.exit_code == 2
    assert result.stdout.strip().endswith("bytes, over the 1 MB limit for YAML")

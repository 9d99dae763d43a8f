"""`lendflow ledger`: one line and exit 2 for a bad date, window or path; nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workspace(lendflow, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    assert lendflow("init").exit_code == 0
    monkeypatch.setenv("LENDFLOW_USER", "auditor")


def test_the_trial_balance_of_a_new_book_is_every_account_at_nothing(lendflow, workspace) -> None:  # type: ignore[no-untyped-def]
    found = lendflow("ledger trial-balance --as-of 2026-01-31 --json")
    assert found.exit_code == 0, found.stderr
    shown = found.json()
    assert shown["total_debit"] == shown["total_credit"] == "0.00"
    allowance = next(a for a in shown["accounts"] if a["code"] == "loan_loss_allowance")
    assert allowance == {
        "code": "loan_loss_allowance", "name": "贷款损失准备", "gl_code": "1304",
        "debit": "0.00", "credit": "0.00", "balance": "0.00",
    }  # fmt: skip
    provisions = lendflow("ledger provisions --as-of 2026-01-31 --json").json()
    assert provisions["month_end"] is None and provisions["allowance"] == "0.00"


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("ledger trial-balance --as-of 2026-13-01", "--as-of"),
        ("ledger provisions --as-of yesterday", "--as-of"),
        ("ledger export --from 2026-02-01 --to 2026-01-01 --out {tmp}/j.csv", "before --from"),
        (
            "ledger export --from 2026-01-01 --to 2026-01-31 --out {tmp}/none/j.csv",
            "does not exist",
        ),
        ("ledger export --from 2026-01-01 --to 2026-01-31 --out {tmp}", "is a folder"),
        (
            "ledger export --from 2026-01-01 --to 2026-01-31 --out {tmp}/j.csv"
            " --mapping {tmp}/x.yaml",
            "file not found",
        ),
        ("ledger month-end --month 2026-13", "--month"),
        ("ledger month-end --month 2026-01 --out {tmp}/none/m.html", "does not exist"),
    ],
)
def test_a_bad_date_window_or_path_is_one_line(  # type: ignore[no-untyped-def]
    lendflow, workspace, tmp_path: Path, command: str, message: str
) -> None:
    found = lendflow(command.format(tmp=tmp_path))
    assert found.exit_code == 2
    assert message in found.error()
    assert not (tmp_path / "j.csv").exists()


def test_a_mapping_missing_an_account_is_refused_and_nothing_written(  # type: ignore[no-untyped-def]
    lendflow, workspace, tmp_path: Path
) -> None:
    mapping = tmp_path / "gl.yaml"
    mapping.write_text('accounts:\n  cash: {code: "1002", name: "银行存款"}\n', encoding="utf-8")
    found = lendflow(
        f"ledger export --from 2026-01-01 --to 2026-01-31 --out {tmp_path}/j.csv"
        f" --mapping {mapping}"
    )
    assert found.exit_code == 2
    assert "no general-ledger account for loan_principal" in found.error()
    assert not (tmp_path / "j.csv").exists()


def test_an_operator_may_not_read_the_ledger(lendflow, workspace) -> None:  # type: ignore[no-untyped-def]
    found = lendflow("ledger trial-balance --as-of 2026-01-31 --as ops")
    assert found.exit_code != 0 and "may not read the ledger" in found.error()


def test_the_export_and_the_month_end_report_are_written(  # type: ignore[no-untyped-def]
    lendflow, workspace, tmp_path: Path
) -> None:
    out = tmp_path / "journal.csv"
    found = lendflow(f"ledger export --from 2026-01-01 --to 2026-01-31 --out {out} --json")
    assert found.exit_code == 0, found.stderr
    assert found.json()["lines"] == 0
    assert out.read_text(encoding="utf-8").startswith("entry,business_date,kind,loan,account")
    page = tmp_path / "month.html"
    done = lendflow(f"ledger month-end --month 2026-01 --out {page} --locale en --json")
    assert done.exit_code == 0, done.stderr
    assert done.json()["month"] == "2026-01"
    html = page.read_text(encoding="utf-8")
    assert "Month-end report 2026-01" in html and html.count("<svg") == 3

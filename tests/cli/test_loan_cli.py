"""An operator's day at the command line: a full loan life, and every kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lendflow.config.product_spec import example_product_paths
from lendflow.domain.identity import sample_national_id

CASH_EASY = next(p for p in example_product_paths() if p.stem == "cash-easy")
NATIONAL_ID = sample_national_id(__import__("datetime").date(1990, 5, 17), 321)


@pytest.fixture
def desk(lendflow, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A workspace with cash-easy live; commands act as the operator unless --as says."""
    monkeypatch.setenv("LENDFLOW_USER", "ops")
    assert lendflow("init").exit_code == 0
    result = lendflow(f"product import {CASH_EASY} --activate --as admin --on 2026-01-05 --json")
    assert json.loads(result.stdout) == {"code": "cash-easy", "version": 1, "state": "live"}
    return lendflow


def apply(desk, amount: str = "10000", term: int = 3) -> int:  # type: ignore[no-untyped-def]
    result = desk(
        f"loan apply --consent all --product cash-easy --name 王五 --id-number {NATIONAL_ID}"
        f" --phone 13812345678 --monthly-income 8000 --amount {amount} --term {term}"
        " --on 2026-01-10"
    )
    assert result.exit_code == 0, result.stderr
    return int(result.stdout.strip())


def test_full_life_from_the_command_line(desk) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk)
    assert desk(f"loan review {loan} --on 2026-01-10").stdout == f"loan {loan} is under_review\n"
    assert desk(f"loan approve {loan} --as risk --on 2026-01-11").exit_code == 0
    assert desk(f"loan disburse {loan} --on 2026-01-12").exit_code == 0
    schedule = json.loads(desk(f"loan schedule {loan} --json").stdout)
    assert [i["n"] for i in schedule["instalments"]] == [1, 2, 3]
    for row in schedule["instalments"]:
        paid = desk(f"loan repay {loan} --amount {row['total']} --on {row['due_date']} --json")
        assert paid.exit_code == 0, paid.stderr
    shown = json.loads(desk(f"loan show {loan} --on 2026-04-12 --json").stdout)
    assert shown["state"] == "closed"
    assert shown["outstanding"] == {
        "principal": "0.00",
        "interest": "0.00",
        "penalty": "0.00",
        "fees": "0.00",
        "total": "0.00",
    }
    # 10,000.00 against 3,430.37, 3,430.37 and 3,430.38 on 12 Feb, 12 Mar and 12 Apr: 18.84%
    # per month compounded, 19.12% over those 31, 59 and 90 days on a 365-day year
    assert shown["dpd"] == 0
    assert shown["apr"] == {"compound": "18.84", "simple": "17.38", "actual_dates": "19.12"}
    printed = desk(f"loan show {loan} --on 2026-04-12").stdout
    assert (
        "APR 18.84% (IRR) / 17.38% (simple) / 19.12% (XIRR over actual dates, 365-day year)"
        in printed
    )
    after = json.loads(desk(f"loan schedule {loan} --json").stdout)
    assert all(i["paid"]["total"] == i["total"] for i in after["instalments"])
    audit = desk("audit verify --as auditor")
    assert audit.exit_code == 0 and audit.stdout.startswith("OK: ")
    events = json.loads(desk(f"loan events {loan} --json").stdout)
    assert [e["name"] for e in events][-1] == "LoanClosed"
    assert {e["actor"] for e in events} == {"ops", "risk"}


def test_show_json_has_what_operators_read(desk) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk)
    shown = json.loads(desk(f"loan show {loan} --on 2026-01-10 --json").stdout)
    for key in ("id", "state", "product", "principal", "outstanding", "dpd", "apr"):
        assert key in shown
    assert shown["principal"] == "10000.00"
    assert shown["customer"]["national_id"] == NATIONAL_ID[:6] + "********" + NATIONAL_ID[-4:]
    clear = json.loads(desk(f"loan show {loan} --as risk --on 2026-01-10 --json").stdout)
    assert clear["customer"]["national_id"] == NATIONAL_ID


def test_applicant_from_a_json_file(desk, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "applicant.json"
    file.write_text(
        json.dumps(
            {
                "product": "cash-easy",
                "name": "赵六",
                "id_number": NATIONAL_ID,
                "phone": "13912345678",
                "monthly_income": "9000",
                "amount": "5000",
                "term": 6,
                "purpose": "education",
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    result = desk(f"loan apply --applicant {file} --consent all --on 2026-01-10 --json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["purpose"] == "education"


def test_replayed_repayment_moves_money_once(desk) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk)
    desk(f"loan review {loan} --on 2026-01-10")
    desk(f"loan approve {loan} --as risk --on 2026-01-11")
    desk(f"loan disburse {loan} --on 2026-01-12 --idempotency-key D1")
    first = desk(f"loan repay {loan} --amount 1000 --on 2026-02-12 --idempotency-key R1 --json")
    again = desk(f"loan repay {loan} --amount 1000 --on 2026-02-12 --idempotency-key R1 --json")
    assert json.loads(first.stdout)["outstanding"] == json.loads(again.stdout)["outstanding"]
    different = desk(f"loan repay {loan} --amount 999 --on 2026-02-12 --idempotency-key R1")
    assert different.exit_code == 1
    assert "was already used for a different request" in different.stderr
    assert desk(f"loan disburse {loan} --on 2026-01-12 --idempotency-key D1").exit_code == 0


def test_transactions_show_each_entry_and_the_payers_reference(desk) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk)
    desk(f"loan review {loan} --on 2026-01-10")
    desk(f"loan approve {loan} --as risk --on 2026-01-11")
    desk(f"loan disburse {loan} --on 2026-01-12")
    paid = desk(
        f"loan repay {loan} --amount 500 --on 2026-01-12 --idempotency-key R1"
        " --reference BANK-0112-7 --json"
    )
    assert json.loads(paid.stdout)["payment"]["reference"] == "BANK-0112-7"
    listed = json.loads(desk(f"loan transactions {loan} --json").stdout)
    assert listed["total"] == 2
    payout, payment = listed["items"]
    assert payout["kind"] == "disbursement" and payout["business_date"] == "2026-01-12"
    assert (payment["kind"], payment["memo"], payment["reference"]) == (
        "repayment",
        "R1",
        "BANK-0112-7",
    )
    assert {"account": "cash", "debit": "500.00", "credit": "0.00"} in payment["lines"]
    assert payment["reversed_by"] is None and payment["reversal_of"] is None
    table = desk(f"loan transactions {loan}")
    assert table.exit_code == 0
    for shown in (
        f"Transactions of loan {loan}",
        "disbursement",
        "R1 (ref BANK-0112-7)",
        "2 entries",
    ):
        assert shown in table.stdout
    bad = desk(f"loan repay {loan} --amount 500 --on 2026-01-12 --reference 'a b'")
    assert bad.exit_code == 2 and "--reference must be 1-64 ASCII letters" in one_line(bad)
    assert desk("loan transactions 999").exit_code == 2


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("command", "code", "message"),
    [
        ("loan show 999 --on 2026-01-10", 2, "error: loan 999 does not exist"),
        (
            "loan disburse {loan} --on 2026-01-10",
            1,
            "error: loan {loan} is submitted; disburse needs approved",
        ),
        (
            "loan approve {loan} --on 2026-01-10",
            1,
            "error: user ops (operator) may not approve loans",
        ),
        (
            "loan repay {loan} --amount 12,34.5 --on 2026-01-10",
            2,
            "error: --amount is not an amount",
        ),
        ("loan repay {loan} --amount 10.123 --on 2026-01-10", 2, "more than two decimal places"),
        ("loan repay {loan} --amount -5 --on 2026-01-10", 2, "error: --amount must be positive"),
        ("loan review {loan} --on 2026-01-09", 2, "is before loan {loan} was applied for"),
        ("loan review {loan} --on 10/01/2026", 2, "error: --on is not a date"),
        ("loan show {loan} --as nobody", 2, "error: unknown user 'nobody'"),
        (
            "loan reject {loan} --as risk --reason 'no way!' --on 2026-01-10",
            2,
            "reason code must be",
        ),
        ("machine show spaceship", 2, "error: no machine 'spaceship'"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    desk, command: str, code: int, message: str
) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk)
    before = json.loads(desk(f"loan events {loan} --json").stdout)
    result = desk(command.format(loan=loan))
    assert result.exit_code == code
    assert message.format(loan=loan) in one_line(result)
    assert json.loads(desk(f"loan events {loan} --json").stdout) == before


def test_apply_with_a_bad_national_id_names_the_problem(desk) -> None:  # type: ignore[no-untyped-def]
    result = desk(
        "loan apply --consent all --product cash-easy --name 王五 --id-number 110105199005171234"
        " --phone 13812345678 --monthly-income 8000 --amount 10000 --term 3 --on 2026-01-10"
    )
    assert result.exit_code == 2
    assert "national ID checksum does not match" in one_line(result)
    assert "110105199005171234" not in result.stderr


def test_machine_show_as_table_and_mermaid(lendflow) -> None:  # type: ignore[no-untyped-def]
    table = lendflow("machine show loan")
    assert table.exit_code == 0 and "start_review" in table.stdout
    mermaid = lendflow("machine show loan --format mermaid")
    assert mermaid.stdout.startswith("stateDiagram-v2")
    assert "approved --> active: disburse [approval_valid]" in mermaid.stdout


def test_audit_anchor_then_verify_from_the_command_line(desk) -> None:  # type: ignore[no-untyped-def]
    loan = apply(desk)
    assert desk(f"loan review {loan} --on 2026-01-10").exit_code == 0
    anchored = desk("audit anchor --on 2026-01-10 --as auditor --json")
    assert anchored.exit_code == 0, anchored.stderr
    kept = json.loads(anchored.stdout)
    assert kept["business_date"] == "2026-01-10" and kept["event_id"] >= 2
    report = json.loads(desk("audit verify --as auditor --json").stdout)
    assert (report["ok"], report["anchors_checked"]) == (True, 1)
    text = desk("audit verify --as auditor").stdout
    assert text.startswith("OK: ") and "reach 1 anchors" in text

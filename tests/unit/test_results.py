"""Typed results: money stays fen inside and reads as yuan in JSON, and the JSON keeps the
keys the CLI has always printed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pydantic import ValidationError

from lendflow.close_of_business.results import CobRun, PortfolioCounts, SweepCounts
from lendflow.credit.desk import summarise_comparison
from lendflow.credit.results import QueuedApplication
from lendflow.loans.results import Apr
from lendflow.monitoring.results import RollRate
from lendflow.products.results import ProductCheck, ProductVersion
from lendflow.store.credit import ComparedDecision

QUEUED = QueuedApplication(
    id=7,
    product="cash-easy",
    requested=1_000_000,
    proposed=None,
    term=6,
    score=548,
    risk_grade="E",
    annual_rate=Decimal("18.00"),
    reasons=("SCORE_MARGINAL",),
    waiting_days=2,
)


def test_money_is_fen_inside_and_two_place_yuan_in_json() -> None:
    assert QUEUED.requested == 1_000_000
    shown = QUEUED.model_dump(mode="json")
    assert shown["requested"] == "10000.00" and shown["proposed"] is None
    assert shown["annual_rate"] == "18.00" and shown["reasons"] == ["SCORE_MARGINAL"]
    assert QueuedApplication.model_validate_json(QUEUED.model_dump_json()) == QUEUED


@pytest.mark.parametrize("amount", [100.5, True, "100.5", "1,000.00"])
def test_money_never_comes_from_a_float_or_a_loose_string(amount: object) -> None:
    with pytest.raises(ValidationError, match="money must be"):
        QUEUED.model_validate({**QUEUED.model_dump(), "requested": amount})


def test_a_result_is_frozen_and_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError):
        QUEUED.waiting_days = 3  # type: ignore[misc]
    with pytest.raises(ValidationError):
        QueuedApplication.model_validate({**QUEUED.model_dump(), "queue": "risk"})


def test_a_keyword_key_is_dumped_under_its_json_name() -> None:
    rolled = RollRate(start=date(2026, 1, 31), end=date(2026, 2, 28), matrix={"M0": {"M1": 1}})
    assert rolled.model_dump(mode="json") == {
        "from": "2026-01-31",
        "to": "2026-02-28",
        "matrix": {"M0": {"M1": 1}},
    }


def test_a_cob_run_reports_the_keys_it_always_has() -> None:
    counts = SweepCounts(loans_scanned=3, penalty_accrued=1_761, notices_not_rendered=1)
    counts += SweepCounts(loans_scanned=2, written_off=1, written_off_principal=50_000)
    assert (counts.loans_scanned, counts.penalty_accrued, counts.written_off) == (5, 1_761, 1)
    after = PortfolioCounts(buckets={"M1": 2}, classes={"special_mention": 2})
    run = CobRun.of(date(2026, 3, 1), date(2026, 3, 2), 2, counts, after)
    shown = run.model_dump(mode="json")
    assert list(shown) == [
        "from", "to", "chunks", "loans_scanned", "became_overdue", "cured", "written_off",
        "written_off_principal", "approvals_expired", "penalty_accrued", "penalty_capped",
        "instalments_fell_due", "reclassified", "notices", "buckets", "classes", "anchor",
    ]  # fmt: skip
    assert shown["from"] == "2026-03-01" and shown["penalty_accrued"] == 1_761  # fen, as ever
    assert shown["written_off_principal"] == 50_000
    assert SweepCounts.total([counts, SweepCounts(cured=1)]).cured == 1


def test_a_product_check_is_ok_exactly_when_nothing_is_wrong() -> None:
    assert ProductCheck(file="a.yaml").ok
    refused = ProductCheck(file="a.yaml", problems=["a.yaml: code: missing"])
    assert not refused.ok
    assert list(refused.model_dump(mode="json")) == [
        "file", "ok", "code", "highest_apr", "cap", "problems",
    ]  # fmt: skip
    with pytest.raises(ValidationError, match="ok must be true exactly"):
        ProductCheck(file="a.yaml", ok=True, problems=["a.yaml: code: missing"])


def test_a_product_version_status_is_the_product_status() -> None:
    version = ProductVersion(code="anxin", version=2, state="live", id=5, sha256="ab")
    assert version.state.name == "LIVE"
    with pytest.raises(ValidationError):
        ProductVersion(code="anxin", version=2, state="alive", id=5, sha256="ab")


def _decision(loan_id: int, role: str, outcome: str) -> ComparedDecision:
    return ComparedDecision(loan_id, role, outcome, 600, f"card-{role}", 1, "active", 0, "p")


def test_comparison_ratios_are_exact_decimals_with_halves_to_even() -> None:
    rows = []
    for loan_id in range(32):  # one agreement in 32: exactly 0.03125
        rows.append(_decision(loan_id, "champion", "approve"))
        rows.append(_decision(loan_id, "challenger", "approve" if loan_id == 0 else "refer"))
    report = summarise_comparison(rows)
    assert report.agreement == Decimal("0.0312") and str(report.agreement) == "0.0312"
    assert str(report.approval_rate.champion) == "1.0000"
    assert str(report.mean_score.challenger) == "600.0"
    assert report.both_approve.bad_rate == Decimal(0) and report.challenger_only.bad_rate is None


def test_a_loan_apr_reads_both_stored_forms() -> None:
    """Loans paid out before the actual-dates APR was kept store two figures; they show
    it as null rather than a figure nobody computed for them."""
    now = Apr.parse("24.25/21.91/27.67")
    assert now is not None
    assert now.model_dump(mode="json") == {
        "compound": "24.25",
        "simple": "21.91",
        "actual_dates": "27.67",
    }
    before = Apr.parse("18.84/17.35")
    assert before is not None and before.actual_dates is None
    assert before.model_dump(mode="json")["actual_dates"] is None
    assert Apr.parse(None) is None

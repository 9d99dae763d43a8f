"""Automated credit review through the real service layer, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from lendflow.access.permissions import Actor
from lendflow.config.credit_models import packaged_folder
from lendflow.credit.desk import block, compare_challenger, review_queue
from lendflow.credit.review import AutomatedReview
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications, disbursement
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.loans.results import LoanDetail, LoanResult, ModelRef
from lendflow.workspace.context import Workspace

DAY = date(2026, 2, 2)


@pytest.fixture
def auto(ws: Workspace) -> Workspace:
    ws.decider = AutomatedReview(ws)
    return ws


def apply(
    ws: Workspace, ops: Actor, serial: int, born: date = date(1990, 5, 17), **fields: str | int
) -> int:
    raw: dict[str, str | int] = {
        "product": "cash-easy",
        "name": "王五",
        "national_id": sample_national_id(born, serial),
        "phone": "13912345678",
        "monthly_income": "9000",
        "amount": "20000",
        "term": 12,
        "employment": "salaried",
        "consents": "all",
        **fields,
    }
    return applications.apply(ws, ops, Application.parse(**raw), DAY).id


def review(ws: Workspace, ops: Actor, loan_id: int) -> LoanResult:
    return applications.start_review(ws, ops, loan_id, DAY)


def shown(ws: Workspace, risk: Actor, loan_id: int) -> LoanDetail:
    return loan_views.show(ws, risk, loan_id, DAY)


def test_a_good_applicant_is_approved_at_the_grades_price_with_the_decision_on_record(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    loan_id = apply(auto, ops, 501)
    view = review(auto, ops, loan_id)
    assert view.status == "approved"
    assert view.approved == 2_000_000
    assert str(view.annual_rate) == "14.40"  # grade C of cash-easy's band
    loan = shown(auto, risk, loan_id)
    assert loan.risk_grade == "C"
    champion, challenger = loan.credit_decisions
    assert champion.role == "champion" and challenger.role == "challenger"
    assert champion.scorecard == ModelRef(code="consumer-v1", version=1)
    assert champion.decision_table == ModelRef(code="consumer-rules-v1", version=1)
    assert champion.score == 602
    assert champion.points is not None and champion.inputs is not None
    assert champion.points["age"].model_dump() == {"bin": "[30, 45)", "points": 88, "lost": 0}
    assert champion.inputs["monthly_income"] == "9000.00"
    assert champion.inputs["dti"] == "20.34"
    assert champion.rules == [10]
    assert challenger.scorecard == ModelRef(code="consumer-v2", version=1)


def test_a_decline_names_the_rule_and_the_characteristics_that_cost_most(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    loan_id = apply(
        auto, ops, 502, born=date(2004, 6, 1), monthly_income="3000", employment="unemployed",
        purpose="travel", amount="10000", term=6,
    )  # fmt: skip
    view = review(auto, ops, loan_id)
    assert view.status == "rejected"
    champion = shown(auto, risk, loan_id).credit_decisions[0]
    assert champion.outcome == "reject"
    assert champion.reasons[0] == "SCORE_TOO_LOW"
    # points lost: DTI 96−57 = 39, income 98−68 = 30, employment 96−69 = 27, age 88−70 = 18
    assert champion.reasons[1:] == [
        "HIGH_DEBT_TO_INCOME", "LOW_INCOME", "EMPLOYMENT", "AGE",
    ]  # fmt: skip
    assert champion.score == 70 + 68 + 57 + 69 + 78 + 80 + 85
    assert view.reason_code == "SCORE_TOO_LOW"


def test_unaffordable_debt_cuts_the_amount_or_declines(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    cut = apply(auto, ops, 503, monthly_debt="2800", amount="20000")
    view = review(auto, ops, cut)
    assert view.status == "approved"
    assert view.approved is not None
    approved = view.approved // 100
    assert 1000 <= approved < 20000 and approved % 100 == 0
    decision = shown(auto, risk, cut).credit_decisions[0]
    assert "AMOUNT_REDUCED_FOR_AFFORDABILITY" in decision.reasons
    none_left = apply(auto, ops, 504, monthly_debt="4500")
    assert review(auto, ops, none_left).status == "rejected"


def test_a_referred_loan_waits_for_a_risk_officer_with_a_note(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    loan_id = apply(auto, ops, 505, born=date(2004, 6, 1), monthly_income="4500",
                    employment="freelance", term=6, amount="10000")  # fmt: skip
    view = review(auto, ops, loan_id)
    assert view.status == "under_review"
    queue = review_queue(auto, risk, DAY).items
    assert [(q.id, q.reasons) for q in queue] == [(loan_id, ("SCORE_MARGINAL",))]
    assert queue[0].risk_grade == "E" and queue[0].annual_rate == Decimal("18.00")
    with pytest.raises(Refused):
        disbursement.disburse(auto, ops, loan_id, DAY)
    with pytest.raises(Refused, match="may not approve loans"):
        applications.approve(auto, ops, loan_id, DAY, note="looks fine")
    with pytest.raises(
        BadInput, match=r"referred by automated review \(SCORE_MARGINAL\); give --note"
    ):
        applications.approve(auto, risk, loan_id, DAY)
    assert shown(auto, risk, loan_id).status == "under_review"
    approved = applications.approve(auto, risk, loan_id, DAY, note="payslips checked")
    assert approved.status == "approved" and str(approved.annual_rate) == "18.00"
    manual = shown(auto, risk, loan_id).credit_decisions[-1]
    assert (manual.role, manual.actor, manual.note) == (
        "manual",
        "risk",
        "payslips checked",
    )
    assert review_queue(auto, risk, DAY).total == 0


def test_a_blocklisted_person_is_declined(auto: Workspace, ops: Actor, risk: Actor) -> None:
    block(auto, risk, sample_national_id(date(1990, 5, 17), 506), "FRAUD_CONFIRMED", None, DAY)
    with pytest.raises(Refused, match="may not change the blocklist"):
        block(auto, ops, sample_national_id(date(1990, 5, 17), 507), "FRAUD_CONFIRMED", None, DAY)
    loan_id = apply(auto, ops, 506)
    assert review(auto, ops, loan_id).reason_code == "BLOCKLISTED"


def _override(ws: Workspace, name: str, old: str, new: str) -> Path:
    folder = ws.settings.home / "scorecards"
    folder.mkdir(exist_ok=True)
    text = (packaged_folder() / name).read_text(encoding="utf-8")
    assert old in text
    path = folder / name
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_changing_a_yaml_rule_changes_decisions_and_old_ones_keep_their_version(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    first = apply(auto, ops, 508)
    assert review(auto, ops, first).status == "approved"
    _override(auto, "consumer-rules-v1.yaml", "version: 1\n", "version: 2\n").write_text(
        (auto.settings.home / "scorecards" / "consumer-rules-v1.yaml")
        .read_text(encoding="utf-8")
        .replace('{score: "< 520"}', '{score: "< 610"}'),
        encoding="utf-8",
    )
    second = apply(auto, ops, 509)
    assert review(auto, ops, second).reason_code == "SCORE_TOO_LOW"
    assert shown(auto, risk, first).credit_decisions[0].decision_table.version == 1
    assert shown(auto, risk, second).credit_decisions[0].decision_table.version == 2


def test_changed_rules_under_an_old_version_number_are_refused(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    first = apply(auto, ops, 510)
    review(auto, ops, first)
    _override(auto, "consumer-rules-v1.yaml", '{score: "< 520"}', '{score: "< 500"}')
    second = apply(auto, ops, 511)
    with pytest.raises(Refused, match="version 1 has decided loans with different rules"):
        review(auto, ops, second)
    assert shown(auto, risk, second).status == "submitted"


def test_a_broken_override_stops_review_with_file_and_path(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    path = _override(auto, "consumer-v1.yaml", "input: dti", "input: debt_ratio")
    loan_id = apply(auto, ops, 512)
    with pytest.raises(BadInput, match=rf"{path}: characteristics\[2\].input: unknown input"):
        review(auto, ops, loan_id)
    assert shown(auto, risk, loan_id).status == "submitted"


def test_challenger_report_compares_outcomes_over_stored_decisions(
    auto: Workspace, ops: Actor, risk: Actor
) -> None:
    for serial, income in ((520, "9000"), (521, "30000"), (522, "4500"), (523, "2500")):
        review(auto, ops, apply(auto, ops, serial, monthly_income=income, amount="8000", term=6))
    report = compare_challenger(auto, risk)
    assert report.champion == "consumer-v1 v1"
    assert report.challenger == "consumer-v2 v1"
    assert report.compared == 4
    assert sum(report.outcomes.values()) == 4
    agreeing = sum(n for k, n in report.outcomes.items() if k.split("/")[0] == k.split("/")[1])
    assert str(report.agreement) == f"{agreeing / 4:.4f}"
    assert report.both_approve.loans + report.champion_only.loans == sum(
        n for k, n in report.outcomes.items() if k.startswith("approve/")
    )

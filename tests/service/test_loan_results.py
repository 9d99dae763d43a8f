"""Typed results of the loan use cases: what a replay answers, what is kept, how money reads.

A replayed repayment or disbursement must be the first result again, as a model
(types included), apart from the flag that says it is a replay; the stored answer
is canonical JSON that names the customer by id only; the customer in a replay is
shown as the actor asking now may see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from lendflow.access.permissions import Actor
from lendflow.domain.statuses import LoanStatus
from lendflow.loans import applications, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.loans.results import (
    DisbursementResult,
    LoanDetail,
    Outstanding,
    PayoffQuote,
    RepaymentResult,
)
from lendflow.store.tables import idempotency_records
from lendflow.workspace.context import Workspace

Applicant = Callable[..., Application]
APPLIED = date(2026, 1, 10)
DECIDED = date(2026, 1, 11)
PAID_OUT = date(2026, 1, 12)
FIRST_DUE = date(2026, 2, 12)
NAME, PHONE = "欧阳娜娜", "13987654321"


def approved_loan(ws: Workspace, applicant: Applicant) -> int:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(name=NAME, phone=PHONE), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    return loan_id


def stored_answer(ws: Workspace, key: str) -> str:
    with ws.engine.connect() as conn:
        return str(
            conn.execute(
                select(idempotency_records.c.response).where(idempotency_records.c.key == key)
            ).scalar_one()
        )


def sorted_everywhere(value: Any) -> bool:
    if isinstance(value, dict):
        return list(value) == sorted(value) and all(sorted_everywhere(v) for v in value.values())
    if isinstance(value, list):
        return all(sorted_everywhere(v) for v in value)
    return True


def test_replayed_disbursement_and_repayment_are_the_first_results_as_models(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """Whoever retries gets the same model back, flagged as a replay and nothing else."""
    loan_id = approved_loan(ws, applicant)

    paid_out = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-1")
    paid_out_again = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-1")
    assert type(paid_out) is type(paid_out_again) is DisbursementResult
    assert (paid_out.replayed, paid_out_again.replayed) == (False, True)
    assert paid_out_again == paid_out.model_copy(update={"replayed": True})
    assert paid_out_again.model_copy(update={"replayed": False}) == paid_out
    assert paid_out.status is LoanStatus.ACTIVE and paid_out.payoff == 1_000_000

    repaid = repayments.repay(ws, ops, loan_id, 50_000, FIRST_DUE, idempotency_key="tx-1")
    repaid_again = repayments.repay(ws, ops, loan_id, 50_000, FIRST_DUE, idempotency_key="tx-1")
    assert type(repaid) is type(repaid_again) is RepaymentResult
    assert (repaid.replayed, repaid_again.replayed) == (False, True)
    assert repaid_again.model_copy(update={"replayed": False}) == repaid
    assert repaid.payment.amount == 50_000 and repaid.payment.idempotency_key == "tx-1"
    assert repaid.outstanding == Outstanding(  # 10,000 + 130 + 10 due - 500
        principal=964_000, interest=0, penalty=0, fees=0, total=964_000
    )

    # The JSON says the same, with `replayed` only on the replay.
    first, again = repaid.model_dump(mode="json"), repaid_again.model_dump(mode="json")
    assert "replayed" not in first and again.pop("replayed") is True
    assert again == first
    assert first["outstanding"]["total"] == "9640.00"
    assert first["payment"] == {"amount": "500.00", "idempotency_key": "tx-1"}


def test_the_kept_answer_is_canonical_json_naming_the_customer_by_id_only(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    loan_id = approved_loan(ws, applicant)
    paid_out = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-2")
    repaid = repayments.repay(ws, ops, loan_id, 50_000, FIRST_DUE, idempotency_key="tx-2")
    for key, result in (("pay-2", paid_out), ("tx-2", repaid)):
        text = stored_answer(ws, key)
        kept = json.loads(text)
        assert sorted_everywhere(kept), key
        assert kept["customer"] == {"id": result.customer.id}
        assert {**kept, "customer": None} == {
            **json.loads(json.dumps(result.model_dump(mode="json"), sort_keys=True)),
            "customer": None,
        }
        shown = result.customer
        for personal in (NAME, PHONE, NAME[0], shown.name, shown.national_id, shown.phone):
            assert personal not in text, key


def test_a_replay_shows_the_customer_as_the_actor_asking_now_may_see_them(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """The first answer went to an operator (masked); an admin retrying sees the borrower."""
    admin = ws.actor("admin")
    loan_id = approved_loan(ws, applicant)
    first = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-3")
    assert first.customer.name != NAME and first.customer.phone == "139****4321"
    by_admin = disbursement.disburse(ws, admin, loan_id, PAID_OUT, idempotency_key="pay-3")
    assert (by_admin.customer.name, by_admin.customer.phone) == (NAME, PHONE)
    assert by_admin.customer.id == first.customer.id
    assert by_admin.model_copy(update={"replayed": False, "customer": first.customer}) == first


def test_results_read_back_from_their_json_exactly(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """Money is integer fen inside and two-place yuan in JSON; neither loses a fen."""
    loan_id = approved_loan(ws, applicant)
    disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    repayments.repay(ws, ops, loan_id, 12_345, FIRST_DUE)
    shown = loan_views.show(ws, ws.actor("risk"), loan_id, FIRST_DUE)
    assert LoanDetail.model_validate(shown.model_dump(mode="json")) == shown
    assert LoanDetail.model_validate_json(shown.model_dump_json()) == shown
    quote = repayments.quote(ws, ops, loan_id, FIRST_DUE)
    assert PayoffQuote.model_validate(quote.model_dump(mode="json")) == quote
    assert isinstance(quote.total, int) and quote.model_dump()["total"] == quote.total
    assert quote.model_dump(mode="json")["total"] == f"{quote.total // 100}.{quote.total % 100:02d}"


@pytest.mark.parametrize("bad", [1.5, "12.3", "12.345", "1,000.00", True, None])
def test_money_in_a_result_is_never_a_float_or_a_loose_string(bad: Any) -> None:
    fields = dict(principal=100, interest=0, penalty=0, fees=0, total=100)
    with pytest.raises(ValidationError, match="total"):
        Outstanding(**{**fields, "total": bad})
    assert Outstanding(**{**fields, "total": "-0.05"}).total == -5

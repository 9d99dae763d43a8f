"""How a loan is shown: one result for `loan show`, operators' answers and stored replies.

Pure presentation over rows already read, so the fast read path of a plain
command and the use cases inside a transaction show a loan identically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

from lendflow.access.permissions import Actor
from lendflow.config.policy import ChargesCap as CapRule
from lendflow.customers.views import customer_view, text_view
from lendflow.domain.loan import schedule_start
from lendflow.domain.repayment import InstalmentState, payoff_quote
from lendflow.domain.statuses import OUTSTANDING
from lendflow.loans.results import (
    Apr,
    ChargesCap,
    CreditDecision,
    CustomerView,
    LoanResult,
    ModelRef,
    Outstanding,
)
from lendflow.store.personal_data import PersonalDataCipher, decision_row

L = TypeVar("L", bound=LoanResult)


def outstanding_of(
    states: list[InstalmentState], principal_outstanding: int, as_of: date
) -> Outstanding:
    """What the borrower owes on `as_of`: all principal left, and whatever else is due."""
    due = [i.owed() for i in states if i.due_date <= as_of]
    interest = sum(o.interest for o in due)
    fees = sum(o.fee for o in due)
    penalty = sum(o.penalty for o in due)
    return Outstanding(
        principal=principal_outstanding,
        interest=interest,
        penalty=penalty,
        fees=fees,
        total=principal_outstanding + interest + fees + penalty,
    )


def charges_cap_of(
    cap: CapRule, loan: Mapping[str, Any], rows: list[dict[str, Any]]
) -> ChargesCap | None:
    """Where the loan stands against the all-in charges cap, as close of business left it
    (on the cap's base: what it weighs of the charges, what it allows); None before payout."""
    if loan["disbursed_on"] is None or not rows:
        return None
    fallen_due = [r for r in rows if r["recognised"]]
    contract = sum(
        r["interest"] - r["interest_waived"] + r["fee"] - r["fee_waived"] for r in fallen_due
    )
    charged = cap.weighed(sum(r["penalty"] for r in rows), contract)
    base = cap.base_days(loan["principal_days"], loan["overdue_principal_days"])
    return ChargesCap(rate=cap.limit, base=cap.base, charged=charged, allowed=cap.allowed(base))


def present_loan(
    loan: Mapping[str, Any],
    rows: list[dict[str, Any]],
    customer_row: Mapping[str, Any],
    cipher: PersonalDataCipher,
    actor: Actor,
    as_of: date,
    result: type[L] = LoanResult,  # type: ignore[assignment]
    cap: CapRule | None = None,
    **more: Any,
) -> L:
    """The loan as `loan show` shows it, built once as `result` with the `more` fields
    that kind of answer adds (a payment, the credit decisions); with the all-in charges
    `cap`, where the loan stands against it."""
    states = [InstalmentState.from_row(r) for r in rows]
    payoff = None
    if loan["state"] in OUTSTANDING:
        payoff = payoff_quote(states, as_of, schedule_start(loan)).total
    if cap is not None:
        more["charges_cap"] = charges_cap_of(cap, loan, rows)
    return result(
        id=loan["id"],
        status=loan["state"],
        product=loan["product_code"],
        product_version_id=loan["product_version_id"],
        customer=CustomerView(**customer_view(customer_row, cipher, actor)),
        purpose=loan["purpose"],
        requested=loan["requested_amount"],
        approved=loan["approved_amount"],
        principal=loan["principal"] or loan["approved_amount"] or loan["requested_amount"],
        term=loan["term"],
        method=loan["method"],
        annual_rate=loan["annual_rate"],
        apr=Apr.parse(loan["apr"]),
        outstanding=outstanding_of(states, loan["principal_outstanding"], as_of),
        credit_balance=loan["credit_balance"],
        dpd=loan["dpd"],
        cob_through=loan["cob_through"],
        bucket=loan["bucket"],
        classification=loan["classification"],
        applied_on=loan["applied_on"],
        decided_on=loan["decided_on"],
        approval_expires_on=loan["approval_expires_on"],
        disbursed_on=loan["disbursed_on"],
        maturity_on=loan["maturity_on"],
        closed_on=loan["closed_on"],
        reason_code=loan["reason_code"],
        risk_grade=loan["risk_grade"],
        version=loan["version"],
        as_of=as_of,
        payoff=payoff,
        accelerated_on=loan.get("accelerated_on"),
        restructured_on=loan.get("restructured_on"),
        restructure_count=loan.get("restructure_count") or 0,
        **more,
    )


def decision_note(row: Mapping[str, Any], cipher: PersonalDataCipher, actor: Actor) -> str | None:
    """A decision's note (sealed: a person typed it) as `actor` may see it."""
    return text_view(row["note"], "note", decision_row(row["loan_id"]), cipher, actor)


def credit_decision(row: Mapping[str, Any], note: str | None = None) -> CreditDecision:
    """One credit decision as shown: which model versions decided, on what, and why
    (`note` opened by `decision_note`: never the stored, sealed value)."""

    def parsed(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    detail = parsed(row["detail"])
    return CreditDecision(
        role=row["role"],
        decided_on=row["decided_on"],
        actor=row["actor"],
        outcome=row["outcome"],
        scorecard=None
        if row["scorecard"] is None
        else ModelRef(code=row["scorecard"], version=row["scorecard_version"]),
        decision_table=None
        if row["decision_table"] is None
        else ModelRef(code=row["decision_table"], version=row["decision_table_version"]),
        score=row["score"],
        probability_of_default=row["probability_of_default"],
        risk_grade=row["risk_grade"],
        approved_amount=row["approved_amount"],
        annual_rate=row["annual_rate"],
        reasons=parsed(row["reasons"]),
        points=detail.get("points"),
        inputs=detail.get("inputs"),
        rules=detail.get("rules"),
        note=note,
    )

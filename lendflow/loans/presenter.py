"""How a loan is shown: one view for `loan show`, operators' answers and stored replies.

Pure presentation over rows already read, so the fast read path of a plain
command and the use cases inside a transaction show a loan identically.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Any

from lendflow.access.permissions import Actor
from lendflow.customers.views import customer_view
from lendflow.domain.money import format_fen
from lendflow.domain.repayment import InstalmentState, payoff_quote
from lendflow.store.personal_data import PersonalDataCipher


def outstanding_view(
    states: list[InstalmentState], principal_outstanding: int, as_of: date
) -> dict[str, str]:
    """What the borrower owes on `as_of`: all principal left, and whatever else is due."""
    due = [i.owed() for i in states if i.due_date <= as_of]
    interest = sum(o.interest for o in due)
    fees = sum(o.fee for o in due)
    penalty = sum(o.penalty for o in due)
    total = principal_outstanding + interest + fees + penalty
    return {
        "principal": format_fen(principal_outstanding),
        "interest": format_fen(interest),
        "penalty": format_fen(penalty),
        "fees": format_fen(fees),
        "total": format_fen(total),
    }


def apr_of(loan: Mapping[str, Any]) -> dict[str, str] | None:
    if not loan["apr"]:
        return None
    compound, _, simple = loan["apr"].partition("/")
    return {"compound": compound, "simple": simple}


def present_loan(
    loan: Mapping[str, Any],
    rows: list[dict[str, Any]],
    customer_row: Mapping[str, Any],
    cipher: PersonalDataCipher,
    actor: Actor,
    as_of: date,
) -> dict[str, Any]:
    """The loan as `loan show --json` prints it, JSON-ready."""
    states = [InstalmentState.from_row(r) for r in rows]
    customer = customer_view(customer_row, cipher, actor)
    view: dict[str, Any] = {
        "id": loan["id"],
        "state": loan["state"],
        "product": loan["product_code"],
        "product_version_id": loan["product_version_id"],
        "customer": customer,
        "purpose": loan["purpose"],
        "requested": format_fen(loan["requested_amount"]),
        "approved": None
        if loan["approved_amount"] is None
        else format_fen(loan["approved_amount"]),
        "principal": format_fen(
            loan["principal"] or loan["approved_amount"] or loan["requested_amount"]
        ),
        "term": loan["term"],
        "method": loan["method"],
        "annual_rate": loan["annual_rate"],
        "apr": apr_of(loan),
        "outstanding": outstanding_view(states, loan["principal_outstanding"], as_of),
        "credit_balance": format_fen(loan["credit_balance"]),
        "dpd": loan["dpd"],
        "cob_through": loan["cob_through"],
        "bucket": loan["bucket"],
        "classification": loan["classification"],
        "applied_on": loan["applied_on"],
        "decided_on": loan["decided_on"],
        "approval_expires_on": loan["approval_expires_on"],
        "disbursed_on": loan["disbursed_on"],
        "maturity_on": loan["maturity_on"],
        "closed_on": loan["closed_on"],
        "reason_code": loan["reason_code"],
        "risk_grade": loan["risk_grade"],
        "version": loan["version"],
        "as_of": as_of,
    }
    if loan["state"] in ("active", "overdue"):
        quote = payoff_quote(states, as_of, loan["disbursed_on"])
        view["payoff"] = format_fen(quote.total)
    # JSON-ready, so a stored answer replays exactly as it was first given
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in view.items()}


def decision_view(row: Mapping[str, Any]) -> dict[str, Any]:
    """One credit decision as shown: which model versions decided, on what, and why."""

    def parsed(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    decided = row["decided_on"]
    amount = row["approved_amount"]
    detail = parsed(row["detail"])
    return {
        "role": row["role"],
        "decided_on": decided.isoformat() if isinstance(decided, date) else decided,
        "actor": row["actor"],
        "outcome": row["outcome"],
        "scorecard": None
        if row["scorecard"] is None
        else {"code": row["scorecard"], "version": row["scorecard_version"]},
        "decision_table": None
        if row["decision_table"] is None
        else {"code": row["decision_table"], "version": row["decision_table_version"]},
        "score": row["score"],
        "probability_of_default": row["probability_of_default"],
        "risk_grade": row["risk_grade"],
        "approved_amount": None if amount is None else format_fen(amount),
        "annual_rate": row["annual_rate"],
        "reasons": parsed(row["reasons"]),
        "points": detail.get("points"),
        "inputs": detail.get("inputs"),
        "rules": detail.get("rules"),
        "note": row["note"],
    }

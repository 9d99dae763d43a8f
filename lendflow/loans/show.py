"""`loan show`: one loan, read straight through the driver so a plain command starts fast."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.statuses import DISBURSED
from lendflow.loans.presenter import credit_decision, decision_note, present_loan
from lendflow.loans.results import LoanDetail

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def show(ws: Workspace, actor: Actor, loan_id: int, as_of: date) -> LoanDetail:
    """The loan with its balances on `as_of` and its credit decisions, as `actor` may see it."""
    actor.require(Permission.READ, "read loans")
    reader = ws.reader()
    try:
        loan, rows, customer_row, decisions = reader.loan_view(loan_id)
        if loan["state"] not in DISBURSED:
            rows = []
    finally:
        reader.close()
    return present_loan(
        loan,
        rows,
        customer_row,
        ws.cipher,
        actor,
        as_of,
        LoanDetail,
        ws.policy.charges_cap,
        credit_decisions=[
            credit_decision(d, note=decision_note(d, ws.cipher, actor)) for d in decisions
        ],
    )

"""Reading loans: show, list, schedule and events, as `actor` may see them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.customers import registry as customers
from lendflow.domain.errors import Refused
from lendflow.domain.money import format_fen
from lendflow.domain.statuses import DISBURSED
from lendflow.loans.presenter import apr_of, present_loan
from lendflow.store import events
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def loan_view(
    ws: Workspace,
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    actor: Actor,
    as_of: date,
    rows: list[dict[str, Any]] | None = None,
    customer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The loan as `loan show --json` prints it; `rows` (its current instalments) and
    `customer` (its borrower's row) save reading them again when the caller has them."""
    if rows is None:
        rows = loan_store.instalments(uow, loan["id"]) if loan["state"] in DISBURSED else []
    if customer is None:
        customer = customers.get(uow, loan["customer_id"])
    return present_loan(loan, rows, customer, ws.cipher, actor, as_of)


def show(ws: Workspace, actor: Actor, loan_id: int, as_of: date) -> dict[str, Any]:
    """One loan as `actor` may see it, read without SQLAlchemy (see `store.reads`)."""
    from lendflow.loans.show import show as fast_show

    return fast_show(ws, actor, loan_id, as_of)


def list_loans(
    ws: Workspace,
    actor: Actor,
    *,
    state: str | None = None,
    product: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> list[dict[str, Any]]:
        out = []
        for loan in loan_store.list_loans(uow, state=state, product=product, limit=limit):
            customer = customers.customer_view(
                customers.get(uow, loan["customer_id"]), ws.cipher, actor
            )
            out.append(
                {
                    "id": loan["id"],
                    "state": loan["state"],
                    "product": loan["product_code"],
                    "customer": customer["name"],
                    "amount": format_fen(
                        loan["principal"] or loan["approved_amount"] or loan["requested_amount"]
                    ),
                    "principal_outstanding": format_fen(loan["principal_outstanding"]),
                    "applied_on": loan["applied_on"],
                    "dpd": loan["dpd"],
                }
            )
        return out

    return run_in_transaction(ws.engine, use_case)


def schedule(ws: Workspace, actor: Actor, loan_id: int) -> dict[str, Any]:
    """The loan's schedule in the calculator's shape, each instalment with what was paid."""
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> dict[str, Any]:
        loan = loan_store.get(uow, loan_id)
        rows = loan_store.instalments(uow, loan_id)
        if not rows:
            raise Refused(f"loan {loan_id} is {loan['state']}; it has no schedule until disbursed")
        balance = loan["principal"]
        instalments = []
        for r in rows:
            balance -= r["principal"]
            instalments.append(
                {
                    "n": r["n"],
                    "due_date": r["due_date"].isoformat(),
                    "principal": format_fen(r["principal"]),
                    "interest": format_fen(r["interest"]),
                    "fee": format_fen(r["fee"]),
                    "total": format_fen(r["principal"] + r["interest"] + r["fee"]),
                    "balance": format_fen(balance),
                    "penalty": format_fen(r["penalty"]),
                    "paid": {
                        "principal": format_fen(r["principal_paid"]),
                        "interest": format_fen(r["interest_paid"]),
                        "fee": format_fen(r["fee_paid"]),
                        "penalty": format_fen(r["penalty_paid"]),
                        "total": format_fen(
                            r["principal_paid"]
                            + r["interest_paid"]
                            + r["fee_paid"]
                            + r["penalty_paid"]
                        ),
                    },
                    "waived": format_fen(r["interest_waived"] + r["fee_waived"]),
                    "paid_on": r["paid_on"].isoformat() if r["paid_on"] else None,
                }
            )
        return {
            "loan_id": loan_id,
            "instalments": instalments,
            "total_principal": format_fen(sum(r["principal"] for r in rows)),
            "total_interest": format_fen(sum(r["interest"] for r in rows)),
            "total_fees": format_fen(sum(r["fee"] for r in rows)),
            "apr": apr_of(loan),
        }

    return run_in_transaction(ws.engine, use_case)


def loan_events(ws: Workspace, actor: Actor, loan_id: int) -> list[dict[str, Any]]:
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> list[dict[str, Any]]:
        loan_store.get(uow, loan_id)
        return [
            {
                "id": e["id"],
                "name": e["name"],
                "trigger": e["trigger"],
                "from": e["from_state"],
                "to": e["to_state"],
                "actor": e["actor"],
                "business_date": e["business_date"],
                "recorded_at": e["recorded_at"],
                "payload": e["payload"],
                "hash": e["hash"],
            }
            for e in events.for_entity(uow, "loan", str(loan_id))
        ]

    return run_in_transaction(ws.engine, use_case)


def ids_in_state(ws: Workspace, actor: Actor, state: str, batch: int = 10_000) -> list[int]:
    """Ids of every loan in `state`, oldest first (read in batches)."""
    actor.require(Permission.READ, "read loans")
    found: list[int] = []
    while True:
        after = found[-1] if found else 0
        page = run_in_transaction(
            ws.engine, lambda uow, after=after: loan_store.ids_in_state(uow, state, after, batch)
        )
        found += page
        if len(page) < batch:
            return found


def storable(view: dict[str, Any]) -> dict[str, Any]:
    """A loan view fit to keep as an idempotency answer: the customer by id only.

    The stored answer may be replayed to someone who may not see personal data,
    and nothing personal is kept outside the encrypted customer record.
    """
    return {**view, "customer": {"id": view["customer"]["id"]}}


def with_customer(
    ws: Workspace, uow: UnitOfWork, view: dict[str, Any], actor: Actor
) -> dict[str, Any]:
    """A stored answer with the customer shown as `actor` may see them now."""
    customer = customers.customer_view(customers.get(uow, view["customer"]["id"]), ws.cipher, actor)
    return {**view, "customer": customer}

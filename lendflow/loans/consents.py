"""Consents with a loan: recorded as given with the application, checked before a credit
check, and withdrawn when the borrower asks (an event; later credit checks stop)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.config.consents import load_consent_texts
from lendflow.domain.consents import CONSENTS, CREDIT_CHECK
from lendflow.domain.errors import BadInput, Refused
from lendflow.loans.records import loan_event
from lendflow.loans.results import ConsentView
from lendflow.store import consents as store
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def record_given(
    uow: UnitOfWork,
    loan: dict[str, Any],
    names: tuple[str, ...],
    locale: str,
    channel: str,
    on: date,
) -> None:
    """Keep each consent given with an application, with the words' version and hash."""
    texts = load_consent_texts()
    rows = []
    for name in names:
        version, _words, digest = texts.shown(name, locale)
        rows.append(
            {
                "loan_id": loan["id"],
                "customer_id": loan["customer_id"],
                "name": name,
                "version": version,
                "text_sha256": digest,
                "locale": locale,
                "channel": channel,
                "given_on": on,
            }
        )
    store.add_all(uow, rows)


def require_credit_check(uow: UnitOfWork, loan_id: int) -> None:
    """Refuse to query or score credit data without the applicant's consent in force."""
    if not store.in_force(uow, loan_id, CREDIT_CHECK):
        raise Refused(
            f"refused by rule CONSENT_REQUIRED: loan {loan_id} has no credit_check consent in"
            " force; its credit data may not be queried or scored"
        )


def withdraw(ws: Workspace, actor: Actor, loan_id: int, name: str, on: date) -> ConsentView:
    """The borrower takes a consent back: recorded, an event, and it stops what it allowed."""
    actor.require(Permission.SERVE_CUSTOMERS, "record a withdrawn consent")
    if name not in CONSENTS:
        raise BadInput(f"unknown consent {name!r}: one of {', '.join(CONSENTS)}")

    def use_case(uow: UnitOfWork) -> ConsentView:
        loan = loan_store.get(uow, loan_id, for_update=True)
        given = {row["name"]: row for row in store.of_loan(uow, loan_id)}
        row = given.get(name)
        if row is None:
            raise Refused(f"loan {loan_id} has no {name} consent to withdraw")
        if row["withdrawn_on"] is not None:
            raise Refused(
                f"the {name} consent of loan {loan_id} was withdrawn on {row['withdrawn_on']}"
            )
        store.withdraw(uow, loan_id, name, on)
        loan_event(uow, loan, "ConsentWithdrawn", actor, on, {"consent": name})
        return _view({**row, "withdrawn_on": on})

    return run_in_transaction(ws.engine, use_case)


def loan_consents(ws: Workspace, actor: Actor, loan_id: int) -> list[ConsentView]:
    actor.require(Permission.READ, "read loans")

    def use_case(uow: UnitOfWork) -> list[ConsentView]:
        loan_store.get(uow, loan_id)
        return [_view(row) for row in store.of_loan(uow, loan_id)]

    return run_in_transaction(ws.engine, use_case)


def _view(row: dict[str, Any]) -> ConsentView:
    return ConsentView(**{k: row[k] for k in ConsentView.model_fields})

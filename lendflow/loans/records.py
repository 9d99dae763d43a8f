"""Helpers every loan use case shares: checked transitions, specs, instalment states."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.domain.accrual import running_columns
from lendflow.domain.errors import BadInput
from lendflow.domain.repayment import InstalmentState
from lendflow.store import events
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.domain.schedule import ScheduleTerms


def loan_event(
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    name: str,
    actor: Actor,
    as_of: date,
    payload: Mapping[str, Any] | None = None,
    *,
    trigger: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
) -> None:
    events.append(
        uow,
        events.NewEvent(
            entity="loan",
            entity_id=str(loan["id"]),
            name=name,
            actor=actor.name,
            business_date=as_of,
            payload={"customer_id": loan["customer_id"], **(payload or {})},
            trigger=trigger,
            from_state=from_state,
            to_state=to_state,
        ),
    )


def transition(
    uow: UnitOfWork,
    loan: Mapping[str, Any],
    trigger: str,
    *,
    actor: Actor,
    as_of: date,
    event_name: str,
    context: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
    payload: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Check `trigger` through the loan machine, write the new status and its event."""
    from lendflow.states.machine import machine  # read-only commands never build machines

    move = machine("loan").fire(loan["state"], trigger, context, label=f"loan {loan['id']}")
    updated = loan_store.save(uow, loan, {"state": move.dest, **(changes or {})})
    loan_event(
        uow,
        updated,
        event_name,
        actor,
        as_of,
        payload,
        trigger=trigger,
        from_state=move.source,
        to_state=move.dest,
    )
    return updated


def not_before(as_of: date, earliest: date | None, what: str) -> None:
    """Refuse a business date earlier than the loan's own history."""
    if earliest is not None and as_of < earliest:
        raise BadInput(f"business date {as_of} is before {what} ({earliest})")


def contract_terms(spec: ProductSpec, loan: Mapping[str, Any]) -> ScheduleTerms:
    """The schedule terms a loan was paid out on: its approved amount, term and rate from
    its payout date, as the product version prices them (before any working-day move)."""
    return spec.schedule_terms(
        loan["approved_amount"],
        loan["term"],
        loan["disbursed_on"],
        annual_rate=Decimal(loan["annual_rate"]),
    )


def accrual_columns(rows: list[dict[str, Any]], started: date) -> dict[str, int | None]:
    """The running period close of business accrues, from the loan's instalment rows."""
    return running_columns([InstalmentState.from_row(r) for r in rows], started)

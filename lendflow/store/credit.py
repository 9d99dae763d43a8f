"""Stored facts and records of credit decisions: applicant facts, history, blocklist,
decisions and the pinned text of every model version that decided."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, insert, select

from lendflow.domain.errors import Refused
from lendflow.store import driver
from lendflow.store.tables import (
    applicant_facts,
    blocklist,
    credit_decisions,
    credit_models,
    customers,
    instalments,
    loans,
)
from lendflow.store.uow import UnitOfWork

_FACTS = select(applicant_facts).where(applicant_facts.c.loan_id == bindparam("loan_id"))
_INSERT_FACTS = insert(applicant_facts)
_HISTORY = (
    select(
        loans.c.id,
        loans.c.state,
        instalments.c.due_date,
        instalments.c.paid_on,
        instalments.c.principal + instalments.c.interest + instalments.c.fee,
    )
    .select_from(loans.outerjoin(instalments, instalments.c.loan_id == loans.c.id))
    .where(loans.c.customer_id == bindparam("customer_id"), loans.c.id != bindparam("loan_id"))
)
_BLOCKED = (
    select(blocklist.c.reason)
    .select_from(customers.join(blocklist, blocklist.c.id_hash == customers.c.id_hash))
    .where(customers.c.id == bindparam("customer_id"))
)
_INSERT_DECISION = insert(credit_decisions)
_DECISIONS = (
    select(credit_decisions)
    .where(credit_decisions.c.loan_id == bindparam("loan_id"))
    .order_by(credit_decisions.c.id)
)
_MODEL = select(credit_models.c.sha256).where(
    and_(credit_models.c.code == bindparam("code"), credit_models.c.version == bindparam("v"))
)
_INSERT_MODEL = insert(credit_models)
_pinned: set[tuple[str, str, int, str]] = set()


def save_facts(uow: UnitOfWork, loan_id: int, facts: Mapping[str, Any]) -> None:
    driver.execute(uow, _INSERT_FACTS, {"loan_id": loan_id, **facts})


def facts_of(uow: UnitOfWork, loan_id: int) -> dict[str, Any] | None:
    return driver.first(uow, _FACTS, {"loan_id": loan_id})


def history(uow: UnitOfWork, customer_id: int, loan_id: int) -> list[tuple[Any, ...]]:
    """(loan id, state, due date, paid on, instalment total) of the customer's other loans;
    a loan without instalments appears once with None in the instalment columns."""
    rows = driver.rows(uow, _HISTORY, {"customer_id": customer_id, "loan_id": loan_id})
    return [tuple(r.values()) for r in rows]


def blocklist_reason(uow: UnitOfWork, customer_id: int) -> str | None:
    return driver.scalar(uow, _BLOCKED, {"customer_id": customer_id})


def record_decisions(
    uow: UnitOfWork,
    loan_id: int,
    decided_on: date,
    actor: str,
    records: Sequence[Mapping[str, Any]],
) -> None:
    rows = [
        {
            "loan_id": loan_id,
            "decided_on": decided_on,
            "actor": actor,
            "scorecard": None,
            "scorecard_version": None,
            "decision_table": None,
            "decision_table_version": None,
            "score": None,
            "probability_of_default": None,
            "risk_grade": None,
            "approved_amount": None,
            "annual_rate": None,
            "note": None,
            **record,
            "reasons": json.dumps(list(record.get("reasons", ())), ensure_ascii=False),
            "detail": json.dumps(record.get("detail", {}), ensure_ascii=False, sort_keys=True),
        }
        for record in records
    ]
    if rows:
        driver.execute_many(uow, _INSERT_DECISION, rows)


def decisions(uow: UnitOfWork, loan_id: int) -> list[dict[str, Any]]:
    return [decode_decision(r) for r in driver.rows(uow, _DECISIONS, {"loan_id": loan_id})]


def decode_decision(row: dict[str, Any]) -> dict[str, Any]:
    row["reasons"] = json.loads(row["reasons"])
    row["detail"] = json.loads(row["detail"])
    return row


def pin_model(uow: UnitOfWork, kind: str, code: str, version: int, sha256: str, body: str) -> None:
    """Keep the exact text of a model version that decides; the same code and version
    with different text is refused, so a recorded version always means one set of rules."""
    key = (str(uow.connection.engine.url), code, version, sha256)
    if key in _pinned:
        return
    found = driver.scalar(uow, _MODEL, {"code": code, "v": version})
    if found is None:  # remembered only once seen committed: this transaction may roll back
        driver.execute(
            uow,
            _INSERT_MODEL,
            {"kind": kind, "code": code, "version": version, "sha256": sha256, "body": body},
        )
    elif found != sha256:
        raise Refused(
            f"{kind} {code} version {version} has decided loans with different rules;"
            " give the changed file a new version number"
        )
    else:
        _pinned.add(key)

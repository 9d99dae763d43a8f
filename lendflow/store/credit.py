"""Stored facts and records of credit decisions: applicant facts, history, blocklist,
decisions and the pinned text of every model version that decided."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, select

from lendflow.domain.errors import Refused
from lendflow.domain.statuses import LoanStatus
from lendflow.store import driver
from lendflow.store.caches import DatabaseCache
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


class PinnedModels(DatabaseCache[tuple[str, int, str], bool]):
    """The (code, version, SHA-256) of each model version already seen pinned with that
    text, per database, so a decision does not read the pin again in every transaction.

    Safe because a pinned model row is never changed or removed. A pin is kept here
    only when it is found already stored, never when this call writes it, since that
    transaction may yet roll back (a pin written earlier in the same transaction and
    found again is the one case that could be kept and then rolled back).
    """


PINNED = PinnedModels()


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
    key = (code, version, sha256)
    if PINNED.get(uow, key):
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
        PINNED.put(uow, key, True)


def review_queue(
    uow: UnitOfWork, product: str | None, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    """Loans under review, oldest first, each with the score, reasons and amount
    (`proposed`) of its latest champion decision (None where there is none)."""
    latest = (
        select(func.max(credit_decisions.c.id))
        .where(credit_decisions.c.role == "champion")
        .group_by(credit_decisions.c.loan_id)
        .scalar_subquery()
    )
    query = (
        select(loans, credit_decisions.c.score, credit_decisions.c.reasons,
               credit_decisions.c.approved_amount.label("proposed"))
        .select_from(
            loans.outerjoin(
                credit_decisions,
                and_(credit_decisions.c.loan_id == loans.c.id, credit_decisions.c.id.in_(latest)),
            )
        )
        .where(loans.c.state == LoanStatus.UNDER_REVIEW.value)
        .order_by(loans.c.reviewed_on, loans.c.id)
        .offset(offset)
        .limit(limit)
    )  # fmt: skip
    if product:
        query = query.where(loans.c.product_code == product)
    return [dict(row) for row in uow.connection.execute(query).mappings()]


def count_review_queue(uow: UnitOfWork, product: str | None) -> int:
    """How many loans are under review (of `product`, when given)."""
    query = (
        select(func.count())
        .select_from(loans)
        .where(loans.c.state == LoanStatus.UNDER_REVIEW.value)
    )
    if product:
        query = query.where(loans.c.product_code == product)
    return int(uow.connection.execute(query).scalar() or 0)


def blocklist_reason_by_hash(uow: UnitOfWork, id_hash: str) -> str | None:
    """Why the person with this national ID hash is blocked, or None if they are not."""
    found: str | None = uow.connection.execute(
        select(blocklist.c.reason).where(blocklist.c.id_hash == id_hash)
    ).scalar()
    return found


def add_to_blocklist(uow: UnitOfWork, values: Mapping[str, Any]) -> None:
    uow.connection.execute(insert(blocklist), dict(values))


def blocklist_rows(uow: UnitOfWork) -> list[dict[str, Any]]:
    """Every blocklist row, oldest first."""
    rows = uow.connection.execute(select(blocklist).order_by(blocklist.c.added_on)).mappings()
    return [dict(r) for r in rows]


@dataclass(frozen=True)
class ComparedDecision:
    """One champion or challenger decision, with how its loan has done since."""

    loan_id: int
    role: str
    outcome: str
    score: int | None
    scorecard: str | None
    scorecard_version: int | None
    state: str
    dpd: int
    product_code: str


def compared_decisions(
    uow: UnitOfWork, product: str | None, since: date | None, until: date | None
) -> list[ComparedDecision]:
    """Champion and challenger decisions in the order they were made, of one product
    and decided within `since`..`until` where given."""
    d = credit_decisions
    query = (
        select(d.c.loan_id, d.c.role, d.c.outcome, d.c.score, d.c.scorecard, d.c.scorecard_version,
               loans.c.state, loans.c.dpd, loans.c.product_code)
        .select_from(d.join(loans, loans.c.id == d.c.loan_id))
        .where(d.c.role.in_(("champion", "challenger")))
        .order_by(d.c.id)
    )  # fmt: skip
    if product:
        query = query.where(loans.c.product_code == product)
    if since:
        query = query.where(d.c.decided_on >= since)
    if until:
        query = query.where(d.c.decided_on <= until)
    return [ComparedDecision(*row) for row in uow.connection.execute(query)]

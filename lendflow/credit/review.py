"""Automated credit review: score, apply the decision table, price, check affordability.

The order matters and is the lender's: the table's hard rules and score bands
decide approve / refer / reject and the risk grade; the grade prices the loan
inside the product's band and under the APR cap; affordability at that price
may cut the amount (never raise it) or decline. A challenger scorecard goes
through the same steps in shadow, so the two can be compared like for like.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.config.credit_models import FOLDER_NAME, CreditModels, Loaded, packaged_folder
from lendflow.config.product_spec import ProductSpec, costliest_loan
from lendflow.domain.affordability import debt_to_income, largest_affordable, monthly_equivalent
from lendflow.domain.credit_facts import FACTS
from lendflow.domain.money import format_fen
from lendflow.domain.pricing import capped_rate
from lendflow.domain.rules import DecisionTable, InputKind
from lendflow.domain.schedule import generate
from lendflow.domain.scoring import Scorecard, ScoreResult, score
from lendflow.domain.statuses import OUTSTANDING, LoanStatus
from lendflow.products.catalogue import spec_for
from lendflow.store import credit
from lendflow.store import loans as loan_store
from lendflow.store.uow import UnitOfWork
from lendflow.workspace.decisioning import CreditDecision

if TYPE_CHECKING:
    from lendflow.config.policy import Policy
    from lendflow.workspace.context import Workspace

OPEN_LOAN_STATES = tuple(sorted(OUTSTANDING))


@dataclass(frozen=True)
class Applicant:
    """Everything a decision reads, gathered once: facts for the models, and the
    money figures affordability needs."""

    facts: dict[str, Any]
    other_obligations: Decimal
    requested: int
    term: int


@dataclass
class Assessment:
    outcome: str
    reasons: list[str]
    result: ScoreResult
    grade: str | None = None
    rate: Decimal | None = None
    amount: int | None = None
    rules: tuple[int, ...] = ()
    dti_at_price: Decimal | None = None
    notes: list[str] = field(default_factory=list)


class Pricer:
    """Risk-based rates per product version and grade, capped once and remembered."""

    def __init__(self, policy: Policy) -> None:
        self.cap = policy.apr_cap.limit
        self._rates: dict[tuple[int, str], Decimal | None] = {}

    def rate(self, version_id: int, spec: ProductSpec, grade: str) -> Decimal | None:
        key = (version_id, grade)
        if key not in self._rates:
            wanted = spec.rate.by_grade[grade]
            self._rates[key] = capped_rate(
                wanted, spec.rate.lowest, self.cap, lambda r: costliest_loan(spec, r)[0]
            )
        return self._rates[key]


def monthly_instalment(
    spec: ProductSpec, principal: int, term: int, rate: Decimal, on: date
) -> Decimal:
    """The largest instalment before the last (the last may be a balloon repaid from
    the business or refinanced), brought to a month."""
    rows = generate(spec.schedule_terms(principal, term, on, annual_rate=rate)).instalments
    regular = rows[:-1] if len(rows) > 1 else rows
    largest = max(r.principal + r.interest + r.fee for r in regular)
    return monthly_equivalent(largest, spec.repayment.every, spec.repayment.frequency)


def assess(
    card: Scorecard,
    table: DecisionTable,
    applicant: Applicant,
    spec: ProductSpec,
    *,
    price: Any,
    dti_limit: Decimal,
    on: date,
) -> Assessment:
    """One scorecard's decision for one applicant; pure given the pricer."""
    result = score(card, applicant.facts)
    verdict = table.evaluate({**applicant.facts, "score": result.score})
    found = Assessment(verdict.outcome, list(verdict.reasons), result, verdict.grade)
    found.rules = verdict.rules
    if found.outcome == "reject":
        return _explained(found)
    if found.grade is not None:
        if found.grade not in spec.rate.by_grade:
            return _refer(found, "GRADE_NOT_PRICED")
        found.rate = price(found.grade)
        if found.rate is None:
            return _reject(found, "APR_CAP_EXCEEDED")
    amount = applicant.requested
    if verdict.max_amount is not None and verdict.max_amount < amount:
        amount = spec.amount.min + (verdict.max_amount - spec.amount.min) // spec.amount.step * (
            spec.amount.step
        )
        found.reasons.append("AMOUNT_CAPPED_BY_POLICY")
        if amount < spec.amount.min:
            return _reject(found, "LIMIT_BELOW_PRODUCT_MINIMUM")
    rate = found.rate if found.rate is not None else spec.rate.annual
    income = applicant.facts["monthly_income"]
    affordable = largest_affordable(
        requested=amount,
        minimum=spec.amount.min,
        step=spec.amount.step,
        income=income,
        other_obligations=applicant.other_obligations,
        limit_percent=dti_limit,
        monthly_instalment=lambda p: monthly_instalment(spec, p, applicant.term, rate, on),
    )
    if affordable is None:
        return _reject(found, "UNAFFORDABLE")
    if affordable < amount:
        found.reasons.append("AMOUNT_REDUCED_FOR_AFFORDABILITY")
    found.amount = affordable
    found.dti_at_price = debt_to_income(
        income,
        applicant.other_obligations
        + monthly_instalment(spec, affordable, applicant.term, rate, on),
    )
    return found


def _explained(found: Assessment) -> Assessment:
    """A decline names the rule's reasons, then the characteristics that cost most points."""
    for reason in found.result.reasons():
        if reason not in found.reasons:
            found.reasons.append(reason)
    return found


def _reject(found: Assessment, reason: str) -> Assessment:
    found.outcome = "reject"
    found.reasons.append(reason)
    found.amount = None
    return _explained(found)


def _refer(found: Assessment, reason: str) -> Assessment:
    found.outcome = "refer"
    found.reasons.append(reason)
    return found


class AutomatedReview:
    """The product's champion scorecard and decision table decide; a challenger shadows."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.models = CreditModels([ws.settings.home / FOLDER_NAME, packaged_folder()])
        self.pricer = Pricer(ws.policy)

    def decide(self, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date) -> CreditDecision:
        spec = spec_for(uow, loan)
        if spec.scorecard is None or spec.decision_table is None:
            return CreditDecision(outcome="refer", reasons=("NO_SCORECARD",))
        applicant = gather(uow, loan, as_of)
        if applicant is None:
            return CreditDecision(outcome="refer", reasons=("NO_APPLICANT_FACTS",))
        card = self.models.scorecard(spec.scorecard)
        table = self.models.table(spec.decision_table)
        for loaded in (card, table):
            _pin(uow, loaded)
        champion = self._assess(card, table, applicant, spec, loan, as_of)
        records = [_record("champion", card, table, champion, applicant)]
        if spec.challenger:
            challenger_card = self.models.scorecard(spec.challenger)
            _pin(uow, challenger_card)
            shadow = self._assess(challenger_card, table, applicant, spec, loan, as_of)
            records.append(_record("challenger", challenger_card, table, shadow, applicant))
        return CreditDecision(
            outcome=champion.outcome,  # type: ignore[arg-type]
            approved_amount=champion.amount,
            annual_rate=str(champion.rate) if champion.rate is not None else None,
            risk_grade=champion.grade,
            reasons=tuple(champion.reasons),
            records=tuple(records),
        )

    def _assess(
        self,
        card: Loaded,
        table: Loaded,
        applicant: Applicant,
        spec: ProductSpec,
        loan: Mapping[str, Any],
        as_of: date,
    ) -> Assessment:
        version_id = loan["product_version_id"]
        return assess(
            card.model,  # type: ignore[arg-type]
            table.model,  # type: ignore[arg-type]
            applicant,
            spec,
            price=lambda grade: self.pricer.rate(version_id, spec, grade),
            dti_limit=self.ws.policy.affordability.limit_for(spec.code),
            on=as_of,
        )


def _pin(uow: UnitOfWork, loaded: Loaded) -> None:
    kind = "scorecard" if isinstance(loaded.model, Scorecard) else "decision_table"
    credit.pin_model(uow, kind, loaded.model.code, loaded.model.version, loaded.digest, loaded.text)


def gather(uow: UnitOfWork, loan: Mapping[str, Any], as_of: date) -> Applicant | None:
    """The applicant's facts from the application, our own records and the blocklist."""
    spec = spec_for(uow, loan)
    stated = credit.facts_of(uow, loan["id"])
    if stated is None:
        return None
    history = credit.history(uow, loan["customer_id"], loan["id"])
    closed: set[int] = set()
    written_off = False
    worst_dpd = 0
    largest_open: dict[int, int] = {}
    for loan_id, state, due, paid_on, total in history:
        if state == LoanStatus.CLOSED:
            closed.add(loan_id)
        written_off = written_off or state == LoanStatus.WRITTEN_OFF
        if due is None:
            continue
        settled = paid_on or as_of
        if settled > due:
            worst_dpd = max(worst_dpd, (settled - due).days)
        if state in OPEN_LOAN_STATES and paid_on is None:
            largest_open[loan_id] = max(largest_open.get(loan_id, 0), total)
    ours = sum(
        (
            monthly_equivalent(v, spec.repayment.every, spec.repayment.frequency)
            for v in largest_open.values()
        ),
        Decimal(0),
    )
    requested = loan["requested_amount"]
    obligations = Decimal(stated["monthly_debt"]) + ours
    exposure = loan_store.exposure(uow, loan["customer_id"]) - (
        loan["approved_amount"] or requested
    )
    new_instalment = monthly_instalment(
        spec, requested, loan["term"], Decimal(loan["annual_rate"]), as_of
    )
    facts = {
        "age": stated["age"],
        "monthly_income": stated["monthly_income"],
        "monthly_debt": stated["monthly_debt"],
        "dti": debt_to_income(stated["monthly_income"], obligations + new_instalment),
        "employment": stated["employment"],
        "purpose": loan["purpose"],
        "product": loan["product_code"],
        "requested_amount": requested,
        "term": loan["term"],
        "exposure": exposure,
        "prior_loans": len(closed),
        "worst_prior_dpd": worst_dpd,
        "prior_write_off": written_off,
        "blocklisted": credit.blocklist_reason(uow, loan["customer_id"]) is not None,
    }
    return Applicant(facts, obligations, requested, loan["term"])


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _shown_inputs(facts: Mapping[str, Any]) -> dict[str, Any]:
    """Facts as a person reads them: money in yuan, decimals as text."""
    return {
        name: format_fen(value)
        if FACTS.get(name) is InputKind.MONEY and value is not None
        else _plain(value)
        for name, value in facts.items()
    }


def _record(
    role: str, card: Loaded, table: Loaded, found: Assessment, applicant: Applicant
) -> dict[str, Any]:
    return {
        "role": role,
        "outcome": found.outcome,
        "scorecard": card.model.code,
        "scorecard_version": card.model.version,
        "decision_table": table.model.code,
        "decision_table_version": table.model.version,
        "score": found.result.score,
        "probability_of_default": str(found.result.probability_of_default),
        "risk_grade": found.grade,
        "approved_amount": found.amount,
        "annual_rate": str(found.rate) if found.rate is not None else None,
        "reasons": found.reasons,
        "detail": {
            "inputs": _shown_inputs(applicant.facts),
            "points": {
                line.name: {"bin": line.bin, "points": line.points, "lost": line.points_lost}
                for line in found.result.lines
            },
            "rules": list(found.rules),
            "score_reasons": list(found.result.reasons()),
            "dti_at_price": _plain(found.dti_at_price),
            "sha256": {"scorecard": card.digest, "decision_table": table.digest},
        },
    }


def models_folder(home: Path) -> Path:
    """Where a workspace keeps its own scorecards and tables (they win over the packaged)."""
    return home / FOLDER_NAME

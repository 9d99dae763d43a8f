"""Applications: apply, start review, approve, reject, withdraw. One transaction each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.customers import registry as customers
from lendflow.domain.bounds import AmountKind, check_amount, check_code
from lendflow.domain.business_date import check_horizon
from lendflow.domain.calendar import add_periods
from lendflow.domain.consents import missing_to_apply, parse_consents
from lendflow.domain.credit_facts import EMPLOYMENT
from lendflow.domain.errors import BadInput, FieldProblems, FieldRefused, Refused
from lendflow.domain.identity import age_on, validate_name, validate_national_id, validate_phone
from lendflow.domain.money import format_fen, parse_amount
from lendflow.domain.statuses import LoanStatus
from lendflow.loans.claims import check_decider
from lendflow.loans.consents import record_given, require_credit_check
from lendflow.loans.promotions import record_referral, referrer_reference
from lendflow.loans.records import loan_event, not_before, transition
from lendflow.loans.results import LoanResult
from lendflow.loans.views import loan_view
from lendflow.products.catalogue import spec_for, spec_of
from lendflow.store import credit, products
from lendflow.store import loans as loan_store
from lendflow.store import related as related_store
from lendflow.store.personal_data import decision_row, row_ref
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.decisioning import CreditDecision

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

REASON_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Application:
    """An application as typed or uploaded; amounts in fen, already validated."""

    product: str
    name: str
    national_id: str
    phone: str
    monthly_income: int
    amount: int
    term: int
    purpose: str | None = None
    monthly_debt: int = 0
    employment: str = "unknown"
    referrer: str | None = None  # who referred the applicant: customer number or national ID
    consents: tuple[str, ...] = ()  # the authorisations given (domain.consents)
    channel: str = "terminal"  # where the application was taken: terminal, api, console
    consent_locale: str = "zh-CN"  # the language of the consent texts shown

    @classmethod
    def parse(cls, **raw: Any) -> Application:
        """Validate every field of a raw application; the first problem is the error."""
        missing = [k for k in REQUIRED if raw.get(k) in (None, "")]
        if missing:
            raise BadInput(f"application is missing {', '.join(missing)}")
        return cls(**{name: check(raw.get(name)) for name, check in _CHECKS.items()})

    @classmethod
    def parse_each(cls, **raw: Any) -> Application:
        """Every field checked on its own, as a form shows them: the application, or
        `FieldProblems` naming each field that is missing or wrong, with its line."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, check in _CHECKS.items():
            if name in REQUIRED and raw.get(name) in (None, ""):
                problems[name] = f"{name.replace('_', ' ')} is missing"
                continue
            try:
                values[name] = check(raw.get(name))
            except BadInput as bad:
                problems[name] = bad.message
        if problems:
            raise FieldProblems(problems)
        return cls(**values)

    @classmethod
    def from_file(cls, path: Path) -> Application:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BadInput(f"{path}: file not found") from None
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(data, dict):
            raise BadInput(f"{path}: expected a JSON object of application fields")
        money_fields = ("amount", "monthly_income", "monthly_debt")
        if any(isinstance(data.get(k), float) for k in money_fields):
            raise BadInput(
                f'{path}: write amounts as strings ("5000.00"), not JSON numbers with decimals'
            )
        aliases = {"id_number": "national_id"}
        return cls.parse(**{aliases.get(k, k): v for k, v in data.items()})


REQUIRED = ("product", "name", "national_id", "phone", "monthly_income", "amount", "term")


def _term(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise BadInput(f"term must be a whole number of repayments, got {raw!r}") from None


def _employment(raw: Any) -> str:
    employment = str(raw or "unknown")
    if employment not in EMPLOYMENT:
        raise BadInput(f"employment must be one of {', '.join(EMPLOYMENT)}, got {employment!r}")
    return employment


def _income(raw: Any) -> int:
    fen = parse_amount(raw, field="monthly income")
    return check_amount(fen, AmountKind.INCOME, field="monthly income")


def _amount(raw: Any) -> int:
    return check_amount(parse_amount(raw, field="amount"), AmountKind.LOAN, field="amount")


def _debt(raw: Any) -> int:
    if raw in (None, ""):
        return 0
    fen = parse_amount(raw, field="monthly debt", allow_zero=True)
    return check_amount(fen, AmountKind.INCOME, field="monthly debt", allow_zero=True)


def _locale(raw: Any) -> str:
    locale = str(raw or "zh-CN")
    if locale not in ("zh-CN", "en"):
        raise BadInput(f"consent language must be zh-CN or en, got {locale!r}")
    return locale


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "term": _term,
    "employment": _employment,
    "product": lambda raw: check_code(str(raw), field="product"),
    "name": lambda raw: validate_name(str(raw)),
    "national_id": lambda raw: validate_national_id(str(raw)),
    "phone": lambda raw: validate_phone(str(raw)),
    "monthly_income": _income,
    "amount": _amount,
    "purpose": lambda raw: str(raw) if raw else None,
    "monthly_debt": _debt,
    "referrer": referrer_reference,
    "consents": parse_consents,
    "channel": lambda raw: check_code(str(raw or "terminal"), field="channel"),
    "consent_locale": _locale,
}
"""Each field of an application and the check that reads it (in the order `parse` has
always checked them, so its first problem stays the same)."""


def apply(ws: Workspace, actor: Actor, application: Application, as_of: date) -> LoanResult:
    """Register an application for a live product, or refuse it with the rule it breaks."""
    actor.require(Permission.APPLY, "take applications")
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> LoanResult:
        version = products.live_version(uow, application.product)
        spec = spec_of(version)
        _check_terms(spec, application, as_of)
        _check_exclusions(ws, spec, application, as_of)
        _check_consents(application)
        person = customers.PersonalData(
            application.name, application.national_id, application.phone
        )
        customer = customers.enrol(uow, ws.cipher, person, application.monthly_income)
        _check_open_and_exposure(ws, uow, customer["id"], spec, application)
        loan = loan_store.add(uow, _new_loan(customer["id"], version, spec, application, as_of))
        record_given(
            uow, loan, application.consents, application.consent_locale, application.channel, as_of
        )
        if application.referrer:
            record_referral(ws, uow, loan, application.referrer)
        credit.save_facts(
            uow,
            loan["id"],
            {
                "age": age_on(application.national_id, as_of),
                "monthly_income": application.monthly_income,
                "monthly_debt": application.monthly_debt,
                "employment": application.employment,
            },
        )
        loan_event(
            uow,
            loan,
            "LoanSubmitted",
            actor,
            as_of,
            {
                "amount": application.amount,
                "term": application.term,
                "product_version": version["version"],
                "consents": list(application.consents),
            },
            trigger="apply",
            to_state=LoanStatus.SUBMITTED.value,
        )
        return loan_view(ws, uow, loan, actor, as_of, customer=customer)

    return run_in_transaction(ws.engine, use_case)


def _check_open_and_exposure(
    ws: Workspace, uow: UnitOfWork, customer_id: int, spec: Any, application: Application
) -> None:
    """One open application per product, and the concentration limits: the borrower's
    ceiling for the product's kind, their share of the lender's net assets (or the fixed
    single-borrower cap without them), and their related parties' share together."""
    code, amount = spec.code, application.amount
    open_ids = loan_store.open_applications(uow, customer_id, code)
    if open_ids:
        raise Refused(f"customer already has an open application for {code} (loan {open_ids[0]})")
    limits = ws.policy.concentration
    exposure = loan_store.exposure(uow, customer_id) + amount
    ceiling = limits.ceilings.get(spec.kind)
    if ceiling is not None and exposure > ceiling:
        raise Refused(
            f"refused by rule KIND_CEILING: exposure {format_fen(exposure)} would pass the"
            f" ceiling of {format_fen(ceiling)} per borrower for {spec.kind} loans"
        )
    (cap, basis), (group_cap, group_basis) = _shares(ws)
    if exposure > cap:
        raise Refused(
            f"refused by rule SINGLE_BORROWER_CAP: exposure {format_fen(exposure)} would pass"
            f" {format_fen(cap)} ({basis})"
        )
    id_hash = ws.cipher.lookup_hash(application.national_id, "national_id")
    for group in related_store.groups_of(uow, id_hash):
        together = related_store.group_exposure(uow, group) + amount
        if together > group_cap:
            raise Refused(
                f"refused by rule RELATED_PARTY_CAP: related-party group {group} would owe"
                f" {format_fen(together)}, over {format_fen(group_cap)} ({group_basis})"
            )


def _shares(ws: Workspace) -> tuple[tuple[int, str], tuple[int, str]]:
    """The single-borrower and related-party limits in fen, each with what it is: a share
    of the net assets the policy names, else the fixed cap (and it scaled 15:10)."""
    limits = ws.policy.concentration
    single = limits.share(limits.single_borrower_percent)
    group = limits.share(limits.related_parties_percent)
    if single is not None and group is not None:
        assets = f"of net assets {format_fen(limits.net_assets or 0)} on {limits.net_assets_on}"
        return (
            (single, f"{limits.single_borrower_percent}% {assets}"),
            (group, f"{limits.related_parties_percent}% {assets}"),
        )
    cap = ws.policy.single_borrower_cap
    scaled = int(cap * limits.related_parties_percent / limits.single_borrower_percent)
    ratio = f"{limits.related_parties_percent}:{limits.single_borrower_percent}"
    return (cap, "the single-borrower cap"), (scaled, f"the single-borrower cap scaled {ratio}")


def _check_consents(application: Application) -> None:
    missing = missing_to_apply(application.consents)
    if missing:
        raise FieldRefused(
            f"refused by rule CONSENT_REQUIRED: the applicant has not given consent to"
            f" {', '.join(missing)}",
            "consents",
        )


def _check_exclusions(ws: Workspace, spec: Any, application: Application, as_of: date) -> None:
    """Who may not borrow this product whatever their score, each refusal naming its rule."""
    rules = ws.policy.exclusions
    if application.employment in rules.employment_by_kind.get(spec.kind, ()):
        raise FieldRefused(
            f"refused by rule EMPLOYMENT_EXCLUDED: {application.employment} applicants may not"
            f" borrow {spec.kind} loans ({spec.code})",
            "employment",
        )
    repayment = spec.repayment
    maturity = add_periods(as_of, application.term, repayment.every, repayment.frequency)
    age = age_on(application.national_id, maturity)
    if age > rules.max_age_at_maturity:
        raise FieldRefused(
            f"refused by rule AGE_AT_MATURITY: the applicant would be {age} when the loan"
            f" matures on {maturity}; the policy lends to {rules.max_age_at_maturity} at most",
            "term",
        )


def _new_loan(
    customer_id: int,
    version: Mapping[str, Any],
    spec: Any,
    application: Application,
    as_of: date,
) -> dict[str, Any]:
    """The loan row an application starts as: submitted, on the live version's terms."""
    return {
        "customer_id": customer_id,
        "product_code": spec.code,
        "product_version_id": version["id"],
        "state": LoanStatus.SUBMITTED.value,
        "purpose": application.purpose or spec.purposes[0],
        "requested_amount": application.amount,
        "principal": 0,
        "term": application.term,
        "annual_rate": str(spec.rate.annual),
        "method": str(spec.repayment.method),
        "applied_on": as_of,
    }


def _check_terms(spec: Any, application: Application, as_of: date) -> None:
    """The product's terms, each refusal naming the field it is about."""
    amount = spec.amount
    if not amount.min <= application.amount <= amount.max:
        raise FieldRefused(
            f"amount {format_fen(application.amount)} is outside {spec.code}'s range"
            f" {format_fen(amount.min)} to {format_fen(amount.max)}",
            "amount",
        )
    if (application.amount - amount.min) % amount.step:
        raise FieldRefused(
            f"amount must be in steps of {format_fen(amount.step)} above {format_fen(amount.min)}",
            "amount",
        )
    if application.term not in spec.terms:
        allowed = ", ".join(str(t) for t in spec.terms)
        raise FieldRefused(
            f"term {application.term} is not offered by {spec.code} (allowed: {allowed})", "term"
        )
    if application.purpose and application.purpose not in spec.purposes:
        raise FieldRefused(
            f"purpose {application.purpose!r} is not offered by {spec.code}"
            f" (allowed: {', '.join(spec.purposes)})",
            "purpose",
        )
    age = age_on(application.national_id, as_of)
    if not spec.age.min <= age <= spec.age.max:
        raise FieldRefused(
            f"applicant is {age}; {spec.code} lends from {spec.age.min} to {spec.age.max}",
            "national_id",
        )


def _decide(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    as_of: date,
    step: Any,
) -> LoanResult:
    check_horizon(as_of, ws.today(), ws.policy.business_dates.horizon_days)

    def use_case(uow: UnitOfWork) -> LoanResult:
        loan = loan_store.get(uow, loan_id, for_update=True)
        not_before(as_of, loan["applied_on"], f"loan {loan_id} was applied for")
        updated = step(uow, loan)
        return loan_view(ws, uow, updated, actor, as_of)

    return run_in_transaction(ws.engine, use_case)


def start_review(ws: Workspace, actor: Actor, loan_id: int, as_of: date) -> LoanResult:
    """Move a submitted application into review and ask the credit decider.

    The default decider refers every application to a person; an automated
    one may approve or reject here, inside the same transaction.
    """
    actor.require(Permission.REVIEW, "start reviews")

    def step(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
        if loan["state"] == LoanStatus.SUBMITTED.value:  # else the machine refuses the move
            require_credit_check(uow, loan["id"])
        loan = transition(
            uow,
            loan,
            "start_review",
            actor=actor,
            as_of=as_of,
            event_name="LoanReviewStarted",
            changes={"reviewed_on": as_of},
        )
        decision = ws.decider.decide(uow, loan, as_of)
        credit.record_decisions(uow, loan["id"], as_of, actor.name, decision.records)
        priced = _priced(decision)
        if decision.outcome == "approve" and decision.approved_amount:
            return _approve(
                uow, loan, actor, as_of, decision.approved_amount, AUTOMATED, priced, decision
            )
        if decision.outcome == "reject":
            return _reject(uow, loan, actor, as_of, decision.reasons[0], AUTOMATED, decision)
        if not decision.records:
            return loan  # manual review: nothing was assessed, the loan simply waits
        if priced:
            loan = loan_store.save(uow, loan, priced)
        loan_event(
            uow,
            loan,
            "LoanReferred",
            actor,
            as_of,
            {
                "reasons": list(decision.reasons),
                "risk_grade": decision.risk_grade,
                "proposed_amount": decision.approved_amount,
            },
        )
        return loan

    return _decide(ws, actor, loan_id, as_of, step)


AUTOMATED = "automated decision"


def _priced(decision: CreditDecision) -> dict[str, Any]:
    """The grade and risk-based rate a decision sets on the loan, if it priced one."""
    changes: dict[str, Any] = {}
    if decision.risk_grade is not None:
        changes["risk_grade"] = decision.risk_grade
    if decision.annual_rate is not None:
        changes["annual_rate"] = decision.annual_rate
    return changes


def _decision_payload(decision: CreditDecision | None) -> dict[str, Any]:
    if decision is None:
        return {}
    return {"reasons": list(decision.reasons), "risk_grade": decision.risk_grade}


def _approve(
    uow: UnitOfWork,
    loan: dict[str, Any],
    actor: Actor,
    as_of: date,
    amount: int,
    note: str | None,
    priced: dict[str, Any] | None = None,
    decision: CreditDecision | None = None,
) -> dict[str, Any]:
    spec = spec_for(uow, loan)
    within_request = 0 < amount <= loan["requested_amount"]  # else the machine's guard says so
    if within_request and (
        amount < spec.amount.min or (amount - spec.amount.min) % spec.amount.step
    ):
        raise Refused(
            f"loan {loan['id']}: {spec.code} lends from {format_fen(spec.amount.min)} in steps"
            f" of {format_fen(spec.amount.step)}; {format_fen(amount)} is not on offer"
        )
    expires = as_of + timedelta(days=spec.approval_validity_days)
    return transition(
        uow,
        loan,
        "approve",
        actor=actor,
        as_of=as_of,
        event_name="LoanApproved",
        context={"approved_amount": amount, "requested_amount": loan["requested_amount"]},
        changes={
            "approved_amount": amount,
            "decided_on": as_of,
            "approval_expires_on": expires,
            "decision_note": note,
            **(priced or {}),
        },
        payload={
            "approved_amount": amount,
            "annual_rate": (priced or {}).get("annual_rate", loan["annual_rate"]),
            "expires_on": expires.isoformat(),
            **_note_payload(loan, note),
            **_decision_payload(decision),
        },
    )


def _reject(
    uow: UnitOfWork,
    loan: dict[str, Any],
    actor: Actor,
    as_of: date,
    reason: str,
    note: str | None,
    decision: CreditDecision | None = None,
) -> dict[str, Any]:
    return transition(
        uow,
        loan,
        "reject",
        actor=actor,
        as_of=as_of,
        event_name="LoanRejected",
        context={"reason": reason},
        changes={"reason_code": reason, "decided_on": as_of, "decision_note": note},
        payload={
            "reason_code": reason,
            **_note_payload(loan, note),
            **_decision_payload(decision),
        },
    )


def approve(
    ws: Workspace,
    actor: Actor,
    loan_id: int,
    as_of: date,
    amount: int | None = None,
    note: str | None = None,
) -> LoanResult:
    """Approve an application under review, for at most the amount requested."""
    actor.require(Permission.DECIDE, "approve loans")

    def step(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
        check_decider(uow, loan["id"], actor)
        referral = _referral(uow, loan, note)
        proposed = referral.get("approved_amount") if referral else None
        chosen = amount if amount is not None else proposed or loan["requested_amount"]
        on_loan, on_decision = _sealed_notes(ws, loan["id"], note)
        updated = _approve(uow, loan, actor, as_of, chosen, on_loan)
        _record_manual(uow, updated, actor, as_of, "approve", on_decision, amount=chosen)
        return updated

    return _decide(ws, actor, loan_id, as_of, step)


def reject(
    ws: Workspace, actor: Actor, loan_id: int, as_of: date, reason: str, note: str | None = None
) -> LoanResult:
    """Decline an application under review with a reason code."""
    actor.require(Permission.DECIDE, "reject loans")
    if not REASON_CODE.match(reason or ""):
        raise BadInput(f"reason code must be a short code like DTI_TOO_HIGH, got {reason!r}")

    def step(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
        check_decider(uow, loan["id"], actor)
        _referral(uow, loan, note)
        on_loan, on_decision = _sealed_notes(ws, loan["id"], note)
        updated = _reject(uow, loan, actor, as_of, reason, on_loan)
        _record_manual(uow, updated, actor, as_of, "reject", on_decision, reason=reason)
        return updated

    return _decide(ws, actor, loan_id, as_of, step)


def _sealed_notes(ws: Workspace, loan_id: int, note: str | None) -> tuple[str | None, str | None]:
    """A note a person typed, sealed for the loan row and for its manual credit decision:
    it may name people or their circumstances, so it is personal data."""
    if not note:
        return None, None
    return (
        ws.cipher.encrypt(note, "decision_note", row_ref("loans", loan_id)),
        ws.cipher.encrypt(note, "note", decision_row(loan_id)),
    )


def _note_payload(loan: Mapping[str, Any], note: str | None) -> dict[str, Any]:
    """What an event says of a note: where it is kept, never its text (events can never
    be erased). Automated review's fixed note is no one's words and stays as it is."""
    if note is None:
        return {}
    if note == AUTOMATED:
        return {"note": AUTOMATED}
    return {"note_ref": f"loans:{loan['id']}:decision_note"}


def _referral(uow: UnitOfWork, loan: dict[str, Any], note: str | None) -> dict[str, Any] | None:
    """The automated referral a person is deciding, if any; deciding one needs a note."""
    if loan["state"] != "under_review":
        return None  # the machine refuses the move with its own message
    referral = next(
        (d for d in reversed(credit.decisions(uow, loan["id"])) if d["role"] == "champion"), None
    )
    if referral is not None and referral["outcome"] == "refer" and not (note or "").strip():
        raise BadInput(
            f"loan {loan['id']} was referred by automated review"
            f" ({', '.join(referral['reasons'])}); give --note with the grounds for your decision"
        )
    return referral


def _record_manual(
    uow: UnitOfWork,
    loan: dict[str, Any],
    actor: Actor,
    as_of: date,
    outcome: str,
    note: str | None,
    *,
    amount: int | None = None,
    reason: str | None = None,
) -> None:
    record = {
        "role": "manual",
        "outcome": outcome,
        "risk_grade": loan.get("risk_grade"),
        "approved_amount": amount,
        "annual_rate": loan["annual_rate"] if outcome == "approve" else None,
        "reasons": [reason] if reason else [],
        "note": note,
    }
    credit.record_decisions(uow, loan["id"], as_of, actor.name, [record])


def withdraw(
    ws: Workspace, actor: Actor, loan_id: int, as_of: date, note: str | None = None
) -> LoanResult:
    """The applicant withdraws before the money is paid out."""
    actor.require(Permission.WITHDRAW, "withdraw applications")

    def step(uow: UnitOfWork, loan: dict[str, Any]) -> dict[str, Any]:
        from lendflow.loans.disbursement import payout_in_flight

        if payout_in_flight(uow, loan["id"]):
            raise Refused(
                f"loan {loan['id']} has a payout sent to the gateway; finish the disbursement"
                " (it may have been paid) before anything else"
            )
        return transition(
            uow,
            loan,
            "withdraw",
            actor=actor,
            as_of=as_of,
            event_name="LoanWithdrawn",
            changes={"decision_note": _sealed_notes(ws, loan["id"], note)[0]},
            payload=_note_payload(loan, note),
        )

    return _decide(ws, actor, loan_id, as_of, step)

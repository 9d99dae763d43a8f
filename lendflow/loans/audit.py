"""`audit verify`: prove the books from the journal and the trail from the chain.

Checks that every journal entry balances, that every loan's stored balances
equal what its journal lines add up to, that instalment payments agree with
the principal the ledger says was repaid, and that the event chain is intact,
keyed and still reaches every anchor kept outside the database. It then
recomputes what a borrower owes from the source of truth and names every stored
figure that disagrees: a loan's status (its events), days past due, bucket and
class (its schedule, payments and closed-through date, by the delinquency rules
close of business applies), each instalment's principal, interest and fee (the
product version's schedule), penalty (the journal's penalty postings), paid amounts
(the receivables the journal holds) and `paid_on` (the repayments posted), each
payout (the disbursement entry), every issued document's SHA-256 (its stored bytes)
and every live loan's contract. Every problem is returned, not just the first.

The book is read set-based: whole-book facts once, loans and instalments per id
range of `LOAN_BATCH`, documents `DOCUMENT_BATCH` at a time.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor, Permission
from lendflow.documents.issuing import sealed_content
from lendflow.domain import bounds
from lendflow.domain.accrual import expected_accrued, on_books, reaches_non_accrual, running_columns
from lendflow.domain.business_days import BusinessCalendar, NonWorkingDue
from lendflow.domain.classification import class_on, rank
from lendflow.domain.delinquency import bucket_for, classification_for, days_late, effective_dpd
from lendflow.domain.errors import BadInput, LendflowError, NotFound
from lendflow.domain.ledger import LOAN_BALANCES, Account
from lendflow.domain.loan_actions import ScheduleChange, restructured_terms, schedule_after
from lendflow.domain.money import format_fen
from lendflow.domain.provisions import month_end_on_or_before, percent_of
from lendflow.domain.recalculation import recalculate
from lendflow.domain.repayment import InstalmentState
from lendflow.domain.schedule import generate
from lendflow.domain.statuses import LoanStatus
from lendflow.loans.records import contract_terms
from lendflow.loans.results import EventTrail, TrailEvent
from lendflow.products.catalogue import spec_for
from lendflow.store import audit as audit_store
from lendflow.store import events, journal, ledger_reports, loan_requests, schedule_versions
from lendflow.store import lifecycle as lifecycle_rows
from lendflow.store import loans as loan_store
from lendflow.store import refunds as refund_store
from lendflow.store.uow import UnitOfWork, run_in_transaction
from lendflow.workspace.anchors import ChainAnchor, anchor_chain, read_anchors
from lendflow.workspace.context import NoContracts

if TYPE_CHECKING:
    from lendflow.config.product_spec import ProductSpec
    from lendflow.workspace.context import Workspace

LOAN_BATCH = 2_000
DOCUMENT_BATCH = 500
LIVE = frozenset({LoanStatus.ACTIVE, LoanStatus.OVERDUE})
# Loans whose days past due, bucket and class are frozen as close of business last set them.
JUDGED = LIVE | {LoanStatus.WRITTEN_OFF}
DISBURSED_STATES = LIVE | {LoanStatus.WRITTEN_OFF, LoanStatus.CLOSED}
SETTLING_KINDS = ("repayment", "restructure")
"""Entries that may leave an instalment with nothing owed: a repayment, or a restructure
(it settles the old schedule with the new principal)."""
SCHEDULE_CHANGES = ("accelerate", "restructure")
OWED = ("principal", "interest", "fee", "penalty")
PAID_AND_WAIVED = (
    "principal_paid",
    "interest_paid",
    "fee_paid",
    "penalty_paid",
    "interest_waived",
    "fee_waived",
)


@dataclass
class AuditReport:
    loans_checked: int = 0
    entries_checked: int = 0
    events_checked: int = 0
    anchors_checked: int = 0
    documents_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "loans_checked": self.loans_checked,
            "journal_entries_checked": self.entries_checked,
            "events_checked": self.events_checked,
            "anchors_checked": self.anchors_checked,
            "documents_checked": self.documents_checked,
            "problems": self.problems,
        }


def verify(ws: Workspace, actor: Actor) -> AuditReport:
    actor.require(Permission.AUDIT, "run the audit")
    ws.engine  # noqa: B018 - opening the engine registers the chain key the chain is checked with
    kept = read_anchors(ws)
    report = run_in_transaction(ws.engine, lambda uow: _verify(ws, uow, kept.anchors))
    report.problems += kept.problems
    return report


def anchor(ws: Workspace, actor: Actor, as_of: date) -> ChainAnchor:
    """Anchor the chain's head now, outside the database (`lendflow audit anchor`)."""
    actor.require(Permission.AUDIT, "anchor the audit trail")
    return anchor_chain(ws, as_of)


TRAIL_ENTITIES = ("loan", "product")


def event_trail(ws: Workspace, actor: Actor, entity: str, ref: str) -> EventTrail:
    """The events of one loan (by id) or one product (by code), oldest first, each marked
    with whether its link in the chain holds (`audit verify` walks the whole chain)."""
    actor.require(Permission.READ, "read the audit trail")
    if entity not in TRAIL_ENTITIES:
        raise BadInput(f"a trail is of a loan or a product, not {entity!r}")

    def use_case(uow: UnitOfWork) -> EventTrail:
        if entity == "loan":
            loan_store.get(uow, int(ref))
        elif not lifecycle_rows.product_exists(uow, ref):
            raise NotFound(f"product {ref!r} does not exist")
        rows = events.for_entity(uow, entity, ref)
        held = events.links_hold(uow, rows)
        return EventTrail(
            entity=entity,
            ref=ref,
            events=tuple(TrailEvent(**row, held=held.get(int(row["id"]), False)) for row in rows),
        )

    if entity == "loan":
        ref = str(bounds.parse_id(ref, field="loan"))
    else:
        ref = bounds.check_code(ref, field="product")
    return run_in_transaction(ws.engine, use_case)


def _verify(ws: Workspace, uow: UnitOfWork, anchors: list[ChainAnchor]) -> AuditReport:
    report = AuditReport()
    report.entries_checked = audit_store.journal_entry_count(uow)
    report.problems += list(journal.unbalanced_entries(uow))
    debits, credits = audit_store.journal_totals(uow)
    if debits != credits:
        report.problems.append(f"journal: total debits {debits} != total credits {credits}")
    _check_balances(uow, report)
    report.events_checked = audit_store.event_count(uow)
    report.problems += list(events.chain_problems(uow))
    report.anchors_checked = len(anchors)
    report.problems += list(_anchor_problems(ws, uow, anchors))
    report.problems += list(_recomputed(ws, uow))
    report.problems += list(_allowance_problems(uow))
    documents_checked, problems = _document_problems(ws, uow)
    report.documents_checked = documents_checked
    report.problems += problems
    return report


def _check_balances(uow: UnitOfWork, report: AuditReport) -> None:
    rebuilt = journal.rebuilt_loan_balances(uow)
    paid = audit_store.principal_paid(uow)
    # a restructure settles the old schedule's principal and lends its payoff again
    relent = audit_store.posted_by_loan(uow, "restructure", Account.LOAN_PRINCIPAL)
    # a prepayment returns principal without paying any instalment's (the rest is
    # recalculated: `domain.recalculation`)
    prepaid = audit_store.credited_by_loan(uow, "prepayment", Account.LOAN_PRINCIPAL)
    columns = list(LOAN_BALANCES)
    for loan in audit_store.loan_balances(uow, columns):
        report.loans_checked += 1
        expected = rebuilt.get(loan["id"], dict.fromkeys(columns, 0))
        for column in columns:
            if loan[column] != expected[column]:
                report.problems.append(
                    f"loan {loan['id']}: {column} is {format_fen(loan[column])} but the journal"
                    f" says {format_fen(expected[column])}"
                )
        repaid = int(paid.get(loan["id"]) or 0)
        booked = (
            loan["principal"]
            + relent.get(loan["id"], 0)
            - expected["principal_outstanding"]
            - loan["written_off_amount"]
            - prepaid.get(loan["id"], 0)
        )
        if loan["principal"] and repaid != booked:
            report.problems.append(
                f"loan {loan['id']}: instalments show {format_fen(repaid)} principal repaid but the"
                f" journal shows {format_fen(booked)}"
            )


# --- anchors ------------------------------------------------------------------------


def _anchor_problems(ws: Workspace, uow: UnitOfWork, anchors: list[ChainAnchor]) -> Iterator[str]:
    """Each anchor must still be in the chain: its event there, with the anchored hash
    while the chain is under the key it was anchored with, and the chain reaching it."""
    if not anchors:
        return
    head = events.head(uow)
    current_key = events.key_id(events.registered_chain_key(uow.database))
    stored = events.hashes_of(uow, [a.event_id for a in anchors if a.event_id])
    for kept in anchors:
        label = f"anchor of {kept.business_date} (event {kept.event_id})"
        if kept.event_id > head.event_id:
            yield f"event chain is shorter than {label}: its head is event {head.event_id}"
            continue
        if not kept.event_id:
            continue
        if kept.event_id not in stored:
            yield f"event {kept.event_id} is missing: it is in the {label}"
        elif kept.key_id == current_key and stored[kept.event_id] != kept.hash:
            yield (
                f"event {kept.event_id}: hash does not match the {label} (the chain was recomputed)"
            )
        if kept.key_id == current_key and kept.keyed_from != head.keyed_from:
            yield (
                f"event chain is keyed from event {head.keyed_from}, the {label} says"
                f" {kept.keyed_from}"
            )


# --- recomputation from the source of truth ------------------------------------------


@dataclass(frozen=True)
class _BookFacts:
    """Whole-book facts read once: the sources each loan's figures are recomputed from."""

    states: dict[int, str]
    penalties: dict[int, int]
    repayment_dates: set[tuple[int, date]]
    disbursed: dict[int, int]
    payouts: list[dict[str, Any]]
    contracts: set[int]
    schedule_changes: dict[int, list[dict[str, Any]]]
    prepayments: dict[int, list[tuple[date, int]]]
    kept_schedules: dict[int, dict[str, Any]]
    refunds: list[dict[str, Any]]
    refunded: dict[int, int]


@dataclass
class _Held:
    """What the live book holds not yet as income, added up loan by loan from the rows."""

    accrued: int = 0
    deferred: int = 0


def _recomputed(ws: Workspace, uow: UnitOfWork) -> Iterator[str]:
    penalties = audit_store.posted_by_loan(uow, "penalty", Account.PENALTY_RECEIVABLE)
    for loan_id, held in audit_store.posted_by_loan(
        uow, "penalty_suspended", Account.PENALTY_RECEIVABLE
    ).items():
        penalties[loan_id] = penalties.get(loan_id, 0) + held
    for loan_id, waived in audit_store.credited_by_loan(
        uow, "waiver", Account.PENALTY_RECEIVABLE
    ).items():
        penalties[loan_id] = penalties.get(loan_id, 0) - waived
    facts = _BookFacts(
        states=audit_store.last_loan_states(uow),
        penalties=penalties,
        repayment_dates=audit_store.entry_dates_by_loan(uow, SETTLING_KINDS),
        disbursed=audit_store.posted_by_loan(uow, "disbursement", Account.LOAN_PRINCIPAL),
        payouts=audit_store.all_payouts(uow),
        contracts=audit_store.loans_with_document(uow, "contract"),
        schedule_changes=loan_requests.approved_schedule_changes(uow, SCHEDULE_CHANGES),
        prepayments=audit_store.prepayments_by_loan(uow),
        kept_schedules=schedule_versions.latest_by_loan(uow),
        refunds=refund_store.all_refunds(uow),
        refunded=audit_store.credited_by_loan(uow, "refund", Account.CASH),
    )
    issues_contracts = not isinstance(ws.contracts, NoContracts)
    book = _Held()
    schedules: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
    low, high = audit_store.loan_id_bounds(uow)
    for lo in range(low, high + 1, LOAN_BATCH):
        hi = lo + LOAN_BATCH - 1
        items = audit_store.instalments_between(uow, lo, hi)
        for loan in audit_store.loans_between(uow, lo, hi):
            rows = items.get(loan["id"], [])
            yield from _loan_problems(uow, loan, rows, facts, schedules, ws.calendar)
            yield from _accrual_problems(ws, uow, loan, rows, book)
            if issues_contracts and loan["state"] in LIVE and loan["id"] not in facts.contracts:
                yield f"loan {loan['id']}: disbursed with a contract, but it has none"
    yield from _payout_problems(facts)
    yield from _refund_problems(facts)
    ledger = audit_store.account_balance(uow, Account.INTEREST_ACCRUED)
    if ledger != book.accrued:
        yield (
            f"journal: interest_accrued holds {format_fen(ledger)} but the live loans have"
            f" accrued {format_fen(book.accrued)} net of interest paid ahead"
        )
    deferred = -audit_store.account_balance(uow, Account.DEFERRED_FEE_INCOME)
    if deferred != book.deferred:
        yield (
            f"journal: deferred_fee_income holds {format_fen(deferred)} but the live loans'"
            f" fees not yet earned are {format_fen(book.deferred)}"
        )


def _accrual_problems(
    ws: Workspace, uow: UnitOfWork, loan: dict[str, Any], rows: list[dict[str, Any]], book: _Held
) -> Iterator[str]:
    """A live loan's accrued interest against the schedule's interest earned through its
    last closed day (its instalments' interest is proven against the schedule above), its
    running period against its instalments, and whether it should be in non-accrual; a
    loan off the books holds nothing accrued. The loan's share of `interest_accrued` and
    `deferred_fee_income` is added up for the whole book's check."""
    loan_id = loan["id"]
    if loan["state"] not in LIVE or loan["disbursed_on"] is None:
        if loan["interest_accrued"]:
            yield (
                f"loan {loan_id}: {loan['state']} but holds"
                f" {format_fen(loan['interest_accrued'])} interest accrued"
            )
        return
    states = [InstalmentState.from_row(r) for r in rows]
    started = loan["restructured_on"] or loan["disbursed_on"]
    through = loan["cob_through"]
    expected = expected_accrued(states, started, through)
    if loan["interest_accrued"] != expected:
        yield (
            f"loan {loan_id}: {format_fen(loan['interest_accrued'])} interest accrued but its"
            f" schedule earned {format_fen(expected)} through {through} not yet fallen due"
        )
    running = running_columns(states, started)
    stored = {column: loan[column] for column in running}
    if stored != running:
        yield f"loan {loan_id}: its running period is {stored} but its instalments say {running}"
    spec = spec_for(uow, loan)
    stops = reaches_non_accrual(
        spec.delinquency.levels, loan["classification"], ws.policy.non_accrual.from_class
    )
    if stops != (loan["non_accrual_since"] is not None):
        yield (
            f"loan {loan_id}: classed {loan['classification']} but"
            f" {'accruing' if not stops else 'in non-accrual'} is what its class calls for"
            f" (non_accrual_since {loan['non_accrual_since']})"
        )
    book.accrued += on_books(loan["interest_accrued"], states)
    book.deferred += sum(
        r["upfront_share"] + r["fee_paid"] for r in rows if r["n"] > 0 and not r["recognised"]
    )


def _loan_problems(
    uow: UnitOfWork,
    loan: dict[str, Any],
    rows: list[dict[str, Any]],
    facts: _BookFacts,
    schedules: dict[tuple[Any, ...], list[tuple[Any, ...]]],
    calendar: BusinessCalendar,
) -> Iterator[str]:
    loan_id = loan["id"]
    told = facts.states.get(loan_id)
    if told is not None and told != loan["state"]:
        yield f"loan {loan_id}: state is {loan['state']} but its events say {told}"
    if loan["state"] not in DISBURSED_STATES or loan["disbursed_on"] is None:
        return
    spec = spec_for(uow, loan)
    changes = facts.schedule_changes.get(loan_id, [])
    prepaid = facts.prepayments.get(loan_id, [])
    yield from _schedule_problems(loan, rows, spec, schedules, calendar, changes, prepaid)
    kept = facts.kept_schedules.get(loan_id)
    if kept is not None and not changes:  # an action after it moves due dates again
        yield from _kept_schedule_problems(loan, rows, kept)
    penalty = sum(r["penalty"] for r in rows)
    posted = facts.penalties.get(loan_id, 0)
    if penalty != posted:
        yield (
            f"loan {loan_id}: instalments carry {format_fen(penalty)} penalty but the journal"
            f" posted {format_fen(posted)}"
        )
    yield from _paid_problems(loan, rows, facts)
    if loan["state"] in LIVE:
        yield from _receivable_problems(loan, rows)
        yield from _delinquency_problems(loan, rows, spec, calendar)
    if loan["state"] in JUDGED:
        yield from _grading_problems(loan, rows, spec)


def _schedule_problems(
    loan: dict[str, Any],
    rows: list[dict[str, Any]],
    spec: ProductSpec,
    schedules: dict[tuple[Any, ...], list[tuple[Any, ...]]],
    calendar: BusinessCalendar,
    changes: list[dict[str, Any]],
    prepaid: Sequence[tuple[date, int]] = (),
) -> Iterator[str]:
    """Each instalment's due date, principal, interest and fee against the schedule the
    product version gives for the loan's amount, term, rate and payout date, as its
    prepayments recalculated it (`domain.recalculation`, in the order they were booked)
    and its approved accelerations and restructures changed it (`domain.loan_actions`;
    a loan accelerated or restructured takes no prepayment after).

    A schedule that differs from the exact annuity's is also held against the annuity at
    34 digits that releases before it paid loans out on (`ScheduleTerms.annuity_digits`):
    the two differ only where an instalment was exactly half a fen, and a loan paid out
    then is not an edited one. A schedule neither gives is reported as the exact one sees it.
    """
    stored = [(r["n"], r["due_date"], r["principal"], r["interest"], r["fee"]) for r in rows]
    rules = (None, LEGACY_ANNUITY_DIGITS)
    problems: list[str] = []
    for digits in rules:
        expected = _expected_schedule(loan, spec, schedules, calendar, changes, prepaid, digits)
        differences = list(_differences(loan, stored, expected))
        if not differences:
            return
        problems = problems or differences
    yield from problems


LEGACY_ANNUITY_DIGITS = 34
"""The digits releases before the exact annuity computed the equal instalment in."""


def _expected_schedule(
    loan: dict[str, Any],
    spec: ProductSpec,
    schedules: dict[tuple[Any, ...], list[tuple[Any, ...]]],
    calendar: BusinessCalendar,
    changes: list[dict[str, Any]],
    prepaid: Sequence[tuple[date, int]],
    digits: int | None,
) -> list[tuple[Any, ...]]:
    key = (
        loan["product_version_id"],
        loan["approved_amount"],
        loan["term"],
        loan["annual_rate"],
        loan["disbursed_on"],
        digits,
    )
    expected = schedules.get(key)
    if expected is None:
        expected = schedules[key] = _schedule_of(loan, spec, calendar, digits)
    if prepaid:
        expected = _recalculated(loan, spec, expected, prepaid, digits)
    if changes:
        expected = _after_changes(expected, [_schedule_change(c, spec, digits) for c in changes])
    return expected


def _differences(
    loan: dict[str, Any], stored: list[tuple[Any, ...]], expected: list[tuple[Any, ...]]
) -> Iterator[str]:
    if len(stored) != len(expected):
        yield (
            f"loan {loan['id']}: has {len(stored)} instalments but the schedule says"
            f" {len(expected)}"
        )
        return
    names = ("n", "due_date", "principal", "interest", "fee")
    for have, want in zip(stored, expected, strict=True):
        if have[1] not in want[1]:
            yield (
                f"loan {loan['id']} instalment {want[0]}: due_date is {have[1]} but the"
                f" schedule says {want[1][0]}"
            )
        for i, name in enumerate(names[2:], start=2):
            if have[i] != want[i]:
                yield (
                    f"loan {loan['id']} instalment {want[0]}: {name} is {format_fen(have[i])}"
                    f" but the schedule says {format_fen(want[i])}"
                )


def _schedule_of(
    loan: Mapping[str, Any], spec: ProductSpec, calendar: BusinessCalendar, digits: int | None
) -> list[tuple[Any, ...]]:
    """(n, due dates allowed, principal, interest, fee) as disbursement writes them.

    Under `move` a due date is the scheduled one moved by today's calendar, or moved off
    weekends alone: the payout may have come before its year's holidays were known.
    """
    disbursed = loan["disbursed_on"]
    schedule = generate(replace(contract_terms(spec, loan), annuity_digits=digits))
    rule = spec.schedule.non_working_due
    rows: list[tuple[Any, ...]] = []
    if schedule.terms.upfront_fee:
        rows.append((0, (disbursed,), 0, 0, schedule.terms.upfront_fee))
    for i in schedule.instalments:
        allowed: tuple[date, ...] = (i.due_date,)
        if rule is NonWorkingDue.MOVE:
            allowed = (calendar.moved(i.due_date)[0], WEEKENDS_ONLY.moved(i.due_date)[0])
        rows.append((i.n, allowed, i.principal, i.interest, i.fee))
    return rows


WEEKENDS_ONLY = BusinessCalendar.weekends_only()


def _after_changes(
    rows: list[tuple[Any, ...]], changes: list[ScheduleChange]
) -> list[tuple[Any, ...]]:
    """`schedule_after` over rows whose due date may be one of several (a date moved by
    today's calendar or by weekends alone): each alternative goes through it on its own."""
    widest = max((len(row[1]) for row in rows), default=1)
    ways = [
        schedule_after(
            [(n, allowed[min(k, len(allowed) - 1)], *rest) for n, allowed, *rest in rows], changes
        )
        for k in range(widest)
    ]
    return [
        (way[0][0], tuple(dict.fromkeys(row[1] for row in way)), *way[0][2:])
        for way in zip(*ways, strict=True)
    ]


def _recalculated(
    loan: Mapping[str, Any],
    spec: ProductSpec,
    expected: list[tuple[Any, ...]],
    prepaid: Sequence[tuple[date, int]],
    digits: int | None,
) -> list[tuple[Any, ...]]:
    """The schedule as the loan's prepayments recalculated it, on the schedule's own
    due dates (the allowed stored dates of each instalment are kept by number)."""
    terms = replace(contract_terms(spec, loan), annuity_digits=digits)
    scheduled = {i.n: i.due_date for i in generate(terms).instalments}
    allowed = {row[0]: row[1] for row in expected}
    rows = [(n, scheduled.get(n, loan["disbursed_on"]), p, i, f) for n, _, p, i, f in expected]
    for on, amount in prepaid:
        try:
            rows = list(
                recalculate(rows, on, amount, spec.prepayment, terms, loan["disbursed_on"]).rows
            )
        except LendflowError:
            break  # the stored schedule is then named apart from this one below
    return [(n, allowed[n], p, i, f) for n, _, p, i, f in rows]


def _kept_schedule_problems(
    loan: Mapping[str, Any], rows: list[dict[str, Any]], kept: dict[str, Any]
) -> Iterator[str]:
    """The latest kept schedule version is the schedule the instalments hold."""
    stored = [(r["n"], r["due_date"], r["principal"], r["interest"], r["fee"]) for r in rows]
    if stored != list(kept["rows"]):
        yield (
            f"loan {loan['id']}: its instalments differ from schedule version"
            f" {kept['version']} kept for it"
        )


def _schedule_change(
    request: dict[str, Any], spec: ProductSpec, digits: int | None
) -> ScheduleChange:
    """An approved acceleration (on its date) or restructure (its new instalments, made
    from the principal, term and rate it was booked with)."""
    payload = request["payload"]
    if request["kind"] == "accelerate":
        return ScheduleChange(request["decided_on"])
    on = date.fromisoformat(payload["on"])
    terms = spec.schedule_terms(
        payload["principal"], payload["term"], on, annual_rate=Decimal(payload["annual_rate"])
    )
    schedule = generate(replace(restructured_terms(terms), annuity_digits=digits))
    first = payload["first_n"] - 1
    return ScheduleChange(
        on,
        tuple(
            (first + i.n, i.due_date, i.principal, i.interest, i.fee) for i in schedule.instalments
        ),
    )


def _owed(row: Mapping[str, Any]) -> int:
    return sum(row[c] for c in OWED) - sum(row[c] for c in PAID_AND_WAIVED)


def _paid_problems(
    loan: dict[str, Any], rows: list[dict[str, Any]], facts: _BookFacts
) -> Iterator[str]:
    """An instalment is marked paid exactly when nothing is owed on it, on a day a
    repayment of the loan was posted."""
    for row in rows:
        owed, paid_on = _owed(row), row["paid_on"]
        label = f"loan {loan['id']} instalment {row['n']}"
        if paid_on is None and owed == 0 and sum(row[c] for c in OWED):
            yield f"{label}: nothing is owed but it has no paid_on"
        elif paid_on is not None and owed:
            yield f"{label}: paid_on is {paid_on} but {format_fen(owed)} is still owed"
        elif paid_on is not None and (loan["id"], paid_on) not in facts.repayment_dates:
            yield f"{label}: paid_on is {paid_on} but no repayment was posted that day"


def _receivable_problems(loan: dict[str, Any], rows: list[dict[str, Any]]) -> Iterator[str]:
    """A live loan's receivables (proved against the journal above) are what its
    instalments still owe of what fell due: so an edited amount, payment or waiver shows."""
    recognised = [r for r in rows if r["recognised"]]
    owed = {
        "interest_receivable": sum(
            r["interest"] - r["interest_paid"] - r["interest_waived"] for r in recognised
        ),
        "fee_receivable": sum(r["fee"] - r["fee_paid"] - r["fee_waived"] for r in recognised),
        "penalty_receivable": sum(r["penalty"] - r["penalty_paid"] for r in rows),
    }
    for column, amount in owed.items():
        if loan[column] != amount:
            yield (
                f"loan {loan['id']}: {column} is {format_fen(loan[column])} but its instalments"
                f" owe {format_fen(amount)}"
            )


def _delinquency_problems(
    loan: dict[str, Any], rows: list[dict[str, Any]], spec: ProductSpec, calendar: BusinessCalendar
) -> Iterator[str]:
    """Days past due as close of business counted them on the loan's closed-through date,
    from the instalments then unpaid (a repayment since may only have cured the loan)."""
    through = loan["cob_through"]
    if through is None or through < loan["disbursed_on"]:
        allowed = {0}
    else:
        allowed = _dpd_on(rows, through, spec, calendar)
    if loan["dpd"] not in allowed:
        want = max(allowed)
        yield f"loan {loan['id']}: days_past_due is {loan['dpd']} but the schedule says {want}"


def _dpd_on(
    rows: list[dict[str, Any]], through: date, spec: ProductSpec, calendar: BusinessCalendar
) -> set[int]:
    rules = spec.delinquency
    # a due date on a non-working day still within its grace was not late that day
    holiday_grace = spec.schedule.non_working_due is not NonWorkingDue.IGNORE
    grace = calendar.grace_dues(through) if holiday_grace else frozenset()
    behind = [
        r
        for r in rows
        if r["due_date"] < through
        and r["due_date"] not in grace
        and (r["paid_on"] is None or r["paid_on"] > through)
    ]
    oldest = min((r["due_date"] for r in behind), default=None)
    if holiday_grace and oldest is not None:
        oldest = calendar.next_working_day(oldest)  # late from the day after
    # What is owed now is at most what was owed then: above the tolerance now, above it then.
    arrears = sum(_owed(r) if r["paid_on"] is None else sum(r[c] for c in OWED) for r in behind)
    counted = effective_dpd(
        days_late(oldest, arrears, through, rules.arrears_tolerance), rules.grace_days
    )
    allowed = {counted}
    if oldest is not None and arrears <= rules.arrears_tolerance:
        allowed.add(effective_dpd((through - oldest).days, rules.grace_days))
    still_behind = [r for r in behind if r["paid_on"] is None]
    if sum(_owed(r) for r in still_behind) <= rules.arrears_tolerance:
        allowed.add(0)  # cured by a repayment since the day was closed
    return allowed


def _grading_problems(
    loan: dict[str, Any], rows: list[dict[str, Any]], spec: ProductSpec
) -> Iterator[str]:
    rules = spec.delinquency
    dpd = loan["dpd"]
    bucket = bucket_for(dpd, [(b.name, b.max_dpd) for b in rules.buckets])
    if loan["bucket"] != bucket:
        yield f"loan {loan['id']}: bucket is {loan['bucket']} but {dpd} days past due is {bucket}"
    # a worse class the borrower-level rule gave it stands beside its own, which the
    # evidence must give (which loan set it, its events say)
    own = loan["own_classification"] or loan["classification"]
    if loan["own_classification"] is not None and rank(rules.levels, own) >= rank(
        rules.levels, loan["classification"]
    ):
        yield (
            f"loan {loan['id']}: classification is {loan['classification']} by the"
            f" borrower-level rule, no worse than its own class {own}"
        )
    grade = classification_for(dpd, rules.levels)
    if own == grade:
        return
    held = _held(loan, rows, spec) - {grade}
    if own not in held:
        also = f" (or {' or '.join(sorted(held))}, held by the upgrade rule)" if held else ""
        yield (
            f"loan {loan['id']}: classification is {own} but {dpd} days past due is {grade}{also}"
        )


def _held(loan: dict[str, Any], rows: list[dict[str, Any]], spec: ProductSpec) -> set[str]:
    """The class the upgrade rule (`domain.classification`) gives the loan, from its
    instalments' due and paid dates, as close of business left it and as a repayment
    since may have left it."""
    through = loan["cob_through"]
    if through is None or loan["disbursed_on"] is None:
        return set()
    rules = spec.delinquency
    # an upfront fee left unpaid makes a loan late like any instalment (close of business)
    history = [(r["due_date"], r["paid_on"]) for r in rows]
    floor = rules.upgrade.restructure(loan.get("restructured_on"))
    return {
        class_on(on, history, rules.grace_days, rules.levels, rules.upgrade.rule(), floor)
        for on in (through, through + timedelta(days=1))
    }


def _allowance_problems(uow: UnitOfWork) -> Iterator[str]:
    """Each loan's loan-loss allowance, as its journal lines hold it at its last month end,
    equals the provision close of business computed for it then, which is its class's
    rate on the principal its journal held that day; and a live loan closed through a
    month end was provided for at it. (The allowance is held per loan, so the book's
    allowance is the sum of these.)"""
    stray = ledger_reports.allowance_lines_without_loan(uow)
    if stray:
        yield f"journal: {stray} loan-loss allowance lines name no loan"
    low, high = audit_store.loan_id_bounds(uow)
    provided_any = ledger_reports.any_provisions(uow)  # else the book never closed a month end
    for lo in range(low, high + 1, LOAN_BATCH):
        hi = lo + LOAN_BATCH - 1
        kept = ledger_reports.latest_provisions(uow, lo, hi)
        latest = {row["loan_id"]: row["month_end"] for row in kept}
        for row in kept:
            label = f"loan {row['loan_id']}: provision of {row['month_end']}"
            total = row["specific"] + row["general"]
            if row["allowance"] != total:
                yield (
                    f"{label} is {format_fen(total)} but its allowance then is"
                    f" {format_fen(row['allowance'])}"
                )
            if row["principal"] != row["journal_principal"] and row["principal"]:
                yield (
                    f"{label} was made on {format_fen(row['principal'])} principal but the"
                    f" journal then held {format_fen(row['journal_principal'])}"
                )
            expected = percent_of(row["principal"], Decimal(row["rate"]))
            if row["specific"] != expected:
                yield (
                    f"{label}: {row['rate']}% of {format_fen(row['principal'])} is"
                    f" {format_fen(expected)}, not {format_fen(row['specific'])}"
                )
        if not provided_any:
            continue
        for loan in ledger_reports.live_loans_closed_through(uow, lo, hi):
            through, paid_out = loan["cob_through"], loan["disbursed_on"]
            if through is None or paid_out is None:
                continue
            month_end = month_end_on_or_before(through)
            if month_end >= paid_out and latest.get(loan["id"]) != month_end:
                yield (
                    f"loan {loan['id']}: closed through {through} but not provided for at"
                    f" {month_end}"
                )


def _payout_problems(facts: _BookFacts) -> Iterator[str]:
    """A payout is paid exactly when the loan's disbursement was booked, for that amount."""
    paid: dict[int, int] = {}
    for payout in facts.payouts:
        loan_id = payout["loan_id"]
        booked = facts.disbursed.get(loan_id)
        label = f"payout {payout['id']} (loan {loan_id})"
        if payout["status"] == "paid":
            paid[loan_id] = payout["amount"]
            if booked is None:
                yield f"{label}: status is paid but no disbursement was booked"
            elif payout["amount"] != booked:
                yield (
                    f"{label}: amount is {format_fen(payout['amount'])} but the disbursement"
                    f" booked {format_fen(booked)}"
                )
    for loan_id, booked in sorted(facts.disbursed.items()):
        if loan_id not in paid:
            yield (
                f"loan {loan_id}: a disbursement of {format_fen(booked)} was booked but no"
                " payout is paid"
            )


def _refund_problems(facts: _BookFacts) -> Iterator[str]:
    """What the refunds paid is what the journal booked as refunded, loan by loan."""
    paid: dict[int, int] = {}
    for found in facts.refunds:
        if found["status"] == "paid":
            paid[found["loan_id"]] = paid.get(found["loan_id"], 0) + found["amount"]
    for loan_id in sorted(set(paid) | set(facts.refunded)):
        if paid.get(loan_id, 0) != facts.refunded.get(loan_id, 0):
            yield (
                f"loan {loan_id}: refunds paid {format_fen(paid.get(loan_id, 0))} but the"
                f" journal booked {format_fen(facts.refunded.get(loan_id, 0))}"
            )


def _document_problems(ws: Workspace, uow: UnitOfWork) -> tuple[int, list[str]]:
    """Every issued document's stored SHA-256 against the SHA-256 of its stored bytes."""
    checked, problems, last = 0, [], 0
    while rows := audit_store.documents_after(uow, last, DOCUMENT_BATCH):
        for row in rows:
            checked += 1
            last = row["id"]
            try:
                digest = hashlib.sha256(sealed_content(ws, row)).hexdigest()
            except (BadInput, ValueError, zlib.error):
                problems.append(f"document {row['id']}: its sealed content cannot be opened")
                continue
            if digest != row["sha256"]:
                problems.append(
                    f"document {row['id']} ({row['kind']}, loan {row['loan_id']}): content does"
                    " not match its SHA-256"
                )
    return checked, problems

"""Random sequences of real loan actions on SQLite and PostgreSQL, with the books proven after each.

Operators press buttons in any order: approve twice, disburse a rejected loan, repay
a loan that is not yet paid out, pay odd amounts on odd days. Whatever they do, a
refused action must leave no trace, every allowed one must follow loan.yaml, and the
ledger, the stored balances and the hash-chained trail must agree after every step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from lendflow.access.permissions import Actor
from lendflow.domain.consents import CONSENTS
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.domain.ledger import LOAN_BALANCES
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans.applications import Application
from lendflow.states.definition import machines_folder
from lendflow.store.tables import events, journal_entries, loans
from lendflow.workspace.context import Workspace

RAW = yaml.safe_load((machines_folder() / "loan.yaml").read_text("utf-8"))
YAML_STATES = frozenset(s["name"] for s in RAW["states"])
YAML_TABLE: dict[tuple[str, str], str] = {
    (source, t["trigger"]): t["dest"]
    for t in RAW["transitions"]
    for source in ([t["source"]] if isinstance(t["source"], str) else t["source"])
}
REPAYABLE = ("active", "overdue")
FIRST_DAY = date(2026, 1, 10)

# product -> (minimum, step, largest number of steps, terms), amounts in yuan
PRODUCTS: dict[str, tuple[int, int, int, tuple[int, ...]]] = {
    "cash-easy": (1_000, 100, 490, (3, 6, 9, 12)),
    "sme-growth": (20_000, 1_000, 180, (6, 12, 24)),
}
ACTIONS = (
    *["progress"] * 8,
    "apply",
    "start_review",
    "approve",
    "reject",
    "withdraw",
    "disburse",
    "repay",
)
REASONS = ("DTI_TOO_HIGH", "SCORE_BELOW_CUTOFF", "not a code!")

_people = iter(range(1_000_000))


@dataclass(frozen=True)
class Step:
    """One operator action: what, on which loan or customer, with which number, days later."""

    action: str
    target: int
    number: int
    days: int


STEPS = st.builds(
    Step,
    action=st.sampled_from(ACTIONS),
    target=st.integers(0, 5),
    number=st.integers(0, 1_300),
    days=st.one_of(st.sampled_from([0, 0, 1, 31]), st.integers(0, 12)),
)


@dataclass
class Desk:
    """The lending desk of one example: its customers, their loans and the business date."""

    ws: Workspace
    ops: Actor
    risk: Actor
    auditor: Actor
    today: date = FIRST_DAY
    customers: list[Application] = field(default_factory=list)
    loan_ids: list[int] = field(default_factory=list)
    last_event: int = 0
    moves: list[tuple[str, str, str]] = field(default_factory=list)

    def new_customer(self) -> int:
        """A fresh person, aged about 35, eligible for both products."""
        k = next(_people)
        national_id = sample_national_id(date(1990, 1, 1) + timedelta(days=k // 900), k % 900 + 100)
        self.customers.append(
            Application.parse(
                product="cash-easy",
                name="李四",
                national_id=national_id,
                phone="13912345678",
                monthly_income="20000",
                amount="1000",
                term=3,
                consents="all",
            )
        )
        return len(self.customers) - 1


def application_for(person: Application, step: Step) -> Application:
    """An application by `person` for either product, on an amount and term it offers."""
    product = sorted(PRODUCTS)[step.number % 2]
    minimum, unit, steps, terms = PRODUCTS[product]
    amount = minimum + unit * (step.number * 7 % (steps + 1))
    return Application(
        product=product,
        name=person.name,
        national_id=person.national_id,
        phone=person.phone,
        monthly_income=person.monthly_income,
        amount=amount * 100,
        term=terms[step.number // 2 % len(terms)],
        consents=CONSENTS,
    )


def loan_row(ws: Workspace, loan_id: int) -> dict[str, Any]:
    with ws.engine.connect() as conn:
        return dict(conn.execute(select(loans).where(loans.c.id == loan_id)).mappings().one())


def footprint(ws: Workspace, loan_id: int | None) -> tuple[Any, ...]:
    """Everything an action could have changed: the loan's version and events, and the totals."""
    with ws.engine.connect() as conn:
        counts = (
            conn.execute(select(func.count()).select_from(loans)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
            conn.execute(select(func.count()).select_from(journal_entries)).scalar_one(),
        )
        if loan_id is None:
            return counts
        version = conn.execute(select(loans.c.version).where(loans.c.id == loan_id)).scalar_one()
        loan_events = conn.execute(
            select(func.count())
            .select_from(events)
            .where(events.c.entity == "loan", events.c.entity_id == str(loan_id))
        ).scalar_one()
        return (*counts, version, loan_events)


def repayment_amount(desk: Desk, loan_id: int, state: str | None, number: int) -> int:
    """Around the payoff for a repayable loan (below, at or above it); small otherwise."""
    if state not in REPAYABLE:
        return number + 1
    payoff = repayments.quote(desk.ws, desk.ops, loan_id, desk.today).total
    if number % 10 == 0:
        return number + 1
    return max(1, payoff * number // 1_000)


@dataclass(frozen=True)
class Plan:
    """The action a step resolves to: which trigger, on which loan, from which state."""

    action: str
    loan_id: int | None = None
    state: str | None = None
    progress: bool = False  # moving a live loan on: approve within the request


FINAL = frozenset(s["name"] for s in RAW["states"] if s.get("final"))
NEXT = {
    "submitted": "start_review",
    "under_review": "approve",
    "approved": "disburse",
    "active": "repay",
    "overdue": "repay",
}


def choose(desk: Desk, step: Step) -> Plan:
    """Resolve a step: `progress` moves a live loan on; other actions hit any loan at all."""
    if step.action == "apply" or not desk.loan_ids:
        return Plan("apply")
    states = {loan_id: loan_row(desk.ws, loan_id)["state"] for loan_id in desk.loan_ids}
    if step.action != "progress":
        loan_id = desk.loan_ids[step.target % len(desk.loan_ids)]
        return Plan(step.action, loan_id, states[loan_id])
    live = [loan_id for loan_id, state in states.items() if state not in FINAL]
    if not live:
        return Plan("apply")
    loan_id = live[step.target % len(live)]
    action = NEXT[states[loan_id]]
    if action == "approve" and step.number % 10 == 7:
        action = "reject"
    return Plan(action, loan_id, states[loan_id], progress=True)


def perform(desk: Desk, plan: Plan, step: Step) -> None:
    """Call the real service for the plan, as an operator or risk officer would."""
    ws, today, loan_id = desk.ws, desk.today, plan.loan_id
    if plan.action == "apply":
        who = step.target % 3
        while len(desk.customers) <= who:
            desk.new_customer()
        view = applications.apply(ws, desk.ops, application_for(desk.customers[who], step), today)
        desk.loan_ids.append(view.id)
        return
    assert loan_id is not None and plan.state is not None
    if plan.action == "start_review":
        applications.start_review(ws, desk.ops, loan_id, today)
    elif plan.action == "approve":
        amount = approved_amount(desk, plan, step)
        applications.approve(ws, desk.risk, loan_id, today, amount)
    elif plan.action == "reject":
        applications.reject(ws, desk.risk, loan_id, today, REASONS[step.number % len(REASONS)])
    elif plan.action == "withdraw":
        applications.withdraw(ws, desk.ops, loan_id, today)
    elif plan.action == "disburse":
        disbursement.disburse(ws, desk.ops, loan_id, today)
    else:
        amount = repayment_amount(desk, loan_id, plan.state, step.number)
        repayments.repay(ws, desk.ops, loan_id, amount, today)


def approved_amount(desk: Desk, plan: Plan, step: Step) -> int:
    """The request when moving a loan on (always on offer); else anything from 0 to 30% over."""
    assert plan.loan_id is not None
    requested = loan_row(desk.ws, plan.loan_id)["requested_amount"]
    if plan.progress:
        return requested
    return requested * step.number // 1_000


def over_the_overpayment_limit(desk: Desk, plan: Plan, step: Step) -> bool:
    """Whether the repayment would leave more credit than the policy lets the lender hold."""
    assert plan.loan_id is not None
    if plan.state == "written_off":
        return False  # a recovery, never credit
    amount = repayment_amount(desk, plan.loan_id, plan.state, step.number)
    payoff = repayments.quote(desk.ws, desk.ops, plan.loan_id, desk.today).total
    return amount - payoff > desk.ws.policy.max_overpayment


def expected_to_succeed(desk: Desk, plan: Plan, step: Step) -> bool:
    """Whether loan.yaml, its guards and the service's own rules allow the move."""
    assert plan.loan_id is not None and plan.state is not None
    if plan.action == "repay":
        return plan.state in REPAYABLE and not over_the_overpayment_limit(desk, plan, step)
    if (plan.state, plan.action) not in YAML_TABLE:
        return False
    row = loan_row(desk.ws, plan.loan_id)
    if plan.action == "approve":
        amount = approved_amount(desk, plan, step)
        spec_step = 100_000 if row["product_code"] == "sme-growth" else 10_000
        low = 2_000_000 if row["product_code"] == "sme-growth" else 100_000
        offered = amount >= low and (amount - low) % spec_step == 0
        return 0 < amount <= row["requested_amount"] and offered
    if plan.action == "reject":
        return REASONS[step.number % len(REASONS)] != "not a code!"
    if plan.action == "disburse":
        return desk.today <= row["approval_expires_on"]
    return True


def check_books(desk: Desk) -> None:
    """After every step: YAML states only, books proven, no negative balance, payments add up."""
    ws = desk.ws
    report = audit.verify(ws, desk.auditor)
    assert report.ok, report.problems
    with ws.engine.connect() as conn:
        rows = conn.execute(select(loans)).mappings().all()
        new_events = (
            conn.execute(select(events).where(events.c.id > desk.last_event).order_by(events.c.id))
            .mappings()
            .all()
        )
    for row in rows:
        assert row["state"] in YAML_STATES, f"loan {row['id']} is in {row['state']!r}"
        for column in LOAN_BALANCES:
            assert row[column] >= 0, f"loan {row['id']}: {column} is {row[column]}"
    for logged in new_events:
        desk.last_event = logged["id"]
        payload = json.loads(logged["payload"])
        if logged["trigger"] is not None and logged["trigger"] != "apply":
            move = (logged["from_state"], logged["trigger"], logged["to_state"])
            assert YAML_TABLE.get(move[:2]) == move[2], f"event {logged['id']}: {move}"
            desk.moves.append(move)
        if logged["name"] == "RepaymentPosted":
            parts = ("principal", "interest", "fee", "penalty", "overpayment")
            refunded = payload.get("refunded", 0)  # unearned prepaid interest given back
            assert sum(payload[p] for p in parts) - refunded == payload["amount"], payload
            assert all(payload[p] >= 0 for p in parts), payload


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEPS, min_size=10, max_size=40))
def test_random_operator_sessions_keep_the_books_proven(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, steps: list[Step]
) -> None:
    """Any sequence of actions leaves every loan in a YAML state with the books proven."""
    desk = Desk(ws, ops, risk, auditor)
    with ws.engine.connect() as conn:
        desk.last_event = conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one()
    for step in steps:
        desk.today += timedelta(days=step.days)
        plan = choose(desk, step)
        before = footprint(ws, plan.loan_id)
        try:
            perform(desk, plan, step)
        except (Refused, BadInput) as refused:
            assert footprint(ws, plan.loan_id) == before, f"refused {plan} changed: {refused}"
            event(f"refused: {plan.action} on {plan.state}")
            if plan.action != "apply":
                legal = expected_to_succeed(desk, plan, step)
                assert not legal, f"{plan.action} refused from {plan.state}: {refused}"
            check_books(desk)
            continue
        if plan.loan_id is not None:
            assert plan.state is not None
            after = loan_row(ws, plan.loan_id)["state"]
            if plan.action == "repay":
                assert plan.state in REPAYABLE
                assert after in (plan.state, "closed", "active")
                event("repaid and closed" if after == "closed" else "repaid")
            elif (plan.state, plan.action) in YAML_TABLE:
                assert expected_to_succeed(desk, plan, step)
                assert after == YAML_TABLE[plan.state, plan.action]
            else:  # a replayed disbursement returns its first answer and moves nothing
                assert plan.action == "disburse", f"{plan.action} allowed from {plan.state}"
                assert footprint(ws, plan.loan_id) == before
        check_books(desk)
    for source, trigger, dest in sorted(set(desk.moves)):
        event(f"{source} --{trigger}--> {dest}")


def test_paying_early_never_costs_more_than_settling_later(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """A borrower who pays sooner had the money for less time and must not pay more.

    Two identical 3,000.00 loans: A pays 1 fen short of the payoff on day 1 and settles on
    day 2; B settles on day 2. The engine takes 3,087.34 from A and 3,002.52 from B.
    """
    loan_ids = []
    for _ in range(2):
        loan = applications.apply(ws, ops, applicant(amount="3000", term=3), date(2026, 1, 10))
        applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
        applications.approve(ws, risk, loan.id, date(2026, 1, 10))
        disbursement.disburse(ws, ops, loan.id, date(2026, 1, 12))
        loan_ids.append(loan.id)
    early, late = loan_ids

    def payoff(loan_id: int, day: date) -> int:
        return repayments.quote(ws, ops, loan_id, day).total

    first = payoff(early, date(2026, 1, 13)) - 1
    repayments.repay(ws, ops, early, first, date(2026, 1, 13))
    second = payoff(early, date(2026, 1, 14))
    closed = repayments.repay(ws, ops, early, second, date(2026, 1, 14))
    assert closed.status == "closed"
    paid_by_early = first + second - closed.credit_balance
    assert paid_by_early <= payoff(late, date(2026, 1, 14))

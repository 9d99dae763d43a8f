"""Disbursement through the engine: the money leaves exactly once and the books follow.

The sandbox gateway keeps its own record of what it paid, so every test can
compare the lender's books with what actually left the bank.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from lendflow.access.permissions import Actor
from lendflow.bootstrap import open_workspace
from lendflow.config.settings import Settings
from lendflow.domain.errors import BadInput, Refused
from lendflow.loans import applications, audit, disbursement
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.loans.results import DisbursementResult
from lendflow.store.tables import (
    events,
    instalments,
    journal_entries,
    journal_lines,
    loans,
    payouts,
)
from lendflow.workspace.context import Workspace
from lendflow.workspace.payments import GatewayError, PayoutReceipt, SandboxGateway

Applicant = Callable[..., Application]
APPLIED = date(2026, 1, 10)
DECIDED = date(2026, 1, 11)
PAID_OUT = date(2026, 1, 12)


def approved_loan(ws: Workspace, applicant: Applicant, **terms: Any) -> int:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(**terms), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    return loan_id


def sandbox(ws: Workspace) -> SandboxGateway:
    assert isinstance(ws.gateway, SandboxGateway)
    return ws.gateway


@contextmanager
def workspace_with(settings: Settings, gateway: Any) -> Iterator[Workspace]:
    """A second workspace on the same database, paying through `gateway`."""
    workspace = open_workspace(settings, gateway=gateway)
    try:
        yield workspace
    finally:
        workspace.close()


def without_marker(answer: DisbursementResult) -> DisbursementResult:
    """A replayed answer, minus the flag that only says it is a replay."""
    return answer.model_copy(update={"replayed": False})


def payout_row(ws: Workspace, loan_id: int) -> dict[str, Any] | None:
    with ws.engine.connect() as conn:
        row = conn.execute(select(payouts).where(payouts.c.loan_id == loan_id)).mappings().first()
        return dict(row) if row else None


def count(ws: Workspace, table: Any, *where: Any) -> int:
    with ws.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def books_untouched(ws: Workspace, loan_id: int) -> None:
    """A failed or refused payout leaves no schedule, no entries and no LoanDisbursed event."""
    assert count(ws, instalments, instalments.c.loan_id == loan_id) == 0
    assert count(ws, journal_entries, journal_entries.c.loan_id == loan_id) == 0
    assert (
        count(ws, events, events.c.entity_id == str(loan_id), events.c.name == "LoanDisbursed") == 0
    )


def monthly_irr(principal: int, totals: list[int]) -> Decimal:
    """The monthly rate at which the instalments are worth the principal (bisection)."""
    with localcontext() as ctx:
        ctx.prec = 40
        low, high = Decimal(0), Decimal(1)
        for _ in range(200):
            mid = (low + high) / 2
            value = sum(Decimal(t) / (1 + mid) ** (k + 1) for k, t in enumerate(totals))
            low, high = (mid, high) if value > principal else (low, mid)
        return (low + high) / 2


def test_disbursement_builds_schedule_posts_ledger_and_stores_apr(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """After paying out, schedule, ledger, APR and the gateway must all tell one story."""
    loan_id = approved_loan(ws, applicant, amount="10000", term=6)
    view = disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    assert view.status == "active"
    assert view.outstanding.model_dump(mode="json") == {
        "principal": "10000.00",
        "interest": "0.00",
        "penalty": "0.00",
        "fees": "0.00",
        "total": "10000.00",
    }
    assert (view.disbursed_on, view.maturity_on) == (PAID_OUT, date(2026, 7, 12))

    schedule = loan_views.schedule(ws, ops, loan_id)
    rows = schedule.instalments
    assert [r.n for r in rows] == [1, 2, 3, 4, 5, 6]
    assert [r.due_date for r in rows] == [date(2026, m, 12) for m in range(2, 8)]
    assert sum(r.principal for r in rows) == 1_000_000
    assert schedule.total_principal == 1_000_000
    assert {r.fee for r in rows} == {1_000}  # 0.10 % of the principal each month
    assert rows[-1].balance == 0

    with ws.engine.connect() as conn:
        loan = conn.execute(select(loans).where(loans.c.id == loan_id)).mappings().one()
        lines = conn.execute(
            select(journal_lines.c.account, journal_lines.c.debit, journal_lines.c.credit)
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(journal_entries.c.loan_id == loan_id, journal_entries.c.kind == "disbursement")
        ).all()
    assert loan["principal"] == loan["principal_outstanding"] == 1_000_000
    assert sorted(lines) == [("cash", 0, 1_000_000), ("loan_principal", 1_000_000, 0)]

    # APR: the IRR of 10,000.00 against the six instalments, annualised both ways, and over
    # the instalments' dates (12 Jan to 12 Feb … 12 Jul, days/365).
    assert view.apr is not None and view.apr == schedule.apr
    assert view.apr.actual_dates is not None
    assert loan["apr"] == f"{view.apr.compound}/{view.apr.simple}/{view.apr.actual_dates}"

    def dated_npv(annual: Decimal) -> Decimal:
        return Decimal(1_000_000) - sum(
            (
                Decimal(r.total) / (1 + annual) ** (Decimal((r.due_date - PAID_OUT).days) / 365)
                for r in rows
            ),
            Decimal(0),
        )

    actual = view.apr.actual_dates / 100
    assert dated_npv(actual - Decimal("0.00005")) < 0 < dated_npv(actual + Decimal("0.00005"))
    rate = monthly_irr(1_000_000, [r.total for r in rows])
    compound = ((1 + rate) ** 12 - 1) * 100
    assert abs(view.apr.compound - compound) <= Decimal("0.01")
    assert abs(view.apr.simple - rate * 1200) <= Decimal("0.01")
    assert Decimal("15.60") < view.apr.compound < Decimal(24)  # fee + policy cap

    assert sandbox(ws).payouts() == {f"LF-{loan_id}": 1_000_000}
    payout = payout_row(ws, loan_id)
    assert payout is not None
    assert (payout["status"], payout["gateway_ref"], payout["attempts"]) == (
        "paid",
        f"SBX-LF-{loan_id}",
        1,
    )
    disbursed = loan_views.loan_events(ws, ops, loan_id)[-1]
    assert disbursed.name == "LoanDisbursed"
    assert json.loads(disbursed.payload)["principal"] == 1_000_000
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_sme_growth_upfront_fee_is_instalment_zero_and_never_deducted(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """The 1 % arrangement fee is owed at signing; the borrower still receives every yuan."""
    loan_id = approved_loan(ws, applicant, product="sme-growth", amount="100000", term=12)
    view = disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    assert view.outstanding.fees == 100_000
    assert view.outstanding.principal == 10_000_000
    assert view.payoff == 10_100_000

    rows = loan_views.schedule(ws, ops, loan_id).instalments
    fee_row = rows[0]
    assert (fee_row.n, fee_row.due_date, fee_row.fee) == (0, PAID_OUT, 100_000)
    assert (fee_row.principal, fee_row.interest) == (0, 0)
    later = rows[1:]
    assert len(later) == 12
    assert [r.principal for r in later] == [0] * 11 + [10_000_000]  # 先息后本
    # Daily interest at 14.40 % / 360: 31 days to 12 Feb, 28 days to 12 Mar.
    assert (later[0].interest, later[1].interest) == (124_000, 112_000)
    assert {r.fee for r in later} == {0}

    with ws.engine.connect() as conn:
        loan = conn.execute(select(loans).where(loans.c.id == loan_id)).mappings().one()
    assert (loan["principal_outstanding"], loan["fee_receivable"]) == (10_000_000, 100_000)
    assert sandbox(ws).payouts() == {f"LF-{loan_id}": 10_000_000}
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_same_idempotency_key_pays_once_and_returns_the_first_answer(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """A clerk who clicks twice, or a client that retries, must not pay the borrower twice."""
    loan_id = approved_loan(ws, applicant)
    first = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-once")
    again = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-once")
    assert again.replayed and not first.replayed
    assert without_marker(again).model_dump(mode="json") == first.model_dump(mode="json")
    assert sandbox(ws).payouts() == {f"LF-{loan_id}": 1_000_000}
    payout = payout_row(ws, loan_id)
    assert payout is not None and payout["attempts"] == 1
    assert count(ws, journal_entries, journal_entries.c.loan_id == loan_id) == 1
    disbursed = events.c.entity_id == str(loan_id), events.c.name == "LoanDisbursed"
    assert count(ws, events, *disbursed) == 1
    with pytest.raises(Refused, match=f"loan {loan_id} is active; disburse needs approved"):
        disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="another-click")
    assert sandbox(ws).payouts() == {f"LF-{loan_id}": 1_000_000}


def test_a_replayed_disbursement_answers_exactly_like_the_first(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """A caller cannot tell a replay from the first call, types included."""
    loan_id = approved_loan(ws, applicant)
    first = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-once")
    again = disbursement.disburse(ws, ops, loan_id, PAID_OUT, idempotency_key="pay-once")
    assert without_marker(again) == first


def test_declined_payout_leaves_the_loan_approved_and_a_retry_pays(
    ws: Workspace, settings: Settings, ops: Actor, applicant: Applicant, tmp_path: Path
) -> None:
    """A decline is final for that attempt: nothing booked, the payout marked failed."""
    loan_id = approved_loan(ws, applicant)
    gateway = SandboxGateway(tmp_path / "declining.db", fail_next=1)
    with workspace_with(settings, gateway) as declining:
        with pytest.raises(GatewayError, match="payout declined") as caught:
            disbursement.disburse(declining, ops, loan_id, PAID_OUT)
        assert not caught.value.transient
        assert loan_views.show(ws, ops, loan_id, PAID_OUT).status == "approved"
        failed = payout_row(ws, loan_id)
        assert failed is not None
        assert (failed["status"], failed["attempts"]) == ("failed", 1)
        assert "declined" in failed["last_error"]
        assert gateway.payouts() == {}
        books_untouched(ws, loan_id)

        view = disbursement.disburse(declining, ops, loan_id, PAID_OUT)
        assert view.status == "active"
        paid = payout_row(ws, loan_id)
        assert paid is not None
        assert (paid["status"], paid["attempts"]) == ("paid", 2)
        assert gateway.payouts() == {f"LF-{loan_id}": 1_000_000}
        assert audit.verify(ws, ws.actor("auditor")).ok


def test_timeouts_are_retried_under_one_reference_and_pay_exactly_once(
    ws: Workspace, settings: Settings, ops: Actor, applicant: Applicant, tmp_path: Path
) -> None:
    """Whether or not the money left before the timeout, the retry ends with one payout."""
    gateway = SandboxGateway(tmp_path / "slow.db", timeout_next=1, pay_before_timeout=True)
    paid_then_lost = approved_loan(ws, applicant)
    lost_before_paying = approved_loan(ws, applicant)
    reference = f"LF-{paid_then_lost}"
    with workspace_with(settings, gateway) as slow:
        with pytest.raises(GatewayError, match="timed out after paying") as caught:
            disbursement.disburse(slow, ops, paid_then_lost, PAID_OUT)
        assert caught.value.transient
        assert gateway.payouts() == {reference: 1_000_000}  # the money did leave
        pending = payout_row(ws, paid_then_lost)
        assert pending is not None and pending["status"] == "pending"
        assert loan_views.show(ws, ops, paid_then_lost, PAID_OUT).status == "approved"
        books_untouched(ws, paid_then_lost)

        assert disbursement.disburse(slow, ops, paid_then_lost, PAID_OUT).status == "active"
        assert gateway.payouts() == {reference: 1_000_000}
        settled = payout_row(ws, paid_then_lost)
        assert settled is not None
        assert (settled["status"], settled["attempts"]) == ("paid", 2)

        gateway.timeout_next, gateway.pay_before_timeout = 1, False
        with pytest.raises(GatewayError, match="timed out"):
            disbursement.disburse(slow, ops, lost_before_paying, PAID_OUT)
        assert f"LF-{lost_before_paying}" not in gateway.payouts()
        assert disbursement.disburse(slow, ops, lost_before_paying, PAID_OUT).status == "active"
        assert gateway.payouts() == {reference: 1_000_000, f"LF-{lost_before_paying}": 1_000_000}
    assert count(ws, journal_entries, journal_entries.c.kind == "disbursement") == 2
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_a_lapsed_approval_cannot_be_paid_out(
    ws: Workspace, ops: Actor, applicant: Applicant
) -> None:
    """cash-easy approvals hold 30 days: approved 11 Jan, payable up to 10 Feb inclusive."""
    loan_id = approved_loan(ws, applicant)
    assert loan_views.show(ws, ops, loan_id, DECIDED).approval_expires_on == date(2026, 2, 10)
    with pytest.raises(
        Refused, match=f"loan {loan_id}: the approval lapsed on 2026-02-10; it can only expire"
    ):
        disbursement.disburse(ws, ops, loan_id, date(2026, 2, 11))
    with pytest.raises(
        BadInput, match=f"business date 2026-01-10 is before loan {loan_id} was approved"
    ):
        disbursement.disburse(ws, ops, loan_id, APPLIED)
    assert payout_row(ws, loan_id) is None
    assert sandbox(ws).payouts() == {}
    books_untouched(ws, loan_id)
    assert disbursement.disburse(ws, ops, loan_id, date(2026, 2, 10)).status == "active"


def test_money_paid_before_a_timeout_is_booked_even_after_the_approval_lapses(
    ws: Workspace, settings: Settings, ops: Actor, applicant: Applicant, tmp_path: Path
) -> None:
    """The retry only confirms a payout already made; refusing it loses a loan off the books."""
    loan_id = approved_loan(ws, applicant)
    gateway = SandboxGateway(tmp_path / "slow.db", timeout_next=1, pay_before_timeout=True)
    with workspace_with(settings, gateway) as slow:
        with pytest.raises(GatewayError):
            disbursement.disburse(slow, ops, loan_id, date(2026, 2, 10))  # last valid day
        assert gateway.payouts() == {f"LF-{loan_id}": 1_000_000}
        view = disbursement.disburse(slow, ops, loan_id, date(2026, 2, 11))  # retried next day
        assert view.status == "active"


class SecondClerkGateway:
    """Pays through `inner`, but lets `interleave` run while the first payout is in flight."""

    def __init__(self, inner: SandboxGateway, interleave: Callable[[], object]) -> None:
        self.inner = inner
        self.interleave: Callable[[], object] | None = interleave

    def pay_out(self, reference: str, amount: int, customer_id: int) -> PayoutReceipt:
        if self.interleave is not None:
            interleave, self.interleave = self.interleave, None
            interleave()
        return self.inner.pay_out(reference, amount, customer_id)


def test_two_clerks_disbursing_at_once_get_one_loan_and_a_clear_refusal(
    ws: Workspace, settings: Settings, ops: Actor, applicant: Applicant, tmp_path: Path
) -> None:
    """Clerk B pays out while clerk A's payout is still with the gateway; A must be told."""
    loan_id = approved_loan(ws, applicant)
    inner = SandboxGateway(tmp_path / "gateway.db")
    with workspace_with(settings, inner) as clerk_b:
        gateway = SecondClerkGateway(
            inner, lambda: disbursement.disburse(clerk_b, ops, loan_id, PAID_OUT, "clerk-b")
        )
        with workspace_with(settings, gateway) as clerk_a, pytest.raises(Refused):
            disbursement.disburse(clerk_a, ops, loan_id, PAID_OUT, "clerk-a")
    assert inner.payouts() == {f"LF-{loan_id}": 1_000_000}
    assert loan_views.show(ws, ops, loan_id, PAID_OUT).status == "active"


class DeclinesAfterPaying:
    """A gateway that lost its answer to a payout it made, then declines the retry (as a
    gateway without idempotent references may), then answers the third call truly."""

    def __init__(self, real: SandboxGateway) -> None:
        self.real = real
        self.calls = 0

    def pay_out(self, reference: str, amount: int, customer_id: int) -> PayoutReceipt:
        self.calls += 1
        if self.calls == 1:
            self.real.pay_out(reference, amount, customer_id)
            raise GatewayError("timed out after paying", transient=True)
        if self.calls == 2:
            raise GatewayError("declined", transient=False)
        return self.real.pay_out(reference, amount, customer_id)


def test_a_decline_after_an_unknown_outcome_never_marks_money_out_as_failed(
    ws: Workspace, settings: Settings, ops: Actor, applicant: Applicant, tmp_path: Path
) -> None:
    """The retry's decline says nothing of the first attempt, which paid: the payout stays
    pending (so the approval cannot lapse with the money out) until the gateway says so."""
    loan_id = approved_loan(ws, applicant)
    real = SandboxGateway(tmp_path / "lost-answer.db")
    gateway = DeclinesAfterPaying(real)
    with workspace_with(settings, gateway) as paying:
        with pytest.raises(GatewayError, match="timed out"):
            disbursement.disburse(paying, ops, loan_id, PAID_OUT)
        with pytest.raises(GatewayError, match="declined"):
            disbursement.disburse(paying, ops, loan_id, PAID_OUT)
        pending = payout_row(ws, loan_id)
        assert pending is not None and pending["status"] == "pending"
        assert "after an unknown outcome" in pending["last_error"]
        assert disbursement.disburse(paying, ops, loan_id, PAID_OUT).status == "active"
    assert real.payouts() == {f"LF-{loan_id}": 1_000_000}
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_the_sandbox_gateway_answers_a_paid_reference_with_its_first_receipt(
    tmp_path: Path,
) -> None:
    gateway = SandboxGateway(tmp_path / "gateway.db")
    first = gateway.pay_out("LF-1", 500_000, 7)
    gateway.fail_next = 1
    assert gateway.pay_out("LF-1", 500_000, 7) == first
    gateway.timeout_next = 1
    assert gateway.pay_out("LF-1", 500_000, 7) == first
    assert gateway.payouts() == {"LF-1": 500_000}

"""KPIs from the real engine's records, and service tickets with their deadlines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from lendflow.access.permissions import Actor
from lendflow.domain.errors import BadInput, Refused
from lendflow.loans import applications, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.monitoring.kpis import product_kpis
from lendflow.monitoring.tickets import NewTicket, list_tickets, open_ticket, resolve
from lendflow.workspace.context import Workspace


def book(ws: Workspace, ops: Actor, risk: Actor, applicant) -> list[int]:  # type: ignore[no-untyped-def]
    """Three 6,000-yuan loans paid out on 12 Jan; loans 1 and 3 pay their first instalment."""
    ids = []
    for _ in range(3):
        application = applicant(amount="6000", term=6)
        loan_id = applications.apply(ws, ops, application, date(2026, 1, 10)).id
        applications.start_review(ws, ops, loan_id, date(2026, 1, 10))
        applications.approve(ws, risk, loan_id, date(2026, 1, 11))
        disbursement.disburse(ws, ops, loan_id, date(2026, 1, 12))
        ids.append(loan_id)
    for loan_id in (ids[0], ids[2]):
        first = loan_views.schedule(ws, ops, loan_id).instalments[0]
        repayments.repay(ws, ops, loan_id, first.total, date(2026, 2, 12), f"k{loan_id}")
    return ids


def test_par30_and_the_book_agree_with_the_loans_by_hand(
    ws: Workspace, ops: Actor, risk: Actor, applicant
) -> None:  # type: ignore[no-untyped-def]
    ids = book(ws, ops, risk, applicant)
    report = product_kpis(ws, risk, "cash-easy", date(2026, 3, 20))
    kpis = report.kpis
    first_principal = loan_views.schedule(ws, ops, ids[0]).instalments[0].principal
    repaying = 600_000 - first_principal
    # loan 2 has paid nothing: 36 days past due on 20 Mar (its first instalment fell due 12 Feb)
    assert kpis.outstanding == 600_000 + 2 * repaying
    assert str(kpis.par30) == str((Decimal(600_000) / (600_000 + 2 * repaying)).quantize(
        Decimal("0.0001")))  # fmt: skip
    assert str(kpis.par1) == "1.0000"  # loans 1 and 3 are 8 days late with the March instalment
    assert str(kpis.non_performing_ratio) == "0.0000"
    assert kpis.buckets == {"M1": 2, "M2": 1}
    shown = loan_views.show(ws, ops, ids[1], date(2026, 3, 20))
    assert shown.outstanding.principal == 600_000
    assert report.alerts[0].kpi == "par30"
    months = [p.month_end for p in report.series]
    assert months == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 20)]
    feb_to_mar = report.roll_rates[-1].matrix
    assert feb_to_mar["M0"]["M1"] == 2 and feb_to_mar["M1"]["M2"] == 1
    # end of Feb: nobody beyond 30 days yet
    assert [str(v) for v in report.vintages["2026-01"]] == ["0.0000"]
    earlier = product_kpis(ws, risk, "cash-easy", date(2026, 2, 11)).kpis
    assert str(earlier.par1) == "0.0000" and earlier.outstanding == 1_800_000


def test_tickets_carry_a_deadline_and_flag_breaches(
    ws: Workspace, ops: Actor, risk: Actor, auditor: Actor, applicant
) -> None:  # type: ignore[no-untyped-def]
    loan_id = applications.apply(ws, ops, applicant(), date(2026, 1, 10)).id
    complaint = open_ticket(
        ws, ops, NewTicket("complaint", "催收电话太频繁", "phone", "客户说一天三次", loan_id),
        date(2026, 3, 1),
    )  # fmt: skip
    assert complaint.due_on == date(2026, 3, 16) and complaint.product == "cash-easy"
    question = open_ticket(ws, ops, NewTicket("question", "提前还款手续费?"), date(2026, 3, 1))
    assert question.due_on == date(2026, 3, 4)
    late = list_tickets(ws, risk, date(2026, 3, 5), breached_only=True)
    assert [t.id for t in late] == [question.id]
    assert resolve(ws, ops, complaint.id, "已调整催收频率", date(2026, 3, 10)).breached is False
    with pytest.raises(Refused, match="was resolved on 2026-03-10"):
        resolve(ws, ops, complaint.id, "again", date(2026, 3, 11))
    with pytest.raises(Refused, match="may not open service tickets"):
        open_ticket(ws, auditor, NewTicket("question", "x"), date(2026, 3, 1))
    with pytest.raises(BadInput, match="ticket kind must be complaint or question"):
        open_ticket(ws, ops, NewTicket("rant", "x"), date(2026, 3, 1))
    assert list_tickets(ws, auditor, date(2026, 3, 10))[0].details == "(withheld)"
    kpis = product_kpis(ws, risk, "cash-easy", date(2026, 3, 31)).kpis
    assert kpis.complaints_this_month == 1

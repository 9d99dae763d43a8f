"""Stage 5 (launch) and the campaigns it puts into the loan engine.

The product is taken to its launch as `lifecycle_walk` does; then loans are made
through the real engine: the first loan of a customer under a 30-day
interest-free campaign, a second loan, a referral, and campaigns that run out of
budget or time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from lendflow.documents import issuing as documents
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.lifecycle import live_gates
from lendflow.lifecycle.live_stages import run_outputs
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.loans.promotions import campaign_rules
from lendflow.store.tables import (
    campaigns,
    instalments,
    journal_entries,
    journal_lines,
    loans,
    promotion_awards,
)
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.context import Workspace
from tests.service.lifecycle_walk import (
    LAUNCHED,
    PAID_OUT,
    campaigns_file,
    go,
    run_launch,
    walk_to_launch,
)

_serials = iter(range(500, 1000))


Borrow = Callable[..., int]


def borrower(ws: Workspace) -> Borrow:
    """borrow(serial=None, on=PAID_OUT, referrer=None) -> a disbursed anxin loan, 10,000 over 12."""

    def make(serial: int | None = None, on: date = PAID_OUT, referrer: str | None = None) -> int:
        ops = ws.actor("ops")
        application = Application.parse(
            product="anxin",
            name="王五",
            national_id=sample_national_id(date(1992, 3, 4), serial or next(_serials)),
            phone="13912345678",
            monthly_income="12000",
            amount="10000",
            term=12,
            consents="all",
            referrer=referrer,
        )
        applied = date.fromordinal(on.toordinal() - 2)
        loan_id = applications.apply(ws, ops, application, applied).id
        applications.start_review(ws, ops, loan_id, applied)
        applications.approve(ws, ws.actor("risk"), loan_id, applied)
        disbursement.disburse(ws, ops, loan_id, on)
        return loan_id

    return make


@pytest.fixture
def launch(ws: Workspace, tmp_path: Path) -> Callable[..., Borrow]:
    """launch(budget=..., ends_on=...) takes anxin live with those campaigns; returns borrow."""

    def make(budget: str = "300000.00", ends_on: str = "2026-12-31") -> Borrow:
        walk_to_launch(ws)
        run_launch(ws, campaigns=campaigns_file(tmp_path, budget, ends_on))
        go(ws, "anxin", "launch", LAUNCHED)
        return borrower(ws)

    return make


def rows_of(ws: Workspace, table: Any, *where: Any) -> list[dict[str, Any]]:
    with ws.engine.connect() as c:
        return [dict(r) for r in c.execute(select(table).where(*where)).mappings()]


def waived(ws: Workspace, loan_id: int) -> list[int]:
    rows = rows_of(ws, instalments, instalments.c.loan_id == loan_id)
    return [r["interest_waived"] for r in sorted(rows, key=lambda r: r["n"])]


def entry_lines(ws: Workspace, loan_id: int, kind: str) -> list[tuple[str, int, int]]:
    with ws.engine.connect() as c:
        return [
            (r[0], r[1], r[2])
            for r in c.execute(
                select(journal_lines.c.account, journal_lines.c.debit, journal_lines.c.credit)
                .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
                .where(journal_entries.c.loan_id == loan_id, journal_entries.c.kind == kind)
                .order_by(journal_lines.c.id)
            )
        ]


def anxin_application(serial: int) -> Application:
    return Application.parse(
        product="anxin",
        name="王五",
        national_id=sample_national_id(date(1992, 3, 4), serial),
        phone="13912345678",
        monthly_income="12000",
        amount="10000",
        term=12,
        consents="all",
    )


def test_the_launch_plans_channels_and_a_go_takes_the_version_live(ws: Workspace) -> None:
    walk_to_launch(ws)
    result = run_launch(ws)
    assert result.criteria_passed is True
    assert [c.name for c in result.criteria] == [
        "channel_plan_funded",
        "target_segments_reached",
        "campaigns_in_force",
        "education_material_complete",
    ]
    with pytest.raises(Refused, match="anxin has no live version"):
        applications.apply(ws, ws.actor("ops"), anxin_application(1), LAUNCHED)
    with pytest.raises(Refused, match="may not decide product gates"):
        live_gates.decide(ws, ws.actor("pm"), "anxin", "launch", "go", as_of=LAUNCHED)
    decided = go(ws, "anxin", "launch", LAUNCHED)
    assert (decided.state, decided.retired_versions) == ("live", ())
    loan = applications.apply(ws, ws.actor("ops"), anxin_application(1), LAUNCHED)
    assert loan.status == "submitted"


def test_the_channel_plan_ranks_by_target_applications_per_yuan_within_the_budget(
    ws: Workspace,
) -> None:
    walk_to_launch(ws)
    run_launch(ws)
    _, outputs = run_outputs(ws, ws.actor("auditor"), "anxin", "launch")
    plan = outputs["channels"]
    funded = [(c["channel"], c["acquisitions"], c["cost"]) for c in plan["channels"] if c["funded"]]
    # The free own app first; then by target applications per yuan: community (14% × 85% /
    # 25.00), gig platforms (9% × 80% / 18.00), payroll partners (11% × 65% / 22.00) with
    # what is left; the rest get nothing.
    assert funded == [
        ("own_app", 8000, 0),
        ("community", 6000, 15_000_000),
        ("gig_platforms", 20000, 36_000_000),
        ("payroll_partners", 4090, 8_998_000),
    ]
    assert (plan["cost"], plan["budget"]) == (59_998_000, 60_000_000)
    assert plan["applications"] == 480 + 840 + 1800 + 450
    assert (plan["by_segment"]["new_citizens"], plan["by_segment"]["gig_workers"]) == (1184, 1575)
    # 10,000 over 12 paid out on 15 June: the first period (to 15 July) is 30 days, all free.
    assert outputs["campaigns"][0]["example"]["waived"] == 14000
    zh = outputs["education"]["zh-CN"]["html"]["text"]
    assert "首笔借款 30 天免息" in zh and "140.00" in zh and outputs["apr_range"][0] in zh
    assert "Refer a friend, get CNY 50" in outputs["education"]["en"]["md"]["text"]


def test_campaigns_apply_only_from_the_launch_run_that_passed_the_gate(ws: Workspace) -> None:
    walk_to_launch(ws)
    run_launch(ws)
    run_launch(ws)  # run again: the newest run is the one the gate decides on
    stored = rows_of(ws, campaigns)
    assert [c["code"] for c in stored] == ["first-loan-30", "referral-2026"] * 2
    version_id = stored[0]["version_id"]
    go(ws, "anxin", "launch", LAUNCHED)
    rules = run_in_transaction(ws.engine, lambda uow: campaign_rules(uow, version_id))
    assert [r.id for r in rules] == [c["id"] for c in stored[2:]]


def test_a_first_loan_with_30_interest_free_days_agrees_in_schedule_contract_and_ledger(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    loan_id = launch()()
    # 10,000 at 16.80% over 12 months: 140.00 of interest in the first month. Paid out on
    # 15 July, the first period runs to 15 August, 31 days: 30 of them are free.
    assert waived(ws, loan_id) == [13548] + [0] * 11  # 140.00 × 30/31 = 135.48
    first = rows_of(ws, instalments, instalments.c.loan_id == loan_id, instalments.c.n == 1)[0]
    assert first["interest"] == 14000
    schedule = loan_views.schedule(ws, ws.actor("ops"), loan_id).instalments[0]
    assert (schedule.interest, schedule.waived) == (14_000, 13_548)
    assert entry_lines(ws, loan_id, "interest_waiver") == [
        ("marketing_expense", 13548, 0),
        ("interest_income", 0, 13548),
    ]
    awards = rows_of(ws, promotion_awards, promotion_awards.c.loan_id == loan_id)
    assert [(a["kind"], a["amount"]) for a in awards] == [("interest_waiver", 13548)]
    assert rows_of(ws, campaigns, campaigns.c.code == "first-loan-30")[0]["spent"] == 13548
    kept = {d.kind: d for d in documents.list_documents(ws, ws.actor("risk"), loan_id)}
    contract = documents.stored_content(ws, ws.actor("risk"), kept["contract"].id)[1].decode()
    terms = documents.stored_content(ws, ws.actor("risk"), kept["waiver-terms"].id)[1].decode()
    assert f"LF-C-{loan_id:08d}" in contract and "140.00" in contract
    assert "第 1 期减免利息 135.48 元" in contract  # the contract itself states the waiver
    assert f"LF-C-{loan_id:08d}" in terms
    assert "140.00" in terms and "135.48" in terms and "4.52" in terms
    assert "壹佰叁拾伍元肆角捌分" in terms
    # What is left of the first instalment settles it: its principal and 4.52 of interest.
    due = first["principal"] + first["interest"] - first["interest_waived"]
    repayments.repay(ws, ws.actor("ops"), loan_id, due, date(2026, 8, 15))
    settled = rows_of(ws, instalments, instalments.c.loan_id == loan_id, instalments.c.n == 1)[0]
    assert (settled["interest_paid"], settled["paid_on"]) == (452, date(2026, 8, 15))
    assert audit.verify(ws, ws.actor("auditor")).problems == []


def test_a_second_loan_of_the_same_customer_gets_no_waiver(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    borrow = launch()
    borrow(serial=77)
    second = borrow(serial=77, on=date(2026, 8, 20))
    assert waived(ws, second) == [0] * 12
    assert entry_lines(ws, second, "interest_waiver") == []
    assert rows_of(ws, promotion_awards, promotion_awards.c.loan_id == second) == []
    assert audit.verify(ws, ws.actor("auditor")).problems == []


def test_a_campaign_past_its_budget_stops_applying(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    borrow = launch(budget="200.00")  # one waiver of 135.48 fits; a second does not
    first, second = borrow(), borrow()
    assert (waived(ws, first)[0], waived(ws, second)[0]) == (13548, 0)
    assert rows_of(ws, campaigns, campaigns.c.code == "first-loan-30")[0]["spent"] == 13548


def test_a_campaign_past_its_end_date_stops_applying(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    borrow = launch(ends_on="2026-07-31")
    assert waived(ws, borrow(on=date(2026, 7, 31)))[0] == 13548
    assert waived(ws, borrow(on=date(2026, 8, 3)))[0] == 0


def test_a_referral_rewards_the_referrer_when_the_referee_is_paid_out(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    borrow = launch()
    referrer_loan = borrow(serial=11)
    referrer = rows_of(ws, loans, loans.c.id == referrer_loan)[0]["customer_id"]
    national_id = sample_national_id(date(1992, 3, 4), 11)
    referee_loan = borrow(serial=12, referrer=national_id)
    assert entry_lines(ws, referee_loan, "referral_reward") == [
        ("marketing_expense", 5000, 0),
        ("cash", 0, 5000),
    ]
    awards = rows_of(ws, promotion_awards, promotion_awards.c.kind == "referral_reward")
    assert [(a["customer_id"], a["loan_id"], a["amount"]) for a in awards] == [
        (referrer, referee_loan, 5000)
    ]
    # By customer number too; the campaign's 100.00 pays two rewards, then stops.
    borrow(serial=13, referrer=str(referrer))
    borrow(serial=14, referrer=str(referrer))
    assert len(rows_of(ws, promotion_awards, promotion_awards.c.kind == "referral_reward")) == 2
    assert audit.verify(ws, ws.actor("auditor")).problems == []


def test_a_referrer_must_be_another_customer_and_a_refused_application_keeps_nothing(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    borrow = launch()
    borrow(serial=21)
    before = len(rows_of(ws, loans))
    with pytest.raises(BadInput, match="referrer must be a customer number or a national ID"):
        Application.parse(**{**_raw(22), "referrer": "11010519900101123"})
    stranger = sample_national_id(date(1980, 1, 1), 99)
    with pytest.raises(NotFound, match="nobody with that national ID is a customer"):
        applications.apply(ws, ws.actor("ops"), Application.parse(**_raw(22, stranger)), PAID_OUT)
    with pytest.raises(NotFound, match="there is no customer 999"):
        applications.apply(ws, ws.actor("ops"), Application.parse(**_raw(22, "999")), PAID_OUT)
    own = sample_national_id(date(1992, 3, 4), 21)
    with pytest.raises(Refused, match="cannot refer themself"):
        applications.apply(ws, ws.actor("ops"), Application.parse(**_raw(21, own)), PAID_OUT)
    assert len(rows_of(ws, loans)) == before


def _raw(serial: int, referrer: str | None = None) -> dict[str, Any]:
    return {
        "product": "anxin",
        "name": "王五",
        "national_id": sample_national_id(date(1992, 3, 4), serial),
        "phone": "13912345678",
        "monthly_income": "12000",
        "amount": "10000",
        "term": 12,
        "referrer": referrer,
        "consents": "all",
    }


def test_settling_inside_the_free_days_charges_no_interest(
    ws: Workspace, launch: Callable[..., Borrow]
) -> None:
    loan_id = launch()()
    quote = repayments.quote(ws, ws.actor("ops"), loan_id, date(2026, 7, 25))
    assert quote.interest == 0

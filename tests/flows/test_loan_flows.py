"""The batch loan flows, run for real under Prefect's test harness."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lendflow.bootstrap import init_workspace
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.identity import sample_national_id
from lendflow.flows.loans import disburse_approved, post_repayments, review_applications
from lendflow.flows.runtime import workspace
from lendflow.loans import applications, audit
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.workspace.payments import SandboxGateway


@pytest.fixture
def book(isolated_environment: Path) -> list[int]:
    """A workspace with five submitted applications for cash-easy."""
    init_workspace(Settings(home=isolated_environment))
    ws = workspace()
    products.import_product(
        ws, ws.actor("admin"), example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
    )
    ids = []
    for serial in range(5):
        application = Application.parse(
            product="cash-easy",
            name=f"客户{serial}",
            national_id=sample_national_id(date(1988, 3, 9), 200 + serial),
            phone=f"1391234560{serial}",
            monthly_income="9000",
            amount="6000",
            term=6,
            consents="all",
        )
        ids.append(applications.apply(ws, ws.actor("ops"), application, date(2026, 1, 10)).id)
    return ids


def test_review_then_disburse_in_chunks(book: list[int]) -> None:
    reviewed = review_applications(date(2026, 1, 10), "ops", chunk_size=2)
    assert reviewed == {"scanned": 5, "under_review": 5}
    again = review_applications(date(2026, 1, 10), "ops", chunk_size=2)
    assert again == {"scanned": 0}
    ws = workspace()
    for loan_id in book:
        applications.approve(ws, ws.actor("risk"), loan_id, date(2026, 1, 11))
    paid = disburse_approved(date(2026, 1, 12), "ops", chunk_size=2)
    assert paid["disbursed"] == 5 and paid["failures"] == []
    assert disburse_approved(date(2026, 1, 12), "ops")["scanned"] == 0
    sandbox = SandboxGateway(ws.settings.home / "sandbox_gateway.db")
    assert sorted(sandbox.payouts()) == sorted(f"LF-{i}" for i in book)


def test_transient_gateway_errors_are_retried_without_paying_twice(book: list[int]) -> None:
    ws = workspace()
    review_applications(date(2026, 1, 10), "ops")
    for loan_id in book:
        applications.approve(ws, ws.actor("risk"), loan_id, date(2026, 1, 11))
    flaky = SandboxGateway(
        ws.settings.home / "sandbox_gateway.db", timeout_next=2, pay_before_timeout=True
    )
    ws.gateway = flaky
    result = disburse_approved(date(2026, 1, 12), "ops")
    assert result["disbursed"] == 5
    assert len(flaky.payouts()) == 5
    assert sum(1 for v in loan_views.list_loans(ws, ws.actor("ops")) if v.status == "active") == 5


def test_repayment_file_posts_good_rows_once_and_reports_bad_ones(
    book: list[int], tmp_path: Path
) -> None:
    ws = workspace()
    review_applications(date(2026, 1, 10), "ops")
    for loan_id in book:
        applications.approve(ws, ws.actor("risk"), loan_id, date(2026, 1, 11))
    disburse_approved(date(2026, 1, 12), "ops")
    file = tmp_path / "channel.csv"
    file.write_text(
        "reference,loan_id,amount,paid_on\n"
        f"PAY-1,{book[0]},1000.00,2026-02-12\n"
        f"PAY-2,{book[1]},-5,2026-02-12\n"
        f"PAY-3,{book[2]},500,2026-13-01\n"
        "PAY-4,9999,100,2026-02-12\n"
        f"PAY-5,{book[3]},1050.50,2026-02-12\n",
        encoding="utf-8",
    )
    first = post_repayments(file, "ops", date(2026, 2, 12))
    assert (first["posted"], first["refused"], first["exit_code"]) == (2, 3, 1)
    assert first["first_problems"] == [
        "line 3: amount must be positive, got '-5'",
        "line 4: paid_on is not a date: '2026-13-01' (use YYYY-MM-DD)",
        "line 5: loan 9999 does not exist",
    ]
    second = post_repayments(file, "ops", date(2026, 2, 12))
    assert second["posted"] == 0 and second["duplicates"] == 2
    shown = loan_views.show(ws, ws.actor("ops"), book[0], date(2026, 2, 12))
    assert shown.outstanding.principal != 600_000
    assert audit.verify(ws, ws.actor("auditor")).ok


def test_automated_review_decides_the_queue_in_chunks(
    automated_review: None, book: list[int]
) -> None:
    reviewed = review_applications(date(2026, 1, 10), "ops", chunk_size=2)
    assert reviewed == {"scanned": 5, "approved": 5}
    ws = workspace()
    shown = loan_views.show(ws, ws.actor("risk"), book[0], date(2026, 1, 10))
    assert (shown.risk_grade, str(shown.annual_rate)) == ("C", "14.40")
    assert [d.role for d in shown.credit_decisions] == ["champion", "challenger"]

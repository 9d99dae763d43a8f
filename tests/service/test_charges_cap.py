"""The all-in charges cap: contract interest, fees and penalty together never pass 24% a
year of the principal outstanding, day by day; penalty is cut to what is left."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.loans import applications, audit, disbursement, views
from lendflow.products import catalogue as products
from lendflow.store.tables import instalments, loans

CONFIG = load_cob_config()
DAY = timedelta(days=1)
PAID_OUT = date(2026, 1, 12)
LAST = date(2027, 3, 31)  # 444 days closed: 354 in 2026, 90 in 2027


@pytest.fixture
def costly(ws, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """cash-easy at a fixed 18% with a 0.15% monthly fee, and penalty at 24% a year on
    overdue principal and interest: each passes on its own, together they would not
    (written off only past 720 days, to watch the cap hold once it binds)."""
    text = example_product_paths()[0].read_text(encoding="utf-8")
    changes = {
        "code: cash-easy": "code: cash-costly",
        'min: "10.80"': 'min: "18.00"',
        'A: "10.80", B: "12.60", C: "14.40", D: "16.20"': ", ".join(
            f'{grade}: "18.00"' for grade in "ABCD"
        ),
        'annual: "15.60"': 'annual: "18.00"',
        'value: "0.10"': 'value: "0.15"',
        "base: overdue_principal\n": "base: overdue_principal_and_interest\n",
        "write_off_dpd: 360": "write_off_dpd: 720",
    }
    for old, new in changes.items():
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / "cash-costly.yaml"
    path.write_text(text, encoding="utf-8")
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=date(2026, 1, 5))
    return "cash-costly"


def open_loan(ws, ops, risk, applicant, product: str) -> int:  # type: ignore[no-untyped-def]
    loan = applications.apply(
        ws, ops, applicant(product=product, amount="10000", term=3), date(2026, 1, 10)
    )
    applications.start_review(ws, ops, loan.id, date(2026, 1, 10))
    applications.approve(ws, risk, loan.id, date(2026, 1, 11))
    disbursement.disburse(ws, ops, loan.id, PAID_OUT)
    return loan.id


def charged(ws, loan_id: int) -> int:  # type: ignore[no-untyped-def]
    """Interest and fees fallen due and penalty accrued, read from the instalments."""
    with ws.engine.connect() as c:
        penalty, interest, fee = c.execute(
            select(
                func.sum(instalments.c.penalty),
                func.sum(instalments.c.interest).filter(instalments.c.recognised.is_(True)),
                func.sum(instalments.c.fee).filter(instalments.c.recognised.is_(True)),
            ).where(instalments.c.loan_id == loan_id)
        ).one()
    return int(penalty) + int(interest or 0) + int(fee or 0)


def allowed(days: int) -> int:
    """24% a year, 360 days to the year, on 10,000.00 unpaid for `days` closed days."""
    return 1_000_000 * days * 24 // (100 * 360)


def test_penalty_is_cut_so_the_total_never_passes_24_percent(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, costly
) -> None:
    loan_id = open_loan(ws, ops, risk, applicant, costly)
    capped = 0
    d = PAID_OUT
    while d <= LAST:
        capped += cob.close_range(ws, 1, 10_000, d, d, "cob", CONFIG).penalty_capped
        closed_days = (d - PAID_OUT).days + 1
        assert charged(ws, loan_id) <= allowed(closed_days), d
        d += DAY
    # 1,000,000 fen x 444 days x 24% / 360 = 296,000.00 fen: charged to the fen
    assert allowed(444) == 296_000
    assert charged(ws, loan_id) == 296_000
    assert capped > 0
    shown = views.show(ws, ops, loan_id, LAST).model_dump(mode="json")
    assert shown["charges_cap"] == {
        "rate": "24",
        "base": "principal_outstanding",
        "charged": "2960.00",
        "allowed": "2960.00",
    }
    with ws.engine.connect() as c:
        receivable = c.execute(
            select(
                loans.c.interest_receivable + loans.c.fee_receivable + loans.c.penalty_receivable
            ).where(loans.c.id == loan_id)
        ).scalar_one()
    assert receivable == 296_000  # nothing was paid: all of it is owed, and no more
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_a_loan_within_the_cap_is_never_cut(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant, "cash-easy")
    counts = cob.close_range(ws, 1, 10_000, PAID_OUT, date(2026, 7, 30), "cob", CONFIG)
    assert counts.penalty_capped == 0 and counts.penalty_accrued > 0
    cap = views.show(ws, ops, loan_id, date(2026, 7, 30)).charges_cap
    assert cap is not None and cap.allowed == allowed(200) and cap.charged < cap.allowed


def on_overdue_principal(ws) -> None:  # type: ignore[no-untyped-def]
    """The policy's stricter base: the cap on the principal past due at each close."""
    cap = ws.policy.charges_cap.model_copy(update={"base": "overdue_principal"})
    ws.__dict__["policy"] = ws.policy.model_copy(update={"charges_cap": cap})


def penalty_of(ws, loan_id: int) -> int:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return int(
            c.execute(
                select(func.sum(instalments.c.penalty)).where(instalments.c.loan_id == loan_id)
            ).scalar_one()
        )


def overdue_principal_days(ws, loan_id: int) -> int:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return int(
            c.execute(
                select(loans.c.overdue_principal_days).where(loans.c.id == loan_id)
            ).scalar_one()
        )


def test_on_overdue_principal_the_penalty_is_cut_to_24_percent_of_what_is_past_due(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, costly
) -> None:
    """cash-costly, 10,000.00 over 3 months, nothing paid. The instalments' principal is
    3,283.83 (due 2026-02-12), 3,333.09 (03-12) and 3,383.08 (04-12); each is past due
    from the close after its due date. Through 2026-04-30 the overdue fen-days are
      328,383 x 28 (02-13 .. 03-12)               =  9,194,724
    + (328,383 + 333,309) x 31 (03-13 .. 04-12)  = 20,512,452
    + 1,000,000 x 18 (04-13 .. 04-30)            = 18,000,000
                                                  = 47,707,176
    and 24% a year over 360 days of them is 31,804.78: 318.04 of penalty at most. The
    penalty runs at 24% on each instalment's principal and interest (343,383 fen each):
    229 fen a day each, 687 on 2026-04-30, which the day's 666.67 of room cuts to 666."""
    on_overdue_principal(ws)
    loan_id = open_loan(ws, ops, risk, applicant, costly)
    end = date(2026, 4, 30)
    cap = ws.policy.charges_cap
    d = PAID_OUT
    while d < end:
        cob.close_range(ws, 1, 10_000, d, d, "cob", CONFIG)
        assert penalty_of(ws, loan_id) <= cap.allowed(overdue_principal_days(ws, loan_id)), d
        d += DAY
    before = penalty_of(ws, loan_id)
    counts = cob.close_range(ws, 1, 10_000, end, end, "cob", CONFIG)
    assert overdue_principal_days(ws, loan_id) == 47_707_176
    assert cap.allowed(47_707_176) == 31_804
    assert penalty_of(ws, loan_id) == 31_804  # charged to the fen
    assert penalty_of(ws, loan_id) - before == 666
    assert counts.penalty_capped == 3 * 229 - 666
    shown = views.show(ws, ops, loan_id, end).model_dump(mode="json")
    assert shown["charges_cap"] == {
        "rate": "24",
        "base": "overdue_principal",
        "charged": "318.04",
        "allowed": "318.04",
    }
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_on_overdue_principal_a_loan_never_late_is_allowed_nothing_and_charged_nothing(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, costly
) -> None:
    """Before its first instalment falls behind the loan has no overdue principal: the
    stricter base allows nothing yet, and weighs no contract interest or fees."""
    on_overdue_principal(ws)
    loan_id = open_loan(ws, ops, risk, applicant, costly)
    cob.close_range(ws, 1, 10_000, PAID_OUT, date(2026, 2, 12), "cob", CONFIG)
    assert overdue_principal_days(ws, loan_id) == 0
    cap = views.show(ws, ops, loan_id, date(2026, 2, 12)).charges_cap
    assert cap is not None
    assert (cap.base, cap.charged, cap.allowed) == ("overdue_principal", 0, 0)

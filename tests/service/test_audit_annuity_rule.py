"""A loan paid out before the equal instalment was exact still audits clean.

Releases before it computed the annuity in `Decimal` at 34 digits, so an instalment of
exactly half a fen could come out a hair off the half and be rounded the wrong way.
2,316.00 at 12.50% a year over two months is 1,176.125 a month exactly: those releases
charged 1,176.12, this one charges 1,176.13 (HALF_UP). The audit holds a schedule it does
not recognise against both rules, so such a loan is not reported as edited, and an edit of
it still is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from sqlalchemy import select, text

from lendflow.config.product_spec import example_product_paths
from lendflow.domain import schedule as schedule_module
from lendflow.loans import applications, audit, disbursement
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store.tables import instalments
from lendflow.workspace.context import Workspace

PAID_OUT = date(2026, 3, 2)
EXACT_LEVEL = 117_613  # fen: 117,612.5 rounded half up
LEGACY_LEVEL = 117_612  # what the 34-digit annuity gave


@pytest.fixture
def two_months(ws: Workspace, tmp_path: Path) -> str:
    """cash-easy's terms, but two months at 12.50% and amounts to the yuan."""
    source = next(p for p in example_product_paths() if p.stem == "cash-easy")
    spec = source.read_text(encoding="utf-8")
    for old, new in (
        ("code: cash-easy", "code: two-month"),
        ("terms: [3, 6, 9, 12]", "terms: [2]"),
        ('step: "100.00"', 'step: "1.00"'),
    ):
        assert old in spec
        spec = spec.replace(old, new)
    start = spec.index("rate:\n")
    end = spec.index("schedule:\n")
    spec = (
        spec[:start]
        + 'rate:\n  annual: "12.50"\n  min: "12.50"\n  max: "12.50"\n'
        + '  by_grade: {A: "12.50", B: "12.50", C: "12.50", D: "12.50", E: "12.50"}\n'
        + spec[end:]
    )
    path = tmp_path / "two-month.yaml"
    path.write_text(spec, encoding="utf-8")
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=date(2026, 1, 5))
    return "two-month"


def _paid_out(ws: Workspace, applicant: Callable[..., Application], product: str) -> int:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    asked = applicant(product=product, amount="2316", term=2, income="15000")
    loan_id = applications.apply(ws, ops, asked, PAID_OUT).id
    applications.start_review(ws, ops, loan_id, PAID_OUT)
    applications.approve(ws, risk, loan_id, PAID_OUT)
    disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    return loan_id


def _levels(ws: Workspace, loan_id: int) -> list[int]:
    """Principal and interest of each instalment but the last (which absorbs rounding)."""
    with ws.engine.connect() as c:
        rows = c.execute(
            select(instalments.c.principal, instalments.c.interest)
            .where(instalments.c.loan_id == loan_id)
            .order_by(instalments.c.n)
        ).all()
    return [p + i for p, i in rows[:-1]]


@pytest.fixture
def earlier(
    ws: Workspace,
    applicant: Callable[..., Application],
    two_months: str,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """A loan paid out as releases before the exact annuity paid it out: at 34 digits."""
    exact = schedule_module.equal_instalment

    def in_34_digits(principal: int, rate: Fraction, periods: int, _: object = None) -> Fraction:
        return exact(principal, rate, periods, 34)

    with monkeypatch.context() as patched:
        patched.setattr(schedule_module, "equal_instalment", in_34_digits)
        return _paid_out(ws, applicant, two_months)


def test_a_loan_paid_out_on_the_34_digit_annuity_audits_clean(
    ws: Workspace, applicant: Callable[..., Application], two_months: str, earlier: int
) -> None:
    now = _paid_out(ws, applicant, two_months)
    assert (_levels(ws, earlier), _levels(ws, now)) == ([LEGACY_LEVEL], [EXACT_LEVEL])
    assert audit.verify(ws, ws.actor("auditor")).problems == []


def test_an_edit_of_such_a_loan_is_still_named(ws: Workspace, earlier: int) -> None:
    with ws.engine.begin() as c:
        c.execute(
            text("UPDATE instalments SET interest = interest + 1 WHERE loan_id = :id AND n = 1"),
            {"id": earlier},
        )
    problems = audit.verify(ws, ws.actor("auditor")).problems
    assert any(f"loan {earlier} instalment 1: interest is" in p for p in problems), problems

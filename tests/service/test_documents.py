"""A loan's contract is issued at disbursement, kept with its SHA-256, and reproducible."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from lendflow.config.product_spec import example_product_paths
from lendflow.documents import issuing as documents
from lendflow.domain.errors import BadInput, Refused
from lendflow.loans import applications, disbursement
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.rendering.contents import MissingContents
from lendflow.store.tables import documents as documents_table
from lendflow.store.uow import UnitOfWork
from lendflow.workspace.context import NoContracts, Workspace

Applicant = Callable[..., Application]
APPLIED, DECIDED, PAID_OUT = date(2026, 1, 10), date(2026, 1, 11), date(2026, 1, 12)
HOSTILE = "<script>alert(1)</script>"


def disbursed_loan(ws: Workspace, applicant: Applicant, **terms: object) -> int:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(**terms), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    return loan_id


def _render_contract(ws: Workspace, user: str, loan_id: int, fmt: str = "html") -> bytes:
    return documents.render(
        ws,
        ws.actor(user),
        "contract",
        product=None,
        loan_id=loan_id,
        locale="zh-CN",
        fmt=fmt,
        as_of=date(2026, 6, 30),
    ).content


def test_disbursement_keeps_the_contract_and_rendering_again_is_byte_identical(
    ws: Workspace, applicant: Applicant
) -> None:
    loan_id = disbursed_loan(ws, applicant, name=HOSTILE)
    listed = documents.list_documents(ws, ws.actor("ops"), loan_id)
    assert [(d.kind, d.locale, d.media_type, d.business_date) for d in listed] == [
        ("contract", "zh-CN", "text/html", PAID_OUT)
    ]
    row, issued = documents.stored_content(ws, ws.actor("risk"), listed[0].id)
    assert hashlib.sha256(issued).hexdigest() == listed[0].sha256 == row.sha256
    # later business dates and repayments change nothing in the contract
    again = _render_contract(ws, "risk", loan_id)
    assert again == issued
    text = issued.decode("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and HOSTILE not in text
    assert "人民币壹万元整" in text and "LF-C-" in text


def test_the_kept_contract_is_sealed_at_rest(ws: Workspace, applicant: Applicant) -> None:
    loan_id = disbursed_loan(ws, applicant, name="李四")
    with ws.engine.connect() as connection:
        sealed = connection.execute(
            select(documents_table.c.content_enc).where(documents_table.c.loan_id == loan_id)
        ).scalar_one()
    assert "李四" not in sealed and sealed.startswith("v2:")


def test_who_may_not_see_personal_data_gets_the_contract_masked(
    ws: Workspace, applicant: Applicant
) -> None:
    loan_id = disbursed_loan(ws, applicant, name="王小明")
    masked = _render_contract(ws, "ops", loan_id, fmt="md").decode("utf-8")
    assert "王小明" not in masked and "王\\*\\*" in masked
    with pytest.raises(Refused, match="may not read issued documents"):
        documents.stored_content(ws, ws.actor("ops"), 1)


def test_a_loan_not_yet_disbursed_has_no_contract(ws: Workspace, applicant: Applicant) -> None:
    loan_id = applications.apply(ws, ws.actor("ops"), applicant(), APPLIED).id
    with pytest.raises(Refused, match="issued at disbursement"):
        _render_contract(ws, "risk", loan_id)
    assert documents.list_documents(ws, ws.actor("ops"), loan_id) == []


def _product_without_penalty(ws: Workspace, tmp_path: Path) -> None:
    source = next(p for p in example_product_paths() if p.stem == "cash-easy")
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["code"] = "no-penalty"
    del data["penalty"]
    path = tmp_path / "no-penalty.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=date(2026, 1, 5))


def test_a_contract_for_a_product_without_penalty_terms_fails_clearly(
    ws: Workspace, applicant: Applicant, tmp_path: Path
) -> None:
    _product_without_penalty(ws, tmp_path)
    ops, risk = ws.actor("ops"), ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(product="no-penalty"), APPLIED).id
    applications.start_review(ws, ops, loan_id, APPLIED)
    applications.approve(ws, risk, loan_id, DECIDED)
    message = (
        "contract cannot be issued: missing penalty terms"
        " (product no-penalty declares no penalty interest)"
    )
    # no loan goes live without its contract, and no money leaves before that is known
    with pytest.raises(Refused) as refused:
        disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    assert str(refused.value) == (
        f"loan {loan_id}: its contract cannot be issued, so nothing is paid out: missing"
        " penalty terms (product no-penalty declares no penalty interest)"
    )
    assert loan_views.show(ws, ops, loan_id, PAID_OUT).status == "approved"
    with ws.engine.connect() as connection:
        assert disbursement.payout_in_flight(UnitOfWork(connection), loan_id) is None
    with ws.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(documents_table)).scalar() == 0
    # made without a contract (e.g. before documents existed), rendering one fails the same way
    ws.contracts = NoContracts()
    disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    with pytest.raises(MissingContents) as again:
        _render_contract(ws, "risk", loan_id)
    assert str(again.value) == message
    with pytest.raises(MissingContents, match="penalty terms"):
        documents.render(
            ws,
            risk,
            "contract",
            product="no-penalty",
            loan_id=None,
            locale="en",
            fmt="md",
            as_of=PAID_OUT,
        )


def test_a_product_versions_contract_is_checked_once_until_the_cache_is_cleared(
    ws: Workspace, applicant: Applicant
) -> None:
    documents.ISSUABLE.clear()
    disbursed_loan(ws, applicant)
    disbursed_loan(ws, applicant)
    assert len(documents.ISSUABLE) == 1  # one product version, locale and template folder
    documents.ISSUABLE.clear()
    assert len(documents.ISSUABLE) == 0
    disbursed_loan(ws, applicant)  # checked again, from cold
    assert len(documents.ISSUABLE) == 1


def test_product_documents_render_from_the_live_version(ws: Workspace) -> None:
    pm = ws.actor("pm")
    for kind in ("brochure", "risk-disclosure", "contract"):
        for locale in ("zh-CN", "en"):
            rendered = documents.render(
                ws,
                pm,
                kind,
                product="sme-growth",
                loan_id=None,
                locale=locale,
                fmt="md",
                as_of=PAID_OUT,
            )
            assert rendered.media_type == "text/markdown"
            assert ("小微成长贷" if locale == "zh-CN" else "SME Growth Loan") in (
                rendered.content.decode("utf-8")
            )


def test_an_overdue_notice_states_what_is_overdue(ws: Workspace, applicant: Applicant) -> None:
    loan_id = disbursed_loan(ws, applicant, amount="10000", term=6)
    notice = documents.render(
        ws,
        ws.actor("risk"),
        "overdue-notice",
        product=None,
        loan_id=loan_id,
        locale="zh-CN",
        fmt="md",
        as_of=date(2026, 3, 1),
    ).content.decode("utf-8")
    # the first instalment (2026-02-12, 1,753.32) is unpaid: 17 days late
    assert "已逾期 **17** 天" in notice
    assert "| **应还合计** | **1,753.32** |" in notice
    with pytest.raises(Refused, match="nothing overdue"):
        documents.render(
            ws,
            ws.actor("risk"),
            "overdue-notice",
            product=None,
            loan_id=loan_id,
            locale="zh-CN",
            fmt="md",
            as_of=date(2026, 2, 12),
        )


def test_bad_requests_are_one_clear_line(ws: Workspace) -> None:
    risk = ws.actor("risk")
    with pytest.raises(BadInput, match="unknown document kind 'report'"):
        documents.render(
            ws,
            risk,
            "report",
            product="cash-easy",
            loan_id=None,
            locale="zh-CN",
            fmt="md",
            as_of=PAID_OUT,
        )
    with pytest.raises(BadInput, match="give --loan"):
        documents.render(
            ws,
            risk,
            "overdue-notice",
            product="cash-easy",
            loan_id=None,
            locale="zh-CN",
            fmt="md",
            as_of=PAID_OUT,
        )
    with pytest.raises(BadInput, match="unknown locale"):
        documents.render(
            ws,
            risk,
            "brochure",
            product="cash-easy",
            loan_id=None,
            locale="fr",
            fmt="md",
            as_of=PAID_OUT,
        )


def test_the_design_gate_gets_every_missing_content_as_values(
    ws: Workspace, tmp_path: Path
) -> None:
    from lendflow.products.catalogue import spec_of
    from lendflow.store import products as product_store
    from lendflow.store.uow import run_in_transaction

    _product_without_penalty(ws, tmp_path)
    complete = run_in_transaction(
        ws.engine, lambda uow: product_store.live_version(uow, "cash-easy")
    )
    lacking = run_in_transaction(
        ws.engine, lambda uow: product_store.live_version(uow, "no-penalty")
    )
    check = documents.product_document_problems
    assert check(ws, spec_of(complete), version=1, as_of=PAID_OUT) == []
    reason = "(product no-penalty declares no penalty interest)"
    assert check(ws, spec_of(lacking), version=1, as_of=PAID_OUT) == [
        f"contract (zh-CN): penalty terms {reason}",
        f"contract (en): penalty terms {reason}",
        f"risk-disclosure (zh-CN): overdue consequences {reason}",
        f"risk-disclosure (en): overdue consequences {reason}",
    ]

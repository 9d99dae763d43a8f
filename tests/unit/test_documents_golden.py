"""Every document template in both locales and both text formats, against golden files.

The views are built from the example products with fixed dates, exactly as the
services build them, so a change to a template, a filter or the schedule shows
up here as a diff a reviewer reads. Regenerate after an intended change with
LENDFLOW_UPDATE_GOLDEN=1 and review the diff.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from lendflow.config.policy import Policy, load_policy
from lendflow.config.product_spec import ProductSpec, example_product_paths, load_product
from lendflow.rendering import product_views
from lendflow.rendering.lender import lender_view
from lendflow.rendering.rendering import render_kind
from lendflow.rendering.reports import ReportChart, ReportSection, ReportTable, ReportView
from lendflow.rendering.views import OverdueNoticeView, PartyView

GOLDEN = Path(__file__).parent / "data" / "golden" / "documents"
SIGNED_ON = date(2026, 1, 12)
NOTICE_ON = date(2026, 3, 1)
LOCALES = ("zh-CN", "en")
FORMATS = ("md", "html")
CHART = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
    '<rect x="0" y="10" width="80" height="20" fill="#4a7"/></svg>'
)


def spec(code: str = "cash-easy") -> ProductSpec:
    return load_product(next(p for p in example_product_paths() if p.stem == code))


def borrower() -> PartyView:
    return PartyView(name="张三", national_id="110105199005171233", phone="13812345678")


def view_of(kind: str, locale: str, code: str = "cash-easy", policy: Policy | None = None) -> Any:
    """The view a service would build for `kind`, from the example product `code` (under
    the packaged policy unless one is given)."""
    product, lender = spec(code), lender_view(locale)
    policy = policy or load_policy(None)
    if kind == "brochure":
        return product_views.brochure_view(
            product, policy, lender, locale=locale, version=1, as_of=SIGNED_ON
        )
    if kind == "risk-disclosure":
        return product_views.risk_disclosure_view(
            product, policy, lender, locale=locale, version=1, as_of=SIGNED_ON
        )
    if kind == "contract":
        terms = product_views.LoanTerms(
            loan_id=42,
            principal=1_000_000,
            term=6,
            annual_rate=Decimal("15.60"),
            disbursed_on=SIGNED_ON,
            purpose="travel",
        )
        return product_views.contract_view(
            product,
            policy,
            lender,
            locale=locale,
            version=1,
            signed_on=SIGNED_ON,
            loan=terms,
            borrower=borrower(),
        )
    if kind == "overdue-notice":
        return OverdueNoticeView(
            number="LF-N-00000042-20260301",
            loan_id=42,
            contract_number=product_views.contract_number(42),
            product_name=product.name.en if locale == "en" else product.name.zh_CN,
            lender=lender,
            borrower=borrower(),
            as_of=NOTICE_ON,
            dpd=17,
            overdue_since=date(2026, 2, 12),
            principal=161_332,
            interest=13_000,
            fees=1_000,
            penalty=1_793,
            total=177_125,
            penalty_terms=product_views.penalty_view(product, policy),
            collection=product_views.collection_view(policy),
        )
    return ReportView(
        title="市场调研报告" if locale == "zh-CN" else "Market research report",
        subtitle="cash-easy v1",
        as_of=date(2026, 3, 31),
        summary=(("APR", "19.10%"), ("Applicants", "1,200")),
        sections=(
            ReportSection(
                heading="Competitors",
                paragraphs=("Three lenders offer 等额本息 loans of 3 to 12 months.",),
                tables=(
                    ReportTable(
                        columns=("Lender", "APR", "Limit"),
                        rows=(("A", "18.25%", "50,000.00"), ("B", "23.90%", "20,000.00")),
                        caption="Rates on offer",
                    ),
                ),
                charts=(ReportChart(title="Applications a month", svg=CHART),),
            ),
        ),
    )


CASES = [
    (kind, locale, fmt)
    for kind in ("brochure", "contract", "risk-disclosure", "overdue-notice", "report")
    for locale in LOCALES
    for fmt in FORMATS
]


@pytest.mark.parametrize(("kind", "locale", "fmt"), CASES)
def test_document_matches_its_golden_file(kind: str, locale: str, fmt: str) -> None:
    rendered = render_kind(kind, view_of(kind, locale), locale=locale, fmt=fmt).decode("utf-8")
    golden = GOLDEN / locale / f"{kind}.{fmt}"
    if os.environ.get("LENDFLOW_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_small_business_product_renders_its_upfront_fee_and_interest_only_schedule(
    locale: str,
) -> None:
    contract = view_of("contract", locale, "sme-growth")
    text = render_kind("contract", contract, locale=locale, fmt="md").decode("utf-8")
    assert contract.schedule.upfront_fee == 10_000  # 1% of 10,000.00
    assert "100.00" in text
    # interest only: principal comes back whole with the last instalment
    assert contract.schedule.instalments[-1].principal == 1_000_000


def test_contract_shows_the_figures_a_borrower_checks() -> None:
    text = render_kind("contract", view_of("contract", "zh-CN"), fmt="md").decode("utf-8")
    assert "人民币壹万元整" in text
    assert "19.10%" in text and "复利" in text and "17.61%" in text
    assert "| 1 | 2026年2月12日 | 1,613.32 | 130.00 | 10.00 | 1,753.32 | 8,386.68 |" in text
    assert "24.00%" in text  # penalty rate and the cap on overdue charges


@pytest.mark.parametrize(("locale", "named"), [("zh-CN", "租房押金"), ("en", "rent deposit")])
def test_a_contract_names_the_purpose_in_its_locale(locale: str, named: str) -> None:
    product, policy, lender = spec(), load_policy(None), lender_view(locale)
    terms = product_views.LoanTerms(
        loan_id=42,
        principal=1_000_000,
        term=6,
        annual_rate=Decimal("15.60"),
        disbursed_on=SIGNED_ON,
        purpose="rent_deposit",
    )
    view = product_views.contract_view(
        product, policy, lender, locale=locale, version=1, signed_on=SIGNED_ON, loan=terms,
        borrower=borrower(),
    )  # fmt: skip
    for fmt in ("md", "html"):
        text = render_kind("contract", view, locale=locale, fmt=fmt).decode("utf-8")
        assert f"{named}" in text and "rent_deposit" not in text


# What each document says of the all-in charges cap on each base, per locale.
ALL_IN = {
    ("en", "principal_outstanding"): "interest, penalty interest, compound interest and fees"
    " together never exceed 24.00% a year of the principal outstanding day by day",
    ("en", "overdue_principal"): "penalty interest and compound interest together never"
    " exceed 24.00% a year of the overdue principal day by day",
    ("zh-CN", "principal_outstanding"): "利息、罚息、复利及各项费用合计按每日未还本金"
    "年化不超过 24.00%",
    ("zh-CN", "overdue_principal"): "罚息、复利合计按每日逾期本金年化不超过 24.00%",
}


@pytest.mark.parametrize("kind", ["brochure", "contract", "risk-disclosure", "overdue-notice"])
@pytest.mark.parametrize("locale", LOCALES)
def test_the_documents_say_which_base_the_all_in_cap_accrues_on(kind: str, locale: str) -> None:
    packaged = load_policy(None)
    on_overdue = packaged.charges_cap.model_copy(update={"base": "overdue_principal"})
    stricter = packaged.model_copy(update={"charges_cap": on_overdue})
    for fmt in FORMATS:
        text = render_kind(
            kind, view_of(kind, locale, policy=stricter), locale=locale, fmt=fmt
        ).decode("utf-8")
        assert ALL_IN[(locale, "overdue_principal")] in text, fmt
        assert ALL_IN[(locale, "principal_outstanding")] not in text, fmt
        text = render_kind(kind, view_of(kind, locale), locale=locale, fmt=fmt).decode("utf-8")
        assert ALL_IN[(locale, "principal_outstanding")] in text, fmt

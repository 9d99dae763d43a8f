"""Launch documents: the customer education material and a waiver's terms.

Both are templates per locale beside the others (`<locale>/education.*.j2`,
`<locale>/waiver-terms.*.j2`), rendered in the same sandboxed environment, and
overridable the same way (LENDFLOW_TEMPLATES). The education material explains
the product and its campaigns to customers before they borrow; the waiver terms
are the supplement to a loan's contract that states, instalment by instalment,
the interest a first-loan promotion waives (the contract itself shows the
schedule as priced).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from lendflow.domain.errors import BadInput
from lendflow.rendering.environment import get_template, render_template
from lendflow.rendering.filters import check_locale
from lendflow.rendering.rendering import MEDIA_TYPES, check_format, default_templates_folder
from lendflow.rendering.views import LenderView, PartyView, ProductView

CAMPAIGN_KINDS = ("education", "waiver-terms")


@dataclass(frozen=True)
class CampaignView:
    """A campaign as customers read it; `example_waiver` is for the product's example loan."""

    code: str
    kind: str  # first_loan_interest_free | referral
    name: str
    starts_on: date
    ends_on: date
    free_days: int
    reward: int
    example_waiver: int


@dataclass(frozen=True)
class EducationView:
    product: ProductView
    lender: LenderView
    as_of: date
    apr_cap: Decimal
    campaigns: tuple[CampaignView, ...]


@dataclass(frozen=True)
class WaiverRow:
    n: int
    due_date: date
    interest: int
    waived: int

    @property
    def payable(self) -> int:
        return self.interest - self.waived


@dataclass(frozen=True)
class WaiverTermsView:
    """What a first-loan promotion waives on one loan, as a supplement to its contract."""

    contract_number: str
    loan_id: int
    product_name: str
    campaign_name: str
    free_days: int
    disbursed_on: date
    rows: tuple[WaiverRow, ...]
    total_waived: int
    lender: LenderView
    borrower: PartyView


def render_campaign_document(
    kind: str,
    view: Any,
    *,
    locale: str,
    fmt: str = "html",
    templates: Path | None = None,
) -> bytes:
    """Markdown, HTML or PDF bytes of a launch document."""
    if kind not in CAMPAIGN_KINDS:
        raise BadInput(f"unknown launch document {kind!r} (choose {', '.join(CAMPAIGN_KINDS)})")
    check_locale(locale)
    check_format(fmt)
    folder = templates if templates is not None else default_templates_folder()
    template = get_template(f"{locale}/{kind}.{'md' if fmt == 'md' else 'html'}.j2", folder)
    values = {f.name: getattr(view, f.name) for f in fields(view)}
    text = render_template(template, {**values, "locale": locale})
    if fmt == "pdf":
        from lendflow.rendering.pdf import html_to_pdf

        return html_to_pdf(text)
    return text.encode("utf-8")


def media_type(fmt: str) -> str:
    return MEDIA_TYPES[check_format(fmt)]

"""What each kind of document must contain, and the check that it does.

The rules behind it: the APR shown and labelled by its basis (PBOC 公告〔2021〕
第3号; a contract and a risk disclosure state it per repayment period and over the
actual dates of each payment), a contract's type, currency, purpose, amount, rate,
term and repayment method (Civil Code art. 668) with terms of major interest drawn to attention,
and risk warnings on every financial service (Consumer Protection Law art. 28).

Each item is checked twice: the view must hold the data (a product without
penalty terms cannot make a contract), and the rendered document must show it —
its section marker (`data-content="key"` in HTML, `<!-- content: key -->` in
Markdown) and the figures themselves — so a lender's own template cannot drop
a clause unnoticed. Problems come back as a list: every one is named at once.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lendflow.domain.errors import Refused
from lendflow.rendering.filters import capitals, long_date, money, percent

BASIS_LABEL = {"zh-CN": "复利", "en": "compound"}
ACTUAL_DATES_LABEL = {"zh-CN": "XIRR，一年按365天", "en": "XIRR, 365-day year"}


class Lacking(Exception):
    """The view has nothing to show for an item; the reason names why."""


class MissingContents(Refused):
    """A document lacks contents its kind must have; `missing` names each one."""

    def __init__(self, kind: str, missing: list[str]) -> None:
        self.kind = kind
        self.missing = list(missing)
        super().__init__(f"{kind} cannot be issued: missing {'; '.join(self.missing)}")


Needles = Callable[[Any, str], tuple[str, ...]]


def _none(view: Any, locale: str) -> tuple[str, ...]:
    return ()


@dataclass(frozen=True)
class Content:
    key: str
    label: str
    shows: Needles = _none


def _schedule(schedule: Any, locale: str) -> tuple[str, ...]:
    out: list[str] = []
    for row in schedule.instalments:
        out += [long_date(row.due_date, locale), money(row.total)]
    return tuple(out)


def _fees(fees: Any) -> tuple[str, ...]:
    return tuple(f.name for f in fees)


def _penalty(penalty: Any, what: str) -> tuple[str, ...]:
    if penalty is None:
        raise Lacking(f"{what} declares no penalty interest")
    return (percent(penalty.annual_rate), percent(penalty.cap), percent(penalty.all_in_cap))


def _apr(apr: Any, locale: str) -> tuple[str, ...]:
    return (
        percent(apr.compound),
        percent(apr.simple),
        percent(apr.actual_dates),
        BASIS_LABEL[locale],
        ACTUAL_DATES_LABEL[locale],
    )


def _product(view: Any) -> str:
    return f"product {view.product.code}"


BROCHURE = (
    Content("product", "product name", lambda v, loc: (v.product.name,)),
    Content(
        "apr",
        "APR with its basis",
        lambda v, loc: (
            percent(v.product.apr_lowest),
            percent(v.product.apr_highest),
            BASIS_LABEL[loc],
        ),
    ),
    Content("eligibility", "who it is for"),
    Content(
        "amounts",
        "amounts",
        lambda v, loc: (money(v.product.amount_min), money(v.product.amount_max)),
    ),
    Content("terms", "terms"),
    Content("fees", "fees", lambda v, loc: _fees(v.product.fees)),
    Content("repayment", "repayment method"),
    Content("schedule", "example schedule", lambda v, loc: _schedule(v.product.example, loc)),
    Content("apply", "how to apply", lambda v, loc: v.lender.apply_channels),
    Content("complaints", "complaints channel", lambda v, loc: (v.lender.complaints,)),
)

CONTRACT = (
    Content(
        "parties",
        "parties",
        lambda v, loc: (v.lender.name,) + ((v.borrower.name,) if v.borrower else ()),
    ),
    Content("amount", "amount in figures", lambda v, loc: (money(v.schedule.principal),)),
    Content("capitals", "amount in capitals", lambda v, loc: (capitals(v.schedule.principal),)),
    Content("purpose", "purpose"),
    Content("term", "term", lambda v, loc: (long_date(v.schedule.maturity, loc),)),
    Content(
        "apr",
        "rate and APR with its basis",
        lambda v, loc: (percent(v.schedule.annual_rate), *_apr(v.schedule.apr, loc)),
    ),
    Content("repayment", "repayment method"),
    Content("schedule", "repayment schedule", lambda v, loc: _schedule(v.schedule, loc)),
    Content("fees", "fees", lambda v, loc: _fees(v.fees)),
    Content("penalty", "penalty terms", lambda v, loc: _penalty(v.penalty, _product(v))),
    Content("early-repayment", "early repayment"),
    Content("default", "default and collection conduct"),
    Content("personal-data", "personal-data authorisation"),
    Content("dispute", "dispute resolution", lambda v, loc: (v.lender.dispute_resolution,)),
    Content("major-terms", "terms of major interest highlighted"),
    Content("signatures", "signature block"),
)

RISK_DISCLOSURE = (
    Content(
        "apr",
        "APR and total cost",
        lambda v, loc: (
            *_apr(v.product.example.apr, loc),
            money(v.product.example.total_cost),
        ),
    ),
    Content("fees", "every fee", lambda v, loc: _fees(v.product.fees)),
    Content(
        "overdue", "overdue consequences", lambda v, loc: _penalty(v.product.penalty, _product(v))
    ),
    Content("credit-reporting", "credit reporting"),
    Content(
        "collection",
        "collection conduct",
        lambda v, loc: (v.collection.hours_start, v.collection.hours_end),
    ),
    Content("early-repayment", "early repayment"),
    Content("over-borrowing", "over-borrowing warning"),
    Content("fraud", "fraud warning"),
    Content("complaints", "complaints channel", lambda v, loc: (v.lender.complaints,)),
)

OVERDUE_NOTICE = (
    Content("borrower", "borrower", lambda v, loc: (v.borrower.name,)),
    Content(
        "overdue",
        "amount overdue",
        lambda v, loc: (money(v.total), str(v.dpd), long_date(v.overdue_since, loc)),
    ),
    Content("penalty", "penalty interest", lambda v, loc: _penalty(v.penalty_terms, "the loan")),
    Content("how-to-pay", "how to pay"),
    Content("consequences", "consequences of not paying"),
    Content("dispute", "the right to dispute the amount and the credit record"),
    Content("complaints", "complaints channel", lambda v, loc: (v.lender.complaints,)),
)

ACCELERATION_NOTICE = (
    Content("borrower", "borrower", lambda v, loc: (v.borrower.name,)),
    Content(
        "accelerated",
        "the whole loan declared due",
        lambda v, loc: (money(v.total), str(v.dpd), long_date(v.as_of, loc)),
    ),
    Content("penalty", "penalty interest", lambda v, loc: _penalty(v.penalty_terms, "the loan")),
    Content("how-to-pay", "how to pay"),
    Content("dispute", "the right to dispute the amount and the credit record"),
    Content("complaints", "complaints channel", lambda v, loc: (v.lender.complaints,)),
)

CONTRACT_SUPPLEMENT = (
    Content("borrower", "borrower", lambda v, loc: (v.borrower.name,)),
    Content(
        "prepayment",
        "the principal prepaid and its date",
        lambda v, loc: (money(v.amount), long_date(v.as_of, loc), money(v.principal_after)),
    ),
    Content(
        "recalculation",
        "interest recalculated for the time used",
        lambda v, loc: (money(v.interest_before), money(v.interest_after)),
    ),
    Content(
        "schedule",
        "the new repayment schedule",
        lambda v, loc: tuple(money(row.total) for row in v.schedule),
    ),
    Content("complaints", "complaints channel", lambda v, loc: (v.lender.complaints,)),
)

REPORT = (
    Content("title", "title", lambda v, loc: (v.title,)),
    Content("sections", "sections", lambda v, loc: tuple(s.heading for s in v.sections)),
)

REQUIRED: dict[str, tuple[Content, ...]] = {
    "brochure": BROCHURE,
    "contract": CONTRACT,
    "risk-disclosure": RISK_DISCLOSURE,
    "overdue-notice": OVERDUE_NOTICE,
    "acceleration-notice": ACCELERATION_NOTICE,
    "contract-supplement": CONTRACT_SUPPLEMENT,
    "report": REPORT,
}


def lacking_in_view(kind: str, view: Any, locale: str) -> list[str]:
    """Items the view has nothing for, each with the reason."""
    found = []
    for item in REQUIRED[kind]:
        try:
            item.shows(view, locale)
        except Lacking as reason:
            found.append(f"{item.label} ({reason})")
    return found


def missing_in_output(kind: str, view: Any, text: str, fmt: str, locale: str) -> list[str]:
    """Items the rendered Markdown or HTML does not show, with what is not there."""
    plain = _plain(text, fmt)
    found = []
    for item in REQUIRED[kind]:
        marker = f'data-content="{item.key}"' if fmt == "html" else f"<!-- content: {item.key} -->"
        if marker not in text:
            found.append(f"{item.label} (no section marked {item.key!r} in the template)")
            continue
        absent = [n for n in item.shows(view, locale) if _squash(n) not in plain]
        if absent:
            found.append(f"{item.label} (does not show {absent[0]!r})")
    return found


_TAG = re.compile(r"<[^>]*>")
_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]<>|#~])")


def _plain(text: str, fmt: str) -> str:
    """The text a reader sees: tags dropped and entities decoded, or Markdown escapes undone."""
    if fmt == "html":
        return _squash(html.unescape(_TAG.sub(" ", text)))
    return _squash(_MD_ESCAPE.sub(r"\1", text))


def _squash(text: str) -> str:
    r"""Each run of whitespace as one space, as `re.sub(r"\s+", " ", text)` makes it (a
    property test holds the two equal). Through `str.split`, which knows the same
    whitespace: over a 4 KB notice's text the regular expression took some 80 µs, half of
    the whole check and four times this."""
    inner = " ".join(text.split())
    if not inner:
        return " " if text else ""
    return (" " if text[0].isspace() else "") + inner + (" " if text[-1].isspace() else "")

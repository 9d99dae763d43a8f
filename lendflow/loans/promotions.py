"""Campaigns in the loan engine: first-loan interest-free days and referral rewards.

A launch's campaigns (stored by the launch stage) apply to the loans of their
product version once that launch has passed its gate, to loans paid out from
the campaign's start to its end date, while its budget lasts:

- first-loan interest-free days (首单免息): a customer's first loan with the
  lender has the interest of its first N days waived (domain.promotions). The
  waiver is written on the instalments (`interest_waived`) before they are
  stored, so every later step (close of business, repayments, payoff quotes)
  charges only what is left; the contract keeps the schedule as priced and a
  supplement (waiver terms) states the waiver instalment by instalment.
- referral rewards (推荐奖励): when a customer's first loan is paid out and its
  application named a referrer, the referrer is paid the campaign's reward.

Both are marketing expense. The waiver is booked when the loan is made: the
campaign bears the interest the borrower will not pay (debit marketing expense,
credit interest income), so the product's interest income stays what the
schedule priced and the campaign's cost is visible; the reward is paid from the
settlement account (debit marketing expense, credit cash). A campaign's budget
is spent award by award under a condition in the same statement, so two
disbursements at once can never overspend it: an award that does not fit what
is left is not given (never a part of one), and the campaign stops applying.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from lendflow.access.permissions import Actor
from lendflow.customers import registry as customers
from lendflow.customers.views import opened
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.domain.identity import validate_national_id
from lendflow.domain.ledger import Account, EntryDraft
from lendflow.domain.money import format_fen
from lendflow.domain.promotions import ScheduledInterest, interest_free_waivers
from lendflow.loans.records import loan_event
from lendflow.store import campaigns as campaign_store
from lendflow.store import journal
from lendflow.store import promotions as promotion_store
from lendflow.store.campaigns import CampaignRule
from lendflow.store.uow import UnitOfWork

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace

FIRST_LOAN = "first_loan_interest_free"
REFERRAL = "referral"
_CUSTOMER_NUMBER = re.compile(r"^[0-9]{1,10}$")


@dataclass
class Promotion:
    """What applies to one loan at its disbursement, before it is booked."""

    waiver: CampaignRule | None = None
    waivers: dict[int, int] = field(default_factory=dict)  # instalment number -> fen waived
    waived_rows: list[ScheduledInterest] = field(default_factory=list)  # as the contract prices
    reward: CampaignRule | None = None
    referrer_id: int | None = None

    @property
    def waived(self) -> int:
        return sum(self.waivers.values())


def campaign_rules(uow: UnitOfWork, version_id: int) -> tuple[CampaignRule, ...]:
    """The campaigns of the launch that took `version_id` live (none for other versions)."""
    return campaign_store.launched(uow, version_id)


def _first_loan(uow: UnitOfWork, loan: dict[str, Any]) -> bool:
    """No other loan of the customer has ever been paid out."""
    return not promotion_store.other_loan_paid_out(uow, loan)


def _spend(uow: UnitOfWork, rule: CampaignRule, amount: int) -> bool:
    """Take `amount` from the campaign's budget if it fits, in one conditional statement."""
    return campaign_store.spend(uow, rule.id, amount)


def apply_to_schedule(
    uow: UnitOfWork,
    loan: dict[str, Any],
    rows: list[dict[str, Any]],
    as_of: date,
    priced_on: dict[int, date] | None = None,
) -> Promotion | None:
    """Decide the loan's promotions at its payout on `as_of` and write any waiver on the
    instalment rows about to be stored; their budgets are taken now, in this transaction.
    A waiver shares out each period's interest over the days it was priced on
    (`priced_on`, the due dates before a move to a working day): moving a due date
    charges no more interest, so it waives no less."""
    running = [r for r in campaign_rules(uow, loan["product_version_id"]) if r.runs_on(as_of)]
    if not running or not _first_loan(uow, loan):
        return None
    promotion = Promotion()
    dues = priced_on or {}
    scheduled = [
        ScheduledInterest(r["n"], dues.get(r["n"], r["due_date"]), r["interest"])
        for r in rows
        if r["n"]
    ]
    # The most generous waiver that still fits its budget.
    offers = sorted(
        (r for r in running if r.kind == FIRST_LOAN),
        key=lambda r: (-(r.free_days or 0), r.id),
    )
    for rule in offers:
        waivers = interest_free_waivers(as_of, scheduled, rule.free_days or 0)
        total = sum(waivers.values())
        if total and _spend(uow, rule, total):
            promotion.waiver, promotion.waivers = rule, waivers
            due_on = {r["n"]: r["due_date"] for r in rows}  # as the schedule shows them
            promotion.waived_rows = [
                ScheduledInterest(s.n, due_on[s.n], s.interest) for s in scheduled if s.n in waivers
            ]
            for row in rows:
                row["interest_waived"] = waivers.get(row["n"], 0)
            break
    referrer = promotion_store.referrer_of(uow, loan["id"])
    if referrer is not None:
        for rule in (r for r in running if r.kind == REFERRAL):
            if rule.reward and _spend(uow, rule, rule.reward):
                promotion.reward, promotion.referrer_id = rule, int(referrer)
                break
    if promotion.waiver is None and promotion.reward is None:
        return None
    return promotion


def book(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan: dict[str, Any],
    promotion: Promotion | None,
    as_of: date,
) -> dict[str, Any] | None:
    """Post what the promotions cost, record the awards and events, keep the waiver terms."""
    if promotion is None:
        return None
    booked: dict[str, Any] = {}
    if promotion.waiver is not None:
        booked.update(_book_waiver(ws, uow, actor, loan, promotion, as_of))
    if promotion.reward is not None and promotion.referrer_id is not None:
        booked.update(_book_reward(uow, actor, loan, promotion, as_of))
    return booked


def _book_waiver(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan: dict[str, Any],
    promotion: Promotion,
    as_of: date,
) -> dict[str, Any]:
    """The interest-free days: a marketing expense that pays the waived interest."""
    assert promotion.waiver is not None
    rule, amount = promotion.waiver, promotion.waived
    memo = f"campaign {rule.code}: {rule.free_days} days interest-free"
    entry = _post_cost(
        uow, actor, loan, rule, "interest_waiver", Account.INTEREST_INCOME, amount, memo, as_of
    )
    _award(uow, rule, loan["id"], loan["customer_id"], "interest_waiver", amount, as_of, entry)
    loan_event(
        uow,
        loan,
        "InterestWaived",
        actor,
        as_of,
        {
            "campaign": rule.code,
            "free_days": rule.free_days,
            "amount": amount,
            "instalments": {str(n): w for n, w in sorted(promotion.waivers.items())},
        },
    )
    return {
        "interest_waived": format_fen(amount),
        "waiver_campaign": rule.code,
        "waiver_terms": _store_waiver_terms(ws, uow, actor, loan, promotion, as_of),
    }


def _book_reward(
    uow: UnitOfWork, actor: Actor, loan: dict[str, Any], promotion: Promotion, as_of: date
) -> dict[str, Any]:
    """The referrer's reward, paid out in cash as a marketing expense."""
    assert promotion.reward is not None and promotion.referrer_id is not None
    rule, amount = promotion.reward, promotion.reward.reward or 0
    memo = f"campaign {rule.code}: reward to customer {promotion.referrer_id}"
    entry = _post_cost(uow, actor, loan, rule, "referral_reward", Account.CASH, amount, memo, as_of)
    _award(uow, rule, loan["id"], promotion.referrer_id, "referral_reward", amount, as_of, entry)
    loan_event(
        uow,
        loan,
        "ReferralRewarded",
        actor,
        as_of,
        {"campaign": rule.code, "referrer_id": promotion.referrer_id, "amount": amount},
    )
    return {"referral_reward": format_fen(amount), "referrer_id": promotion.referrer_id}


def _post_cost(
    uow: UnitOfWork,
    actor: Actor,
    loan: dict[str, Any],
    rule: CampaignRule,
    kind: str,
    credit: Account,
    amount: int,
    memo: str,
    as_of: date,
) -> int:
    """A campaign's cost as a marketing expense, once per campaign and loan (keyed)."""
    return journal.post(
        uow,
        kind=kind,
        lines=EntryDraft(kind)
        .debit(Account.MARKETING_EXPENSE, amount)
        .credit(credit, amount)
        .lines(),
        business_date=as_of,
        actor=actor.name,
        loan_id=loan["id"],
        idempotency_key=f"promotion:{rule.id}:{loan['id']}",
        memo=memo,
    )


def _award(
    uow: UnitOfWork,
    rule: CampaignRule,
    loan_id: int,
    customer_id: int,
    kind: str,
    amount: int,
    as_of: date,
    entry_id: int,
) -> None:
    campaign_store.add_award(
        uow,
        {
            "campaign_id": rule.id,
            "loan_id": loan_id,
            "customer_id": customer_id,
            "kind": kind,
            "amount": amount,
            "business_date": as_of,
            "entry_id": entry_id,
        },
    )


def _store_waiver_terms(
    ws: Workspace,
    uow: UnitOfWork,
    actor: Actor,
    loan: dict[str, Any],
    promotion: Promotion,
    as_of: date,
) -> str:
    """Render the supplement to the contract that states the waiver, and keep it sealed."""
    from lendflow.documents.issuing import RenderedDocument, store
    from lendflow.products.catalogue import spec_for
    from lendflow.rendering.campaigns import (
        WaiverRow,
        WaiverTermsView,
        media_type,
        render_campaign_document,
    )
    from lendflow.rendering.lender import lender_view
    from lendflow.rendering.product_views import contract_number
    from lendflow.rendering.views import PartyView

    assert promotion.waiver is not None
    locale = ws.settings.locale
    rule, spec = promotion.waiver, spec_for(uow, loan)
    person = customers.get(uow, loan["customer_id"])
    rows = tuple(
        WaiverRow(n=s.n, due_date=s.due_date, interest=s.interest, waived=promotion.waivers[s.n])
        for s in promotion.waived_rows
    )
    view = WaiverTermsView(
        contract_number=contract_number(loan["id"]),
        loan_id=loan["id"],
        product_name=spec.name.en if locale == "en" else spec.name.zh_CN,
        campaign_name=rule.name_en if locale == "en" else rule.name_zh,
        free_days=rule.free_days or 0,
        disbursed_on=as_of,
        rows=rows,
        total_waived=promotion.waived,
        lender=lender_view(locale, ws.settings.templates),
        borrower=PartyView(
            **dict(zip(("name", "national_id", "phone"), opened(person, ws.cipher), strict=True))
        ),
    )
    content = render_campaign_document(
        "waiver-terms", view, locale=locale, fmt="html", templates=ws.settings.templates
    )
    document = RenderedDocument("waiver-terms", locale, "html", media_type("html"), content)
    return str(store(ws, uow, loan, document, actor, as_of)["sha256"])


def referrer_reference(raw: object) -> str | None:
    """An application's referrer as given: a customer number, or a national ID (checked)."""
    if raw is None or not str(raw).strip():
        return None
    text = str(raw).strip()
    if _CUSTOMER_NUMBER.match(text):
        return text
    try:
        return validate_national_id(text)
    except BadInput as exc:
        raise BadInput(
            f"referrer must be a customer number or a national ID: {exc.message}"
        ) from None


def record_referral(ws: Workspace, uow: UnitOfWork, loan: dict[str, Any], referrer: str) -> int:
    """Keep who referred this application: a customer, named by customer number or
    national ID. Refused for someone who is not a customer, or the applicant themself."""
    if _CUSTOMER_NUMBER.match(referrer):
        try:
            found = customers.get(uow, int(referrer))
        except NotFound:
            raise NotFound(f"referrer: there is no customer {referrer}") from None
    else:
        id_hash = ws.cipher.lookup_hash(validate_national_id(referrer), "national_id")
        customer_id = promotion_store.customer_id_by_id_hash(uow, id_hash)
        if customer_id is None:
            raise NotFound("referrer: nobody with that national ID is a customer")
        found = {"id": customer_id}
    if int(found["id"]) == loan["customer_id"]:
        raise Refused("referrer: an applicant cannot refer themself")
    promotion_store.add_referral(uow, loan["id"], int(found["id"]))
    return int(found["id"])

"""Who may not borrow, and how much one borrower or a group may owe: students refused
consumer loans, age on the last due date, a share of the lender's net assets, related
parties counted together. Every refusal names its rule and changes nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from lendflow.config.policy import Concentration, Exclusions, load_policy
from lendflow.config.product_spec import example_product_paths, load_product, policy_problems
from lendflow.customers.keys import rotate_key
from lendflow.customers.related import group_members, relate
from lendflow.domain.errors import BadInput, Refused
from lendflow.domain.identity import sample_national_id
from lendflow.loans import applications
from lendflow.workspace.context import Workspace
from tests.service.test_engine_applications import APPLIED, Applicant, refused_quietly

NET_ASSETS = Concentration(net_assets="1000000.00", net_assets_on=date(2026, 6, 30))


def use_policy(ws: Workspace, **changes: object) -> None:
    ws.__dict__["policy"] = ws.policy.model_copy(update=changes)


def test_a_student_is_refused_a_consumer_loan_with_the_rule_named(
    ws: Workspace, applicant: Applicant
) -> None:
    ops = ws.actor("ops")
    student = replace(applicant(born=date(2005, 3, 1)), employment="student")
    refused_quietly(
        ws,
        Refused,
        "refused by rule EMPLOYMENT_EXCLUDED: student applicants may not borrow consumer loans"
        " (cash-easy)",
        lambda: applications.apply(ws, ops, student, APPLIED),
    )
    salaried = replace(applicant(born=date(2005, 3, 1)), employment="salaried")
    assert applications.apply(ws, ops, salaried, APPLIED).status == "submitted"


def test_age_is_checked_on_the_last_due_date_too(ws: Workspace, applicant: Applicant) -> None:
    use_policy(ws, exclusions=Exclusions(max_age_at_maturity=55))
    ops = ws.actor("ops")
    born = date(1970, 6, 1)  # 55 when applying on 2026-01-10, 56 a year later
    refused_quietly(
        ws,
        Refused,
        "refused by rule AGE_AT_MATURITY: the applicant would be 56 when the loan matures on"
        " 2027-01-10; the policy lends to 55 at most",
        lambda: applications.apply(ws, ops, applicant(born=born, term=12), APPLIED),
    )
    assert applications.apply(ws, ops, applicant(born=born, term=3), APPLIED).status == "submitted"


def test_one_borrower_may_owe_at_most_a_share_of_net_assets(
    ws: Workspace, applicant: Applicant
) -> None:
    use_policy(ws, concentration=NET_ASSETS)  # 10% of 1,000,000.00 is 100,000.00
    ops = ws.actor("ops")
    applications.apply(
        ws, ops, applicant(serial=31, product="sme-growth", amount="100000"), APPLIED
    )
    refused_quietly(
        ws,
        Refused,
        "refused by rule SINGLE_BORROWER_CAP: exposure 101000.00 would pass 100000.00"
        " (10% of net assets 1000000.00 on 2026-06-30)",
        lambda: applications.apply(ws, ops, applicant(serial=31, amount="1000"), APPLIED),
    )


def test_related_parties_count_together_even_after_a_key_rotation(
    ws: Workspace, applicant: Applicant
) -> None:
    use_policy(ws, concentration=NET_ASSETS)  # 15% of 1,000,000.00 is 150,000.00
    ops, risk = ws.actor("ops"), ws.actor("risk")
    wife = sample_national_id(date(1990, 5, 17), 41)
    husband = sample_national_id(date(1990, 5, 17), 42)
    for person in (wife, husband):
        relate(ws, risk, "ZHANG-FAMILY", person, APPLIED)
    applications.apply(
        ws, ops, applicant(serial=41, product="sme-growth", amount="100000"), APPLIED
    )
    refused_quietly(
        ws,
        Refused,
        "refused by rule RELATED_PARTY_CAP: related-party group ZHANG-FAMILY would owe 160000.00,"
        " over 150000.00 (15% of net assets 1000000.00 on 2026-06-30)",
        lambda: applications.apply(
            ws, ops, applicant(serial=42, product="sme-growth", amount="60000"), APPLIED
        ),
    )
    rotate_key(ws, ws.actor("admin"), APPLIED)
    with pytest.raises(Refused, match="RELATED_PARTY_CAP"):
        applications.apply(
            ws, ops, applicant(serial=42, product="sme-growth", amount="60000"), APPLIED
        )
    shown = applications.apply(
        ws, ops, applicant(serial=42, product="sme-growth", amount="50000"), APPLIED
    )
    assert shown.status == "submitted"
    members = group_members(ws, risk, "ZHANG-FAMILY")
    assert sorted(m.national_id for m in members) == sorted([wife, husband])
    masked = group_members(ws, ops, "ZHANG-FAMILY")
    assert all(wife not in m.national_id and "*" in m.national_id for m in masked)


def test_related_party_input_is_checked_in_one_line(ws: Workspace) -> None:
    risk = ws.actor("risk")
    with pytest.raises(BadInput, match="group must be a code"):
        relate(ws, risk, "bad group!", sample_national_id(date(1990, 5, 17), 43), APPLIED)
    person = sample_national_id(date(1990, 5, 17), 44)
    relate(ws, risk, "G1", person, APPLIED)
    with pytest.raises(Refused, match="in related-party group G1 already"):
        relate(ws, risk, "G1", person, APPLIED)


def test_a_product_lending_more_than_one_borrower_may_owe_is_refused() -> None:
    cash_easy = next(p for p in example_product_paths() if p.name == "cash-easy.yaml")
    spec = load_product(cash_easy)
    policy = load_policy().model_copy(update={"concentration": NET_ASSETS})
    too_big = spec.model_copy(update={"amount": spec.amount.model_copy(update={"max": 15_000_000})})
    problems = policy_problems(too_big, policy, "cash-easy.yaml")
    assert (
        "cash-easy.yaml: amount.max: 150000.00 exceeds what one borrower may owe for consumer"
        in problems[-1]
    )
    assert not policy_problems(spec, policy, "cash-easy.yaml")

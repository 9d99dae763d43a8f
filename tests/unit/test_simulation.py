"""The simulated population: deterministic for a seed, within the product's offer."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from lendflow.demo.simulation import person_name, survey_people
from lendflow.domain.simulation import (
    BEHAVIOUR_BY_GRADE,
    Behaviour,
    Offer,
    business_days,
    draw_applicants,
    payment_day,
    plan_for,
)

SURVEY = Path(__file__).parents[2] / "lendflow" / "config" / "samples" / "survey.csv"
OFFER = Offer(500_000, 1_800_000, 50_000, (6, 12, 18, 24), ("rent_deposit", "medical"))
DAYS = business_days(date(2026, 1, 5), date(2026, 3, 31))


def test_the_same_seed_draws_the_same_applicants_inside_the_offer() -> None:
    people = survey_people(SURVEY)
    first = draw_applicants(people, OFFER, DAYS, 300, random.Random(11))
    again = draw_applicants(people, OFFER, DAYS, 300, random.Random(11))
    other = draw_applicants(people, OFFER, DAYS, 300, random.Random(12))
    assert first == again and first != other
    for a in first:
        assert OFFER.minimum <= a.amount <= OFFER.maximum
        assert (a.amount - OFFER.minimum) % OFFER.step == 0
        assert a.term in OFFER.terms and a.purpose in OFFER.purposes
        assert a.applies_on in DAYS and a.applies_on.weekday() < 5
    assert [a.applies_on for a in first] == sorted(a.applies_on for a in first)


def test_target_segments_only() -> None:
    people = survey_people(SURVEY)
    drawn = draw_applicants(people, OFFER, DAYS, 100, random.Random(1), ["gig_workers"])
    assert {a.segment for a in drawn} == {"gig_workers"}


def test_behaviour_shares_are_per_mille() -> None:
    assert all(sum(shares.values()) == 1000 for shares in BEHAVIOUR_BY_GRADE.values())


@given(st.sampled_from(["A", "B", "C", "D", "E", None]), st.integers(1, 36), st.integers(0, 999))
def test_plans_stay_within_the_loan(grade: str | None, instalments: int, seed: int) -> None:
    plan = plan_for(grade, instalments, random.Random(seed))
    due = date(2026, 5, 10)
    if plan.behaviour is Behaviour.DEFAULT:
        assert plan.stops_after < max(1, instalments)
        assert payment_day(plan, plan.stops_after + 1, due) is None
    if plan.behaviour is Behaviour.LATE_THEN_CURED:
        assert 1 <= plan.late_instalment <= instalments
        assert payment_day(plan, plan.late_instalment, due) > due  # type: ignore[operator]
    if plan.behaviour is Behaviour.EARLY_PAYOFF:
        assert 1 <= plan.payoff_after < instalments


def test_names_are_plausible_and_stable() -> None:
    assert person_name(0) == person_name(0)
    assert 2 <= len(person_name(5)) <= 3

"""A simulated loan book: applicants drawn from survey segments, and how borrowers repay.

Everything is drawn from one seeded generator, so the same seed gives the same
applicants, decisions and repayments, and so the same report. Borrowers behave
by risk grade: most pay on time, some pay one instalment late and catch up,
some stop paying, some settle early. The shares are assumptions of the
simulation, not of the lender; they make the monitoring figures move.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from lendflow.domain.research import SurveyResponse

EMPLOYMENT_BY_SEGMENT: dict[str, tuple[str, ...]] = {
    "gig_workers": ("freelance", "self_employed", "freelance", "salaried"),
    "new_citizens": ("salaried", "salaried", "freelance", "self_employed"),
    "recent_graduates": ("salaried", "salaried", "student", "freelance"),
    "small_merchants": ("business_owner", "self_employed", "business_owner"),
    "urban_white_collar": ("salaried", "salaried", "civil_servant", "salaried"),
}


class Behaviour(StrEnum):
    ON_TIME = "on_time"
    LATE_THEN_CURED = "late_then_cured"
    DEFAULT = "default"
    EARLY_PAYOFF = "early_payoff"


# Share of borrowers of each grade by behaviour, in per mille (sums to 1,000 per grade).
BEHAVIOUR_BY_GRADE: dict[str, dict[Behaviour, int]] = {
    "A": {Behaviour.ON_TIME: 860, Behaviour.LATE_THEN_CURED: 50, Behaviour.DEFAULT: 15,
          Behaviour.EARLY_PAYOFF: 75},
    "B": {Behaviour.ON_TIME: 800, Behaviour.LATE_THEN_CURED: 90, Behaviour.DEFAULT: 35,
          Behaviour.EARLY_PAYOFF: 75},
    "C": {Behaviour.ON_TIME: 720, Behaviour.LATE_THEN_CURED: 140, Behaviour.DEFAULT: 70,
          Behaviour.EARLY_PAYOFF: 70},
    "D": {Behaviour.ON_TIME: 620, Behaviour.LATE_THEN_CURED: 180, Behaviour.DEFAULT: 140,
          Behaviour.EARLY_PAYOFF: 60},
    "E": {Behaviour.ON_TIME: 520, Behaviour.LATE_THEN_CURED: 200, Behaviour.DEFAULT: 230,
          Behaviour.EARLY_PAYOFF: 50},
}  # fmt: skip
UNGRADED = "D"


@dataclass(frozen=True, slots=True)
class Offer:
    """What the product lends: amounts on a grid, terms, purposes."""

    minimum: int
    maximum: int
    step: int
    terms: tuple[int, ...]
    purposes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SimulatedApplicant:
    serial: int
    applies_on: date
    segment: str
    born: date
    monthly_income: int
    monthly_debt: int
    employment: str
    amount: int
    term: int
    purpose: str


@dataclass(frozen=True, slots=True)
class RepaymentPlan:
    """How one borrower will repay: the behaviour and its parameters."""

    behaviour: Behaviour
    late_instalment: int = 0  # which instalment is paid late (1-based)
    days_late: int = 0
    stops_after: int = 0  # instalments paid before defaulting
    payoff_after: int = 0  # instalments paid before settling in full


def business_days(first: date, last: date) -> list[date]:
    """Monday to Friday from `first` to `last` (the simulation ignores public holidays)."""
    days = []
    d = first
    while d <= last:
        if d.weekday() < 5:
            days.append(d)
        d += timedelta(days=1)
    return days


def nearest_term(wanted: int, terms: Sequence[int]) -> int:
    return min(terms, key=lambda t: (abs(t - wanted), t))


def on_grid(amount: int, offer: Offer) -> int:
    clipped = max(offer.minimum, min(offer.maximum, amount))
    return offer.minimum + (clipped - offer.minimum) // offer.step * offer.step


def draw_applicants(
    people: Sequence[SurveyResponse],
    offer: Offer,
    days: Sequence[date],
    count: int,
    rng: random.Random,
    segments: Sequence[str] | None = None,
) -> list[SimulatedApplicant]:
    """`count` applicants spread over `days`, each a survey respondent of the target
    segments with income and amount varied by up to a fifth."""
    pool = [p for p in people if not segments or p.segment in segments] or list(people)
    out = []
    for serial in range(count):
        person = rng.choice(pool)
        day = days[min(len(days) - 1, int(len(days) * serial / count))]
        income = person.monthly_income * rng.randint(80, 120) // 100
        amount = on_grid(person.desired_amount * rng.randint(80, 120) // 100, offer)
        purpose = person.purpose if person.purpose in offer.purposes else offer.purposes[0]
        employment = rng.choice(EMPLOYMENT_BY_SEGMENT.get(person.segment, ("salaried",)))
        born = date(day.year - person.age, 1 + rng.randrange(12), 1 + rng.randrange(28))
        out.append(
            SimulatedApplicant(
                serial=serial,
                applies_on=day,
                segment=person.segment,
                born=born,
                monthly_income=max(income, 100_000),
                monthly_debt=person.existing_debt_payment,
                employment=employment,
                amount=amount,
                term=nearest_term(person.desired_term, offer.terms),
                purpose=purpose,
            )
        )
    return out


def plan_for(grade: str | None, instalments: int, rng: random.Random) -> RepaymentPlan:
    """Draw a borrower's behaviour from the shares of their risk grade."""
    shares: Mapping[Behaviour, int] = BEHAVIOUR_BY_GRADE.get(
        grade or UNGRADED, BEHAVIOUR_BY_GRADE[UNGRADED]
    )
    behaviour = _pick(shares, rng.randrange(1000))
    if behaviour is Behaviour.LATE_THEN_CURED:
        return RepaymentPlan(
            behaviour, late_instalment=1 + rng.randrange(instalments), days_late=rng.randint(5, 75)
        )
    if behaviour is Behaviour.DEFAULT:
        return RepaymentPlan(behaviour, stops_after=rng.randrange(max(1, instalments - 1)))
    if behaviour is Behaviour.EARLY_PAYOFF and instalments > 1:
        return RepaymentPlan(behaviour, payoff_after=1 + rng.randrange(instalments - 1))
    return RepaymentPlan(Behaviour.ON_TIME)


def _pick(shares: Mapping[Behaviour, int], pick: int) -> Behaviour:
    """The behaviour whose per-mille band holds `pick`."""
    for behaviour, share in shares.items():
        if pick < share:
            return behaviour
        pick -= share
    raise ValueError("behaviour shares must sum to 1,000")


def payment_day(plan: RepaymentPlan, n: int, due: date) -> date | None:
    """The day the borrower pays instalment `n` (None: never pays it)."""
    if plan.behaviour is Behaviour.DEFAULT and n > plan.stops_after:
        return None
    if plan.behaviour is Behaviour.LATE_THEN_CURED and n == plan.late_instalment:
        return due + timedelta(days=plan.days_late)
    return due

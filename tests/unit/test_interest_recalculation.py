"""Interest recalculation on a partial prepayment (`domain.recalculation`).

Fineract's progressive schedules after a balance change (tests/unit/data/
fineract_recalculation.yaml, each scenario naming its source) are reproduced to the cent,
then a hand-worked 12-month annuity shows what a prepayment saves under each setting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from fineract import fen
from hypothesis import given, settings
from hypothesis import strategies as st

from lendflow.domain.calendar import DaysInYear
from lendflow.domain.errors import Refused
from lendflow.domain.money import Rounding
from lendflow.domain.recalculation import PrepaymentMethod, recalculate, running_interest
from lendflow.domain.schedule import (
    Amortization,
    InterestMethod,
    ScheduleTerms,
    generate,
    standard_period_rate,
)

DATA = Path(__file__).with_name("data") / "fineract_recalculation.yaml"
SCENARIOS = {s["id"]: s for s in yaml.safe_load(DATA.read_text(encoding="utf-8"))["scenarios"]}


def fineract_terms(raw: dict[str, Any]) -> ScheduleTerms:
    """The progressive calculator's test settings: 360/30, monthly, HALF_EVEN."""
    return ScheduleTerms(
        principal=fen(raw["principal"]),
        annual_rate=Decimal(raw["annual_rate"]),
        repayments=raw["repayments"],
        disbursed=date.fromisoformat(raw["disbursed"]),
        days_in_year=DaysInYear.D360,
        rounding=Rounding.HALF_EVEN,
    )


def rows_of(terms: ScheduleTerms) -> list[tuple[int, date, int, int, int]]:
    return [(i.n, i.due_date, i.principal, i.interest, i.fee) for i in generate(terms).instalments]


def table(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "n": row["n"],
            "due_date": date.fromisoformat(row["due_date"]),
            "emi": fen(row["emi"]),
            "interest": fen(row["interest"]),
            "principal": fen(row["principal"]),
            "balance": fen(row["balance"]),
        }
        for row in scenario["expected"]
    ]


def produced(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    terms = fineract_terms(scenario["terms"])
    rows = rows_of(terms)
    change = scenario.get("change")
    if change is not None:
        rate = change.get("annual_rate")
        after_terms = terms if rate is None else replace(terms, annual_rate=Decimal(rate))
        rows = list(
            recalculate(
                rows,
                date.fromisoformat(change["date"]),
                fen(change["repaid"]),
                PrepaymentMethod.REDUCE_INSTALMENT,
                after_terms,
                terms.disbursed,
            ).rows
        )
    balance = sum(r[2] for r in rows)
    out = []
    for n, due, principal, interest, _ in rows:
        balance -= principal
        out.append(
            {
                "n": n,
                "due_date": due,
                "emi": principal + interest,
                "interest": interest,
                "principal": principal,
                "balance": balance,
            }
        )
    first = scenario["expected"][0]["n"]
    return [row for row in out if row["n"] >= first]


@pytest.mark.parametrize("scenario_id", sorted(SCENARIOS))
def test_recalculated_schedule_matches_fineract(scenario_id: str) -> None:
    scenario = SCENARIOS[scenario_id]
    assert produced(scenario) == table(scenario)


def test_the_running_period_counts_each_balance_for_its_days() -> None:
    # Fineract's rate factors for 14 and 15 of the 29 days of February 2024 at 9.4822%
    # (0.003814678161, 0.004087155172): 83.66 x 0.0038146... + 183.66 x 0.0040871...
    # = 0.31914 + 0.75065 = 1.06978 -> 1.07
    terms = fineract_terms(SCENARIOS["progressive_base_9_4822"]["terms"])
    rate = standard_period_rate(terms)
    got = running_interest(
        8_366, 18_366, rate, date(2024, 2, 1), date(2024, 2, 15), date(2024, 3, 1), terms
    )
    assert got == 107


# --- a hand-worked prepayment ------------------------------------------------------------

# 12,000.00 over 12 months at 12% a year (1% a month), paid out 2027-01-10, equal
# instalments of 12,000.00 x 0.01 x 1.01^12 / (1.01^12 - 1) = 1,066.19. After the sixth
# instalment (2027-07-10) the balance is 6,179.02, and the six instalments left carry
# 61.79 + 51.75 + 41.60 + 31.36 + 21.01 + 10.56 = 218.07 of interest.
HAND = ScheduleTerms(
    principal=1_200_000, annual_rate=Decimal("12"), repayments=12, disbursed=date(2027, 1, 10)
)
SIXTH_DUE = date(2027, 7, 10)


def test_a_prepayment_under_reduce_instalment_lowers_the_interest_by_the_hand_computed_amount() -> (
    None
):
    # 4,000.00 comes back on 07-10: 2,179.02 is re-amortised over the same six months,
    # 2,179.02 x 0.01 x 1.01^6 / (1.01^6 - 1) = 375.99 a month; interest month by month
    # on 2,179.02, 1,824.82, 1,467.08, 1,105.75, 740.86, 372.27:
    # 21.79 + 18.25 + 14.67 + 11.06 + 7.41 + 3.72 = 76.90, so 218.07 - 76.90 = 141.17 less.
    done = recalculate(
        rows_of(HAND), SIXTH_DUE, 400_000, PrepaymentMethod.REDUCE_INSTALMENT, HAND, HAND.disbursed
    )
    assert (done.balance_before, done.balance_after) == (617_902, 217_902)
    assert (done.level_before, done.level_after) == (106_619, 37_599)
    assert [r[3] for r in done.rows[6:]] == [2_179, 1_825, 1_467, 1_106, 741, 372]
    assert (done.interest_before, done.interest_after) == (21_807, 7_690)
    assert done.interest_saved == 14_117
    assert [r[1] for r in done.rows] == [r[1] for r in rows_of(HAND)]  # same due dates
    assert sum(r[2] for r in done.rows[6:]) == 217_902
    assert done.rows[:6] == tuple(rows_of(HAND)[:6])  # what fell due stays as it was


def test_a_prepayment_under_reduce_term_keeps_the_instalment_and_ends_sooner() -> None:
    # The instalment stays 1,066.19 and the balance runs out with the ninth instalment:
    done = recalculate(
        rows_of(HAND), SIXTH_DUE, 400_000, PrepaymentMethod.REDUCE_TERM, HAND, HAND.disbursed
    )
    # 2,179.02 earns 21.79 -> 1,044.40 principal; 1,134.62 earns 11.35 -> 1,054.84;
    # the last 79.78 earns 0.80 and is paid with it on 2027-10-10
    assert [r[2:4] for r in done.rows[6:]] == [(104_440, 2_179), (105_484, 1_135), (7_978, 80)]
    assert done.dropped == (10, 11, 12)
    assert done.interest_after == 3_394 and done.interest_saved == 18_413
    assert done.level_after == done.level_before == 106_619


def test_a_prepayment_in_the_middle_of_a_period_charges_the_old_balance_for_its_days() -> None:
    # On 07-25, 15 of the 31 days of August's period ran on 6,179.02, the other 16 run on
    # 2,179.02: 1% x (6,179.02 x 15 + 2,179.02 x 16) / 31 = 41.1450 -> 41.15
    done = recalculate(
        rows_of(HAND),
        date(2027, 7, 25),
        400_000,
        PrepaymentMethod.REDUCE_INSTALMENT,
        HAND,
        HAND.disbursed,
    )
    assert done.rows[6][3] == 4_115
    assert done.interest_saved == 12_132  # less than on the due date: the days it was used


def test_equal_principal_spreads_the_rest_equally_or_keeps_the_principal_part() -> None:
    terms = replace(HAND, amortization=Amortization.EQUAL_PRINCIPAL)
    rows = rows_of(terms)  # 1,000.00 of principal a month; 6,000.00 left after the sixth
    less = recalculate(
        rows, SIXTH_DUE, 300_000, PrepaymentMethod.REDUCE_INSTALMENT, terms, HAND.disbursed
    )
    assert [r[2] for r in less.rows[6:]] == [50_000] * 6  # 3,000.00 over six months
    shorter = recalculate(
        rows, SIXTH_DUE, 300_000, PrepaymentMethod.REDUCE_TERM, terms, HAND.disbursed
    )
    assert [r[2] for r in shorter.rows[6:]] == [100_000] * 3 and shorter.dropped == (10, 11, 12)


def test_what_is_not_recalculated_is_refused_with_a_reason() -> None:
    rows = rows_of(HAND)
    with pytest.raises(Refused, match="does not recalculate"):
        recalculate(rows, SIXTH_DUE, 100, PrepaymentMethod.NONE, HAND, HAND.disbursed)
    with pytest.raises(Refused, match="that settles the loan"):
        recalculate(rows, SIXTH_DUE, 617_902, PrepaymentMethod.REDUCE_TERM, HAND, HAND.disbursed)
    flat = replace(HAND, interest=InterestMethod.FLAT)
    with pytest.raises(Refused, match="flat"):
        recalculate(rows, SIXTH_DUE, 100, PrepaymentMethod.REDUCE_TERM, flat, HAND.disbursed)
    with pytest.raises(Refused, match="no instalment is left"):
        recalculate(
            rows, date(2028, 1, 10), 100, PrepaymentMethod.REDUCE_TERM, HAND, HAND.disbursed
        )


# --- properties ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    principal=st.integers(100_000, 5_000_000),
    rate=st.decimals(Decimal("0"), Decimal("36"), places=2),
    repayments=st.integers(2, 24),
    paid=st.integers(0, 22),
    day=st.integers(0, 27),
    share=st.integers(1, 99),
    method=st.sampled_from([PrepaymentMethod.REDUCE_INSTALMENT, PrepaymentMethod.REDUCE_TERM]),
)
def test_a_prepayment_never_costs_interest_and_keeps_every_fen_of_principal(
    principal: int,
    rate: Decimal,
    repayments: int,
    paid: int,
    day: int,
    share: int,
    method: PrepaymentMethod,
) -> None:
    terms = ScheduleTerms(
        principal=principal, annual_rate=rate, repayments=repayments, disbursed=date(2027, 1, 10)
    )
    rows = rows_of(terms)
    paid = min(paid, repayments - 1)
    start = rows[paid - 1][1] if paid else terms.disbursed
    on = date.fromordinal(start.toordinal() + day) if day < (rows[paid][1] - start).days else start
    left = sum(r[2] for r in rows if r[1] > on)
    repaid = max(left * share // 100, 1)
    if repaid >= left:
        return
    done = recalculate(rows, on, repaid, method, terms, terms.disbursed)
    ahead = [r for r in done.rows if r[1] > on]
    assert sum(r[2] for r in ahead) == left - repaid
    assert all(r[2] >= 0 and r[3] >= 0 for r in ahead)
    assert done.interest_after <= done.interest_before
    assert [r for r in done.rows if r[1] <= on] == [r for r in rows if r[1] <= on]
    if method is PrepaymentMethod.REDUCE_INSTALMENT:
        assert len(ahead) == len([r for r in rows if r[1] > on]) and not done.dropped
    else:
        assert all(r[2] + r[3] == done.level_before for r in ahead[:-1])

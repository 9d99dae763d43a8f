"""Portfolio indicators over a hand-built book, figured by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.classification import Restructure
from lendflow.domain.kpis import (
    LoanRecord,
    dpd_on,
    first_day_beyond,
    month_ends,
    portfolio,
    roll_rates,
    standing,
    vintages,
)

BUCKETS = [("M0", 0), ("M1", 30), ("M2", 60), ("M3", 90), ("M3+", None)]
CLASSES = [("normal", 0), ("special_mention", 1), ("substandard", 91), ("doubtful", 271),
           ("loss", 361)]  # fmt: skip
ON = date(2026, 6, 30)


def loan(loan_id: int, dues: list[tuple[date, date | None]], **kw: object) -> LoanRecord:
    base: dict[str, object] = {
        "applied_on": date(2026, 1, 5), "decided_on": date(2026, 1, 6), "approved": True,
        "rejected": False, "disbursed_on": date(2026, 1, 10), "principal": 1_000_000,
    }  # fmt: skip
    return LoanRecord(loan_id=loan_id, instalments=tuple(dues), **{**base, **kw})  # type: ignore[arg-type]


BOOK = [
    # current: every due instalment paid on its day
    loan(1, [(date(2026, 6, 10), date(2026, 6, 10)), (date(2026, 7, 10), None)]),
    # 45 days past due: oldest unpaid due 16 May
    loan(2, [(date(2026, 5, 16), None), (date(2026, 6, 16), None)], principal=500_000),
    # 100 days past due: oldest unpaid due 22 March
    loan(3, [(date(2026, 3, 22), None)], principal=300_000),
    # written off in June
    loan(4, [(date(2026, 1, 10), None)], written_off_on=date(2026, 6, 1)),
    # rejected, never disbursed
    loan(5, [], approved=False, rejected=True, disbursed_on=None, principal=0),
    # applied after the date
    loan(6, [], applied_on=date(2026, 7, 1), decided_on=None, approved=False, disbursed_on=None),
]
OUTSTANDING = {1: 1_000_000, 2: 500_000, 3: 300_000, 4: 0}


def standings(on: date = ON) -> dict:
    out = {}
    for record in BOOK:
        found = standing(record, on, OUTSTANDING.get(record.loan_id, 0), 3, BUCKETS, CLASSES)
        if found is not None:
            out[record.loan_id] = found
    return out


def test_days_past_due_buckets_and_classes_by_hand() -> None:
    s = standings()
    assert (s[1].dpd, s[1].bucket, s[1].classification) == (0, "M0", "normal")
    assert (s[2].dpd, s[2].bucket, s[2].classification) == (45, "M2", "special_mention")
    assert (s[3].dpd, s[3].bucket, s[3].classification) == (100, "M3+", "substandard")
    assert s[4].bucket == "written_off"
    assert 5 not in s and 6 not in s


def test_par_and_non_performing_ratio_by_hand() -> None:
    kpis = portfolio(BOOK, standings(), ON)
    # book 10,000 + 5,000 + 3,000 = 18,000 yuan outstanding
    assert kpis["outstanding"] == 1_800_000
    assert kpis["par1"] == Decimal("0.4444")  # (5,000 + 3,000) / 18,000
    assert kpis["par30"] == Decimal("0.4444")
    assert kpis["par90"] == Decimal("0.1667")  # 3,000 / 18,000
    assert kpis["non_performing_ratio"] == Decimal("0.1667")  # only loan 3 is 次级
    assert (kpis["applications"], kpis["decided"], kpis["approved"]) == (5, 5, 4)
    assert kpis["approval_rate"] == Decimal("0.8000")
    assert (kpis["disbursed_count"], kpis["disbursed_amount"]) == (4, 2_800_000)
    assert (kpis["written_off_count"], kpis["written_off_amount"]) == (1, 1_000_000)
    assert kpis["buckets"] == {"M0": 1, "M2": 1, "M3+": 1, "written_off": 1}


def test_grace_days_keep_a_loan_current() -> None:
    dues = [(date(2026, 6, 27), None)]
    assert dpd_on(ON, dues, 3) == 0  # 3 days late, within grace
    assert dpd_on(date(2026, 7, 1), dues, 3) == 4


def test_roll_rate_rows_sum_to_the_loans_that_were_in_each_bucket() -> None:
    may, june = standings(date(2026, 5, 31)), standings(ON)
    matrix = roll_rates(may, june, [b for b, _ in BUCKETS])
    # 31 May: loan 1 current, loan 2 15 days late (M1), loan 3 70 days late (M3)
    assert matrix["M0"]["M0"] == 1
    assert matrix["M1"]["M2"] == 1
    assert matrix["M3"]["M3+"] == 1
    counts = {b: sum(1 for s in may.values() if s.bucket == b) for b in matrix}
    assert {b: sum(row.values()) for b, row in matrix.items()} == counts


def test_vintage_of_a_cohort_is_its_principal_ever_beyond_30_days() -> None:
    curves = vintages(BOOK, ON)
    # cohort 2026-01: 28,000 yuan; loan 4 beyond 30 days from 10 Feb (10,000),
    # loan 3 from 22 Apr (3,000), loan 2 from 16 Jun (5,000)
    assert curves["2026-01"] == [
        Decimal("0.3571"),  # end of Feb: 10,000 / 28,000
        Decimal("0.3571"),  # Mar
        Decimal("0.4643"),  # Apr: 13,000 / 28,000
        Decimal("0.4643"),  # May
        Decimal("0.6429"),  # Jun: 18,000 / 28,000
    ]


def test_month_ends_close_with_the_date_asked() -> None:
    assert month_ends(date(2026, 1, 10), date(2026, 3, 15)) == [
        date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 15),
    ]  # fmt: skip


dates = st.dates(date(2026, 1, 1), date(2026, 12, 31))


@given(st.lists(st.tuples(dates, st.one_of(st.none(), dates)), max_size=6), dates)
def test_a_loan_beyond_30_days_on_a_date_has_passed_its_first_such_day(
    dues: list[tuple[date, date | None]], on: date
) -> None:
    first = first_day_beyond(tuple(dues), 30)
    if dpd_on(on, dues, 0) > 30:
        assert first is not None and first <= on


def test_a_restructured_loan_stands_at_its_floor_through_its_observation_period() -> None:
    """Restructured on 21 March with a special-mention floor for twelve months and paid
    on time since: the indicators hold it at special mention from that day until 21
    March next year, as close of business does, and not before the restructure."""
    record = loan(
        7,
        [(date(2026, 4, 21), date(2026, 4, 21)), (date(2026, 5, 21), date(2026, 5, 20))],
        restructured_on=date(2026, 3, 21),
    )
    floor = Restructure(until=date(2027, 3, 21), floor="special_mention")

    def klass(on: date, restructure: Restructure | None = floor) -> str:
        found = standing(record, on, 900_000, 3, BUCKETS, CLASSES, None, restructure)
        assert found is not None
        return found.classification

    assert klass(date(2026, 3, 20)) == "normal"  # before the restructure
    assert klass(date(2026, 3, 21)) == "special_mention"
    assert klass(date(2026, 6, 30)) == "special_mention"
    assert klass(date(2027, 3, 20)) == "special_mention"
    assert klass(date(2027, 3, 21)) == "normal"  # the observation period is over
    assert klass(date(2026, 6, 30), None) == "normal"  # the product sets no floor
    # a floor never lifts a worse class: 100 days late is substandard whatever the floor
    late = loan(8, [(date(2026, 3, 22), None)], restructured_on=date(2026, 3, 1))
    found = standing(late, ON, 300_000, 3, BUCKETS, CLASSES, None, floor)
    assert found is not None and found.classification == "substandard"

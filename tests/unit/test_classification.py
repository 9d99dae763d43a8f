"""The five-category class on evidence: down by days past due, up only on evidence."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from lendflow.config.product_spec import DEFAULT_CLASSES
from lendflow.domain.classification import (
    Restructure,
    UpgradeRule,
    class_on,
    grade,
    on_time_days,
    rank,
    with_borrower_class,
)
from lendflow.domain.delinquency import classification_for
from lendflow.domain.kpis import dpd_on

LEVELS = [(c.code, c.min_dpd) for c in DEFAULT_CLASSES]
RULE = UpgradeRule()
PAID = date(2026, 6, 25)


def test_days_past_due_move_a_loan_down_at_once() -> None:
    graded = grade(LEVELS, RULE, "special_mention", 91, None, PAID, [])
    assert (graded.code, graded.held_since) == ("substandard", None)
    assert graded.reason == "91 days past due"


def test_a_non_performing_loan_with_arrears_left_never_moves_up() -> None:
    graded = grade(LEVELS, RULE, "doubtful", 40, None, PAID, [])
    assert (graded.code, graded.held_since) == ("doubtful", None)
    assert graded.reason == "held at doubtful: arrears unpaid, 40 days past due"


def test_arrears_paid_start_the_hold_and_the_evidence_ends_it() -> None:
    held = grade(LEVELS, RULE, "substandard", 0, None, PAID, [])
    assert (held.code, held.held_since) == ("substandard", PAID)
    two = [date(2026, 7, 12), date(2026, 8, 12)]
    assert grade(LEVELS, RULE, "substandard", 0, PAID, date(2026, 12, 24), two).code == (
        "substandard"
    )  # two on time, but not yet six months: the longer of the two
    assert grade(LEVELS, RULE, "substandard", 0, PAID, date(2026, 12, 25), two).code == "normal"
    first = UpgradeRule(whichever="first")
    assert grade(LEVELS, first, "substandard", 0, PAID, date(2026, 8, 12), two).code == "normal"
    assert grade(LEVELS, first, "substandard", 0, PAID, date(2026, 8, 11), two[:1]).code == (
        "substandard"
    )


def test_special_mention_moves_up_as_soon_as_nothing_is_late() -> None:
    assert grade(LEVELS, RULE, "special_mention", 0, None, PAID, []).code == "normal"


def test_a_restructured_loan_stays_at_its_floor_through_observation() -> None:
    floor = Restructure(until=date(2027, 6, 25), floor="special_mention")
    assert grade(LEVELS, RULE, "normal", 0, None, PAID, [], floor).code == "special_mention"
    assert grade(LEVELS, RULE, "normal", 0, None, date(2027, 6, 25), [], floor).code == "normal"
    assert grade(LEVELS, RULE, "normal", 100, None, PAID, [], floor).code == "substandard"


def test_only_consecutive_instalments_on_time_count() -> None:
    history = [
        (date(2026, 7, 12), date(2026, 7, 12)),
        (date(2026, 8, 12), date(2026, 8, 20)),  # late beyond 3 days' grace
        (date(2026, 9, 12), date(2026, 9, 10)),
    ]
    assert on_time_days(history, PAID, date(2026, 9, 30), 3) == [date(2026, 7, 12)]
    assert on_time_days(history, PAID, date(2026, 9, 30), 10) == [
        date(2026, 7, 12),
        date(2026, 8, 20),
        date(2026, 9, 12),
    ]


histories = st.lists(
    st.tuples(st.integers(0, 400), st.one_of(st.none(), st.integers(-20, 400))),
    min_size=1,
    max_size=12,
    unique_by=lambda item: item[0],
)


def _dated(raw: list[tuple[int, int | None]]) -> list[tuple[date, date | None]]:
    start = date(2026, 1, 12)
    out = []
    for offset, paid in sorted(raw, key=lambda item: item[0]):
        due = start + timedelta(days=30 + offset)
        out.append((due, None if paid is None else due + timedelta(days=paid)))
    return out


@given(raw=histories, days=st.integers(0, 900), grace=st.integers(0, 5))
def test_the_class_is_never_better_than_its_days_past_due_say(
    raw: list[tuple[int, int | None]], days: int, grace: int
) -> None:
    history = _dated(raw)
    on = date(2026, 1, 12) + timedelta(days=days)
    by_dpd = classification_for(dpd_on(on, history, grace), LEVELS)
    found = class_on(on, history, grace, LEVELS, RULE, since=date(2026, 1, 12))
    assert rank(LEVELS, found) >= rank(LEVELS, by_dpd)


@given(raw=histories, days=st.integers(0, 900))
def test_a_loan_never_90_days_late_is_graded_by_its_days_past_due_alone(
    raw: list[tuple[int, int | None]], days: int
) -> None:
    history = _dated(raw)
    on = date(2026, 1, 12) + timedelta(days=days)
    never_late = all(
        (min(paid, on) if paid is not None else on) - due < timedelta(days=91)
        for due, paid in history
    )
    if never_late:
        found = class_on(on, history, 0, LEVELS, RULE, since=date(2026, 1, 12))
        assert found == classification_for(dpd_on(on, history, 0), LEVELS)


def test_the_borrowers_worst_class_is_taken_with_the_loans_own_kept_beside_it() -> None:
    assert with_borrower_class(LEVELS, "normal", 2) == ("substandard", "normal")
    assert with_borrower_class(LEVELS, "doubtful", 2) == ("doubtful", None)
    # a shorter ladder stops at its last class
    three = LEVELS[:3]
    assert with_borrower_class(three, "special_mention", 4) == ("substandard", "special_mention")


@given(own=st.sampled_from([code for code, _ in LEVELS]), worst=st.integers(0, 6))
def test_the_borrower_rule_never_gives_a_better_class_than_the_loans_own(
    own: str, worst: int
) -> None:
    code, kept = with_borrower_class(LEVELS, own, worst)
    assert rank(LEVELS, code) == max(rank(LEVELS, own), min(worst, len(LEVELS) - 1))
    assert kept == (own if code != own else None)

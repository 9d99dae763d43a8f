"""The moves close of business asks for, by days past due, are the loan machine's own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.delinquency import move_for
from lendflow.domain.statuses import LoanStatus
from lendflow.states.machine import machine

STATUSES = st.sampled_from([LoanStatus.ACTIVE, LoanStatus.OVERDUE])


@given(status=STATUSES, dpd=st.integers(0, 2_000), write_off_dpd=st.integers(1, 720))
def test_every_move_asked_for_is_legal_and_lands_where_the_days_say(
    status: LoanStatus, dpd: int, write_off_dpd: int
) -> None:
    trigger = move_for(status, dpd, write_off_dpd)
    table = machine("loan").table
    after = status if trigger is None else LoanStatus(table[(status.value, trigger)])
    if after is LoanStatus.WRITTEN_OFF:
        assert dpd > write_off_dpd
    else:
        assert (after is LoanStatus.OVERDUE) == (dpd > 0)


def test_an_overdue_loan_is_written_off_only_beyond_the_threshold() -> None:
    assert move_for("overdue", 90, 90) is None
    assert move_for("overdue", 91, 90) == "write_off"
    assert move_for("active", 200, 90) == "fall_overdue"
    assert move_for("closed", 5, 90) is None

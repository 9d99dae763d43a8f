"""Quiet loans follow their range's close-of-business mark instead of being rewritten nightly.

Three loans of 10,000.00 over 3 months, paid out on 2026-01-12 (first instalment due
2026-02-12): until then nothing happens to them but a night's accrual, a day's principal
added to their fen-days and their watermark moving. Each reader must still see every
figure through the last date closed, on both databases.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from lendflow.close_of_business import sweep as cob
from lendflow.config.cob import load_cob_config
from lendflow.domain.accrual import FOLLOWED
from lendflow.loans import audit, repayments
from lendflow.store import loans as loan_store
from lendflow.store.tables import cob_marks, loans
from lendflow.store.uow import run_in_transaction
from tests.service.loan_rows import current_loan
from tests.service.test_cob_golden import open_loan

CONFIG = load_cob_config()
EVERY_ROW_WRITTEN = CONFIG.model_copy(update={"follow_marks_from": None})
ANY_RANGE_MARKED = CONFIG.model_copy(update={"follow_marks_from": 1})
PAID_OUT = date(2026, 1, 12)
PRINCIPAL = 1_000_000


def close(ws, first: date, last: date, config=CONFIG, hi: int = 10_000) -> None:  # type: ignore[no-untyped-def]
    cob.close_range(ws, 1, hi, first, last, "cob", config)


def stored(ws) -> dict[int, dict[str, object]]:  # type: ignore[no-untyped-def]
    """Each loan's row as stored, not as readers see it."""
    with ws.engine.connect() as c:
        return {r["id"]: dict(r) for r in c.execute(select(loans)).mappings()}


def marks(ws) -> list[tuple[int, int, date]]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        return [tuple(r) for r in c.execute(select(cob_marks).order_by(cob_marks.c.lo))]


def days_closed(through: date) -> int:
    return (through - PAID_OUT).days + 1


def test_a_quiet_night_writes_no_quiet_loans_row_and_readers_see_it_closed(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    ids = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    close(ws, PAID_OUT, PAID_OUT)
    before = stored(ws)
    assert all(before[i]["follows_from"] == PAID_OUT.toordinal() for i in ids)
    close(ws, PAID_OUT + timedelta(days=1), date(2026, 2, 10))
    assert stored(ws) == before  # not a byte of any loan row written for 29 nights
    assert marks(ws) == [(1, 10_000, date(2026, 2, 10))]
    for loan_id in ids:
        loan = run_in_transaction(ws.engine, lambda uow, i=loan_id: loan_store.get(uow, i))
        assert loan["cob_through"] == date(2026, 2, 10)
        assert loan["principal_days"] == PRINCIPAL * days_closed(date(2026, 2, 10))
        assert loan["interest_accrued"] > before[loan_id]["interest_accrued"]
        # the plain reads of `loan show` and the API agree, on both databases
        reader = ws.reader()
        try:
            plain, viewed = reader.loan(loan_id), reader.loan_view(loan_id)[0]
        finally:
            reader.close()
        for name in FOLLOWED:
            assert plain[name] == viewed[name] == loan[name], name
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_a_repayment_gives_a_following_loan_its_own_figures_first(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """A repayment changes the principal a day adds to the fen-days: the figures through
    the mark are written with it, and the loan counts its own days from then on."""
    loan_id = open_loan(ws, ops, risk, applicant)
    close(ws, PAID_OUT, date(2026, 1, 31))
    through_mark = current_loan(ws, loan_id)
    repayments.repay(ws, ops, loan_id, 300_000, date(2026, 2, 1), "early")
    row = stored(ws)[loan_id]
    assert row["follows_from"] is None
    assert {name: row[name] for name in FOLLOWED} == {name: through_mark[name] for name in FOLLOWED}
    close(ws, date(2026, 2, 1), date(2026, 2, 5))
    after = current_loan(ws, loan_id)
    assert (
        after["principal_days"] == through_mark["principal_days"] + 5 * row["principal_outstanding"]
    )
    assert audit.verify(ws, auditor).ok


def test_books_closed_under_marks_match_books_whose_rows_are_all_written(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """Through a due date, arrears, a cure and non-accrual, one loan per path, the figures
    readers see equal those of the nights that write every row (a twin of each loan,
    closed in a range of its own with marks off)."""
    marked = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    twins = [open_loan(ws, ops, risk, applicant) for _ in range(3)]
    assert max(marked) < min(twins)
    d = PAID_OUT
    while d <= date(2026, 6, 30):
        if d == date(2026, 2, 12):  # the first pays on time, the second late, the third never
            for loan_id in (marked[0], twins[0]):
                repayments.repay(ws, ops, loan_id, 343_037, d, f"on-time-{loan_id}")
        if d == date(2026, 3, 1):
            for loan_id in (marked[1], twins[1]):
                repayments.repay(ws, ops, loan_id, 350_000, d, f"late-{loan_id}")
        cob.close_range(ws, 1, max(marked), d, d, "cob", ANY_RANGE_MARKED)
        cob.close_range(ws, min(twins), min(twins) + 10_000, d, d, "cob", EVERY_ROW_WRITTEN)
        d += timedelta(days=1)
    assert marks(ws) == [(1, max(marked), date(2026, 6, 30))]
    raw = stored(ws)
    assert all(raw[t]["follows_from"] is None for t in twins)
    compared = ("state", "dpd", "classification", "non_accrual_since", *FOLLOWED)
    for one, twin in zip(marked, twins, strict=True):
        mine, theirs = current_loan(ws, one), current_loan(ws, twin)
        assert {k: mine[k] for k in compared} == {k: theirs[k] for k in compared}, one
    assert current_loan(ws, marked[2])["non_accrual_since"] is not None
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_a_new_partition_gives_the_following_loans_their_own_figures(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """The chunk size changed (or marks were turned off): loans following a mark that is
    not the new range's take their figures through it, and close on from there."""
    ids = [open_loan(ws, ops, risk, applicant) for _ in range(2)]
    close(ws, PAID_OUT, date(2026, 1, 20))
    close(ws, date(2026, 1, 21), date(2026, 1, 25), hi=20_000)
    assert marks(ws) == [(1, 20_000, date(2026, 1, 25))]
    close(ws, date(2026, 1, 26), date(2026, 1, 30), EVERY_ROW_WRITTEN, hi=20_000)
    assert marks(ws) == []
    for loan_id in ids:
        row = stored(ws)[loan_id]
        assert row["follows_from"] is None and row["cob_through"] == date(2026, 1, 30)
        assert row["principal_days"] == PRINCIPAL * days_closed(date(2026, 1, 30))
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_the_books_last_range_keeps_its_mark_as_the_book_grows(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """The last range ends at the book's highest id, which grows with each payout: its
    mark grows with it, and the loans following it are not written again."""
    first = open_loan(ws, ops, risk, applicant)
    close(ws, PAID_OUT, date(2026, 1, 20), hi=10_000)
    before = stored(ws)[first]
    close(ws, date(2026, 1, 21), date(2026, 1, 25), hi=12_000)
    assert marks(ws) == [(1, 12_000, date(2026, 1, 25))]
    assert stored(ws)[first] == before
    assert current_loan(ws, first)["cob_through"] == date(2026, 1, 25)


def test_a_range_inside_another_ranges_mark_leaves_the_rest_following_it(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant
) -> None:
    """The chunks were made smaller: the old mark keeps the loans outside the new range,
    the new range's loans take their figures through it and follow a mark of their own."""
    outside, inside = (open_loan(ws, ops, risk, applicant) for _ in range(2))
    close(ws, PAID_OUT, date(2026, 1, 20), hi=20_000)
    cob.close_range(ws, inside, inside + 9_999, date(2026, 1, 21), date(2026, 1, 25), "cob", CONFIG)
    assert marks(ws) == [
        (1, inside - 1, date(2026, 1, 20)),
        (inside, inside + 9_999, date(2026, 1, 25)),
        (inside + 10_000, 20_000, date(2026, 1, 20)),
    ]
    assert stored(ws)[outside]["follows_from"] is not None
    assert current_loan(ws, outside)["cob_through"] == date(2026, 1, 20)
    assert current_loan(ws, inside)["cob_through"] == date(2026, 1, 25)
    # the old range's last loan alone (too small a range for a mark) catches up on its own
    cob.close_range(ws, outside, outside, date(2026, 1, 21), date(2026, 1, 25), "cob", CONFIG)
    row = stored(ws)[outside]
    assert row["follows_from"] is None and row["cob_through"] == date(2026, 1, 25)
    assert row["principal_days"] == PRINCIPAL * days_closed(date(2026, 1, 25))
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems

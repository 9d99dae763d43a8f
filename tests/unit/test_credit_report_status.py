"""The credit report's pure rules: months, the 24-month status string, the month-end
figures from the journal, corrections, and the file layout."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lendflow.domain.credit_reporting import (
    AccountDates,
    BureauRecord,
    DelinquencyRules,
    DueDates,
    Month,
    Movement,
    ScheduledInstalment,
    month_figures,
    month_status,
    parse_month,
    revision_for,
    status_string,
)
from lendflow.domain.errors import BadInput
from lendflow.workspace.credit_bureau import BureauReport, encode

DAY = timedelta(days=1)
CLASSES = (("normal", 0), ("special_mention", 1), ("substandard", 91), ("doubtful", 181))
RULES = DelinquencyRules(grace_days=3, arrears_tolerance=1000, classes=CLASSES)


def monthly(opened: date, n: int) -> list[date]:
    """Due dates a month apart from `opened` (days up to 28, so every month has them)."""
    return [
        Month(opened.year, opened.month).after(k).first.replace(day=opened.day)
        for k in range(1, n + 1)
    ]


# ---------------------------------------------------------------- months


def test_a_month_is_typed_as_year_and_month() -> None:
    assert parse_month("2026-07") == Month(2026, 7)
    assert (Month(2026, 2).first, Month(2026, 2).last) == (date(2026, 2, 1), date(2026, 2, 28))
    assert Month(2024, 2).last == date(2024, 2, 29)
    assert (str(Month(2026, 1).after(-1)), str(Month(2026, 12).after(1))) == ("2025-12", "2027-01")
    for bad, message in [
        ("2026-13", "the month must be 01 to 12"),
        ("2026-00", "the month must be 01 to 12"),
        ("2026-7", "use YYYY-MM"),
        ("July", "use YYYY-MM"),
        ("1999-12", "years 2000 to 2100"),
    ]:
        with pytest.raises(BadInput, match=message):
            parse_month(bad)


@given(st.integers(2000, 2100), st.integers(1, 12), st.integers(-300, 300))
def test_months_count_like_the_calendar(year: int, month: int, k: int) -> None:
    m = Month(year, month)
    assert m.after(k).after(-k) == m
    assert m.after(1).first == m.last + DAY
    assert (m.after(k).year * 12 + m.after(k).month) - (year * 12 + month) == k


# ---------------------------------------------------------------- the status string


def test_a_loan_late_twice_then_closed_worked_by_hand() -> None:
    """Paid out 12 Jan 2026, due the 12th: 1 paid 20 Feb (late), 2 on 12 Mar, 3 and 4
    together on 20 May (late, two at once from 13 May), 5 on 12 Jun, paid off 1 Jul."""
    dues = monthly(date(2026, 1, 12), 6)
    paid = [date(2026, 2, 20), date(2026, 3, 12), date(2026, 5, 20), date(2026, 5, 20),
            date(2026, 6, 12), date(2026, 7, 1)]  # fmt: skip
    account = AccountDates(
        date(2026, 1, 12),
        tuple(DueDates(d, p) for d, p in zip(dues, paid, strict=True)),
        closed_on=date(2026, 7, 1),
    )
    assert status_string(account, Month(2026, 7)) == "/////////////////*1N12NC"
    assert status_string(account, Month(2026, 12)) == "////////////*1N12NCCCCCC"


def test_paying_one_day_late_is_late_and_paying_on_the_day_is_not() -> None:
    due = date(2026, 3, 31)
    on_time = AccountDates(date(2026, 2, 28), (DueDates(due, due),))
    day_late = AccountDates(date(2026, 2, 28), (DueDates(due, due + DAY),))
    assert [month_status(on_time, Month(2026, m)) for m in (2, 3, 4)] == ["*", "N", "*"]
    assert [month_status(day_late, Month(2026, m)) for m in (2, 3, 4)] == ["*", "N", "1"]


def test_written_off_and_seven_or_more() -> None:
    dues = monthly(date(2025, 1, 10), 9)
    account = AccountDates(date(2025, 1, 10), tuple(DueDates(d) for d in dues))
    assert status_string(account, Month(2025, 10), 10) == "*123456777"
    gone = replace(account, written_off_on=date(2025, 10, 15))
    assert status_string(gone, Month(2025, 11), 3) == "7GG"  # written off in October


PAYMENT_DELAYS = st.lists(st.none() | st.integers(0, 120), min_size=1, max_size=12)


def _account(opened: date, delays: list[int | None]) -> AccountDates:
    dues = monthly(opened, len(delays))
    return AccountDates(
        opened,
        tuple(
            DueDates(d, None if k is None else d + timedelta(days=k))
            for d, k in zip(dues, delays, strict=True)
        ),
    )


OPENED = st.dates(date(2024, 1, 1), date(2026, 12, 31)).map(lambda d: d.replace(day=min(d.day, 28)))
REPORT = st.integers(0, 30)


def _severity(c: str) -> int:
    return int(c) if c.isdigit() else 0


@given(OPENED, PAYMENT_DELAYS, REPORT)
def test_the_string_reads_oldest_first_in_the_notation(
    opened: date, delays: list[int | None], k: int
) -> None:
    account = _account(opened, delays)
    month = Month(opened.year, opened.month).after(k)
    found = status_string(account, month)
    assert len(found) == 24 and set(found) <= set("/*N1234567")
    opening = Month(opened.year, opened.month)
    for i, c in enumerate(found):
        m = month.after(i - 23)
        assert (c == "/") == (m < opening)
        due_by_end = sum(1 for d in account.instalments if d.due_date < m.last)
        assert _severity(c) <= min(due_by_end, 7)
    if all(k is not None and k == 0 for k in delays):
        assert not any(c.isdigit() for c in found)  # every instalment paid on its day


@given(OPENED, PAYMENT_DELAYS, REPORT, st.data())
def test_paying_later_never_reads_better(
    opened: date, delays: list[int | None], k: int, data: st.DataObject
) -> None:
    i = data.draw(st.integers(0, len(delays) - 1))
    later = list(delays)
    later[i] = None if delays[i] is None else data.draw(st.none() | st.integers(delays[i], 200))
    month = Month(opened.year, opened.month).after(k)
    before = status_string(_account(opened, delays), month)
    after = status_string(_account(opened, later), month)
    assert all(_severity(b) <= _severity(a) for b, a in zip(before, after, strict=True))


@given(OPENED, PAYMENT_DELAYS, st.integers(1, 30), st.integers(0, 40))
def test_closed_from_its_month_on(
    opened: date, delays: list[int | None], after_days: int, k: int
) -> None:
    account = _account(opened, delays)
    closed = replace(account, closed_on=opened + timedelta(days=after_days))
    month = Month(opened.year, opened.month).after(k)
    found = status_string(closed, month)
    closing = Month(closed.closed_on.year, closed.closed_on.month)  # type: ignore[union-attr]
    for i, c in enumerate(found):
        assert (c == "C") == (month.after(i - 23) >= closing)


# ---------------------------------------------------------------- the month-end figures


def _lines(on: date, principal: int, interest: int, fee: int, penalty: int = 0) -> list[Movement]:
    """A repayment's lines as the loan aggregate books them (cash in, receivables paid)."""
    cash = principal + interest + fee + penalty
    return [
        Movement(on, "repayment", "cash", cash, 0),
        Movement(on, "repayment", "loan_principal", 0, principal),
        Movement(on, "repayment", "interest_receivable", 0, interest),
        Movement(on, "repayment", "fee_receivable", 0, fee),
        Movement(on, "repayment", "penalty_receivable", 0, penalty),
    ]


def test_month_end_figures_worked_by_hand() -> None:
    """3,000.00 over 3 months, 1,000.00 principal + 50.00 interest + 5.00 fee each, due
    the 10th from February. February's paid on the 10th; March's not at all; April's
    falls due on 10 April. Penalty charged 6.00 by 31 March."""
    dues = monthly(date(2026, 1, 10), 3)
    items = [
        ScheduledInstalment(dues[0], 100000, 5000, 500, paid_on=dues[0]),
        ScheduledInstalment(dues[1], 100000, 5000, 500),
        ScheduledInstalment(dues[2], 100000, 5000, 500),
    ]
    movements = [
        Movement(date(2026, 1, 10), "disbursement", "loan_principal", 300000, 0),
        Movement(date(2026, 1, 10), "disbursement", "cash", 0, 300000),
        *_lines(dues[0], 100000, 5000, 500),
        # a referral reward paid to whoever referred the borrower names the loan too
        Movement(date(2026, 2, 1), "referral_reward", "cash", 0, 2000),
        Movement(date(2026, 3, 31), "penalty", "penalty_receivable", 600, 0),
    ]
    march = month_figures(items, movements, Month(2026, 3), RULES)
    # due 1,055.00 on 10 March, nothing paid, 2,000.00 principal owed, 1,055.00 + 6.00 overdue
    # for 21 days (10 → 31 March), past the 3-day grace: special mention (level 2).
    assert march == march.__class__(105500, 0, 200000, 106100, 21, 2)
    february = month_figures(items, movements, Month(2026, 2), RULES)
    assert february == february.__class__(105500, 105500, 200000, 0, 0, 1)
    # A repayment later reversed (the reversal dated as the payment, carrying its kind)
    # leaves March as if it had never been made.
    bounced = [
        *movements,
        *_lines(date(2026, 3, 20), 100000, 5000, 500),
        *(
            replace(m, debit=m.credit, credit=m.debit)
            for m in _lines(date(2026, 3, 20), 100000, 5000, 500)
        ),
    ]
    assert month_figures(items, bounced, Month(2026, 3), RULES) == march
    # Within the arrears tolerance (10.00) no day counts late, but the amount is owed.
    short = [
        replace(items[1], paid_on=None),
        *_lines(date(2026, 3, 10), 99500, 5000, 500),
    ]
    tolerated = month_figures(
        [items[0], short[0], items[2]], [*movements[:-1], *short[1:]], Month(2026, 3), RULES
    )
    assert (tolerated.overdue_amount, tolerated.overdue_days, tolerated.class_level) == (500, 0, 1)


def test_an_instalment_due_on_the_last_day_is_not_yet_in_arrears() -> None:
    """As close of business counts it: at the close of 31 March the instalment due that
    day is due, not late; February's (due the 28th, unpaid) is 31 days late."""
    items = [
        ScheduledInstalment(date(2026, 2, 28), 100000, 5000, 500),
        ScheduledInstalment(date(2026, 3, 31), 100000, 5000, 500),
    ]
    lent = [Movement(date(2026, 1, 31), "disbursement", "loan_principal", 200000, 0)]
    march = month_figures(items, lent, Month(2026, 3), RULES)
    assert (march.due, march.overdue_amount, march.overdue_days) == (105500, 105500, 31)


def _waterfall(items: list[list[int]], amount: int) -> list[int]:
    """Spend a payment on (principal, interest, fee) owed, oldest first, fee then interest
    then principal within each; how much went to each component in all."""
    spent = [0, 0, 0]
    for owed in items:
        for part in (2, 1, 0):
            take = min(owed[part], amount)
            owed[part] -= take
            spent[part] += take
            amount -= take
    return spent


@given(
    st.lists(
        st.tuples(
            st.integers(1, 45),  # days since the instalment before (due dates in any day)
            st.integers(1, 200000),
            st.integers(0, 20000),
            st.integers(0, 1000),
        ),
        min_size=1,
        max_size=8,
    ),
    st.lists(st.tuples(st.integers(0, 250), st.integers(1, 300000)), max_size=8),
    st.integers(0, 10),
)
def test_arrears_from_the_journal_are_what_the_instalments_owe(
    plan: list[tuple[int, int, int, int]], payments: list[tuple[int, int]], k: int
) -> None:
    """However payments fell, arrears from the journal equal what the instalments due
    before the month's last day still owed at its close, counted instalment by instalment."""
    opened = date(2026, 1, 15)
    dues = [opened + timedelta(days=sum(p[0] for p in plan[: n + 1])) for n in range(len(plan))]
    schedule = [p[1:] for p in plan]
    owed = [list(s) for s in schedule]
    paid_on: list[date | None] = [None] * len(schedule)
    lent = sum(s[0] for s in schedule)
    movements = [Movement(opened, "disbursement", "loan_principal", lent, 0)]
    for offset, amount in sorted(payments):
        on = opened + timedelta(days=offset)
        left = sum(map(sum, owed))
        if not left:
            break
        principal, interest, fee = _waterfall(owed, min(amount, left))
        movements += _lines(on, principal, interest, fee)
        for i, o in enumerate(owed):
            if sum(o) == 0 and paid_on[i] is None:
                paid_on[i] = on
    items = [
        ScheduledInstalment(d, p, i, f, paid_on=paid)
        for d, (p, i, f), paid in zip(dues, schedule, paid_on, strict=True)
    ]
    # the month one of the instalments falls due in, or a later one
    due = dues[min(k, len(dues) - 1)]
    month = Month(due.year, due.month).after(max(k - len(dues), 0))
    last = month.last
    # the instalments again, paid only by what was paid up to the month's end
    again = [list(s) for s in schedule]
    for offset, amount in sorted(payments):
        if opened + timedelta(days=offset) <= last:
            _waterfall(again, min(amount, sum(map(sum, again))))
    expected = sum(sum(o) for o, d in zip(again, dues, strict=True) if d < last)
    figures = month_figures(items, movements, month, RULES)
    assert figures.overdue_amount == expected
    assert figures.outstanding == lent - sum(
        m.credit for m in movements if m.account == "loan_principal" and m.on <= last
    )


# ---------------------------------------------------------------- corrections and the file


RECORD = BureauRecord(
    account="LF-C-00000001",
    borrower="LF-B-00000001",
    opened_on=date(2026, 1, 12),
    amount=1000000,
    term=6,
    method="annuity",
    due=174332,
    paid=0,
    outstanding=838668,
    overdue_amount=174332,
    overdue_days=19,
    status="/////////////////*1N12NC",
    class_level=2,
)


def test_a_record_goes_out_again_only_as_a_correction() -> None:
    digest = RECORD.digest()
    assert revision_for(None, digest) == (0, True)
    assert revision_for((0, digest), digest) == (0, False)  # unchanged: the same record
    assert revision_for((0, "other"), digest) == (1, True)  # changed: a correction
    assert revision_for((1, digest), digest) == (1, False)
    assert replace(RECORD, revision=3).digest() == digest  # the revision is not a figure
    assert replace(RECORD, paid=1).digest() != digest


def test_the_file_layout() -> None:
    report = BureauReport(
        "2026-07", date(2026, 7, 31), (RECORD, replace(RECORD, account="LF-C-00000002", revision=1))
    )
    assert encode(report).decode("utf-8") == (
        "H|LFCR|1|2026-07|2026-07-31\n"
        "A|0|LF-C-00000001|LF-B-00000001|2026-01-12|10000.00|6|annuity|1743.32|0.00|8386.68"
        "|1743.32|19|/////////////////*1N12NC|2\n"
        "C|1|LF-C-00000002|LF-B-00000001|2026-01-12|10000.00|6|annuity|1743.32|0.00|8386.68"
        "|1743.32|19|/////////////////*1N12NC|2\n"
        "T|2|1|16773.36\n"
    )
    assert encode(report) == encode(report)

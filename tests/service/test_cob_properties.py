"""Close of business as properties, over random small books on SQLite.

A lender closes business every night, but not always one night at a time: a
server is down over a weekend, a run is restarted halfway, an operator closes a
month that was missed. The books must come out the same however the days were
grouped, a date closed twice must count once, and whatever happens the ledger
must balance and each loan's status must agree with its days past due.

Every example builds its own workspaces from one migrated template (both
example products imported live on 2026-01-05), disburses 2 to 5 loans on dates
in January and February 2026, posts random repayments on random dates, and
closes business through 2026-09-30.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import Table, func, select

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.close_of_business import sweep as cob
from lendflow.close_of_business.results import SweepCounts
from lendflow.config.cob import CobConfig, load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.consents import CONSENTS
from lendflow.domain.identity import sample_national_id
from lendflow.domain.ledger import LOAN_BALANCES
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store import cob_marks
from lendflow.store.tables import (
    event_chain,
    events,
    instalments,
    journal_entries,
    journal_lines,
    loans,
    notices,
)
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.context import Workspace
from lendflow.workspace.payments import SandboxGateway

CONFIG = load_cob_config()
EVERY_ROW_WRITTEN = CONFIG.model_copy(update={"follow_marks_from": None})
OPENING_DAY = date(2026, 1, 5)
LAST_DISBURSEMENT = date(2026, 2, 28)
END = date(2026, 9, 30)
DAY = timedelta(days=1)
LO, HI = 1, 10_000
LIVE = ("active", "overdue")

# product -> (minimum, step, number of steps above the minimum, terms); amounts in fen
PRODUCTS: dict[str, tuple[int, int, int, tuple[int, ...]]] = {
    "cash-easy": (100_000, 10_000, 490, (3, 6, 9, 12)),
    "sme-growth": (2_000_000, 100_000, 180, (6, 12, 24)),
}
# How a repayment's amount is worked out on the day it is posted (see `amount_for`).
KINDS = ("due", "due", "short", "instalment", "partial", "payoff")

PROPERTY_SETTINGS = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@dataclass(frozen=True)
class LoanPlan:
    """One loan of the book: applied for, approved and paid out on `disbursed`."""

    product: str
    amount: int
    term: int
    disbursed: date
    fee_at_signing: bool  # sme-growth: the borrower pays the upfront fee on the day


@dataclass(frozen=True)
class PaymentPlan:
    """A repayment on `day` to loan number `loan` of the book; its amount depends on `kind`."""

    loan: int
    day: date
    kind: str
    share: int  # percent for a partial payment; 0.20 yuan steps short for a short one


@dataclass(frozen=True)
class Book:
    """The loans, the repayments and perhaps an approval left to lapse, in business order."""

    loans: tuple[LoanPlan, ...]
    payments: tuple[PaymentPlan, ...]
    lapsing: date | None

    @property
    def first_day(self) -> date:
        return min(
            [plan.disbursed for plan in self.loans] + ([self.lapsing] if self.lapsing else [])
        )

    def dates(self) -> list[date]:
        """Every business date on which something is posted, in order."""
        days = {plan.disbursed for plan in self.loans} | {p.day for p in self.payments}
        if self.lapsing:
            days.add(self.lapsing)
        return sorted(days)


@st.composite
def books(draw: st.DrawFn) -> Book:
    """2 to 5 loans of either product, and up to 8 repayments clustered around due dates."""
    plans: list[LoanPlan] = []
    for _ in range(draw(st.integers(2, 5))):
        product = draw(st.sampled_from(sorted(PRODUCTS)))
        minimum, step, steps, terms = PRODUCTS[product]
        plans.append(
            LoanPlan(
                product=product,
                amount=minimum + step * draw(st.integers(0, steps)),
                term=draw(st.sampled_from(terms)),
                disbursed=OPENING_DAY
                + timedelta(days=draw(st.integers(0, (LAST_DISBURSEMENT - OPENING_DAY).days))),
                fee_at_signing=product == "sme-growth" and draw(st.booleans()),
            )
        )
    payments: list[PaymentPlan] = []
    for _ in range(draw(st.integers(0, 8))):
        loan = draw(st.integers(0, len(plans) - 1))
        # About `month` instalments in, a few days early up to three weeks late.
        month, jitter = draw(st.integers(0, 8)), draw(st.integers(-3, 21))
        day = plans[loan].disbursed + timedelta(days=round(month * 30.44) + jitter)
        day = min(max(day, plans[loan].disbursed), END)
        payments.append(
            PaymentPlan(loan, day, draw(st.sampled_from(KINDS)), draw(st.integers(1, 99)))
        )
    lapsing = draw(
        st.none()
        | st.integers(0, (LAST_DISBURSEMENT - OPENING_DAY).days).map(
            lambda n: OPENING_DAY + timedelta(days=n)
        )
    )
    payments.sort(key=lambda p: p.day)  # stable: same-day payments keep their drawn order
    return Book(tuple(plans), tuple(payments), lapsing)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated workspace with both example products live, copied for every example."""
    home = tmp_path_factory.mktemp("cob-template") / "home"
    settings_ = Settings(home=home, database_url=f"sqlite:///{home / 'lendflow.db'}")
    init_workspace(settings_)
    ws = open_workspace(settings_, gateway=SandboxGateway(home / "sandbox_gateway.db"))
    admin = ws.actor("admin")
    for path in example_product_paths():
        products.import_product(ws, admin, path, activate=True, as_of=OPENING_DAY)
    ws.close()
    return home


@dataclass
class Desk:
    """One workspace and what happened in it: loan ids by plan number, amounts posted."""

    ws: Workspace
    loan_ids: dict[int, int] = field(default_factory=dict)
    posted: list[int | None] = field(default_factory=list)
    counts: SweepCounts = field(default_factory=SweepCounts)
    config: CobConfig = CONFIG
    most_following: int = 0  # the most loans that followed the mark after any close


def desk_from(template: Path, home: Path, config: CobConfig = CONFIG) -> Desk:
    """A fresh copy of the template, on its own SQLite file and sandbox gateway."""
    shutil.copytree(template, home)
    settings_ = Settings(home=home, database_url=f"sqlite:///{home / 'lendflow.db'}")
    gateway = SandboxGateway(home / "sandbox_gateway.db")
    return Desk(open_workspace(settings_, gateway=gateway), config=config)


def applicant(plan: LoanPlan, serial: int) -> Application:
    """A new borrower for each loan, aged 35 to 36 and eligible for both products."""
    return Application(
        product=plan.product,
        name="王五",
        national_id=sample_national_id(date(1990, 3, 1), serial),
        phone="13912345678",
        monthly_income=5_000_000,
        amount=plan.amount,
        term=plan.term,
        consents=CONSENTS,
    )


def open_loan(desk: Desk, index: int, plan: LoanPlan) -> None:
    """Apply, review, approve and pay out on one day; the upfront fee paid then if planned."""
    ws, ops, risk = desk.ws, desk.ws.actor("ops"), desk.ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(plan, 100 + index), plan.disbursed).id
    applications.start_review(ws, ops, loan_id, plan.disbursed)
    applications.approve(ws, risk, loan_id, plan.disbursed)
    disbursement.disburse(ws, ops, loan_id, plan.disbursed)
    desk.loan_ids[index] = loan_id
    if plan.fee_at_signing:
        fee = next(r["fee"] for r in instalment_rows(ws, loan_id) if r["n"] == 0)
        repayments.repay(ws, ops, loan_id, fee, plan.disbursed, f"signing-{index}")


def lapse_approval(desk: Desk, day: date) -> None:
    """An approved application never paid out: close of business must let it expire."""
    ws, ops = desk.ws, desk.ws.actor("ops")
    plan = LoanPlan("cash-easy", 500_000, 6, day, fee_at_signing=False)
    loan_id = applications.apply(ws, ops, applicant(plan, 99), day).id
    applications.start_review(ws, ops, loan_id, day)
    applications.approve(ws, ws.actor("risk"), loan_id, day)


def instalment_rows(ws: Workspace, loan_id: int) -> list[dict[str, Any]]:
    with ws.engine.connect() as conn:
        rows = conn.execute(
            select(instalments).where(instalments.c.loan_id == loan_id).order_by(instalments.c.n)
        ).mappings()
        return [dict(r) for r in rows]


def loan_state(ws: Workspace, loan_id: int) -> str:
    with ws.engine.connect() as conn:
        return conn.execute(select(loans.c.state).where(loans.c.id == loan_id)).scalar_one()


def owed(row: dict[str, Any]) -> int:
    """What is still owed on one instalment, penalty included."""
    return (
        row["principal"]
        + row["interest"]
        + row["fee"]
        + row["penalty"]
        - row["principal_paid"]
        - row["interest_paid"]
        - row["fee_paid"]
        - row["penalty_paid"]
        - row["interest_waived"]
        - row["fee_waived"]
    )


def amount_for(ws: Workspace, loan_id: int, payment: PaymentPlan) -> int | None:
    """The amount a borrower would pay today, or None when the loan takes no more payments.

    `due` clears everything fallen due (or the next instalment if nothing is due),
    `short` pays what is due less `share` x 0.20 (around the arrears tolerance),
    `instalment` pays the next open instalment as scheduled (without penalty),
    `partial` pays `share` percent of what is due, `payoff` settles from a quote.
    """
    if loan_state(ws, loan_id) not in LIVE:
        return None
    rows = [r for r in instalment_rows(ws, loan_id) if owed(r) > 0]
    if not rows:
        return None
    due = sum(owed(r) for r in rows if r["due_date"] <= payment.day) or owed(rows[0])
    if payment.kind == "due":
        return due
    if payment.kind == "short":
        return max(1, due - 20 * payment.share)
    if payment.kind == "instalment":
        first = rows[0]
        scheduled = first["principal"] + first["interest"] + first["fee"]
        # a borrower with a few fen left who pays a whole instalment is refused beyond
        # the policy's overpayment limit: they pay at most what the lender would take
        settles = repayments.quote(ws, ws.actor("ops"), loan_id, payment.day).total
        return min(scheduled, settles + ws.policy.max_overpayment)
    if payment.kind == "partial":
        return max(1, due * payment.share // 100)
    return repayments.quote(ws, ws.actor("ops"), loan_id, payment.day).total


def post(desk: Desk, book: Book, day: date, amounts: list[int | None] | None) -> None:
    """Everything the book does on `day`: pay-outs, then the lapsing approval, then repayments.

    With `amounts` None the amounts are worked out here and recorded; otherwise the
    recorded ones are posted again, so a second workspace sees exactly the same operations.
    """
    for index, plan in enumerate(book.loans):
        if plan.disbursed == day:
            open_loan(desk, index, plan)
    if book.lapsing == day:
        lapse_approval(desk, day)
    ops = desk.ws.actor("ops")
    for number, payment in enumerate(book.payments):
        if payment.day != day:
            continue
        loan_id = desk.loan_ids[payment.loan]
        if amounts is None:
            amount = amount_for(desk.ws, loan_id, payment)
            desk.posted.append(amount)
        else:
            amount = amounts[number]
        if amount is not None:
            repayments.repay(desk.ws, ops, loan_id, amount, day, f"pay-{number}")


def close(desk: Desk, first: date, last: date) -> None:
    """Close [first, last] as one run, as `lendflow cob run --as-of FIRST --to LAST` does."""
    desk.counts += cob.close_range(desk.ws, LO, HI, first, last, "cob", desk.config)
    with desk.ws.engine.connect() as conn:
        following = select(func.count()).where(loans.c.follows_from.is_not(None))
        desk.most_following = max(desk.most_following, conn.execute(following).scalar_one())


def run_day_by_day(
    desk: Desk,
    book: Book,
    amounts: list[int | None] | None = None,
    *,
    check: bool = False,
) -> None:
    """Post each day's business, then close that day alone, through END.

    With `check`, the loans are checked after every posting and every close, and the
    full audit runs after every posting, after closing a business date and at month end.
    """
    days = set(book.dates())
    d = book.first_day
    while d <= END:
        if d in days:
            post(desk, book, d, amounts)
            if check:
                check_books(desk.ws, after_close=False)
        close(desk, d, d)
        if check:
            check_loans(desk.ws, after_close=True)
            if d in days or (d + DAY).day == 1:
                check_audit(desk.ws)
        d += DAY


def run_in_gaps(
    desk: Desk,
    book: Book,
    amounts: list[int | None] | None = None,
    *,
    check: bool = False,
) -> None:
    """Post each business date's business, then close up to the next one as one range."""
    days = book.dates()
    for here, following in zip(days, [*days[1:], END + DAY], strict=True):
        post(desk, book, here, amounts)
        if check:
            check_books(desk.ws, after_close=False)
        close(desk, here, following - DAY)
        if check:
            check_books(desk.ws, after_close=True)


def comparable(ws: Workspace) -> dict[str, Any]:
    """What a lender reports from: loans (with the figures a loan following its range's
    mark has through it), schedules, ledger by loan, notices, loan events."""
    rows = run_in_transaction(
        ws.engine,
        lambda uow: cob_marks.current_rows(
            uow,
            [
                dict(r)
                for r in uow.connection.execute(select(loans).order_by(loans.c.id)).mappings()
            ],
        ),
    )
    loan_rows = [
        {k: v for k, v in r.items() if k not in ("created_at", "updated_at", "follows_from")}
        for r in rows
    ]
    with ws.engine.connect() as conn:
        schedule = [
            {k: v for k, v in r.items() if k != "id"}
            for r in conn.execute(
                select(instalments).order_by(instalments.c.loan_id, instalments.c.n)
            ).mappings()
        ]
        ledger = conn.execute(
            select(
                journal_lines.c.loan_id,
                journal_lines.c.account,
                func.sum(journal_lines.c.debit),
                func.sum(journal_lines.c.credit),
            )
            .group_by(journal_lines.c.loan_id, journal_lines.c.account)
            .order_by(journal_lines.c.loan_id, journal_lines.c.account)
        ).all()
        ledger_by_day = conn.execute(
            select(
                journal_lines.c.loan_id,
                journal_entries.c.kind,
                journal_entries.c.business_date,
                journal_lines.c.account,
                func.sum(journal_lines.c.debit),
                func.sum(journal_lines.c.credit),
            )
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .group_by(
                journal_lines.c.loan_id,
                journal_entries.c.kind,
                journal_entries.c.business_date,
                journal_lines.c.account,
            )
            .order_by(
                journal_lines.c.loan_id,
                journal_entries.c.business_date,
                journal_entries.c.kind,
                journal_lines.c.account,
            )
        ).all()
        notice_rows = conn.execute(
            select(
                notices.c.loan_id, notices.c.kind, notices.c.dpd, notices.c.business_date
            ).order_by(notices.c.loan_id, notices.c.dpd)
        ).all()
        trail: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for r in conn.execute(
            select(events).where(events.c.entity == "loan").order_by(events.c.id)
        ).mappings():
            trail[r["entity_id"]].append(
                (
                    r["name"],
                    r["trigger"],
                    r["from_state"],
                    r["to_state"],
                    r["business_date"],
                    r["actor"],
                    json.loads(r["payload"]),
                )
            )
    return {
        "loans": loan_rows,
        "instalments": schedule,
        "ledger": [tuple(r) for r in ledger],
        "ledger_by_day": [tuple(r) for r in ledger_by_day],
        "notices": [tuple(r) for r in notice_rows],
        "events": dict(trail),
    }


def first_difference(section: str, nightly: Any, ranges: Any) -> str:
    """Where day-by-day and range closing first disagree, column by column for rows."""
    if isinstance(nightly, dict):
        for key in sorted(set(nightly) | set(ranges)):
            if nightly.get(key) != ranges.get(key):
                return first_difference(f"{section}[{key}]", nightly.get(key), ranges.get(key))
    if isinstance(nightly, list) and isinstance(ranges, list):
        for n, (one, other) in enumerate(zip(nightly, ranges, strict=False)):
            if one != other:
                if isinstance(one, dict) and isinstance(other, dict):
                    columns = [k for k in one if one[k] != other.get(k)]
                    changes = ", ".join(f"{k}: {one[k]!r} vs {other.get(k)!r}" for k in columns)
                    return f"{section} row {n} (day by day vs ranges): {changes}"
                return f"{section} row {n}: day by day {one!r} vs ranges {other!r}"
        return f"{section}: {len(nightly)} rows day by day vs {len(ranges)} in ranges"
    return f"{section}: day by day {nightly!r} vs ranges {ranges!r}"


def label_coverage(books_: dict[str, Any]) -> None:
    """Tell hypothesis's statistics which loan lives the examples reached."""
    for row in books_["loans"]:
        event(f"ends {row['state']}")
    names = {step[0] for trail in books_["events"].values() for step in trail}
    for name in ("LoanCured", "LoanClosed", "CollectionNoticeIssued", "LoanExpired"):
        event(f"{name} {'seen' if name in names else 'not seen'}")


def full_dump(ws: Workspace) -> dict[str, Any]:
    """Every row of every table close of business writes, timestamps and versions included."""
    tables: tuple[Table, ...] = (
        loans,
        instalments,
        journal_entries,
        journal_lines,
        notices,
        event_chain,
    )
    with ws.engine.connect() as conn:
        dump: dict[str, Any] = {
            table.name: [
                dict(r) for r in conn.execute(select(table).order_by(*table.primary_key)).mappings()
            ]
            for table in tables
        }
        dump["events_count"] = conn.execute(select(func.count()).select_from(events)).scalar_one()
    return dump


def check_books(ws: Workspace, *, after_close: bool) -> None:
    """The audit passes, no balance is negative, and (after a close) status agrees with dpd."""
    check_audit(ws)
    check_loans(ws, after_close=after_close)


def check_audit(ws: Workspace) -> None:
    """Every entry balances, stored balances are the journal's, the event chain is intact."""
    report = audit.verify(ws, ws.actor("auditor"))
    assert report.ok, report.problems


def check_loans(ws: Workspace, *, after_close: bool) -> None:
    """No balance or instalment is negative; after a close, overdue means dpd > 0."""
    with ws.engine.connect() as conn:
        loan_rows = conn.execute(select(loans)).mappings().all()
        schedule = conn.execute(select(instalments)).mappings().all()
    for row in loan_rows:
        label = f"loan {row['id']} ({row['state']}, cob through {row['cob_through']})"
        for column in (*LOAN_BALANCES, "credit_balance"):
            assert row[column] >= 0, f"{label}: {column} is {row[column]}"
        if after_close and row["state"] == "overdue":
            assert row["dpd"] > 0, f"{label}: overdue with dpd {row['dpd']}"
        if after_close and row["state"] == "active":
            assert row["dpd"] == 0, f"{label}: active with dpd {row['dpd']}"
    for item in schedule:
        label = f"loan {item['loan_id']} instalment {item['n']}"
        assert owed(item) >= 0, f"{label}: paid more than it owed"
        for part in ("principal", "interest", "fee", "penalty"):
            assert item[f"{part}_paid"] >= 0, f"{label}: {part} paid {item[f'{part}_paid']}"


@PROPERTY_SETTINGS
@given(book=books())
def test_a_range_closes_exactly_as_its_days_would_one_by_one(template: Path, book: Book) -> None:
    """Closing days in ranges must give the books closing them one night at a time gives.

    A lender catches up after an outage or a long weekend with one run over the missed
    dates. If that run charged a different penalty, moved a loan at a different date or
    issued a notice on a different day than the nightly runs would have, the borrower's
    statement would depend on when the servers were up, and two lenders with the same
    loans would report different arrears.
    """
    with tempfile.TemporaryDirectory() as tmp:
        nightly = desk_from(template, Path(tmp) / "nightly")
        catch_up = desk_from(template, Path(tmp) / "catch-up")
        try:
            run_day_by_day(nightly, book)
            run_in_gaps(catch_up, book, nightly.posted)
            expected, actual = comparable(nightly.ws), comparable(catch_up.ws)
            label_coverage(expected)
            for section in expected:
                assert actual[section] == expected[section], first_difference(
                    section, expected[section], actual[section]
                )
            assert catch_up.counts == nightly.counts
        finally:
            nightly.ws.close()
            catch_up.ws.close()


@settings(PROPERTY_SETTINGS, max_examples=8)
@given(
    book=books(),
    again=st.integers(0, (END - OPENING_DAY).days),
    span=st.integers(0, 45),
)
def test_closing_a_closed_date_again_changes_nothing(
    template: Path, book: Book, again: int, span: int
) -> None:
    """A date closed twice must count once: no second day's penalty, no second notice.

    Operators rerun close of business when they are unsure a run finished, and schedulers
    retry failed tasks. A rerun that accrued penalty again, reissued a notice or bumped a
    loan's status would overcharge borrowers and misreport the book.
    """
    with tempfile.TemporaryDirectory() as tmp:
        desk = desk_from(template, Path(tmp) / "ws")
        try:
            run_in_gaps(desk, book)
            before = full_dump(desk.ws)
            rerun = max(book.first_day, OPENING_DAY + timedelta(days=again))
            reruns = ((rerun, rerun), (END, END), (rerun, min(rerun + timedelta(days=span), END)))
            for first, last in reruns:
                totals = cob.close_range(desk.ws, LO, HI, first, last, "cob", CONFIG)
                assert totals == SweepCounts(), f"closing {first}..{last} again reported {totals}"
                assert full_dump(desk.ws) == before, f"closing {first}..{last} again"
        finally:
            desk.ws.close()


@settings(PROPERTY_SETTINGS, max_examples=8)
@given(book=books(), nightly=st.booleans())
def test_the_books_stay_proven_through_every_phase(
    template: Path, book: Book, nightly: bool
) -> None:
    """After every posting and every close the audit passes and status agrees with dpd.

    The journal is the lender's legal record; a loan's stored balances must be what its
    journal lines add up to, and none may go negative. A loan marked overdue with no days
    past due (or active while days past due run) is misreported to the regulator and
    would be chased, or not chased, wrongly.
    """
    with tempfile.TemporaryDirectory() as tmp:
        desk = desk_from(template, Path(tmp) / "ws")
        try:
            (run_day_by_day if nightly else run_in_gaps)(desk, book, check=True)
        finally:
            desk.ws.close()


@settings(PROPERTY_SETTINGS, max_examples=8)
@given(book=books(), nightly=st.booleans())
def test_loans_following_the_mark_come_out_as_loans_written_every_night(
    template: Path, book: Book, nightly: bool
) -> None:
    """A quiet loan follows its range's mark instead of having its row written each night;
    the books must be exactly those of a night that writes every row.

    Its watermark, fen-days of principal (the charges cap's base) and accrual are derived
    from what it stores: if the derivation drifted by a fen from what the nightly writes
    add up to, the interest income, the cap and the accrual the audit proves would be
    wrong for every quiet loan in the book, and silently.
    """
    with tempfile.TemporaryDirectory() as tmp:
        marked = desk_from(template, Path(tmp) / "marked")
        written = desk_from(template, Path(tmp) / "written", EVERY_ROW_WRITTEN)
        run = run_day_by_day if nightly else run_in_gaps
        try:
            run(marked, book)
            run(written, book, marked.posted)
            event(f"at most {min(marked.most_following, 3)} loans followed the mark at once")
            assert written.most_following == 0
            expected, actual = comparable(written.ws), comparable(marked.ws)
            for section in expected:
                assert actual[section] == expected[section], first_difference(
                    section, expected[section], actual[section]
                )
            assert marked.counts == written.counts
            check_audit(marked.ws)
        finally:
            marked.ws.close()
            written.ws.close()

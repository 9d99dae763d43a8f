"""Close of business catching up loans, writing off on a due date, and racing a repayment.

cash-easy: 10,000.00 over 3 months, grace 3 days, penalty 24% a year / 360 on overdue
principal (2.19 a day on the first instalment's 3,290.37 when disbursed on a 12th).
"""

from __future__ import annotations

import contextlib
import threading
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import OperationalError

from lendflow.bootstrap import workspace_for
from lendflow.close_of_business import sweep as cob
from lendflow.close_of_business.results import SweepCounts
from lendflow.close_of_business.steps import STEPS
from lendflow.config.cob import CobConfig, load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans.results import RepaymentResult
from lendflow.products import catalogue as products
from lendflow.store import cob_queries as q
from lendflow.store import range_locks
from lendflow.store.cob_marks import CLOSED_THROUGH
from lendflow.store.tables import events, instalments, journal_entries, journal_lines, loans
from lendflow.store.uow import run_in_transaction
from tests.conftest import _postgres_schema_url
from tests.service.conftest import ready_workspace
from tests.service.journal_reads import entry_lines

CONFIG = load_cob_config()
DAY = timedelta(days=1)


def open_loan(ws, ops, risk, applicant, on: date, product: str = "cash-easy") -> int:  # type: ignore[no-untyped-def]
    """Applied for, approved and paid out on `on`: 10,000.00 over 3 months."""
    loan = applications.apply(ws, ops, applicant(product=product, amount="10000", term=3), on)
    applications.start_review(ws, ops, loan.id, on)
    applications.approve(ws, risk, loan.id, on)
    disbursement.disburse(ws, ops, loan.id, on)
    return loan.id


def close(ws, first: date, last: date | None = None, config: CobConfig = CONFIG) -> SweepCounts:  # type: ignore[no-untyped-def]
    return cob.close_range(ws, 1, 10_000, first, last or first, "cob", config)


def status(ws, loan_id: int) -> tuple[object, ...]:  # type: ignore[no-untyped-def]
    with ws.engine.connect() as c:
        row = c.execute(
            select(
                loans.c.state,
                loans.c.dpd,
                loans.c.bucket,
                loans.c.classification,
                loans.c.penalty_receivable,
                CLOSED_THROUGH,
            ).where(loans.c.id == loan_id)
        ).one()
    return tuple(row)


def pause_after_penalty(
    monkeypatch: pytest.MonkeyPatch, lo: int | None = None
) -> tuple[threading.Event, threading.Event]:
    """Hold a chunk open after its penalty step (only the chunk starting at `lo`, if given):
    `paused` is set once it waits there, and it goes on when `release` is set."""
    paused, release = threading.Event(), threading.Event()
    penalty_step = STEPS["penalty"]

    def penalty_then_wait(day) -> None:  # type: ignore[no-untyped-def]
        penalty_step(day)
        if lo is None or day.lo == lo:
            paused.set()
            release.wait(30)

    monkeypatch.setitem(STEPS, "penalty", penalty_then_wait)
    return paused, release


def history(ws, loan_id: int) -> dict[str, list[tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    """What a statement of the loan shows: penalties per instalment, ledger, events by day."""
    with ws.engine.connect() as c:
        penalties = c.execute(
            select(instalments.c.n, instalments.c.penalty, instalments.c.recognised)
            .where(instalments.c.loan_id == loan_id)
            .order_by(instalments.c.n)
        ).all()
        ledger = c.execute(
            select(
                journal_entries.c.kind,
                journal_entries.c.business_date,
                journal_lines.c.account,
                func.sum(journal_lines.c.debit),
                func.sum(journal_lines.c.credit),
            )
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(journal_lines.c.loan_id == loan_id)
            .group_by(
                journal_entries.c.kind, journal_entries.c.business_date, journal_lines.c.account
            )
            .order_by(
                journal_entries.c.business_date, journal_entries.c.kind, journal_lines.c.account
            )
        ).all()
        trail = c.execute(
            select(events.c.name, events.c.business_date)
            .where(events.c.entity == "loan", events.c.entity_id == str(loan_id))
            .order_by(events.c.id)
        ).all()
    return {
        "penalties": [tuple(r) for r in penalties],
        "ledger": [tuple(r) for r in ledger],
        "events": [tuple(r) for r in trail],
    }


def test_a_loan_paid_out_into_a_closed_date_is_caught_up(ws, ops, risk, auditor, applicant) -> None:  # type: ignore[no-untyped-def]
    """Paid out on a date the rest of its range has already closed, a loan still gets that date.

    Two identical loans are paid out on 20 Feb: one before that date is closed, one
    after. From then on they must age, be charged and be reminded exactly alike.
    """
    open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    close(ws, date(2026, 1, 12), date(2026, 2, 19))
    on_time = open_loan(ws, ops, risk, applicant, date(2026, 2, 20))
    close(ws, date(2026, 2, 20))
    late = open_loan(ws, ops, risk, applicant, date(2026, 2, 20))
    assert status(ws, late)[5] == date(2026, 2, 19)  # a day behind the rest of its range
    counts = close(ws, date(2026, 2, 21), date(2026, 3, 31))
    # 3 loans for 39 dates, and the late loan's own 20 Feb
    assert counts.loans_scanned == 3 * 39 + 1
    assert status(ws, late) == status(ws, on_time)
    assert status(ws, late)[:2] == ("overdue", 11) and status(ws, late)[5] == date(2026, 3, 31)
    assert history(ws, late) == history(ws, on_time)
    assert audit.verify(ws, auditor).ok


def test_closing_a_later_date_closes_the_dates_missed_before_it(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    close(ws, date(2026, 1, 12), date(2026, 2, 10))
    counts = close(ws, date(2026, 2, 20))  # 11 to 19 Feb were never closed
    assert counts.loans_scanned == 10
    # 8 days late, penalty from the 4th day on: 5 x 2.19
    assert status(ws, loan_id) == ("overdue", 8, "M1", "special_mention", 1095, date(2026, 2, 20))


def test_a_date_closed_again_reads_nothing_new(ws, ops, risk, applicant) -> None:  # type: ignore[no-untyped-def]
    loan_id = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    close(ws, date(2026, 1, 12), date(2026, 2, 20))
    before = status(ws, loan_id), history(ws, loan_id)
    assert close(ws, date(2026, 2, 1), date(2026, 2, 20)) == SweepCounts()
    assert (status(ws, loan_id), history(ws, loan_id)) == before


@pytest.fixture
def quick_write_off(ws, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    """cash-easy, but written off past 30 days: the second instalment falls due that day."""
    text = example_product_paths()[0].read_text(encoding="utf-8")
    assert "code: cash-easy" in text and "write_off_dpd: 360" in text
    path = tmp_path / "cash-quick.yaml"
    path.write_text(
        text.replace("code: cash-easy", "code: cash-quick").replace(
            "write_off_dpd: 360", "write_off_dpd: 30"
        ),
        encoding="utf-8",
    )
    products.import_product(ws, ws.actor("admin"), path, activate=True, as_of=date(2026, 1, 5))
    return "cash-quick"


DELINQUENCY_FIRST = CobConfig(
    steps=[
        "expire_approvals",
        "accrue_interest",
        "delinquency",
        "non_accrual",
        "recognise_due",
        "penalty",
        "collection_notices",
    ]
)


@pytest.mark.parametrize(
    ("config", "second_recognised"), [(CONFIG, True), (DELINQUENCY_FIRST, False)]
)
def test_a_loan_written_off_on_a_due_date_leaves_nothing_on_the_books(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, quick_write_off, config, second_recognised
) -> None:
    """Written off on 12 Apr, the day its second instalment falls due (31 days late).

    With charges recognised first, that instalment's interest and fee are booked and
    written off with the rest; with delinquency first, the loan has left the live
    book before they fall due, and they are never booked. Either way nothing is
    left receivable and the books prove.
    """
    loan_id = open_loan(ws, ops, risk, applicant, date(2026, 2, 12), quick_write_off)
    close(ws, date(2026, 2, 12), date(2026, 4, 11), config)
    assert status(ws, loan_id)[:2] == ("overdue", 30)
    assert close(ws, date(2026, 4, 12), config=config).written_off == 1
    with ws.engine.connect() as c:
        row = c.execute(select(loans).where(loans.c.id == loan_id)).mappings().one()
        items = c.execute(
            select(instalments.c.interest, instalments.c.recognised)
            .where(instalments.c.loan_id == loan_id)
            .order_by(instalments.c.n)
        ).all()
        interest_written_off = c.execute(
            select(func.sum(journal_lines.c.credit))
            .join(journal_entries, journal_entries.c.id == journal_lines.c.entry_id)
            .where(
                journal_lines.c.loan_id == loan_id,
                journal_entries.c.kind == "write_off",
                journal_lines.c.account == "interest_receivable",
            )
        ).scalar_one()
    assert row["state"] == "written_off" and row["written_off_amount"] == 1_000_000
    assert [row[c] for c in ("interest_receivable", "fee_receivable", "penalty_receivable")] == [
        0,
        0,
        0,
    ]
    assert row["cob_through"] == date(2026, 4, 11)  # it left the live book on the 12th
    assert items[1][1] is second_recognised
    assert interest_written_off == items[0][0] + (items[1][0] if second_recognised else 0)
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_income_is_booked_per_chunk_and_receivables_per_loan(
    ws, ops, risk, auditor, applicant
) -> None:  # type: ignore[no-untyped-def]
    first = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    second = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    close(ws, date(2026, 1, 12), date(2026, 2, 12))
    with ws.engine.connect() as c:
        entry = c.execute(
            select(journal_entries.c.id).where(
                journal_entries.c.kind == "charges_due",
                journal_entries.c.business_date == date(2026, 2, 12),
            )
        ).scalar_one()
        lines = entry_lines(c, entry)
    # 130.00 interest and 10.00 fee fall due on each loan
    assert sorted((tuple(r) for r in lines), key=repr) == sorted(
        [
            (first, "interest_receivable", 13_000, 0),
            (first, "fee_receivable", 1_000, 0),
            (second, "interest_receivable", 13_000, 0),
            (second, "fee_receivable", 1_000, 0),
            (None, "interest_accrued", 0, 26_000),  # out of accrual
            (None, "fee_income", 0, 2_000),
        ],
        key=repr,
    )
    assert audit.verify(ws, auditor).ok


@pytest.mark.parametrize(
    "hi",
    [10_000, 500],
    ids=["range of whole granules", "range smaller than a granule"],
)
def test_a_repayment_posted_while_a_chunk_closes_is_kept(  # type: ignore[no-untyped-def]
    ws, ops, risk, auditor, applicant, monkeypatch: pytest.MonkeyPatch, hi: int
) -> None:
    """The repayment waits for the chunk's lock, then sees what the chunk wrote: on
    PostgreSQL the lock of the loan's granule of ids, or of its row at a range's edge."""
    loan_id = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    close(ws, date(2026, 1, 12), date(2026, 2, 19))
    paused, release = pause_after_penalty(monkeypatch)
    closed: list[SweepCounts] = []
    paid: list[RepaymentResult] = []
    night = date(2026, 2, 20)
    closing = threading.Thread(
        target=lambda: closed.append(cob.close_range(ws, 1, hi, night, night, "cob", CONFIG))
    )
    closing.start()
    assert paused.wait(30)
    # the first instalment and 5 days of penalty (2.19 a day from the 16th to the 20th)
    paying = threading.Thread(
        target=lambda: paid.append(
            repayments.repay(ws, ops, loan_id, 343_037 + 1_095, date(2026, 2, 21), "race-1")
        )
    )
    paying.start()
    paying.join(0.5)
    assert paying.is_alive() and not paid  # it waits for the chunk
    release.set()
    closing.join(30)
    paying.join(30)
    assert closed and closed[0].penalty_accrued == 219
    assert paid and paid[0].status == "active"
    assert paid[0].outstanding.penalty == 0
    assert status(ws, loan_id) == ("active", 0, "M0", "normal", 0, date(2026, 2, 20))
    with ws.engine.connect() as c:
        assert c.execute(select(loans.c.credit_balance).where(loans.c.id == loan_id)).scalar() == 0
    report = audit.verify(ws, auditor)
    assert report.ok, report.problems


def test_a_chunk_on_postgresql_locks_its_whole_granules_and_no_loan_row_in_them(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row lock is written into the row on PostgreSQL: a chunk that locked every live
    loan of its range dirtied every page of them each night. It locks its granules of
    ids instead, so its loans' rows stay unlocked while an action still waits for it."""
    if ws.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing is locked by row")
    loan_id = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    close(ws, date(2026, 1, 12), date(2026, 2, 19))
    paused, release = pause_after_penalty(monkeypatch)
    closing = threading.Thread(target=lambda: close(ws, date(2026, 2, 20)))
    closing.start()
    try:
        assert paused.wait(30)
        with ws.engine.connect() as c:
            locked = c.exec_driver_sql(
                "SELECT id FROM loans WHERE id = %(id)s FOR UPDATE NOWAIT", {"id": loan_id}
            ).scalar()
            granules = c.exec_driver_sql(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                " AND mode = 'ExclusiveLock' AND objsubid = 2 AND classid ="
                " CAST(hashtext(%(space)s || current_schema())::bigint & 4294967295 AS oid)"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                {"space": range_locks.SPACE},
            ).scalar()
            c.rollback()
        assert locked == loan_id
        assert granules == 10  # ids 1 to 10,000
    finally:
        release.set()
        closing.join(30)


def test_chunks_side_by_side_never_wait_for_each_other(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel chunks (Prefect tasks on Dask workers) meet at ids that share a granule:
    each takes that granule's lock shared and its own loans' rows, so a chunk closes
    while its neighbour is still open."""
    if ws.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: its chunks always take turns")
    loan_id = open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    night = date(2026, 1, 13)
    paused, release = pause_after_penalty(monkeypatch, lo=1)
    first = threading.Thread(
        target=lambda: cob.close_range(ws, 1, 1_500, night, night, "cob", CONFIG)
    )
    first.start()
    try:
        assert paused.wait(30)
        beside = threading.Thread(
            target=lambda: cob.close_range(ws, 1_501, 3_000, night, night, "cob", CONFIG)
        )
        beside.start()
        beside.join(10)
        assert not beside.is_alive()  # it closed while the first chunk is still open
    finally:
        release.set()
        first.join(30)
    assert status(ws, loan_id)[-1] == night


def test_workspaces_in_schemas_of_one_database_never_wait_for_each_others_chunks(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Advisory locks belong to the whole database: keyed by granule alone, a chunk in one
    workspace's schema held up every loan action on the same ids in another's."""
    if ws.engine.dialect.name != "postgresql":
        pytest.skip("SQLite workspaces are files of their own")
    open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
    night = date(2026, 1, 13)
    paused, release = pause_after_penalty(monkeypatch)
    base_url = ws.settings.resolved_database_url.split("?")[0]
    with contextlib.contextmanager(_postgres_schema_url)(base_url) as other_url:
        other = ready_workspace(Settings(home=tmp_path / "other", database_url=other_url))
        closing = threading.Thread(target=lambda: close(ws, night))
        closing.start()
        try:
            assert paused.wait(30)
            lent: list[int] = []
            lending = threading.Thread(
                target=lambda: lent.append(
                    open_loan(other, other.actor("ops"), other.actor("risk"), applicant, night)
                )
            )
            lending.start()
            lending.join(15)
            assert not lending.is_alive() and lent  # paid out while the other chunk is open
        finally:
            release.set()
            closing.join(30)
            other.close()


@pytest.mark.parametrize(
    ("statement", "index"),
    [
        (q.ARREARS, "ix_instalments_arrears"),
        (q.FALLING_DUE_TODAY, "ix_instalments_unrecognised"),
        (q.OVERDUE_BEFORE, "ix_loans_state"),
        (q.LIVE_COUNT, "ix_loans_state"),
        (q.LIFTED_BORROWERS, "ix_loans_lifted"),
        # a range's live loans in the table itself, never each looked up from the status
        # index; the few in non-accrual, held or restructured through their own
        (q.ACCRUAL_DUE, "INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
        (q.ACCRUAL_SUSPENDED, "ix_loans_non_accrual"),
        (q.HELD, "ix_loans_held"),
        (q.RESTRUCTURED, "ix_loans_restructured"),
    ],
)
def test_the_nightly_reads_go_through_their_indexes(ws, statement, index) -> None:  # type: ignore[no-untyped-def]
    """A read that scanned the whole instalments table would cost more than the whole night."""
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite, the embedded default")
    bound = statement.params(
        d=date(2026, 7, 1), prev=date(2026, 6, 30), lo=1, hi=50_000, day=739_800
    )
    sql = str(bound.compile(dialect=ws.engine.dialect, compile_kwargs={"literal_binds": True}))
    with ws.engine.connect() as c:
        plan = [row[3] for row in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert any(index in step for step in plan), plan
    assert not any(step.startswith("SCAN") for step in plan), plan


def test_on_postgresql_the_night_reads_through_indexes_too(settings) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL's statistics cannot see that instalments never recognised all fall due
    later: left to them, "unrecognised and due before today" (normally none) scanned the
    whole instalments table for every chunk. A chunk's transaction reads by index, here
    on the benchmark's book of 8,000 loans with its statistics gathered."""
    if not settings.resolved_database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's planner; SQLite's plans are checked above")
    from benchmarks.bench_cob import generate

    generate(settings.home / "book", 8_000, settings.resolved_database_url)
    ws = workspace_for(Settings(home=settings.home / "book", database_url=settings.database_url))
    statements = {
        "arrears": q.ARREARS,
        "fell due earlier": q.FELL_DUE_EARLIER,
        "falling due today": q.FALLING_DUE_TODAY,
        "overdue before": q.OVERDUE_BEFORE,
        "accrual due": q.ACCRUAL_DUE,
    }

    def plans(uow):  # type: ignore[no-untyped-def]
        q.begin_chunk(uow, 1, 50_000)
        found = {}
        for name, statement in statements.items():
            bound = statement.params(
                d=date(2026, 7, 1), prev=date(2026, 6, 30), lo=1, hi=50_000, day=739_800
            )
            sql = bound.compile(dialect=ws.engine.dialect, compile_kwargs={"literal_binds": True})
            found[name] = [row[0] for row in uow.connection.exec_driver_sql(f"EXPLAIN {sql}")]
        return found

    try:
        found = run_in_transaction(ws.engine, plans)
    finally:
        ws.engine.dispose()
    for name, plan in found.items():
        assert not any("Seq Scan" in step or "Parallel" in step for step in plan), (name, plan)


def test_the_borrower_rule_reads_the_classed_loans_alone(ws) -> None:  # type: ignore[no-untyped-def]
    """The borrowers with a loan classed below normal are the partial index, read whole
    once per statement; the range's loans by their ids, never the whole book."""
    if ws.engine.dialect.name != "sqlite":
        pytest.skip("query plans are checked on SQLite, the embedded default")
    bound = q.BORROWERS_TO_CLASS.params(prev=date(2026, 6, 30), lo=1, hi=50_000)
    sql = str(bound.compile(dialect=ws.engine.dialect, compile_kwargs={"literal_binds": True}))
    with ws.engine.connect() as c:
        plan = [row[3] for row in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    scans = [step for step in plan if step.startswith("SCAN")]
    assert scans == ["SCAN classed USING INDEX ix_loans_classed"], plan
    assert any("rowid>? AND rowid<?" in step or "id>? AND id<?" in step for step in plan), plan
    # ... and then those borrowers' loans by customer
    bound = q.BORROWERS_LOANS.params(ids=[7, 8])
    sql = str(bound.compile(dialect=ws.engine.dialect, compile_kwargs={"literal_binds": True}))
    with ws.engine.connect() as c:
        plan = [row[3] for row in c.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
    assert plan == ["SEARCH loans USING INDEX ix_loans_customer_id (customer_id=?)"], plan


def test_a_chunk_holds_every_live_loan_of_its_range_until_it_commits(  # type: ignore[no-untyped-def]
    ws, ops, risk, applicant
) -> None:
    """On PostgreSQL a chunk locks its range's live loans before it reads (the lock is
    counted on the server, not fetched): an action on any of them waits, one on a loan
    outside the range does not."""
    if ws.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's chunk holds the database's write lock (BEGIN IMMEDIATE)")
    first, second, outside = (open_loan(ws, ops, risk, applicant, date(2026, 1, 12))
                              for _ in range(3))  # fmt: skip
    probe = select(loans.c.id).where(loans.c.id == bindparam("id")).with_for_update(nowait=True)

    def chunk(uow):  # type: ignore[no-untyped-def]
        q.begin_chunk(uow, first, second)
        held = []
        with ws.engine.connect() as other:
            for loan_id in (first, second, outside):
                try:
                    with other.begin():
                        other.execute(probe, {"id": loan_id}).all()
                except OperationalError as exc:
                    assert "could not obtain lock" in str(exc)
                    held.append(loan_id)
        return held

    assert run_in_transaction(ws.engine, chunk) == [first, second]

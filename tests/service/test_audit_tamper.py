"""`audit verify` catches tampering with what borrowers owe and with the trail itself.

Each case edits the raw database with SQL, the way an intruder or a careless DBA
would, on a book whose audit is clean, and the audit must name the row. The book:
two cash-easy loans of 10,000.00 over 3 months paid out on 2026-01-12; one repaid its
first instalment on its due date, the other never paid and is overdue (grace 3 days,
penalty 24% a year) by the time close of business has closed 2026-03-01.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from alembic import command
from sqlalchemy import insert, select, text

from lendflow.bootstrap import ensure_key_file, init_workspace, open_workspace
from lendflow.close_of_business import sweep as cob
from lendflow.close_of_business.results import SweepCounts
from lendflow.config.cob import load_cob_config
from lendflow.config.product_spec import example_product_paths
from lendflow.config.settings import Settings
from lendflow.domain.errors import Conflict
from lendflow.loans import applications, audit, disbursement, repayments
from lendflow.loans import views as loan_views
from lendflow.loans.applications import Application
from lendflow.products import catalogue as products
from lendflow.store import events as event_store
from lendflow.store.engine import make_engine
from lendflow.store.migrate import alembic_config
from lendflow.store.personal_data import read_secret
from lendflow.store.tables import events, loans
from lendflow.store.uow import run_in_transaction
from lendflow.workspace.anchors import anchors_path
from lendflow.workspace.context import Workspace

PAID_OUT = date(2026, 1, 12)
FIRST_DUE = date(2026, 2, 12)
CLOSED_THROUGH = date(2026, 3, 1)


@dataclass(frozen=True)
class Book:
    ws: Workspace
    paying: int
    overdue: int

    def verify(self) -> list[str]:
        return audit.verify(self.ws, self.ws.actor("auditor")).problems

    def loan(self, loan_id: int) -> dict[str, Any]:
        with self.ws.engine.connect() as c:
            return dict(c.execute(select(loans).where(loans.c.id == loan_id)).mappings().one())

    def tamper(self, sql: str, **params: Any) -> None:
        """Change the database behind the engine's back, in its own committed transaction."""
        with self.ws.engine.begin() as conn:
            assert conn.execute(text(sql), params).rowcount >= 1


def _paid_out(ws: Workspace, applicant: Callable[..., Application]) -> int:
    ops, risk = ws.actor("ops"), ws.actor("risk")
    loan_id = applications.apply(ws, ops, applicant(amount="10000", term=3), PAID_OUT).id
    applications.start_review(ws, ops, loan_id, PAID_OUT)
    applications.approve(ws, risk, loan_id, PAID_OUT)
    disbursement.disburse(ws, ops, loan_id, PAID_OUT)
    return loan_id


def _close(ws: Workspace, first: date, last: date) -> SweepCounts:
    return cob.close_range(ws, 1, 10_000, first, last, "cob", load_cob_config())


@pytest.fixture
def book(ws: Workspace, applicant: Callable[..., Application]) -> Book:
    paying, overdue = _paid_out(ws, applicant), _paid_out(ws, applicant)
    _close(ws, PAID_OUT, FIRST_DUE - date.resolution)
    first = loan_views.schedule(ws, ws.actor("ops"), paying).instalments[0]
    repayments.repay(ws, ws.actor("ops"), paying, first.total, FIRST_DUE)
    _close(ws, FIRST_DUE, CLOSED_THROUGH)
    made = Book(ws, paying, overdue)
    late = made.loan(overdue)
    assert (late["state"], late["dpd"] > 3, late["penalty_receivable"] > 0) == (
        "overdue",
        True,
        True,
    )
    assert made.verify() == []
    return made


def test_a_loan_status_edited_away_from_its_events_is_named(book: Book) -> None:
    book.tamper("UPDATE loans SET state = 'active' WHERE id = :id", id=book.overdue)
    assert f"loan {book.overdue}: state is active but its events say overdue" in book.verify()


def test_days_past_due_bucket_and_class_are_recounted(book: Book) -> None:
    late = book.loan(book.overdue)
    book.tamper("UPDATE loans SET dpd = 3 WHERE id = :id", id=book.overdue)
    assert (
        f"loan {book.overdue}: days_past_due is 3 but the schedule says {late['dpd']}"
        in book.verify()
    )
    book.tamper(
        "UPDATE loans SET dpd = :dpd, bucket = 'M0', classification = 'normal' WHERE id = :id",
        dpd=late["dpd"],
        id=book.overdue,
    )
    problems = book.verify()
    assert (
        f"loan {book.overdue}: bucket is M0 but {late['dpd']} days past due is {late['bucket']}"
        in problems
    )
    assert (
        f"loan {book.overdue}: classification is normal but {late['dpd']} days past due is"
        f" {late['classification']}" in problems
    )


def test_an_instalment_interest_edited_off_the_schedule_is_named(book: Book) -> None:
    rows = loan_views.schedule(book.ws, book.ws.actor("ops"), book.paying).instalments
    second = rows[1]
    book.tamper(
        "UPDATE instalments SET interest = interest - 5000 WHERE loan_id = :id AND n = 2",
        id=book.paying,
    )
    expected = f"{second.interest // 100}.{second.interest % 100:02d}"
    assert any(
        p.startswith(f"loan {book.paying} instalment 2: interest is ")
        and p.endswith(f"but the schedule says {expected}")
        for p in book.verify()
    )


def test_a_penalty_wiped_off_an_instalment_disagrees_with_the_journal(book: Book) -> None:
    book.tamper(
        "UPDATE instalments SET penalty = 0 WHERE loan_id = :id AND penalty > 0", id=book.overdue
    )
    assert any(
        p.startswith(f"loan {book.overdue}: instalments carry 0.00 penalty but the journal posted")
        for p in book.verify()
    )


def test_paid_on_must_be_a_repayment_day_and_mean_nothing_is_owed(book: Book) -> None:
    book.tamper(
        "UPDATE instalments SET paid_on = :on WHERE loan_id = :id AND n = 1",
        on=date(2026, 2, 20),
        id=book.paying,
    )
    assert (
        f"loan {book.paying} instalment 1: paid_on is 2026-02-20 but no repayment was posted"
        " that day" in book.verify()
    )
    book.tamper(
        "UPDATE instalments SET paid_on = :on WHERE loan_id = :id AND n = 1",
        on=FIRST_DUE,
        id=book.overdue,
    )
    assert any(
        p.startswith(f"loan {book.overdue} instalment 1: paid_on is 2026-02-12 but")
        and p.endswith("is still owed")
        for p in book.verify()
    )


def test_a_payout_amount_or_status_edited_is_named(book: Book) -> None:
    book.tamper("UPDATE payouts SET amount = amount + 100000 WHERE loan_id = :id", id=book.paying)
    assert any(
        p.endswith(f"(loan {book.paying}): amount is 11000.00 but the disbursement booked 10000.00")
        for p in book.verify()
    )
    book.tamper(
        "UPDATE payouts SET amount = 1000000, status = 'failed' WHERE loan_id = :id",
        id=book.paying,
    )
    assert (
        f"loan {book.paying}: a disbursement of 10000.00 was booked but no payout is paid"
        in book.verify()
    )


def test_a_deleted_contract_or_an_edited_document_is_named(book: Book) -> None:
    with book.ws.engine.connect() as c:
        contract_id = c.execute(
            text("SELECT id FROM documents WHERE loan_id = :id AND kind = 'contract'"),
            {"id": book.paying},
        ).scalar_one()
    book.tamper("UPDATE documents SET sha256 = :h WHERE id = :id", h="0" * 64, id=contract_id)
    assert (
        f"document {contract_id} (contract, loan {book.paying}): content does not match its"
        " SHA-256" in book.verify()
    )
    book.tamper("DELETE FROM documents WHERE id = :id", id=contract_id)
    assert f"loan {book.paying}: disbursed with a contract, but it has none" in book.verify()


def test_the_last_event_deleted_with_the_head_moved_back_is_caught_by_the_anchor(
    book: Book,
) -> None:
    kept = audit.anchor(book.ws, book.ws.actor("auditor"), CLOSED_THROUGH)
    assert anchors_path(book.ws).read_text().splitlines()[-1].startswith(f"{kept.event_id}\t")
    with book.ws.engine.connect() as c:
        last = c.execute(select(events).order_by(events.c.id.desc()).limit(1)).mappings().one()
        before = c.execute(
            select(events.c.id).where(events.c.id < last["id"]).order_by(events.c.id.desc())
        ).first()
    assert before is not None
    book.tamper("DELETE FROM events WHERE id = :id", id=last["id"])
    book.tamper(
        "UPDATE event_chain SET last_event_id = :e, last_hash = :h",
        e=before[0],
        h=last["prev_hash"],
    )
    assert book.verify() == [
        f"event chain is shorter than anchor of {CLOSED_THROUGH} (event {last['id']}):"
        f" its head is event {before[0]}"
    ]


def _recompute_chain_from(book: Book, event_id: int, key: bytes | None) -> None:
    """Re-link every event from `event_id` on, as someone rewriting history would."""
    with book.ws.engine.begin() as c:
        rows = c.execute(select(events).order_by(events.c.id)).mappings().all()
        prev = event_store.GENESIS_HASH
        for row in rows:
            if row["id"] >= event_id:
                digest = event_store.event_hash(prev, row, key)
                c.execute(
                    text("UPDATE events SET prev_hash = :p, hash = :h WHERE id = :id"),
                    {"p": prev, "h": digest, "id": row["id"]},
                )
                prev = digest
            else:
                prev = row["hash"]
        c.execute(
            text("UPDATE event_chain SET last_event_id = :e, last_hash = :h"),
            {"e": rows[-1]["id"], "h": prev},
        )


def _forge_approval(book: Book) -> int:
    trail = loan_views.loan_events(book.ws, book.ws.actor("ops"), book.overdue)
    approved = next(e for e in trail if e.name == "LoanApproved")
    forged = approved.payload.replace('"approved_amount":1000000', '"approved_amount":900000')
    assert forged != approved.payload
    book.tamper("UPDATE events SET payload = :p WHERE id = :id", p=forged, id=approved.id)
    return approved.id


def test_an_edited_event_with_every_later_hash_recomputed_is_caught_by_the_key(
    book: Book,
) -> None:
    """SHA-256 is public: without the workspace key a recomputed chain does not verify."""
    edited = _forge_approval(book)
    _recompute_chain_from(book, edited, None)
    problems = book.verify()
    assert problems[0] == f"event {edited}: content does not match its hash (altered)"
    assert all(p.endswith("(altered)") for p in problems)


def test_a_chain_recomputed_with_the_key_is_caught_by_the_anchor(book: Book) -> None:
    kept = audit.anchor(book.ws, book.ws.actor("auditor"), CLOSED_THROUGH)
    edited = _forge_approval(book)
    key = event_store.chain_key(read_secret(book.ws.settings.key_file))
    _recompute_chain_from(book, edited, key)
    assert book.verify() == [
        f"event {kept.event_id}: hash does not match the anchor of {CLOSED_THROUGH}"
        f" (event {kept.event_id}) (the chain was recomputed)"
    ]


def test_close_of_business_anchors_the_chain_head_in_its_result(book: Book) -> None:
    run = cob.finish_run(book.ws, CLOSED_THROUGH, CLOSED_THROUGH, 1, SweepCounts(), "cob")
    head = run_in_transaction(book.ws.engine, event_store.head)
    assert run.anchor is not None
    assert (run.anchor.event_id, run.anchor.hash, run.anchor.business_date) == (
        head.event_id,
        head.hash,
        CLOSED_THROUGH,
    )
    assert run.model_dump(mode="json")["anchor"]["event_id"] == head.event_id
    line = anchors_path(book.ws).read_text().splitlines()[-1].split("\t")
    assert line[:3] == [str(head.event_id), head.hash, str(CLOSED_THROUGH)]
    assert audit.verify(book.ws, book.ws.actor("auditor")).anchors_checked == 1


def test_rechaining_under_a_new_secret_keeps_a_chain_that_verifies(book: Book) -> None:
    old = read_secret(book.ws.settings.key_file)
    new = bytes(range(32))
    database = str(book.ws.engine.url)
    moved = run_in_transaction(
        book.ws.engine, lambda uow: event_store.rechain_events(uow, old, new)
    )
    event_store.register_chain_key(database, event_store.chain_key(new))
    try:
        with book.ws.engine.connect() as c:
            assert c.execute(text("SELECT keyed_from FROM event_chain")).scalar_one() == 1
        assert moved.hash == run_in_transaction(book.ws.engine, event_store.head).hash
        assert book.verify() == []
        edited = _forge_approval(book)
        _recompute_chain_from(book, edited, event_store.chain_key(old))
        problems = book.verify()
        assert problems[0] == f"event {edited}: content does not match its hash (altered)"
        with pytest.raises(Conflict, match="does not verify under the old key"):
            run_in_transaction(
                book.ws.engine, lambda uow: event_store.rechain_events(uow, new, old)
            )
    finally:
        event_store.register_chain_key(database, event_store.chain_key(old))


def test_events_from_before_the_keyed_chain_still_verify_as_plain_sha256(book: Book) -> None:
    """A database migrated to 0014 keeps its old events' hashes: below `keyed_from` the
    chain is plain SHA-256, from it on keyed."""
    with book.ws.engine.connect() as c:
        ids = [r[0] for r in c.execute(select(events.c.id).order_by(events.c.id))]
    legacy_until = ids[len(ids) // 2]
    with book.ws.engine.begin() as c:
        rows = c.execute(select(events).order_by(events.c.id)).mappings().all()
        prev = event_store.GENESIS_HASH
        key = event_store.chain_key(read_secret(book.ws.settings.key_file))
        for row in rows:
            digest = event_store.event_hash(prev, row, None if row["id"] <= legacy_until else key)
            c.execute(
                text("UPDATE events SET prev_hash = :p, hash = :h WHERE id = :id"),
                {"p": prev, "h": digest, "id": row["id"]},
            )
            prev = digest
        c.execute(
            text("UPDATE event_chain SET last_hash = :h, keyed_from = :k"),
            {"h": prev, "k": legacy_until + 1},
        )
    assert book.verify() == []
    book.tamper("UPDATE event_chain SET keyed_from = 1")
    assert book.verify()[0] == f"event {ids[0]}: content does not match its hash (altered)"


@pytest.mark.empty_database
def test_a_database_from_before_the_keyed_chain_keeps_its_events_and_keys_new_ones(
    settings: Settings,
) -> None:
    """Migrating to 0014 marks where keying starts: the old SHA-256 links still verify,
    every event written after is keyed, and an edit on either side is still caught."""
    settings.home.mkdir(parents=True, exist_ok=True)
    ensure_key_file(settings.key_file)
    engine = make_engine(settings.resolved_database_url)
    try:
        command.upgrade(alembic_config(engine), "0011")
        prev = event_store.GENESIS_HASH
        with engine.begin() as c:
            for n in (1, 2):
                row = {
                    "entity": "product",
                    "entity_id": "legacy",
                    "name": f"LegacyEvent{n}",
                    "trigger": None,
                    "from_state": None,
                    "to_state": None,
                    "actor": "admin",
                    "business_date": date(2025, 12, n),
                    "recorded_at": datetime(2025, 12, n, 8, 0, tzinfo=UTC),
                    "payload": "{}",
                }
                digest = event_store.event_hash(prev, row, None)
                last = c.execute(
                    insert(events).values(**row, prev_hash=prev, hash=digest).returning(events.c.id)
                ).scalar_one()
                prev = digest
            c.execute(
                text("UPDATE event_chain SET last_event_id = :e, last_hash = :h"),
                {"e": last, "h": prev},
            )
        command.upgrade(alembic_config(engine), "head")
    finally:
        engine.dispose()
    init_workspace(settings)
    ws = open_workspace(settings)
    try:
        admin = ws.actor("admin")
        products.import_product(
            ws, admin, example_product_paths()[0], activate=True, as_of=date(2026, 1, 5)
        )
        with ws.engine.connect() as c:
            assert c.execute(text("SELECT keyed_from FROM event_chain")).scalar_one() == last + 1
            newest = (
                c.execute(select(events).order_by(events.c.id.desc()).limit(1)).mappings().one()
            )
        key = event_store.chain_key(read_secret(settings.key_file))
        assert newest["hash"] == event_store.event_hash(newest["prev_hash"], newest, key)
        assert newest["hash"] != event_store.event_hash(newest["prev_hash"], newest, None)
        assert audit.verify(ws, ws.actor("auditor")).problems == []
        with ws.engine.begin() as c:
            c.execute(text("UPDATE events SET actor = 'ops' WHERE id = :id"), {"id": last})
        assert audit.verify(ws, ws.actor("auditor")).problems == [
            f"event {last}: content does not match its hash (altered)"
        ]
    finally:
        ws.close()


def test_an_edited_anchors_file_is_named_by_its_line(book: Book) -> None:
    audit.anchor(book.ws, book.ws.actor("auditor"), CLOSED_THROUGH)
    path = anchors_path(book.ws)
    path.write_text(path.read_text().replace("\t", " ", 1))
    assert book.verify() == ["audit-anchors.log line 1: not an anchor (altered)"]


def test_a_book_migrated_past_0031_keeps_every_event_and_its_chain(book: Book) -> None:
    """0031 drops the unique index on events' hashes (SQLite copies the table to do it):
    every event comes through unchanged, both ways, and the chain still verifies."""

    def all_events() -> list[dict[str, Any]]:
        with book.ws.engine.connect() as c:
            return [dict(r) for r in c.execute(select(events).order_by(events.c.id)).mappings()]

    before = all_events()
    assert len(before) > 10
    config = alembic_config(book.ws.engine)
    command.downgrade(config, "0030")
    assert all_events() == before
    command.upgrade(config, "head")
    assert all_events() == before
    assert book.verify() == []
    book.tamper("UPDATE events SET payload = '{}' WHERE id = :id", id=before[3]["id"])
    assert book.verify()[0] == f"event {before[3]['id']}: content does not match its hash (altered)"

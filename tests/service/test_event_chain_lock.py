"""The event chain's head is locked only for the last statements of a use case, and a
pooled PostgreSQL connection that died while idle is replaced before anyone uses it."""

from __future__ import annotations

import time
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.settings import Settings
from lendflow.domain.errors import Refused
from lendflow.store import engine as engine_module
from lendflow.store import events
from lendflow.store.uow import UnitOfWork, run_in_transaction

ON = date(2026, 1, 5)


def _event(name: str) -> events.NewEvent:
    return events.NewEvent(
        entity="probe", entity_id="1", name=name, actor="ops", business_date=ON, payload={}
    )


def _postgres_only(settings: Settings) -> None:
    if not settings.resolved_database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises every writer with BEGIN IMMEDIATE; no row lock to see")


def test_a_use_case_does_not_hold_the_chain_head_while_it_works(settings: Settings) -> None:
    _postgres_only(settings)
    init_workspace(settings)
    ws = open_workspace(settings)
    other = create_engine(settings.resolved_database_url)
    seen: list[str] = []

    def use_case(uow: UnitOfWork) -> None:
        events.append(uow, _event("First"))
        # mid-way through the use case another writer can still take the head at once
        with other.connect() as probe:
            probe.execute(text("SET lock_timeout = '200ms'"))
            row = probe.execute(text("SELECT last_hash FROM event_chain FOR UPDATE")).one()
            seen.append(row[0])
            probe.rollback()
        events.append(uow, _event("Second"))

    try:
        run_in_transaction(ws.engine, use_case)
        with ws.engine.connect() as connection:
            names = connection.execute(
                text("SELECT name FROM events WHERE entity = 'probe' ORDER BY id")
            ).scalars()
            assert list(names) == ["First", "Second"]
        assert len(seen) == 1
    finally:
        other.dispose()
        ws.close()


def test_events_of_a_use_case_are_chained_in_order_and_readable_before_the_commit(
    settings: Settings,
) -> None:
    init_workspace(settings)
    ws = open_workspace(settings)
    try:

        def use_case(uow: UnitOfWork) -> list[str]:
            events.append(uow, _event("Applied"))
            events.append(uow, _event("Reviewed"))
            return [e["name"] for e in events.for_entity(uow, "probe", "1")]

        assert run_in_transaction(ws.engine, use_case) == ["Applied", "Reviewed"]
        with ws.engine.begin() as connection:
            assert not list(events.chain_problems(UnitOfWork(connection)))
            head = events.head(UnitOfWork(connection))
            newest = connection.execute(text("SELECT max(id) FROM events")).scalar_one()
            assert head.event_id == newest
    finally:
        ws.close()


def test_a_refused_use_case_leaves_no_event(settings: Settings) -> None:
    init_workspace(settings)
    ws = open_workspace(settings)
    try:
        with ws.engine.begin() as connection:
            before = events.head(UnitOfWork(connection))

        def refused(uow: UnitOfWork) -> None:
            events.append(uow, _event("Applied"))
            raise Refused("no")

        with pytest.raises(Refused):
            run_in_transaction(ws.engine, refused)
        with ws.engine.begin() as connection:
            assert events.head(UnitOfWork(connection)) == before
            found = connection.execute(text("SELECT count(*) FROM events WHERE entity = 'probe'"))
            assert found.scalar_one() == 0
    finally:
        ws.close()


def test_a_pooled_connection_killed_while_idle_is_replaced_unseen(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _postgres_only(settings)
    monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 0.05)
    engine = engine_module.make_engine(settings.resolved_database_url)
    admin = create_engine(settings.resolved_database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            victim = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        time.sleep(0.2)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != victim
    finally:
        engine.dispose()
        admin.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy server pays no round trip per request for the ping; the flip side: a
    connection that died within `PING_IDLE_AFTER` of its last use fails once."""
    _postgres_only(settings)
    monkeypatch.setattr(engine_module, "PING_IDLE_AFTER", 60.0)
    engine = engine_module.make_engine(settings.resolved_database_url)
    admin = create_engine(settings.resolved_database_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            victim = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        time.sleep(0.2)
        with pytest.raises(OperationalError), engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        with engine.connect() as connection:  # the pool threw the dead one away
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()
        admin.dispose()

"""The append-only, hash-chained event log.

Each event's hash covers its content and the previous event's hash, so any
edit or deletion breaks the chain from that point on. Writers take the chain
head row (locked on PostgreSQL, serialised by BEGIN IMMEDIATE on SQLite), so
there is one chain and never a fork. A transaction reads the head once and keeps
it on its unit of work (it holds the lock until it ends), so a use case that
appends several events reads the head once; each append still moves the head.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from lendflow.store import driver
from lendflow.store.bulk import execute_many
from lendflow.store.tables import event_chain, utc_now
from lendflow.store.tables import events as events_table
from lendflow.store.uow import UnitOfWork

EVENTS = events_table
CHAIN = event_chain
GENESIS_HASH = "0" * 64

_HEAD = select(CHAIN.c.last_hash).where(CHAIN.c.id == 1).with_for_update()
_INSERT = insert(EVENTS).returning(EVENTS.c.id)
_MOVE_HEAD = update(CHAIN).where(CHAIN.c.id == 1)
_FOR_ENTITY = (
    select(EVENTS)
    .where(EVENTS.c.entity == bindparam("entity"), EVENTS.c.entity_id == bindparam("entity_id"))
    .order_by(EVENTS.c.id)
)


@dataclass(frozen=True)
class NewEvent:
    entity: str
    entity_id: str
    name: str
    actor: str
    business_date: date
    payload: Mapping[str, Any]
    trigger: str | None = None
    from_state: str | None = None
    to_state: str | None = None


def canonical_time(moment: datetime) -> str:
    """UTC timestamp text that survives a round trip through any backend."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    body = {
        "entity": row["entity"],
        "entity_id": row["entity_id"],
        "name": row["name"],
        "trigger": row["trigger"],
        "from_state": row["from_state"],
        "to_state": row["to_state"],
        "actor": row["actor"],
        "business_date": str(row["business_date"]),
        "recorded_at": canonical_time(row["recorded_at"]),
        "payload": row["payload"],
    }
    text = prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row(event: NewEvent, recorded_at: datetime) -> dict[str, Any]:
    """The stored columns of an event, before it is chained."""
    return {
        "entity": event.entity,
        "entity_id": event.entity_id,
        "name": event.name,
        "trigger": event.trigger,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor": event.actor,
        "business_date": event.business_date,
        "recorded_at": recorded_at,
        "payload": json.dumps(
            event.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
        ),
    }


def _head(uow: UnitOfWork) -> str:
    """The chain head's hash, locked and read once per transaction."""
    if uow.chain_head is None:
        uow.chain_head = driver.scalar(uow, _HEAD)
        if uow.chain_head is None:
            raise LookupError("the event chain has no head row; the database is not initialised")
    return uow.chain_head


def _move_head(uow: UnitOfWork, event_id: int, digest: str) -> None:
    driver.execute(uow, _MOVE_HEAD, {"last_event_id": event_id, "last_hash": digest})
    uow.chain_head = digest


def append(uow: UnitOfWork, event: NewEvent) -> int:
    """Append one event to the chain; returns its id."""
    head = _head(uow)
    row = _row(event, utc_now())
    digest = event_hash(head, row)
    event_id = int(driver.scalar(uow, _INSERT, {**row, "prev_hash": head, "hash": digest}))
    _move_head(uow, event_id, digest)
    return event_id


def for_entity(uow: UnitOfWork, entity: str, entity_id: str) -> list[dict[str, Any]]:
    rows = uow.connection.execute(
        _FOR_ENTITY, {"entity": entity, "entity_id": entity_id}
    ).mappings()
    return [dict(r) for r in rows]


def chain_problems(uow: UnitOfWork, batch: int = 10_000) -> Iterator[str]:
    """Every break in the chain: a changed event, a missing one, a wrong head."""
    prev = GENESIS_HASH
    last_id = 0
    expected_prev_id = 0
    while True:
        rows = (
            uow.connection.execute(
                select(EVENTS).where(EVENTS.c.id > last_id).order_by(EVENTS.c.id).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        for row in rows:
            if row["prev_hash"] != prev:
                yield f"event {row['id']}: does not follow event {expected_prev_id} (chain broken)"
            elif event_hash(prev, row) != row["hash"]:
                yield f"event {row['id']}: content does not match its hash (altered)"
            prev = row["hash"]
            last_id = expected_prev_id = row["id"]
    head = uow.connection.execute(select(CHAIN).where(CHAIN.c.id == 1)).mappings().one()
    if head["last_hash"] != prev or head["last_event_id"] != last_id:
        yield f"event chain head points at event {head['last_event_id']}, last event is {last_id}"


_INSERT_MANY = insert(EVENTS).inline()
_LAST_ID = select(EVENTS.c.id).order_by(EVENTS.c.id.desc()).limit(1)


def append_many(uow: UnitOfWork, batch: list[NewEvent]) -> int:
    """Append many events in order with one round trip; returns how many."""
    if not batch:
        return 0
    prev = _head(uow)
    now = utc_now()
    rows = []
    for event in batch:
        row = _row(event, now)
        digest = event_hash(prev, row)
        rows.append({**row, "prev_hash": prev, "hash": digest})
        prev = digest
    execute_many(uow, _INSERT_MANY, rows)
    last_id = uow.connection.execute(_LAST_ID).scalar_one()
    _move_head(uow, int(last_id), prev)
    return len(rows)

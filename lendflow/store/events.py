"""The append-only, hash-chained event log.

Each event's hash covers its content and the previous event's hash, so any
edit or deletion breaks the chain from that point on. The chain is keyed: an
event's hash is an HMAC-SHA256 under a key derived from the workspace secret, so
whoever can write the database but not read the key file cannot recompute the
chain after an edit. Events older than the keyed chain (before revision 0014)
keep their plain SHA-256 hashes; the head row's `keyed_from` says where keying
starts. The key reaches `append` through a registry by database that the workspace
fills when it opens its engine (`register_chain_key`), read once per transaction.

Writers take the chain head row (locked on PostgreSQL, serialised by BEGIN IMMEDIATE on SQLite), so
there is one chain and never a fork. That lock serialises every writer that records an
event, so it is taken as late as possible: `append` only queues the event on the unit
of work, and the queue is chained (head locked, events inserted, head moved) when the
use case has done its work, just before its commit. On PostgreSQL the lock is then
held for three statements and the commit instead of the whole use case. A read of
the events inside the same transaction chains the queue first, so it sees its own
events. A transaction reads the head once and keeps it on its unit of work.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from lendflow.domain.errors import Conflict
from lendflow.store import driver
from lendflow.store.bulk import execute_many
from lendflow.store.personal_data import derive_key
from lendflow.store.tables import event_chain, utc_now
from lendflow.store.tables import events as events_table
from lendflow.store.uow import UnitOfWork

EVENTS = events_table
CHAIN = event_chain
GENESIS_HASH = "0" * 64
CHAIN_KEY_INFO = b"lendflow event chain"

# The chain key of each database this process opened, by the database's URL (the
# key a unit of work's `database` gives); filled by the workspace with its engine.
_CHAIN_KEYS: dict[str, bytes] = {}
# One HMAC state per key, copied per event: cheaper than keying a new HMAC each time.
_MACS: dict[bytes, Any] = {}

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


def chain_key(secret: bytes) -> bytes:
    """The event chain's key, derived from the workspace secret for this purpose alone."""
    return derive_key(secret, CHAIN_KEY_INFO)


def register_chain_key(database: str, key: bytes) -> None:
    """Make `key` the chain key of `database` (a URL) for every later transaction on it."""
    _CHAIN_KEYS[database] = key


def forget_chain_key(database: str) -> None:
    """Forget the chain key of `database`: emptied and built again under the same URL, it
    is a new database, whose workspace registers its own key when it opens it."""
    _CHAIN_KEYS.pop(database, None)


def registered_chain_key(database: str) -> bytes | None:
    return _CHAIN_KEYS.get(database)


def key_id(key: bytes | None) -> str:
    """A short public name for a chain key (anchors record it), which reveals nothing of it."""
    if key is None:
        return "unkeyed"
    return hmac.new(key, b"lendflow event chain key id", hashlib.sha256).hexdigest()[:16]


def _body(row: Mapping[str, Any]) -> bytes:
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
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-8")


def event_hash(prev_hash: str, row: Mapping[str, Any], key: bytes | None = None) -> str:
    """The event's link in the chain: HMAC-SHA256 under `key`, or the plain SHA-256 of
    the events written before the chain was keyed (`key` None)."""
    message = prev_hash.encode("ascii") + _body(row)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    mac = _MACS.get(key)
    if mac is None:
        mac = _MACS[key] = hmac.new(key, digestmod=hashlib.sha256)
    link = mac.copy()
    link.update(message)
    return link.hexdigest()


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
    """The chain head's hash, locked and read once per transaction, with the chain key."""
    if uow.chain_key is None:  # a use case joined to a batch's transaction has the head only
        uow.chain_key = _key_of(uow)
    if uow.chain_head is None:
        uow.chain_head = driver.scalar(uow, _HEAD)
        if uow.chain_head is None:
            raise LookupError("the event chain has no head row; the database is not initialised")
    return uow.chain_head


def _key_of(uow: UnitOfWork) -> bytes:
    """The registered chain key of the unit of work's database; never write unkeyed."""
    key = _CHAIN_KEYS.get(uow.database)
    if key is None:
        raise LookupError(
            "no event chain key for this database: open it through the workspace (its key file)"
        )
    return key


def _move_head(uow: UnitOfWork, event_id: int, digest: str) -> None:
    driver.execute(uow, _MOVE_HEAD, {"last_event_id": event_id, "last_hash": digest})
    uow.chain_head = digest


def append(uow: UnitOfWork, event: NewEvent) -> None:
    """Record one event: queued now (its recorded time is now), chained before the
    commit (`chain_pending`), so the chain's lock is held as briefly as it can be."""
    if not uow.pending_events:
        uow.before_commit(chain_pending)
    uow.pending_events.append(_row(event, utc_now()))


def chain_pending(uow: UnitOfWork) -> None:
    """Chain the events the unit of work queued, in the order they were recorded."""
    queued, uow.pending_events = uow.pending_events, []
    if not queued:
        return
    prev = _head(uow)
    rows = []
    for row in queued:
        digest = event_hash(prev, row, uow.chain_key)
        rows.append({**row, "prev_hash": prev, "hash": digest})
        prev = digest
    if uow.dialect == "postgresql":
        # one statement, so the lock waits on one round trip before the commit
        params = {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}
        driver.execute(uow, _chain_statement(len(rows)), {**params, "last_hash": prev})
        uow.chain_head = prev
        return
    event_id = 0
    for row in rows:
        event_id = int(driver.scalar(uow, _INSERT, row))
    _move_head(uow, event_id, prev)


_CHAIN_STATEMENTS: dict[int, Any] = {}
_CHAINED_COLUMNS = (
    "entity", "entity_id", "name", "trigger", "from_state", "to_state", "actor",
    "business_date", "recorded_at", "payload", "prev_hash", "hash",
)  # fmt: skip


def _chain_statement(count: int) -> Any:
    """INSERT `count` events and move the head to the newest, as one statement (PostgreSQL
    runs an INSERT in a WITH clause); one per count, so the driver compiles it once."""
    found = _CHAIN_STATEMENTS.get(count)
    if found is None:
        values = [
            {c: bindparam(f"{c}_{i}", type_=EVENTS.c[c].type) for c in _CHAINED_COLUMNS}
            for i in range(count)
        ]
        inserted = insert(EVENTS).values(values).returning(EVENTS.c.id).cte("inserted")
        newest = select(func.max(inserted.c.id)).scalar_subquery()
        found = _CHAIN_STATEMENTS[count] = _MOVE_HEAD.values(
            last_event_id=newest, last_hash=bindparam("last_hash")
        )
    return found


def for_entity(uow: UnitOfWork, entity: str, entity_id: str) -> list[dict[str, Any]]:
    chain_pending(uow)
    rows = uow.connection.execute(
        _FOR_ENTITY, {"entity": entity, "entity_id": entity_id}
    ).mappings()
    return [dict(r) for r in rows]


def page_for_entity(
    uow: UnitOfWork, entity: str, entity_id: str, offset: int, limit: int | None
) -> tuple[int, list[dict[str, Any]]]:
    """One page of the entity's events, oldest first (all without a `limit`), and how many
    it has in all."""
    chain_pending(uow)
    mine = (EVENTS.c.entity == entity, EVENTS.c.entity_id == entity_id)
    total = uow.connection.execute(select(func.count()).select_from(EVENTS).where(*mine)).scalar()
    rows = uow.connection.execute(
        select(EVENTS).where(*mine).order_by(EVENTS.c.id).offset(offset).limit(limit)
    ).mappings()
    return int(total or 0), [dict(r) for r in rows]


def payloads_named(
    uow: UnitOfWork, entity: str, entity_id: str, names: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The payloads of the entity's events with these names, oldest first, as read."""
    chain_pending(uow)
    rows = uow.connection.execute(
        select(EVENTS.c.payload)
        .where(EVENTS.c.entity == entity, EVENTS.c.entity_id == entity_id, EVENTS.c.name.in_(names))
        .order_by(EVENTS.c.id)
    )
    return [json.loads(payload) for (payload,) in rows]


@dataclass(frozen=True)
class ChainHead:
    """Where the chain ends (`event_id` 0 for an empty chain) and where keying starts."""

    event_id: int
    hash: str
    keyed_from: int


def last_state(uow: UnitOfWork, entity: str, entity_id: str) -> str | None:
    """The status the entity's newest state-changing event left it in."""
    chain_pending(uow)
    found = uow.connection.execute(
        select(EVENTS.c.to_state)
        .where(
            EVENTS.c.entity == entity,
            EVENTS.c.entity_id == entity_id,
            EVENTS.c.to_state.is_not(None),
        )
        .order_by(EVENTS.c.id.desc())
        .limit(1)
    ).scalar()
    return None if found is None else str(found)


def head(uow: UnitOfWork) -> ChainHead:
    """The chain head as stored, unlocked (for anchoring and the audit)."""
    chain_pending(uow)
    row = uow.connection.execute(select(CHAIN).where(CHAIN.c.id == 1)).mappings().one()
    return ChainHead(int(row["last_event_id"]), row["last_hash"], int(row["keyed_from"]))


def _batches(uow: UnitOfWork, batch: int) -> Iterator[list[Mapping[str, Any]]]:
    """Every event in id order, a batch at a time (the chain may be long)."""
    chain_pending(uow)
    last_id = 0
    while True:
        rows = (
            uow.connection.execute(
                select(EVENTS).where(EVENTS.c.id > last_id).order_by(EVENTS.c.id).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        yield list(rows)
        last_id = rows[-1]["id"]


def chain_problems(uow: UnitOfWork, key: bytes | None = None, batch: int = 10_000) -> Iterator[str]:
    """Every break in the chain: a changed event, a missing one, a wrong head.

    Events from the head row's `keyed_from` on must carry an HMAC under `key` (the
    registered key of the database by default), so a chain recomputed without the
    key shows as altered from the first event it touched.
    """
    key = key if key is not None else _CHAIN_KEYS.get(uow.database)
    stored = head(uow)
    prev = GENESIS_HASH
    last_id = 0
    for rows in _batches(uow, batch):
        for row in rows:
            keyed = row["id"] >= stored.keyed_from
            if row["prev_hash"] != prev:
                yield f"event {row['id']}: does not follow event {last_id} (chain broken)"
            elif keyed and key is None:
                yield f"event {row['id']}: keyed, but no chain key is known to check it"
                return
            elif event_hash(prev, row, key if keyed else None) != row["hash"]:
                yield f"event {row['id']}: content does not match its hash (altered)"
            prev = row["hash"]
            last_id = row["id"]
    if stored.hash != prev or stored.event_id != last_id:
        yield f"event chain head points at event {stored.event_id}, last event is {last_id}"


def links_hold(uow: UnitOfWork, rows: list[Mapping[str, Any]]) -> dict[int, bool]:
    """For each of these stored events, whether its own link holds: its hash is the
    chain's hash of its content after its `prev_hash`, and the event after it (or the
    head, for the newest) names that hash. An edit of the event, of its successor's
    link or a deletion next to it shows here without walking the whole chain (the
    audit does that)."""
    if not rows:
        return {}
    key = _CHAIN_KEYS.get(uow.database)
    stored = head(uow)
    ids = [int(r["id"]) for r in rows]
    successors = _following_prev_hashes(uow, ids)
    held: dict[int, bool] = {}
    for row in rows:
        keyed = row["id"] >= stored.keyed_from
        own = (key is not None or not keyed) and event_hash(
            row["prev_hash"], row, key if keyed else None
        ) == row["hash"]
        nxt = stored.hash if row["id"] == stored.event_id else successors.get(int(row["id"]))
        held[int(row["id"])] = own and nxt == row["hash"]
    return held


def _following_prev_hashes(uow: UnitOfWork, ids: list[int]) -> dict[int, str]:
    """For each event id, the `prev_hash` of the next event in the chain."""
    found: dict[int, str] = {}
    for event_id in ids:
        row = uow.connection.execute(
            select(EVENTS.c.prev_hash).where(EVENTS.c.id > event_id).order_by(EVENTS.c.id).limit(1)
        ).first()
        if row is not None:
            found[event_id] = row[0]
    return found


def hashes_of(uow: UnitOfWork, ids: list[int]) -> dict[int, str]:
    """The stored hash of each event in `ids` that still exists."""
    if not ids:
        return {}
    rows = uow.connection.execute(
        select(EVENTS.c.id, EVENTS.c.hash).where(EVENTS.c.id.in_(sorted(set(ids))))
    ).all()
    return {int(i): h for i, h in rows}


_REHASH = (
    update(EVENTS)
    .where(EVENTS.c.id == bindparam("b_id"))
    .values(prev_hash=bindparam("b_prev"), hash=bindparam("b_hash"))
)


def rechain_events(
    uow: UnitOfWork, old_secret: bytes, new_secret: bytes, batch: int = 10_000
) -> ChainHead:
    """Move the whole chain to the key of `new_secret` (key rotation); the new head.

    The chain must first verify under the old secret's key (a chain already broken is
    refused, not laundered under the new key); then every event, the plain SHA-256 ones
    before `keyed_from` too, is re-linked under the new key and the head moved. Runs in
    the caller's transaction: after it commits, register the new key
    (`register_chain_key(database, chain_key(new_secret))`) and anchor the new head, as
    the anchors written before name the old key and are then checked by id only.
    """
    problems = list(chain_problems(uow, chain_key(old_secret), batch))
    if problems:
        raise Conflict(f"the event chain does not verify under the old key: {problems[0]}")
    new_key = chain_key(new_secret)
    prev = GENESIS_HASH
    last_id = 0
    for rows in _batches(uow, batch):
        changes = []
        for row in rows:
            digest = event_hash(prev, row, new_key)
            changes.append({"b_id": row["id"], "b_prev": prev, "b_hash": digest})
            prev = digest
            last_id = row["id"]
        uow.connection.execute(_REHASH, changes)
    uow.connection.execute(
        update(CHAIN)
        .where(CHAIN.c.id == 1)
        .values(last_event_id=last_id, last_hash=prev, keyed_from=1)
    )
    uow.chain_key = new_key
    uow.chain_head = prev
    return ChainHead(last_id, prev, 1)


_INSERT_MANY = insert(EVENTS).inline()
_LAST_ID = select(EVENTS.c.id).order_by(EVENTS.c.id.desc()).limit(1)


def append_many(uow: UnitOfWork, batch: list[NewEvent]) -> int:
    """Append many events in order with one round trip; returns how many."""
    chain_pending(uow)
    if not batch:
        return 0
    prev = _head(uow)
    now = utc_now()
    rows = []
    for event in batch:
        row = _row(event, now)
        digest = event_hash(prev, row, uow.chain_key)
        rows.append({**row, "prev_hash": prev, "hash": digest})
        prev = digest
    execute_many(uow, _INSERT_MANY, rows)
    last_id = uow.connection.execute(_LAST_ID).scalar_one()
    _move_head(uow, int(last_id), prev)
    return len(rows)

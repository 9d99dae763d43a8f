"""Database engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite is tuned once per connection: WAL so readers never block the writer,
synchronous=NORMAL (safe with WAL, and an order of magnitude faster per
commit), foreign keys on, a busy timeout so concurrent writers wait
instead of failing at once, and a limit on what the log file keeps of its size.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError

from lendflow.domain.errors import BadInput
from lendflow.store import checkpoints

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_LOG_KEPT_BYTES = 64 * 1024 * 1024
"""What the write-ahead log file keeps of its size once it is started afresh. A large close
of business checkpoints beside the sweep (`store.checkpoints`), so its log grows to the
night's pages (some 500 MB on a book of a million loans); SQLite would otherwise keep the
file at that size for good."""
PING_IDLE_AFTER = 1.0
"""Seconds a pooled PostgreSQL connection may sit unused before it is pinged again."""
POOL_SIZE = 20
POOL_OVERFLOW = 20
"""Connections kept, and opened beyond them at a peak. The API serves a request on one
of up to 40 threads; a smaller pool made threads queue for a connection, and each
connection beyond the kept ones is opened and closed again (a PostgreSQL login, or
SQLite's pragmas) on every use."""


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin_sqlite) instead of pysqlite's
    # implicit transactions, so a use case can ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute(f"PRAGMA journal_size_limit={SQLITE_LOG_KEPT_BYTES}")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    """Start every SQLite transaction as BEGIN IMMEDIATE.

    A transaction that reads and then writes under plain BEGIN can fail with
    SQLITE_BUSY despite the busy timeout, because SQLite cannot upgrade its read
    lock while another writer waits; taking the write lock up front makes
    concurrent use cases queue instead.
    """
    # Straight to the driver: this runs for every use case, and SQLAlchemy's
    # statement machinery would add a tenth of a millisecond each time.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection before use only when it sat idle.

    SQLAlchemy's `pool_pre_ping` asks `SELECT 1` on every checkout: a round trip on
    every request of a busy server for connections used a millisecond ago. A
    connection idle longer than `PING_IDLE_AFTER` is pinged, and one that fails is
    replaced before anyone uses it (the pool retries on `DisconnectionError`), which
    covers a database restarted while the server was quiet."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since", 0.0)
        if time.monotonic() - idle_since <= PING_IDLE_AFTER:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("the connection did not answer a ping") from exc
        if not alive:
            raise DisconnectionError("the connection did not answer a ping")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, tuned for its backend; refuses URLs it cannot use."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise BadInput(f"database URL is not valid: {url!r}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 15},
            **{"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs},
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        checkpoints.restore_on_checkin(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        pooled = {"pool_size": POOL_SIZE, "max_overflow": POOL_OVERFLOW, **kwargs}
        engine = create_engine(url, **pooled)
        _ping_when_idle(engine)
        return engine
    raise BadInput(f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql")


def open_at_head(url: str, head_revision: str) -> Engine:
    """An engine on a database at the schema this code expects, or a clear refusal."""
    engine = make_engine(url)
    with engine.connect() as connection:
        try:
            revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except Exception:
            revision = None
    if revision != head_revision:
        engine.dispose()
        raise BadInput(
            f"the database is at schema {revision or 'none'}, this lendflow needs"
            f" {head_revision}: run `lendflow init` to migrate it"
        )
    return engine


def redact_url(url: str) -> str:
    """A database URL with any password hidden, for printing."""
    return make_url(url).render_as_string(hide_password=True)

"""Database engines and sessions for SQLite (embedded default) and PostgreSQL.

SQLite is tuned once per connection: WAL so readers never block the writer,
synchronous=NORMAL (safe with WAL, and an order of magnitude faster per
commit), foreign keys on, and a busy timeout so concurrent writers wait
instead of failing at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url

from lendflow.domain.errors import BadInput

SQLITE_BUSY_TIMEOUT_MS = 15_000


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy issue BEGIN itself (see _begin_sqlite) instead of pysqlite's
    # implicit transactions, so a use case can ask for BEGIN IMMEDIATE.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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
            url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs
        )
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(url, pool_pre_ping=True, **kwargs)
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

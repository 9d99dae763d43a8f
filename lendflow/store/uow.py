"""One transaction per use case, retried whole on a serialization failure.

A use case receives a `UnitOfWork` (a connection inside one transaction) and
either commits everything it wrote or nothing. On PostgreSQL a serialization
failure or deadlock (40001, 40P01) rolls the whole use case back and runs it
again; idempotency keys make the rerun safe.

A batch that must commit many use cases together (a chunk of a repayment file) runs
them inside `one_transaction`: each use case then joins that transaction under a
savepoint of its own, so one refused by a business rule is undone alone, and the batch
commits or rolls back as a whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from contextvars import ContextVar
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

T = TypeVar("T")
RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 5
_SAVEPOINT = "lendflow_use_case"
_DATABASES: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()
_joined: ContextVar[UnitOfWork | None] = ContextVar("lendflow_joined_transaction", default=None)


class UnitOfWork:
    """The connection a use case reads and writes through, inside its transaction.

    Hot fixed statements go through the driver's cursor of this same connection
    (`store.driver`); `chain_head` holds the event chain's head hash once this
    transaction has locked and read it, so further events in it need not read it again;
    `chain_key` the chain's key for this database, looked up with it.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.chain_head: str | None = None
        self.chain_key: bytes | None = None
        self.pending_events: list[dict[str, Any]] = []
        self._cursor: Any = None
        self._before_commit: list[Callable[[UnitOfWork], None]] = []

    def before_commit(self, hook: Callable[[UnitOfWork], None]) -> None:
        """Run `hook` once when the use case has done its work, just before the commit
        (inside the transaction: if it fails, nothing is kept)."""
        if hook not in self._before_commit:
            self._before_commit.append(hook)

    def finish(self) -> None:
        """Run the before-commit hooks; the use case's last writes."""
        for hook in self._before_commit:
            hook(self)
        self._before_commit.clear()

    @property
    def dialect(self) -> str:
        return self.connection.dialect.name

    @property
    def database(self) -> str:
        """Which database this is, for caches of rows that never change once stored
        (one process may open several workspaces: the sandbox, the tests) and for the
        event chain's key. Rendered once per engine: a PostgreSQL URL with options takes
        some 10 µs to render, and a request asked for it several times."""
        engine = self.connection.engine
        found = _DATABASES.get(engine)
        if found is None:
            found = _DATABASES[engine] = str(engine.url)
        return found

    @property
    def cursor(self) -> Any:
        """A DBAPI cursor on the transaction's connection, made on first use."""
        if self._cursor is None:
            self._cursor = self.connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        return self._cursor

    def close(self) -> None:
        """Release the driver cursor; the transaction itself ends with its connection."""
        if self._cursor is not None:
            self._cursor.close()
            self._cursor = None

    @property
    def driver_error(self) -> type[Exception]:
        """The driver's base error class, which SQLAlchemy wraps as `DBAPIError`."""
        return self.connection.dialect.loaded_dbapi.Error  # type: ignore[no-any-return]


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def run_in_transaction(engine: Engine, use_case: Callable[[UnitOfWork], T]) -> T:
    """Run `use_case` in one transaction; retry it whole on transient conflicts.

    Inside `one_transaction` on the same engine it joins that transaction instead.
    """
    outer = _joined.get()
    if outer is not None and outer.connection.engine is engine:
        return _under_savepoint(outer, use_case)
    return _run_alone(engine, use_case)


def one_transaction(engine: Engine, batch: Callable[[], T]) -> T:
    """Run `batch` so that every use case it calls commits together or not at all.

    The batch is retried whole on a transient conflict, like a single use case.
    """

    def joined(uow: UnitOfWork) -> T:
        token = _joined.set(uow)
        try:
            return batch()
        finally:
            _joined.reset(token)

    return _run_alone(engine, joined)


def _under_savepoint(outer: UnitOfWork, use_case: Callable[[UnitOfWork], T]) -> T:
    """One use case inside the batch's transaction: undone alone if it raises.

    It shares the batch's driver cursor, starts from the batch's cached chain head
    and hands its own back only once its writes are kept, so a rolled-back use case
    cannot leave a head that was undone. The savepoint goes straight to the driver:
    a batch takes one per row, and SQLAlchemy's nested transaction costs four times as
    much.
    """
    cursor = outer.cursor
    inner = UnitOfWork(outer.connection)
    inner.chain_head = outer.chain_head
    inner.chain_key = outer.chain_key
    inner._cursor = cursor
    cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
    try:
        result = use_case(inner)
        inner.finish()
    except BaseException:
        with suppress(Exception):  # a dead connection: the batch's own rollback says so
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
        raise
    cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}")
    outer.chain_head = inner.chain_head
    return result


def _run_alone(engine: Engine, use_case: Callable[[UnitOfWork], T]) -> T:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with engine.begin() as connection:
                uow = UnitOfWork(connection)
                try:
                    result = use_case(uow)
                    uow.finish()
                    return result
                finally:
                    uow.close()
        except DBAPIError as exc:
            if attempt == MAX_ATTEMPTS or not _retryable(exc):
                raise
            time.sleep(0.01 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover

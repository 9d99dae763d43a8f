"""SQLite's WAL checkpoints of a large close of business, made beside the sweep.

A commit on SQLite appends the transaction's pages to the write-ahead log; once the
log passes a thousand pages, that same commit copies the log back into the database
file and syncs it (the automatic checkpoint). A close-of-business chunk of 50,000 loans
dirties some 6,500 pages, so every chunk's commit wrote its pages twice and waited for
a sync: nearly a third of a large night was spent in commits.

A large chunk therefore commits without checkpointing (`defer`), and a thread of this
process copies the log back (`request`) while the sweep goes on with the next chunk. The
log stays the durable record meanwhile, as it is between any two checkpoints: nothing is
less safe, and readers see every commit as before. The thread checkpoints PASSIVE, so it
never waits for a writer or blocks one; the log is reset by the next writer once it is
wholly copied. `settle` waits for the copying to finish, so a run that ends leaves the
database file current. A connection's own checkpointing comes back when it returns to
the pool, whatever the transaction did.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event

from lendflow.store.uow import UnitOfWork

AUTOMATIC_PAGES = 1_000  # SQLite's default: the automatic checkpoint's threshold
IDLE_SECONDS = 5.0
"""A checkpoint thread with nothing asked of it for this long ends (the next request
starts another), so a process that opened many databases keeps no idle threads."""
_DEFERRED = "lendflow_checkpoint_deferred"


class _Checkpointer:
    """One database file's checkpoint thread; its own connection, made in the thread."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.asked = threading.Event()
        self.idle = threading.Condition()
        self.pending = False
        self.thread: threading.Thread | None = None

    def request(self) -> None:
        with self.idle:
            self.pending = True
            self.asked.set()
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="lendflow-wal-checkpoint", daemon=True
                )
                self.thread.start()

    def settle(self) -> None:
        with self.idle:
            self.idle.wait_for(lambda: not self.pending)

    def _run(self) -> None:
        connection: sqlite3.Connection | None = None
        try:
            connection = sqlite3.connect(self.path, timeout=15, check_same_thread=False)
            while self._next():
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self._done()
        except sqlite3.Error:
            pass  # the file is gone or unreadable: the next commit checkpoints as usual
        finally:
            if connection is not None:
                connection.close()
            with self.idle:
                if self.thread is threading.current_thread():
                    self.thread = None
                    self.pending = False
                    self.idle.notify_all()

    def _next(self) -> bool:
        """Wait for a request; False once none came for `IDLE_SECONDS` (the thread ends,
        decided under the lock a request takes, so none is lost meanwhile)."""
        self.asked.wait(IDLE_SECONDS)
        with self.idle:
            if not self.asked.is_set() and not self.pending:
                self.thread = None
                return False
            self.asked.clear()
            return True

    def _done(self) -> None:
        with self.idle:
            if not self.asked.is_set():
                self.pending = False
                self.idle.notify_all()


_checkpointers: dict[str, _Checkpointer] = {}
_registry = threading.Lock()


def _file_of(engine: Engine) -> str | None:
    """The database file behind a SQLite engine (None for PostgreSQL or memory)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    return database if database and database != ":memory:" else None


def _checkpointer(path: str) -> _Checkpointer:
    with _registry:
        found = _checkpointers.get(path)
        if found is None:
            found = _checkpointers[path] = _Checkpointer(path)
        return found


def defer(uow: UnitOfWork) -> None:
    """Commit this SQLite transaction without checkpointing; its connection checkpoints
    again once it is back in the pool (`restore_on_checkin`)."""
    if _file_of(uow.connection.engine) is None:
        return
    uow.connection.exec_driver_sql("PRAGMA wal_autocheckpoint = 0")
    uow.connection.info[_DEFERRED] = True


def request(engine: Engine) -> None:
    """Copy the log back into the database file soon, on this process's thread for it."""
    path = _file_of(engine)
    if path is not None:
        _checkpointer(path).request()


def settle(engine: Engine) -> None:
    """Wait until what was asked of the checkpoint thread is done."""
    path = _file_of(engine)
    if path is not None:
        _checkpointer(path).settle()


def restore_on_checkin(engine: Engine) -> None:
    """Give a deferring connection its automatic checkpoints back as it returns to the pool
    (a connection that served a chunk serves API requests next)."""

    @event.listens_for(engine, "checkin")
    def _restore(dbapi_connection: Any, record: Any) -> None:
        deferred = record is not None and record.info.pop(_DEFERRED, False)
        if deferred and dbapi_connection is not None:
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOMATIC_PAGES}")

"""Process-wide caches of what is derived from rows that never change, kept per database.

A product version or a pinned credit model is never edited once stored, so what
is read or worked out from it can be kept for the life of the process instead of
being read again in every transaction. One process may serve several databases
(every test has its own), and the same row id means different rows in each, so
every entry is keyed by the database's URL as well as by the caller's key.

Nothing invalidates an entry: a cache may hold only values that cannot change
while the database exists. `clear()` empties one (tests call it to start cold);
`forget(database)` empties every cache of one database that was emptied and built again
under the same URL, which is a new database (the test suite's reused schemas).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar
from weakref import WeakSet

from lendflow.store.uow import UnitOfWork

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def database_key(uow: UnitOfWork) -> str:
    """Which database the unit of work runs on, as cache entries are keyed."""
    return uow.database


class DatabaseCache(Generic[K, V]):
    """Values derived from immutable rows, per database and key; subclass it with a
    docstring saying why its rows never change."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, K], V] = {}
        _CACHES.add(self)

    def get(self, uow: UnitOfWork, key: K) -> V | None:
        """The value kept for `key` in this database, or None."""
        return self._entries.get((database_key(uow), key))

    def put(self, uow: UnitOfWork, key: K, value: V) -> None:
        """Keep `value`; only once it is known committed if it depends on this transaction."""
        self._entries[(database_key(uow), key)] = value

    def get_or_make(self, uow: UnitOfWork, key: K, make: Callable[[], V]) -> V:
        """The value kept for `key`, made (and kept) on first use."""
        entry = (database_key(uow), key)
        if entry not in self._entries:
            self._entries[entry] = make()
        return self._entries[entry]

    def clear(self) -> None:
        """Forget every entry, for every database."""
        self._entries.clear()

    def forget(self, database: str) -> None:
        """Forget every entry of `database` (a URL, as `database_key` gives it)."""
        for entry in [entry for entry in self._entries if entry[0] == database]:
            del self._entries[entry]

    def __len__(self) -> int:
        return len(self._entries)


_CACHES: WeakSet[DatabaseCache] = WeakSet()  # type: ignore[type-arg]


def forget(database: str) -> None:
    """Forget what every cache keeps for `database` (a URL, as `database_key` gives it)."""
    for found in list(_CACHES):
        found.forget(database)

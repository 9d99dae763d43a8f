"""What the process keeps per database is forgotten for a database emptied and built again
under the same URL, and only for it."""

from __future__ import annotations

from pathlib import Path

from lendflow.bootstrap import init_workspace, open_workspace
from lendflow.config.settings import Settings
from lendflow.store import caches
from lendflow.store import campaigns as campaign_store
from lendflow.store.uow import UnitOfWork, run_in_transaction


def _launched(home: Path) -> str:
    """A workspace whose version 1 has been asked for its campaigns; its database key."""
    settings = Settings(home=home, database_url=f"sqlite:///{home / 'store.db'}")
    init_workspace(settings)
    ws = open_workspace(settings)

    def ask(uow: UnitOfWork) -> str:
        assert campaign_store.launched(uow, 1) == ()
        return caches.database_key(uow)

    try:
        return run_in_transaction(ws.engine, ask)
    finally:
        ws.close()


def test_forgetting_a_database_forgets_its_launched_campaigns_and_nothing_else(
    tmp_path: Path,
) -> None:
    emptied, other = _launched(tmp_path / "emptied"), _launched(tmp_path / "other")
    cache = campaign_store._LAUNCHED
    assert isinstance(cache, caches.DatabaseCache)  # kept as every process-wide cache is
    assert {key[0] for key in cache._entries} >= {emptied, other}
    caches.forget(emptied)
    databases = {key[0] for key in cache._entries}
    assert emptied not in databases
    assert other in databases

"""The seam through which disbursement keeps a loan's contract.

Disbursement calls `store_contract` inside its own transaction, so the loan
becomes active with its contract stored or not at all. `StoredContracts`
(documents.issuing, wired by bootstrap) renders and stores the real one; `NoContracts` keeps
nothing, for benchmarks and tests that measure the loan engine alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from lendflow.access.permissions import Actor
    from lendflow.store.uow import UnitOfWork
    from lendflow.workspace.context import Workspace


class ContractRenderer(Protocol):
    def store_contract(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
    ) -> dict[str, Any] | None:
        """Render and store the loan's contract; return {id, sha256, media_type} or None."""
        ...

    def check_issuable(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date
    ) -> None:
        """Refuse a loan whose contract could not be complete, before the payout."""
        ...


class NoContracts:
    def store_contract(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], actor: Actor, as_of: date
    ) -> dict[str, Any] | None:
        return None

    def check_issuable(
        self, ws: Workspace, uow: UnitOfWork, loan: Mapping[str, Any], as_of: date
    ) -> None:
        return None

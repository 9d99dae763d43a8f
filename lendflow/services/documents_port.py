"""The seam for rendering a loan's contract at disbursement.

Disbursement calls the renderer with a view of the loan; `NoContracts` renders
nothing. The documents module provides the real renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class ContractRenderer(Protocol):
    def render_contract(self, loan_view: Mapping[str, Any]) -> tuple[str, bytes] | None:
        """Return (media type, document bytes), or None when no contract is produced."""
        ...


class NoContracts:
    def render_contract(self, loan_view: Mapping[str, Any]) -> tuple[str, bytes] | None:
        return None

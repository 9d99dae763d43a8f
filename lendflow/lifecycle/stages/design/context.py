"""What every design check is given: the spec and everything it is held against."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lendflow.config.policy import Policy
    from lendflow.config.product_spec import ProductSpec
    from lendflow.workspace.context import Workspace

QUOTE_DATE = date(2025, 1, 15)
"""Loans are priced as if made on this ordinary date: a design's APR must not depend on today."""


@dataclass(frozen=True)
class DesignContext:
    """Everything a check may hold the spec against.

    `charter` and `research` are the outputs of the runs that passed those gates.
    `workspace` gives the checks that need one its credit models and templates (the
    packaged ones without it); `version` and `as_of` date the rendered documents.
    """

    code: str
    spec: ProductSpec
    source: str
    charter: dict[str, Any]
    research: dict[str, Any]
    policy: Policy
    workspace: Workspace | None = None
    version: int = 1
    as_of: date = QUOTE_DATE

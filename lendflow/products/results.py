"""What the product catalogue's use cases return: a checked spec file, a stored version.

The JSON is what `lendflow product validate --json` and `lendflow product import --json`
have always printed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import model_validator

from lendflow.domain.statuses import ProductStatus
from lendflow.workspace.results import Result


class ProductCheck(Result):
    """A spec file checked against the schema, the policy and its credit models: every
    problem found, and the key figures when the file could be read."""

    file: str
    ok: bool
    """No problem found (always `not problems`)."""
    code: str | None = None
    highest_apr: Decimal | None = None
    """The highest APR any loan of the product can reach, fees included, in percent."""
    cap: str | None = None
    """The policy's APR cap as people read it ("24%")."""
    problems: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _ok_when_no_problem(cls, data: Any) -> Any:
        if isinstance(data, dict) and "ok" not in data:
            return {**data, "ok": not data.get("problems")}
        return data

    @model_validator(mode="after")
    def _ok_means_no_problem(self) -> ProductCheck:
        if self.ok == bool(self.problems):
            raise ValueError("ok must be true exactly when there is no problem")
        return self


class ProductVersion(Result):
    """A stored version of a product."""

    code: str
    version: int
    state: ProductStatus
    id: int
    sha256: str | None
    """Of the spec the version was stored with (None while it is still being designed)."""

"""The statuses a loan and a product version can be in, by name.

The machines in `config/machines/*.yaml` say which moves between them are legal; these
enums name the statuses so code never spells them as bare strings (a test holds both
equal). They are `StrEnum`s, so a status compares equal to the text stored in its row.
"""

from __future__ import annotations

from enum import StrEnum


class LoanStatus(StrEnum):
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    ACTIVE = "active"
    OVERDUE = "overdue"
    CLOSED = "closed"
    WRITTEN_OFF = "written_off"


DISBURSED = frozenset(
    {LoanStatus.ACTIVE, LoanStatus.OVERDUE, LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF}
)
"""Statuses of a loan that was paid out: it has a schedule, a contract and a journal."""

OUTSTANDING = frozenset({LoanStatus.ACTIVE, LoanStatus.OVERDUE})
"""Statuses of a loan the borrower still owes on: close of business sweeps these."""


class ProductStatus(StrEnum):
    DRAFT = "draft"
    CHARTER = "charter"
    RESEARCH = "research"
    DESIGN = "design"
    BUILD_TEST = "build_test"
    LAUNCH = "launch"
    LIVE = "live"
    RETIRED = "retired"
    KILLED = "killed"
    CHARTER_ON_HOLD = "charter_on_hold"
    RESEARCH_ON_HOLD = "research_on_hold"
    DESIGN_ON_HOLD = "design_on_hold"
    BUILD_TEST_ON_HOLD = "build_test_on_hold"
    LAUNCH_ON_HOLD = "launch_on_hold"

"""What listing a loan's documents returns: each document as issued, described.

The JSON is what `lendflow docs list --json` has always printed.
"""

from __future__ import annotations

from datetime import date

from lendflow.workspace.results import Result


class IssuedDocument(Result):
    """A document kept as issued to a borrower (the content itself is sealed apart)."""

    id: int
    loan_id: int
    kind: str
    """contract, overdue-notice, waiver-terms, ..."""
    locale: str
    media_type: str
    size: int
    """Bytes of the document as issued."""
    sha256: str
    """Of the document's bytes as issued."""
    business_date: date
    actor: str


class DocumentPage(Result):
    """One page of a loan's documents in the order they were kept, with how many in all."""

    total: int
    items: list[IssuedDocument]

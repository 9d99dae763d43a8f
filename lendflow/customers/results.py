"""What the key and backup use cases answer with."""

from __future__ import annotations

from datetime import date

from lendflow.workspace.results import Result


class KeyRotation(Result):
    """A finished rotation: which key the database named before and names now (their
    fingerprints, never the keys), and whether an interrupted run was finished."""

    old_fingerprint: str
    new_fingerprint: str
    resumed: bool


class RelatedParty(Result):
    """A member of a group of related parties (the ID masked unless the role may see it)."""

    group: str
    national_id: str
    added_by: str
    added_on: date

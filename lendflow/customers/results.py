"""What the key and backup use cases answer with."""

from __future__ import annotations

from lendflow.workspace.results import Result


class KeyRotation(Result):
    """A finished rotation: which key the database named before and names now (their
    fingerprints, never the keys), and whether an interrupted run was finished."""

    old_fingerprint: str
    new_fingerprint: str
    resumed: bool

"""Idempotency records: a replayed request gets the first answer and moves nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select

from lendflow.domain.errors import KeyReused
from lendflow.store import driver
from lendflow.store.tables import idempotency_records
from lendflow.store.uow import UnitOfWork

RECORDS = idempotency_records
_FIND = select(RECORDS).where(RECORDS.c.key == bindparam("key"))
_INSERT = insert(RECORDS)


def channel_key(channel: str | None, reference: str) -> str:
    """The idempotency key of a payment channel's reference.

    References are unique only within their channel: channel B's `20260212-0001` is
    not channel A's. Rows of files without a channel keep the key they were always
    posted under, so such a file posted again still moves its money once. Neither a
    channel nor a reference may contain `:`, so no two (channel, reference) share a key.
    """
    if ":" in reference or (channel is not None and (":" in channel or not channel)):
        raise ValueError("a channel or reference must not contain ':' or be empty")
    return f"channel:{reference}" if channel is None else f"channel:{channel}:{reference}"


def request_hash(operation: str, request: Mapping[str, Any]) -> str:
    text = json.dumps({"op": operation, **request}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay(
    uow: UnitOfWork, key: str, operation: str, request: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The stored answer for `key`, or None if the key is new.

    The same key with a different request is a conflict: a client bug that
    must not silently move money or return someone else's answer.
    """
    return answer(driver.first(uow, *lookup(key)), key, operation, request)


def lookup(key: str) -> tuple[Any, dict[str, Any]]:
    """The read of `replay`, to send with others (`driver.together`); its row goes to
    `answer`."""
    return _FIND, {"key": key}


def answer(
    row: Mapping[str, Any] | None, key: str, operation: str, request: Mapping[str, Any]
) -> dict[str, Any] | None:
    """`replay` of the record as read (None: the key is new)."""
    if row is None:
        return None
    if row["operation"] != operation or row["request_hash"] != request_hash(operation, request):
        raise KeyReused(f"idempotency key {key!r} was already used for a different request")
    return json.loads(row["response"])


def remember(
    uow: UnitOfWork,
    key: str,
    operation: str,
    request: Mapping[str, Any],
    response: Mapping[str, Any],
    loan_id: int | None,
) -> None:
    driver.execute(
        uow,
        _INSERT,
        {
            "key": key,
            "operation": operation,
            "request_hash": request_hash(operation, request),
            "loan_id": loan_id,
            "response": json.dumps(response, sort_keys=True, default=str),
        },
    )

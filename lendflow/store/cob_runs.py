"""Close of business as a whole run: the book's id span, the portfolio after it, its record.

The per-chunk reads and writes of a business date are in `cob_queries`; these run
once per run, outside the chunks.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select

from lendflow.store.cob_queries import LIVE
from lendflow.store.tables import cob_runs, loans
from lendflow.store.uow import UnitOfWork

ID_BOUNDS = select(func.min(loans.c.id), func.max(loans.c.id))
LIVE_BY_BUCKET = (
    select(loans.c.bucket, func.count()).where(loans.c.state.in_(LIVE)).group_by(loans.c.bucket)
)
LIVE_BY_CLASS = (
    select(loans.c.classification, func.count())
    .where(loans.c.state.in_(LIVE))
    .group_by(loans.c.classification)
)


def id_bounds(uow: UnitOfWork) -> tuple[int | None, int | None]:
    """The lowest and highest loan id (both None when there is no loan), to partition by."""
    low, high = uow.connection.execute(ID_BOUNDS).one()
    return low, high


def live_by_bucket_and_class(uow: UnitOfWork) -> dict[str, dict[str, int]]:
    """Live loans per bucket and per class, each sorted by name."""
    buckets = uow.connection.execute(LIVE_BY_BUCKET).all()
    classes = uow.connection.execute(LIVE_BY_CLASS).all()
    return {"buckets": dict(sorted(buckets)), "classes": dict(sorted(classes))}


def record_run(
    uow: UnitOfWork, first: date, last: date, actor: str, counts: dict[str, Any]
) -> None:
    """Keep what a run did, for the operators' record; the counts are kept as JSON."""
    uow.connection.execute(
        insert(cob_runs).values(
            from_date=first, to_date=last, actor=actor, counts=json.dumps(counts)
        )
    )


def recorded(uow: UnitOfWork, offset: int, limit: int) -> tuple[int, list[dict[str, Any]]]:
    """How many runs are recorded, and a page of them, newest first."""
    total = int(uow.connection.execute(select(func.count()).select_from(cob_runs)).scalar() or 0)
    rows = uow.connection.execute(
        select(cob_runs).order_by(cob_runs.c.id.desc()).offset(offset).limit(limit)
    ).mappings()
    return total, [dict(r) for r in rows]

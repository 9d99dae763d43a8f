"""The runs close of business has recorded (`cob_runs`): the operators' record of what
each run closed and did, however it was started (the CLI, a flow, the web server)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lendflow.access.permissions import Actor, Permission
from lendflow.close_of_business.results import CobRun, RecordedRun, RecordedRuns
from lendflow.store import cob_runs
from lendflow.store.uow import UnitOfWork, run_in_transaction

if TYPE_CHECKING:
    from lendflow.workspace.context import Workspace


def recorded_runs(ws: Workspace, actor: Actor, offset: int = 0, limit: int = 50) -> RecordedRuns:
    """The recorded runs, newest first, each with the report it kept."""
    actor.require(Permission.READ, "read close of business runs")

    def use_case(uow: UnitOfWork) -> RecordedRuns:
        total, rows = cob_runs.recorded(uow, offset, limit)
        return RecordedRuns(
            total=total,
            items=tuple(
                RecordedRun(
                    id=row["id"],
                    first=row["from_date"],
                    last=row["to_date"],
                    actor=row["actor"],
                    recorded_at=row["created_at"],
                    report=CobRun.model_validate(json.loads(row["counts"])),
                )
                for row in rows
            ),
        )

    return run_in_transaction(ws.engine, use_case)

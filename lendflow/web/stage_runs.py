"""Lifecycle work the API and the console share: starting a stage run, finding a run, and
the gate of one stage.

A stage run is long work: `start_run` checks at once what would refuse it (the inputs,
the user's right, the stage's order), starts the stage's Prefect flow in a thread of its
own and returns as soon as the flow has recorded the run, whose state
(`lifecycle.runs`: running, succeeded, failed) is then readable while it goes. The flow
opens the workspace the environment names, like every flow, which is the server's own.
"""

from __future__ import annotations

import shutil
import threading
import time
from concurrent.futures import Future
from datetime import date
from pathlib import Path
from typing import Any

from lendflow.access.permissions import Actor
from lendflow.domain import bounds
from lendflow.domain.errors import BadInput, NotFound, Refused
from lendflow.flows.servers import connect
from lendflow.lifecycle.results import GateView, RunView
from lendflow.web.problems import log
from lendflow.workspace.context import Workspace

RUN_STARTS_WITHIN = 120.0
"""Seconds a request waits for the flow to record its run (Prefect may be starting)."""


def checked_code(code: str) -> str:
    return bounds.check_code(code, field="code")


def checked_stage(stage: str) -> str:
    """A stage in a path names a resource: one that does not exist is 404."""
    from lendflow.lifecycle.catalog import stage as stage_of

    try:
        return stage_of(bounds.check_code(stage, field="stage")).id
    except BadInput as bad:
        raise NotFound(bad.message) from None


def _newest_run(ws: Workspace, actor: Actor, code: str, stage: str) -> int:
    from lendflow.lifecycle.live_stages import stage_history

    return max((r.run for r in stage_history(ws, actor, code, stage).runs), default=0)


def _flow_call(
    code: str, stage: str, user: str, as_of: date, inputs: dict[str, str], samples: bool
) -> dict[str, Any]:
    from lendflow.flows.stages import run_stage_flow

    return run_stage_flow(stage, code=code, user=user, as_of=as_of, inputs=inputs, samples=samples)


def _await_record(
    ws: Workspace, actor: Actor, code: str, stage: str, before: int, running: Future[Any]
) -> int:
    """The run the flow recorded (the first newer than `before` by this user); a flow that
    failed before recording one raises its error here."""
    from lendflow.lifecycle.live_stages import stage_history

    deadline = time.monotonic() + RUN_STARTS_WITHIN
    while time.monotonic() < deadline:
        mine = [
            r.run
            for r in stage_history(ws, actor, code, stage).runs
            if r.run > before and r.run_by == actor.name
        ]
        if mine:
            return min(mine)
        if running.done():
            running.result()  # raises the flow's own error
            raise Refused(f"the {stage} run of {code} ended without recording a run")
        time.sleep(0.1)
    raise Refused(
        f"the {stage} run of {code} has not recorded its start after {RUN_STARTS_WITHIN:.0f} s;"
        f" it will appear among the stage's runs when it does"
    )


def _start_in_background(
    code: str,
    stage: str,
    user: str,
    as_of: date,
    inputs: dict[str, str],
    samples: bool,
    uploads: Path | None,
) -> Future[Any]:
    """Run the flow in a thread of its own (never a bounded pool, where a run could wait
    unseen behind others); a server stopping waits for it, so no run is left running.
    The folder of uploaded inputs goes once the flow is done with it."""
    outcome: Future[Any] = Future()

    def work() -> None:
        try:
            outcome.set_result(_flow_call(code, stage, user, as_of, inputs, samples))
        except BaseException as exc:  # the run records its own failure; the log says so too
            log.warning("%s run of %s failed: %s", stage, code, exc)
            outcome.set_exception(exc)
        finally:
            if uploads is not None:
                shutil.rmtree(uploads, ignore_errors=True)

    threading.Thread(target=work, name=f"stage-run-{code}-{stage}").start()
    return outcome


_start_lock = threading.Lock()


def start_run(
    ws: Workspace,
    actor: Actor,
    code: str,
    stage: str,
    as_of: date,
    given: dict[str, Path],
    *,
    samples: bool,
    uploads: Path | None = None,
) -> int:
    """Start a stage's flow on the files `given` (by input name) and, with `samples`, the
    shipped samples for the rest; the number of the run it recorded. `uploads` is a folder
    the given files were saved in, removed once the flow has read them (or at once when
    the run is refused before it starts)."""
    from lendflow.flows.stages import stage_flow
    from lendflow.lifecycle.catalog import stage as stage_of
    from lendflow.lifecycle.inputs import capture_inputs
    from lendflow.lifecycle.live_stages import check_runnable

    started = False
    try:
        capture_inputs(stage_of(stage), given, use_samples=samples)
        check_runnable(ws, actor, code, stage)
        connect(ws.settings.home)  # before the flow's module imports prefect: where it reports
        if stage_flow(stage) is None:
            raise Refused(f"stage {stage} has no flow in this installation yet")
        paths = {name: str(path) for name, path in given.items()}
        with _start_lock:  # one start at a time, so each request finds its own run
            before = _newest_run(ws, actor, code, stage)
            running = _start_in_background(code, stage, actor.name, as_of, paths, samples, uploads)
            started = True
            return _await_record(ws, actor, code, stage, before, running)
    finally:
        if not started and uploads is not None:
            shutil.rmtree(uploads, ignore_errors=True)


def find_run(ws: Workspace, actor: Actor, code: str, stage: str, run: int) -> RunView:
    """Run `run` of a stage of `code` (the live version's, for operate and improve)."""
    from lendflow.lifecycle.live_stages import stage_history

    found = [r for r in stage_history(ws, actor, code, stage).runs if r.run == run]
    if not found:
        raise NotFound(f"run {run} is not a {stage} run of {code}")
    return found[0]


def gate_at(view: GateView, stage: str) -> GateView | None:
    """The gate of `stage` out of a product's gate view (the pipeline's gate or a live
    one) with the run waiting at it, or None when no run waits there."""
    if view.stage == stage and view.run is not None:
        return view
    for live in view.live_gates:
        if live.stage == stage:
            shown = live.model_dump(exclude={"code"})
            return view.model_copy(update={**shown, "criteria": live.criteria})
    return None

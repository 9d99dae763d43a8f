"""Scheduled runs: the deployments `lendflow serve` serves, and close of business on a work pool.

Against a Prefect server: `prefect server start`, set PREFECT_API_URL, then
either run `lendflow serve` on any machine that can reach the database, or
`lendflow cob deploy --pool NAME` and start `prefect worker start --pool NAME
--type process` on machines where lendflow is installed. Served runs keep
Prefect's flow heartbeat so the server can notice a crashed run.

On a work pool the flow run is a process a worker starts. When that process
dies (killed, out of memory) its worker marks the run crashed, and Prefect's
flow retries cannot help: nothing is left to retry. So the deployment comes
with an automation that schedules a crashed run of it again, for any worker of
the pool to take up; the chunks it committed are closed already and change
nothing the second time. When the worker's machine is lost with the run, nobody
is left to say it crashed: the run's heartbeat stops, and a second automation
marks a run silent for `lost_after` crashed, which sends it the same way.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from prefect import serve
from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from lendflow.domain.errors import BadInput
from lendflow.flows.cob import close_of_business
from lendflow.flows.review import product_review

TIME_ZONE = "Asia/Shanghai"
CLOSE_OF_BUSINESS_CRON = "30 0 * * *"  # 00:30 every day: close the day that just ended
PRODUCT_REVIEW_CRON = "0 2 1 * *"  # 02:00 on the 1st: review every live product's last month


CLOSE_OF_BUSINESS = "close-of-business"
RERUN_CRASHED = "lendflow: run crashed close of business again"
CRASH_SILENT = "lendflow: a silent close of business has crashed"
# A run on a work pool says it is alive this often (Prefect's shortest interval);
# one not heard from for LOST_AFTER is taken for lost with its machine.
HEARTBEAT_SECONDS = 30
LOST_AFTER = timedelta(seconds=90)
FINISHED = ("Completed", "Failed", "Cancelled", "Crashed")


def _close_of_business_deployment(**options: Any) -> Any:
    return close_of_business.to_deployment(
        name=CLOSE_OF_BUSINESS,
        schedule=Cron(CLOSE_OF_BUSINESS_CRON, timezone=TIME_ZONE),
        description="Daily close of business for the previous business date.",
        tags=["lendflow", "cob"],
        **options,
    )


def deployments() -> list[Any]:
    return [
        _close_of_business_deployment(),
        product_review.to_deployment(
            name="product-review",
            schedule=Cron(PRODUCT_REVIEW_CRON, timezone=TIME_ZONE),
            description="Monthly review (stage 6) of every live product as of the last month end.",
            tags=["lendflow", "lifecycle"],
        ),
    ]


def serve_all(limit: int | None = None) -> None:
    """Serve every deployment until stopped; stopping leaves the schedules active."""
    serve(*deployments(), pause_on_shutdown=False, limit=limit)


def deploy_close_of_business(pool: str, lost_after: timedelta = LOST_AFTER) -> UUID:
    """Register close of business on `pool` (a process pool, made if missing), rerun if crashed.

    The workers load the flow by module path (`lendflow.flows.cob`), so any
    machine with lendflow installed and the database in reach can be one; no
    image or code storage is involved. Its runs send a heartbeat, so that a run
    lost with its machine is noticed after `lost_after`.
    """
    if lost_after <= timedelta(seconds=HEARTBEAT_SECONDS):
        raise BadInput(
            f"a run is heard from every {HEARTBEAT_SECONDS} s: give it longer than that"
            f" before taking it for lost, not {lost_after.total_seconds():g} s"
        )
    _ensure_process_pool(pool)
    deployment = _close_of_business_deployment(
        work_pool_name=pool,
        entrypoint_type=EntrypointType.MODULE_PATH,
        job_variables={"env": {"PREFECT_FLOWS_HEARTBEAT_FREQUENCY": str(HEARTBEAT_SECONDS)}},
    )
    deployment_id: UUID = deployment.apply(work_pool_name=pool)
    _replace_automations(
        _rerun_crashed_runs(deployment_id), _crash_silent_runs(deployment_id, lost_after)
    )
    return deployment_id


def _ensure_process_pool(pool: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def _of_deployment(deployment_id: UUID) -> dict[str, str]:
    return {
        "prefect.resource.role": "deployment",
        "prefect.resource.id": f"prefect.deployment.{deployment_id}",
    }


def _rerun_crashed_runs(deployment_id: UUID) -> Automation:
    """A crashed run of the deployment goes back to Scheduled (AwaitingRetry).

    The flow itself refuses to start a run that has crashed too often
    (`lendflow.flows.cob.MOST_RUNS`), so a run that kills every worker it
    lands on ends failed, for a person to look at, instead of looping.
    """
    return Automation(
        name=RERUN_CRASHED,
        description="A close-of-business run whose process died is scheduled again.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Crashed"},
            match_related=_of_deployment(deployment_id),
            for_each={"prefect.resource.id"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.SCHEDULED,
                name="AwaitingRetry",
                message="its process died; scheduled again for any worker of the pool",
            )
        ],
    )


def _crash_silent_runs(deployment_id: UUID, lost_after: timedelta) -> Automation:
    """A run that sent a heartbeat and then nothing (not even an end) for `lost_after` crashed."""
    return Automation(
        name=CRASH_SILENT,
        description="A close-of-business run lost with its worker's machine is marked crashed.",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{s}" for s in FINISHED)},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=_of_deployment(deployment_id),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=lost_after,
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {lost_after.total_seconds():g} s: lost with its worker",
            )
        ],
    )


def _replace_automations(*automations: Automation) -> None:
    """Deploying again replaces lendflow's automations, so there is never more than one of each."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for automation in automations:
            for stale in client.read_automations_by_name(name=automation.name):
                client.delete_automation(stale.id)
    for automation in automations:
        automation.create()

"""Scheduled runs: the deployments `lendflow serve` serves, and close of business on a work pool.

Against a Prefect server: `prefect server start`, set PREFECT_API_URL, then
either run `lendflow serve` on any machine that can reach the database, or
`lendflow cob deploy --pool NAME` and start `prefect worker start --pool NAME
--type process` on machines where lendflow is installed. Served runs keep
Prefect's flow heartbeat so the server can notice a crashed run.

On a work pool the flow run is a process a worker starts. When that process
dies (killed, out of memory, its machine lost) its worker marks the run
crashed, and Prefect's flow retries cannot help: nothing is left to retry. So
the deployment comes with an automation that schedules a crashed run of it
again, for any worker of the pool to take up; the chunks it committed are
closed already and change nothing the second time.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from prefect import serve
from prefect.automations import Automation
from prefect.client.schemas.objects import StateType
from prefect.events.actions import ChangeFlowRunState
from prefect.events.schemas.automations import EventTrigger, Posture
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from lendflow.flows.cob import close_of_business
from lendflow.flows.review import product_review

TIME_ZONE = "Asia/Shanghai"
CLOSE_OF_BUSINESS_CRON = "30 0 * * *"  # 00:30 every day: close the day that just ended
PRODUCT_REVIEW_CRON = "0 2 1 * *"  # 02:00 on the 1st: review every live product's last month


CLOSE_OF_BUSINESS = "close-of-business"
RERUN_CRASHED = "lendflow: run crashed close of business again"


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


def deploy_close_of_business(pool: str) -> UUID:
    """Register close of business on `pool` (a process pool, made if missing), rerun if crashed.

    The workers load the flow by module path (`lendflow.flows.cob`), so any
    machine with lendflow installed and the database in reach can be one; no
    image or code storage is involved.
    """
    _ensure_process_pool(pool)
    deployment = _close_of_business_deployment(
        work_pool_name=pool, entrypoint_type=EntrypointType.MODULE_PATH
    )
    deployment_id: UUID = deployment.apply(work_pool_name=pool)
    _rerun_crashed_runs(deployment_id)
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


def _rerun_crashed_runs(deployment_id: UUID) -> None:
    """One automation: a crashed run of the deployment goes back to Scheduled (AwaitingRetry).

    Deploying again replaces it, so there is never more than one. The flow
    itself refuses to start a run that has crashed too often
    (`lendflow.flows.cob.MOST_RUNS`), so a run that kills every worker it
    lands on ends failed, for a person to look at, instead of looping.
    """
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        for stale in client.read_automations_by_name(name=RERUN_CRASHED):
            client.delete_automation(stale.id)
    Automation(
        name=RERUN_CRASHED,
        description="A close-of-business run whose process died is scheduled again.",
        trigger=EventTrigger(
            expect={"prefect.flow-run.Crashed"},
            match_related={
                "prefect.resource.role": "deployment",
                "prefect.resource.id": f"prefect.deployment.{deployment_id}",
            },
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
    ).create()

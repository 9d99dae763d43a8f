"""Scheduled runs: the deployments `lendflow serve` serves.

Against a Prefect server with workers: `prefect server start`, set
PREFECT_API_URL, run `lendflow serve` on any machine that can reach the
database (or deploy these flows to a work pool and start `prefect worker
start --pool NAME` where the code is installed). Served runs keep Prefect's
flow heartbeat so the server can notice a crashed run.
"""

from __future__ import annotations

from typing import Any

from prefect import serve
from prefect.schedules import Cron

from lendflow.flows.cob import close_of_business
from lendflow.flows.review import product_review

TIME_ZONE = "Asia/Shanghai"
CLOSE_OF_BUSINESS_CRON = "30 0 * * *"  # 00:30 every day: close the day that just ended
PRODUCT_REVIEW_CRON = "0 2 1 * *"  # 02:00 on the 1st: review every live product's last month


def deployments() -> list[Any]:
    return [
        close_of_business.to_deployment(
            name="close-of-business",
            schedule=Cron(CLOSE_OF_BUSINESS_CRON, timezone=TIME_ZONE),
            description="Daily close of business for the previous business date.",
            tags=["lendflow", "cob"],
        ),
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

"""What each batch loan flow needs of the user it runs for.

A user who lacks it is refused before any loan is touched (one line: "user pm
(product_manager) may not review applications"), never counted as "skipped" loan by
loan. Kept apart from `flows.loans` so the command line can check it before Prefect
is imported.
"""

from __future__ import annotations

from lendflow.access.permissions import Permission

BATCH_PERMISSIONS: dict[str, tuple[Permission, str]] = {
    "review_applications": (Permission.REVIEW, "review applications"),
    "disburse_approved": (Permission.DISBURSE, "pay out loans"),
    "post_repayments": (Permission.REPAY, "post repayments"),
}

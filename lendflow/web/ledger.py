"""The finance team's reports over /api/v1 (`lendflow ledger`): the trial balance, the
provisions by class, the journal for the general ledger (CSV) and the month-end report
(JSON, or the HTML with its charts). Each route only parses, calls the use case and
serves its result; `read_ledger` (auditors, finance, admins) is checked in the use case."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from lendflow.accounting.results import MonthEndReport, ProvisionReport, TrialBalance
from lendflow.domain import bounds
from lendflow.domain.credit_reporting import parse_month
from lendflow.web.auth import Acting, Ws
from lendflow.web.loans import business_date, served
from lendflow.web.problems import documented

router = APIRouter(tags=["ledger"], responses=documented(400, 401, 403, 422, 500))

AsOf = Annotated[date | None, Query(description="As at the end of this day (default: today).")]
Month = Annotated[
    str,
    Query(pattern=r"^[0-9]{4}-[0-9]{2}$", description="The month, YYYY-MM.", examples=["2026-07"]),
]


@router.get("/ledger/trial-balance", response_model=TrialBalance)
def trial_balance(ws: Ws, actor: Acting, as_of: AsOf = None) -> Any:
    """Every account's balance as at a day (`lendflow ledger trial-balance`)."""
    from lendflow.accounting.ledger import trial_balance as read

    return served(read(ws, actor, business_date(ws, None, as_of)))


@router.get("/ledger/provisions", response_model=ProvisionReport)
def provisions(ws: Ws, actor: Acting, as_of: AsOf = None) -> Any:
    """Provisions by class at the last month end up to a day, and the allowance
    (`lendflow ledger provisions`)."""
    from lendflow.accounting.ledger import provisions as read

    return served(read(ws, actor, business_date(ws, None, as_of)))


@router.get(
    "/ledger/journal",
    response_class=Response,
    responses={
        200: {
            "description": "The journal lines of the window as CSV under the lender's account"
            " codes (what `lendflow ledger export` writes).",
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "headers": {
                "ETag": {"description": "The SHA-256 of the file.", "schema": {"type": "string"}},
                "Content-Disposition": {
                    "description": "journal-FROM-TO.csv",
                    "schema": {"type": "string"},
                },
            },
        }
    },
)
def journal(
    ws: Ws,
    actor: Acting,
    first: Annotated[date, Query(alias="from", description="First business date.")],
    last: Annotated[date, Query(alias="to", description="Last business date.")],
) -> Response:
    """The journal of a window for the general ledger, with the workspace's account codes."""
    from lendflow.accounting.ledger import export_journal

    first = bounds.check_date(first, field="from")
    last = bounds.check_date(last, field="to")
    content, done = export_journal(ws, actor, first, last)
    headers = {
        "ETag": f'"{done.sha256}"',
        "Content-Disposition": f'attachment; filename="journal-{first}-{last}.csv"',
    }
    return Response(content, media_type="text/csv; charset=utf-8", headers=headers)


@router.get(
    "/reports/month-end",
    response_model=MonthEndReport,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
)
def month_end(
    ws: Ws,
    actor: Acting,
    month: Month,
    format: Annotated[Literal["json", "html"], Query(description="json or html.")] = "json",
    locale: Annotated[Literal["zh-CN", "en"], Query(description="For html.")] = "zh-CN",
) -> Any:
    """The month's figures (`lendflow ledger month-end`); `format=html` is the report
    with its charts."""
    from lendflow.accounting.ledger import month_end as read

    figures = read(ws, actor, parse_month(month, field="month"))
    if format == "html":
        from lendflow.accounting.month_end_report import render_month_end

        return Response(render_month_end(figures, locale), media_type="text/html; charset=utf-8")
    return served(figures)

"""Operations over /api/v1: service tickets, issued documents, the credit bureau's monthly
report and close of business.

Like the loan routes these only parse, call the use case the CLI calls and serve its
result. Close of business is long work: the request checks the dates and the caller's
right, hands the run to a background thread and answers 202 with the run's address;
the thread runs the close-of-business Prefect flow `lendflow cob run` runs, one flow run
per date, and the run's state (with its flow runs) is read while it goes.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from lendflow.access.permissions import Actor, Permission
from lendflow.close_of_business.results import CobRun
from lendflow.documents.results import DocumentPage
from lendflow.domain import bounds
from lendflow.domain.errors import KeyReused, NotFound
from lendflow.flows.servers import connect
from lendflow.monitoring.results import Ticket
from lendflow.web.auth import Acting, Ws
from lendflow.web.bodies import Dated
from lendflow.web.loans import (
    IdempotencyKey,
    Limit,
    LoanId,
    Offset,
    On,
    _key,
    business_date,
    served,
)
from lendflow.web.problems import documented, log
from lendflow.workspace.context import Workspace

if TYPE_CHECKING:
    from lendflow.monitoring.tickets import NewTicket

router = APIRouter(responses=documented(400, 401, 403, 404, 409, 413, 422, 500))

Id = Annotated[int, Path(ge=1, le=bounds.MAX_ID)]


class TicketBody(Dated):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "complaint",
                    "subject": "charged twice",
                    "channel": "phone",
                    "loan_id": 1,
                    "business_date": "2026-01-05",
                }
            ]
        },
    )
    kind: Literal["complaint", "question"]
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    channel: Literal["phone", "app", "wechat", "email", "branch", "regulator"] = "phone"
    details: Annotated[str, Field(min_length=1, max_length=2000)] | None = None
    loan_id: Annotated[int, Field(ge=1, le=bounds.MAX_ID)] | None = None
    customer_id: Annotated[int, Field(ge=1, le=bounds.MAX_ID)] | None = None
    product: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class ResolveBody(Dated):
    resolution: Annotated[str, Field(min_length=1, max_length=2000, examples=["refunded"])]


class TicketPage(BaseModel):
    """A page of tickets, oldest first, with how many match in all."""

    total: int
    items: list[Ticket]


class CobBody(Dated):
    as_of: date | None = Field(
        default=None, description="First date to close (default: yesterday)."
    )
    to: date | None = Field(default=None, description="Last date to close (default: as_of).")


RunState = Literal["queued", "running", "succeeded", "failed"]


class CobRunState(BaseModel):
    """A close-of-business run this server started: where it stands and, once done, its report."""

    id: int
    state: RunState
    first: date = Field(serialization_alias="from")
    last: date = Field(serialization_alias="to")
    actor: str
    flow_runs: list[str] = Field(
        description="The Prefect flow run of each date, oldest first, from when it starts."
    )
    counts: CobRun | None = None
    """The run's report (`lendflow cob run --json` over the range), once it has succeeded."""
    error: str | None = None


class CobRunPage(BaseModel):
    total: int
    items: list[CobRunState]


# ---------------------------------------------------------------- tickets


@router.get("/tickets", response_model=TicketPage, tags=["tickets"])
def tickets(
    ws: Ws,
    actor: Acting,
    on: On = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
    breached: bool = False,
    product: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Any:
    """Tickets oldest first as seen on the business date (`lendflow ticket list --json`)."""
    from lendflow.monitoring.tickets import list_tickets

    found = list_tickets(
        ws,
        actor,
        business_date(ws, None, on),
        open_only=open_only,
        breached_only=breached,
        product=product,
    )
    return served(TicketPage(total=len(found), items=found[offset : offset + limit]))


def new_ticket(
    kind: str,
    subject: str,
    channel: str,
    details: str | None,
    *,
    loan_id: int | None = None,
    customer_id: int | None = None,
    product: str | None = None,
) -> NewTicket:
    """A ticket as asked over the web, each text held to its bounds (the use case checks
    the kind, channel and links)."""
    from lendflow.monitoring.tickets import NewTicket

    return NewTicket(
        kind=kind,
        subject=bounds.check_text(subject, field="subject", max_length=200),
        channel=channel,
        details=bounds.check_note(details, field="details") if details else None,
        loan_id=loan_id,
        customer_id=customer_id,
        product=bounds.check_code(product, field="product") if product else None,
    )


@router.post(
    "/tickets",
    status_code=201,
    response_model=Ticket,
    tags=["tickets"],
    responses={201: {"headers": {"Location": {"description": "The new ticket."}}}},
)
def open_ticket(body: TicketBody, ws: Ws, actor: Acting, on: On = None) -> Any:
    """Record a complaint or question, linked to a loan or a customer when given."""
    from lendflow.monitoring.tickets import open_ticket as open_new

    new = new_ticket(
        body.kind,
        body.subject,
        body.channel,
        body.details,
        loan_id=body.loan_id,
        customer_id=body.customer_id,
        product=body.product,
    )
    ticket = open_new(ws, actor, new, business_date(ws, body, on))
    return served(ticket, 201, {"Location": f"/api/v1/tickets/{ticket.id}"})


@router.post("/tickets/{ticket_id}/resolve", response_model=Ticket, tags=["tickets"])
def resolve_ticket(ticket_id: Id, body: ResolveBody, ws: Ws, actor: Acting, on: On = None) -> Any:
    """Close a ticket with what was done about it."""
    from lendflow.monitoring.tickets import resolve

    resolution = bounds.check_note(body.resolution, field="resolution")
    return served(resolve(ws, actor, ticket_id, resolution, business_date(ws, body, on)))


# ---------------------------------------------------------------- documents


@router.get("/loans/{loan_id}/documents", response_model=DocumentPage, tags=["documents"])
def loan_documents(
    loan_id: LoanId, ws: Ws, actor: Acting, offset: Offset = 0, limit: Limit = 50
) -> Any:
    """The documents kept as issued for a loan, a page at a time (`lendflow docs list`)."""
    from lendflow.documents.issuing import page_documents

    return served(page_documents(ws, actor, loan_id, offset=offset, limit=limit))


@router.get(
    "/documents/{document_id}",
    tags=["documents"],
    response_class=Response,
    responses={
        200: {
            "description": "The document's bytes exactly as issued.",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
def document(document_id: Id, ws: Ws, actor: Acting) -> Response:
    """Download a document as issued, with the media type it was issued in."""
    from lendflow.documents.issuing import stored_content

    issued, content = stored_content(ws, actor, document_id)
    headers = {
        "ETag": f'"{issued.sha256}"',
        "Content-Disposition": f'attachment; filename="{issued.kind}-{issued.id}"',
    }
    return Response(content, media_type=issued.media_type, headers=headers)


# ---------------------------------------------------------------- credit reporting

MonthQuery = Annotated[
    str,
    Query(
        pattern=r"^[0-9]{4}-[0-9]{2}$",
        description="The month to report, YYYY-MM; close of business must have closed it.",
        examples=["2026-07"],
    ),
]


@router.post(
    "/reports/credit-bureau",
    tags=["reports"],
    response_class=Response,
    responses={
        200: {
            "description": "The month's records for the credit reference system, in the"
            " layout of docs/credit-reporting.md (what `lendflow report credit-bureau`"
            " writes); the month is kept as reported.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "headers": {
                "ETag": {
                    "description": "The SHA-256 of the records.",
                    "schema": {"type": "string"},
                },
                "Content-Disposition": {
                    "description": "credit-bureau-YYYY-MM.txt",
                    "schema": {"type": "string"},
                },
            },
        }
    },
)
def credit_bureau(month: MonthQuery, ws: Ws, actor: Acting, on: On = None) -> Response:
    """Report a month to the credit reference system (`lendflow report credit-bureau`):
    one record per reportable loan, a correction record for each whose figures changed
    since the month was last reported."""
    from lendflow.loans.credit_reporting import report_month
    from lendflow.workspace.credit_bureau import MemoryBureau

    bureau = MemoryBureau()
    done = report_month(ws, actor, month, business_date(ws, None, on), bureau)
    assert bureau.content is not None  # a report that went out has its bytes
    headers = {
        "ETag": f'"{done.sha256}"',
        "Content-Disposition": f'attachment; filename="credit-bureau-{done.month}.txt"',
    }
    return Response(bureau.content, media_type="text/plain; charset=utf-8", headers=headers)


# ---------------------------------------------------------------- close of business


@dataclass
class CobJob:
    id: int
    key: str
    asked: str
    first: date
    last: date
    actor: str
    state: RunState = "queued"
    flow_runs: list[str] = field(default_factory=list)
    counts: CobRun | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    steps: int = 0
    """Dates the run has to close (one flow run each), once it runs."""
    steps_done: int = 0

    def started(self, flow_run_id: str) -> None:
        """A date's flow run has started (again, on the flow's own retry: kept once)."""
        if flow_run_id not in self.flow_runs:
            self.flow_runs.append(flow_run_id)

    def view(self) -> CobRunState:
        return CobRunState(
            id=self.id,
            state=self.state,
            first=self.first,
            last=self.last,
            actor=self.actor,
            flow_runs=list(self.flow_runs),
            counts=self.counts,
            error=self.error,
        )


class _Stopped(Exception):
    """The server is stopping: a run ends between two closed dates."""


class CobRuns:
    """The close-of-business runs this server started, by id and by idempotency key.

    One run sweeps at a time (a second waits, queued): two sweeps of the same dates
    would only find each other's work done, but one after the other is what an
    operator expects to read. Each date is a run of the close-of-business flow, which
    keeps its own record in `cob_runs` as for `lendflow cob run`; this registry holds
    the range's state while it goes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sweeping = threading.Lock()
        self._jobs: list[CobJob] = []
        self._by_key: dict[str, CobJob] = {}
        self._stopping = threading.Event()

    def start(
        self, ws: Workspace, actor: Actor, key: str, first: date, last: date
    ) -> tuple[CobJob, bool]:
        """The job for `key` and whether it is a replay: the one already started with the
        key, else a new one now queued."""
        asked = json.dumps([first.isoformat(), last.isoformat()])
        with self._lock:
            known = self._by_key.get(key)
            if known is not None:
                if known.asked != asked:
                    raise KeyReused(f"idempotency key {key!r} was used for another run")
                return known, True
            job = CobJob(len(self._jobs) + 1, key, asked, first, last, actor.name)
            self._jobs.append(job)
            self._by_key[key] = job
        threading.Thread(target=self._run, args=(ws, job), daemon=True).start()
        return job, False

    def _run(self, ws: Workspace, job: CobJob) -> None:
        try:
            with self._sweeping:
                if self._stopping.is_set():
                    raise _Stopped("the server stopped before the run started")
                job.state = "running"
                job.counts = self._sweep(ws, job)
                job.state = "succeeded"
        except _Stopped as stopped:
            job.error, job.state = str(stopped), "failed"
        except Exception as exc:  # the run fails; the server and its other runs go on
            error_id = uuid.uuid4().hex
            log.error("close of business run %s failed: %s", job.id, error_id, exc_info=exc)
            reason = getattr(exc, "message", None) or "unexpected error"
            job.error = f"{reason}; quote id {error_id}"
            job.state = "failed"
        finally:
            job.done.set()

    def _sweep(self, ws: Workspace, job: CobJob) -> CobRun:
        """The close-of-business flow over the range, one flow run per date (each date
        commits on its own), so a stopping server leaves between two closed dates. The
        flow opens the workspace the environment names, which is the server's own."""
        from lendflow.flows.cob import close_one_date
        from lendflow.flows.runtime import batch_run

        reports = []
        job.steps = (job.last - job.first).days + 1
        day = job.first
        with batch_run():  # the dates' flow runs share one API client
            while day <= job.last:
                if self._stopping.is_set():
                    raise _Stopped(f"the server stopped; dates before {day} are closed")
                _, report = close_one_date(day, job.actor, ws.today(), job.started)
                reports.append(report)
                job.steps_done += 1
                day += timedelta(days=1)
        return CobRun.combined(reports)

    def stop(self, wait: float = 10.0) -> None:
        """Start no queued run and end the running one between two dates (on shutdown)."""
        self._stopping.set()
        with self._lock:
            jobs = list(self._jobs)
        for job in jobs:
            job.done.wait(wait)

    def newest(self) -> list[CobJob]:
        """The runs this server started, newest first."""
        with self._lock:
            return list(reversed(self._jobs))

    def page(self, offset: int, limit: int) -> CobRunPage:
        newest = self.newest()
        shown = [job.view() for job in newest[offset : offset + limit]]
        return CobRunPage(total=len(newest), items=shown)

    def get(self, run_id: int) -> CobJob:
        with self._lock:
            if 1 <= run_id <= len(self._jobs):
                return self._jobs[run_id - 1]
        raise NotFound(f"close of business run {run_id} does not exist")


def begin_cob(
    runs: CobRuns, ws: Workspace, actor: Actor, key: str, first: date | None, last: date | None
) -> tuple[CobJob, bool]:
    """Check the caller's right and the dates (a refusal is the CLI's line, and no run
    starts), then hand the run to `runs`; the job and whether it is a replay of `key`.
    `first` defaults to yesterday, `last` to `first`."""
    from lendflow.close_of_business.sweep import check_dates
    from lendflow.config.cob import load_cob_config

    actor.require(Permission.RUN_COB, "run close of business")
    today = ws.today()
    first = first or today - timedelta(days=1)
    last = last or first
    bounds.check_date(first, field="as_of")
    bounds.check_date(last, field="to")
    check_dates(first, last, today)
    load_cob_config()  # a malformed file fails here, in one line, before any run
    connect(ws.settings.home)  # before the flow's module imports prefect: where it reports
    return runs.start(ws, actor, key, first, last)


def _runs(request: Request) -> CobRuns:
    found: CobRuns = request.app.state.cob_runs
    return found


def _run_answer(job: CobJob, replayed: bool) -> Any:
    headers = {"Location": f"/api/v1/cob/runs/{job.id}"}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(job.view().model_dump(mode="json", by_alias=True), 202, headers)


@router.post(
    "/cob/runs",
    status_code=202,
    response_model=CobRunState,
    tags=["close of business"],
    responses={202: {"headers": {"Location": {"description": "The run, readable while it goes."}}}},
)
def start_cob(
    request: Request,
    ws: Ws,
    actor: Acting,
    idempotency_key: IdempotencyKey = None,
    body: CobBody | None = None,
) -> Any:
    """Close a business date, or a range, in the background (`lendflow cob run`)."""
    key = _key(idempotency_key)
    first, last = (body.as_of, body.to) if body else (None, None)
    job, replayed = begin_cob(_runs(request), ws, actor, key, first, last)
    return _run_answer(job, replayed)


@router.get("/cob/runs", response_model=CobRunPage, tags=["close of business"])
def cob_runs(request: Request, actor: Acting, offset: Offset = 0, limit: Limit = 50) -> Any:
    """The runs this server started, newest first."""
    actor.require(Permission.READ, "read close of business runs")
    page = _runs(request).page(offset, limit)
    return JSONResponse(page.model_dump(mode="json", by_alias=True))


@router.get("/cob/runs/{run_id}", response_model=CobRunState, tags=["close of business"])
def cob_run(run_id: Id, request: Request, actor: Acting) -> Any:
    """A run's state, and its counts once it has succeeded."""
    actor.require(Permission.READ, "read close of business runs")
    job = _runs(request).get(run_id)
    return JSONResponse(job.view().model_dump(mode="json", by_alias=True))

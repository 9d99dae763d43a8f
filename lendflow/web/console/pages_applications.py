"""Applications in the console: the form an operator enters one in, and its submission.

The form is checked field by field (`Application.parse_each`, the same checks the CLI
and the API make through `Application.parse`), so every wrong field is shown beside
itself at once and the form comes back with what was typed. A valid application goes
to `loans.applications.apply`, the use case the CLI and the API call; a product term
it breaks (amount, term, purpose, the applicant's age) is shown beside its field too.
The new loan's page follows, where the operator starts its review.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from lendflow.access.permissions import Actor, Permission
from lendflow.domain.credit_facts import EMPLOYMENT
from lendflow.domain.errors import FieldProblems, FieldRefused, LendflowError
from lendflow.web.console.render import language, render
from lendflow.web.console.session import Staff
from lendflow.web.problems import status_of
from lendflow.workspace.context import Workspace

router = APIRouter(prefix="/console/applications", include_in_schema=False)


class ApplicationForm(BaseModel):
    """What the form posts, as typed: every field is text until `parse_each` reads it."""

    product: str = ""
    name: str = ""
    national_id: str = ""
    phone: str = ""
    monthly_income: str = ""
    monthly_debt: str = ""
    amount: str = ""
    term: str = ""
    purpose: str = ""
    employment: str = ""
    referrer: str = ""
    consents: list[str] = []


def _ws(request: Request) -> Workspace:
    ws: Workspace = request.app.state.workspace
    return ws


def _consent_texts(locale: str) -> list[tuple[str, str]]:
    """Each consent's words in the page's language: what the applicant is shown."""
    from lendflow.config.consents import load_consent_texts
    from lendflow.domain.consents import CONSENTS

    texts = load_consent_texts()
    return [(name, texts.shown(name, locale)[1]) for name in CONSENTS]


def _live_products(ws: Workspace, actor: Actor) -> list[tuple[str, str]]:
    """(code, name) of each product that takes applications now."""
    from lendflow.lifecycle.products import list_products

    return [(p.code, p.name) for p in list_products(ws, actor) if p.live_version is not None]


def _form(
    request: Request,
    actor: Actor,
    typed: ApplicationForm,
    *,
    problems: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    ws = _ws(request)
    context = {
        "products": _live_products(ws, actor),
        "employment": EMPLOYMENT,
        "consent_texts": _consent_texts(language(request)),
        "typed": typed.model_dump(),
        "problems": problems or {},
        "error": error,
        "business_date": ws.today(),
    }
    return render(request, "console/application.html.j2", context, actor=actor, status=status)


@router.get("/new")
def new_application(request: Request, actor: Staff) -> Response:
    actor.require(Permission.APPLY, "take applications")
    return _form(request, actor, ApplicationForm())


@router.post("")
def submit(request: Request, actor: Staff, typed: Annotated[ApplicationForm, Form()]) -> Response:
    """Take the application, or show the form again with each problem beside its field
    (422) or, for a rule about the applicant as a whole, above the form."""
    from lendflow.loans.applications import Application, apply

    actor.require(Permission.APPLY, "take applications")
    ws = _ws(request)
    raw: dict[str, object] = {
        k: v.strip() for k, v in typed.model_dump().items() if isinstance(v, str)
    }
    raw |= {
        "consents": typed.consents,
        "channel": "console",
        "consent_locale": language(request),
    }
    problems: dict[str, str] = {}
    product = str(raw["product"])
    if product and product not in dict(_live_products(ws, actor)):
        problems["product"] = f"product {product!r} does not take applications"
    try:
        application = Application.parse_each(**raw)
    except FieldProblems as bad:
        problems = {**bad.fields, **problems}
    if problems:
        return _form(request, actor, typed, problems=problems, status=422)
    try:
        result = apply(ws, actor, application, ws.today())
    except FieldRefused as refused:
        return _form(request, actor, typed, problems={refused.field: refused.message}, status=422)
    except LendflowError as refused:
        return _form(request, actor, typed, error=refused.message, status=status_of(refused))
    done = urlencode({"done": f"application taken: loan {result.id} is {result.status.value}"})
    return RedirectResponse(f"/console/loans/{result.id}?{done}", status_code=303)

"""Errors as RFC 9457 problem details: one mapping from lendflow's error classes to HTTP.

A business refusal keeps the one-line reason the CLI prints; an unexpected error is a
500 with an id that is logged with the traceback, and no trace ever reaches a client.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from lendflow.domain.errors import (
    BadInput,
    Conflict,
    Forbidden,
    KeyReused,
    LendflowError,
    NotFound,
    Refused,
    Unauthenticated,
)

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("lendflow.web")

# `Actor.require` refuses with this line; it is a refusal of the person, not of the loan.
# The idempotency store refuses a key reused for another request with this line.

_TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    422: "Unprocessable content",
    428: "Precondition required",
    500: "Internal server error",
}


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error is served."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None
    error_id: str | None = None


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error statuses, each a problem document."""
    return {
        status: {
            "model": Problem,
            "description": _TITLES.get(status, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


class RequestProblem(LendflowError):
    """Something wrong with the request's form (a header, a query): 400 unless told."""

    def __init__(self, message: str, status: int = 400, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.field = field


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **more: Any,
) -> JSONResponse:
    """A problem details response; `type` names the status (no documentation URLs yet)."""
    body: dict[str, Any] = {
        "type": f"/problems/{status}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **more,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_of(exc: LendflowError) -> int:
    """The HTTP status of a lendflow error (the CLI's exit code, in HTTP terms)."""
    if isinstance(exc, RequestProblem):
        return exc.status
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, BadInput):
        return 422
    if isinstance(exc, KeyReused):
        return 422
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, Refused | Conflict):
        return 409
    return 409


def _lendflow_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LendflowError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    errors = None
    if isinstance(exc, RequestProblem) and exc.field is not None:
        errors = [{"field": exc.field, "code": "invalid", "message": exc.message}]
    elif status == 422 and not isinstance(exc, RequestProblem):
        errors = [{"field": "body", "code": "invalid", "message": exc.message}]
    return problem(status, exc.message, errors=errors, headers=headers)


def _field(location: tuple[Any, ...]) -> str:
    """A pydantic error location as a dotted field path, without the `body` prefix."""
    parts = [str(p) for p in location]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in found):
        return problem(400, "the request body is not valid JSON")
    errors = [
        {"field": _field(tuple(e.get("loc", ()))), "code": str(e.get("type")), "message": e["msg"]}
        for e in found
    ]
    first = errors[0] if errors else {"field": "body", "message": "invalid request"}
    # a header is part of the request's form, not a field of what is asked: 400
    in_headers = bool(found) and all(e.get("loc", ("",))[:1] == ("header",) for e in found)
    status = 400 if in_headers else 422
    return problem(status, f"{first['field']}: {first['message']}", errors=errors)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    return problem(exc.status_code, str(exc.detail), headers=exc.headers)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex
    log.error("unexpected error %s", error_id, exc_info=exc)
    return problem(500, f"unexpected error; quote id {error_id}", error_id=error_id)


def install(app: FastAPI) -> None:
    app.add_exception_handler(LendflowError, _lendflow_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

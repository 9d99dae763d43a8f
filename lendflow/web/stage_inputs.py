"""A stage run's inputs over HTTP, as `lendflow stage run --input NAME=PATH [--samples]`
takes them: `{"samples": true}` as JSON, or `multipart/form-data` with one file per input
the stage declares (its field named as the input) and the optional fields `samples` (the
shipped samples for the inputs not sent) and `business_date`.

The body is read here, by an async dependency: the route itself runs on a worker thread,
as it waits for the flow to record its run. Each problem is 422 naming its field (an
input the stage does not declare, one given twice, a file that is not UTF-8 text, an
input missing without samples). The files are written to a folder of their own, which the
flow reads as the command line's files and which goes once the flow has ended: the run
keeps each input's text and SHA-256, as it does for a file given on the command line.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import Field, ValidationError
from starlette.datastructures import UploadFile

from lendflow.domain import bounds
from lendflow.domain.errors import BadInput
from lendflow.lifecycle.catalog import Stage
from lendflow.web.bodies import Body
from lendflow.web.problems import RequestProblem

MULTIPART = "multipart/form-data"
FIELDS = ("samples", "business_date")
"""The form's fields besides the input files."""
MAX_PARTS = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RunBody(Body):
    samples: bool = Field(description="Take every input from the shipped samples.")
    business_date: date | None = None


@dataclass(frozen=True)
class Upload:
    """One input file as sent: the input it is for, the file's own name, its bytes."""

    name: str
    filename: str
    data: bytes


@dataclass(frozen=True)
class RunInputs:
    """What a stage-run request asks for: the samples or not, the date, the files sent."""

    samples: bool
    business_date: date | None
    uploads: tuple[Upload, ...] = ()


REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": RunBody.model_json_schema()},
        MULTIPART: {
            "schema": {
                "type": "object",
                "properties": {
                    "samples": {
                        "type": "boolean",
                        "description": "The shipped samples for every input not sent.",
                    },
                    "business_date": {"type": "string", "format": "date"},
                },
                "additionalProperties": {
                    "type": "string",
                    "format": "binary",
                    "description": "One file per input of the stage, named as the input.",
                },
            }
        },
    },
}
"""The OpenAPI request body of a stage run: JSON, or a form with the input files."""


async def run_inputs(request: Request) -> RunInputs:
    """The request's body as a stage run's inputs; the route checks them against the stage."""
    if request.headers.get("content-type", "").lower().startswith(MULTIPART):
        return await _from_form(request)
    return _from_json(await request.body())


def _from_json(raw: bytes) -> RunInputs:
    if not raw.strip():
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        body = RunBody.model_validate_json(raw)
    except ValidationError as bad:
        found = [{**e, "loc": ("body", *e["loc"])} for e in bad.errors(include_url=False)]
        raise RequestValidationError(found) from None
    return RunInputs(body.samples, body.business_date)


async def _from_form(request: Request) -> RunInputs:
    samples, on, uploads = False, None, {}
    async with request.form(max_files=MAX_PARTS, max_fields=MAX_PARTS) as form:
        for key, value in form.multi_items():
            if isinstance(value, UploadFile):
                if key in uploads:
                    raise RequestProblem(f"input {key!r} is given twice", status=422, field=key)
                uploads[key] = Upload(key, _safe_name(value.filename, key), await value.read())
            elif key == "samples":
                samples = _flag(value, key)
            elif key == "business_date":
                on = _date(value, key)
            else:
                raise RequestProblem(
                    f"{key!r} is not a file: send each input as a file named after it;"
                    f" the other fields are {' and '.join(FIELDS)}",
                    status=422,
                    field=key,
                )
    return RunInputs(samples, on, tuple(uploads.values()))


def _flag(value: str, field: str) -> bool:
    shown = value.strip().lower()
    if shown not in ("true", "false", "1", "0"):
        raise RequestProblem(f"{field} must be true or false", status=422, field=field)
    return shown in ("true", "1")


def _date(value: str, field: str) -> date:
    try:
        return bounds.parse_date(value, field=field)
    except BadInput as bad:
        raise RequestProblem(bad.message, status=422, field=field) from None


def _safe_name(filename: str | None, name: str) -> str:
    """The sent file's own name, kept to letters, digits, '.', '_' and '-'."""
    kept = _UNSAFE.sub("_", Path(filename or "").name).strip("._")
    return kept[:100] or name


def check_inputs(stage: Stage, asked: RunInputs) -> None:
    """Refuse what the stage cannot take, naming the field: an input it does not declare,
    a file that is not UTF-8 text, an input missing when the samples are not asked for."""
    for upload in asked.uploads:
        try:
            stage.input(upload.name)
        except BadInput as bad:
            raise RequestProblem(bad.message, status=422, field=upload.name) from None
        try:
            upload.data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RequestProblem(
                f"{upload.name}: {upload.filename} is not UTF-8 text", status=422, field=upload.name
            ) from None
    sent = {upload.name for upload in asked.uploads}
    missing = [item.name for item in stage.inputs if item.name not in sent]
    if missing and not asked.samples:
        raise RequestProblem(
            f"stage {stage.id} needs the input {missing[0]} as a file"
            ' (or "samples": true for the shipped samples)',
            status=422,
            field=missing[0],
        )


class StagedFiles:
    """The sent files in a folder of their own, as the flow reads them (`paths`)."""

    def __init__(self, uploads: tuple[Upload, ...]) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lendflow-stage-inputs-")) if uploads else None
        self.paths: dict[str, str] = {}
        for upload in uploads:
            assert self.folder is not None
            path = self.folder / upload.name / upload.filename
            path.parent.mkdir()
            path.write_bytes(upload.data)
            self.paths[upload.name] = str(path)

    def given(self) -> dict[str, Path]:
        return {name: Path(path) for name, path in self.paths.items()}

    def remove(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

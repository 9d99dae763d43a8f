"""What a use case's typed result is made of: a frozen model, and money that never floats.

Every context keeps its results in its own `results.py`; the CLI prints them
(`--json` is `model_dump(mode="json")`), and the HTTP API and the console serve the same
models. Inside a model money is integer fen (`Fen`), exact; in JSON it is the two-place
yuan string `format_fen` gives ("1409.50"), and such a string validates back to the same
fen. Ratios and rates are `Decimal` (JSON keeps their digits: "0.0500"), dates `date`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer

from lendflow.domain.money import format_fen

_YUAN = re.compile(r"-?[0-9]+\.[0-9]{2}")


def _fen(value: Any) -> Any:
    """Integer fen as given, or a two-place yuan string (a result's JSON) read back exactly."""
    if isinstance(value, str):
        if not _YUAN.fullmatch(value):
            raise ValueError(f"money must be a two-place yuan amount like 1409.50, got {value!r}")
        return int(value.replace(".", "", 1))
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"money must be integer fen, got {type(value).__name__}")
    return value


Fen = Annotated[
    int,
    BeforeValidator(_fen),
    PlainSerializer(format_fen, return_type=str, when_used="json"),
]
"""An amount in integer fen; "1409.50" in JSON."""


class Result(BaseModel):
    """A use case's answer: immutable, and a field it does not declare is refused (a key
    that silently went missing from the JSON would be worse). A field with an alias (a
    JSON key that is a Python keyword, like "from") is dumped under its alias and built
    by either name."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", serialize_by_alias=True, validate_by_name=True
    )

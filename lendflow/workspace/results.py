"""What a use case's typed result is made of: a frozen model, and money that never floats.

Every context keeps its results in its own `results.py`; the CLI prints them
(`--json` is `model_dump(mode="json")`), and the HTTP API and the console serve the same
models. Inside a model money is integer fen (`Fen`), exact; in JSON it is the two-place
yuan string `format_fen` gives ("1409.50"), and such a string validates back to the same
fen. Ratios and rates are `Decimal` (JSON keeps their digits: "0.0500"), dates `date`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import core_schema

from lendflow.domain.money import format_fen

_YUAN = r"^-?[0-9]+\.[0-9]{2}$"


def _fen_of_yuan(text: str) -> int:
    """A two-place yuan string (a result's own JSON) as integer fen, exactly."""
    return int(text.replace(".", "", 1))


class _FenSchema:
    """Validation and serialisation of `Fen`: an integer is taken as it is (strictly: never a
    float or a bool, and without a Python call, as results are built on the hot path); a
    two-place yuan string is read back exactly; JSON shows `format_fen`'s yuan string."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        either = core_schema.union_schema(
            [
                core_schema.int_schema(strict=True),
                core_schema.no_info_after_validator_function(
                    _fen_of_yuan, core_schema.str_schema(pattern=_YUAN)
                ),
            ]
        )
        return core_schema.custom_error_schema(
            either,
            custom_error_type="money",
            custom_error_message="money must be integer fen or a two-place yuan amount (1409.50)",
            serialization=core_schema.plain_serializer_function_ser_schema(
                format_fen, return_schema=core_schema.str_schema(), when_used="json"
            ),
        )


Fen = Annotated[int, _FenSchema()]
"""An amount in integer fen; "1409.50" in JSON."""


class Result(BaseModel):
    """A use case's answer: immutable, and a field it does not declare is refused (a key
    that silently went missing from the JSON would be worse). A field with an alias (a
    JSON key that is a Python keyword, like "from") is dumped under its alias and built
    by either name."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", serialize_by_alias=True, validate_by_name=True
    )

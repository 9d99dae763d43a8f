"""asgi-csrf's check of a multipart form (a file upload) kept working with python-multipart
0.0.26 and later, whose `FormParser` no longer takes the `FileClass` asgi-csrf 0.11 hands
it (simonw/asgi-csrf#38, still open), so every upload failed with a TypeError.

The replacement does what asgi-csrf's own parser does: it reads the body only as far as
the `csrftoken` field, refuses a file that comes before it, and replays what it read to
the app; asgi-csrf goes on comparing the token with its signed cookie. It is put in place
only where python-multipart lacks `FileClass`.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import asgi_csrf
from python_multipart import FormParser

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]


async def parse_until_token(boundary: bytes, receive: Receive) -> tuple[str | None, Receive]:
    """The form's csrftoken (None when the body has none) and a `receive` that replays
    the body read so far; a file before the token raises asgi-csrf's `FileBeforeToken`."""
    messages: list[Message] = []

    def on_field(field: Any) -> None:
        if field.field_name == b"csrftoken":
            raise asgi_csrf.TokenFound((field.value or b"").decode("utf-8", "replace"))

    def on_file(_file: Any) -> None:
        raise asgi_csrf.FileBeforeToken

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    parser = FormParser("multipart/form-data", on_field, on_file, boundary=boundary)
    more = True
    try:
        while more:
            message = await receive()
            messages.append(message)
            parser.write(message.get("body", b""))
            more = bool(message.get("more_body", False))
    except asgi_csrf.TokenFound as found:
        return str(found.args[0]), replay
    return None, replay


def keep_multipart_working() -> None:
    """Put `parse_until_token` in asgi-csrf's place when its own cannot run."""
    if "FileClass" not in inspect.signature(FormParser.__init__).parameters:
        asgi_csrf._parse_multipart_form_data = parse_until_token  # type: ignore[attr-defined]

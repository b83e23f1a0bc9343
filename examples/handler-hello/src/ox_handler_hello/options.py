"""`[handlers.hello]`: the hello handler's own options (a pydantic model ox validates)."""

from __future__ import annotations

from pydantic import Field

from ox_core import HandlerOptions


class HelloOptions(HandlerOptions):
    """Options of the hello handler. An invalid value is one line naming the key
    (`handlers.hello.greeting: ...`), shown by `ox-core doctor`."""

    greeting: str = Field(
        "Hello",
        min_length=1,
        max_length=40,
        pattern=r"^[^\n]*$",
        description="The word the handler's own reply starts with (no agent needed).",
    )
    max_requests: int = Field(
        100, ge=1, le=10_000, description="At most this many requests are queued per scan."
    )

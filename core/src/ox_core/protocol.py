"""The IPC wire protocol and its client: request and reply lines, error codes, `call`.

A request is one line `{"method": "...", "params": {...}, "id": ...}`; the reply is one line,
`{"ok": true, "result": ..., "id": ...}` or
`{"ok": false, "error": "...", "code": "...", "id": ...}` (`code`: one of `ErrorCode`, for
programs; `error`: the line for a person). The client is `ox_core.client` (plain blocking
sockets and the standard library, so the CLI pays for neither trio nor pydantic); the server
is `ox_core.ipc`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

# The client half lives in `ox_core.client` (standard library only); re-exported here.
from ox_core.client import MAX_ERROR as MAX_ERROR
from ox_core.client import MAX_REPLY as MAX_REPLY
from ox_core.client import ErrorCode as ErrorCode
from ox_core.client import IpcError as IpcError
from ox_core.client import call as call
from ox_core.client import cut_error


class IpcRequest(BaseModel):
    """One request line. `id` is echoed in the reply (any JSON scalar, optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    method: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)
    id: int | str | None = None


class IpcResponse(BaseModel):
    """One reply line: `ok` with a JSON `result`, or not `ok` with one readable `error` line
    and its `code` (see `ErrorCode`)."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    result: Any = None
    error: str | None = None
    code: str | None = None
    id: int | str | None = None


def error_line(code: str, message: str, request_id: int | str | None = None) -> bytes:
    # One line, whatever the message quoted (a key of the request may hold newlines), and
    # UTF-8 whatever it quoted (a file name read from disk may hold `\udcXX` escapes).
    message = " ".join(message.split()).encode("utf-8", "replace").decode("utf-8") or "error"
    reply = IpcResponse(ok=False, error=cut_error(message), code=code, id=request_id)
    return reply.model_dump_json().encode() + b"\n"


def describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "request"
        parts.append(f"{loc}: {err['msg']}")
    return "invalid request: " + "; ".join(parts)

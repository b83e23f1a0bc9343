"""The IPC wire protocol and its client: request and reply lines, error codes, `call`.

A request is one line `{"method": "...", "params": {...}, "id": ...}`; the reply is one line,
`{"ok": true, "result": ..., "id": ...}` or
`{"ok": false, "error": "...", "code": "...", "id": ...}` (`code`: one of `ErrorCode`, for
programs; `error`: the line for a person). The client is plain blocking sockets so the CLI
does not pay for importing trio; the server is `ox_core.ipc`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ox_core.errors import OxError
from ox_core.sockets import connect_private_socket

MAX_REPLY = 64 * 1024 * 1024
"""The longest reply the client reads, in bytes (a status is a few kilobytes)."""


class IpcRequest(BaseModel):
    """One request line. `id` is echoed in the reply (any JSON scalar, optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    method: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)
    id: int | str | None = None


class ErrorCode:
    """The `code` of an error reply: what a program matches (never the `error` text).

    A method raising `OxError` answers with the error's own `code` (`refused` unless it sets
    one, e.g. `not_found`); the others come from the server itself.
    """

    INVALID_REQUEST = "invalid_request"
    """Not UTF-8, not JSON, not a request, params of the wrong shape, or a line too long."""
    UNKNOWN_METHOD = "unknown_method"
    """No such method (no installed plugin serves it)."""
    STARTING = "starting"
    """The daemon is still starting; the method may exist once it is up. Try again."""
    BUSY = "busy"
    """Too many connections (from this process or in all); try again."""
    TIMEOUT = "timeout"
    """The request line did not arrive in time; the connection is closed."""
    FORBIDDEN = "forbidden"
    """The connecting process is not of the user the daemon serves."""
    REFUSED = "refused"
    """The method refused the request (an `OxError`); `error` says why."""
    NOT_FOUND = "not_found"
    """What the request names does not exist (`ox_core.errors.NotFoundError`)."""
    INTERNAL = "internal"
    """The method failed unexpectedly; the daemon log has the traceback."""


class IpcResponse(BaseModel):
    """One reply line: `ok` with a JSON `result`, or not `ok` with one readable `error` line
    and its `code` (see `ErrorCode`)."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    result: Any = None
    error: str | None = None
    code: str | None = None
    id: int | str | None = None


class IpcError(OxError):
    """The daemon answered a request with an error: `str(err)` is the daemon's line, `code`
    its `ErrorCode` (match the code, never the text)."""


MAX_ERROR = 2000
"""Error replies are cut to this many characters (they are one line for a person)."""


def error_line(code: str, message: str, request_id: int | str | None = None) -> bytes:
    # One line, whatever the message quoted (a key of the request may hold newlines).
    message = " ".join(message.split()) or "error"
    if len(message) > MAX_ERROR:
        message = message[: MAX_ERROR - 1] + "…"
    reply = IpcResponse(ok=False, error=message, code=code, id=request_id)
    return reply.model_dump_json().encode() + b"\n"


def describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "request"
        parts.append(f"{loc}: {err['msg']}")
    return "invalid request: " + "; ".join(parts)


def call(
    path: Path, method: str, params: Mapping[str, Any] | None = None, *, timeout: float = 30.0
) -> Any:
    """Send one request to the daemon at `path` and return its `result` (blocking).

    Before anything is sent, the socket is checked to be the user's own daemon's (see
    `connect_private_socket`). Raises `DaemonNotRunningError` when nothing listens,
    `UntrustedSocketError` when the socket or its listener is not the user's, `IpcError` with
    the daemon's message for an error reply, and `OxError` for a broken connection or a
    timeout.
    """
    request = {"method": method, "params": dict(params or {}), "id": 1}
    sock = connect_private_socket(path, timeout=timeout)
    try:
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = bytearray()
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise OxError("the daemon closed the connection without answering")
            data += chunk
            if len(data) > MAX_REPLY:
                raise OxError(f"the daemon's reply is longer than {MAX_REPLY} bytes")
    except TimeoutError:
        raise OxError(f"the daemon did not answer {method!r} within {timeout:g} s") from None
    except OSError as exc:
        raise OxError(f"the connection to the daemon broke: {exc.strerror or exc}") from None
    finally:
        sock.close()
    try:
        reply = IpcResponse.model_validate_json(bytes(data))
    except ValidationError:
        raise OxError("the daemon's reply is not a valid answer") from None
    if not reply.ok:
        raise IpcError(reply.error or "error", code=reply.code or ErrorCode.INTERNAL)
    return reply.result

"""IPC between the CLI and the daemon: newline-delimited JSON over a Unix socket (mode 0600).

A request is one line `{"method": "...", "params": {...}, "id": ...}`; the reply is one line
`{"ok": true, "result": ..., "id": ...}` or `{"ok": false, "error": "...", "id": ...}`. Bad
input of any kind (not UTF-8, not JSON, wrong shape, unknown method, a line over `MAX_LINE`
bytes, a method that raises) gets an error reply; it never harms the server. The server is
trio; the client is plain blocking sockets so the CLI does not pay for importing trio.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import stat
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ox_core.errors import OxError

if TYPE_CHECKING:
    import trio

log = logging.getLogger(__name__)

MAX_LINE = 1024 * 1024
"""The longest request line accepted, in bytes; a longer one is answered with an error."""

MAX_CONNECTIONS = 64
"""Connections served at once; more wait in the listen backlog."""

IpcMethod = Callable[[dict[str, Any]], Awaitable[Any]]


class IpcRequest(BaseModel):
    """One request line. `id` is echoed in the reply (any JSON scalar, optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    method: str = Field(min_length=1, max_length=100)
    params: dict[str, Any] = Field(default_factory=dict)
    id: int | str | None = None


class IpcResponse(BaseModel):
    """One reply line: `ok` with a JSON `result`, or not `ok` with one readable `error` line."""

    model_config = ConfigDict(extra="forbid")

    ok: bool
    result: Any = None
    error: str | None = None
    id: int | str | None = None


class EnqueueParams(BaseModel):
    """Params of the `enqueue` method: a work item of a type some handler serves."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=50, ge=-1_000_000, le=1_000_000)
    dedup_key: str = Field(default="", max_length=1000)


class IpcError(OxError):
    """The daemon answered a request with an error (the message is the daemon's)."""


class DaemonNotRunningError(OxError):
    """Nothing answers on the socket."""


MAX_ERROR = 2000
"""Error replies are cut to this many characters (they are one line for a person)."""


def _error_line(message: str, request_id: int | str | None = None) -> bytes:
    # One line, whatever the message quoted (a key of the request may hold newlines).
    message = " ".join(message.split()) or "error"
    if len(message) > MAX_ERROR:
        message = message[: MAX_ERROR - 1] + "…"
    return IpcResponse(ok=False, error=message, id=request_id).model_dump_json().encode() + b"\n"


def _describe_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "request"
        parts.append(f"{loc}: {err['msg']}")
    return "invalid request: " + "; ".join(parts)


class _IgnoredStatus:
    def started(self, value: object = None) -> None:
        pass


_TASK_STATUS_IGNORED: Any = _IgnoredStatus()


class IpcServer:
    """Serves `methods` (name → async function of the params dict) on a Unix socket.

    A method raising `OxError` gets its message as the error reply; any other exception is
    logged with its traceback and answered with `internal error`. Cancelling `serve` closes
    the listener and every connection.
    """

    def __init__(
        self, methods: Mapping[str, IpcMethod], *, starting: Callable[[], bool] | None = None
    ) -> None:
        # Kept by reference: the daemon adds the handlers' methods once plugins are loaded.
        self.methods = methods
        self._starting = starting or (lambda: False)

    async def handle_line(self, line: bytes) -> bytes:
        """The reply line (with its newline) to one request line (without its newline)."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return _error_line("invalid request: not UTF-8")
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            return _error_line("invalid request: not JSON")
        request_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            request_id = None
        try:
            request = IpcRequest.model_validate(raw)
        except ValidationError as exc:
            return _error_line(_describe_validation(exc), request_id)
        method = self.methods.get(request.method)
        if method is None and self._starting():
            return _error_line("the daemon is still starting; try again in a moment", request_id)
        if method is None:
            known = ", ".join(sorted(self.methods))
            return _error_line(f"unknown method {request.method!r} (known: {known})", request_id)
        try:
            result = await method(request.params)
            reply = IpcResponse(ok=True, result=result, id=request_id)
            return reply.model_dump_json().encode() + b"\n"
        except OxError as exc:
            return _error_line(str(exc) or type(exc).__name__, request_id)
        except ValidationError as exc:
            return _error_line(_describe_validation(exc), request_id)
        except Exception:
            log.exception("IPC method %s failed", request.method)
            return _error_line(
                f"internal error in {request.method}; see the daemon log", request_id
            )

    async def handle_stream(self, stream: trio.abc.Stream) -> None:
        """Serve one connection until the peer closes it.

        A line over `MAX_LINE` bytes is answered with an error once, then discarded up to its
        newline, so the connection stays usable and memory stays bounded.
        """
        buffer = bytearray()
        discarding = False
        async with stream:
            while True:
                try:
                    data = await stream.receive_some(65536)
                except Exception:  # the peer went away: nothing to answer
                    return
                if not data:
                    return
                if discarding:
                    end = data.find(b"\n")
                    if end < 0:
                        continue
                    data = data[end + 1 :]
                    discarding = False
                buffer += data
                while (end := buffer.find(b"\n")) >= 0:
                    line = bytes(buffer[:end]).rstrip(b"\r")
                    del buffer[: end + 1]
                    if not line.strip():
                        continue
                    if not await self._send(stream, await self.handle_line(line)):
                        return
                if len(buffer) > MAX_LINE:
                    buffer.clear()
                    discarding = True
                    error = _error_line(f"request longer than {MAX_LINE} bytes")
                    if not await self._send(stream, error):
                        return

    @staticmethod
    async def _send(stream: trio.abc.Stream, data: bytes) -> bool:
        try:
            await stream.send_all(data)
        except Exception:
            return False
        return True

    async def serve(
        self, path: Path, *, task_status: trio.TaskStatus[None] = _TASK_STATUS_IGNORED
    ) -> None:
        """Listen on `path` (mode 0600, replacing a stale socket file) until cancelled.

        Calls `task_status.started()` once the socket accepts connections. The socket file
        is removed on the way out.
        """
        import trio

        sock = bind_unix_socket(path)
        listener = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
        limiter = trio.CapacityLimiter(MAX_CONNECTIONS)

        async def handler(stream: trio.abc.Stream) -> None:
            async with limiter:
                await self.handle_stream(stream)

        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(trio.serve_listeners, handler, [listener])
                task_status.started()
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)  # instant on a local socket file


def bind_unix_socket(path: Path) -> socket.socket:
    """A listening Unix socket at `path` with mode 0600, in a private (0700) directory.

    A leftover socket file is replaced (the caller holds the daemon lock, so it is stale);
    any other file in the way is an error.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = path.parent.stat()
    if st.st_uid != os.getuid():
        # e.g. a /tmp/ox-<uid> made by someone else: never listen where another user writes
        raise OxError(f"{path.parent} belongs to another user; remove it or set `socket`")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path.parent, 0o700)
    if path.is_symlink() or (path.exists() and not stat.S_ISSOCK(path.stat().st_mode)):
        raise OxError(f"{path} exists and is not a socket; remove it or set `socket`")
    with contextlib.suppress(OSError):
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # no window where the socket is reachable by others
    try:
        sock.bind(os.fspath(path))
    except OSError as exc:
        sock.close()
        raise OxError(f"cannot listen on {path}: {exc.strerror}") from None
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    sock.listen(128)
    sock.setblocking(False)
    return sock


def call(
    path: Path, method: str, params: Mapping[str, Any] | None = None, *, timeout: float = 30.0
) -> Any:
    """Send one request to the daemon at `path` and return its `result` (blocking).

    Raises `DaemonNotRunningError` when nothing listens, `IpcError` with the daemon's message
    for an error reply, and `OxError` for a broken connection or a timeout.
    """
    request = {"method": method, "params": dict(params or {}), "id": 1}
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        try:
            sock.connect(os.fspath(path))
        except (FileNotFoundError, ConnectionRefusedError):
            raise DaemonNotRunningError(
                f"the ox-core daemon is not running (no answer on {path}); start it with "
                "`ox-core serve`"
            ) from None
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise OxError(f"permission denied on the daemon socket {path}") from None
            raise OxError(f"cannot connect to the daemon at {path}: {exc}") from None
        sock.sendall(json.dumps(request).encode() + b"\n")
        data = bytearray()
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                raise OxError("the daemon closed the connection without answering")
            data += chunk
    except TimeoutError:
        raise OxError(f"the daemon did not answer {method!r} within {timeout:g} s") from None
    finally:
        sock.close()
    reply = IpcResponse.model_validate_json(bytes(data))
    if not reply.ok:
        raise IpcError(reply.error or "error")
    return reply.result

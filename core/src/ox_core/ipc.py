"""The IPC server: newline-delimited JSON over a Unix socket (mode 0600).

The lines and their error codes are `ox_core.protocol` (re-exported here, with the client
`call`). Bad input of any kind (not UTF-8, not JSON, wrong shape, unknown method, a line over
`MAX_LINE` bytes, a method that raises) gets an error reply with its code; it never harms the
server. The server is trio; the client is plain blocking sockets so the CLI does not pay for
importing trio.

Only the user's own processes talk: the socket sits in a private directory and each side
checks the other's uid with `SO_PEERCRED` (`ox_core.sockets`). No client can starve the
others: idle, half-sent and non-reading connections time out, and connections are limited
per client and in all (`ox_core.connections`).
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ox_core.errors import OxError
from ox_core.protocol import MAX_ERROR as MAX_ERROR
from ox_core.protocol import MAX_REPLY as MAX_REPLY
from ox_core.protocol import ErrorCode as ErrorCode
from ox_core.protocol import IpcError as IpcError
from ox_core.protocol import IpcRequest as IpcRequest
from ox_core.protocol import IpcResponse as IpcResponse
from ox_core.protocol import call as call
from ox_core.protocol import describe_validation, error_line
from ox_core.sockets import DaemonNotRunningError as DaemonNotRunningError
from ox_core.sockets import UntrustedSocketError as UntrustedSocketError
from ox_core.sockets import bind_private_socket, peer_credentials

if TYPE_CHECKING:
    import trio

    # attrs is for the server only: the CLI's `call` does not pay for importing it.
    from ox_core.connections import Connection, ConnectionStatistics, ConnectionTable

log = logging.getLogger(__name__)

_PEER_PID: contextvars.ContextVar[int | None] = contextvars.ContextVar("ox_peer_pid", default=None)


def peer_pid() -> int | None:
    """The process that sent the request an IPC method is serving now, as the kernel said
    when it connected (`SO_PEERCRED`): its pid in this daemon's pid namespace, 0 when it runs
    in a namespace this one cannot see. None outside a request served from the socket (a
    method called in-process). A pid a request carries is the sender's own word, counted in
    the sender's namespace; this one is neither."""
    return _PEER_PID.get()


MAX_LINE = 1024 * 1024
"""The longest request line accepted, in bytes; a longer one is answered with an error."""

IDLE_TIMEOUT = 10.0
"""Seconds a connection may stay open without sending a request."""

REQUEST_TIMEOUT = 10.0
"""Seconds a request line may take to arrive once its first byte came."""

SEND_TIMEOUT = 10.0
"""Seconds a reply may take to be sent (a client that does not read is closed)."""

SOCKET_CHECK = 2.0
"""Seconds between two checks that the socket file is still there (see `IpcServer.serve`)."""

IpcMethod = Callable[[dict[str, Any]], Awaitable[Any]]


class NoParams(BaseModel):
    """Params of a method that takes none (`status`, `ping`, `shutdown`)."""

    model_config = ConfigDict(extra="forbid")


class ForceDetectParams(BaseModel):
    """Params of `force_detect` (which always lifts parks and paused types): `resume` also
    lifts the quota pause."""

    model_config = ConfigDict(extra="forbid", strict=True)

    resume: bool = False


class EnqueueParams(BaseModel):
    """Params of the `enqueue` method: a work item of a type some handler serves.

    Strict types (no `"5"` for 5, no `true` for 1); `type` is a plain name; `dedup_key` is
    one printable line. The payload itself is checked by its handler's schema.
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    type: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    payload: dict[str, Any] = Field(default_factory=dict)
    priority: int = Field(default=50, ge=-1_000_000, le=1_000_000)
    dedup_key: str = Field(default="", max_length=1000, pattern=r"^[^\x00-\x1f\x7f]*$")


class _IgnoredStatus:
    def started(self, value: object = None) -> None:
        pass


_TASK_STATUS_IGNORED: Any = _IgnoredStatus()

# accept() errors that mean "out of descriptors or memory for now": wait and try again.
_ACCEPT_CAPACITY_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS})
# accept() errors about one connection that went away before it was accepted.
_ACCEPT_IGNORED_ERRNOS = frozenset({errno.ECONNABORTED, errno.EPROTO, errno.EPERM})


class IpcServer:
    """Serves `methods` (name → async function of the params dict) on a Unix socket.

    A method raising `OxError` gets its message as the error reply; any other exception is
    logged with its traceback and answered with `internal error`. Cancelling `serve` closes
    the listener and every connection. Once `stopping()` is true only the `read_only`
    methods are served; any other is refused with `shutting_down`, as what it would queue or
    start would not run.

    Bounds, so no client can starve the others: only processes of the daemon's own user are
    served (checked with `SO_PEERCRED`); a connection is closed after `idle_timeout` seconds
    without a request, when a request line is not complete `request_timeout` seconds after its
    first byte, or when a reply cannot be sent within `send_timeout` seconds (the client does
    not read); at most `max_per_client` connections per process and `max_total` in all, the
    longest-idle one evicted to make room (see `ConnectionTable`); a refused connection gets
    one `busy` error line and is closed at once, never left waiting. `tighten_dir`: the
    socket's directory is ox's own and made 0700 (see `bind_private_socket`).
    """

    def __init__(
        self,
        methods: Mapping[str, IpcMethod],
        *,
        starting: Callable[[], bool] | None = None,
        stopping: Callable[[], bool] | None = None,
        read_only: Collection[str] = (),
        idle_timeout: float = IDLE_TIMEOUT,
        request_timeout: float = REQUEST_TIMEOUT,
        send_timeout: float = SEND_TIMEOUT,
        max_total: int | None = None,
        max_per_client: int | None = None,
        tighten_dir: bool = True,
    ) -> None:
        from ox_core.connections import DEFAULT_MAX_PER_CLIENT, DEFAULT_MAX_TOTAL

        # Kept by reference: the daemon adds the handlers' methods once plugins are loaded.
        self.methods = methods
        self._starting = starting or (lambda: False)
        self._stopping = stopping or (lambda: False)
        self._read_only = frozenset(read_only)
        self.idle_timeout = idle_timeout
        self.request_timeout = request_timeout
        self.send_timeout = send_timeout
        self._max_total = DEFAULT_MAX_TOTAL if max_total is None else max_total
        self._max_per_client = DEFAULT_MAX_PER_CLIENT if max_per_client is None else max_per_client
        self._table: ConnectionTable | None = None
        self._tighten_dir = tighten_dir

    def statistics(self) -> ConnectionStatistics:
        """Connection counts since `serve` started (all zero before)."""
        return self._connections().statistics()

    def _connections(self) -> ConnectionTable:
        if self._table is None:
            import trio

            from ox_core.connections import ConnectionTable

            self._table = ConnectionTable(
                max_total=self._max_total,
                max_per_client=self._max_per_client,
                clock=trio.current_time,
            )
        return self._table

    async def handle_line(self, line: bytes) -> bytes:
        """The reply line (with its newline) to one request line (without its newline)."""
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            return error_line(ErrorCode.INVALID_REQUEST, "invalid request: not UTF-8")
        try:
            raw = json.loads(text)
        except (ValueError, RecursionError):
            return error_line(ErrorCode.INVALID_REQUEST, "invalid request: not JSON")
        if "\\u" in text and not _is_unicode(raw):
            # An escape such as `\\ud800` is JSON but no text: no reply could quote it.
            message = "invalid request: a string holds a lone surrogate (not Unicode text)"
            return error_line(ErrorCode.INVALID_REQUEST, message)
        request_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(request_id, int | str) or isinstance(request_id, bool):
            request_id = None
        try:
            request = IpcRequest.model_validate(raw)
        except ValidationError as exc:
            return error_line(ErrorCode.INVALID_REQUEST, describe_validation(exc), request_id)
        method = self.methods.get(request.method)
        if method is None and self._starting():
            return error_line(
                ErrorCode.STARTING,
                "the daemon is still starting; try again in a moment",
                request_id,
            )
        if method is None:
            known = ", ".join(sorted(self.methods))
            message = f"unknown method {request.method!r} (known: {known})"
            return error_line(ErrorCode.UNKNOWN_METHOD, message, request_id)
        if request.method not in self._read_only and self._stopping():
            return error_line(
                ErrorCode.SHUTTING_DOWN,
                "the daemon is shutting down and takes no new work; try again once it is back",
                request_id,
            )
        try:
            result = await method(request.params)
            reply = IpcResponse(ok=True, result=result, id=request_id)
            return reply.model_dump_json().encode() + b"\n"
        except OxError as exc:
            return error_line(exc.code, str(exc) or type(exc).__name__, request_id)
        except ValidationError as exc:
            return error_line(ErrorCode.INVALID_REQUEST, describe_validation(exc), request_id)
        except Exception:
            log.exception("IPC method %s failed", request.method)
            return error_line(
                ErrorCode.INTERNAL,
                f"internal error in {request.method}; see the daemon log",
                request_id,
            )

    async def handle_stream(self, stream: trio.abc.Stream, conn: Connection | None = None) -> None:
        """Serve one connection until the peer closes it or a timeout closes it.

        A line over `MAX_LINE` bytes is answered with an error once, then discarded up to its
        newline, so the connection stays usable and memory stays bounded. `conn` (from the
        connection table) is marked busy while a request runs, so it is never evicted then.
        """
        import trio

        table = self._connections()
        buffer = bytearray()
        discarding = False
        line_started: float | None = None  # when the first byte of the pending line came
        idle_since = trio.current_time()
        async with stream:
            while True:
                if line_started is None:
                    deadline, what = idle_since + self.idle_timeout, None
                else:
                    deadline = line_started + self.request_timeout
                    what = f"request not complete within {self.request_timeout:g} s; closing"
                data: bytes | bytearray = b""
                with trio.move_on_at(deadline):
                    try:
                        data = await stream.receive_some(65536)
                    except Exception:  # the peer went away: nothing to answer
                        return
                    if not data:
                        return
                if not data:  # the deadline passed
                    table.timed_out()
                    if what is not None:
                        await self._send(stream, error_line(ErrorCode.TIMEOUT, what))
                    return
                now = trio.current_time()
                if line_started is None:
                    line_started = now
                if discarding:
                    end = data.find(b"\n")
                    if end < 0:
                        continue
                    data = data[end + 1 :]
                    discarding = False
                    line_started = now  # what follows the discarded line is a new one
                buffer += data
                consumed = False
                while (end := buffer.find(b"\n")) >= 0:
                    consumed = True
                    line = bytes(buffer[:end]).rstrip(b"\r")
                    del buffer[: end + 1]
                    if not line.strip():
                        continue
                    if conn is not None:
                        table.set_busy(conn, True)
                    reply = await self.handle_line(line)
                    if conn is not None:
                        # The request has run: a client that does not read its reply is
                        # idle, and may be evicted to make room (busy until `send_timeout`,
                        # such clients would have every newcomer refused, `status` too).
                        table.set_busy(conn, False)
                    sent = await self._send(stream, reply)
                    if not sent:
                        return
                    idle_since = trio.current_time()
                if not buffer:
                    line_started = None
                elif consumed:  # the rest of this chunk starts the next line
                    line_started = trio.current_time()
                if len(buffer) > MAX_LINE:
                    buffer.clear()
                    discarding = True
                    error = error_line(
                        ErrorCode.INVALID_REQUEST, f"request longer than {MAX_LINE} bytes"
                    )
                    if not await self._send(stream, error):
                        return

    async def _send(self, stream: trio.abc.Stream, data: bytes) -> bool:
        """Send `data`; False when the peer is gone or does not read it in `send_timeout`."""
        import trio

        with trio.move_on_after(self.send_timeout):
            try:
                await stream.send_all(data)
            except Exception:
                return False
            return True
        self._connections().timed_out()
        return False

    async def serve(
        self, path: Path, *, task_status: trio.TaskStatus[None] = _TASK_STATUS_IGNORED
    ) -> None:
        """Listen on `path` (mode 0600, in a private directory; see `bind_private_socket`)
        until cancelled.

        Calls `task_status.started()` once the socket accepts connections. A socket file
        removed meanwhile (a tmp cleaner, the runtime directory emptied at logout) is bound
        again within `SOCKET_CHECK` seconds: a daemon nothing can reach would still hold the
        ledger's lock. Whatever else takes its place is somebody's and is left alone. The
        socket file is removed on the way out, if it is still this daemon's.
        """
        import trio

        sock = bind_private_socket(path, tighten_dir=self._tighten_dir)
        async with trio.open_nursery() as nursery:  # the connections, across rebinds
            task_status.started()
            while True:
                listener = trio.socket.from_stdlib_socket(sock)
                bound = _identity(path)
                try:
                    async with trio.open_nursery() as accepting:
                        accepting.start_soon(self._accept_loop, listener, nursery)
                        await _wait_removed(path, bound)
                        accepting.cancel_scope.cancel()
                finally:
                    listener.close()
                    if _identity(path) == bound:
                        with contextlib.suppress(OSError):
                            os.unlink(path)  # instant on a local socket file
                log.warning("the socket %s was removed; listening on it again", path)
                sock = await _bind_again(path, tighten_dir=self._tighten_dir)

    async def _accept_loop(self, listener: trio.socket.SocketType, nursery: trio.Nursery) -> None:
        import trio

        table = self._connections()
        uid = os.getuid()
        while True:
            try:
                client, _ = await listener.accept()
            except OSError as exc:
                if exc.errno in _ACCEPT_IGNORED_ERRNOS:
                    continue
                if exc.errno in _ACCEPT_CAPACITY_ERRNOS:
                    log.warning("IPC: cannot accept a connection now: %s", exc.strerror)
                    await trio.sleep(0.1)
                    continue
                raise
            try:
                peer = peer_credentials(client)
            except OSError:
                client.close()
                continue
            if peer.uid != uid:
                table.refuse()
                _refuse(client, ErrorCode.FORBIDDEN, f"refused: this daemon serves only uid {uid}")
                continue
            scope = trio.CancelScope()
            admitted = table.admit(peer.pid, scope.cancel)
            if isinstance(admitted, str):
                _refuse(client, ErrorCode.BUSY, admitted)
                continue
            nursery.start_soon(self._serve_connection, client, admitted, scope, peer.pid)

    async def _serve_connection(
        self,
        client: trio.socket.SocketType,
        conn: Connection,
        scope: trio.CancelScope,
        pid: int,
    ) -> None:
        import trio

        _PEER_PID.set(pid)  # this task's own context: the methods it awaits read it
        try:
            with scope:
                await self.handle_stream(trio.SocketStream(client), conn)
        except Exception:
            # One connection's failure is never the daemon's: it is closed, the rest served.
            log.exception("IPC: a connection failed; closed it")
        finally:
            client.close()
            self._connections().release(conn)


def _identity(path: Path) -> tuple[int, int] | None:
    """The device and inode at `path`, None when nothing is there or it cannot be read."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


async def _wait_removed(path: Path, bound: tuple[int, int] | None) -> None:
    """Return once nothing is at `path` any more (checked every `SOCKET_CHECK` seconds); a
    file that replaced the socket is reported once and waited out, never removed."""
    import trio

    told = False
    while True:
        await trio.sleep(SOCKET_CHECK)
        found = _identity(path)
        if found is None:
            return
        if found != bound and not told:
            told = True
            log.error(
                "the socket %s was replaced by a file this daemon did not make; nothing "
                "reaches the daemon until it is removed",
                path,
            )


async def _bind_again(path: Path, *, tighten_dir: bool) -> socket.socket:
    """`bind_private_socket(path)`, tried every `SOCKET_CHECK` seconds until it works; each
    new reason it fails for is logged once."""
    import trio

    said = ""
    while True:
        try:
            return bind_private_socket(path, tighten_dir=tighten_dir)
        except OxError as exc:
            if str(exc) != said:
                said = str(exc)
                log.error("cannot listen on the socket again: %s", exc)
        await trio.sleep(SOCKET_CHECK)


def _is_unicode(value: Any) -> bool:
    """Whether every string in the decoded JSON `value` is text UTF-8 can carry (no lone
    surrogate, which a `\\uD800`-style escape decodes to)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        return False
    return True


def _refuse(client: trio.socket.SocketType, code: str, message: str) -> None:
    """Answer a connection that is not served with one error line and close it, without
    waiting: its send buffer is empty, so the line fits or the client is gone."""
    plain = socket.socket(fileno=client.detach())
    try:
        plain.setblocking(False)
        plain.send(error_line(code, message))
    except OSError:
        pass
    finally:
        plain.close()

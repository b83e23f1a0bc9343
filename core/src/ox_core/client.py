"""The IPC client, by the standard library alone: find the daemon's socket, send one request.

Commands that only talk to a running daemon (`status --json`, agent hooks, `session ...`)
run inside someone else's time budget, so this module imports no trio, pydantic,
pydantic-settings or asyncio: a reply is checked by hand, and the socket is found with the
same rules as `Settings.socket_path` (`ox_core.paths`), reading only the `socket` and `ledger`
keys. The socket checks (private directory, owner, `SO_PEERCRED`) are `ox_core.sockets`'.

Protocol: one request line `{"method", "params", "id"}`, one reply line
`{"ok": true, "result", "id"}` or `{"ok": false, "error", "code", "id"}` (`ox_core.protocol`).
"""

from __future__ import annotations

import json
import os
import time

from ox_core.errors import ConfigError, OxError
from ox_core.paths import absolute_path, config_file_path, read_toml, socket_for_ledger
from ox_core.sockets import connect_private_socket

TYPE_CHECKING = False  # not `typing`'s (see `ox_core.sockets`)
if TYPE_CHECKING:
    from collections.abc import Mapping
    from os import PathLike
    from typing import Any

MAX_REPLY = 64 * 1024 * 1024
"""The longest reply the client reads, in bytes (a status is a few kilobytes)."""

MAX_ERROR = 2000
"""Error replies are cut to this many characters, by the daemon and again by the client
(they are one line for a person; a reply that is not the daemon's may be megabytes)."""


def cut_error(message: str) -> str:
    """`message` cut to `MAX_ERROR` characters."""
    return message if len(message) <= MAX_ERROR else message[: MAX_ERROR - 1] + "…"


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
    SHUTTING_DOWN = "shutting_down"
    """The daemon is stopping and takes no new work (what it would queue or start would
    never run); only `status`, `ping` and `shutdown` are answered. Do it without the daemon,
    or try again once it is back."""
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


class IpcError(OxError):
    """The daemon answered a request with an error: `str(err)` is the daemon's line, `code`
    its `ErrorCode` (match the code, never the text)."""


def _setting(env: str, data: dict[str, Any], key: str) -> str | None:
    """`OX_<KEY>`, else the file's `key`, else None, both in any case as pydantic-settings
    reads them: of two variables spelt in different cases the last one (it lower-cases their
    names into one dict), of two keys of the file the first one. `ConfigError` for a value
    `Settings` would refuse."""
    wanted = env.upper()
    found = [v for k, v in os.environ.items() if k.upper() == wanted]
    in_file = [v for k, v in data.items() if isinstance(k, str) and k.lower() == key]
    value = found[-1] if found else in_file[0] if in_file else None
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"invalid settings: {key}: not a path")
    try:
        return absolute_path(value)
    except ValueError as exc:
        raise ConfigError(f"invalid settings: {key}: {exc}") from None


def configured_socket() -> tuple[str, str | None]:
    """(the daemon's socket, the ledger) by the rules of `Settings.socket_path`; the ledger
    is None when `socket` is set. Raises `ConfigError` for a setting `Settings` refuses."""
    data = read_toml(config_file_path())
    socket = _setting("OX_SOCKET", data, "socket")
    if socket is not None:
        return socket, None
    from ox_core.paths import default_ledger_path

    ledger = _setting("OX_LEDGER", data, "ledger") or default_ledger_path()
    return socket_for_ledger(ledger), ledger


def find_socket(
    path: str | PathLike[str], ledger: str | PathLike[str] | None
) -> str | PathLike[str]:
    """`path`, or the socket the ledger's running daemon names in its lock file when nothing
    is at `path` and the socket was not set (`ledger` given): a shell whose runtime dir
    differs from the daemon's (`XDG_RUNTIME_DIR` unset over ssh, say) still finds it."""
    if ledger is None or os.path.lexists(path):
        return path
    from pathlib import Path

    from ox_core.daemon_lock import is_locked, read_owner

    owner = read_owner(Path(ledger)).get("socket") if is_locked(Path(ledger)) else None
    # The daemon writes an absolute path there; anything else is not its (a NUL byte would
    # end the command in a `ValueError`, a relative path would lead into the current folder).
    if isinstance(owner, str) and os.path.isabs(owner) and "\x00" not in owner:
        return Path(owner)
    return path


def daemon_socket() -> str | PathLike[str]:
    """The running daemon's socket, found without pydantic (see `configured_socket` and
    `find_socket`). `ConfigError` for a `socket`/`ledger` setting that is invalid."""
    return find_socket(*configured_socket())


def call(
    path: str | PathLike[str],
    method: str,
    params: Mapping[str, Any] | None = None,
    *,
    timeout: float = 30.0,
) -> Any:
    """Send one request to the daemon at `path` and return its `result` (blocking).

    Before anything is sent, the socket is checked to be the user's own daemon's (see
    `connect_private_socket`). Raises `DaemonNotRunningError` when nothing listens,
    `UntrustedSocketError` when the socket or its listener is not the user's, `IpcError` with
    the daemon's message for an error reply, and `OxError` for a broken connection, a timeout
    or a reply that is not a valid answer. `timeout` bounds the whole call, connecting
    included.
    """
    request = {"method": method, "params": dict(params or {}), "id": 1}
    # `timeout` bounds the whole call: a socket timeout alone bounds each operation, and a
    # daemon that drips its reply a byte at a time would hold the caller forever.
    deadline = time.monotonic() + timeout
    sock = connect_private_socket(path, timeout=timeout)
    try:
        broke: OSError | None = None
        try:
            sock.settimeout(_left(deadline))
            sock.sendall(json.dumps(request).encode() + b"\n")
        except (BrokenPipeError, ConnectionResetError) as exc:
            # A connection the daemon does not serve (`busy`) gets one error line and is
            # closed at once: that line may be waiting here while the request could not go.
            broke = exc
        data = bytearray()
        while not data.endswith(b"\n"):
            sock.settimeout(_left(deadline))
            chunk = sock.recv(65536)
            if not chunk:
                if broke is not None:
                    raise broke
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
    return _result(bytes(data))


def _left(deadline: float) -> float:
    """Seconds left before `deadline` (monotonic); `TimeoutError` once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


_REPLY_KEYS = frozenset({"ok", "result", "error", "code", "id"})


def _result(data: bytes) -> Any:
    """The `result` of a reply line, checked as `ox_core.protocol.IpcResponse` would."""
    invalid = OxError("the daemon's reply is not a valid answer")
    try:
        # Strict JSON: the daemon writes no NaN or Infinity (pydantic writes `null`), and one
        # read here would end `status` or `detect` in a traceback (`int(inf)`) and make
        # `status --json` print what is not JSON. `1e999` reads as `inf` too.
        reply = json.loads(data, parse_constant=_not_a_number, parse_float=_finite)
    except (ValueError, RecursionError):
        raise invalid from None
    if not isinstance(reply, dict) or not reply.keys() <= _REPLY_KEYS:
        raise invalid
    ok, error, code, rid = (reply.get(k) for k in ("ok", "error", "code", "id"))
    if not isinstance(ok, bool) or "ok" not in reply:
        raise invalid
    if not all(v is None or isinstance(v, str) for v in (error, code)):
        raise invalid
    if not (rid is None or (isinstance(rid, int | str) and not isinstance(rid, bool))):
        raise invalid
    if not ok:
        # The daemon cuts its own: this one may not be the daemon's.
        raise IpcError(cut_error(error or "error"), code=code or ErrorCode.INTERNAL)
    return reply.get("result")


def _not_a_number(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value

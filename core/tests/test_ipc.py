"""The IPC server and client over a real Unix socket: replies, errors, socket permissions."""

# Tests touch small local files from async code and poll state kept by real threads and
# sockets: the blocking-call and polling rules are for production code.
# ruff: noqa: ASYNC240

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core.errors import NotFoundError, OxError
from ox_core.ipc import MAX_LINE, DaemonNotRunningError, ErrorCode, IpcError, IpcServer, call


async def echo(params: dict[str, Any]) -> Any:
    return {"echo": params}


async def refuse(params: dict[str, Any]) -> Any:
    raise NotFoundError("no such recording: x")


async def decline(params: dict[str, Any]) -> Any:
    raise OxError("not now")


async def crash(params: dict[str, Any]) -> Any:
    raise RuntimeError("bug")


@pytest.fixture
def sock_path() -> Any:
    # AF_UNIX paths are limited to ~107 bytes: pytest's tmp_path can be longer.
    with tempfile.TemporaryDirectory(prefix="oxipc") as d:
        yield Path(d) / "rt" / "ox.sock"


@pytest.fixture
async def server(sock_path: Path) -> AsyncIterator[Path]:
    methods = {"echo": echo, "refuse": refuse, "crash": crash, "decline": decline}
    async with trio.open_nursery() as nursery:
        await nursery.start(IpcServer(methods).serve, sock_path)
        yield sock_path
        nursery.cancel_scope.cancel()


async def raw(path: Path, data: bytes) -> list[dict[str, Any]]:
    """Send raw bytes, half-close, and read every reply line until the server hangs up."""

    def go() -> bytes:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.connect(str(path))
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server hung up on an over-long line: its reply is still readable
            out = bytearray()
            while chunk := s.recv(65536):
                out += chunk
            return bytes(out)

    out = await trio.to_thread.run_sync(go)
    return [json.loads(line) for line in out.splitlines()]


async def test_call_returns_the_result(server: Path) -> None:
    result = await trio.to_thread.run_sync(call, server, "echo", {"a": [1, 2]})
    assert result == {"echo": {"a": [1, 2]}}


async def test_method_errors_become_error_replies(server: Path) -> None:
    with pytest.raises(IpcError, match="no such recording: x") as refused:
        await trio.to_thread.run_sync(call, server, "refuse", {})
    assert refused.value.code == ErrorCode.NOT_FOUND == "not_found"
    with pytest.raises(IpcError, match="not now") as declined:
        await trio.to_thread.run_sync(call, server, "decline", {})
    assert declined.value.code == ErrorCode.REFUSED  # an OxError without a code of its own
    with pytest.raises(IpcError, match="internal error in crash") as crashed:
        await trio.to_thread.run_sync(call, server, "crash", {})
    assert crashed.value.code == ErrorCode.INTERNAL
    # and the server still answers
    assert await trio.to_thread.run_sync(call, server, "echo", {}) == {"echo": {}}


async def test_unknown_method_lists_the_known_ones(server: Path) -> None:
    with pytest.raises(
        IpcError, match=r"unknown method 'nope' \(known: crash, decline, echo, refuse\)"
    ) as exc:
        await trio.to_thread.run_sync(call, server, "nope", {})
    assert exc.value.code == ErrorCode.UNKNOWN_METHOD


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json", "not JSON"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b'"just a string"', "invalid request"),
        (b'{"method": 5}', "method"),
        (b'{"method": "echo", "params": [1]}', "params"),
        (b'{"method": "echo", "extra": 1}', "extra"),
        (b'{"params": {}}', "method"),
        (b'{"method": ""}', "method"),
        (b"[" * 100000 + b"]" * 100000, "invalid request"),
    ],
)
async def test_malformed_lines_get_error_replies(server: Path, line: bytes, message: str) -> None:
    replies = await raw(server, line + b"\n")
    assert len(replies) == 1
    assert replies[0]["ok"] is False
    assert replies[0]["code"] == ErrorCode.INVALID_REQUEST
    assert message in replies[0]["error"]


async def test_several_requests_on_one_connection_keep_order_and_ids(server: Path) -> None:
    lines = b"".join(
        json.dumps({"method": "echo", "params": {"n": n}, "id": n}).encode() + b"\n"
        for n in range(20)
    )
    replies = await raw(server, lines + b"garbage\n" + b'{"method":"echo","id":"last"}\r\n')
    assert [r["id"] for r in replies[:20]] == list(range(20))
    assert all(r["ok"] and r["result"] == {"echo": {"n": r["id"]}} for r in replies[:20])
    assert replies[20]["ok"] is False
    assert replies[20]["code"] == "invalid_request"
    assert replies[21] == {
        "ok": True,
        "result": {"echo": {}},
        "error": None,
        "code": None,
        "id": "last",
    }


async def test_over_long_line_is_answered_and_skipped(server: Path) -> None:
    big = b'{"method": "echo", "params": {"x": "' + b"x" * (MAX_LINE + 70000) + b'"}}\n'
    replies = await raw(server, big + b'{"method": "echo", "id": 2}\n')
    assert len(replies) == 2
    assert "longer than" in replies[0]["error"]
    assert replies[0]["code"] == ErrorCode.INVALID_REQUEST
    assert replies[1]["ok"] is True
    assert replies[1]["id"] == 2
    assert await trio.to_thread.run_sync(call, server, "echo", {}) == {"echo": {}}


async def test_socket_is_private(server: Path) -> None:
    assert stat.S_IMODE(server.stat().st_mode) == 0o600
    assert stat.S_ISSOCK(server.stat().st_mode)
    assert stat.S_IMODE(server.parent.stat().st_mode) == 0o700


async def test_another_user_cannot_connect(server: Path) -> None:
    """A process of another user is refused by the kernel (socket mode and dir mode)."""
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        "    s.connect(sys.argv[1])\n"
        "except PermissionError:\n"
        "    print('denied')\n"
        "else:\n"
        "    print('connected')\n"
    )
    if os.geteuid() != 0:
        # Only root can run a probe as another user; the kernel then enforces this mode.
        assert stat.S_IMODE(server.stat().st_mode) & 0o077 == 0
        return
    # The parent dir is private too; open it up so the probe reaches the socket's own mode.
    os.chmod(server.parent, 0o755)
    os.chmod(server.parent.parent, 0o755)
    result = await trio.run_process(
        # the venv's python lives under /root, which another user cannot enter
        [shutil.which("python3", path="/usr/bin:/bin") or sys.executable, "-c", probe, str(server)],
        user=65534,
        group=65534,
        capture_stdout=True,
        check=False,
    )
    assert result.stdout.decode().strip() == "denied"


async def test_stale_socket_file_is_replaced(sock_path: Path) -> None:
    sock_path.parent.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(sock_path))
    stale.close()  # the file stays, nobody listens
    async with trio.open_nursery() as nursery:
        await nursery.start(IpcServer({"echo": echo}).serve, sock_path)
        assert await trio.to_thread.run_sync(call, sock_path, "echo", {"x": 1}) == {
            "echo": {"x": 1}
        }
        nursery.cancel_scope.cancel()
    assert not sock_path.exists()  # removed on the way out


async def test_a_regular_file_in_the_way_is_an_error(sock_path: Path) -> None:
    sock_path.parent.mkdir(mode=0o700)
    sock_path.write_text("mine")
    with pytest.raises(OxError, match="not a socket"):
        await IpcServer({}).serve(sock_path)
    assert sock_path.read_text() == "mine"


def test_client_without_daemon_says_so(sock_path: Path) -> None:
    with pytest.raises(DaemonNotRunningError, match="not running"):
        call(sock_path, "status")


async def test_socket_dir_is_made_private_and_must_be_ours(sock_path: Path) -> None:
    sock_path.parent.mkdir(mode=0o755)
    async with trio.open_nursery() as nursery:
        await nursery.start(IpcServer({}).serve, sock_path)
        nursery.cancel_scope.cancel()
    assert stat.S_IMODE(sock_path.parent.stat().st_mode) == 0o700
    if os.geteuid() == 0:  # only root can give a directory away
        os.chown(sock_path.parent, 65534, 65534)
        with pytest.raises(OxError, match="belongs to another user"):
            await IpcServer({}).serve(sock_path)


async def test_the_server_refuses_a_process_of_another_user(server: Path) -> None:
    """Even when the file modes let another user in, the server checks SO_PEERCRED and
    answers one refusal line (kept for root, who alone can run the probe)."""
    if os.geteuid() != 0:
        pytest.skip("only root can run a probe as another user")
    os.chmod(server.parent, 0o755)
    os.chmod(server.parent.parent, 0o755)
    os.chmod(server, 0o666)
    probe = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.connect(sys.argv[1])\n"
        "s.settimeout(10)\n"
        "out = b''\n"
        "while chunk := s.recv(4096):\n"
        "    out += chunk\n"
        "print(out.decode().strip())\n"
    )
    result = await trio.run_process(
        [shutil.which("python3", path="/usr/bin:/bin") or sys.executable, "-c", probe, str(server)],
        user=65534,
        group=65534,
        capture_stdout=True,
        check=False,
    )
    reply = json.loads(result.stdout)
    assert reply["ok"] is False
    assert reply["error"] == f"refused: this daemon serves only uid {os.getuid()}"
    assert reply["code"] == ErrorCode.FORBIDDEN

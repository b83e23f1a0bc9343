"""A hostile local process on the daemon's socket: requests that are valid UTF-8 and valid
JSON yet hold what no reply can carry (a lone surrogate escape such as `"\\ud800"`), giant
numbers, duplicate keys, connections closed before their reply. Each is answered (or
dropped) and the daemon serves on.

Against a real `ox-core serve` process where the daemon's life is at stake, and straight
into `IpcServer.handle_line` for what a method may return or raise.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ox_core.errors import OxError
from ox_core.ipc import ErrorCode, IpcServer, call

from .bare_daemon import bare_daemon, exchange


@pytest.fixture(scope="module")
def daemon(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Path, subprocess.Popen[bytes]]]:
    with bare_daemon(tmp_path_factory.mktemp("rthome")) as running:
        yield running.sock, running.proc


def assert_alive(daemon: tuple[Path, subprocess.Popen[bytes]]) -> None:
    sock, proc = daemon
    assert proc.poll() is None, "the daemon died"
    assert call(sock, "status", timeout=5)["daemon"]["pid"] == proc.pid


# A lone surrogate is valid JSON (an escape) but no UTF-8 text: no reply can echo it.
SURROGATE_LINES = [
    rb'{"method": "ping", "id": "\ud800"}',
    rb'{"method": "status", "id": "\udfff", "params": {}}',
    rb'{"method": "ping", "params": {"\ud800": 1}}',
    rb'{"method": "session_watch_start", "params": {"adapter": "claude-code", '
    rb'"file": "/x/\udc80.jsonl"}, "id": "\ud83d"}',
    rb'{"method": "enqueue", "params": {"type": "x", "dedup_key": "\ud800"}, "id": "\udc00"}',
]


@pytest.mark.parametrize("line", SURROGATE_LINES)
def test_a_lone_surrogate_in_a_request_is_refused_and_the_daemon_lives(
    daemon: tuple[Path, subprocess.Popen[bytes]], line: bytes
) -> None:
    replies = exchange(daemon[0], line + b"\n" + b'{"method": "ping", "id": 7}\n')
    assert len(replies) == 2
    assert replies[0]["ok"] is False
    assert replies[0]["code"] == ErrorCode.INVALID_REQUEST
    assert replies[1] == {"ok": True, "result": replies[1]["result"], "error": None,
                          "code": None, "id": 7}  # fmt: skip
    assert_alive(daemon)


def test_a_surrogate_pair_is_unicode_and_served(
    daemon: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    (reply,) = exchange(daemon[0], rb'{"method": "ping", "id": "\ud83d\ude00"}' + b"\n")
    assert reply["ok"] is True
    assert reply["id"] == "\U0001f600"


GIANT = [
    b'{"method": "ping", "id": ' + str(2**200).encode() + b"}",
    b'{"method": "ping", "id": ' + b"9" * 5000 + b"}",  # past int()'s digit limit
    b'{"method": "ping", "id": 1e999}',
    b'{"method": "ping", "id": NaN}',
    b'{"method": "session_watch_start", "params": {"adapter": "claude-code", '
    b'"file": "/x", "pid": ' + str(2**80).encode() + b"}}",
    b'{"method": "session_hook", "params": {"adapter": "claude-code", "event": "start", '
    b'"agent_session_id": "a", "file": "/x", "pid": -1e400}}',
    b'{"method": "force_detect", "params": {"resume": 1e400}}',
    b'{"method": "shutdown", "method": "ping"}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"method": "ping", "params": ' + b'{"a":' * 50_000 + b"1" + b"}" * 50_001,
]


@pytest.mark.parametrize("line", GIANT, ids=range(len(GIANT)))
def test_giant_numbers_deep_nesting_and_duplicate_keys_get_one_reply(
    daemon: tuple[Path, subprocess.Popen[bytes]], line: bytes
) -> None:
    replies = exchange(daemon[0], line + b"\n")
    assert len(replies) == 1
    assert isinstance(replies[0]["ok"], bool)
    assert_alive(daemon)


def test_duplicate_method_keys_take_the_last_one_and_never_shut_down(
    daemon: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    (reply,) = exchange(daemon[0], b'{"method": "shutdown", "method": "ping", "id": 1}\n')
    assert reply["ok"] is True
    assert_alive(daemon)


def test_requests_whose_connection_closes_before_the_reply_leave_the_daemon_serving(
    daemon: tuple[Path, subprocess.Popen[bytes]],
) -> None:
    sock = daemon[0]
    for _ in range(50):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(str(sock))
            s.sendall(b'{"method": "status"}\n{"method": "ping"}\n')
            # Closed at once with unread input: the server's send meets a reset peer.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    assert_alive(daemon)


# -- what a method returns or raises (straight into handle_line) ---------------------------


async def _surrogate_result(params: dict[str, Any]) -> Any:
    # A file name read from disk that is not UTF-8 comes back as `\udcXX` (surrogateescape).
    return {"file": os.fsdecode(b"/tmp/\xff.jsonl")}


async def _surrogate_error(params: dict[str, Any]) -> Any:
    name = os.fsdecode(b"/tmp/\xfe")
    raise OxError(f"cannot record {name}: refused")


@pytest.mark.parametrize("method", [_surrogate_result, _surrogate_error])
async def test_a_result_or_error_holding_a_surrogate_still_gets_one_reply_line(
    method: Any,
) -> None:
    server = IpcServer({"m": method})
    reply_line = await server.handle_line(b'{"method": "m", "id": 3}')
    assert reply_line.endswith(b"\n")
    assert reply_line.count(b"\n") == 1
    reply = json.loads(reply_line)
    assert reply["id"] == 3
    if reply["ok"]:
        assert reply["result"]["file"].startswith("/tmp/")
    else:
        assert reply["error"]

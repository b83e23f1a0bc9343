"""IPC fuzz: thousands of random and malformed requests; every one is answered, the daemon lives.

Against a real `ox-core serve` process (with the installed plugins), over its real socket:
random bytes, non-UTF-8, bad JSON, JSON of the wrong shape, random methods and params,
lines just under and over the size limit. Plus the same kinds of input straight into
`IpcServer.handle_line`, for volume.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest.mock
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_core.errors import OxError
from ox_core.ipc import MAX_LINE, IpcServer, call
from ox_core.settings import load_settings

# Every method the daemon serves except `shutdown` (which would end the run on purpose).
METHODS = ["status", "enqueue", "force_detect", "ping", "session_watch_start", "session_watch_stop"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

requests = st.fixed_dictionaries(
    {"method": st.sampled_from(METHODS) | st.text(max_size=20)},
    optional={
        "params": st.dictionaries(st.text(max_size=12), json_values, max_size=5) | json_values,
        "id": json_values,
        "extra": json_values,
    },
).filter(lambda r: r["method"] != "shutdown")


lines = st.one_of(
    requests.map(lambda r: json.dumps(r).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    requests.map(lambda r: json.dumps(r).encode()[: len(json.dumps(r)) // 2]),  # cut short
).map(lambda b: b.replace(b"\n", b" "))

# Now and then a line just under or over the size limit.
daemon_lines = st.one_of(
    lines,
    lines,
    lines,
    st.integers(MAX_LINE - 20, MAX_LINE + 3000).map(lambda n: b"x" * n),
)


def expected_replies(batch: list[bytes]) -> int:
    """How many replies a batch gets: one per non-blank line, one per over-long line."""
    return sum(1 for line in batch if line.rstrip(b"\r").strip())


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("fuzzhome")
    with tempfile.TemporaryDirectory(prefix="oxf") as runtime:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(HOME=str(home), XDG_RUNTIME_DIR=runtime, PATH="/usr/bin:/bin")
        with unittest.mock.patch.dict(os.environ, env, clear=True):
            sock = load_settings().socket_path()
        proc = subprocess.Popen(
            [sys.executable, "-m", "ox_core.cli", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    call(sock, "status", timeout=2)
                    break
                except OxError:
                    assert time.monotonic() < deadline, "daemon not ready"
                    time.sleep(0.02)
            yield sock
            assert proc.poll() is None, "the daemon died during the fuzz"
            status = call(sock, "status")
            assert status["daemon"]["pid"] == proc.pid
        finally:
            proc.terminate()
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


def exchange(sock: Path, batch: list[bytes]) -> list[dict[str, Any]]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.connect(str(sock))
        s.sendall(b"".join(line + b"\n" for line in batch))
        s.shutdown(socket.SHUT_WR)
        out = bytearray()
        while chunk := s.recv(65536):
            out += chunk
    return [json.loads(line) for line in out.splitlines()]


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=st.lists(daemon_lines, min_size=1, max_size=20))
def test_daemon_answers_every_line(daemon: Path, batch: list[bytes]) -> None:
    replies = exchange(daemon, batch)
    assert len(replies) == expected_replies(batch)
    for reply in replies:
        assert isinstance(reply["ok"], bool)
        if reply["ok"]:
            assert reply["error"] is None
        else:
            assert isinstance(reply["error"], str)
            assert reply["error"]
            assert "\n" not in reply["error"]


def test_daemon_still_serves_status_after_the_fuzz(daemon: Path) -> None:
    status = call(daemon, "status")
    assert status["daemon"]["handlers"]
    assert status["agent_work"]["queue_depth"] >= 0


async def _echo(params: dict[str, Any]) -> Any:
    return params


async def _fail(params: dict[str, Any]) -> Any:
    raise ValueError("boom")


def run_now(coro: Any) -> Any:
    """Run a coroutine that never suspends (these methods do not), without an event loop."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the coroutine suspended")


@settings(max_examples=600, deadline=None)
@given(line=lines.filter(lambda b: len(b) < 10_000))
def test_handle_line_always_replies_with_one_json_line(line: bytes) -> None:
    server = IpcServer({"status": _echo, "ping": _echo, "enqueue": _fail})
    reply_line = run_now(server.handle_line(line))
    assert reply_line.endswith(b"\n")
    assert reply_line.count(b"\n") == 1
    reply = json.loads(reply_line)
    assert set(reply) == {"ok", "result", "error", "id"}
    if reply["ok"]:
        assert json.loads(line)["method"] in ("status", "ping")
    else:
        assert reply["error"]

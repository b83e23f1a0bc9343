"""IPC fuzz: thousands of random and malformed requests; every one is answered, the daemon lives.

Against a real `ox-core serve` process (with the installed plugins), over its real socket:
random bytes, non-UTF-8, bad JSON, JSON of the wrong shape, random methods and params,
lines just under and over the size limit, while idle and half-sent connections sit open.
Plus the same kinds of input straight into `IpcServer.handle_line`, for volume; and, on a
`MockClock`, connections that pause, send half a line or never read: each is closed by its
deadline.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_core.ipc import MAX_LINE, ErrorCode, IpcServer, call

from .bare_daemon import bare_daemon
from .bare_daemon import exchange as exchange_bytes

CODES = {value for name, value in vars(ErrorCode).items() if name.isupper()}

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
    with bare_daemon(tmp_path_factory.mktemp("fuzzhome")) as daemon:
        yield daemon.sock
        assert daemon.proc.poll() is None, "the daemon died during the fuzz"
        status = call(daemon.sock, "status")
        assert status["daemon"]["pid"] == daemon.proc.pid


def exchange(sock: Path, batch: list[bytes]) -> list[dict[str, Any]]:
    return exchange_bytes(sock, b"".join(line + b"\n" for line in batch))


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
            assert reply["code"] in CODES


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
    assert set(reply) == {"ok", "result", "error", "code", "id"}
    if reply["ok"]:
        assert json.loads(line)["method"] in ("status", "ping")
        assert reply["code"] is None
    else:
        assert reply["error"]
        assert reply["code"] in CODES


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    partials=st.lists(
        requests.map(lambda r: json.dumps(r).encode()).map(lambda b: b[: max(1, len(b) // 2)]),
        max_size=6,
    ),
    idle=st.integers(0, 6),
    batch=st.lists(lines, min_size=1, max_size=5),
)
def test_daemon_answers_while_connections_sit_idle_or_half_sent(
    daemon: Path, partials: list[bytes], idle: int, batch: list[bytes]
) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(idle):
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(daemon))
            held.append(s)
        for partial in partials:
            s = socket.socket(socket.AF_UNIX)
            s.connect(str(daemon))
            s.sendall(partial.replace(b"\n", b" "))
            held.append(s)
        # Waiting on a held connection would stall status until the 10 s idle or request
        # timeout: the bound stays under it, with room for a loaded machine.
        assert call(daemon, "status", timeout=8)["daemon"]["pid"]
        assert len(exchange(daemon, batch)) == expected_replies(batch)
        for s in held:  # nothing answered yet: their lines are not complete
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
    finally:
        for s in held:
            s.close()


# -- connections that pause, send half a line or never read (MockClock) ---------------------


@pytest.fixture
def mock_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def serve_pair(
    nursery: trio.Nursery, server: IpcServer, *, lockstep: bool = False
) -> tuple[trio.abc.Stream, trio.Event]:
    """A client stream connected to `server.handle_stream`; the event fires when it returns."""
    client, server_end = (
        trio.testing.lockstep_stream_pair() if lockstep else trio.testing.memory_stream_pair()
    )
    done = trio.Event()

    async def run() -> None:
        await server.handle_stream(server_end)
        done.set()

    nursery.start_soon(run)
    return client, done


async def read_all(stream: trio.abc.Stream) -> bytes:
    out = bytearray()
    while chunk := await stream.receive_some(65536):
        out += chunk
    return bytes(out)


async def test_an_idle_connection_is_closed_after_the_idle_timeout(
    mock_clock: trio.testing.MockClock,
) -> None:
    server = IpcServer({"echo": _echo}, idle_timeout=10)
    async with trio.open_nursery() as nursery:
        client, done = await serve_pair(nursery, server)
        start = trio.current_time()
        assert await read_all(client) == b""  # closed without a word
        assert trio.current_time() - start == pytest.approx(10)
        await done.wait()
    assert server.statistics().timed_out == 1


async def test_a_request_resets_the_idle_timer(mock_clock: trio.testing.MockClock) -> None:
    server = IpcServer({"echo": _echo}, idle_timeout=10)
    async with trio.open_nursery() as nursery:
        client, done = await serve_pair(nursery, server)
        start = trio.current_time()
        await trio.sleep(8)
        await client.send_all(b'{"method": "echo", "id": 1}\n')
        reply = json.loads(await client.receive_some(65536))
        assert reply["ok"] is True
        assert await read_all(client) == b""
        assert trio.current_time() - start == pytest.approx(18)
        await done.wait()


async def test_a_half_sent_line_is_cut_off_at_the_request_deadline(
    mock_clock: trio.testing.MockClock,
) -> None:
    """A trickle of bytes never extends the deadline of the line it started."""
    server = IpcServer({"echo": _echo}, idle_timeout=100, request_timeout=5)
    async with trio.open_nursery() as nursery:
        client, done = await serve_pair(nursery, server)
        await trio.sleep(50)
        start = trio.current_time()
        for ch in b'{"method": "ec':
            await client.send_all(bytes([ch]))
            await trio.sleep(0.3)
        out = await read_all(client)
        assert trio.current_time() - start == pytest.approx(5)
        reply = json.loads(out)
        assert reply["error"] == "request not complete within 5 s; closing"
        assert reply["code"] == "timeout"
        await done.wait()


async def test_a_client_that_never_reads_is_closed_after_the_send_timeout(
    mock_clock: trio.testing.MockClock,
) -> None:
    server = IpcServer({"echo": _echo}, send_timeout=3)
    async with trio.open_nursery() as nursery:
        client, done = await serve_pair(nursery, server, lockstep=True)
        await client.send_all(b'{"method": "echo"}\n')
        start = trio.current_time()
        await done.wait()  # the server gave up sending; the client never read
        assert trio.current_time() - start == pytest.approx(3)


# Behaviours of one connection in the fuzz: (delay before, bytes sent, whether a newline ends it)
behaviours = st.lists(
    st.tuples(
        st.floats(0, 20),
        st.binary(min_size=0, max_size=40).map(lambda b: b.replace(b"\n", b"")),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(script=behaviours)
def test_fuzz_idle_and_half_sent_connections_always_end_by_their_deadline(
    script: list[tuple[float, bytes, bool]],
) -> None:
    """Any mix of pauses, partial lines and whole lines: the server answers each whole line,
    and closes the connection no later than the idle or request deadline that applies."""
    idle, request = 10.0, 5.0

    async def main() -> None:
        server = IpcServer({"echo": _echo}, idle_timeout=idle, request_timeout=request)
        async with trio.open_nursery() as nursery:
            client, done = await serve_pair(nursery, server)
            idle_since = trio.current_time()
            line_started: float | None = None
            pending = b""
            expected = 0

            def deadline() -> float:
                return idle_since + idle if line_started is None else line_started + request

            for delay, data, newline in script:
                if trio.current_time() + delay >= deadline() - 1e-3:
                    break  # the server closes before this step
                await trio.sleep(delay)
                now = trio.current_time()
                chunk = data + (b"\n" if newline else b"")
                if not chunk:
                    continue
                await client.send_all(chunk)
                if line_started is None:
                    line_started = now
                pending += data
                if newline:
                    if pending.rstrip(b"\r").strip():
                        expected += 1
                        idle_since = now
                    line_started, pending = None, b""
            closed_by = deadline()
            out = await read_all(client)
            await done.wait()
            assert trio.current_time() == pytest.approx(closed_by, abs=1e-6)
            timeout_line = f"request not complete within {request:g} s; closing"
            replies = [json.loads(line) for line in out.splitlines()]
            assert len([r for r in replies if r["error"] != timeout_line]) == expected
            assert (replies[-1:] != [] and replies[-1]["error"] == timeout_line) == (
                line_started is not None
            )

    trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))

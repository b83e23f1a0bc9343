"""A red-team pass on the IPC client, the daemon's connection bounds and config input.

What an answer on the socket may hold that no daemon writes (NaN, `1e999`, an error line of
a megabyte, terminal escapes); a daemon whose queue of connections is full; a lock file
naming a socket no daemon wrote; clients that never read their answers holding every slot;
a config file or environment whose keys nest so deep that reading them would take gigabytes
or end `doctor` in a traceback. Real Unix sockets, real files, the real CLI entry point.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio
import trio.testing

from ox_core import cli
from ox_core.client import MAX_ERROR, IpcError, _result, call, find_socket
from ox_core.daemon_lock import lock_path
from ox_core.errors import ConfigError, OxError
from ox_core.ipc import IpcServer
from ox_core.paths import MAX_KEY_PARTS, read_toml
from ox_core.settings import MAX_OPTIONS_DEPTH, load_settings
from ox_core.sockets import bind_private_socket
from ox_core.testing import FixedAnswers


@contextlib.contextmanager
def private_dir() -> Iterator[Path]:
    """A short folder of mode 0700 (a socket path's limit is 107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="oxr") as d:
        os.chmod(d, 0o700)
        yield Path(d)


FakeDaemon = FixedAnswers


@pytest.fixture
def fake_daemon(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDaemon]:
    """A fake daemon the CLI finds (`OX_SOCKET`); set its `reply` before asking it."""
    with private_dir() as d:
        for name in list(os.environ):
            if name.upper().startswith(("OX_", "XDG_")):
                monkeypatch.delenv(name)
        monkeypatch.setenv("HOME", str(d))
        monkeypatch.setenv("OX_CONFIG_FILE", str(d / "none.toml"))
        monkeypatch.setenv("OX_SOCKET", str(d / "ox.sock"))
        daemon = FakeDaemon(d / "ox.sock", b"")
        try:
            yield daemon
        finally:
            daemon.close()


def answer(result: str) -> bytes:
    return b'{"ok": true, "result": ' + result.encode() + b', "id": 1}\n'


# -- answers no daemon writes -----------------------------------------------------------------

# pydantic writes a non-finite float as `null`: these come from no ox daemon.
NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e999"]


@pytest.mark.parametrize("number", NOT_FINITE)
def test_a_reply_holding_nan_or_infinity_is_not_a_valid_answer(number: str) -> None:
    with pytest.raises(OxError, match="the daemon's reply is not a valid answer"):
        _result(answer(f'{{"queued": {number}}}'))
    assert _result(answer('{"queued": 1.5e3, "big": ' + "9" * 4000 + "}"))["queued"] == 1500.0


@pytest.mark.parametrize(
    ("argv", "result"),
    [
        (["status"], '{"daemon": {"pid": 1, "services": [{"name": "x", "state": "restarting", '
                     '"restarts": 1e999}]}, "agent_work": {}}'),
        (["detect"], '{"queued": Infinity}'),
        (["status", "--json"], '{"a": NaN}'),
    ],
)  # fmt: skip
def test_a_non_finite_number_in_an_answer_is_one_error_line(
    fake_daemon: FakeDaemon, capsys: pytest.CaptureFixture[str], argv: list[str], result: str
) -> None:
    # Before: `status` and `detect` ended in a traceback (`int(inf)`: OverflowError), and
    # `status --json` printed `NaN`, which no JSON reader takes.
    fake_daemon.reply = answer(result)
    assert cli.main(argv) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["ox-core: error: the daemon's reply is not a valid answer"]


def test_an_error_line_of_a_megabyte_is_cut(fake_daemon: FakeDaemon) -> None:
    fake_daemon.reply = (
        b'{"ok": false, "error": "' + b"x" * 1_000_000 + b'", "code": "refused", "id": 1}\n'
    )
    with pytest.raises(IpcError) as caught:
        call(fake_daemon.path, "status", timeout=10)
    assert len(str(caught.value)) == MAX_ERROR
    assert str(caught.value).endswith("x…")
    assert caught.value.code == "refused"


def test_terminal_escapes_in_an_answer_reach_the_terminal_as_text(
    fake_daemon: FakeDaemon, capsys: pytest.CaptureFixture[str]
) -> None:
    # OSC 52 writes the clipboard; CSI (also as the one C1 byte U+009B) moves the cursor.
    hostile = "\\u001b]52;c;cm0gLXJmIH4=\\u0007\\u009b2J\\u001b[31m"
    fake_daemon.reply = answer(f'{{"note": "{hostile}"}}')
    assert cli.main(["status", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["note"].startswith("\x1b]52;")
    assert not any(c in out for c in "\x1b\x07\x9b")
    fake_daemon.reply = b'{"ok": false, "error": "' + hostile.encode() + b'", "id": 1}\n'
    assert cli.main(["status", "--json"]) == 1
    err = capsys.readouterr().err
    assert "\\x1b]52;c;" in err
    assert not any(c in err for c in "\x1b\x07\x9b")


def test_a_daemon_that_never_answers_is_a_timeout() -> None:
    with socket.socket(socket.AF_UNIX) as silent, private_dir() as d:
        silent.bind(str(d / "ox.sock"))
        silent.listen(1)  # connections queue; none is ever accepted or answered
        started = time.monotonic()
        with pytest.raises(OxError, match=r"within 0\.5 s"):
            call(d / "ox.sock", "status", timeout=0.5)
        assert time.monotonic() - started < 5


# -- a daemon whose queue of connections is full ----------------------------------------------


def fill_queue(path: Path) -> list[socket.socket]:
    """Connections to `path` (listening with a backlog of 0) until its queue is full."""
    held: list[socket.socket] = []
    while True:
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(str(path))
        except BlockingIOError:
            s.close()
            return held
        held.append(s)
        assert len(held) < 100, "the queue never filled"


def test_a_client_waits_for_a_daemon_whose_queue_is_full() -> None:
    # A Unix socket refuses a connection at once (EAGAIN) while the listener's queue is full:
    # the client said "Resource temporarily unavailable" without waiting its timeout.
    with private_dir() as d, socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(d / "ox.sock"))
        listener.listen(0)
        held = fill_queue(d / "ox.sock")
        try:
            with pytest.raises(OxError, match=r"did not accept a connection within 0\.3 s"):
                call(d / "ox.sock", "status", timeout=0.3)

            def drain_and_answer() -> None:
                # Not a timing the test relies on: the pause only lets the client meet the
                # full queue first (it must then retry until there is room).
                time.sleep(0.2)
                for _ in held:  # the queue is first in, first out: the client's comes next
                    listener.accept()[0].close()
                conn, _ = listener.accept()
                conn.settimeout(10)
                with conn:
                    if conn.recv(65536):
                        conn.sendall(answer('"served"'))

            server = threading.Thread(target=drain_and_answer, daemon=True)
            server.start()
            assert call(d / "ox.sock", "status", timeout=20) == "served"
            server.join(10)
        finally:
            for s in held:
                s.close()


def test_a_second_daemon_does_not_take_a_live_socket_whose_queue_is_full() -> None:
    # The probe before replacing a socket file read EAGAIN as "nothing listens": a second
    # daemon (two ledgers given one `socket`) unlinked a busy live daemon's socket.
    with private_dir() as d, socket.socket(socket.AF_UNIX) as listener:
        path = d / "rt" / "ox.sock"
        path.parent.mkdir(mode=0o700)
        listener.bind(str(path))
        listener.listen(0)
        held = fill_queue(path)
        try:
            with pytest.raises(OxError, match=r"another ox-core daemon \(pid unknown\) listens on"):
                bind_private_socket(path).close()
            assert path.is_socket()
        finally:
            for s in held:
                s.close()


# -- the lock file's socket ---------------------------------------------------------------------


@pytest.mark.parametrize("named", ["/tmp\x00/x.sock", "rel/ox.sock", "~/ox.sock", "", 7])
def test_a_socket_in_the_lock_file_that_no_daemon_wrote_is_not_used(
    fake_daemon: FakeDaemon,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    named: object,
) -> None:
    # A NUL byte ended every client command in a traceback (`ValueError: embedded null
    # byte`); a relative path was looked for in the folder the command ran in.
    ledger = fake_daemon.path.parent / "ledger"
    lock = lock_path(ledger)
    lock.parent.mkdir(parents=True)
    lock.write_text(json.dumps({"pid": 1, "socket": named}))
    monkeypatch.delenv("OX_SOCKET")
    monkeypatch.setenv("OX_LEDGER", str(ledger))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(fake_daemon.path.parent))
    monkeypatch.chdir(fake_daemon.path.parent)
    (fake_daemon.path.parent / "rel").mkdir(mode=0o700)
    decoy = FakeDaemon(fake_daemon.path.parent / "rel" / "ox.sock", answer('"decoy"'))
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a live daemon holds the lock
        configured = fake_daemon.path.parent / "ox" / "ox-x.sock"
        assert find_socket(configured, ledger) == configured
        assert cli.main(["status", "--json"]) == 1
        assert "daemon is not running" in capsys.readouterr().err
    finally:
        os.close(fd)
        decoy.close()


# -- clients that never read their answers ----------------------------------------------------


@pytest.fixture
def mock_clock() -> trio.testing.MockClock:
    return trio.testing.MockClock(autojump_threshold=0)


async def big(params: dict[str, Any]) -> Any:
    return "x" * (8 * 1024 * 1024)  # far more than a socket's buffers hold


async def ping(params: dict[str, Any]) -> Any:
    return "pong"


async def test_clients_that_never_read_their_answers_do_not_lock_out_a_new_one() -> None:
    # A connection stayed "busy" (never evicted) while its answer waited for the client to
    # read it, up to `send_timeout`: clients that ask and never read held every slot, and
    # every newcomer, `status` included, was refused as busy.
    with private_dir() as d:
        path = d / "rt" / "ox.sock"
        server = IpcServer(
            {"big": big, "ping": ping}, max_total=2, max_per_client=10, send_timeout=60
        )
        async with trio.open_nursery() as nursery:
            await nursery.start(server.serve, path)
            hogs = []
            for _ in range(2):
                hog = socket.socket(socket.AF_UNIX)
                hog.settimeout(20)
                hog.connect(str(path))
                hog.sendall(b'{"method": "big"}\n')
                hogs.append(hog)
            try:
                for hog in hogs:  # its answer is being sent: the server waits on this client
                    assert await trio.to_thread.run_sync(hog.recv, 1) == b"{"
                reply = await trio.to_thread.run_sync(lambda: call(path, "ping", timeout=20))
                assert reply == "pong"
                assert server.statistics().evicted == 1
            finally:
                for hog in hogs:
                    hog.close()
                nursery.cancel_scope.cancel()


async def test_blank_lines_do_not_keep_a_connection_open(
    mock_clock: trio.testing.MockClock,
) -> None:
    # A blank line is no request: sent every second, it must not hold a slot forever.
    server = IpcServer({"ping": ping}, idle_timeout=10)
    client, server_end = trio.testing.memory_stream_pair()
    async with trio.open_nursery() as nursery:
        nursery.start_soon(server.handle_stream, server_end)

        async def blank_lines() -> None:
            while True:  # until the server closes its end
                await client.send_all(b"\n \r\n")
                await trio.sleep(1)

        start = trio.current_time()
        with trio.move_on_after(60), pytest.raises(trio.BrokenResourceError):
            await blank_lines()
        assert 10 <= trio.current_time() - start <= 11
        assert server.statistics().timed_out == 1


# -- config keys and options nested deep ------------------------------------------------------


@pytest.mark.parametrize(
    "toml",
    [
        "[handlers.x]\n" + "a." * 3000 + "b = 1\n",
        "[handlers.x]\n" + "a . " * 40 + "b = 1\n",
        '"=".' + "'q'." * 40 + "b = 1\n",
        "[" + "a." * 40 + "b]\nc = 1\n",
        "[[" + "a." * 40 + "b]]\nc = 1\n",
    ],
)
def test_a_config_key_of_thousands_of_parts_is_refused_before_parsing(
    tmp_path: Path, toml: str
) -> None:
    # `tomllib` takes time and memory quadratic in a key's parts: a 400 kB file of one key
    # of 200,000 parts got every command, agent hooks included, killed for want of memory.
    config = tmp_path / "config.toml"
    config.write_text("# ox\n" + toml)
    line = 3 if toml.startswith("[handlers") else 2
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"line {line} has a key of more than {MAX_KEY_PARTS} "):
        read_toml(config)
    assert time.monotonic() - started < 2


def test_keys_of_few_parts_floats_and_prose_are_read(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    text = (
        "[handlers.x]\n" + "a." * (MAX_KEY_PARTS - 3) + "b = 1\n"
        "floats = [\n" + "1.5, " * 100 + "\n]\n"
        'prompt = """\n' + "Stop. Go. " * 100 + "\n" + "." * 1000 + '\n"""\n'
        "[" + "a." * (MAX_KEY_PARTS - 1) + "b]\n"
    )
    config.write_text(text)
    data = read_toml(config)
    assert len(data["handlers"]["x"]["floats"]) == 100


def nested(depth: int) -> str:
    return "{b = " * (depth - 1) + "1" + "}" * (depth - 1)


@pytest.mark.parametrize("how", ["env", "file"])
def test_options_nested_past_what_pydantic_writes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    # Any depth passed: past some 250 levels `doctor` then ended in "ValueError: Maximum
    # serialization depth exceeded"; `OX_HANDLERS__X__A__A__...` nests as deep as the
    # variable is long.
    for name in list(os.environ):
        if name.upper().startswith(("OX_", "XDG_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    config = tmp_path / "config.toml"
    monkeypatch.setenv("OX_CONFIG_FILE", str(config))
    if how == "env":
        monkeypatch.setenv("OX_HANDLERS__X" + "__A" * 3000, "1")
    else:
        config.write_text(f"[handlers.x]\na = {nested(100)}\n")
    with pytest.raises(ConfigError, match=f"handlers: x: nested more than {MAX_OPTIONS_DEPTH}"):
        load_settings()
    config.write_text(f"[handlers.x]\na = {nested(MAX_OPTIONS_DEPTH - 1)}\n")
    monkeypatch.delenv("OX_HANDLERS__X" + "__A" * 3000, raising=False)
    assert load_settings().model_dump(mode="json")["handlers"]["x"]["a"]["b"]["b"]


def test_a_config_file_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a regular file"):
        read_toml(tmp_path)

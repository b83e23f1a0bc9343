"""A pytest kit for ox plugin authors. Enable it yourself, in your `conftest.py`:

    pytest_plugins = ["ox_core.testing"]

(It is deliberately not a `pytest11` entry point: installing ox-core never adds fixtures to
unrelated projects.) Async fixtures and tests need pytest-trio (`trio_mode = true`).

Fixtures:
- `mock_runner`: a `MockRunner` answering `RunResult(output="ok")`; set `.fn` to change it.
- `ledger`: a `TempLedger` — a git clone at `.path` whose `origin` is a bare repository on
  disk at `.remote`, with one initial commit; `.clone_remote(dest)` makes a fresh clone to
  check what was pushed.
- `manager_factory`: `async with manager_factory(handlers, runner=..., config=...) as m:`
  runs a real `Manager` on the ledger in a nursery. Request pytest-trio's `mock_clock` in
  the same test to drive its timers with a `MockClock`. If your handler works in threads or
  subprocesses, set `mock_clock.autojump_threshold = 0.05` (not 0): the clock then jumps
  only when the test has been idle for 50 ms of real time, never while a thread works.

Helpers:
- `run_one_item(handler, item, runner)`: build_prompt → run (unless `skip_llm`) →
  process_result, as the manager does; returns the `RunResult` given to `process_result`.
- `detect_and_run(handler, ledger, runner)`: detect, then `run_one_item` on each item.
- `plugins_of(handlers, runners)`: `LoadedPlugins` with only those classes registered (no
  entry points), for `ox_core.daemon.serve(settings, plugins=...)`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import textwrap
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio

from ox_core.config import AgentWorkerConfig
from ox_core.contracts import HandlerContext, Runner, RunRequest, RunResult, WorkHandler
from ox_core.manager import Manager, SyncSignal
from ox_core.mock import MockRunner
from ox_core.plugins import LoadedPlugins
from ox_core.work import WorkItem

__all__ = [
    "IdleHandler",
    "ManagerFactory",
    "TempLedger",
    "detect_and_run",
    "git",
    "ledger",
    "make_ledger",
    "manager_factory",
    "mock_runner",
    "plugins_of",
    "run_one_item",
]

_GIT_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
    "GIT_AUTHOR_NAME": "ox test",
    "GIT_AUTHOR_EMAIL": "ox-test@example.invalid",
    "GIT_COMMITTER_NAME": "ox test",
    "GIT_COMMITTER_EMAIL": "ox-test@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


class IdleHandler(WorkHandler):
    """A handler with no work of its own: a test subclasses it (its own `type`) and changes
    the one method it is about."""

    type = "idle"

    async def detect(self, ledger: Path) -> list[WorkItem]:
        return []

    async def build_prompt(self, item: WorkItem) -> RunRequest:
        return RunRequest(skip_llm=True)

    async def process_result(self, item: WorkItem, result: RunResult) -> None:
        return None


def wait_until(what: str, predicate: Callable[[], Any], timeout: float = 60.0) -> Any:
    """`predicate()`'s first true value, polled every 50 ms (blocking: for tests that drive a
    daemon process); `AssertionError` naming `what` after `timeout` seconds, generous by
    default because CI shares two cores."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return value


def stop_process(proc: subprocess.Popen[bytes], timeout: float = 60.0) -> int:
    """Stop a daemon process the way a person would (SIGTERM), SIGKILL when it has not ended
    after `timeout` seconds; its exit code."""
    import signal

    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


async def wait_for(what: str, predicate: Callable[[], Any], limit: float = 60.0) -> Any:
    """`wait_until` inside trio: `predicate()`'s first true value, polled every 50 ms (for
    conditions with nothing to wait on: a file, a git repository, another object's state)."""
    import trio

    deadline = trio.current_time() + limit
    while not (value := predicate()):
        if trio.current_time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await trio.sleep(0.05)
    return value


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` (no prompts, C locale, a test identity); return stdout; raise on error."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"git {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}"
        )
    return proc.stdout


def remote_objects_text(remote: Path) -> str:
    """The content of every object of the (bare) remote, reachable or not, as text: what a
    test searches to say something never reached it."""
    out = subprocess.run(
        ["git", "-C", str(remote), "cat-file", "--batch-all-objects", "--batch"],
        check=True,
        capture_output=True,
    ).stdout
    return out.decode("utf-8", "replace")


class FixedAnswers:
    """A listener on a real Unix socket at `path` answering each request line with `reply`
    (nothing, and the connection closed, when it is empty): what a broken or hostile daemon
    sends, for tests of the client. `requests` counts the lines read; `close` ends it."""

    def __init__(self, path: Path, reply: bytes) -> None:
        import socket
        import threading

        self.path = path
        self.reply = reply
        self.requests = 0
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(path))
        self._server.listen(16)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                conn.settimeout(30)
                data = b""
                while not data.endswith(b"\n") and (chunk := conn.recv(65536)):
                    data += chunk
                self.requests += 1
                if self.reply:
                    with contextlib.suppress(OSError):  # a client that left early
                        conn.sendall(self.reply)

    def close(self) -> None:
        import socket

        self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()
        self._thread.join(10)


@attrs.frozen
class TempLedger:
    """A ledger clone (`path`) and its bare remote (`remote`) on disk."""

    path: Path
    remote: Path

    def clone_remote(self, dest: Path) -> Path:
        """A fresh clone of the remote at `dest`: what a teammate would see."""
        git(dest.parent, "clone", "--quiet", str(self.remote), str(dest))
        return dest


def make_ledger(root: Path) -> TempLedger:
    """Create `root/remote.git` (bare, branch main) and `root/ledger` (a clone, one commit)."""
    remote, path = root / "remote.git", root / "ledger"
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--bare", "--initial-branch=main", str(remote))
    git(root, "clone", "--quiet", str(remote), str(path))
    git(path, "config", "user.name", "ox test")
    git(path, "config", "user.email", "ox-test@example.invalid")
    git(path, "checkout", "--quiet", "-B", "main")
    (path / ".gitignore").write_text(".ox/cache/\n")
    git(path, "add", ".gitignore")
    git(path, "commit", "--quiet", "-m", "ledger: initial commit")
    git(path, "push", "--quiet", "-u", "origin", "main")
    return TempLedger(path=path, remote=remote)


async def run_one_item(
    handler: WorkHandler, item: WorkItem, runner: Runner | None = None
) -> RunResult:
    """Take `item` through `build_prompt` → `runner.run` → `process_result`, like the manager.

    With `skip_llm`, `process_result` gets an empty `RunResult` and the runner is not called.
    Exceptions from the handler propagate (a test wants to see them).
    """
    request = await handler.build_prompt(item)
    if request.skip_llm:
        result = RunResult()
    else:
        if runner is None:
            raise ValueError(f"{item.type} item {item.dedup_key!r} needs an agent: pass a runner")
        result = await runner.run(request)
    await handler.process_result(item, result)
    return result


async def detect_and_run(
    handler: WorkHandler, ledger: Path, runner: Runner | None = None
) -> list[tuple[WorkItem, RunResult]]:
    """`detect` on `ledger`, then `run_one_item` on each item found, in order."""
    items = await handler.detect(ledger)
    return [(item, await run_one_item(handler, item, runner)) for item in items]


def plugins_of(
    handlers: Sequence[type[Any]], runners: Sequence[type[Any]] = (MockRunner,)
) -> LoadedPlugins:
    """The plugins of a daemon that has only `handlers` and `runners` (installed
    distributions are not looked at)."""
    from ox_core.hookspecs import hookimpl
    from ox_core.plugins import load_plugins

    class Plugin:
        @hookimpl
        def ox_register_runners(self, register: Callable[[type[Any]], None]) -> None:
            for runner in runners:
                register(runner)

        @hookimpl
        def ox_register_handlers(self, register: Callable[[type[Any]], None]) -> None:
            for handler in handlers:
                register(handler)

    return load_plugins(entry_points=False, extra=[("test", Plugin())])


@pytest.fixture
def mock_runner() -> MockRunner:
    """A `MockRunner` answering `RunResult(output="ok")`."""
    return MockRunner()


@pytest.fixture
def ledger(tmp_path: Path) -> TempLedger:
    """A temporary git ledger with a bare remote on disk."""
    return make_ledger(tmp_path / "ledger-root")


ManagerFactory = Callable[..., AbstractAsyncContextManager[Manager]]


@pytest.fixture
def manager_factory(ledger: TempLedger) -> ManagerFactory:
    """`async with manager_factory(handlers, runner=None, config=None) as manager:` runs a
    `Manager` on the `ledger` fixture until the block ends (then cancels it)."""

    @asynccontextmanager
    async def factory(
        handlers: Sequence[WorkHandler],
        runner: Runner | None = None,
        config: AgentWorkerConfig | None = None,
    ) -> AsyncIterator[Manager]:
        cfg = config or AgentWorkerConfig()
        manager = Manager(runner, handlers, lambda: cfg, SyncSignal(), ledger.path)
        for handler in handlers:
            handler.attach(HandlerContext(ledger=ledger.path, enqueue=manager.enqueue))
        async with trio.open_nursery() as nursery:
            await nursery.start(manager.run)
            yield manager
            nursery.cancel_scope.cancel()

    return factory


def install_runner_plugin(site: Path, dist: str, module: str, code: str) -> None:
    """`dist` 1.0.0 as an installer leaves it in `site`: module `module` (`code`) and its
    `.dist-info`, naming it as an `ox.runners` entry point (the folder's name has no `-`
    but before the version)."""
    (site / f"{module}.py").write_text(textwrap.dedent(code))
    info = site / f"{dist.replace('-', '_')}-1.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text(f"[ox.runners]\n{dist} = {module}\n")

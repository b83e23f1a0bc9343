"""Red team of the runners: fake agent CLIs (real scripts) that leave a helper holding the
run's pipes behind a clean exit, or that fail with megabytes of error text, or flood stderr
with terminal escapes, NUL bytes and invalid UTF-8 without a newline.

What survives a run is read from `/proc` by `survivors` (the test kit's own scan), never by
asking the code under test.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import RunRequest
from ox_core.cli_runner import MAX_ERROR
from ox_core.sweep import is_subreaper, set_subreaper
from ox_core.testing_runners import survivors
from ox_runner_claude import ClaudeRunner
from ox_runner_claude.runner import AUTH_ENV

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

RESULT = {"type": "result", "subtype": "success", "is_error": False, "result": "the answer"}


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in (*AUTH_ENV, "CLAUDECODE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(params=[False, True], ids=["no-subreaper", "subreaper"])
def subreaper(request: pytest.FixtureRequest) -> Iterator[bool]:
    """This process as the subreaper of its descendants (as the daemon is), or not."""
    assert not is_subreaper()
    if request.param:
        assert set_subreaper(True)
    try:
        yield request.param
    finally:
        set_subreaper(False)


def cli(folder: Path, name: str, body: str) -> Path:
    """An executable shell script `folder/name` (the fake CLI) that first reads its prompt."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\ncat > /dev/null\n{body}")
    path.chmod(0o755)
    return path


async def nothing_left(marker: str) -> list[str]:
    """What still runs with `marker` in its command line (or is our zombie) after a generous
    deadline (a kill lands asynchronously); [] is success."""
    with trio.move_on_after(30):
        while survivors(marker, parent=os.getpid()):  # noqa: ASYNC110 - polling /proc
            await trio.sleep(0.02)
    return survivors(marker, parent=os.getpid())


# ------------------------------------------------------------------ what a run leaves behind


@pytest.mark.parametrize("pipe", ["stdout", "stderr"])
async def test_a_hidden_helper_holding_a_pipe_dies_with_a_clean_exit(
    tmp_path: Path, subreaper: bool, pipe: str
) -> None:
    # The helper leaves the group (setsid) and clears its environment (no run token) before
    # the CLI answers and exits 0 on its own: neither the group kill nor the token finds it,
    # and its tree was never noted (the run was not stopped). It holds the run's pipe.
    marker = f"1000.{uuid.uuid4().int % 10**9:09d}"
    pidfile = tmp_path / "helper"
    keep = ">/dev/null" if pipe == "stderr" else "2>/dev/null"
    body = (
        f"env -i setsid sh -c 'echo $$ > {pidfile}.tmp; mv {pidfile}.tmp {pidfile}; "
        f"exec sleep {marker}' {keep} </dev/null &\n"
        f'while [ ! -s "{pidfile}" ]; do sleep 0.01; done\n'
        f"echo '{json.dumps(RESULT)}'\nexit 0\n"
    )
    binary = cli(tmp_path / "bin", "claude", body)
    try:
        with trio.fail_after(30):  # the run never waits on the helper's pipe for ever
            got = await ClaudeRunner(binary=binary).run(RunRequest("x", timeout_override=20))
        assert (got.ok, got.output) == (True, "the answer")
        assert await nothing_left(marker) == []
    finally:
        if pidfile.exists():  # never leave it to the next test, whatever failed
            with_pid = int(pidfile.read_text())
            if survivors(marker, parent=os.getpid()):
                os.kill(with_pid, 9)


# ------------------------------------------------------------------ what a run says


async def test_a_claude_error_of_megabytes_is_bounded_and_keeps_its_stderr_tail(
    tmp_path: Path,
) -> None:
    error = {"type": "result", "subtype": "error_during_execution", "is_error": True}
    error["result"] = "E" * 3_000_000
    (tmp_path / "out").write_text(json.dumps(error) + "\n")
    body = f'cat "{tmp_path}/out"\necho "stderr end marker" >&2\nexit 1\n'
    got = await ClaudeRunner(binary=cli(tmp_path / "bin", "claude", body)).run(RunRequest("x"))
    assert not got.ok
    assert len(got.error) <= MAX_ERROR
    assert got.error.startswith("claude reported an error: EEE")
    assert got.error.endswith("stderr end marker")


@pytest.mark.parametrize("runner", ["gemini", "codex"])
async def test_the_other_runners_errors_of_megabytes_are_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runner: str
) -> None:
    big = "E" * 3_000_000
    if runner == "gemini":
        from ox_runner_gemini import GeminiRunner

        monkeypatch.setenv("GEMINI_API_KEY", "x")
        monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
        events: list[dict[str, Any]] = [{"type": "init"}, {"type": "error", "message": big}]
        make: Any = GeminiRunner
        body = ""
    else:
        from ox_runner_codex import CodexRunner

        events = [{"type": "thread.started"}, {"type": "turn.failed", "error": {"message": big}}]
        make = CodexRunner
        body = 'case "$1" in --version) echo "codex-cli 0.50.0"; exit 0;; esac\n'
    (tmp_path / "out").write_text("".join(json.dumps(e) + "\n" for e in events))
    # The fake reads its prompt (in `cli`) after answering `--version`.
    path = tmp_path / "bin" / runner
    cli(tmp_path / "bin", runner, f'cat "{tmp_path}/out"\nexit 1\n')
    path.write_text(f"#!/bin/sh\n{body}" + path.read_text().removeprefix("#!/bin/sh\n"))
    got = await make(binary=path).run(RunRequest("x"))
    assert not got.ok
    assert len(got.error) <= MAX_ERROR
    assert f"{runner} reported an error: EEE" in got.error


async def test_a_stderr_flood_without_newline_is_bounded_and_the_answer_kept(
    tmp_path: Path,
) -> None:
    # 32 MiB of OSC 52 (clipboard write), CSI, NUL and invalid UTF-8 on stderr, no newline,
    # then the answer: memory holds only the tail, the answer is read whole.
    noise = tmp_path / "noise"
    noise.write_bytes((b"\x1b]52;c;cHduZWQ=\x07\x1b[2J\x00\xff\xfe\xc3" * 64) * 64)
    body = (
        f'i=0; while [ $i -lt 128 ]; do cat "{noise}" "{noise}" "{noise}" "{noise}" >&2; '
        "i=$((i+1)); done\n"
        f"echo '{json.dumps(RESULT)}'\nexit 0\n"
    )
    got = await ClaudeRunner(binary=cli(tmp_path / "bin", "claude", body)).run(RunRequest("x"))
    assert (got.ok, got.output, got.error) == (True, "the answer", "")


async def test_a_failing_stderr_flood_gives_a_bounded_error(tmp_path: Path) -> None:
    noise = tmp_path / "noise"
    noise.write_bytes(b"\x1b]0;pwned\x07\x00\xff" * 100_000)
    body = f'cat "{noise}" "{noise}" "{noise}" >&2\nexit 3\n'
    got = await ClaudeRunner(binary=cli(tmp_path / "bin", "claude", body)).run(RunRequest("x"))
    assert not got.ok
    assert got.error.startswith("claude exited with status 3")
    assert len(got.error) <= MAX_ERROR

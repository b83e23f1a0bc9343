"""`ox_core.process`: real subprocesses (small shell scripts), real clock."""

from __future__ import annotations

import contextlib
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_core.cli_runner import CliRunner
from ox_core.contracts import RunRequest, RunResult
from ox_core.environment import agent_env, find_binary
from ox_core.errors import RunnerError
from ox_core.process import (
    MAX_OUTPUT_BYTES,
    PROBE_OUTPUT_BYTES,
    STDERR_TAIL_BYTES,
    ProcessOutcome,
    probe,
    run_agent_process,
    split_lines,
)
from ox_core.testing_runners import alive, group_members


def script(tmp_path: Path, body: str, name: str = "fake") -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


async def wait_dead(*pids: int) -> bool:
    """SIGKILL is delivered asynchronously: give the kernel a moment (generous: a loaded
    machine; a live process costs the whole minute only when the test fails anyway)."""
    with trio.move_on_after(60):
        # Nothing to wait on for a process that is not our child: poll /proc.
        while any(alive(pid) for pid in pids):  # noqa: ASYNC110
            await trio.sleep(0.01)
    return not any(alive(pid) for pid in pids)


async def wait_for_file(path: Path) -> str:
    with trio.fail_after(60):
        while not await trio.Path(path).exists() or not (await trio.Path(path).read_text()):  # noqa: ASYNC110
            await trio.sleep(0.01)
    return (await trio.Path(path).read_text()).strip()


async def test_prompt_goes_to_stdin_and_lines_come_back(tmp_path: Path) -> None:
    exe = script(tmp_path, "cat\n")
    prompt = "first line\nsecond line\n" + "x" * 300_000  # over the 128 KiB argv limit
    out = await run_agent_process([exe], stdin=prompt, timeout=10)
    assert out.lines == ["first line", "second line", "x" * 300_000]
    assert out.returncode == 0
    assert not out.timed_out
    assert not out.overflow
    assert out.failure("fake") == ""
    assert out.duration > 0


async def test_stdin_is_closed_so_a_reader_of_stdin_finishes(tmp_path: Path) -> None:
    exe = script(tmp_path, 'n=$(wc -c); echo "got $n"\n')
    out = await run_agent_process([exe], stdin="", timeout=10)
    assert out.lines == ["got 0"]


async def test_child_that_never_reads_a_large_prompt(tmp_path: Path) -> None:
    exe = script(tmp_path, "echo done\n")
    out = await run_agent_process([exe], stdin="y" * 1_000_000, timeout=10)
    assert out.lines == ["done"]
    assert out.returncode == 0


async def test_line_longer_than_a_mebibyte_is_kept_whole(tmp_path: Path) -> None:
    size = 3 * 1024 * 1024
    exe = script(tmp_path, f"head -c {size} /dev/zero | tr '\\0' a; echo; echo tail\n")
    out = await run_agent_process([exe], timeout=20)
    assert [len(line) for line in out.lines] == [size, 4]
    assert out.lines[1] == "tail"


async def test_output_over_the_cap_is_stopped_and_reported(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    exe = script(
        tmp_path, f"echo $$ > {pids}\nhead -c 10485760 /dev/zero | tr '\\0' a; echo; sleep 30\n"
    )
    with trio.fail_after(15):
        out = await run_agent_process([exe], timeout=60)
    assert out.overflow
    assert not out.timed_out
    assert sum(len(line) for line in out.lines) <= MAX_OUTPUT_BYTES
    assert "more than 8 MiB" in out.failure("fake")
    leader = int(pids.read_text())
    assert await wait_dead(leader)
    assert group_members(leader) == []


async def test_non_utf8_and_crlf(tmp_path: Path) -> None:
    exe = script(tmp_path, "printf 'caf\\351\\r\\nok\\r\\n'\n")
    out = await run_agent_process([exe], timeout=10)
    assert out.lines == ["caf\ufffd", "ok"]


async def test_nonzero_exit_reports_the_stderr_tail(tmp_path: Path) -> None:
    exe = script(
        tmp_path,
        f"head -c {3 * STDERR_TAIL_BYTES} /dev/zero | tr '\\0' e >&2\n"
        "echo 'the real reason' >&2\nexit 3\n",
    )
    out = await run_agent_process([exe], timeout=10)
    assert out.returncode == 3
    assert len(out.stderr_tail) == STDERR_TAIL_BYTES
    assert out.stderr_tail.endswith("the real reason\n")
    message = out.failure("fake")
    assert message.startswith("fake exited with status 3; stderr: ")
    assert message.endswith("the real reason")


async def test_timeout_kills_the_whole_group_even_children_ignoring_sigterm(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    exe = script(
        tmp_path,
        f"(trap '' TERM; sleep 300) &\necho $! > {pids}\ntrap '' TERM\necho started\nsleep 300\n",
    )
    with trio.fail_after(60):  # the agent sleeps 300 s: only the timeout ends it sooner
        # 3 s: the script's shells must have started and written their pids by then, on a
        # loaded machine too.
        out = await run_agent_process([exe], timeout=3.0, grace=0.3)
    assert out.timed_out
    assert out.lines == ["started"]
    assert out.returncode == -9
    assert "did not finish within 3 s" in out.failure("fake")
    assert await wait_dead(int(pids.read_text()))


async def test_a_run_that_keeps_talking_goes_on_past_its_stall_limit(tmp_path: Path) -> None:
    """`stall` stops a silent run, not a slow one: a transfer that prints its progress runs
    as long as it moves (up to `timeout`)."""
    exe = script(
        tmp_path, 'for i in $(seq 30); do echo "moving $i" >&2; sleep 0.1; done\necho done\n'
    )
    with trio.fail_after(60):
        out = await run_agent_process([exe], timeout=60, stall=2.0)
    assert (out.timed_out, out.stalled, out.returncode) == (False, False, 0)
    assert out.lines == ["done"]
    assert out.duration > 2.0  # longer than the stall limit: it talked all along
    assert out.failure("fake") == ""


async def test_a_silent_run_is_stopped_after_its_stall_limit_with_its_group(
    tmp_path: Path,
) -> None:
    pids = tmp_path / "pids"
    exe = script(
        tmp_path, f"(trap '' TERM; sleep 300) &\necho $! > {pids}\necho started >&2\nsleep 300\n"
    )
    with trio.fail_after(60):  # only the stall limit ends it before 300 s
        out = await run_agent_process([exe], timeout=3600, stall=1.0, grace=0.3)
    assert out.stalled
    assert out.timed_out
    assert out.duration < 60
    assert out.failure("fake") == (
        "fake printed nothing for 1 s (stuck) and was killed; stderr: started"
    )
    assert await wait_dead(int(pids.read_text()))


async def test_leader_exit_kills_leftover_children_holding_stdout(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    exe = script(tmp_path, f"sleep 300 &\necho $! > {pids}\necho bye\nexit 0\n")
    with trio.fail_after(60):  # far below the run's timeout and the child's 300 s
        out = await run_agent_process([exe], timeout=600)
    assert out.lines == ["bye"]
    assert out.returncode == 0
    assert await wait_dead(int(pids.read_text()))


async def test_cancellation_kills_the_group_then_propagates(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    exe = script(tmp_path, f"(trap '' TERM; sleep 300) &\necho $$ $! > {pids}\nsleep 300\n")
    cancelled = False
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:

            async def run() -> None:
                nonlocal cancelled
                try:
                    await run_agent_process([exe], timeout=60, grace=0.3)
                except trio.Cancelled:
                    cancelled = True
                    raise

            nursery.start_soon(run)
            leader, child = map(int, (await wait_for_file(pids)).split())
            scope.cancel()
    assert cancelled
    assert not alive(leader)  # the leader is reaped before Cancelled propagates
    assert await wait_dead(child)
    assert group_members(leader) == []


async def test_missing_binary_is_a_runner_error(tmp_path: Path) -> None:
    with pytest.raises(RunnerError, match="cannot start"):
        await run_agent_process([str(tmp_path / "nope")], timeout=5)


async def test_missing_working_directory_is_named(tmp_path: Path) -> None:
    exe = script(tmp_path, "exit 0\n")
    with pytest.raises(RunnerError, match=r"working directory .*gone is missing"):
        await run_agent_process([exe], cwd=tmp_path / "gone", timeout=5)


async def test_env_and_cwd_reach_the_child(tmp_path: Path) -> None:
    exe = script(tmp_path, 'echo "$OX_SESSION_RECORDING $NESTED_AGENT $PWD"\n')
    base = {"PATH": os.defpath, "NESTED_AGENT": "1"}
    assert agent_env(base=base)["NESTED_AGENT"] == "1"  # core strips nothing of its own
    env = agent_env({"EXTRA": "1"}, remove=("NESTED_AGENT",), base=base)
    assert env["EXTRA"] == "1"
    assert "NESTED_AGENT" not in env
    out = await run_agent_process([exe], env=env, cwd=tmp_path, timeout=10)
    assert out.lines == [f"disabled  {tmp_path}"]


def test_probe_answers(tmp_path: Path) -> None:
    exe = script(tmp_path, "echo out; echo err >&2; exit 1\n")
    result = probe([exe])
    assert (result.returncode, result.stdout, result.stderr) == (1, "out\n", "err\n")
    assert result.answered


def test_probe_that_hangs_is_killed_in_time(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    exe = script(tmp_path, f"(trap '' TERM; sleep 300) &\necho $$ $! > {pids}\nsleep 300\n")
    start = time.monotonic()
    result = probe([exe], timeout=3.0)  # time for the shells to write their pids, even loaded
    assert time.monotonic() - start < 60  # the probe sleeps 300 s: only the timeout ends it
    assert not result.answered
    assert "did not answer within 3 s" in result.error
    leader, child = map(int, pids.read_text().split())
    assert not alive(leader)
    assert trio.run(wait_dead, child)


def test_a_probe_keeps_only_the_start_of_what_it_prints(tmp_path: Path) -> None:
    exe = script(
        tmp_path, "head -c 10000000 /dev/zero | tr '\\0' o; head -c 3000000 /dev/zero >&2\n"
    )
    result = probe([exe], timeout=60)
    assert result.returncode == 0
    assert result.stdout == "o" * PROBE_OUTPUT_BYTES
    assert result.stderr == "\0" * PROBE_OUTPUT_BYTES


def test_a_probe_printing_without_end_does_not_fill_memory(tmp_path: Path) -> None:
    # Read whole, 3 s of `cat /dev/zero` is gigabytes. Measured in a process of its own (its
    # peak is the probe's alone), as its memory's own high-water mark (`VmHWM`): `ru_maxrss`
    # also keeps the peak of the image it was exec'd from, here the test worker's.
    code = (
        "from ox_core.process import probe\n"
        "result = probe(['cat', '/dev/zero'], timeout=3)\n"
        "assert not result.answered, result\n"
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "print(int(status.split()[0]) // 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) < 200  # MiB: the interpreter and its imports, not the output


def test_probe_of_a_missing_binary(tmp_path: Path) -> None:
    result = probe([str(tmp_path / "nope")])
    assert not result.answered
    assert "cannot start" in result.error


def test_find_binary_on_path_then_in_install_dirs(tmp_path: Path) -> None:
    home = tmp_path / "home"
    local = home / ".local" / "bin"
    local.mkdir(parents=True)
    on_path = tmp_path / "path"
    on_path.mkdir()
    env = {"HOME": str(home), "PATH": str(on_path)}
    assert find_binary("agentx", env=env) is None
    script(local, "exit 0\n", name="agentx")
    assert find_binary("agentx", env=env) == str(local / "agentx")
    special = home / ".agentx" / "local"
    special.mkdir(parents=True)
    script(special, "exit 0\n", name="agentx")
    assert find_binary("agentx", env=env, extra_dirs=["~/.agentx/local"]) == str(special / "agentx")
    script(on_path, "exit 0\n", name="agentx")
    assert find_binary("agentx", env=env) == str(on_path / "agentx")
    # A file that is not executable is not a binary.
    (local / "other").write_text("x")
    assert find_binary("other", env=env) is None


def test_python_is_found_like_shutil_which() -> None:
    name = Path(sys.executable).name
    env = {"PATH": str(Path(sys.executable).parent), "HOME": "/nonexistent"}
    assert find_binary(name, env=env) == str(Path(sys.executable).parent / name)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=400))
def test_split_lines_matches_a_line_by_line_model(data: bytes) -> None:
    expected: list[str] = []
    line = bytearray()
    for byte in data:
        if byte == ord("\n"):
            expected.append(line.decode("utf-8", "replace").removesuffix("\r"))
            line.clear()
        else:
            line.append(byte)
    if line:  # a final newline ends the last line, it does not start another
        expected.append(line.decode("utf-8", "replace").removesuffix("\r"))
    assert split_lines(data) == expected


async def test_cli_runner_reports_overflow_even_after_a_clean_exit(tmp_path: Path) -> None:
    # The CLI wrote everything into the pipe and exited 0 before the reader reached the cap.
    class PlainRunner(CliRunner):
        name = "plain"
        executable = "plain"

        def authentication(self, binary: str, env: object) -> tuple[bool, str]:
            return True, ""

        def command(self, binary: str, request: RunRequest) -> list[str]:
            return [binary]

        def parse(self, outcome: ProcessOutcome) -> RunResult:
            return RunResult(output=outcome.text)  # would take anything as the answer

    exe = script(tmp_path, f"head -c {MAX_OUTPUT_BYTES + 10} /dev/zero | tr '\\0' a\nexit 0\n")
    result = await PlainRunner(binary=exe).run(RunRequest("x"))
    assert not result.ok
    assert result.output == ""
    assert "printed more than 8 MiB" in result.error


@pytest.mark.parametrize("terminal", [False, True])
async def test_child_leads_its_own_group_and_a_new_session_only_with_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, terminal: bool
) -> None:
    import ox_core.process as process_module

    monkeypatch.setattr(process_module, "_has_controlling_terminal", lambda: terminal)
    exe = script(tmp_path, "cat /proc/$$/stat\n")
    out = await run_agent_process([exe], timeout=10)
    pid_text, rest = out.lines[0].split(" ", 1)
    fields = rest.rsplit(")", 1)[1].split()  # state ppid pgrp session ...
    pid, pgrp, session = int(pid_text), int(fields[2]), int(fields[3])
    assert pgrp == pid
    assert (session == pid) is terminal
    assert session == (pid if terminal else os.getsid(0))


async def test_a_process_escaping_the_group_cannot_hold_the_run(tmp_path: Path) -> None:
    # It left the group (a new session), cleared its environment (so it carries no run token)
    # and left the tree (its parent exited) but kept stdout open: the run still ends with
    # what was printed, and the pipe it holds names it as the run's: it is killed too.
    pids = tmp_path / "pids"
    exe = script(
        tmp_path,
        f"(env -i setsid sh -c 'echo $$ > {pids}; exec sleep 300' &)\n"
        f"while [ ! -s {pids} ]; do sleep 0.01; done\necho answer\nexit 0\n",
    )
    try:
        with trio.fail_after(60):  # far below the run's timeout and the helper's 300 s
            out = await run_agent_process([exe], timeout=600)
        assert out.lines == ["answer"]
        assert out.returncode == 0
        assert not out.timed_out
        assert await wait_dead(int(pids.read_text()))
    finally:
        with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):
            os.kill(int(pids.read_text()), 9)


async def test_timeout_also_kills_a_descendant_that_left_the_group(tmp_path: Path) -> None:
    # A CLI helper that called setsid() is outside the group, so a group kill misses it; the
    # run finds it through /proc while the leader still lives and kills it as well.
    pids = tmp_path / "pids"
    exe = script(
        tmp_path,
        f"setsid sh -c 'trap \"\" TERM; echo $$ > {pids}; exec sleep 300' &\n"
        f"while [ ! -s {pids} ]; do sleep 0.01; done\necho started\nsleep 300\n",
    )
    try:
        out = await run_agent_process([exe], timeout=3.0, grace=0.3)  # time to start, loaded
        assert out.timed_out
        assert out.lines == ["started"]
        assert await wait_dead(int(pids.read_text()))
    finally:
        with contextlib.suppress(ProcessLookupError, ValueError, FileNotFoundError):
            os.kill(int(pids.read_text()), 9)


async def test_stdout_bytes_are_kept_as_printed_and_stderr_as_long_as_asked(
    tmp_path: Path,
) -> None:
    # NUL-separated names with a CR and a newline in them (what `git ls-files -z` prints).
    exe = script(
        tmp_path,
        "printf 'a\\r\\nb\\0c\\n'\n"
        f"head -c {3 * STDERR_TAIL_BYTES} /dev/zero | tr '\\0' e >&2\nprintf 'END' >&2\n",
    )
    out = await run_agent_process([exe], timeout=10, stderr_limit=4 * STDERR_TAIL_BYTES)
    assert out.stdout == b"a\r\nb\0c\n"
    assert out.lines == ["a", "b\0c"]
    assert len(out.stderr_tail) == 3 * STDERR_TAIL_BYTES + 3
    assert out.stderr_tail.endswith("eEND")
    short = await run_agent_process([exe], timeout=10)
    assert len(short.stderr_tail) == STDERR_TAIL_BYTES


@pytest.mark.parametrize(
    ("line", "event"),
    [
        ('{"type": "result", "n": 1}', {"type": "result", "n": 1}),
        ("prose the CLI printed", None),
        ('{"type": "result", "n": ', None),  # cut short
        ("[1, 2]", None),
        ('{"deep": ' + "[" * 5000 + "]" * 5000 + "}", None),  # beyond the recursion limit
    ],
)
def test_a_cli_output_line_is_an_event_or_a_diagnostic(line: str, event: object) -> None:
    from ox_core.jsonl import json_event

    assert json_event(line) == event

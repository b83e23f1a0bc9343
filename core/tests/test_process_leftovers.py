"""Agent runs leave nothing behind: a CLI that double-forks a daemon or leaves a `setsid` helper
has no process left once the run ends (normal exit, timeout, cancellation), and no zombie.

Real subprocesses throughout; what survived is checked by this module's own scan of `/proc`
(command lines carrying a per-test marker, environments carrying the run's token, zombie
children), not by asking the code under test.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import stat
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trio

from ox_core import process
from ox_core.cli_runner import CliRunner
from ox_core.contracts import RunRequest, RunResult
from ox_core.proc import read_stat
from ox_core.process import ProcessOutcome, probe, run_agent_process
from ox_core.sweep import (
    RUN_TOKEN_VAR,
    RunSweep,
    is_subreaper,
    reap_orphans,
    reap_zombie_children,
    set_subreaper,
)
from ox_core.testing_runners import survivors

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")

# The classic daemon: fork, setsid, fork, the middle process exits; the grandchild (re-parented
# to init or to the subreaper) writes its pid and becomes `sleep <marker>`.
DAEMONIZE = """
import os, sys
pidfile, marker = sys.argv[1], sys.argv[2]
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        with open(pidfile + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(pidfile + ".tmp", pidfile)
        os.execvp("sleep", ["sleep", marker])
    os._exit(0)
os.wait()
"""

HELPERS = {
    "double-fork": '"$PY" "$DIR/daemonize.py" "$DIR/helper" "$MARK"\n',
    "setsid": (
        'setsid sleep "$MARK" & echo $! > "$DIR/helper.tmp"; mv "$DIR/helper.tmp" "$DIR/helper"\n'
    ),
    # It clears its environment (no token): found through the tree while the leader lives.
    "setsid-env-cleared": (
        'env -i setsid sleep "$MARK" & echo $! > "$DIR/helper.tmp"; '
        'mv "$DIR/helper.tmp" "$DIR/helper"\n'
    ),
    # A helper that keeps forking while it is being killed.
    "forker": (
        'setsid sh -c \'echo $$ > "$DIR/helper.tmp"; mv "$DIR/helper.tmp" "$DIR/helper"; '
        'for i in $(seq 400); do sleep "$MARK" & done; wait\' &\n'
    ),
}


class Agent:
    """A fake agent CLI that starts a helper of the given kind, notes its token, answers, then
    exits (`hang=False`) or hangs ignoring SIGTERM, or runs `ending` (shell) instead."""

    def __init__(self, folder: Path, helper: str, *, hang: bool, ending: str = "") -> None:
        self.dir = folder
        self.marker = f"1000.{uuid.uuid4().int % 10**9:09d}"  # `sleep` takes it, /proc shows it
        (folder / "daemonize.py").write_text(DAEMONIZE)
        body = (
            f"DIR={folder}\nPY={sys.executable}\nMARK={self.marker}\nexport DIR MARK\n"
            f'echo "${RUN_TOKEN_VAR}" > "$DIR/token"\n'
            + HELPERS[helper]
            + 'while [ ! -s "$DIR/helper" ]; do sleep 0.01; done\necho answer\n'
            + (ending or ("trap '' TERM\nsleep 300\n" if hang else "exit 0\n"))
        )
        self.path = folder / "agent"
        self.path.write_text("#!/bin/sh\n" + body)
        self.path.chmod(self.path.stat().st_mode | stat.S_IXUSR)

    def helper(self) -> int:
        return int((self.dir / "helper").read_text())

    def token(self) -> str:
        return (self.dir / "token").read_text().strip()


async def nothing_left(agent: Agent) -> list[str]:
    """What survives after a generous deadline (a kill lands asynchronously); [] is success."""
    token = agent.token()
    assert token  # the run's token reached the agent's environment
    with trio.move_on_after(60):
        while survivors(agent.marker, parent=os.getpid(), token=token):  # noqa: ASYNC110 - polling /proc
            await trio.sleep(0.02)
    return survivors(agent.marker, parent=os.getpid(), token=token)


def reap_our_zombies() -> None:
    for pid, st in [(p, read_stat(p)) for p in map(int, filter(str.isdigit, os.listdir("/proc")))]:
        if st is not None and st.ppid == os.getpid() and st.state == "Z":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


@pytest.fixture(params=[True, False], ids=["subreaper", "no-subreaper"])
def subreaper(request: pytest.FixtureRequest) -> Iterator[bool]:
    """This (pytest) process as the subreaper of its descendants, as the daemon is, or not;
    always undone afterwards, and whatever was re-parented to it is reaped."""
    on: bool = request.param
    assert not is_subreaper()
    if on:
        assert set_subreaper(True)
        assert is_subreaper()
    try:
        yield on
    finally:
        set_subreaper(False)
        reap_our_zombies()


async def run_in_mode(agent: Agent, mode: str, **options: Any) -> ProcessOutcome | None:
    """Run `agent` until it exits, times out, or (`cancel`) is cancelled once its helper
    exists; in `cancel` mode, `options` (`stdin`, `grace`) go to `run_agent_process`."""
    if mode == "exit":
        out = await run_agent_process([str(agent.path)], timeout=30)
        assert out.returncode == 0
        return out
    if mode == "timeout":
        # Long enough for the helper (a Python start-up) on a loaded machine: the agent must
        # have answered before the timeout hits it.
        out = await run_agent_process([str(agent.path)], timeout=5, grace=0.2)
        assert out.timed_out
        return out
    with trio.CancelScope() as scope:
        async with trio.open_nursery() as nursery:
            nursery.start_soon(
                functools.partial(
                    run_agent_process, [str(agent.path)], **{"timeout": 60, "grace": 0.2, **options}
                )
            )
            with trio.fail_after(60):
                while not (agent.dir / "helper").exists():  # noqa: ASYNC110
                    await trio.sleep(0.01)
            scope.cancel()
    return None


@pytest.mark.parametrize("mode", ["exit", "timeout", "cancel"])
@pytest.mark.parametrize("helper", ["double-fork", "setsid"])
async def test_no_process_of_the_run_survives_it(
    tmp_path: Path, subreaper: bool, helper: str, mode: str
) -> None:
    agent = Agent(tmp_path, helper, hang=mode != "exit")
    start = time.monotonic()
    out = await run_in_mode(agent, mode)
    if out is not None:
        assert out.lines == ["answer"]
    assert read_stat(agent.helper()) is None or not subreaper  # reaped when it was ours
    assert await nothing_left(agent) == []
    # The helper holding no pipe, the run did not wait for it (it sleeps 1000 s); generous
    # for a loaded machine.
    assert time.monotonic() - start < 120


@pytest.mark.parametrize("mode", ["timeout", "cancel"])
async def test_a_helper_that_cleared_its_environment_is_found_by_the_tree(
    tmp_path: Path, subreaper: bool, mode: str
) -> None:
    agent = Agent(tmp_path, "setsid-env-cleared", hang=True)
    await run_in_mode(agent, mode)
    assert await nothing_left(agent) == []


@pytest.mark.parametrize("mode", ["cancel", "overflow"])
async def test_a_run_stopped_while_its_program_writes_keeps_its_pipes_until_it_is_stopped(
    tmp_path: Path, subreaper: bool, mode: str
) -> None:
    # The program writes without pause when its run is stopped. Had the run's readers closed
    # stdout as they were cancelled, its next write would kill it with SIGPIPE before the run
    # noted its tree, orphaning its helper (own session, no environment) out of reach. Here
    # it notes a SIGPIPE instead of dying of it, and ignores SIGTERM: only SIGKILL ends it.
    flood = (
        """trap 'echo pipe > "$DIR/sigpipe"' PIPE\ntrap '' TERM\n"""
        'LINE=$(printf "%0200d" 0)\nwhile :; do echo "$LINE"; done\n'
    )
    agent = Agent(tmp_path, "setsid-env-cleared", hang=True, ending=flood)
    if mode == "cancel":
        await run_in_mode(agent, "cancel")
    else:
        with trio.fail_after(60):
            out = await run_agent_process(
                [str(agent.path)], timeout=60, grace=0.2, max_output=256 * 1024
            )
        assert out.overflow
    assert not (tmp_path / "sigpipe").exists()  # its pipes were open until it was killed
    assert await nothing_left(agent) == []


@pytest.mark.parametrize("mode", ["timeout", "cancel"])
async def test_a_helper_started_while_the_program_shuts_down_is_killed_too(
    tmp_path: Path, subreaper: bool, mode: str
) -> None:
    # On SIGTERM the program starts one more helper (own session, no environment: only the
    # tree shows it, while the program lives), takes a moment, then exits within the grace.
    shutdown = (
        """trap 'env -i setsid sleep "$MARK" & sleep 0.5; exit 0' TERM\n"""
        "while :; do sleep 0.05; done\n"
    )
    agent = Agent(tmp_path, "setsid", hang=True, ending=shutdown)
    if mode == "timeout":
        out = await run_agent_process([str(agent.path)], timeout=5, grace=30)
        assert out.timed_out
        assert out.returncode == 0  # it exited by itself, within the grace
    else:
        await run_in_mode(agent, "cancel", grace=30)
    assert await nothing_left(agent) == []


async def test_a_run_cancelled_while_it_feeds_stdin_gives_its_program_no_early_eof(
    tmp_path: Path, subreaper: bool
) -> None:
    # The program reads its stdin slowly and would exit at EOF; an EOF handed to it as its
    # run is cancelled would let it exit before the run noted its tree (see above). It
    # ignores SIGTERM and has the whole grace to show whether its stdin ended.
    slow_reader = (
        "trap '' TERM\n"
        'while [ "$(head -c 4096 | wc -c)" -gt 0 ]; do sleep 0.02; done\n'
        'echo eof > "$DIR/eof"\nsleep 300\n'
    )
    agent = Agent(tmp_path, "setsid-env-cleared", hang=True, ending=slow_reader)
    await run_in_mode(agent, "cancel", stdin=b"x" * (4 << 20), grace=2.0)
    assert not (tmp_path / "eof").exists()  # stdin was open until it was killed
    assert await nothing_left(agent) == []


async def test_a_helper_forking_while_it_is_killed_leaves_nothing(
    tmp_path: Path, subreaper: bool
) -> None:
    agent = Agent(tmp_path, "forker", hang=False)
    out = await run_in_mode(agent, "exit")
    assert out is not None
    assert await nothing_left(agent) == []


async def test_a_helper_holding_stdout_is_killed_at_once(
    tmp_path: Path, subreaper: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It left the group and kept stdout open: it is killed when the leader exits, so the run
    # ends without waiting out the drain and with everything printed. The drain is made
    # 10 minutes long so that "at once" needs no tight wall-clock bound on a loaded machine.
    monkeypatch.setattr(process, "DRAIN_AFTER_EXIT", 600.0)
    agent = Agent(tmp_path, "setsid", hang=False)
    helper = (
        'setsid sh -c \'echo late; echo $$ > "$DIR/helper.tmp"; mv "$DIR/helper.tmp" '
        '"$DIR/helper"; exec sleep "$MARK"\' &\n'
    )
    agent.path.write_text(agent.path.read_text().replace(HELPERS["setsid"], helper))
    with trio.fail_after(120):
        out = await run_agent_process([str(agent.path)], timeout=300)
    assert out.lines == ["late", "answer"]
    assert await nothing_left(agent) == []


def test_probe_leaves_nothing_either(tmp_path: Path, subreaper: bool) -> None:
    agent = Agent(tmp_path, "double-fork", hang=False)
    result = probe([str(agent.path)], timeout=10)
    assert result.stdout == "answer\n"
    assert trio.run(nothing_left, agent) == []


class HelperRunner(CliRunner):
    """A runner whose CLI answers and leaves a daemon behind, as a Node CLI may."""

    name = "helper"
    executable = "helper"

    def authentication(self, binary: str, env: object) -> tuple[bool, str]:
        return True, ""

    def command(self, binary: str, request: RunRequest) -> list[str]:
        return [binary]

    def parse(self, outcome: ProcessOutcome) -> RunResult:
        return RunResult(output=outcome.text)


async def test_retried_runs_do_not_accumulate_processes(tmp_path: Path, subreaper: bool) -> None:
    for attempt in range(3):
        folder = tmp_path / f"attempt{attempt}"
        folder.mkdir()
        agent = Agent(folder, "double-fork", hang=False)
        result = await HelperRunner(binary=agent.path).run(RunRequest("x"))
        assert result.output == "answer"
        assert await nothing_left(agent) == []


async def test_the_run_token_is_unique_and_overrides_an_inherited_one(tmp_path: Path) -> None:
    script = tmp_path / "show"
    script.write_text(f'#!/bin/sh\necho "${RUN_TOKEN_VAR}"\n')
    script.chmod(0o755)
    env = {**os.environ, RUN_TOKEN_VAR: "inherited"}
    tokens = {(await run_agent_process([str(script)], env=env, timeout=10)).text for _ in range(3)}
    assert len(tokens) == 3
    assert "inherited" not in tokens
    assert all(len(token) == 32 for token in tokens)


async def test_the_sweep_spares_the_leader_and_older_processes() -> None:
    # The leader is trio's to reap; a process older than the leader is never the run's, even
    # in its group or with its token (here: a child the test started before the "leader").
    sweep = RunSweep()
    older = await trio.lowlevel.open_process(
        ["sleep", "30"], env=sweep.env(dict(os.environ)), process_group=0
    )
    await trio.sleep(0.02)  # start times are in clock ticks
    leader = await trio.lowlevel.open_process(["sleep", "30"], process_group=older.pid)
    try:
        sweep.started(leader.pid)
        assert sweep.kill() == 0
        await sweep.wait()
        assert older.returncode is None
        assert leader.returncode is None
        assert read_stat(older.pid) is not None
    finally:
        for process in (older, leader):
            process.kill()
            await process.wait()


async def test_the_daemon_service_becomes_subreaper_and_reaps_lone_zombies(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "orphan"
    async with trio.open_nursery() as nursery:
        assert await nursery.start(functools.partial(reap_orphans, interval=0.05))
        assert is_subreaper()
        # A detached process nobody sweeps (as `git gc` detaches) dies on its own.
        await trio.run_process(
            ["sh", "-c", f"setsid sh -c 'echo $$ > {pidfile}; exec sleep 0.2' &"]
        )
        with trio.fail_after(60):
            while not pidfile.exists() or not pidfile.read_text():  # noqa: ASYNC110
                await trio.sleep(0.01)
        orphan = int(pidfile.read_text())
        with trio.fail_after(60):
            while read_stat(orphan) is not None:  # noqa: ASYNC110 - until it is reaped
                await trio.sleep(0.02)
        nursery.cancel_scope.cancel()
    assert not is_subreaper()


def test_a_zombie_is_reaped_only_at_its_second_sighting() -> None:
    # Its own parent code (trio, subprocess) gets a whole interval to reap it first.
    set_subreaper(True)
    try:
        child = os.fork()
        if child == 0:
            os._exit(0)
        deadline = time.monotonic() + 60
        while (st := read_stat(child)) is None or st.state != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.005)
        seen = reap_zombie_children(set())
        assert read_stat(child) is not None  # first sighting: left to its parent
        reap_zombie_children(seen)
        assert read_stat(child) is None
        with pytest.raises(ChildProcessError):
            os.waitpid(child, os.WNOHANG)
    finally:
        set_subreaper(False)


async def test_a_run_ending_spares_the_helpers_of_a_concurrent_run(
    tmp_path: Path, subreaper: bool
) -> None:
    # Two runs at once (max_concurrent > 1): the first one's sweep sees the second one's
    # processes (started after its leader) and must leave them alone.
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first = Agent(first_dir, "setsid", hang=False)
    second = Agent(second_dir, "double-fork", hang=True)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(
            functools.partial(run_agent_process, timeout=60, grace=0.2), [str(second.path)]
        )
        with trio.fail_after(60):
            while not (second.dir / "helper").exists():  # noqa: ASYNC110
                await trio.sleep(0.01)
        await run_agent_process([str(first.path)], timeout=30)
        assert await nothing_left(first) == []
        assert survivors(second.marker, parent=os.getpid(), token=second.token())  # still running
        nursery.cancel_scope.cancel()
    assert await nothing_left(second) == []


def with_group_member(agent: Agent) -> Agent:
    """`agent` also leaves a background child in its own group (its pid in `member`)."""
    script = agent.path.read_text().replace(
        "echo answer\n", 'sleep "$MARK" & echo $! > "$DIR/member"\necho answer\n'
    )
    agent.path.write_text(script)
    return agent


def _alive(pid: int) -> bool:
    stat_now = read_stat(pid)
    return stat_now is not None and stat_now.state not in "ZX"


async def test_without_the_sweep_what_the_program_left_on_purpose_outlives_it(
    tmp_path: Path,
) -> None:
    # What git does with `gc --auto`: it detaches a helper (here: a double-forked daemon, and
    # a background child in its group) that must finish its work after git has exited.
    agent = with_group_member(Agent(tmp_path, "double-fork", hang=False))
    out = await run_agent_process([str(agent.path)], timeout=30, sweep=False)
    assert (out.returncode, out.lines) == (0, ["answer"])
    helper, member = agent.helper(), int((tmp_path / "member").read_text())
    try:
        assert _alive(helper)
        assert _alive(member)
        assert not agent.token()  # no run token was handed out: nothing to find it by
    finally:
        for pid in (helper, member):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


async def test_without_the_sweep_a_stopped_run_still_loses_its_whole_group(
    tmp_path: Path,
) -> None:
    agent = with_group_member(Agent(tmp_path, "setsid", hang=True))
    # Long enough for the agent to leave its helper and member on a loaded machine.
    out = await run_agent_process([str(agent.path)], timeout=5, grace=0.2, sweep=False)
    assert out.timed_out
    member = int((tmp_path / "member").read_text())
    with trio.fail_after(60):
        while _alive(member):  # noqa: ASYNC110 - polling /proc
            await trio.sleep(0.02)
    # The helper that left the group is not this run's business without the sweep.
    helper = agent.helper()
    assert _alive(helper)
    os.kill(helper, signal.SIGKILL)


def test_working_in_names_the_commands_whose_working_folder_is_inside(tmp_path: Path) -> None:
    import subprocess

    from ox_core.proc import command_name, working_in
    from ox_core.testing import wait_until

    inside = tmp_path / "repo" / "sub"
    inside.mkdir(parents=True)
    sibling = tmp_path / "repo-other"  # shares the prefix, is not inside
    sibling.mkdir()
    procs = [subprocess.Popen(["sleep", "600"], cwd=where) for where in (inside, sibling, tmp_path)]
    repo, other = str((tmp_path / "repo").resolve()), str(sibling.resolve())
    try:
        # Each is `sleep` once it has run exec (until then a loaded machine shows the fork).
        wait_until("sleep to run", lambda: all(command_name(p.pid) == "sleep" for p in procs))
        assert working_in((repo,), "sleep") == [procs[0].pid]
        assert set(working_in((repo, other), "sleep")) == {procs[0].pid, procs[1].pid}
        assert working_in((repo,), "git") == []  # another command
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert working_in((repo,), "sleep") == []

"""Parts of an agent session through the daemon service (`session_hook`), and the liveness
check that stops a recording whose agent died (real processes, real pids)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import trio
import trio.testing

from ox_core.proc import read_stat
from ox_session_capture.records import MARKER, RAW, read_marker
from ox_session_capture.service import SessionWatchService
from ox_session_capture.testing import append, claude_session_file, claude_text, numbered_user

SID = "f04c7045-b614-40b5-816d-7256c84b37f6"


def sleeper() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])


def hook(file: Path, event: str, pid: int, resumed: bool = False) -> dict[str, object]:
    return {"adapter": "claude-code", "event": event, "agent_session_id": SID,
            "file": str(file), "pid": pid, "resumed": resumed}  # fmt: skip


async def test_a_resume_while_recording_continues_and_follows_the_new_process(
    ledger: Path, home: Path
) -> None:
    src = claude_session_file(home)
    stopped: list[str] = []

    async def on_stop(name: str) -> None:
        stopped.append(name)

    svc = SessionWatchService(ledger, on_stop=on_stop)
    first, second = sleeper(), sleeper()
    try:
        a = await svc.session_hook(hook(src, "start", first.pid))
        b = await svc.session_hook(hook(src, "start", second.pid, resumed=True))
        assert (b["name"], b["continued"]) == (a["name"], True)
        marker = read_marker(Path(str(a["session_dir"])))
        stat = read_stat(second.pid)
        assert stat is not None
        assert (marker.parent_pid, (marker.model_extra or {})["parent_start"]) == (
            second.pid,
            stat.start,
        )
        append(src, numbered_user(1) + claude_text("a1", "the answer"))
        ended = await svc.session_hook(hook(src, "end", second.pid))
        assert ended["name"] == a["name"]
        assert stopped == [a["name"]]
        # A resume after the stop: a new part, from where the first stopped reading.
        append(src, numbered_user(2))
        c = await svc.session_hook(hook(src, "start", second.pid, resumed=True))
        assert c["name"] != a["name"]
        assert c["start_offset"] == src.stat().st_size - len(numbered_user(2))
        assert (await svc.session_hook(hook(src, "end", 0)))["name"] == c["name"]
        raw = (Path(str(c["session_dir"])) / RAW).read_text()
        assert json.loads(raw.splitlines()[0])["_meta"]["previous_part"] == a["name"]
        assert "the answer" not in raw
        assert (await svc.session_hook(hook(src, "end", 0)))["name"] is None  # nothing records
    finally:
        for p in (first, second):
            p.kill()
            p.wait()


async def test_a_recording_whose_agent_died_is_stopped_at_the_next_check(
    ledger: Path, home: Path, nursery: trio.Nursery
) -> None:
    stopped: list[str] = []
    done = trio.Event()

    async def on_stop(name: str) -> None:
        stopped.append(name)
        done.set()

    svc = SessionWatchService(ledger, on_stop=on_stop, poll_interval=0.02, liveness_interval=0.1)
    await nursery.start(svc.serve)
    agent, other = sleeper(), sleeper()
    try:
        src = claude_session_file(home)
        rec = await svc.session_hook(hook(src, "start", agent.pid))
        keep = await svc.session_hook(
            {
                **hook(claude_session_file(home, "other"), "start", other.pid),
                "agent_session_id": "o",
            }
        )
        append(src, numbered_user(1))
        assert await svc.stop_dead() == []
        agent.kill()
        agent.wait()
        with trio.fail_after(30):
            await done.wait()
        assert stopped == [rec["name"]]
        assert not (Path(str(rec["session_dir"])) / MARKER).exists()
        assert (Path(str(keep["session_dir"])) / MARKER).exists()
    finally:
        for p in (agent, other):
            p.kill()
            p.wait()
    await svc.manager.stop_all()


async def test_a_reused_pid_does_not_keep_a_recording_alive(ledger: Path, home: Path) -> None:
    svc = SessionWatchService(ledger)
    agent = sleeper()
    try:
        rec = await svc.session_hook(hook(claude_session_file(home), "start", agent.pid))

        def other_process(m: object) -> None:
            m.parent_start = 1  # type: ignore[attr-defined]  # as if the pid was handed out again

        from ox_session_capture.records import update_marker

        assert await svc.stop_dead() == []  # alive; the check keeps what it read
        update_marker(Path(str(rec["session_dir"])), other_process)
        assert await svc.stop_dead() == [rec["name"]]  # the marker changed: read again
    finally:
        agent.kill()
        agent.wait()


@pytest.mark.parametrize(
    "params",
    [
        {"adapter": "claude-code", "event": "begin", "agent_session_id": "x", "file": "/a"},
        {"adapter": "claude-code", "event": "start", "agent_session_id": "a b", "file": "/a"},
        {"adapter": "claude-code", "event": "start", "agent_session_id": "x", "file": "rel"},
        {
            "adapter": "claude-code",
            "event": "start",
            "agent_session_id": "x",
            "file": "/a",
            "pid": "7",
        },
        {"adapter": "../x", "event": "start", "agent_session_id": "x", "file": "/a"},
        {"adapter": "claude-code", "event": "start", "agent_session_id": "x", "file": "/a", "z": 1},
    ],
)
async def test_hostile_hook_params_are_refused_with_nothing_left(
    ledger: Path, params: dict[str, object]
) -> None:
    from ox_core.errors import OxError

    with pytest.raises(OxError, match="invalid params"):
        await SessionWatchService(ledger).session_hook(params)
    assert not list(await trio.Path(ledger).iterdir())


def test_prior_ids_from_a_marker_are_data(tmp_path: Path) -> None:
    from ox_session_capture.raw_lines import captured_ids

    missing = tmp_path / "raw.jsonl"
    assert captured_ids(missing, ["a", 7, None, "b"]) == {"a", "b"}
    assert captured_ids(missing, "abc") == set()  # not a list: ignored, never its characters
    assert captured_ids(missing, {"a": 1}) == set()


def test_prior_ids_come_from_their_own_file_and_a_hostile_one_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The earlier parts' ids live beside the marker (not copied by each rewrite). A recording
    of an earlier version keeps them in its marker; a link or bad JSON in their place is
    refused, with a warning, and never followed."""
    from ox_session_capture.raw_lines import prior_ids
    from ox_session_capture.records import PRIOR_IDS

    folder = tmp_path / "s"
    folder.mkdir()
    assert prior_ids(folder, ["old"]) == ["old"]  # no file: the marker's (earlier version)
    (folder / PRIOR_IDS).write_text('["a", "b"]')
    assert prior_ids(folder, ["old"]) == ["a", "b"]
    (folder / PRIOR_IDS).write_text("[not json")
    assert prior_ids(folder, None) is None
    (folder / PRIOR_IDS).write_text("[" * 5000 + "]" * 5000)  # beyond the recursion limit
    assert prior_ids(folder, ["old"]) == ["old"]
    secret = tmp_path / "secret.json"
    secret.write_text('["stolen"]')
    (folder / PRIOR_IDS).unlink()
    (folder / PRIOR_IDS).symlink_to(secret)
    assert prior_ids(folder, None) is None
    assert "ids unreadable" in caplog.text


def test_a_resume_follows_the_file_the_session_was_recorded_from(tmp_path: Path) -> None:
    """Gemini's resume hook names a fresh file when the minute in its name changed, then goes
    on writing the conversation into the session's own file: a resume follows the file the
    last part stopped in, from where it stopped, while that file is there."""
    import attrs

    from ox_session_capture.identity import AgentSession, _write_index, next_part

    ledger = tmp_path / "ledger"
    (ledger / ".ox" / "cache" / "agent-sessions").mkdir(parents=True)
    own, fresh = tmp_path / "session-23-39-ab.jsonl", tmp_path / "session-23-40-ab.jsonl"
    own.write_text("{}\n" * 10)
    fresh.write_text("{}\n")
    session = AgentSession("gemini", "ab", parts=("p1",), end=(str(own), 30))
    _write_index(ledger, session)
    assert next_part(ledger, "gemini", "ab", str(fresh), resumed=True)[:3] == (str(own), 30, "p1")
    assert next_part(ledger, "gemini", "ab", str(own), resumed=True)[:2] == (str(own), 30)
    # Not a resume, or the old file gone or replaced by a link: the file the hook names.
    assert next_part(ledger, "gemini", "ab", str(fresh), resumed=False)[:2] == (str(fresh), None)
    own.unlink()
    own.symlink_to(fresh)
    assert next_part(ledger, "gemini", "ab", str(fresh), resumed=True)[:2] == (str(fresh), None)
    _write_index(ledger, attrs.evolve(session, end=None))
    assert next_part(ledger, "gemini", "ab", str(fresh), resumed=True)[:2] == (str(fresh), None)


async def test_an_agent_resumed_just_after_the_liveness_check_keeps_its_recording(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent dies; the check finds it dead; before the stop, the agent's resumed process
    runs its start hook, which continues the live part. The stop must not take that part from
    the running agent (its lines would go unrecorded until the next session)."""
    from ox_session_capture import service

    svc = SessionWatchService(ledger)
    agent, resumed = sleeper(), sleeper()
    src = claude_session_file(home)
    try:
        rec = await svc.session_hook(hook(src, "start", agent.pid))
        agent.kill()
        agent.wait()
        real_alive = service.agent_alive
        hooked: list[dict[str, object]] = []

        def alive_then_resumed(pid: int, start: object) -> bool:
            answer = real_alive(pid, start)
            if pid == agent.pid and not hooked:  # the hook lands right after this check
                hooked.append(
                    trio.from_thread.run(
                        svc.session_hook, hook(src, "start", resumed.pid, resumed=True)
                    )
                )
            return answer

        monkeypatch.setattr(service, "agent_alive", alive_then_resumed)
        assert await svc.stop_dead() == []
        assert (hooked[0]["name"], hooked[0]["continued"]) == (rec["name"], True)
        marker = read_marker(Path(str(rec["session_dir"])))
        assert (marker.parent_pid, marker.stopped_at) == (resumed.pid, None)
        resumed.kill()
        resumed.wait()
        assert await svc.stop_dead() == [rec["name"]]  # dead for real now: stopped
    finally:
        for p in (agent, resumed):
            p.kill()
            p.wait()


async def test_a_home_reached_through_a_link_goes_on_where_the_last_part_stopped(
    ledger: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`$HOME` a link (`/home/dev` -> `/data/dev`): the hooks name the session file through
    it, the records name the file it resolves to. A new part of the session must still start
    where the last one stopped, not at the file's end (the lines between were lost)."""
    real = tmp_path / "data-home"
    real.mkdir()
    link = tmp_path / "home"
    link.symlink_to(real)
    monkeypatch.setenv("HOME", str(link))
    src = claude_session_file(link)
    svc = SessionWatchService(ledger)
    agent = sleeper()
    try:
        a = await svc.session_hook(hook(src, "start", agent.pid))
        append(src, numbered_user(1))
        assert (await svc.session_hook(hook(src, "end", agent.pid)))["name"] == a["name"]
        stopped_at = src.stat().st_size
        append(src, numbered_user(2))  # written while nothing recorded the session
        b = await svc.session_hook(hook(src, "start", agent.pid))
        assert b["name"] != a["name"]
        assert b["start_offset"] == stopped_at
    finally:
        agent.kill()
        agent.wait()


async def test_hooks_naming_the_agent_by_its_alias_end_and_resume_its_parts(
    ledger: Path, home: Path
) -> None:
    """`ox-core hook claude SessionEnd` (the name users type, as `hooks install` takes it)
    must stop the part its `SessionStart` began, and a resume then starts the next part
    where that one stopped: the parts are the agent session's, whatever name the hook used."""
    src = claude_session_file(home)
    svc = SessionWatchService(ledger)

    def aliased(event: str) -> dict[str, object]:
        return {**hook(src, event, 0, resumed=event == "start"), "adapter": "claude"}

    a = await svc.session_hook(aliased("start"))
    append(src, numbered_user(1))
    ended = await svc.session_hook(aliased("end"))
    assert (ended["name"], ended["entry_count"]) == (a["name"], 1)
    assert not (Path(str(a["session_dir"])) / MARKER).exists()
    append(src, numbered_user(2))
    b = await svc.session_hook(aliased("start"))
    assert b["name"] != a["name"]
    assert b["start_offset"] == len(numbered_user(1))
    assert (await svc.session_hook(hook(src, "end", 0)))["name"] == b["name"]


def test_a_stop_reads_its_raw_file_once_and_indexes_its_ids(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stop runs under the ledger's creation lock, which every other session's hook waits
    on: the ids the part holds come from its tail (which read the raw file to resume), not
    from one more read of a file that may be 100 MB."""
    from ox_session_capture import identity, raw_lines
    from ox_session_capture import tail as tail_module
    from ox_session_capture.parts import begin_part
    from ox_session_capture.recording import stop_recording

    src = claude_session_file(home)
    rec = begin_part(ledger, "claude-code", SID, str(src), pid=0, home=home)
    append(src, numbered_user(1) + claude_text("a1", "the answer") + numbered_user(2))
    reads: list[Path] = []
    real = raw_lines.captured_ids

    def counted(raw: Path, *args: object, **kwargs: object) -> set[str]:
        reads.append(raw)
        return real(raw, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(identity, "captured_ids", counted)
    monkeypatch.setattr(tail_module, "captured_ids", counted)
    stop_recording(rec.session_dir, home=home)
    # Once, by the catch-up before the stop (outside the creation lock): the stop goes on with
    # that tail, and the index takes its ids (a second and a third read were made for them).
    assert reads == [rec.session_dir / RAW]
    written = {
        json.loads(line)["source_id"]
        for line in (rec.session_dir / RAW).read_text().splitlines()
        if '"source_id"' in line
    }
    assert len(written) == 3
    assert written <= identity.read_index(ledger, "claude-code", SID).source_ids
    # The next part is told them, so it captures none of them again.
    _, _, previous, prior = identity.next_part(ledger, "claude-code", SID, str(src), resumed=True)
    assert previous == rec.session_dir.name
    assert written <= prior

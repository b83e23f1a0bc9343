"""One ledger folder per recording, ever: the same-minute repro of two recordings of one agent
session, and a stateful property over start / resume / stop / publish sequences, published
with the real `Ledger.publish` (git commit and push to a bare remote)."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import trio
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ox_core.testing import TempLedger, make_ledger
from ox_handler_session_finalize.export import upload_files
from ox_handler_session_finalize.ledger import Ledger
from ox_handler_session_finalize.sync import sync_ledger
from ox_session_capture.identity import live_part
from ox_session_capture.parts import begin_part
from ox_session_capture.raw_lines import captured_ids
from ox_session_capture.recording import create_recording, stop_recording
from ox_session_capture.records import RAW, ledger_cache_sessions
from ox_session_capture.testing import append, claude_session_file, claude_text, claude_user

NOW = datetime(2026, 11, 24, 10, 30, 5, tzinfo=UTC)  # every recording in one minute
ADAPTER = "claude-code"


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout


def publish(ledger: Path, folder: Path) -> None:
    """What finalization does last (commit the folder's files, drop the cache copy), then what
    the sync service does next (fetch, integrate, push)."""
    files = upload_files(folder)

    async def commit_and_sync() -> None:
        led = Ledger(ledger)
        await led.publish(folder.name, files)
        await sync_ledger(led)

    trio.run(commit_and_sync)
    shutil.rmtree(folder)


def head_raw(ledger: Path, name: str) -> str:
    return git(ledger, "show", f"HEAD:sessions/{name}/{RAW}")


def test_two_recordings_in_one_minute_both_survive_in_head(tmp_path: Path) -> None:
    """`session start` twice on one file in the same minute, each stopped and published: the
    second takes a name of its own, so HEAD holds both parts."""
    team = make_ledger(tmp_path / "ledger")
    home = tmp_path / "home"
    src = claude_session_file(home)
    append(src, claude_user("u1", "the first question") + claude_text("a1", "first answer"))
    first = create_recording(team.path, ADAPTER, src, pid=1, now=NOW, home=home,
                             username="dev")  # fmt: skip
    append(src, claude_user("u2", "the second question") + claude_text("a2", "second answer"))
    stop_recording(first.session_dir)
    publish(team.path, first.session_dir)
    append(src, claude_user("u3", "the third question") + claude_text("a3", "third answer"))
    second = create_recording(team.path, ADAPTER, src, pid=1, now=NOW, home=home,
                              username="dev")  # fmt: skip
    append(src, claude_user("u4", "the fourth question"))
    stop_recording(second.session_dir)
    assert second.name == f"{first.name}-2"
    publish(team.path, second.session_dir)
    assert "second answer" in head_raw(team.path, first.name)
    assert "fourth question" in head_raw(team.path, second.name)
    assert "second answer" not in head_raw(team.path, second.name)
    remote = git(team.remote, "ls-tree", "--name-only", "main", "sessions/").split()
    assert sorted(remote) == sorted([f"sessions/{first.name}", f"sessions/{second.name}"])


def test_a_name_taken_only_on_the_remote_is_not_reused(tmp_path: Path) -> None:
    """The same user published from another clone; this clone fetched but did not merge:
    the name check reads the remote-tracking branch too."""
    team = make_ledger(tmp_path / "ledger")
    home = tmp_path / "home"
    src = claude_session_file(home)
    other = TempLedger(team.path, team.remote).clone_remote(tmp_path / "other")
    append(src, claude_user("u1", "asked on the other machine") + claude_text("a1", "answer"))
    there = create_recording(other, ADAPTER, src, pid=1, now=NOW, home=home, username="dev")
    stop_recording(there.session_dir)
    publish(other, there.session_dir)
    git(team.path, "fetch", "origin")
    here = create_recording(team.path, ADAPTER, src, pid=1, now=NOW, home=home, username="dev")
    assert here.name == f"{there.name}-2"


def line(uid: str) -> bytes:
    return claude_user(uid, f"message {uid}")


@settings(
    max_examples=8,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
class PartsMachine(RuleBasedStateMachine):
    """Two agent sessions written, started, resumed, stopped and published in any order within
    one minute: no published folder is ever overwritten with less than it held, no name is
    used twice, and no message is recorded twice across the parts of an agent session."""

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(self.__class__.tmp_root) / uuid.uuid4().hex[:8]  # type: ignore[attr-defined]
        self.team = make_ledger(self.tmp / "ledger")
        self.home = self.tmp / "home"
        self.sids = [str(uuid.uuid4()), str(uuid.uuid4())]
        self.files = [claude_session_file(self.home, sid) for sid in self.sids]
        self.names: list[str] = []  # every recording created, in order
        self.stopped: dict[str, int] = {}  # stopped, unpublished part → its agent session
        self.published: dict[str, str] = {}  # name → the raw.jsonl it was published with
        self.ids: dict[int, list[str]] = {0: [], 1: []}  # recorded message ids per session

    @rule(k=st.integers(0, 1), n=st.integers(1, 3))
    def write(self, k: int, n: int) -> None:
        for _ in range(n):
            append(self.files[k], line(str(uuid.uuid4())))

    @rule(k=st.integers(0, 1), resumed=st.booleans())
    def start(self, k: int, resumed: bool) -> None:
        live = live_part(self.team.path, ADAPTER, self.sids[k])
        path = str(self.files[k].resolve())
        rec = begin_part(self.team.path, ADAPTER, self.sids[k], path, pid=1, resumed=resumed,
                         home=self.home, now=NOW)  # fmt: skip
        if live is not None:
            assert (rec.name, rec.continued) == (live, True)
        else:
            assert rec.name not in self.names
            self.names.append(rec.name)

    @rule(k=st.integers(0, 1))
    def stop(self, k: int) -> None:
        live = live_part(self.team.path, ADAPTER, self.sids[k])
        if live is None:
            return
        folder = ledger_cache_sessions(self.team.path) / live
        stop_recording(folder)
        ids = sorted(captured_ids(folder / RAW))
        self.ids[k] += ids
        self.stopped[live] = k

    @precondition(lambda self: self.stopped)
    @rule(data=st.data())
    def publish(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.stopped)))
        del self.stopped[name]
        folder = ledger_cache_sessions(self.team.path) / name
        raw = (folder / RAW).read_text()
        assert name not in self.published  # never a second publish into one folder
        publish(self.team.path, folder)
        self.published[name] = raw

    @invariant()
    def published_folders_keep_what_they_held(self) -> None:
        for name, raw in self.published.items():
            assert head_raw(self.team.path, name) == raw

    @invariant()
    def no_message_twice(self) -> None:
        for ids in self.ids.values():
            assert len(ids) == len(set(ids))

    def teardown(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.mark.slow
def test_parts_state_machine(tmp_path: Path) -> None:
    PartsMachine.tmp_root = str(tmp_path)  # type: ignore[attr-defined]
    PartsMachine.TestCase().runTest()

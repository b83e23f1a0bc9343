"""End to end: the ledger's trust boundary (issue 11, findings 1, 3, 5 and 6).

A real `ox-core serve` process, real git with a bare remote, the CLI as a subprocess. Each test
is an attack from the issue (or the next one after it): after the fix it is impossible, and
the attempt gets a clear error while everything else goes on.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ox_core.testing import remote_objects_text, wait_until

if TYPE_CHECKING:
    from conftest import OxWorld

SECRET = "PRIVATE-3f9c1e-never-leaves-this-machine"
SESSION_ID = "f04c7045-b614-40b5-816d-7256c84b37f6"


def claude_line(uid: str, text: str) -> str:
    """A claude-code `user` line (what the adapter turns into an entry)."""
    return json.dumps(
        {
            "type": "user",
            "message": {"role": "user", "content": text},
            "uuid": uid,
            "timestamp": "2026-11-24T00:38:26.778Z",
            "sessionId": SESSION_ID,
        }
    )


def raw_lines(text: str) -> str:
    """A raw.jsonl: ox's header and two entries."""
    header = {"_meta": {"schema_version": "1", "agent_id": "t1", "agent_type": "claude-code"}}
    entries = [
        {"ts": "2026-11-24T00:38:26Z", "type": "user", "content": text},
        {"ts": "2026-11-24T00:38:30Z", "type": "assistant", "content": "Done, see the diff."},
    ]
    return "".join(json.dumps(x) + "\n" for x in (header, *entries))


def private_files(home: Path) -> dict[Path, str]:
    """A victim's private files, each holding the secret (one also shaped as a raw entry)."""
    files = {
        home / ".bash_history": f"mysql -u root -p{SECRET}\n",
        home / "private.jsonl": raw_lines(f"my password is {SECRET}"),
        home / "private-session" / "raw.jsonl": raw_lines(f"the key is {SECRET}"),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return files


def failures(daemon: Any) -> list[dict[str, Any]]:
    recent = daemon.call("status")["agent_work"]["recent"]
    return [r for r in recent if r["status"] == "failed"]


# ------------------------------------------------------------------ finding 1


def test_a_teammates_links_never_publish_the_victims_files(world: OxWorld) -> None:
    """A teammate pushes session folders whose files are links into the victim's home (and a
    folder that is a link, and a recording marker naming the victim's agent file); the
    victim pulls and runs the daemon: nothing private reaches the remote, the linked session
    fails with a clear error, and the private files are untouched."""
    private = private_files(world.home)
    agent_file = world.home / ".claude" / "projects" / "-home-dev-p" / f"{SESSION_ID}.jsonl"
    agent_file.parent.mkdir(parents=True)
    agent_file.write_text(claude_line("11111111-1111-4111-8111-111111111111", SECRET) + "\n")

    teammate = world.fresh_clone("teammate")
    sessions = teammate / "sessions"
    linked = sessions / "2026-11-24T00-38-mallory-link1"
    linked.mkdir(parents=True)
    (linked / "raw.jsonl").write_text(raw_lines("Fix the flaky test in the parser."))
    (linked / "notes.md").symlink_to(world.home / ".bash_history")
    raw_link = sessions / "2026-11-24T00-38-mallory-link2"
    raw_link.mkdir()
    (raw_link / "raw.jsonl").symlink_to(world.home / "private.jsonl")
    (sessions / "2026-11-24T00-38-mallory-link3").symlink_to(world.home / "private-session")
    marker = sessions / "2026-11-24T00-38-mallory-marker"
    marker.mkdir()
    (marker / "raw.jsonl").write_text(raw_lines("hello")[:200].split("\n")[0] + "\n")
    (marker / ".recording.json").write_text(
        json.dumps(
            {
                "agent_id": "t1",
                "adapter_name": "claude-code",
                "session_file": str(agent_file),
                "parent_pid": 1,
                "started_at": "2020-01-01T00:00:00Z",
                "stopped_at": "2020-01-01T00:10:00Z",
                "watch_mode": "tail",
            }
        )
    )
    world.git(teammate, "add", "-A")
    world.git(teammate, "commit", "-q", "-m", "sessions from mallory")
    world.git(teammate, "push", "-q", "origin", "HEAD:main")
    world.git(world.ledger, "pull", "-q", "origin", "main")
    assert (world.ledger / "sessions" / linked.name / "notes.md").is_symlink()

    daemon = world.serve()
    daemon.call("force_detect")
    failed = wait_until("the linked session to fail", lambda: failures(daemon))
    assert linked.name in failed[0]["target"]
    assert "symbolic link" in failed[0]["error"]
    assert "notes.md" in failed[0]["error"]
    # Only that session was ever taken up: the others were never read.
    recent = daemon.call("status")["agent_work"]["recent"]
    assert {r["target"] for r in recent} == {failed[0]["target"]}
    assert world.claude.prompts == []  # refused before any agent run
    assert daemon.stop() == 0

    assert SECRET not in remote_objects_text(world.remote)
    assert SECRET not in "".join(world.claude.prompts)
    for path, text in private.items():
        assert path.read_text() == text
    assert world.git(world.ledger, "status", "--porcelain") == ""
    log = daemon.log.read_text()
    assert "committed recording marker" in log
    assert "Traceback" not in log


def test_a_linked_cache_folder_is_never_scanned(world: OxWorld) -> None:
    """`.ox/cache` committed as a link to a folder of the victim's (`.gitignore` says
    `.ox/cache/`, which a link does not match): ox's sync refuses to bring it in; pulled by
    hand while the daemon runs, recordings are refused with a clear error, and nothing in the
    linked folder is published or deleted. (A daemon starting on such a ledger refuses to
    start.)"""
    private = private_files(world.home)
    target = world.home / "private-cache"
    (target / "sessions" / "2026-11-24T00-38-dev-a1").mkdir(parents=True)
    raw = target / "sessions" / "2026-11-24T00-38-dev-a1" / "raw.jsonl"
    raw.write_text(raw_lines(f"secret {SECRET}"))
    teammate = world.fresh_clone("teammate")
    (teammate / ".ox").mkdir(exist_ok=True)
    (teammate / ".ox" / "cache").symlink_to(target)
    world.git(teammate, "add", "-A")
    world.git(teammate, "commit", "-q", "-m", "cache")
    world.git(teammate, "push", "-q", "origin", "HEAD:main")

    daemon = world.serve()
    shutil.rmtree(world.ledger / ".ox" / "cache", ignore_errors=True)

    # ox's own sync never brings a commit into its cache in: it pauses, naming the path.
    synced = world.cli("sync", check=False)
    assert synced.returncode != 0
    assert "the remote holds .ox/cache" in synced.stdout
    assert not (world.ledger / ".ox" / "cache").is_symlink()

    def pulled() -> bool:
        # The person pulls it by hand; the daemon's paused sync fetches again meanwhile, and
        # a pull that meets its ref lock fails (git exits 128): the person tries again.
        with contextlib.suppress(subprocess.CalledProcessError):
            world.git(world.ledger, "pull", "-q", "--ff-only", "origin", "main")
        return (world.ledger / ".ox" / "cache").is_symlink()

    wait_until("the teammate's link to arrive", pulled)
    agent_file = world.home / ".claude" / "projects" / "-home-dev-p" / f"{SESSION_ID}.jsonl"
    agent_file.parent.mkdir(parents=True)
    agent_file.touch()
    daemon.call("force_detect")
    started = world.cli(
        "session", "start", "--adapter", "claude-code", "--file", str(agent_file), "--pid",
        str(os.getpid()), check=False,
    )  # fmt: skip
    assert started.returncode != 0
    assert "symbolic link" in started.stderr
    assert len(started.stderr.strip().splitlines()) == 1
    daemon.call("force_detect")
    assert daemon.call("status")["agent_work"]["recent"] == []
    assert daemon.stop() == 0
    assert raw.read_text() == raw_lines(f"secret {SECRET}")
    assert sorted(p.name for p in (target / "sessions").iterdir()) == ["2026-11-24T00-38-dev-a1"]
    assert SECRET not in remote_objects_text(world.remote)
    for path, text in private.items():
        assert path.read_text() == text


# ------------------------------------------------------------------ finding 3


def test_enqueue_payloads_cannot_publish_delete_or_commit_elsewhere(world: OxWorld) -> None:
    project = world.home / "project"
    (project / "src").mkdir(parents=True)
    (project / "raw.jsonl").write_text(raw_lines(f"project notes {SECRET}"))
    (project / "summary.md").write_text(f"# {SECRET}\n")
    (project / "src" / "main.py").write_text("print('hi')\n")
    victim = world.home / "victim"
    victim.mkdir()
    (victim / "raw.jsonl").write_text(raw_lines(f"victim {SECRET}"))
    other = world.home / "other-repo"
    subprocess.run(["git", "init", "-q", "-b", "main", str(other)], check=True)
    world.git(other, "commit", "-q", "--allow-empty", "-m", "init")
    other_head = world.git(other, "rev-parse", "HEAD")
    cache = world.ledger / ".ox" / "cache" / "sessions"
    cache.mkdir(parents=True)
    real = cache / "2026-11-24T00-38-dev-a1"
    real.mkdir()
    (real / "raw.jsonl").write_text(raw_lines("an ordinary session"))

    daemon = world.serve()
    attacks = [
        ({"path": str(project), "name": "typo", "kind": "upload-only", "place": "ledger-cache"},
         "path"),
        ({"path": str(project), "name": "typo", "kind": "upload-only"}, "place"),
        ({"path": str(cache / "../../../../victim"), "name": "../../victim",
          "kind": "upload-only", "place": "ledger-cache"}, "name"),
        ({"path": str(cache / ".."), "name": "..", "kind": "full", "place": "ledger-cache"},
         "name"),
        ({"path": str(cache / "."), "name": ".", "kind": "full", "place": "ledger-cache"},
         "name"),
        ({"path": str(real), "name": real.name, "kind": "upload-only", "place": "ledger-cache",
          "ledger": str(other)}, "ledger"),
        ({"path": str(project / "x"), "name": real.name, "kind": "upload-only",
          "place": "ledger-cache"}, "path"),
        ({"path": str(real), "name": real.name, "kind": "upload-only", "place": "ledger-cache",
          "extra": 1}, "extra"),
    ]  # fmt: skip
    for payload, word in attacks:
        result = world.cli(
            "enqueue", "session-finalize", "--payload", json.dumps(payload), check=False
        )
        assert result.returncode != 0, payload
        error = result.stderr.strip()
        assert len(error.splitlines()) == 1, error
        assert "invalid session-finalize payload" in error, error
        assert word in error, error

    # Only the real session (found by detection) was ever worked on.
    recent = daemon.call("status")["agent_work"]["recent"]
    assert {r["target"] for r in recent} <= {f"session-finalize:{real.name}"}
    assert daemon.stop() == 0
    left = sorted(p.name for p in project.rglob("*"))
    assert left == ["main.py", "raw.jsonl", "src", "summary.md"]
    assert (victim / "raw.jsonl").exists()
    assert world.git(other, "rev-parse", "HEAD") == other_head
    assert world.git(other, "status", "--porcelain") == ""
    assert SECRET not in remote_objects_text(world.remote)


def test_a_valid_enqueue_payload_is_still_accepted(world: OxWorld) -> None:
    daemon = world.serve()
    folder = world.ledger / ".ox" / "cache" / "sessions" / "2026-11-24T00-38-dev-a1"
    payload = {"path": str(folder), "name": folder.name, "kind": "full", "place": "ledger-cache"}
    for extra in ({}, {"ledger": str(world.ledger)}):  # naming the daemon's own ledger is fine
        result = world.cli(
            "enqueue", "session-finalize", "--payload", json.dumps({**payload, **extra}), "--json"
        )
        assert "queued" in json.loads(result.stdout)
    wait_until(
        "the item to end",
        lambda: daemon.call("status")["agent_work"]["stats"]["successes"] >= 1,
    )
    assert failures(daemon) == []  # a session that is gone is nothing to do, not an error
    assert daemon.stop() == 0


# ------------------------------------------------------------------ findings 5 and 6


def agent_file(world: OxWorld, name: str = SESSION_ID) -> Path:
    path = world.home / ".claude" / "projects" / "-home-dev-demo-project" / f"{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def session_start(world: OxWorld, path: Path, pid: int, *, check: bool = True) -> Any:
    return world.cli(
        "session", "start", "--adapter", "claude-code", "--file", str(path), "--pid", str(pid),
        "--json", check=check,
    )  # fmt: skip


def raw_entries(raw: Path) -> list[dict[str, Any]]:
    found = []
    for line in raw.read_text().splitlines():
        record = json.loads(line)
        if "_meta" not in record and record.get("type") != "footer":
            found.append(record)
    return found


def test_an_out_of_range_pid_is_refused_and_capture_goes_on(world: OxWorld) -> None:
    daemon = world.serve()
    bad = agent_file(world, "11111111-2222-4333-8444-555555555555")
    bad.touch()
    for pid in ("99999999999", "-5", str(2**63)):
        result = world.cli(
            "session", "start", "--adapter", "claude-code", "--file", str(bad), "--pid", pid,
            check=False,
        )  # fmt: skip
        assert result.returncode != 0
        assert "pid" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    cache = world.ledger / ".ox" / "cache" / "sessions"
    assert not cache.exists() or list(cache.iterdir()) == []  # refused: nothing left behind
    good = agent_file(world)
    good.touch()
    reply = json.loads(session_start(world, good, os.getpid()).stdout)
    assert reply["watching"] is True
    with good.open("a") as out:
        out.write(claude_line("11111111-1111-4111-8111-111111111111", "still recording") + "\n")
    raw = Path(reply["session_dir"]) / "raw.jsonl"
    wait_until("the entry captured", lambda: raw_entries(raw))
    assert raw_entries(raw)[0]["content"] == "still recording"
    assert daemon.stop() == 0


def test_a_fifo_session_file_is_refused_at_once_and_sigterm_still_stops(world: OxWorld) -> None:
    daemon = world.serve()
    fifo = agent_file(world)
    os.mkfifo(fifo)
    result = session_start(world, fifo, os.getpid(), check=False)
    assert result.returncode != 0
    # Refused for what it is: a daemon blocked opening it would have left the call to time
    # out, with another message.
    assert "FIFO" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    cache = world.ledger / ".ox" / "cache" / "sessions"
    assert not cache.exists() or list(cache.iterdir()) == []
    assert daemon.call("status")["daemon"]["ready"]
    assert daemon.stop() == 0  # by SIGTERM (a daemon that does not end is killed: -9)


def test_a_watched_file_swapped_for_a_link_is_not_followed(world: OxWorld) -> None:
    secret_file = world.home / "secret.jsonl"
    secret_file.write_text(
        claude_line("99999999-9999-4999-8999-999999999999", f"password {SECRET}") + "\n"
    )
    daemon = world.serve()
    watched = agent_file(world)
    watched.write_text("")
    reply = json.loads(session_start(world, watched, os.getpid()).stdout)
    raw = Path(reply["session_dir"]) / "raw.jsonl"
    with watched.open("a") as out:
        out.write(claude_line("11111111-1111-4111-8111-111111111111", "first") + "\n")
    wait_until("the first entry", lambda: raw_entries(raw))
    # The agent's file is replaced by a link to a private file outside the agent's folders.
    link = watched.with_suffix(".tmp")
    link.symlink_to(secret_file)
    os.replace(link, watched)
    wait_until(
        "the watcher to refuse the link",
        lambda: "is a symbolic link; refused" in daemon.log.read_text(),
    )
    assert [e["content"] for e in raw_entries(raw)] == ["first"]
    stopped = world.cli("session", "stop", reply["name"])  # its drain refuses the link too
    assert "stopped" in stopped.stdout
    wait_until(
        "the finalization", lambda: daemon.call("status")["agent_work"]["stats"]["successes"]
    )
    assert daemon.stop() == 0
    assert SECRET not in remote_objects_text(world.remote)
    assert SECRET not in "".join(world.claude.prompts)


def test_a_cache_that_is_a_file_is_a_clear_error(world: OxWorld) -> None:
    """`.ox/cache` is a file: `session start` answers one clear line, the daemon runs on."""
    daemon = world.serve()
    cache = world.ledger / ".ox" / "cache"
    # The running daemon may make the folder again between a removal and a write (seen once
    # under a double CI run): it is moved aside and the file renamed into its place, again
    # until the rename finds no folder there.
    staged = cache.with_name("cache.staged")
    staged.write_text("not a folder\n")

    def swapped() -> bool:
        if cache.is_dir():
            with contextlib.suppress(FileNotFoundError):
                cache.rename(cache.with_name(f"cache.aside-{os.urandom(4).hex()}"))
        try:
            staged.rename(cache)
        except IsADirectoryError:
            return False
        return True

    wait_until("the cache made a file", swapped)
    for aside in cache.parent.glob("cache.aside-*"):
        shutil.rmtree(aside, ignore_errors=True)
    path = agent_file(world)
    path.touch()
    result = session_start(world, path, os.getpid(), check=False)
    assert result.returncode != 0
    assert "not a folder" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert daemon.call("status")["daemon"]["ready"]
    assert daemon.stop() == 0

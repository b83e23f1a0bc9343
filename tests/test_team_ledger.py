"""A ledger shared by a team, end to end: real `ox-core serve` processes with their own HOMEs
and clones of one bare remote, the real CLI, real git.

- A new ledger with no git identity anywhere: `doctor` fails with the fix before anything is
  recorded; with an identity, the first start commits the `.gitignore` lines, once.
- Several daemons finalizing at the same time: every session lands exactly once and every
  clone converges to the remote (the full eight-daemon run is `benchmarks/team.py`).
"""

from __future__ import annotations

from pathlib import Path

from ox_core.testing import wait_until
from ox_handler_session_finalize.testing import (
    Member,
    bare_remote,
    finished_session,
    member,
    run,
)
from ox_session_capture import records

IGNORE_COMMIT = "ox: ignore its cache (.ox/cache/)"


def log_of(repo: Path, *args: str) -> str:
    """The commit messages of `repo` ("" while it has no commit)."""
    try:
        return run(["git", "-C", str(repo), "log", "--format=%B", *args])
    except AssertionError:
        return ""


def ready(m: Member) -> bool:
    status = m.status()
    return bool(status and status["daemon"]["ready"])


def states(team: list[Member]) -> str:
    """Each member's sync state, work counters and log tail, for a failure message."""
    out = []
    for m in team:
        status = m.status() or {}
        work = status.get("agent_work", {})
        services = status.get("daemon", {}).get("services")
        out.append(
            f"{m.home.name}: sync={work.get('ledger_sync')} stats={work.get('stats')} "
            f"services={services}"
        )
    return "; ".join(out)


def test_new_ledger_without_identity_then_the_first_start(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path / "team.git", seeded=False)
    ann = member(tmp_path, remote, "ann", identity=False, interval=3600)
    try:
        doctor = ann.cli("doctor")
        assert doctor.returncode == 1, doctor.stdout
        out = " ".join(doctor.stdout.split())
        assert "git identity: git has no identity" in out
        assert "git config --global user.email you@example.com" in out
        assert "[handlers.session-finalize]" in out
        assert not (ann.ledger / "sessions").exists()
        assert not (ann.ledger / ".ox").exists()  # nothing recorded, nothing created

        ann.git("config", "--global", "user.name", "Ann")
        ann.git("config", "--global", "user.email", "ann@example.invalid")
        assert ann.cli("doctor").returncode == 0
        for _ in range(2):
            ann.serve()
            wait_until("the daemon", lambda: ready(ann))
            wait_until("the push", lambda: IGNORE_COMMIT in log_of(remote))
            assert ann.stop() == 0
        assert log_of(ann.ledger).count(IGNORE_COMMIT) == 1
        assert log_of(remote).count(IGNORE_COMMIT) == 1
        assert ann.git("status", "--porcelain") == ""
        assert run(["git", "-C", str(remote), "show", "HEAD:.gitignore"]) == ".ox/cache/\n"
    finally:
        ann.stop()


def test_daemons_of_a_team_publish_everything_once_and_converge(tmp_path: Path) -> None:
    remote = bare_remote(tmp_path / "team.git")
    team = [member(tmp_path, remote, f"dev{i}", interval=2) for i in range(3)]
    names: list[str] = []

    def add_sessions(m: Member, first: int, count: int) -> None:
        for n in range(first, first + count):
            name = f"2026-11-25T10-{n:02d}-{m.home.name}-a{n}"
            finished_session(records.ledger_cache_sessions(m.ledger), name)
            names.append(name)

    try:
        for m in team:
            records.ledger_cache_sessions(m.ledger).mkdir(parents=True)
            add_sessions(m, 0, 2)
        for m in team:
            m.serve()
        for m in team:
            wait_until("the daemons", lambda m=m: ready(m))  # type: ignore[misc]
        for m in team:  # more while the others push
            add_sessions(m, 2, 2)
            m.call("force_detect")
        on_remote = lambda: run(  # noqa: E731
            ["git", "-C", str(remote), "ls-tree", "--name-only", "HEAD", "sessions/"]
        ).split()
        try:
            wait_until(
                "all sessions on the remote", lambda: len(on_remote()) == len(names), timeout=180
            )
        except AssertionError as exc:  # say where each daemon stands
            raise AssertionError(f"{exc}; on the remote: {on_remote()}; {states(team)}") from exc
        assert sorted(on_remote()) == sorted(f"sessions/{n}" for n in names)
        head = run(["git", "-C", str(remote), "rev-parse", "HEAD"])
        for m in team:
            wait_until(f"{m.home.name} to converge", lambda m=m: m.git("rev-parse", "HEAD") == head)
            assert m.git("status", "--porcelain") == ""
            assert not any(records.ledger_cache_sessions(m.ledger).iterdir())
            status = m.status()
            assert status is not None
            sync = status["agent_work"]["ledger_sync"]
            assert (sync["remote"], sync["paused"]) == ("origin", "")
            assert status["agent_work"]["stats"]["failures"] == 0
        history = log_of(remote)
        for name in names:
            assert history.count(f"finalize session {name}\n") == 1, name
        assert run(["git", "-C", str(remote), "rev-list", "--merges", "HEAD"]) == ""
    finally:
        for m in team:
            m.stop()

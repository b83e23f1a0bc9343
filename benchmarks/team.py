"""Benchmark: a team of daemons on one remote, against one plain git loop pushing as much.

    uv run python benchmarks/team.py [--members 8] [--sessions 25] [--interval 10]

Eight teammates (each a HOME with its own git identity, a clone of one bare remote, a real
`ox-core serve` with `[sync] interval`), each finalizing 25 sessions while the others push: in
five rounds, every daemon gets five finished sessions and is told to detect them. Measured:

- all sessions land exactly once (one `finalize session <name>` on the remote each), no daemon
  reports a failed item, and no cache copy is left;
- the wall time from the first round to every clone at the remote's head;
- how long convergence took after the last session was committed (the bar: two periods);
- baseline: one clone, a plain git loop (copy, add, commit, push) for the same 200 sessions.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import _stdlib_queue  # noqa: F401 - before trio: see that module

from ox_core.testing import wait_until
from ox_handler_session_finalize.testing import (
    GIT_SAFE_ENV,
    Member,
    bare_remote,
    finished_session,
    member,
    plain_git_publish,
    run,
)
from ox_session_capture import records

ROUNDS = 5


def head(repo: Path) -> str:
    return run(["git", "-C", str(repo), "rev-parse", "HEAD"]).strip()


def on_remote(remote: Path) -> list[str]:
    out = run(["git", "-C", str(remote), "ls-tree", "--name-only", "HEAD", "sessions/"])
    return out.split()


def baseline(root: Path, total: int) -> float:
    remote = bare_remote(root / "base.git")
    clone = root / "base"
    env = {
        **os.environ,
        **GIT_SAFE_ENV,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@example.invalid",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@example.invalid",
    }
    run(["git", "clone", "-q", str(remote), str(clone)], env=env)
    source = root / "base-cache"
    names = [f"2026-11-25T10-00-base-a{i:04d}" for i in range(total)]
    for name in names:
        finished_session(source, name)
    started = time.perf_counter()
    plain_git_publish(clone, source, names, env)
    return time.perf_counter() - started


def team_run(root: Path, members: int, sessions: int, interval: float) -> dict[str, float]:
    remote = bare_remote(root / "team.git")
    team = [member(root, remote, f"dev{i}", interval=interval) for i in range(members)]
    names: list[str] = []
    per_round = max(1, sessions // ROUNDS)
    try:
        for m in team:
            records.ledger_cache_sessions(m.ledger).mkdir(parents=True)
            m.serve()
        for m in team:
            wait_until("the daemons", lambda m=m: bool((s := m.status()) and s["daemon"]["ready"]))
        started = time.perf_counter()
        done = {m.home.name: 0 for m in team}
        while any(n < sessions for n in done.values()):
            for m in team:
                count = min(per_round, sessions - done[m.home.name])
                for n in range(done[m.home.name], done[m.home.name] + count):
                    name = f"2026-11-25T10-{n % 60:02d}-{m.home.name}-a{n:04d}"
                    finished_session(records.ledger_cache_sessions(m.ledger), name)
                    names.append(name)
                done[m.home.name] += count
                m.call("force_detect")

        def cached() -> int:
            return sum(len(list(records.ledger_cache_sessions(m.ledger).iterdir())) for m in team)

        wait_until("every session committed", lambda: cached() == 0, 1800)
        last_commit = time.perf_counter()
        wait_until(
            "every session on the remote", lambda: len(on_remote(remote)) == len(names), 1800
        )
        tip = head(remote)
        for m in team:
            wait_until("convergence", lambda m=m: head(m.ledger) == tip, 1800)
        converged = time.perf_counter()
        history = run(["git", "-C", str(remote), "log", "--format=%B"])
        once = all(history.count(f"finalize session {n}\n") == 1 for n in names)
        failures = sum(int(_failures(m)) for m in team)
        clean = all(m.git("status", "--porcelain") == "" for m in team)
        return {
            "wall": converged - started,
            "after_last": converged - last_commit,
            "once": float(once and len(on_remote(remote)) == len(names)),
            "failures": float(failures),
            "clean": float(clean),
            "total": float(len(names)),
        }
    finally:
        for m in team:
            m.stop()


def _failures(m: Member) -> int:
    status = m.status() or {}
    work = status.get("agent_work") or {}
    return int((work.get("stats") or {}).get("failures", 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--sessions", type=int, default=25)
    parser.add_argument("--interval", type=float, default=10.0)
    args = parser.parse_args()
    total = args.members * args.sessions
    with tempfile.TemporaryDirectory(prefix="ox-bench-team-") as tmp:
        result = team_run(Path(tmp), args.members, args.sessions, args.interval)
    with tempfile.TemporaryDirectory(prefix="ox-bench-team-") as tmp:
        base = baseline(Path(tmp), total)
    print(f"{args.members} daemons x {args.sessions} sessions, [sync] interval {args.interval:g} s")
    print(f"{'':40} {'seconds':>8} {'ratio':>6}")
    print(f"{'one plain git loop, same commits':40} {base:8.2f} {1.0:6.2f}")
    wall = result["wall"]
    print(f"{'team: first round to all converged':40} {wall:8.2f} {wall / base:6.2f}")
    print(f"{'convergence after the last commit':40} {result['after_last']:8.2f}")
    landed = "yes" if result["once"] else "NO"
    print(f"all {int(result['total'])} sessions exactly once on the remote: {landed}")
    print(f"failed items reported by the daemons: {int(result['failures'])}")
    print(f"clones clean and at the remote's head: {'yes' if result['clean'] else 'NO'}")
    ok = (
        result["once"]
        and not result["failures"]
        and result["clean"]
        and result["after_last"] <= 2 * args.interval
    )
    print("within the bar (converged within two periods, nothing lost):", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

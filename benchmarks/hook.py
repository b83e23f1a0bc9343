"""How fast an agent hook and `status --json` answer, as whole cold processes, against
`python -c pass` and a raw standard-library socket client that sends the same request, all
measured in the same run, interleaved (each round runs every command once, so a machine whose
load drifts weighs on all of them alike).

- `ox-core status --json` against the raw client asking `status`;
- `ox-core hook claude-code SessionStart` of a new agent session (the daemon creates a
  recording and starts watching it), then `... SessionEnd` of it (the daemon stops it and
  queues its finalization), against the raw client sending the same `session_hook` requests
  for another session; so each round leaves no live recording behind;
- without a daemon: `status --json` (the error path) and `hook SessionStart` (it records in
  its own process).

The raw client imports socket and json, connects, sends one line and reads one: the floor
any Python client pays. Also checks that with a daemon answering neither trio, pydantic,
pydantic-settings nor asyncio is imported. Target: within 2× the raw client (median).

Run: uv run python benchmarks/hook.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from startup import timed  # same folder: the benchmarks run as scripts from here

PY = sys.executable
OX = str(Path(PY).parent / "ox-core")
HEAVY = ("trio", "pydantic", "pydantic_settings", "asyncio")

RAW_CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\\n")
data = b""
while not data.endswith(b"\\n"):
    data += s.recv(65536)
json.loads(data)
"""


def run(
    args: list[str], env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(args, env=env, input=stdin, capture_output=True, check=False)


def p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def payload(home: Path, sid: str) -> bytes:
    path = home / ".claude" / "projects" / "-bench" / f"{sid}.jsonl"
    return json.dumps(
        {"session_id": sid, "transcript_path": str(path), "source": "startup"}
    ).encode()


def hook(env: dict[str, str], home: Path, event: str, sid: str | None = None) -> None:
    result = run([OX, "hook", "claude-code", event], env, payload(home, sid or str(uuid.uuid4())))
    assert result.returncode == 0, result.stderr


def hook_params(home: Path, sid: str, event: str) -> dict[str, object]:
    path = home / ".claude" / "projects" / "-bench" / f"{sid}.jsonl"
    return {"adapter": "claude-code", "event": event, "agent_session_id": sid,
            "file": str(path), "pid": os.getpid(), "resumed": False}  # fmt: skip


def raw(env: dict[str, str], sock: str, method: str, params: object = None) -> None:
    line = json.dumps({"method": method, "params": params or {}, "id": 1})
    result = run([PY, "-c", RAW_CLIENT, sock, line], env)
    assert result.returncode == 0, result.stderr


def rounds(env: dict[str, str], home: Path, sock: str, runs: int) -> dict[str, list[float]]:
    """Every command once a round, `runs` rounds."""
    times: dict[str, list[float]] = {}

    def clock(name: str, fn: Callable[..., object], *args: object) -> None:
        start = time.perf_counter()
        fn(*args)
        times.setdefault(name, []).append(time.perf_counter() - start)

    for _ in range(runs):
        ours, theirs = str(uuid.uuid4()), str(uuid.uuid4())
        clock("pass", run, [PY, "-c", "pass"], env)
        clock("raw status", raw, env, sock, "status")
        clock("status", run, [OX, "status", "--json"], env)
        clock("raw start", raw, env, sock, "session_hook", hook_params(home, theirs, "start"))
        clock("start", hook, env, home, "SessionStart", ours)
        clock("raw end", raw, env, sock, "session_hook", hook_params(home, theirs, "end"))
        clock("end", hook, env, home, "SessionEnd", ours)
    return times


def imported(args: list[str], env: dict[str, str], stdin: bytes = b"") -> list[str]:
    """The heavy modules a command imports (from `-X importtime`)."""
    out = run([PY, "-X", "importtime", *args], env, stdin).stderr.decode()
    names = {line.split("|")[-1].strip() for line in out.splitlines() if "|" in line}
    return sorted(n for n in names if n.split(".")[0] in HEAVY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory(prefix="oxhook") as tmp:
        home = Path(tmp)
        (home / ".claude" / "projects" / "-bench").mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(HOME=tmp, XDG_RUNTIME_DIR=tmp)
        code = "from ox_core.settings import load_settings as l; print(l().socket_path())"
        sock = run([PY, "-c", code], env).stdout.decode().strip()

        cold_hook = timed(lambda: hook(env, home, "SessionStart"), max(3, runs // 5))
        cold_status = timed(lambda: run([OX, "status", "--json"], env), max(3, runs // 5))

        proc = subprocess.Popen(
            [OX, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 60
            # Up means the session watcher's methods answer, not only `ping`: a hook sent
            # while the daemon still starts is recorded in the hook's own process (slower).
            ready = json.dumps({"method": "session_hook", "id": 1,
                                "params": hook_params(home, str(uuid.uuid4()), "end")})  # fmt: skip
            while b'"ok": true' not in run(
                [PY, "-c", RAW_CLIENT.replace("json.loads(data)", "print(data.decode())"),
                 sock, ready], env,
            ).stdout.replace(b'"ok":true', b'"ok": true'):  # fmt: skip
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("ox-core serve did not answer")
                time.sleep(0.05)
            t = rounds(env, home, sock, runs)
            heavy_status = imported([OX, "status", "--json"], env)
            heavy_hook = imported(
                [OX, "hook", "claude-code", "SessionStart"], env, payload(home, str(uuid.uuid4()))
            )
        finally:
            proc.terminate()
            proc.wait()

    base = statistics.median(t["pass"])
    rows = [
        ("python -c pass (baseline)", t["pass"], None),
        ("raw client: status", t["raw status"], None),
        ("ox-core status --json (daemon)", t["status"], t["raw status"]),
        ("raw client: session_hook start", t["raw start"], None),
        ("ox-core hook SessionStart (daemon)", t["start"], t["raw start"]),
        ("raw client: session_hook end", t["raw end"], None),
        ("ox-core hook SessionEnd (daemon)", t["end"], t["raw end"]),
        ("ox-core status --json (no daemon)", cold_status, None),
        ("ox-core hook SessionStart (no daemon)", cold_hook, None),
    ]
    print(f"{'what':40} {'p50':>9} {'p99':>9} {'× pass':>8} {'× raw':>7}")
    worst = 0.0
    for name, samples, floor in rows:
        med = statistics.median(samples)
        ratio = med / statistics.median(floor) if floor else None
        worst = max(worst, ratio or 0.0)
        shown = f"{ratio:6.2f}×" if ratio else "      -"
        print(
            f"{name:40} {med * 1000:7.1f}ms {p(samples, 0.99) * 1000:7.1f}ms "
            f"{med / base:7.2f}× {shown}"
        )
    print(f"\nheavy modules imported with a daemon: status {heavy_status or 'none'}, "
          f"hook {heavy_hook or 'none'}")  # fmt: skip
    verdict = "within" if worst <= 2 else "OVER"
    print(f"slowest against the raw client doing the same: {worst:.2f}×: {verdict} 2×")
    print(f"(runs: {runs}; load average now: {', '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()

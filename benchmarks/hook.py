"""How fast an agent hook and `status --json` answer, as whole cold processes, against
`python -c pass` and a raw standard-library socket client measured in the same run.

- `ox-core hook claude-code SessionStart` (a new agent session each run: the daemon creates a
  recording) and `... SessionEnd` (of a session nobody records), with a daemon running and
  without one (then the hook records in its own process);
- `ox-core status --json` with a daemon, and without one (the error path);
- the raw client: `python -c` that imports socket and json, connects, sends `status` (or
  `ping`, which costs the daemon nothing) and reads the reply: the floor any Python client
  pays. The ratios (× raw) are against the raw `status`.

Also checks that with a daemon answering neither trio, pydantic, pydantic-settings nor asyncio
is imported. Target: the hook and `status --json` within 2× the raw client (median).

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

PY = sys.executable
OX = str(Path(PY).parent / "ox-core")
HEAVY = ("trio", "pydantic", "pydantic_settings", "asyncio")

RAW_CLIENT = """
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"method": "%s", "params": {}, "id": 1}\\n' % sys.argv[2].encode())
data = b""
while not data.endswith(b"\\n"):
    data += s.recv(65536)
json.loads(data)
"""


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


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


def hook(env: dict[str, str], home: Path, event: str) -> None:
    result = run([OX, "hook", "claude-code", event], env, payload(home, str(uuid.uuid4())))
    assert result.returncode == 0, result.stderr


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

        baseline = timed(lambda: run([PY, "-c", "pass"], env), runs)
        cold_hook = timed(lambda: hook(env, home, "SessionStart"), max(3, runs // 5))
        cold_status = timed(lambda: run([OX, "status", "--json"], env), max(3, runs // 5))

        proc = subprocess.Popen(
            [OX, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 60
            while run([PY, "-c", RAW_CLIENT, sock, "status"], env).returncode != 0:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("ox-core serve did not answer")
                time.sleep(0.05)
            raw = timed(lambda: run([PY, "-c", RAW_CLIENT, sock, "status"], env), runs)
            raw_ping = timed(lambda: run([PY, "-c", RAW_CLIENT, sock, "ping"], env), runs)
            status = timed(lambda: run([OX, "status", "--json"], env), runs)
            start = timed(lambda: hook(env, home, "SessionStart"), runs)
            end = timed(lambda: hook(env, home, "SessionEnd"), runs)
            heavy_status = imported([OX, "status", "--json"], env)
            heavy_hook = imported(
                [OX, "hook", "claude-code", "SessionStart"], env, payload(home, str(uuid.uuid4()))
            )
        finally:
            proc.terminate()
            proc.wait()

    base, floor = statistics.median(baseline), statistics.median(raw)
    rows = [
        ("python -c pass (baseline)", baseline),
        ("raw stdlib socket client: status", raw),
        ("raw stdlib socket client: ping", raw_ping),
        ("ox-core status --json (daemon)", status),
        ("ox-core hook SessionStart (daemon)", start),
        ("ox-core hook SessionEnd (daemon)", end),
        ("ox-core status --json (no daemon)", cold_status),
        ("ox-core hook SessionStart (no daemon)", cold_hook),
    ]
    print(f"{'what':40} {'p50':>9} {'p99':>9} {'× pass':>8} {'× raw':>7}")
    for name, samples in rows:
        med = statistics.median(samples)
        print(
            f"{name:40} {med * 1000:7.1f}ms {p(samples, 0.99) * 1000:7.1f}ms "
            f"{med / base:7.2f}× {med / floor:6.2f}×"
        )
    print(f"\nheavy modules imported with a daemon: status {heavy_status or 'none'}, "
          f"hook {heavy_hook or 'none'}")  # fmt: skip
    worst = max(statistics.median(status), statistics.median(start), statistics.median(end))
    verdict = "within" if worst <= 2 * floor else "OVER"
    print(
        f"slowest of status/hook with a daemon: {worst / floor:.2f}× the raw client: {verdict} 2×"
    )
    print(f"(runs: {runs}; load average now: {', '.join(f'{x:.2f}' for x in os.getloadavg())})")


if __name__ == "__main__":
    main()

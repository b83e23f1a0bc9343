"""How fast ox-core starts and answers, against `python -c pass` measured in the same run.

- import of `ox_core.cli` (what every command pays) and `ox-core --help`;
- `ox-core serve` until its socket answers `ping` (a fresh HOME: the default ledger is created
  on the first run only), with the installed plugins;
- `ox-core status --json` as a user runs it (a whole process), and one IPC `status` round trip
  on an open daemon (no process start).

Run: uv run python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PY = sys.executable


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def run(args: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ping(path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(5)
            s.connect(str(path))
            s.sendall(b'{"method": "ping"}\n')
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(4096)
                if not chunk:
                    return False
                data += chunk
        return bool(json.loads(data)["ok"])
    except OSError:
        return False


def socket_path(env: dict[str, str]) -> Path:
    code = "from ox_core.settings import load_settings as l; print(l().socket_path())"
    out = subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def serve_ready(env: dict[str, str], sock: Path) -> tuple[float, subprocess.Popen[bytes]]:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "ox_core.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not ping(sock):
        if proc.poll() is not None:
            raise SystemExit("ox-core serve exited during start")
        time.sleep(0.002)
    return time.perf_counter() - start, proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs

    with tempfile.TemporaryDirectory(prefix="oxbench") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_"))}
        env.update(HOME=tmp, XDG_RUNTIME_DIR=tmp)
        sock = socket_path(env)

        baseline = timed(lambda: run([PY, "-c", "pass"]), runs)
        imports = timed(lambda: run([PY, "-c", "import ox_core.cli"]), runs)
        helps = timed(lambda: run([PY, "-m", "ox_core.cli", "--help"]), runs)

        first, proc = serve_ready(env, sock)  # creates the default ledger
        proc.terminate()
        proc.wait()
        ready: list[float] = []
        for _ in range(runs):
            took, proc = serve_ready(env, sock)
            ready.append(took)
            proc.terminate()
            proc.wait()

        _, proc = serve_ready(env, sock)
        try:
            from ox_core.ipc import call

            call(sock, "status")  # wait until the manager is up
            while call(sock, "status")["agent_work"] is None:
                time.sleep(0.01)
            status_cli = timed(
                lambda: run([PY, "-m", "ox_core.cli", "status", "--json"], env), runs
            )
            status_ipc = timed(lambda: call(sock, "status"), runs * 20)
        finally:
            proc.terminate()
            proc.wait()

    base = statistics.median(baseline)
    rows = [
        ("python -c pass (baseline)", baseline),
        ("import ox_core.cli", imports),
        ("ox-core --help", helps),
        ("serve: socket answers (first run)", [first]),
        ("serve: socket answers", ready),
        ("ox-core status --json (process)", status_cli),
    ]
    print(f"{'what':38} {'median':>9} {'min':>9} {'max':>9} {'× baseline':>11}")
    for name, samples in rows:
        med = statistics.median(samples)
        print(
            f"{name:38} {med * 1000:7.1f}ms {min(samples) * 1000:7.1f}ms "
            f"{max(samples) * 1000:7.1f}ms {med / base:10.1f}×"
        )
    med = statistics.median(status_ipc)
    print(
        f"{'IPC status round trip (open daemon)':38} {med * 1000:7.2f}ms "
        f"{min(status_ipc) * 1000:7.2f}ms {max(status_ipc) * 1000:7.2f}ms {med / base:10.2f}×"
    )
    extra = statistics.median(imports) - base
    print(f"\nimport ox_core.cli costs {extra * 1000:.1f} ms over python -c pass.")
    verdict = "within" if statistics.median(ready) <= 1.0 else "OVER"
    print(f"serve is ready in {statistics.median(ready):.2f} s: {verdict} the 1 s target.")
    print(f"(load average now: {', '.join(f'{x:.2f}' for x in os.getloadavg())}; 2 cores)")


if __name__ == "__main__":
    main()

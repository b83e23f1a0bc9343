"""Benchmark: capture at team scale, the session watcher against two bare copiers.

    uv run python benchmarks/capture.py [--sizes 10,100,500] [--seconds 16] [--min-lines 200]
                                        [--idle 10]
                                        [--capturers inotify,pipeline,stat-poll,ox,daemon]

For each N, N claude-code session files (10 per project folder) are appended one line every
2 s each (phases spread evenly) by writer processes, while one of five capturers follows
them all, each in its own process, in turn in the same run:

- `inotify`: the baseline reader: one inotify watch per folder, on each event read the new
  bytes of the file, append them to a copy, fsync;
- `pipeline`: the same reader storing what a redacting capturer must store at the least:
  each line converted by the claude-code adapter, its texts redacted, the entries serialised
  (`step.py`'s minimal pipeline), then appended and fsynced. It is the floor of CPU per line
  for any capturer that keeps redacted entries, at the same line rate;
- `stat-poll`: the bare poller: `os.stat` of every file every 100 ms, then read, write, fsync;
- `ox`: the session watcher service (`SessionWatchService`, ledger redaction rules) with one
  tail recording per file, resumed at start as after a daemon restart;
- `daemon`: the whole daemon, `ox-core serve` with every installed plugin (finalization's
  scans of the ledger included), run by the CLI's own entry point in the measured process,
  resuming the same recordings.

Measured over the writing window (at least `--min-lines` lines: at N = 10 a window of 16 s
holds 80, and /proc counts CPU in ticks of 10 ms): the capturer's CPU (user + system, all
threads, from /proc) as % of one core; append -> durable latency of every line (from the writer's
timestamp before `write` to the end of the capturer's fsync, for ox the end of the step that
committed the line: raw.jsonl fsynced and the marker advanced) p50 / p99; CPU per captured
line. Then the idle cost: N = max size, no writes, CPU over `--idle` seconds.

Targets (docs: benchmarks/README.md): ox CPU <= 2 x inotify + 10 % of a core, p50 <= 10 ms,
p99 <= 50 ms at every N; idle <= 2 % of a core; <= 0.5 ms of CPU per line (its own verdict:
each row says whether its CPU per line is within, and how many times the pipeline's it is;
the last lines sum both up). A line every 200 ms (N = 10) finds the caches cold: every
capturer pays several times its cost at N = 500 there, the floor included.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _stdlib_queue  # noqa: F401 - before trio: see that module

ROOT = Path(__file__).resolve().parents[1]
PER_FOLDER = 10
PERIOD = 2.0  # seconds between two lines of one file
POLL = 0.1
PER_LINE = 0.5  # ms of CPU per captured line (issue 17)
TICK = os.sysconf("SC_CLK_TCK")

# ---------------------------------------------------------------- roles (child processes)


def line_for(file_no: int, n: int, salt: int = 0) -> bytes:
    """Line `n` of file `file_no`; each capturer's run writes its own (`salt`): ox drops a
    message id it already captured, and it catches up the earlier runs' lines at start."""
    from ox_session_capture.testing import claude_user

    ident = uuid.UUID(int=(salt << 64) + (file_no << 32) + n + 1)
    return claude_user(str(ident), f"file {file_no} line {n}")


def role_writer(cfg: dict[str, Any], out: Path) -> None:
    """Append one line per file every PERIOD s for `seconds`; record (file, end, t)."""
    files = cfg["files"]
    mine = cfg["mine"]
    start = cfg["start"]
    fds = {i: os.open(files[i], os.O_WRONLY | os.O_APPEND) for i in mine}
    sizes = {i: os.fstat(fds[i]).st_size for i in mine}
    count = int(cfg["seconds"] / PERIOD) + 1
    lines = {i: [line_for(i, n, cfg["salt"]) for n in range(count)] for i in mine}
    plan = sorted(
        (start + (i / len(files)) * PERIOD + k * PERIOD, i, k)
        for i in mine
        for k in range(int(cfg["seconds"] / PERIOD))
    )
    stamps = []
    for due, i, k in plan:
        ahead = due - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        data = lines[i][k]
        t = time.monotonic()
        os.write(fds[i], data)
        sizes[i] += len(data)
        stamps.append((i, sizes[i], t))
    out.write_text(json.dumps(stamps))


def _stop_requested(timeout: float) -> bool:
    return bool(select.select([sys.stdin], [], [], timeout)[0])


def _copier(files: list[str], copies: Path) -> tuple[list[int], list[int], list[int]]:
    offsets = [os.stat(f).st_size for f in files]
    srcs = [os.open(f, os.O_RDONLY) for f in files]
    outs = [
        os.open(copies / f"{i}.copy", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        for i in range(len(files))
    ]
    return offsets, srcs, outs


def _copy(
    i: int,
    offsets: list[int],
    srcs: list[int],
    outs: list[int],
    log: list,
    convert: Callable[[bytes], bytes] | None = None,
) -> None:
    size = os.fstat(srcs[i]).st_size
    if size <= offsets[i]:
        return
    data = os.pread(srcs[i], size - offsets[i], offsets[i])
    os.write(outs[i], data if convert is None else convert(data))
    os.fsync(outs[i])
    offsets[i] += len(data)
    log.append((i, offsets[i], time.monotonic()))


def _pipeline() -> Callable[[bytes], bytes]:
    """The least a capturer that stores redacted entries does to new bytes (as `step.py`'s
    minimal pipeline): the claude-code adapter's conversion, `LedgerRedactor.many` over the
    texts, `pydantic_core.to_json` of each entry."""
    import pydantic_core

    from ox_session_capture.adapters import load_adapter
    from ox_session_capture.redact import LedgerRedactor

    adapter, redactor = load_adapter("claude-code"), LedgerRedactor()

    def convert(data: bytes) -> bytes:
        entries = [e for line in data.splitlines() for e in adapter.parse_fields(line)]
        redactor.many([e["content"] for e in entries if e.get("content")])
        return b"\n".join([*map(pydantic_core.to_json, entries), b""])

    return convert


def role_inotify(cfg: dict[str, Any], out: Path) -> None:
    _inotify_copier(cfg, out, None)


def role_pipeline(cfg: dict[str, Any], out: Path) -> None:
    _inotify_copier(cfg, out, _pipeline())


def _inotify_copier(
    cfg: dict[str, Any], out: Path, convert: Callable[[bytes], bytes] | None
) -> None:
    from ox_session_capture.inotify import IN_MODIFY, Inotify

    files = cfg["files"]
    offsets, srcs, outs = _copier(files, Path(cfg["copies"]))
    log: list[tuple[int, int, float]] = []
    by_name: dict[tuple[int, str], int] = {}
    with Inotify.open() as ino:
        wds: dict[str, int] = {}
        for i, f in enumerate(files):
            folder = os.path.dirname(f)
            if folder not in wds:
                wds[folder] = ino.watch_folder(Path(folder))
            by_name[(wds[folder], os.path.basename(f))] = i
        print("ready", flush=True)
        while True:
            ready = select.select([sys.stdin, ino.fd], [], [])[0]
            if sys.stdin in ready:
                break
            for ev in ino.read_now():
                i = by_name.get((ev.wd, ev.name), -1)
                if i >= 0 and ev.mask & IN_MODIFY:
                    _copy(i, offsets, srcs, outs, log, convert)
    out.write_text(json.dumps(log))


def role_poll(cfg: dict[str, Any], out: Path) -> None:
    files = cfg["files"]
    offsets, srcs, outs = _copier(files, Path(cfg["copies"]))
    log: list[tuple[int, int, float]] = []
    print("ready", flush=True)
    next_poll = time.monotonic()
    while not _stop_requested(max(0.0, next_poll - time.monotonic())):
        next_poll += POLL
        for i, f in enumerate(files):
            if os.stat(f).st_size > offsets[i]:
                _copy(i, offsets, srcs, outs, log)
    out.write_text(json.dumps(log))


def log_steps(files: list[str]) -> list[tuple[int, int, float]]:
    """From now on, every capture step that consumed lines adds (file number, offset after
    it, when it ended) to the list returned: the end of a step is when its lines are durable."""
    from ox_session_capture.tail import SourceTail

    index = {f: i for i, f in enumerate(files)}
    log: list[tuple[int, int, float]] = []
    real_step = SourceTail.step

    def step(self: SourceTail) -> Any:
        result = real_step(self)
        if result.consumed:
            log.append((index[str(self.source)], self.offset, time.monotonic()))
        return result

    SourceTail.step = step  # type: ignore[method-assign]
    return log


def role_ox(cfg: dict[str, Any], out: Path) -> None:
    import trio

    from ox_session_capture.service import SessionWatchService

    log = log_steps(cfg["files"])

    async def main() -> None:
        service = SessionWatchService(Path(cfg["ledger"]), home=Path(cfg["home"]))
        async with trio.open_nursery() as nursery:
            await nursery.start(service.serve)
            print("ready", flush=True)
            await trio.to_thread.run_sync(sys.stdin.readline)
            nursery.cancel_scope.cancel()

    trio.run(main)
    out.write_text(json.dumps(log))


def role_daemon(cfg: dict[str, Any], out: Path) -> None:
    """`ox-core serve` as a user starts it (`ox_core.cli.main`), the step timed as in `ox`;
    stopped by SIGTERM, as a service manager stops it."""
    import signal
    import threading

    from ox_core.cli import main as cli_main
    from ox_core.settings import load_settings

    log = log_steps(cfg["files"])
    sock = load_settings().socket_path()

    def control() -> None:
        deadline = time.monotonic() + 120
        while not sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        print("ready" if sock.exists() else "no socket", flush=True)
        sys.stdin.readline()
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=control, daemon=True).start()
    try:
        code = cli_main(["serve"])
    finally:
        out.write_text(json.dumps(log))
    sys.exit(code)


ROLES = {"writer": role_writer, "inotify": role_inotify, "pipeline": role_pipeline,
         "stat-poll": role_poll, "ox": role_ox, "daemon": role_daemon}  # fmt: skip
CAPTURERS = ("inotify", "pipeline", "stat-poll", "ox", "daemon")  # in the order they run
OURS = ("ox", "daemon")  # held to the targets; the others are the baselines

# ---------------------------------------------------------------- the run


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def settle(pid: int, quiet: float = 5.0, limit: float = 120.0) -> None:
    """Until process `pid` used less than `quiet` % of a core over half a second."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        cpu0 = cpu_seconds(pid)
        time.sleep(0.5)
        if 100 * (cpu_seconds(pid) - cpu0) / 0.5 < quiet:
            return


def spawn(role: str, cfg: dict[str, Any], tmp: Path, tag: str) -> tuple[subprocess.Popen, Path]:
    cfg_path, out = tmp / f"{tag}.json", tmp / f"{tag}.out.json"
    cfg_path.write_text(json.dumps(cfg))
    env = {**os.environ, "HOME": cfg.get("home", os.environ.get("HOME", ""))}
    if role == "daemon":  # its own socket, settings and state: nothing of this user's
        env = {k: v for k, v in env.items() if not k.startswith(("OX_", "XDG_"))}
        runtime = tmp / "runtime"
        runtime.mkdir(mode=0o700, exist_ok=True)
        env.update(XDG_RUNTIME_DIR=str(runtime), OX_LEDGER=cfg["ledger"], PATH="/usr/bin:/bin")
    with contextlib.ExitStack() as stack:
        # The daemon's log goes to a file, not into this table.
        log = stack.enter_context(open(tmp / f"{tag}.log", "wb")) if role == "daemon" else None
        proc = subprocess.Popen(
            [sys.executable, __file__, "--role", role, str(cfg_path), str(out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=env,
        )
    return proc, out


def wait_ready(proc: subprocess.Popen) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != b"ready":
        raise SystemExit(f"capturer did not start (exit {proc.wait()})")


def stop(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.write(b"stop\n")
    proc.stdin.close()
    if proc.wait(timeout=120) != 0:
        raise SystemExit(f"capturer failed with {proc.returncode}")


def setup(tmp: Path, n: int) -> dict[str, Any]:
    """N session files and, for ox, one live tail recording of each."""
    from ox_core.testing import make_ledger
    from ox_session_capture.recording import create_recording

    home, ledger = tmp / "home", make_ledger(tmp / "team").path  # a clone with a bare remote
    files = []
    for i in range(n):
        folder = home / ".claude/projects" / f"-home-dev-project-{i // PER_FOLDER}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4()}.jsonl"
        path.write_bytes(line_for(i, 1 << 20))  # a line written before the recording
        files.append(str(path))
        create_recording(ledger, "claude-code", path, pid=os.getpid(), home=home)
    return {"files": files, "home": str(home), "ledger": str(ledger)}


def measure(kind: str, base: dict[str, Any], tmp: Path, seconds: float) -> dict[str, float]:
    """One capturer over one writing window: CPU %, latency p50/p99 (ms), ms CPU per line."""
    copies = tmp / f"copies-{kind}"
    copies.mkdir()
    proc, out = spawn(kind, {**base, "copies": str(copies)}, tmp, kind)
    wait_ready(proc)
    settle(proc.pid)  # start-up work (resuming recordings, catching up) is not measured
    n = len(base["files"])
    writers = max(1, min(2, n // 50))
    start = time.monotonic() + 1.0
    procs = []
    for w in range(writers):
        cfg = {**base, "mine": list(range(w, n, writers)), "start": start, "seconds": seconds,
               "salt": 1 + sorted(ROLES).index(kind)}  # fmt: skip
        procs.append(spawn("writer", cfg, tmp, f"writer-{kind}-{w}"))
    time.sleep(max(0.0, start - time.monotonic()))
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    for p, _ in procs:
        p.stdin.close()  # type: ignore[union-attr]
        if p.wait() != 0:
            raise SystemExit("writer failed")
    cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(1.0)  # the last lines' capture
    stop(proc)
    stamps = [s for _, o in procs for s in json.loads(o.read_text())]
    commits: dict[int, list[tuple[int, float]]] = {}
    for i, offset, t in json.loads(out.read_text()):
        commits.setdefault(i, []).append((offset, t))
    lat, missing = [], 0
    for i, end, t in stamps:
        done = commits.get(i, [])
        k = bisect.bisect_left(done, (end, -1.0))
        if k == len(done):
            missing += 1
        else:
            lat.append((done[k][1] - t) * 1000)
    lat.sort()
    cpu = cpu1 - cpu0
    return {
        "cpu": 100 * cpu / (t1 - t0),
        "p50": lat[len(lat) // 2] if lat else float("nan"),
        "p99": lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan"),
        "per_line": 1000 * cpu / max(1, len(stamps)),
        "lines": len(stamps),
        "missing": missing,
    }


def idle(kind: str, base: dict[str, Any], tmp: Path, seconds: float) -> float:
    copies = tmp / f"idle-{kind}"
    copies.mkdir()
    proc, _ = spawn(kind, {**base, "copies": str(copies)}, tmp, f"idle-{kind}")
    wait_ready(proc)
    time.sleep(2.0)
    cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
    stop(proc)
    return 100 * (cpu1 - cpu0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,500", help="recordings per round")
    parser.add_argument("--seconds", type=float, default=16.0, help="writing window per run")
    parser.add_argument("--min-lines", type=int, default=200, help="lines per window at least")
    parser.add_argument("--idle", type=float, default=10.0, help="idle window (s)")
    parser.add_argument("--capturers", default=",".join(CAPTURERS), help="which capturers to run")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress in a log
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds = [k for k in CAPTURERS if k in args.capturers.split(",")]
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    print(f"{'N':>4} {'capturer':>10} {'CPU %':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'ms CPU/line':>11} {'lines':>6}  verdict")  # fmt: skip
    verdicts, per_line_ok = [], []
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"ox-bench-capture-{n}-"))
        try:
            base = setup(tmp, n)
            seconds = max(args.seconds, args.min_lines * PERIOD / n)
            results = {k: measure(k, base, tmp, seconds) for k in kinds}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        limit = 2 * results["inotify"]["cpu"] + 10 if "inotify" in results else float("nan")
        for kind, r in results.items():
            verdict = ""
            if kind in OURS:
                ok = r["cpu"] <= limit and r["p50"] <= 10 and r["p99"] <= 50 and not r["missing"]
                verdicts.append(ok)
                cheap = r["per_line"] <= PER_LINE
                per_line_ok.append(cheap)
                verdict = (f"{'ok' if ok else 'MISSED'} (CPU limit {limit:.1f} %); per line "
                           f"{'ok' if cheap else 'MISSED'}")  # fmt: skip
                if "pipeline" in results:
                    floor = results["pipeline"]["per_line"]
                    verdict += f" ({r['per_line'] / floor:.2f} x pipeline)"
            if r["missing"]:
                verdict += f" {r['missing']} lines not captured"
            print(f"{n:>4} {kind:>10} {r['cpu']:7.1f} {r['p50']:8.2f} {r['p99']:8.2f} "
                  f"{r['per_line']:11.3f} {r['lines']:>6}  {verdict}")  # fmt: skip
    n = max(sizes)
    tmp = Path(tempfile.mkdtemp(prefix="ox-bench-capture-idle-"))
    try:
        base = setup(tmp, n)
        print(f"\nIdle, {n} recordings, no writes, {args.idle:.0f} s (CPU % of one core):")
        for kind in kinds:
            cpu = idle(kind, base, tmp, args.idle)
            ok = cpu <= 2
            verdicts.append(ok or kind not in OURS)
            goal = f"  {'ok' if ok else 'MISSED'} (goal <= 2 %)" if kind in OURS else ""
            print(f"  {kind:>10} {cpu:6.2f}{goal}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("\nall rounds within the CPU, latency and idle targets" if all(verdicts)
          else "\nsome rounds MISSED the CPU, latency or idle targets")  # fmt: skip
    print(f"CPU per line <= {PER_LINE} ms: {sum(per_line_ok)} of {len(per_line_ok)} rows")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--role":
        ROLES[sys.argv[2]](json.loads(Path(sys.argv[3]).read_text()), Path(sys.argv[4]))
    else:
        main()

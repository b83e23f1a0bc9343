"""Helpers for tests and benchmarks: finished sessions, ready to publish without an agent, and
a team of daemons (`member`: a HOME, a clone of one bare remote, `ox-core serve`).

`finished_session(root, name)` writes a session folder as finalization leaves it before the
commit (raw transcript, summary, exports, meta): detection makes it an *upload-only* item.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ox_session_capture import records, transcript

if TYPE_CHECKING:
    import subprocess

SUMMARY = {
    "title": "Refactor the parser and split out the tokenizer",
    "summary": "The user asked to move the tokenizer into its own module; the agent did "
    "it in two steps and kept the tests passing.",
    "key_actions": ["Moved the tokenizer to tokenizer.py", "Updated imports"],
    "outcome": "success",
    "topics_found": ["refactoring", "parser"],
    "quality_category": "share",
    "quality_score": 0.8,
    "score_reason": "A useful refactoring pattern.",
}


def _stamp(minutes_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()


def plain_git_publish(clone: Path, source: Path, names: list[str], env: dict[str, str]) -> None:
    """The baseline of the publishing benchmarks: per session, copy its files from `source`
    into `clone`'s `sessions/<name>/`, then `git add`, `git commit`, `git push`."""
    import shutil
    import subprocess

    for name in names:
        target = clone / "sessions" / name
        target.mkdir(parents=True)
        for path in (source / name).iterdir():
            if not path.name.startswith("."):
                shutil.copyfile(path, target / path.name)
        for args in (
            ("add", "--", f"sessions/{name}"),
            ("commit", "-q", "-m", f"finalize session {name}"),
            ("push", "-q", "origin", "HEAD:main"),
        ):
            subprocess.run(["git", "-C", str(clone), *args], env=env, check=True)


def raw_lines(name: str, pairs: int = 3) -> list[dict[str, object]]:
    """A raw transcript: ox's header line and `pairs` user/assistant exchanges."""
    lines: list[dict[str, object]] = [
        {
            "_meta": {
                "schema_version": "1",
                "agent_id": "a1",
                "agent_type": "claude-code",
                "session_id": f"ses_{name}",
                "started_at": _stamp(30),
                "username": "dev",
                "model": "claude-sonnet",
            }
        }
    ]
    for i in range(pairs):
        lines.append({"type": "user", "content": f"step {i} of {name}", "ts": _stamp(20 - i)})
        lines.append({"type": "assistant", "content": f"done {i}", "ts": _stamp(19 - i)})
    return lines


def finished_session(root: Path, name: str, pairs: int = 3) -> Path:
    """`root/<name>/` holding a finalized session not yet committed (see the module).

    A new folder is written beside `root` and renamed into it whole: a running daemon's
    detection must never see it half-written (a raw file without its summary is a session
    that still needs the agent, and with no agent installed it would wait for one)."""
    from ox_handler_session_finalize.export import write_artifacts
    from ox_handler_session_finalize.llm_output import parse_summary

    target = root / name
    if target.exists():
        folder = target
    else:
        folder = root.parent / f".staging-{root.name}" / name
        folder.mkdir(parents=True)
    text = "".join(json.dumps(line) + "\n" for line in raw_lines(name, pairs))
    (folder / records.RAW).write_text(text, encoding="utf-8")
    summary = parse_summary(json.dumps(SUMMARY)).summary
    assert summary is not None
    summary.summary_attempts = 1
    raw = transcript.read_raw(folder / records.RAW)
    write_artifacts(folder, name, summary, raw, disposition="upload")
    if folder != target:
        root.mkdir(parents=True, exist_ok=True)
        os.rename(folder, target)
    return target


# ------------------------------------------------------------------ a team of daemons

GIT_SAFE_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_CONFIG_NOSYSTEM": "1"}


def run(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Run a command (test set-up only); its stdout; `AssertionError` with stderr on failure."""
    import subprocess

    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


@dataclass
class Member:
    """One teammate's machine: a HOME with its git config, a clone of the team's remote, the
    environment `ox-core` runs with, and the daemon process once started."""

    home: Path
    ledger: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    def git(self, *args: str) -> str:
        return run(["git", "-C", str(self.ledger), *args], env=self.env)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        import subprocess

        return subprocess.run(
            [sys.executable, "-m", "ox_core.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def serve(self) -> None:
        import subprocess

        log = (self.home / "daemon.log").open("ab")
        with log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ox_core.cli", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def call(self, method: str, params: dict[str, object] | None = None) -> Any:
        """Call the daemon's IPC `method` (its socket from the ledger's lock file); raises
        `OxError` when it does not answer."""
        from ox_core.daemon_lock import read_owner
        from ox_core.errors import OxError
        from ox_core.ipc import call

        socket = read_owner(self.ledger).get("socket")
        if not isinstance(socket, str):
            raise OxError("no daemon yet")
        return call(Path(socket), method, params, timeout=60)

    def status(self) -> dict[str, Any] | None:
        """The daemon's `status`, None when it does not answer (yet)."""
        from ox_core.errors import OxError

        try:
            status: dict[str, Any] = self.call("status")
        except OxError:
            return None
        return status

    def stop(self) -> int:
        from ox_core.testing import stop_process

        return stop_process(self.proc) if self.proc is not None else 0


def bare_remote(path: Path, *, seeded: bool = True) -> Path:
    """A bare repository at `path` (branch main); `seeded`: with one commit holding the
    ledger's `.gitignore`, as a team's ledger starts."""
    env = {**os.environ, **GIT_SAFE_ENV}
    run(["git", "init", "-q", "--bare", "-b", "main", str(path)], env=env)
    if seeded:
        seed = path.with_name(path.name + "-seed")
        run(["git", "clone", "-q", str(path), str(seed)], env=env)
        (seed / ".gitignore").write_text(".ox/cache/\n")
        ident = ["-c", "user.name=seed", "-c", "user.email=seed@example.invalid"]
        run(["git", "-C", str(seed), "add", ".gitignore"], env=env)
        run(["git", "-C", str(seed), *ident, "commit", "-q", "-m", "ledger"], env=env)
        run(["git", "-C", str(seed), "push", "-q", "origin", "HEAD:main"], env=env)
    return path


def member(
    root: Path, remote: Path, name: str, *, identity: bool = True, interval: float = 60
) -> Member:
    """A teammate `name` under `root`: its HOME (git config: an identity unless `identity` is
    False, then git may not guess one), its clone of `remote`, its environment (no agent CLI
    on PATH, `[sync] interval`)."""
    home = root / name
    home.mkdir(parents=True)
    config = "[init]\n\tdefaultBranch = main\n[user]\n\tuseConfigOnly = true\n"
    if identity:
        config += f"\tname = {name}\n\temail = {name}@example.invalid\n"
    (home / ".gitconfig").write_text(config)
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OX_", "XDG_", "GIT_", "EMAIL"))
    }
    env.update(GIT_SAFE_ENV)
    env.update(
        HOME=str(home),
        USER=name,
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CONFIG_HOME=str(home / ".config"),
        PATH="/usr/bin:/bin",
        OX_LEDGER=str(home / "ledger"),
        OX_SYNC__INTERVAL=str(interval),
        OX_LOG_LEVEL="INFO",
    )
    run(["git", "clone", "-q", str(remote), str(home / "ledger")], env=env)
    return Member(home, home / "ledger", env)

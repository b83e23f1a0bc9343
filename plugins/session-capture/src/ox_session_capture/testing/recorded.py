"""The session files recorded from the real CLIs (`scripts/record-sessions`), for tests: find
them, put one where its agent keeps its sessions under a test `$HOME`, and record it into a
ledger through the real tail (the same path a live session takes).

The fixtures live in `plugins/session-capture/tests/data/recorded/<cli>-<version>/
<scenario>.jsonl.gz` (gzipped real files; `RECORDED` when running from the repository).
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

from ox_session_capture.recording import create_recording
from ox_session_capture.records import RAW
from ox_session_capture.recover import catch_up
from ox_session_capture.transcript import RawTranscript, read_raw

RECORDED = Path(__file__).resolve().parents[3] / "tests" / "data" / "recorded"
"""The fixtures folder of the session-capture tests (in a checkout of the repository)."""

ADAPTERS = {"claude": "claude-code", "codex": "codex", "gemini": "gemini"}
# Fake credentials `scripts/record-sessions` puts in a prompt, a tool input and a tool output.
SECRETS = (
    "AKIAZ4M7Q2X9LRT3KPWV",
    "ghp_Q8mZr2Lk5Vn7Wx3Yb9Tc4Hd6Jf1Gs0Pa2Eu8",
    "sk_live_51Hx7Qm2Zp9Lr4Tk8Vn3Wb6Yc1Df5Gh0Jk",
)


@dataclass(frozen=True)
class Fixture:
    """One recorded session file: which CLI at which version wrote it, in which scenario."""

    cli: str
    version: str
    scenario: str
    path: Path

    @property
    def adapter(self) -> str:
        return ADAPTERS[self.cli]

    @property
    def id(self) -> str:
        return f"{self.cli}-{self.version}-{self.scenario}"

    def data(self) -> bytes:
        return gzip.decompress(self.path.read_bytes())


def fixtures(folder: Path = RECORDED) -> list[Fixture]:
    """Every recorded file under `folder`, sorted by CLI, version and scenario."""
    found = []
    for path in sorted(folder.glob("*-*/*.gz")):
        cli, _, version = path.parent.name.partition("-")
        scenario = path.name.split(".", 1)[0]
        found.append(Fixture(cli, version, scenario, path))
    return found


def session_path(home: Path, fixture: Fixture) -> Path:
    """Where the fixture's CLI keeps such a file under `home` (inside the adapter's roots)."""
    name = f"{fixture.scenario}-{fixture.version}"
    if fixture.cli == "claude":
        path = home / ".claude/projects/-tmp-ox-rec-work" / f"{name}.jsonl"
    elif fixture.cli == "codex":
        path = home / ".codex/sessions/2026/12/01" / f"rollout-{name}.jsonl"
    else:
        path = home / ".gemini/tmp/work/chats" / f"session-{name}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def record_fixture(ledger: Path, home: Path, fixture: Fixture, *, start: int = 0) -> Path:
    """Record `fixture` into `ledger` as a live session would be: the first `start` bytes are
    in the file when the recording starts (not captured), the rest is appended, then caught
    up through the tail with the ledger's redaction. Returns the recording's folder."""
    data = fixture.data()
    source = session_path(home, fixture)
    source.write_bytes(data[:start])
    ledger.mkdir(exist_ok=True)
    recording = create_recording(
        ledger, fixture.adapter, source, pid=os.getpid(), home=home, agent_id=fixture.id
    )
    with source.open("ab") as f:
        f.write(data[start:])
    catch_up(recording.session_dir, home=home)
    return recording.session_dir


def transcript(session_dir: Path) -> RawTranscript:
    return read_raw(session_dir / RAW)

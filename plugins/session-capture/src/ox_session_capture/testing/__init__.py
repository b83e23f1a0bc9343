"""Test helpers for session capture and for the plugins built on it (no pytest dependency).

Realistic agent session lines (`claude_user`, `claude_assistant`, `claude_text`,
`numbered_user`), a claude-code session file under a fake `$HOME` (`claude_session_file`),
`append`; and the redaction corpora in `ox_session_capture.testing.corpus`
(`SECRET_SHAPES` here as `(kind, text, secret)` rows) to check that nothing a plugin writes
to the ledger carries a credential.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ox_session_capture.recording import Recording
    from ox_session_capture.tail import SourceTail

CLAUDE_DIR = ".claude/projects/-home-dev-demo-project"


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj) + "\n").encode()


def claude_user(uid: str, text: str | list[dict[str, Any]], **extra: Any) -> bytes:
    """A claude-code `user` line (as the CLI writes it, trimmed of noise)."""
    return _line(
        {
            "parentUuid": None,
            "isSidechain": False,
            "type": "user",
            "message": {"role": "user", "content": text},
            "uuid": uid,
            "timestamp": "2026-11-24T00:38:26.778Z",
            "sessionId": "f04c7045-b614-40b5-816d-7256c84b37f6",
            "version": "2.1.330",
            **extra,
        }
    )


def claude_assistant(uid: str, blocks: list[dict[str, Any]]) -> bytes:
    """A claude-code `assistant` line with the given content blocks."""
    return _line(
        {
            "parentUuid": None,
            "type": "assistant",
            "message": {
                "id": "msg_" + uid[:8],
                "type": "message",
                "role": "assistant",
                "model": "claude-opus-5-5",
                "content": blocks,
            },
            "uuid": uid,
            "timestamp": "2026-11-24T00:38:27.100Z",
            "sessionId": "f04c7045-b614-40b5-816d-7256c84b37f6",
            "version": "2.1.330",
        }
    )


def claude_text(uid: str, text: str) -> bytes:
    return claude_assistant(uid, [{"type": "text", "text": text}])


def numbered_user(n: int) -> bytes:
    """User line number `n` (uuid derived from n, text `message n`): easy to check in order."""
    return claude_user(str(uuid.UUID(int=n + 1)), f"message {n}")


def claude_session_file(home: Path, name: str = "f04c7045-b614-40b5-816d-7256c84b37f6") -> Path:
    folder = home / CLAUDE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    path.touch()
    return path


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def followed(ledger: Path, home: Path, name: str = "a.jsonl") -> tuple[Path, Recording, SourceTail]:
    """A recording of `<claude folder>/<name>` and a `SourceTail` following it that captured
    its first line (`message 1`): (source, `Recording`, `SourceTail`)."""
    import os

    from ox_session_capture.adapters import load_adapter
    from ox_session_capture.recording import create_recording
    from ox_session_capture.tail import SourceTail

    src = home / CLAUDE_DIR / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"")
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home)
    tail = SourceTail(rec.session_dir, load_adapter("claude-code"), src)
    tail.resume()
    append(src, numbered_user(1))
    assert tail.step().entries == 1
    return src, rec, tail


def record_lines(ledger: Path, home: Path, src: Path, adapter: str, lines: list[bytes]) -> Path:
    """Record `lines` of a session file `src` (appended after the recording starts, with
    `adapter`) through a real catch-up; returns the recording's folder."""
    import os

    from ox_session_capture.recording import create_recording
    from ox_session_capture.recover import catch_up

    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"")
    recording = create_recording(ledger, adapter, src, pid=os.getpid(), home=home, agent_id="a")
    with src.open("ab") as f:
        f.writelines(lines)
    catch_up(recording.session_dir, home=home)
    return recording.session_dir


def secret_shapes() -> list[tuple[str, str, str]]:
    """The secrets corpus as `(kind, text, secret)` rows: the `[REDACTED_<kind>]` expected,
    the line as it appears in a transcript, and what must vanish from it."""
    from ox_session_capture.testing.corpus.secrets import SHAPES

    return [(s.kind, s.text, s.secret) for s in SHAPES]

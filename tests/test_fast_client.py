"""With a daemon answering, `ox-core status --json` and an agent hook import neither trio,
pydantic, pydantic-settings nor asyncio (`-X importtime` of the real processes), and answer
what the usual path answers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import OxWorld

HEAVY = ("trio", "pydantic", "pydantic_settings", "asyncio", "attrs", "rich")


def imported(world: OxWorld, *args: str, stdin: bytes = b"") -> tuple[set[str], bytes]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ox_core.cli", *args],
        env=world.env, input=stdin, capture_output=True, timeout=60, check=True,
    )  # fmt: skip
    names = {line.split("|")[-1].strip() for line in result.stderr.decode().splitlines()}
    return {n for n in names if n.split(".")[0] in HEAVY}, result.stdout


def test_status_json_and_a_hook_import_nothing_heavy_when_a_daemon_answers(
    world: OxWorld,
) -> None:
    daemon = world.serve()
    heavy, out = imported(world, "status", "--json")
    assert heavy == set()
    assert json.loads(out)["daemon"]["ready"] is True
    transcript = world.home / ".claude" / "projects" / "-p" / "abc.jsonl"
    transcript.parent.mkdir(parents=True)
    event = {"session_id": "abc", "transcript_path": str(transcript), "source": "startup"}
    heavy, out = imported(world, "hook", "claude-code", "SessionStart",
                          stdin=json.dumps(event).encode())  # fmt: skip
    assert (heavy, out) == (set(), b"")
    (folder,) = (world.ledger / ".ox" / "cache" / "sessions").iterdir()
    assert daemon.call("status")["daemon"]["ready"]
    assert (folder / ".recording.json").exists()  # the daemon made the recording
    heavy, _ = imported(
        world, "hook", "claude-code", "SessionEnd", stdin=json.dumps(event).encode()
    )
    assert heavy == set()
    assert not (folder / ".recording.json").exists()

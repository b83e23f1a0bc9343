"""Starting a part of an agent session from a hook: continue the live part, or create the next
one where `identity.next_part` says, both decided under the ledger's `creation_lock` (two
hooks of one session at once, from any processes, make one part). Blocking (run it in a
thread from trio code)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from ox_session_capture.identity import live_part, next_part, unfinished_parts
from ox_session_capture.liveness import name_agent
from ox_session_capture.recording import (
    PartOf,
    Recording,
    create_recording,
    creation_lock,
    finish_stop,
    resolve_adapter,
)
from ox_session_capture.records import RecordingMarker, ledger_cache_sessions, update_marker


def begin_part(
    ledger: Path,
    adapter: str,
    agent_session_id: str,
    session_file: str,
    *,
    pid: int = 0,
    start: int | None = None,
    resumed: bool = False,
    home: Path | None = None,
    now: datetime | None = None,
) -> Recording:
    """The recording an agent's `SessionStart` goes to: the live part of the agent session
    (now following process `pid`, started at `start` clock ticks, when given), else a new
    part. Raises `RecordingRejected` as `create_recording` does."""
    cache = ledger_cache_sessions(ledger)
    resolve_adapter(adapter)  # an unknown adapter is refused before anything is made
    with creation_lock(ledger):
        live = live_part(ledger, adapter, agent_session_id)
        if live is not None:
            if pid > 0:  # the agent resumed in a new process: follow that one now

                def heartbeat(m: RecordingMarker) -> None:
                    name_agent(m, pid)
                    m.parent_start = start  # type: ignore[attr-defined]  # extra key

                update_marker(cache / live, heartbeat)
            return Recording(live, cache / live, continued=True)
        # A part whose stop did not finish (a full disk) holds neither the lines from its
        # offset on nor where it stopped in the index: finish it first (it raises while the
        # ledger still takes no writes, as a new part would), so the new part starts where it
        # ended and its later catch-up cannot take the new part's lines again.
        for name in unfinished_parts(ledger, adapter, agent_session_id):
            finish_stop(cache / name)
        follow, offset, previous, ids = next_part(ledger, adapter, agent_session_id,
                                                  session_file, resumed=resumed)  # fmt: skip
        return create_recording(
            ledger, adapter, follow, pid=pid, agent_session_id=agent_session_id,
            part=PartOf(offset, previous, ids, start), home=home, now=now, locked=True,
        )  # fmt: skip

"""The events session capture publishes to the other handlers (`HandlerContext.publish`).

`RECORDING_STOPPED` (`session.recording-stopped`): a tail recording was stopped and closed
(`session stop`, IPC `session_watch_stop`): its folder in the ledger cache holds the whole
`raw.jsonl` with its footer and no marker, ready to be finalized. `data`:
`{"name": <session folder name>, "session_dir": <absolute path of the folder>}`.
A handler that finalizes sessions queues that one now instead of waiting for its next scan.
"""

from __future__ import annotations

RECORDING_STOPPED = "session.recording-stopped"

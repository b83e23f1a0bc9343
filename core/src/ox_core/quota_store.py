"""The quota pause kept in the ledger's cache, so a restart does not forget it.

`<ledger>/.ox/cache/quota-pause.json` holds `{"until", "message", "basis", "since"}` (UTC ISO
times). It is written atomically (temp file + rename) and read back defensively: a file that
is unreadable, not JSON, of the wrong shape, a symlink, or whose pause is over is ignored with
a warning (an old pause is removed). `ox-core detect --force` removes it.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import attrs

from ox_core.errors import ConfigError
from ox_core.fs import UnsafePathError, atomic_write, open_regular
from ox_core.ledger_setup import ensure_cache_dir

log = logging.getLogger(__name__)

PAUSE_FILE = Path(".ox") / "cache" / "quota-pause.json"
MAX_FILE_SIZE = 64 * 1024


@attrs.frozen(kw_only=True)
class QuotaPause:
    """A quota pause: agent work waits until `until` (UTC). `message`: what the agent said;
    `basis`: what the length was read from (empty: the agent did not say, 1 h fallback);
    `since`: when the pause began."""

    until: datetime
    message: str
    basis: str = ""
    since: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "until": self.until.isoformat(),
            "message": self.message,
            "basis": self.basis,
            "since": self.since.isoformat(),
        }


def _when(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("a time must be an ISO string")
    when = datetime.fromisoformat(value)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def load(ledger: Path, now: datetime) -> QuotaPause | None:
    """The pause kept for `ledger`, or None (no file, a broken one, or a pause that is over)."""
    path = ledger / PAUSE_FILE
    try:
        fd = open_regular(path)  # never a link, never a FIFO that would block the start
    except FileNotFoundError:
        return None
    except UnsafePathError as exc:
        log.warning("ignoring the kept quota pause: %s", exc)
        return None
    except OSError as exc:
        log.warning("ignoring the kept quota pause %s: %s", path, exc.strerror or exc)
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            raw = f.read(MAX_FILE_SIZE + 1)
        if len(raw) > MAX_FILE_SIZE:
            raise ValueError("the file is too large")
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        pause = QuotaPause(
            until=_when(data.get("until")),
            message=str(data.get("message") or "")[:500],
            basis=str(data.get("basis") or "")[:200],
            since=_when(data.get("since", data.get("until"))),
        )
    except (OSError, ValueError, TypeError, RecursionError) as exc:
        log.warning("ignoring the kept quota pause %s: it is not readable (%s)", path, exc)
        return None
    if pause.until <= now:
        clear(ledger)
        return None
    return pause


def save(ledger: Path, pause: QuotaPause) -> None:
    """Keep `pause` for `ledger` (atomically). A failure is logged: the pause still holds in
    memory, it just would not survive a restart."""
    path = ledger / PAUSE_FILE
    try:
        ensure_cache_dir(ledger)  # never the ledger itself, never through a link
        atomic_write(path, json.dumps(pause.to_json()))  # a link at `path` is replaced
    except (UnsafePathError, ConfigError) as exc:
        log.warning("cannot keep the quota pause: %s", exc)
    except OSError as exc:
        log.warning("cannot keep the quota pause in %s: %s", path, exc.strerror or exc)


def clear(ledger: Path) -> None:
    """Forget the kept pause of `ledger` (nothing to do when there is none)."""
    path = ledger / PAUSE_FILE
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cannot remove the kept quota pause %s: %s", path, exc.strerror or exc)

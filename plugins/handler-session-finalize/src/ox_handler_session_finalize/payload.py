"""The payload of a `session-finalize` work item: how detection makes it, how it is checked.

Everything from a payload is hostile until `FinalizePayload` has validated it; the handler then
turns it into a `_Target` (the ledger and the session folder, checked on disk).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ox_core import WorkItem
from ox_core.errors import OxError
from ox_handler_session_finalize.detect import Found, Kind, Place
from ox_session_capture.confined import SessionName
from ox_session_capture.records import ARTIFACTS

TYPE = "session-finalize"
PRIORITY = 10


class FinalizeError(OxError):
    """A session could not be finalized this time (the agent failed, the folder is unreadable);
    the item is retried and the session is left as it was."""


class FinalizePayload(BaseModel):
    """The payload of a `session-finalize` item, as detection makes it.

    Everything in it is checked before the item is queued (`validate_payload`, also for
    `ox-core enqueue`) and again before it runs: `name` is one session folder name, `path` is
    exactly the folder of `name` in `place` (no link on the way), and the ledger is always
    the daemon's own (`ledger`, when present, must name it).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: SessionName
    path: str = Field(max_length=4096)
    place: Place
    kind: Kind
    missing: tuple[str, ...] = Field(default=(), max_length=len(ARTIFACTS))
    ledger: str | None = Field(default=None, max_length=4096)

    @field_validator("missing")
    @classmethod
    def _missing(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(ARTIFACTS)
        if unknown:
            raise ValueError(f"unknown artifacts {sorted(unknown)}")
        return value


@dataclass(frozen=True)
class _Target:
    """A validated item: the ledger, the session folder and the payload."""

    ledger: Path
    folder: Path
    payload: FinalizePayload


def _payload_error(exc: ValidationError) -> FinalizeError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    msg = str(first["msg"]).removeprefix("Value error, ")
    return FinalizeError(f"invalid {TYPE} payload: {where}: {msg}")


def make_item(found: Found) -> WorkItem:
    """The work item of a session found by detection."""
    return WorkItem(
        type=TYPE,
        dedup_key=f"{TYPE}:{found.name}",
        priority=PRIORITY,
        payload={
            "name": found.name,
            "path": str(found.path),
            "place": found.place.value,
            "kind": found.kind.value,
            "missing": list(found.missing),
        },
    )

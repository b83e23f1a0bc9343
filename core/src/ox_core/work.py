"""The work item: one unit of background work, as queued, run and retried."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import attrs


def utcnow() -> datetime:
    return datetime.now(UTC)


@attrs.define(slots=True, eq=True)
class WorkItem:
    """One unit of background work.

    `id` (a UUIDv7 string) and `created_at` are filled by `WorkQueue.enqueue` when empty.
    Lower `priority` runs first; among equal priorities the older `created_at` runs first.
    Items with the same non-empty `dedup_key` are never queued or in progress twice at once.
    The manager mutates `attempts` and `last_error` as it retries an item.
    """

    type: str
    dedup_key: str = ""
    priority: int = 50
    payload: dict[str, Any] = attrs.field(factory=dict)
    id: str = ""
    created_at: datetime | None = None
    attempts: int = 0
    last_error: str = ""

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


_converter = None


def _cattrs_converter() -> Any:
    # cattrs is imported on first use only: the CLI's --help must not pay for it.
    global _converter
    if _converter is None:
        import cattrs.preconf.json

        _converter = cattrs.preconf.json.make_converter()
    return _converter


def item_to_dict(item: WorkItem) -> dict[str, Any]:
    """A JSON-ready dict of `item` (datetimes as RFC 3339 strings)."""
    result: dict[str, Any] = _cattrs_converter().unstructure(item)
    return result


def item_from_dict(data: dict[str, Any]) -> WorkItem:
    """The inverse of `item_to_dict`; raises `cattrs` errors on malformed data."""
    item: WorkItem = _cattrs_converter().structure(data, WorkItem)
    return item

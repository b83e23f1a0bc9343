"""What happens to a summarised session (SPEC §3.6 step 5): discard, keep locally, or upload."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ox_session_capture.records import Summary

UPLOAD_THRESHOLD = 0.3
DISCARD_THRESHOLD = 0.1


class Disposition(enum.StrEnum):
    """What to do with a summarised session: delete it (unless committed), keep it in the
    cache unpublished (recorded as `disposition` in `meta.json`), or publish it."""

    DISCARD = "discard"
    LOCAL_ONLY = "local_only"
    UPLOAD = "upload"


_BY_CATEGORY = {
    "skip": Disposition.DISCARD,
    "local_only": Disposition.LOCAL_ONLY,
    "share": Disposition.UPLOAD,
}


@dataclass(frozen=True)
class Thresholds:
    """`quality_score` below `discard` → discard, below `upload` → local only, else upload."""

    upload: float = UPLOAD_THRESHOLD
    discard: float = DISCARD_THRESHOLD

    def __post_init__(self) -> None:
        if not 0.0 <= self.discard <= self.upload <= 1.0:
            raise ValueError(
                f"quality thresholds need 0 <= discard ({self.discard}) <= upload "
                f"({self.upload}) <= 1"
            )


def decide(summary: Summary, thresholds: Thresholds = Thresholds()) -> Disposition:
    """The disposition of `summary`: a failure summary uploads; a known `quality_category`
    decides; else the `quality_score` against `thresholds`; no score at all uploads."""
    if summary.summary_status != "ok":
        return Disposition.UPLOAD
    if summary.quality_category in _BY_CATEGORY:
        return _BY_CATEGORY[summary.quality_category]
    score = summary.quality_score
    if score is None:
        return Disposition.UPLOAD
    if score < thresholds.discard:
        return Disposition.DISCARD
    if score < thresholds.upload:
        return Disposition.LOCAL_ONLY
    return Disposition.UPLOAD

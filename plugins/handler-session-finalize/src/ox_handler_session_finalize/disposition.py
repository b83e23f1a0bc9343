"""What happens to a summarised session: discard, keep locally, or upload (by the agent's
`quality_category`, else its `quality_score` against the handler's options)."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pydantic import Field, model_validator

from ox_core.contracts import HandlerOptions
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


class FinalizeOptions(HandlerOptions):
    """The options of the session-finalize handler: `[handlers.session-finalize]`."""

    quality_upload: float = Field(
        UPLOAD_THRESHOLD,
        ge=0,
        le=1,
        description="Sessions the agent scores at least this are published to the ledger.",
    )
    quality_discard: float = Field(
        DISCARD_THRESHOLD,
        ge=0,
        le=1,
        description="Sessions scoring below this are discarded; between the two, kept locally.",
    )

    author: str = Field(
        "",
        max_length=512,
        pattern=r"^$|^[^<>\n]+ <[^<>\s]+@[^<>\s]+>$",
        description='The git identity to commit to the ledger with ("Name <email>") when git '
        "config has none (git config wins).",
    )
    keep_brief: bool = Field(
        False,
        description=(
            "Publish brief sessions (under 2 entries; or, when the agent called no tool, no "
            "answer or under 80 characters of prompts) with their deterministic summary "
            "instead of discarding them."
        ),
    )

    @model_validator(mode="after")
    def _ordered(self) -> FinalizeOptions:
        if self.quality_discard > self.quality_upload:
            raise ValueError(
                f"quality_discard ({self.quality_discard}) must not exceed "
                f"quality_upload ({self.quality_upload})"
            )
        return self

    def thresholds(self) -> Thresholds:
        return Thresholds(upload=self.quality_upload, discard=self.quality_discard)


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

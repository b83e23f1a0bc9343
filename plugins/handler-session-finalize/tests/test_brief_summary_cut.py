"""Finding 4 (defence in depth): a brief session's summary quotes each user prompt cut to 200
characters *before* it is redacted (`prompt.brief_summary` gets the entries as read from
`raw.jsonl`; `write_artifacts` redacts the summary afterwards). The export pass is meant to
catch what capture did not (a pattern a team added to `.ox/redact.toml` after the session
was captured, a raw file of an older ox): the full prompt in `session.md` is redacted, the
cut copy in `summary.json` / `summary.md` / `meta.json` is not."""

from __future__ import annotations

import json
import re

from ox_handler_session_finalize.prompt import brief_summary
from ox_session_capture.records import RawEntry
from ox_session_capture.redact import redact_file_bytes, redact_value

GH = "ghp_" + "pBFNP7Irv1FwTFGf3LGhycC4BOj2NhiYSnuG"
TEAM = "ACME-" + "7712994031"


def _entries(secret: str) -> list[RawEntry]:
    # the secret across the 200th character of the prompt
    text = "x" * (199 - len(secret) + 3) + " " + secret + " and deploy"
    return [RawEntry(type="user", content=text), RawEntry(type="assistant", content="ok")]


def test_a_brief_summary_quotes_no_cut_secret() -> None:
    """What `process_result` does for a brief session (`brief_summary(transcript.entries)`,
    then `write_artifacts`' `redact_value` and `redact_file_bytes`)."""
    rules = [re.compile(r"ACME-[0-9]{10}")]  # added by the team after the capture
    for secret in (GH, TEAM):
        entries = _entries(secret)
        summary = brief_summary(entries, keep=True)
        published = redact_value(summary.model_dump(by_alias=True), rules)  # as write_artifacts
        data = redact_file_bytes("summary.json", json.dumps(published).encode(), rules)
        assert secret[:-3].encode() not in data, secret

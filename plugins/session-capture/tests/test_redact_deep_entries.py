"""A transcript entry whose extra keys nest deeper than Python recurses (a teammate's
committed `raw.jsonl` can hold anything) is redacted without them, never left failing the
whole session on every retry, and never with the nested text in clear."""

from __future__ import annotations

import json

from ox_session_capture import transcript
from ox_session_capture.redact import redact_entries


def test_a_deeply_nested_extra_key_is_left_out_and_the_rest_redacted() -> None:
    deep = "[" * 700 + '"password=hunter2hunter2"' + "]" * 700
    line = f'{{"type":"user","content":"db password=s3cr3tPassw0rd","weird":{deep}}}'
    entry = transcript.classify_line(json.loads(line))
    [clean] = redact_entries([entry], [])
    dumped = json.dumps(clean.model_dump(mode="json"))
    assert "s3cr3tPassw0rd" not in dumped
    assert "hunter2hunter2" not in dumped
    assert clean.content == "db password=[REDACTED_PASSWORD]"


def test_a_shallow_extra_key_is_kept_and_redacted() -> None:
    line = '{"type":"user","content":"hi","weird":[["password=hunter2hunter2"]]}'
    [clean] = redact_entries([transcript.classify_line(json.loads(line))], [])
    assert clean.model_dump()["weird"] == [["password=[REDACTED_PASSWORD]"]]

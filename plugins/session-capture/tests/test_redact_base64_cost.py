"""What base64 costs on text nested as a hostile (or unlucky) one can nest it: JSON whose value
is base64 of JSON whose value is base64 of … Each level's decoded text must be read once: the
text around a run and the JSON string holding it are one level, not two. Counted in bytes
decoded (deterministic), not timed."""

from __future__ import annotations

import base64
import json

import pytest

from ox_session_capture.redact import encoded, redact_text

INNER = "plain words here "


def _nested(levels: int, size: int) -> str:
    """`levels` of `{"data": "<base64 of the level below>"}` around plain text, about `size`
    characters in all."""
    text = INNER * (int(size / (4 / 3) ** levels) // len(INNER))
    for _ in range(levels):
        text = json.dumps({"data": base64.b64encode(text.encode()).decode()})
    return text


@pytest.mark.parametrize("levels", [2, 8])
def test_base64_nested_in_json_is_decoded_once_per_level(
    levels: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each level was read twice (the run in the JSON text, then the JSON string): 2^levels
    # times the innermost text in all (a 1 MB line of 8 levels took 6.5 s; 31 bytes decoded
    # per character). Read once per level (a run is decoded by the cheap check, then for its
    # spans), a few times the text: 3.5 bytes per character at 2 levels, 5.5 at 8.
    decoded = 0
    decode = encoded.decode

    def counting(run: bytes) -> tuple[str, str] | None:
        nonlocal decoded
        decoded += len(run)
        return decode(run)

    monkeypatch.setattr(encoded, "decode", counting)
    text = _nested(levels, 200_000)
    assert redact_text(text) == text  # nothing in it is a secret
    assert decoded <= 8 * len(text), f"{decoded / len(text):.1f} bytes decoded per character"

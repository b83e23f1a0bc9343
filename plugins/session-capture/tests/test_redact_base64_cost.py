"""What base64 costs on text nested as a hostile (or unlucky) one can nest it: JSON whose value
is base64 of JSON whose value is base64 of … Each level's decoded text must be read once: the
text around a run and the JSON string holding it are one level, not two."""

from __future__ import annotations

import base64
import json
import time

from ox_session_capture.redact import redact_text

INNER = "plain words here "


def _nested(levels: int, size: int) -> str:
    """`levels` of `{"data": "<base64 of the level below>"}` around plain text, about `size`
    characters in all."""
    text = INNER * (int(size / (4 / 3) ** levels) // len(INNER))
    for _ in range(levels):
        text = json.dumps({"data": base64.b64encode(text.encode()).decode()})
    return text


def _best_of_3(text: str) -> float:
    """Seconds per million characters, the best of 3 runs (a loaded box only slows a run)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        assert redact_text(text) == text  # nothing in it is a secret
        times.append(time.perf_counter() - start)
    return min(times) / len(text) * 1e6


def test_base64_nested_in_json_eight_deep_costs_per_character_what_two_deep_does() -> None:
    # Each level was read twice (the run in the JSON text, then the JSON string), 2^8 times
    # the innermost text in all: 13 times the cost per character of two levels (1 MB: 6.5 s).
    # Read once per level it is about twice.
    shallow, deep = _nested(2, 1_000_000), _nested(8, 1_000_000)
    ratio = _best_of_3(deep) / _best_of_3(shallow)
    assert ratio < 5, f"8 levels cost {ratio:.1f} times as much per character as 2"

"""What a fake Anthropic Messages API answers, for tests that run the real `claude` against
one (`ox_core.testing_runners.FakeModelApi`): one streamed assistant message as server-sent
events, made of text and tool-use blocks (needs `ox-core[testing]`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ox_core.testing_runners import SseEvent, anthropic_events, sse


def side_answer(path: str) -> tuple[int, str, bytes] | None:
    """The answer to a request that is not `POST /v1/messages` (token counting, an unknown
    path), or None for a messages request."""
    route = path.split("?")[0]
    if route.endswith("/count_tokens"):
        return 200, "application/json", b'{"input_tokens": 1}'
    if not route.endswith("/v1/messages"):
        return 404, "application/json", b'{"type":"error","error":{"type":"not_found_error"}}'
    return None


def text_block(*pieces: str) -> dict[str, Any]:
    """A text block streamed as `pieces` (one delta each)."""
    return {"type": "text", "pieces": list(pieces)}


def tool_block(name: str, tool_input: Mapping[str, Any]) -> dict[str, Any]:
    """A tool call of tool `name` with `tool_input` (streamed as one JSON delta)."""
    return {"type": "tool_use", "name": name, "input": dict(tool_input)}


def message_events(
    body: Mapping[str, Any],
    blocks: Sequence[Mapping[str, Any]],
    *,
    stop_reason: str = "end_turn",
    usage: Mapping[str, int] | None = None,
    output_tokens: int = 1,
) -> list[SseEvent]:
    """The events of one assistant message answering request `body` (`anthropic_events`):
    `text_block`s streamed piece by piece, `tool_block`s as one JSON delta each, with fresh
    message and tool-use ids."""
    pairs: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for block in blocks:
        if block["type"] == "text":
            deltas = [{"type": "text_delta", "text": piece} for piece in block["pieces"]]
            pairs.append(({"type": "text", "text": ""}, deltas))
        else:
            start = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:20]}",
                     "name": block["name"], "input": {}}  # fmt: skip
            pairs.append((start, [{"type": "input_json_delta",
                                   "partial_json": json.dumps(block["input"])}]))  # fmt: skip
    return anthropic_events(
        body.get("model", "claude"),
        pairs,
        message_id=f"msg_{uuid.uuid4().hex}",
        stop_reason=stop_reason,
        usage=usage or {"input_tokens": 3, "output_tokens": 1},
        output_tokens=output_tokens,
    )


def message_stream(
    body: Mapping[str, Any], blocks: Sequence[Mapping[str, Any]], **options: Any
) -> tuple[int, str, bytes]:
    """`message_events` as a `FakeModelApi` responder's answer (200, SSE)."""
    return 200, "text/event-stream", sse(message_events(body, blocks, **options))

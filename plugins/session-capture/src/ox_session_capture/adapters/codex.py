"""codex: `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, ClassVar

from ox_core import hookimpl
from ox_session_capture.adapters.base import (
    BaseAdapter,
    Fields,
    as_text,
    entry,
    exit_code_of,
    parse_ts,
    sid_part,
    source_id,
    to_json,
    tool_call,
    tool_result,
)

# User messages codex writes itself (environment, AGENTS.md, permissions) rather than the person.
_PREAMBLES = (
    "<environment_context>",
    "<user_instructions>",
    "<permissions instructions>",
    "<instructions>",
    "# AGENTS.md instructions",
    "<user_shell_command>",
    "<turn_aborted>",
)


_KNOWN_LINES = frozenset(
    {
        "session_meta",
        "turn_context",
        "response_item",
        "event_msg",
        "compacted",
        "world_state",
        "token_usage_record",
    }
)
_KNOWN_ITEMS = frozenset(
    {
        "message",
        "function_call",
        "custom_tool_call",
        "local_shell_call",
        "function_call_output",
        "custom_tool_call_output",
        "reasoning",
        "additional_tools",
        "web_search_call",
        "ghost_snapshot",
        "compaction",
        "compaction_summary",
    }
)
# Line types skipped without decoding (the bulk of a rollout): `type` comes right after the
# timestamp (and, on newer versions, an ordinal).
_SKIPPED_TYPE = re.compile(rb'"type": ?"(?:event_msg|world_state|token_usage_record|compacted)"')
_SCRIPT_FAILED = "Script failed"
# The whole output of a tool the person stopped (`aborted by user after 1.2s`; a classic
# shell tool's is `Wall time: 1.1 seconds\naborted by user`): it did not finish, so it did not
# succeed (claude flags such a result, gemini calls it `cancelled`).
_ABORTED = re.compile(
    r"(?:Wall time: [0-9.]+ seconds\n)?aborted(?: by user)?(?: after [0-9.]+m?s)?\s*"
)


class CodexAdapter(BaseAdapter):
    """Lines of `type: response_item`. A `message` from the user (`input_text`; codex's own
    instruction and context preambles → system) or the assistant (`output_text` joined);
    `function_call` / `custom_tool_call` / `local_shell_call` → tool call (`name`, `arguments`
    or the freeform `input`, `call_id`); `function_call_output` / `custom_tool_call_output` →
    tool result, joined to its call by `call_id`. A result failed when its output says so:
    `success: false`, a list of `input_text` items beginning "Script failed" (the JavaScript
    `exec` tool of code mode), a non-zero exit code (`"exit_code": n`, `Process exited with
    code n`, `Exit code: n`), or when the output is only codex's note that the person stopped
    the tool (`aborted by user after 1.2s`, `_ABORTED`). Developer messages (the vendor
    prompt) and reasoning are skipped; unknown line and item types are counted in
    `unknown`. `info`: `model` from `turn_context`, `agent_version` from `session_meta`.
    """

    name: ClassVar[str] = "codex"
    # Its lines depend on nothing but `BaseAdapter`'s state: a catch-up may convert them
    # by blocks in a helper process (`ox_session_capture.blocks`).
    independent_blocks: ClassVar[bool] = True
    roots: ClassVar[tuple[str, ...]] = (".codex/sessions",)

    def parse_fields(self, line: bytes) -> list[Fields]:
        if _SKIPPED_TYPE.search(line, 0, 160):
            return []
        return super().parse_fields(line)

    def parse_object(self, obj: dict[str, Any]) -> list[Fields]:
        kind = obj.get("type")
        payload = obj.get("payload")
        if kind not in _KNOWN_LINES:
            self._unknown(kind)
            return []
        if not isinstance(payload, dict):
            return []
        if kind == "turn_context":
            self._note("model", payload.get("model"))
            return []
        if kind == "session_meta":
            self._note("agent_version", payload.get("cli_version"))
            return []
        if kind != "response_item":
            return []
        ts = parse_ts(obj.get("timestamp"))
        item = payload.get("type")
        if item == "message":
            return self._message(payload, ts)
        if item in ("function_call", "custom_tool_call", "local_shell_call"):
            name = as_text(payload.get("name")) or ("shell" if item == "local_shell_call" else "")
            args = payload.get("arguments", payload.get("input", payload.get("action", "")))
            call_id = source_id(payload.get("call_id"))
            self.calls.add(call_id, name)
            sid = sid_part(payload.get("id")) or sid_part(call_id)
            return [tool_call(ts=ts, name=name, tool_input=args, call_id=call_id, sid=sid)]
        if item in ("function_call_output", "custom_tool_call_output"):
            return [self._output(payload, ts)]
        if item not in _KNOWN_ITEMS:
            self._unknown(f"response_item/{item}")
        return []

    def _message(self, payload: dict[str, Any], ts: Any) -> list[Fields]:
        role = payload.get("role")
        blocks = payload.get("content")
        if role not in ("user", "assistant") or not isinstance(blocks, list):
            return []
        want = "input_text" if role == "user" else "output_text"
        texts = [
            as_text(b.get("text")) for b in blocks if isinstance(b, dict) and b.get("type") == want
        ]
        text = "\n".join(t for t in texts if t).strip()
        if not text:
            return []
        kind = role
        if role == "user" and text.startswith(_PREAMBLES):
            kind = "system"
        return [entry(ts=ts, type=kind, content=text, source_id=sid_part(payload.get("id")))]

    def _output(self, payload: dict[str, Any], ts: Any) -> Fields:
        output = payload.get("output")
        failed = False
        if isinstance(output, dict):
            text = to_json(output.get("content", output))
            failed = output.get("success") is False
        elif isinstance(output, list):
            # Code mode: `[{type: input_text, text: "Script completed|failed\n..."}, ...]`.
            text = "\n".join(
                as_text(i.get("text")) for i in output if isinstance(i, dict) and i.get("text")
            )
            failed = text.startswith(_SCRIPT_FAILED)
        else:
            text = as_text(output) or ("" if output is None else to_json(output))
            failed = _ABORTED.fullmatch(text) is not None
        code = _exit_code(text)
        call_id = source_id(payload.get("call_id"))
        return tool_result(
            ts=ts,
            output=text,
            failed=failed,
            call_id=call_id,
            name=self.calls.pop(call_id),
            exit_code=code,
            sid=f"{sid_part(call_id)}#output" if call_id else None,
        )


def _exit_code(output: str) -> int | None:
    """The exit code of a shell call's output: JSON `{"metadata": {"exit_code": n}}` (older
    versions), else what `exit_code_of` finds in the text; None when it does not say."""
    if output.startswith("{"):
        try:
            data = json.loads(output)
        except (ValueError, RecursionError):  # the output is the agent's: nested beyond reason
            data = None
        if isinstance(data, dict):
            meta = data.get("metadata")
            code = meta.get("exit_code") if isinstance(meta, dict) else None
            if code.__class__ is int and -(2**31) <= code < 2**32:  # a status, not any number
                return int(code)
    return exit_code_of(output)


@hookimpl
def ox_register_adapters(register: Callable[[Callable[[], Any]], None]) -> None:
    register(CodexAdapter)

"""codex: `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, ClassVar

from ox_core import hookimpl
from ox_session_capture.adapters.base import (
    BaseAdapter,
    as_text,
    entry,
    parse_ts,
    source_id,
    to_json,
)
from ox_session_capture.records import RawEntry

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


class CodexAdapter(BaseAdapter):
    """Lines of `type: response_item`. A `message` from the user (`input_text`; codex's own
    instruction and context preambles → system) or the assistant (`output_text` joined);
    `function_call` / `custom_tool_call` → tool (`name`, `arguments`, `call_id`);
    `function_call_output` only for a failing command, as a tool entry with `is_error`.
    Developer messages (the vendor prompt) and reasoning are skipped. `info`: `model` from
    `turn_context`, `agent_version` from `session_meta`.
    """

    name: ClassVar[str] = "codex"
    roots: ClassVar[tuple[str, ...]] = (".codex/sessions",)

    def parse_line(self, line: bytes) -> list[RawEntry]:
        if (
            b'"response_item"' not in line
            and b'"turn_context"' not in line
            and b'"session_meta"' not in line
        ):
            return []
        return super().parse_line(line)

    def parse_object(self, obj: dict[str, Any]) -> list[RawEntry]:
        payload = obj.get("payload")
        if not isinstance(payload, dict):
            return []
        if obj.get("type") == "turn_context":
            self._note("model", payload.get("model"))
            return []
        if obj.get("type") == "session_meta":
            self._note("agent_version", payload.get("cli_version"))
            return []
        if obj.get("type") != "response_item":
            return []
        ts = parse_ts(obj.get("timestamp"))
        kind = payload.get("type")
        if kind == "message":
            return self._message(payload, ts)
        if kind in ("function_call", "custom_tool_call"):
            name = as_text(payload.get("name"))
            args = payload.get("arguments", payload.get("input", ""))
            call_id = source_id(payload.get("call_id"))
            return [
                entry(
                    ts=ts,
                    type="tool",
                    content=name,
                    tool_name=name,
                    tool_input=to_json(args),
                    call_id=call_id,
                    source_id=source_id(payload.get("id")) or call_id,
                )
            ]
        if kind in ("function_call_output", "custom_tool_call_output"):
            return self._output(payload, ts)
        return []

    def _message(self, payload: dict[str, Any], ts: Any) -> list[RawEntry]:
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
        return [entry(ts=ts, type=kind, content=text, source_id=source_id(payload.get("id")))]

    def _output(self, payload: dict[str, Any], ts: Any) -> list[RawEntry]:
        output = payload.get("output")
        failed = False
        text = ""
        if isinstance(output, dict):
            text = to_json(output.get("content", output))
            failed = output.get("success") is False
        elif isinstance(output, str):
            text = output
            failed = _exit_code(output) not in (None, 0)
        if not failed:
            return []
        call_id = source_id(payload.get("call_id"))
        return [
            entry(
                ts=ts,
                type="tool",
                content="",
                tool_output=text,
                is_error=True,
                call_id=call_id,
                source_id=f"{call_id}#output" if call_id else None,
            )
        ]


def _exit_code(output: str) -> int | None:
    """The exit code of a shell call's output: JSON `{"metadata": {"exit_code": n}}`, or the
    `Exit code: n` line of the plain-text form; None when it does not say."""
    try:
        data = json.loads(output)
    except ValueError:
        data = None
    if isinstance(data, dict):
        meta = data.get("metadata")
        if isinstance(meta, dict) and isinstance(meta.get("exit_code"), int):
            return int(meta["exit_code"])
    for line in output.splitlines()[:5]:
        if line.startswith(("Exit code:", "Process exited with code")):
            digits = line.rsplit(" ", 1)[-1].strip()
            if digits.lstrip("-").isdigit():
                return int(digits)
    return None


@hookimpl
def ox_register_adapters(register: Callable[[Callable[[], Any]], None]) -> None:
    register(CodexAdapter)

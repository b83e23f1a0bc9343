"""gemini: `~/.gemini/tmp/<project>/chats/session-*.jsonl` (shape from the fixtures).

The file is a log of updates to one conversation record: a header line (`sessionId`,
`startTime`), message lines (`{id, timestamp, type, content, ...}`) and `{"$set": {...}}`
lines; a `$set` of `messages` (written on resume) lists earlier messages again under their
own ids, which the tail's id matching drops.
"""

from __future__ import annotations

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

_SYSTEM_TYPES = ("info", "error", "warning")


class GeminiAdapter(BaseAdapter):
    """`user` messages → user (the CLI's `<session_context>` preamble → system); `gemini`
    messages → assistant, each of their `toolCalls` → tool (`name`, JSON `args`, `call_id` =
    the call id, `is_error` for a failed call); `info` / `error` / `warning` → system.
    `source_id` = the message id (plus `#<call id>` for tool calls). `info`: `model`.
    """

    name: ClassVar[str] = "gemini"
    roots: ClassVar[tuple[str, ...]] = (".gemini/tmp",)

    def parse_object(self, obj: dict[str, Any]) -> list[RawEntry]:
        updates = obj.get("$set")
        if isinstance(updates, dict):
            messages = updates.get("messages")
            if not isinstance(messages, list):
                return []
            out: list[RawEntry] = []
            for message in messages:
                if isinstance(message, dict):
                    out.extend(self._message(message))
            return out
        return self._message(obj)

    def _message(self, msg: dict[str, Any]) -> list[RawEntry]:
        kind = msg.get("type")
        ts = parse_ts(msg.get("timestamp"))
        mid = source_id(msg.get("id"))
        text = _text(msg.get("content")).strip()
        if kind == "user":
            if not text:
                return []
            role = "system" if text.startswith("<session_context>") else "user"
            return [entry(ts=ts, type=role, content=text, source_id=mid)]
        if kind in _SYSTEM_TYPES:
            return [entry(ts=ts, type="system", content=text, source_id=mid)] if text else []
        if kind != "gemini":
            return []
        self._note("model", msg.get("model"))
        out: list[RawEntry] = []
        if text:
            out.append(entry(ts=ts, type="assistant", content=text, source_id=mid))
        calls = msg.get("toolCalls")
        for call in calls if isinstance(calls, list) else []:
            if not isinstance(call, dict):
                continue
            name = as_text(call.get("name"))
            call_id = source_id(call.get("id"))
            failed = call.get("status") in ("error", "cancelled")
            out.append(
                entry(
                    ts=parse_ts(call.get("timestamp")) or ts,
                    type="tool",
                    content=name,
                    tool_name=name,
                    tool_input=to_json(call.get("args", {})),
                    tool_output=_result_text(call.get("result")) or None,
                    is_error=True if failed else None,
                    call_id=call_id,
                    source_id=f"{mid}#{call_id}" if mid and call_id else None,
                )
            )
        return out


def _text(content: Any) -> str:
    """Message content: a string, or a list of parts with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            as_text(p.get("text")) for p in content if isinstance(p, dict) and p.get("text")
        )
    return ""


def _result_text(result: Any) -> str:
    """The text of a tool call's `result` (a list of function responses, or plain text)."""
    if result is None:
        return ""
    if isinstance(result, str):
        return result
    if isinstance(result, list):
        parts = []
        for item in result:
            response = item.get("functionResponse") if isinstance(item, dict) else None
            if isinstance(response, dict):
                body = response.get("response")
                if isinstance(body, dict) and "output" in body:
                    parts.append(to_json(body["output"]))
                else:
                    parts.append(to_json(body))
            else:
                parts.append(to_json(item))
        return "\n".join(parts)
    return to_json(result)


@hookimpl
def ox_register_adapters(register: Callable[[Callable[[], Any]], None]) -> None:
    register(GeminiAdapter)

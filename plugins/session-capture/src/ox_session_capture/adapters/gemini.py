"""gemini: `~/.gemini/tmp/<project>/chats/session-*.jsonl` (shape from the recorded fixtures).

The file is a log of updates to one conversation record: a header line (`sessionId`,
`startTime`), message lines (`{id, timestamp, type, content, ...}`) and `{"$set": {...}}`
lines. A `$set` of `messages` re-lists messages already in the record (a resume writes one
holding the whole conversation so far, in API "parts" shape): those are history, not new
messages, so only the CLI's `<session_context>` preamble is taken from it (a new file's
first `$set` holds nothing else).
"""

from __future__ import annotations

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

_SYSTEM_TYPES = ("info", "error", "warning")
_KNOWN_TYPES = frozenset({"user", "gemini", *_SYSTEM_TYPES})
# What the CLI itself writes as a `user` message: its context preamble and its own notices
# ("System: Potential loop detected…"). Never the person's words.
_INJECTED = ("<session_context>", "System: ")
_SHELL_TOOLS = frozenset({"run_shell_command", "shell"})
_FAILED_STATUS = ("error", "cancelled")


class GeminiAdapter(BaseAdapter):
    """`user` messages → user (text the CLI injects, `_INJECTED`, → system; a message of
    `functionResponse` parts only gives nothing: results come with their calls); `gemini`
    messages → assistant, each of their `toolCalls` → a tool call (`name`, JSON `args`,
    `call_id` = the call id) and, once it has a `result`, a tool result (failed when its
    status is error / cancelled or a shell command reports a non-zero `Exit Code`);
    `info` / `error` / `warning` → system. Other message types are counted in `unknown`.
    `source_id` = the message id (plus `#<call id>` for a call, `#<call id>#result` for its
    result; each id through `sid_part`). `info`: `model`.
    """

    name: ClassVar[str] = "gemini"
    # Its lines depend on nothing but `BaseAdapter`'s state: a catch-up may convert them
    # by blocks in a helper process (`ox_session_capture.blocks`).
    independent_blocks: ClassVar[bool] = True
    roots: ClassVar[tuple[str, ...]] = (".gemini/tmp",)

    def parse_object(self, obj: dict[str, Any]) -> list[Fields]:
        updates = obj.get("$set")
        if isinstance(updates, dict):
            messages = updates.get("messages")
            if not isinstance(messages, list):
                return []
            return [
                e
                for message in messages
                if isinstance(message, dict)
                for e in self._message(message)
                if e["type"] == "system" and e["content"].startswith(_INJECTED[0])
            ]
        if "type" not in obj and ("sessionId" in obj or "startTime" in obj):
            return []  # the header line
        return self._message(obj)

    def _message(self, msg: dict[str, Any]) -> list[Fields]:
        kind = msg.get("type")
        ts = parse_ts(msg.get("timestamp"))
        mid = sid_part(msg.get("id"))
        text = _text(msg.get("content")).strip()
        if kind == "user":
            if not text:
                return []
            role = "system" if text.startswith(_INJECTED) else "user"
            return [entry(ts=ts, type=role, content=text, source_id=mid)]
        if kind in _SYSTEM_TYPES:
            return [entry(ts=ts, type="system", content=text, source_id=mid)] if text else []
        if kind != "gemini":
            self._unknown(kind)
            return []
        self._note("model", msg.get("model"))
        out: list[Fields] = []
        if text:
            out.append(entry(ts=ts, type="assistant", content=text, source_id=mid))
        calls = msg.get("toolCalls")
        for call in calls if isinstance(calls, list) else []:
            if isinstance(call, dict):
                out.extend(self._call(call, mid, ts))
        return out

    def _call(self, call: dict[str, Any], mid: str | None, ts: Any) -> list[Fields]:
        name = as_text(call.get("name"))
        call_id = source_id(call.get("id"))
        when = parse_ts(call.get("timestamp")) or ts
        sid = f"{mid}#{sid_part(call_id)}" if mid and call_id else None
        out = [
            tool_call(ts=when, name=name, tool_input=call.get("args", {}), call_id=call_id, sid=sid)
        ]
        status = call.get("status")
        if call.get("result") is None and status not in _FAILED_STATUS:
            return out  # still running: its result comes with a later write of the message
        output = _result_text(call.get("result"))
        out.append(
            tool_result(
                ts=when,
                output=output,
                failed=status in _FAILED_STATUS,
                call_id=call_id,
                name=name,
                exit_code=exit_code_of(output) if name in _SHELL_TOOLS else None,
                sid=f"{sid}#result" if sid else None,
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

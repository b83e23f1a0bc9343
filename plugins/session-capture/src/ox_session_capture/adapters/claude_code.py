"""claude-code: `~/.claude/projects/<cwd slug>/<session uuid>.jsonl`."""

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
    strip_wrappers,
    to_json,
)
from ox_session_capture.records import RawEntry


class ClaudeCodeAdapter(BaseAdapter):
    """Lines of `type` `user` / `assistant`; everything else (attachments, API records,
    queue operations, cost state) is skipped.

    User text (a string or text blocks) becomes a user entry (`system` when `isMeta`), with
    `<system-reminder>`-style blocks stripped; pure `tool_result` messages are skipped. Each
    assistant `text` block becomes an assistant entry and each `tool_use` block a tool entry
    (`call_id` = the block id); `thinking` is skipped. `source_id` = the line's `uuid`, plus
    `#<block index>` for assistant blocks. `info`: `model` from `message.model`,
    `agent_version` from `version`.
    """

    name: ClassVar[str] = "claude-code"
    roots: ClassVar[tuple[str, ...]] = (".claude/projects",)

    def parse_line(self, line: bytes) -> list[RawEntry]:
        # Cheap pre-filter: most bytes of a claude session are attachments and API records;
        # a line that names neither role cannot be a message, so skip json.loads for it.
        if b'"user"' not in line and b'"assistant"' not in line:
            return []
        # A tool result (a user line whose content list carries `tool_use_id`s) with no text
        # block anywhere (no `"text"` token) gives nothing: skip parsing its often large body.
        if b'"tool_use_id"' in line and b'"text"' not in line:
            return []
        return super().parse_line(line)

    def parse_object(self, obj: dict[str, Any]) -> list[RawEntry]:
        kind = obj.get("type")
        message = obj.get("message")
        if kind not in ("user", "assistant") or not isinstance(message, dict):
            return []
        self._note("agent_version", obj.get("version"))
        if kind == "assistant":
            self._note("model", message.get("model"))
        ts = parse_ts(obj.get("timestamp"))
        uid = source_id(obj.get("uuid"))
        content = message.get("content")
        if kind == "user":
            return self._user(obj, content, ts, uid)
        return self._assistant(content, ts, uid)

    def _user(self, obj: dict[str, Any], content: Any, ts: Any, uid: str | None) -> list[RawEntry]:
        if isinstance(content, str):
            text = content
        elif isinstance(content, list):
            blocks = [b for b in content if isinstance(b, dict)]
            texts = [as_text(b.get("text")) for b in blocks if b.get("type") == "text"]
            if not texts:
                return []  # a pure tool_result message (or nothing readable)
            text = "\n".join(t for t in texts if t)
        else:
            return []
        text = strip_wrappers(text)
        if not text:
            return []
        role = "system" if obj.get("isMeta") is True else "user"
        return [entry(ts=ts, type=role, content=text, source_id=uid)]

    def _assistant(self, content: Any, ts: Any, uid: str | None) -> list[RawEntry]:
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if not isinstance(content, list):
            return []
        out: list[RawEntry] = []
        for index, block in enumerate(content):
            if not isinstance(block, dict):
                continue
            sid = f"{uid}#{index}" if uid else None
            if block.get("type") == "text":
                text = as_text(block.get("text")).strip()
                if text:
                    out.append(entry(ts=ts, type="assistant", content=text, source_id=sid))
            elif block.get("type") == "tool_use":
                name = as_text(block.get("name"))
                out.append(
                    entry(
                        ts=ts,
                        type="tool",
                        content=name,
                        tool_name=name,
                        tool_input=to_json(block.get("input", {})),
                        call_id=source_id(block.get("id")),
                        source_id=sid,
                    )
                )
        return out


@hookimpl
def ox_register_adapters(register: Callable[[Callable[[], Any]], None]) -> None:
    register(ClaudeCodeAdapter)

"""claude-code: `~/.claude/projects/<cwd slug>/<session uuid>.jsonl`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from ox_core import hookimpl
from ox_session_capture.adapters.base import (
    EXIT_CODE,
    BaseAdapter,
    Fields,
    as_text,
    entry,
    parse_ts,
    sid_part,
    source_id,
    strip_wrappers,
    to_json,
    tool_call,
    tool_result,
)

# Line types this adapter knows it does not need: anything else is counted as unknown.
_SKIPPED = frozenset(
    {
        "attachment",
        "queue-operation",
        "api-request",
        "api-request-blob",
        "api-request-shape",
        "last-prompt",
        "tools-used",
        "cost-state",
        "mode",
        "atis-latch",
        "summary",
        "file-history-snapshot",
        "progress",
        "custom-title",
        "ai-title",
        "agent-name",
        "permission-mode",
        "tag",
        "pr-link",
    }
)
_SKIPPED_TYPE = re.compile(
    rb'^\{"type": ?"(?:' + b"|".join(re.escape(t.encode()) for t in _SKIPPED) + rb')"'
)
_EXIT_FIRST_LINE = re.compile(r"^Exit code " + EXIT_CODE)
# What the CLI writes as a user message when the person stops a reply or a running tool: its
# own note, not the person's words.
_CLI_NOTES = frozenset(
    {"[Request interrupted by user]", "[Request interrupted by user for tool use]"}
)


class ClaudeCodeAdapter(BaseAdapter):
    """Lines of `type` `user` / `assistant`, and `system` (the CLI's own notices, with text:
    system entries); the line types in `_SKIPPED` (attachments, API records, queue
    operations, cost state...) are skipped, any other type is counted in `unknown`.

    User text (a string or text blocks) becomes a user entry (`system` when `isMeta` or when
    it is the CLI's note of an interruption), with `<system-reminder>`-style blocks
    stripped. Each assistant `text` block becomes an assistant entry and each `tool_use`
    block a tool call (`call_id` = the block id); `thinking` is skipped. Each `tool_result`
    block becomes a tool result (`is_error` from the block, the exit code from its first
    line `Exit code N`). `source_id` = the line's `uuid` (through `sid_part`), plus
    `#<block index>` for blocks. `info`: `model` from `message.model`, `agent_version` from
    `version`.
    """

    name: ClassVar[str] = "claude-code"
    # Its lines depend on nothing but `BaseAdapter`'s state: a catch-up may convert them
    # by blocks in a helper process (`ox_session_capture.blocks`).
    independent_blocks: ClassVar[bool] = True
    roots: ClassVar[tuple[str, ...]] = (".claude/projects",)

    def parse_fields(self, line: bytes) -> list[Fields]:
        # Cheap pre-filter: most bytes of a claude session are attachments and API records;
        # those are skipped without decoding the JSON. API records are written with `type`
        # first; an attachment line has its `attachment` key near the start and names
        # neither role (only the start is searched: every other line pays for 512 bytes).
        if _SKIPPED_TYPE.match(line):
            return []
        if (
            line.find(b'"attachment"', 0, 512) >= 0
            and b'"user"' not in line
            and b'"assistant"' not in line
        ):
            return []
        return super().parse_fields(line)

    # The methods below run for every kept line of a catch-up: types are tested by class and
    # each field is read once.

    def parse_object(self, obj: dict[str, Any]) -> list[Fields]:
        kind = obj.get("type")
        if kind == "system":
            # The CLI's own notices (local command output, API errors, compaction): kept when
            # they carry text.
            text = strip_wrappers(as_text(obj.get("content")))
            uid = sid_part(obj.get("uuid"))
            ts = parse_ts(obj.get("timestamp"))
            return [entry(ts=ts, type="system", content=text, source_id=uid)] if text else []
        if kind != "user" and kind != "assistant":
            if kind not in _SKIPPED:
                self._unknown(kind)
            return []
        message = obj.get("message")
        if message.__class__ is not dict:
            return []
        version = obj.get("version")
        if version.__class__ is str and version:
            self.info["agent_version"] = version
        ts = parse_ts(obj.get("timestamp"))
        uid = sid_part(obj.get("uuid"))
        content = message.get("content")
        if kind == "user":
            return self._user(obj, content, ts, uid)
        model = message.get("model")
        if model.__class__ is str and model:
            self.info["model"] = model
        return self._assistant(content, ts, uid)

    def _user(self, obj: dict[str, Any], content: Any, ts: Any, uid: str | None) -> list[Fields]:
        role = "system" if obj.get("isMeta") is True else "user"
        if isinstance(content, str):
            text = strip_wrappers(content)
            kind = "system" if text in _CLI_NOTES else role
            return [entry(ts=ts, type=kind, content=text, source_id=uid)] if text else []
        if content.__class__ is not list:
            return []
        out: list[Fields] = []
        texts: list[str] = []
        for index, block in enumerate(content):
            if block.__class__ is not dict:
                continue
            what = block.get("type")
            if what == "tool_result":
                out.append(self._result(block, ts, f"{uid}#{index}" if uid else None))
            elif what == "text":
                texts.append(as_text(block.get("text")))
        if texts:
            text = strip_wrappers("\n".join(t for t in texts if t))
            if text:
                kind = "system" if text in _CLI_NOTES else role
                out.insert(0, entry(ts=ts, type=kind, content=text, source_id=uid))
        return out

    def _result(self, block: dict[str, Any], ts: Any, sid: str | None) -> Fields:
        body = block.get("content")
        if body.__class__ is str:
            text = body
        elif isinstance(body, list):
            text = "\n".join(
                as_text(b.get("text")) for b in body if isinstance(b, dict) and b.get("text")
            )
        else:
            text = as_text(body) or ("" if body is None else to_json(body))
        call_id = source_id(block.get("tool_use_id"))
        match = _EXIT_FIRST_LINE.match(text) if text.startswith("Exit code ") else None
        return tool_result(
            ts=ts,
            output=text,
            failed=block.get("is_error") is True,
            call_id=call_id,
            name=self.calls.pop(call_id),
            exit_code=int(match.group(1)) if match else None,
            sid=sid,
        )

    def _assistant(self, content: Any, ts: Any, uid: str | None) -> list[Fields]:
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        if content.__class__ is not list:
            return []
        out: list[Fields] = []
        for index, block in enumerate(content):
            if block.__class__ is not dict:
                continue
            what = block.get("type")
            if what == "text":
                text = block.get("text")
                text = text.strip() if text.__class__ is str else ""
                if text:
                    sid = f"{uid}#{index}" if uid else None
                    out.append(entry(ts=ts, type="assistant", content=text, source_id=sid))
            elif what == "tool_use":
                name = as_text(block.get("name"))
                call_id = source_id(block.get("id"))
                self.calls.add(call_id, name)
                out.append(
                    tool_call(
                        ts=ts,
                        name=name,
                        tool_input=block.get("input", {}),
                        call_id=call_id,
                        sid=f"{uid}#{index}" if uid else None,
                    )
                )
        return out


@hookimpl
def ox_register_adapters(register: Callable[[Callable[[], Any]], None]) -> None:
    register(ClaudeCodeAdapter)

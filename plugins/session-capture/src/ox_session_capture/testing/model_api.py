"""A scripted fake model API for the three vendor wire formats: the real CLIs run against it
and write real session files with tool calls in them (see `scripts/record-sessions`).

A script is a list of turns; each request of the agent's main loop gets the next turn as its
answer: a `str` is a text reply, a list of `Call`s is one model answer holding those tool
calls (Anthropic `tool_use` blocks, OpenAI Responses `function_call` / `custom_tool_call`
items, Gemini `functionCall` parts). When the script is used up, the answer is "Done.".
Side requests (Gemini's routing and next-speaker checks, Claude's token counts) get a fixed
answer and do not use a turn.

    api = ScriptedModelApi([[Call.shell("ls")], "Listed."])
    with FakeModelApi(api) as server: ...   # ox_core.testing_runners
"""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ox_core.testing_runners import anthropic_events, sse


@dataclass(frozen=True)
class Call:
    """One tool call in agent-neutral terms; each wire format maps it to its own tool."""

    kind: str  # shell | write | edit
    args: dict[str, str]

    @classmethod
    def shell(cls, command: str) -> Call:
        return cls("shell", {"command": command})

    @classmethod
    def write(cls, path: str, content: str) -> Call:
        return cls("write", {"path": path, "content": content})

    @classmethod
    def edit(cls, path: str, old: str, new: str) -> Call:
        return cls("edit", {"path": path, "old": old, "new": new})


Turn: TypeAlias = "str | list[Call]"
Answer: TypeAlias = tuple[int, str, bytes]


@dataclass
class ScriptedModelApi:
    """A `FakeModelApi` responder answering the main-loop requests of claude (`/v1/messages`
    with tools), codex (`/v1/responses`) and gemini (`:streamGenerateContent`) from `script`.
    `served` counts the turns handed out; `bodies` keeps every main-loop request body."""

    script: Sequence[Turn]
    served: int = 0
    bodies: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_turn(self, body: dict[str, Any]) -> tuple[int, Turn]:
        with self._lock:
            self.bodies.append(body)
            index = self.served
            self.served += 1
        turn = self.script[index] if index < len(self.script) else "Done."
        return index, turn

    def __call__(self, path: str, body: dict[str, Any]) -> Answer:
        route = path.split("?")[0]
        if route.endswith("/count_tokens"):
            return 200, "application/json", b'{"input_tokens": 1}'
        if route.endswith("/v1/messages"):
            if not body.get("tools"):
                return _anthropic(body, 0, "ok")
            return _anthropic(body, *self.next_turn(body))
        if route.endswith("/v1/responses"):
            return _responses(body, *self.next_turn(body))
        if route.endswith(":generateContent"):
            return _gemini_side(route)
        if route.endswith(":streamGenerateContent"):
            return _gemini(route, *self.next_turn(body))
        return 404, "application/json", b'{"error":{"code":404,"message":"not found"}}'


# ---------------------------------------------------------------- Anthropic Messages


def _claude_tool(call: Call) -> tuple[str, dict[str, Any]]:
    a = call.args
    if call.kind == "shell":
        return "Bash", {"command": a["command"], "description": "run a command"}
    if call.kind == "write":
        return "Write", {"file_path": a["path"], "content": a["content"]}
    return "Edit", {"file_path": a["path"], "old_string": a["old"], "new_string": a["new"]}


def _anthropic(body: dict[str, Any], index: int, turn: Turn) -> Answer:
    blocks: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    if isinstance(turn, str):
        blocks.append(({"type": "text", "text": ""}, [{"type": "text_delta", "text": turn}]))
    else:
        for n, call in enumerate(turn):
            name, args = _claude_tool(call)
            start = {"type": "tool_use", "id": f"toolu_fake_{index:04d}_{n}", "name": name,
                     "input": {}}  # fmt: skip
            blocks.append((start, [{"type": "input_json_delta", "partial_json": json.dumps(args)}]))
    events = anthropic_events(
        body.get("model", "claude"),
        blocks,
        message_id=f"msg_fake_{index:04d}",
        stop_reason="end_turn" if isinstance(turn, str) else "tool_use",
        usage={"input_tokens": 11, "output_tokens": 1},
        output_tokens=7,
    )
    return 200, "text/event-stream", sse(events)


# ---------------------------------------------------------------- OpenAI Responses (codex)


def _patch(call: Call) -> str:
    a = call.args
    if call.kind == "write":
        body = "".join(f"+{line}\n" for line in a["content"].splitlines())
        return f"*** Begin Patch\n*** Add File: {a['path']}\n{body}*** End Patch\n"
    return (
        f"*** Begin Patch\n*** Update File: {a['path']}\n@@\n-{a['old']}\n+{a['new']}\n"
        "*** End Patch\n"
    )


def _tool_names(body: dict[str, Any]) -> set[str]:
    """Names of the tools a Responses request offers (top level and `additional_tools`)."""
    names: set[str] = set()
    pending: list[Any] = list(body.get("tools") or [])
    for item in body.get("input") or []:
        if isinstance(item, dict) and item.get("type") == "additional_tools":
            pending += item.get("tools") or []
    while pending:
        tool = pending.pop()
        if isinstance(tool, dict):
            names.add(str(tool.get("name") or tool.get("type")))
            pending += tool.get("tools") or []
    return names


def _codex_item(body: dict[str, Any], call: Call, ident: str) -> dict[str, Any]:
    names = _tool_names(body)
    base = {"id": f"ctc_{ident}", "call_id": f"call_{ident}", "status": "completed"}
    if "exec" in names and "exec_command" not in names:
        # Code mode: one freeform `exec` tool that runs JavaScript calling the nested tools.
        if call.kind == "shell":
            # A failing command fails the script, as a model checking its result would.
            cmd = json.dumps(call.args["command"])
            code = (
                f"const r = await tools.exec_command({{cmd: {cmd}}});\ntext(r);\n"
                "if (r.exit_code) throw new Error(`exit code ${r.exit_code}`);"
            )
        else:
            code = f"text(await tools.apply_patch({json.dumps(_patch(call))}));"
        return {**base, "type": "custom_tool_call", "name": "exec", "input": code}
    if call.kind == "shell":
        shell = "exec_command" if "exec_command" in names else "shell"
        args = (
            {"cmd": call.args["command"]}
            if shell == "exec_command"
            else {"command": ["bash", "-lc", call.args["command"]]}
        )
        return {
            **base,
            "id": f"fc_{ident}",
            "type": "function_call",
            "name": shell,
            "arguments": json.dumps(args),
        }
    if "apply_patch" in names:
        return {**base, "type": "custom_tool_call", "name": "apply_patch", "input": _patch(call)}
    # No patch tool offered (some models get only `exec_command`): edit with the shell.
    return _codex_item(body, Call.shell(_shell_edit(call)), ident)


def _shell_edit(call: Call) -> str:
    a = call.args
    if call.kind == "write":
        return f"printf '%s' {shlex.quote(a['content'])} > {shlex.quote(a['path'])}"
    return f"sed -i 's/{a['old']}/{a['new']}/' {shlex.quote(a['path'])}"


def _responses(body: dict[str, Any], index: int, turn: Turn) -> Answer:
    if isinstance(turn, str):
        items: list[dict[str, Any]] = [
            {
                "type": "message",
                "id": f"msg_fake_{index:04d}",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": turn, "annotations": []}],
            }
        ]
    else:
        items = [_codex_item(body, call, f"fake_{index:04d}_{n}") for n, call in enumerate(turn)]
    response: dict[str, Any] = {
        "id": f"resp_fake_{index:04d}",
        "object": "response",
        "status": "in_progress",
        "model": body.get("model"),
        "output": [],
    }
    usage = {"input_tokens": 11, "output_tokens": 7, "total_tokens": 18}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": response}]
    for n, item in enumerate(items):
        events.append({"type": "response.output_item.added", "output_index": n, "item": item})
        events.append({"type": "response.output_item.done", "output_index": n, "item": item})
    done = {**response, "status": "completed", "output": items, "usage": usage}
    events.append({"type": "response.completed", "response": done})
    return 200, "text/event-stream", sse([(e["type"], e) for e in events])


# ---------------------------------------------------------------- Gemini


def _gemini_call(call: Call) -> dict[str, Any]:
    a = call.args
    if call.kind == "shell":
        return {"name": "run_shell_command", "args": {"command": a["command"]}}
    if call.kind == "write":
        return {"name": "write_file", "args": {"file_path": a["path"], "content": a["content"]}}
    return {
        "name": "replace",
        "args": {
            "file_path": a["path"],
            "old_string": a["old"],
            "new_string": a["new"],
            "instruction": "edit the file",
        },
    }


def _gemini_chunk(model: str, parts: list[dict[str, Any]], last: bool) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
    if last:
        candidate["finishReason"] = "STOP"
        chunk["usageMetadata"] = {
            "promptTokenCount": 11,
            "candidatesTokenCount": 7,
            "totalTokenCount": 18,
        }
    return chunk


def _gemini_side(route: str) -> Answer:
    """Gemini's side calls (routing, next speaker, loop check) ask for JSON: one object that
    answers all of them (simple request, the user speaks next, no loop)."""
    model = route.rsplit("/", 1)[-1].split(":")[0]
    text = json.dumps(
        {
            "complexity_reasoning": "simple",
            "complexity_score": 5,
            "reasoning": "the model finished",
            "next_speaker": "user",
            "unproductive_state_confidence": 0.0,
            "unproductive_state_analysis": "no loop",
        }
    )
    chunk = _gemini_chunk(model, [{"text": text}], last=True)
    return 200, "application/json", json.dumps(chunk).encode()


def _gemini(route: str, index: int, turn: Turn) -> Answer:
    model = route.rsplit("/", 1)[-1].split(":")[0]
    if isinstance(turn, str):
        half = len(turn) // 2
        chunks = [
            _gemini_chunk(model, [{"text": turn[:half]}], last=False),
            _gemini_chunk(model, [{"text": turn[half:]}], last=True),
        ]
    else:
        parts = [{"functionCall": _gemini_call(call)} for call in turn]
        chunks = [_gemini_chunk(model, parts, last=True)]
    return 200, "text/event-stream", sse([(None, c) for c in chunks])

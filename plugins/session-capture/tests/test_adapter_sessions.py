"""The session adapters on the real session files the vendor CLIs wrote (copied into
`data/sessions/`), on realistic tool-call lines built from the documented formats, and on
arbitrary bytes (never raise)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ox_core.doctor import plugins_report
from ox_core.plugins import load_plugins
from ox_session_capture.adapters import (
    AdapterError,
    SessionAdapter,
    adapter_names,
    load_adapter,
)
from ox_session_capture.records import RawEntry
from ox_session_capture.testing import claude_assistant, claude_user

DATA = Path(__file__).parent / "data" / "sessions"


def parse_file(adapter: SessionAdapter, name: str) -> list[RawEntry]:
    out: list[RawEntry] = []
    for line in (DATA / name).read_bytes().splitlines():
        out.extend(adapter.parse_line(line))
    return out


def sid(entry: RawEntry) -> Any:
    return (entry.model_extra or {}).get("source_id")


def summary(entries: list[RawEntry]) -> list[tuple[str, str]]:
    return [(e.type, e.content) for e in entries]


# ---------------------------------------------------------------- loading by name


def test_builtin_adapters_are_found_by_entry_point_name_and_alias() -> None:
    assert {"claude-code", "codex", "gemini"} <= set(adapter_names())
    assert load_adapter("claude").name == "claude-code"
    assert load_adapter("claude-code").roots == (".claude/projects",)
    assert load_adapter("gemini-cli").name == "gemini"
    assert load_adapter("codex").roots == (".codex/sessions",)


def test_unknown_adapter_is_a_clear_error() -> None:
    with pytest.raises(AdapterError, match=r"unknown session adapter 'cursor'.*claude-code"):
        load_adapter("cursor")


def test_a_third_party_adapter_is_loaded_from_its_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ox_thirdparty_adapter.py").write_text(
        textwrap.dedent(
            """
            from ox_core import hookimpl
            from ox_session_capture.records import RawEntry

            class EchoAdapter:
                name = "echo-agent"
                roots = (".echo",)

                def parse_line(self, line):
                    return [RawEntry(type="user", content=line.decode(errors="replace"))]

            @hookimpl
            def ox_register_adapters(register):
                register(EchoAdapter)
            """
        )
    )
    dist = tmp_path / "ox_thirdparty_adapter-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ox-thirdparty-adapter\nVersion: 0.1\n"
    )
    (dist / "entry_points.txt").write_text("[ox.adapters]\necho-agent = ox_thirdparty_adapter\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "ox_thirdparty_adapter", raising=False)
    assert "echo-agent" in adapter_names()
    adapter = load_adapter("echo-agent")
    assert adapter.roots == (".echo",)
    assert summary(adapter.parse_line(b"hello")) == [("user", "hello")]
    # Through the same loader as runners and handlers: `ox-core plugins` lists it.
    rows = {(r["group"], r["name"]): r for r in plugins_report(load_plugins())}
    assert rows[("ox.adapters", "echo-agent")]["distribution"] == "ox-thirdparty-adapter"
    assert rows[("ox.adapters", "echo-agent")]["error"] is None


def test_a_broken_third_party_adapter_reports_its_import_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dist = tmp_path / "ox_broken_adapter-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ox-broken-adapter\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[ox.adapters]\nbroken-agent = ox_no_such_module_here\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(AdapterError, match=r"broken-agent.*failed to load.*ox_no_such_module"):
        load_adapter("broken-agent")
    rows = {(r["group"], r["name"]): r for r in plugins_report(load_plugins())}
    assert "ox_no_such_module_here" in rows[("ox.adapters", "broken-agent")]["error"]


# ---------------------------------------------------------------- claude-code


def test_claude_real_session_file_entry_by_entry() -> None:
    entries = parse_file(load_adapter("claude-code"), "claude-ok-resume.jsonl")
    # 32 lines: attachments, API records, queue operations... and two turns.
    assert summary(entries) == [
        ("user", "say hi"),
        ("assistant", "Hi! I am the fake LLM."),
        ("user", "say hi again"),
        ("assistant", "Hi! I am the fake LLM."),
    ]
    assert [sid(e) for e in entries] == [
        "83eb0a9e-4a52-461a-86c8-77d18e36e3ce",
        "3c748c17-d89c-4777-8259-fb8786ba7ed6#0",
        "64889ae3-385d-4658-9f72-56216bc6a988",
        "43f14883-b2d2-4af1-9fab-fd6ae431a781#0",
    ]
    assert entries[0].ts is not None
    assert entries[0].ts.isoformat().startswith("2026-11-24T00:38")
    assert all(e.tool_name is None for e in entries)


def test_claude_tool_use_thinking_meta_and_tool_results() -> None:
    adapter = load_adapter("claude-code")
    lines = [
        claude_user("u1", "<system-reminder>\nctx\n</system-reminder>\nfix the bug"),
        claude_user("u2", "Caveat: local command", isMeta=True),
        claude_assistant(
            "a1",
            [
                {"type": "thinking", "thinking": "hmm", "signature": "x"},
                {"type": "text", "text": "Let me look."},
                {
                    "type": "tool_use",
                    "id": "toolu_01",
                    "name": "Bash",
                    "input": {"command": "ls -la", "description": "list"},
                },
                {"type": "tool_use", "id": "toolu_02", "name": "Read", "input": {"file_path": "/"}},
            ],
        ),
        claude_user(
            "u3",
            [{"type": "tool_result", "tool_use_id": "toolu_01", "content": "a", "is_error": False}],
        ),
        claude_user("u4", [{"type": "text", "text": "<system-reminder>only</system-reminder>"}]),
        claude_user("u5", [{"type": "text", "text": "part one"}, {"type": "text", "text": "two"}]),
    ]
    entries = [e for line in lines for e in adapter.parse_line(line.rstrip(b"\n"))]
    assert [(e.type, e.tool_name or e.content) for e in entries] == [
        ("user", "fix the bug"),
        ("system", "Caveat: local command"),
        ("assistant", "Let me look."),
        ("tool", "Bash"),
        ("tool", "Read"),
        ("tool", "Bash"),  # the result of toolu_01, joined to its call by id
        ("user", "part one\ntwo"),
    ]
    bash, read, result = entries[3], entries[4], entries[5]
    assert bash.content == read.content == result.content == ""
    assert (result.call_id, result.tool_output, result.is_error) == ("toolu_01", "a", False)
    assert result.tool_input is None
    assert (bash.tool_name, bash.call_id) == ("Bash", "toolu_01")
    assert json.loads(bash.tool_input or "") == {"command": "ls -la", "description": "list"}
    assert (read.tool_name, read.call_id, sid(read)) == ("Read", "toolu_02", "a1#3")
    assert sid(entries[2]) == "a1#1"


# ---------------------------------------------------------------- codex


def test_codex_real_session_file_entry_by_entry() -> None:
    entries = parse_file(load_adapter("codex"), "codex-ok-json.jsonl")
    assert [e.type for e in entries] == ["system", "user", "assistant", "user", "assistant"]
    assert entries[0].content.startswith("<environment_context>")
    assert [e.content for e in entries[1:]] == [
        "say hi",
        "Hi! I am the fake LLM.",
        "say hi again",
        "Hi! I am the fake LLM.",
    ]
    assert sid(entries[2]) == "msg_fake_983db3328bc340389f1512f0"


def _codex(payload: dict[str, Any]) -> bytes:
    return json.dumps(
        {"timestamp": "2026-11-24T00:38:34.017Z", "type": "response_item", "payload": payload}
    ).encode()


def test_codex_function_calls_and_failing_outputs() -> None:
    adapter = load_adapter("codex")
    lines = [
        _codex(
            {
                "type": "function_call",
                "id": "fc_1",
                "name": "shell",
                "arguments": '{"command":["bash","-lc","pytest -q"]}',
                "call_id": "call_A",
            }
        ),
        _codex(
            {
                "type": "function_call_output",
                "call_id": "call_A",
                "output": json.dumps({"output": "1 failed", "metadata": {"exit_code": 1}}),
            }
        ),
        _codex(
            {
                "type": "function_call_output",
                "call_id": "call_B",
                "output": json.dumps({"output": "ok", "metadata": {"exit_code": 0}}),
            }
        ),
        _codex({"type": "function_call_output", "call_id": "call_C", "output": "Exit code: 2\nx"}),
        _codex(
            {
                "type": "function_call_output",
                "call_id": "call_D",
                "output": {"content": "denied", "success": False},
            }
        ),
        _codex({"type": "reasoning", "id": "rs_1", "summary": []}),
        _codex(
            {
                "type": "message",
                "role": "developer",
                "content": [{"type": "input_text", "text": "vendor"}],
            }
        ),
    ]
    entries = [e for line in lines for e in adapter.parse_line(line)]
    # Every output is kept (successful ones as an excerpt), joined to its call by call_id.
    assert [(e.type, e.tool_name, e.call_id, e.is_error, e.exit_code) for e in entries] == [
        ("tool", "shell", "call_A", None, None),
        ("tool", "shell", "call_A", True, 1),
        ("tool", None, "call_B", False, 0),
        ("tool", None, "call_C", True, 2),
        ("tool", None, "call_D", True, None),
    ]
    assert json.loads(entries[0].tool_input or "") == {"command": ["bash", "-lc", "pytest -q"]}
    assert "1 failed" in (entries[1].tool_output or "")
    assert sid(entries[1]) == "call_A#output"
    assert adapter.unknown == {}  # type: ignore[attr-defined]  # reasoning, developer: known


# ---------------------------------------------------------------- gemini


def test_gemini_real_session_file_entry_by_entry() -> None:
    entries = parse_file(load_adapter("gemini"), "gemini-ok-resume.jsonl")
    # The resume's `$set` lists earlier messages again: history, not new messages; only the
    # CLI's `<session_context>` preamble is taken from it (the tail drops repeats by id).
    unique: dict[str, RawEntry] = {}
    for e in entries:
        unique.setdefault(sid(e), e)
    assert summary(list(unique.values())) == [
        ("system", unique["d04923d38bb0f6017037e74183378ef4"].content),
        ("user", "say hi"),
        ("assistant", "Hi! I am the fake LLM."),
        ("user", "say hi again"),
        ("assistant", "Hi! I am the fake LLM."),
    ]
    assert unique["d04923d38bb0f6017037e74183378ef4"].content.startswith("<session_context>")
    assert len(entries) == 7  # the preamble three times (first `$set`, resume, its re-list)


def test_gemini_failed_session_has_no_answer() -> None:
    entries = parse_file(load_adapter("gemini"), "gemini-fault-401.jsonl")
    assert {(e.type, sid(e)) for e in entries} == {
        ("system", "d04923d38bb0f6017037e74183378ef4"),
        ("user", "5f44b2d4-e881-46c1-adc6-d036ec3217fc"),
    }


def test_gemini_tool_calls_and_info_messages() -> None:
    adapter = load_adapter("gemini")
    line = json.dumps(
        {
            "id": "m1",
            "timestamp": "2026-11-24T00:40:16.246Z",
            "type": "gemini",
            "content": [{"text": "Running it."}],
            "toolCalls": [
                {
                    "id": "run_shell_command-1",
                    "name": "run_shell_command",
                    "args": {"command": "ls"},
                    "status": "success",
                    "result": [
                        {
                            "functionResponse": {
                                "id": "x",
                                "name": "run_shell_command",
                                "response": {"output": "a.txt"},
                            }
                        }
                    ],
                },
                {
                    "id": "read-2",
                    "name": "read_file",
                    "args": {"path": "/x"},
                    "status": "error",
                    "result": "no such file",
                },
            ],
            "model": "gemini-3.8-flash",
        }
    ).encode()
    info = json.dumps({"id": "i1", "type": "info", "content": "Request cancelled."}).encode()
    entries = adapter.parse_line(line) + adapter.parse_line(info)
    assert [(e.type, e.tool_name, e.call_id, e.is_error) for e in entries] == [
        ("assistant", None, None, None),
        ("tool", "run_shell_command", "run_shell_command-1", None),  # the call
        ("tool", "run_shell_command", "run_shell_command-1", False),  # its result
        ("tool", "read_file", "read-2", None),
        ("tool", "read_file", "read-2", True),
        ("system", None, None, None),
    ]
    assert entries[2].tool_output == "a.txt"
    assert entries[1].tool_output is None
    assert json.loads(entries[1].tool_input or "") == {"command": "ls"}
    assert [sid(e) for e in entries] == [
        "m1",
        "m1#run_shell_command-1",
        "m1#run_shell_command-1#result",
        "m1#read-2",
        "m1#read-2#result",
        "i1",
    ]


# ---------------------------------------------------------------- never raise

ADAPTERS = ["claude-code", "codex", "gemini"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
# Objects shaped like the real lines (right keys, arbitrary values) reach deep into parsing.
shaped = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["user", "assistant", "response_item", "gemini", "info", 3]),
        "message": json_values,
        "payload": json_values,
        "content": json_values,
        "toolCalls": json_values,
        "uuid": json_values,
        "timestamp": st.sampled_from(["2026-11-24T00:38:26Z", "bad", 12, None]),
    },
    optional={"$set": st.dictionaries(st.just("messages"), json_values), "isMeta": json_values},
)


@pytest.mark.parametrize("name", ADAPTERS)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_adapters_never_raise_on_arbitrary_bytes(name: str, data: bytes) -> None:
    entries = load_adapter(name).parse_line(data)
    assert all(isinstance(e, RawEntry) for e in entries)


@pytest.mark.parametrize("name", ADAPTERS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(obj=shaped)
def test_adapters_never_raise_on_line_shaped_objects(name: str, obj: dict[str, Any]) -> None:
    entries = load_adapter(name).parse_line(json.dumps(obj).encode())
    for e in entries:
        assert e.type in ("user", "assistant", "system", "tool")
        assert isinstance(e.content, str)


@pytest.mark.parametrize(
    ("name", "file", "info"),
    [
        (
            "claude-code",
            "claude-ok-resume.jsonl",
            {"model": "claude-opus-5-5", "agent_version": "2.1.330"},
        ),
        ("codex", "codex-ok-json.jsonl", {"model": "gpt-6.1-sol", "agent_version": "0.169.0"}),
        ("gemini", "gemini-ok-resume.jsonl", {"model": "gemini-3.8-flash"}),
    ],
)
def test_adapters_report_model_and_agent_version(
    name: str, file: str, info: dict[str, str]
) -> None:
    adapter = load_adapter(name)
    parse_file(adapter, file)
    assert adapter.info == info  # type: ignore[attr-defined]


# ---------------------------------------------------------------- unknown types, exit codes


def test_unknown_types_are_counted_by_each_adapter() -> None:
    claude = load_adapter("claude-code")
    for line in (
        b'{"type":"agent-memo","memo":"x"}',
        b'{"type": "agent-memo"}',
        b'{"type":"attachment","x":1}',  # known, skipped
        b'{"parentUuid":null,"attachment":{"type":"file"},"type":"attachment"}',
    ):
        assert claude.parse_line(line) == []
    assert claude.unknown == {"agent-memo": 2}  # type: ignore[attr-defined]
    codex = load_adapter("codex")
    for payload in ({"type": "tool_search_call"}, {"type": "reasoning"}):
        assert codex.parse_line(_codex(payload)) == []
    assert codex.parse_line(b'{"timestamp":"t","type":"event_msg","payload":{}}') == []
    assert codex.parse_line(b'{"timestamp":"t","type":"memory_item","payload":{}}') == []
    assert codex.unknown == {"response_item/tool_search_call": 1, "memory_item": 1}  # type: ignore[attr-defined]
    gemini = load_adapter("gemini")
    assert gemini.parse_line(b'{"id":"m","type":"plan","content":"x"}') == []
    assert gemini.parse_line(b'{"sessionId":"s","startTime":"t","kind":"main"}') == []
    assert gemini.unknown == {"plan": 1}  # type: ignore[attr-defined]


def test_exit_codes_count_only_where_the_agent_reports_them() -> None:
    gemini = load_adapter("gemini")
    text = "Output: build log\nExit Code: 1\n"
    line = json.dumps(
        {
            "id": "m1",
            "type": "gemini",
            "content": "",
            "toolCalls": [
                {"id": "r", "name": "read_file", "args": {}, "status": "success", "result": text},
                {"id": "s", "name": "run_shell_command", "args": {}, "status": "success",
                 "result": text},
            ],
        }
    ).encode()  # fmt: skip
    results = [e for e in gemini.parse_line(line) if e.tool_output is not None]
    # A file that mentions an exit code is not a failed read; a shell command's is.
    assert [(e.tool_name, e.is_error, e.exit_code) for e in results] == [
        ("read_file", False, None),
        ("run_shell_command", True, 1),
    ]
    claude = load_adapter("claude-code")
    lines = [
        claude_user("u1", [{"type": "tool_result", "tool_use_id": "t1", "content": [
            {"type": "text", "text": "permission denied"}], "is_error": True}]),
        claude_user("u2", [{"type": "tool_result", "tool_use_id": "t2",
                            "content": "log:\nExit code 3\n", "is_error": False}]),
    ]  # fmt: skip
    out = [e for line in lines for e in claude.parse_line(line.rstrip(b"\n"))]
    assert [(e.is_error, e.exit_code, e.tool_output) for e in out] == [
        (True, None, "permission denied"),
        (False, None, "log:\nExit code 3\n"),  # only a first line `Exit code N` counts
    ]


def test_successful_outputs_are_an_excerpt_failed_ones_kept_longer() -> None:
    codex = load_adapter("codex")
    long = "x" * 50_000
    ok = codex.parse_line(_codex({"type": "function_call_output", "call_id": "a", "output": long}))
    bad = codex.parse_line(
        _codex({"type": "function_call_output", "call_id": "b", "output": "Exit code: 1\n" + long})
    )
    assert ok[0].tool_output == "x" * 500 + "\n[… 49500 more characters]"
    assert bad[0].is_error
    assert len(bad[0].tool_output or "") == 16000 + len("\n[… 34013 more characters]")


def test_claude_system_notices_with_text_are_system_entries() -> None:
    claude = load_adapter("claude-code")
    notice = {
        "parentUuid": "p",
        "type": "system",
        "subtype": "local_command",
        "content": "<command-name>/model</command-name> Set model to haiku",
        "level": "info",
        "uuid": "s1",
        "timestamp": "2026-11-24T00:38:26.778Z",
    }
    silent = {"parentUuid": "p", "type": "system", "subtype": "turn_duration", "uuid": "s2"}
    out = claude.parse_line(json.dumps(notice).encode()) + claude.parse_line(
        json.dumps(silent).encode()
    )
    assert [(e.type, e.content, sid(e)) for e in out] == [
        ("system", "<command-name>/model</command-name> Set model to haiku", "s1")
    ]
    assert claude.unknown == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("2026-11-24T00:38:26.778Z", "2026-11-24T00:38:26.778000Z"),
        ("2026-11-24T00:38:26Z", "2026-11-24T00:38:26Z"),
        ("2026-11-24T00:38:26-00:00", "2026-11-24T00:38:26Z"),
        ("2026-11-24 00:38:26.5+05:30", "2026-11-24T00:38:26.500000+05:30"),
        # An offset with seconds is valid ISO 8601 but not RFC 3339: written in UTC.
        ("2026-11-24T00:38:26+05:30:15", "2026-11-23T19:08:11Z"),
        ("2026-11-24T00:38:26", None),  # no offset: the time of day means nothing
        ("yesterday", None),
        (1764000000, None),
        ("", None),
    ],
)
def test_timestamps_are_written_as_rfc_3339_that_reads_back(
    text: object, written: str | None
) -> None:
    from datetime import datetime

    from ox_session_capture.adapters.base import parse_ts
    from ox_session_capture.raw_lines import entry_line

    ts = parse_ts(text)
    if written is None:
        assert ts is None
        return
    assert json.loads(entry_line({"ts": ts, "type": "user", "content": ""}))["ts"] == written
    read = RawEntry.model_validate({"type": "user", "ts": written}).ts
    assert read == datetime.fromisoformat(str(text))

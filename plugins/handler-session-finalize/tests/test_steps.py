"""Tool calls joined to their results (each shown once) and the files touched, derived from
the inputs of the tools that write files; hostile inputs (not JSON, a patch in a shell
command, a failed write, huge lists) change nothing they should not."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ox_handler_session_finalize.steps import files_touched, steps
from ox_session_capture.records import RawEntry


def call(name: str, tool_input: object, call_id: str = "") -> RawEntry:
    text = tool_input if isinstance(tool_input, str) else json.dumps(tool_input)
    return RawEntry(type="tool", tool_name=name, tool_input=text, call_id=call_id or None)


def result(call_id: str, *, failed: bool = False) -> RawEntry:
    return RawEntry(type="tool", tool_output="out", is_error=failed, call_id=call_id)


PATCH = "*** Begin Patch\n*** Add File: src/new.py\n+x\n*** Update File: README.md\n@@\n-a\n+b\n"


def test_files_from_every_agents_writing_tools() -> None:
    entries = [
        call("Write", {"file_path": "/w/a.py", "content": "x"}),
        call("Edit", {"file_path": "/w/b.py", "old_string": "a", "new_string": "b"}),
        call("MultiEdit", {"file_path": "/w/a.py", "edits": []}),  # already listed
        call("write_file", {"file_path": "c.txt", "content": ""}),
        call("replace", {"file_path": "d.txt", "old_string": "", "new_string": ""}),
        call("apply_patch", PATCH + "*** Move to: docs/README.md\n*** End Patch\n"),
        call("exec", "text(await tools.apply_patch(" + json.dumps(PATCH) + "));"),
        call("Read", {"file_path": "/w/read-only.py"}),
    ]
    assert files_touched(entries) == [
        "/w/a.py",
        "/w/b.py",
        "c.txt",
        "d.txt",
        "src/new.py",
        "README.md",
        "docs/README.md",
    ]


def test_hostile_or_failed_inputs_name_no_file() -> None:
    entries = [
        call("Write", "not json {"),
        call("Write", ["a", "list"]),
        call("Write", {"file_path": ["x"]}),
        call("Write", {"file_path": "   "}),
        call("Bash", {"command": "echo '*** Add File: fake.txt'"}),
        call("Write", {"file_path": "failed.txt"}, "c1"),
        result("c1", failed=True),
        call("Write", {"file_path": "x" * 5000}),
        call("Write", '{"file_path": ' + "[" * 5000 + "]" * 5000 + "}"),  # beyond recursion
    ]
    assert files_touched(entries) == []
    many = [call("Write", {"file_path": f"f{n}"}) for n in range(500)]
    assert len(files_touched(many)) == 200


def test_results_fold_into_their_calls_once() -> None:
    entries = [
        RawEntry(type="user", content="go"),
        call("Bash", {"command": "ls"}, "c1"),
        call("Bash", {"command": "pwd"}, "c2"),
        result("c2"),
        result("c1", failed=True),
        result("c1"),  # a second result for the same call stays visible
        result("orphan"),  # its call is not in the transcript (recorded from a resume)
    ]
    shown = steps(entries)
    assert [(s.entry.type, s.entry.call_id, s.result is not None) for s in shown] == [
        ("user", None, False),
        ("tool", "c1", True),
        ("tool", "c2", True),
        ("tool", "c1", False),
        ("tool", "orphan", False),
    ]
    assert shown[1].result is not None
    assert shown[1].result.is_error


entry_kinds = st.one_of(
    st.builds(lambda t: RawEntry(type="user", content=t), st.text(max_size=5)),
    st.builds(lambda c: call("Bash", {"command": "x"}, c), st.sampled_from(["a", "b", "c", ""])),
    st.builds(result, st.sampled_from(["a", "b", "c", "d"])),
)


@given(st.lists(entry_kinds, max_size=30))
def test_steps_keep_every_entry_in_order(entries: list[RawEntry]) -> None:
    shown = steps(entries)
    flat = [e for s in shown for e in (s.entry, s.result) if e is not None]
    assert sorted(map(id, flat)) == sorted(map(id, entries))
    # Calls keep their order; each result comes after its call.
    order = {id(e): n for n, e in enumerate(entries)}
    assert [order[id(s.entry)] for s in shown] == sorted(order[id(s.entry)] for s in shown)
    for s in shown:
        if s.result is not None:
            assert order[id(s.result)] > order[id(s.entry)]
            assert s.result.call_id == s.entry.call_id

"""A third party's session adapter, installed from its own distribution: whatever its
`parse_fields` returns, or whichever `roots` it names, it never leaks a secret past redaction,
never ends the recording, and never makes a file outside the user's agent folders a session
file."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ox_core.plugins import ADAPTERS_GROUP, load_plugins
from ox_session_capture import blocks
from ox_session_capture import tail as tail_mod
from ox_session_capture.adapters.claude_code import ClaudeCodeAdapter
from ox_session_capture.recording import RecordingRejected, create_recording
from ox_session_capture.records import RAW, RecordingMarker, read_marker, update_marker
from ox_session_capture.redact import LedgerRedactor
from ox_session_capture.tail import SourceTail
from ox_session_capture.testing import claude_session_file, claude_user, record_lines
from ox_session_capture.transcript import read_raw

SECRET = "AKIAZ7XK3QWERTY12ABC"
ROOTS = ["/", "..", "../..", "", ".", "/tmp", ".x/../.."]


def install_adapter(site: Path, name: str, body: str) -> None:
    """A distribution `name` on `site` (on sys.path) whose entry point in `ox.adapters`
    registers the class `Adapter` of `body`, the way a third party ships one."""
    module = name.replace("-", "_") + "_adapter"
    code = f"""
        import ox_core
        from ox_session_capture.adapters import BaseAdapter

        {textwrap.indent(textwrap.dedent(body), " " * 8).strip()}

        @ox_core.hookimpl
        def ox_register_adapters(register):
            register(Adapter)
        """
    (site / f"{module}.py").write_text(textwrap.dedent(code))
    info = site / f"{module}-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text(f"[ox.adapters]\n{name} = {module}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


def test_fields_a_third_party_adapter_gives_in_other_shapes_are_never_written_unredacted(
    ledger: Path, home: Path, site: Path
) -> None:
    # Natural mistakes: the tool's input as the agent's dict, not its JSON text; a field of
    # its own. Redaction passes the text fields only, and `raw.jsonl` is published.
    install_adapter(
        site,
        "shapes",
        f"""
        class Adapter(BaseAdapter):
            name = "shapes"
            roots = (".shapes",)

            def parse_object(self, obj):
                return [
                    {{"type": "tool", "content": "", "tool_name": "Bash",
                      "tool_input": {{"command": "export KEY={SECRET}"}}}},
                    {{"type": "assistant", "content": "ok", "reasoning": "key {SECRET}"}},
                ]
        """,
    )
    session_dir = record_lines(ledger, home, home / ".shapes/s.jsonl", "shapes", [b"{}\n"])
    raw = (session_dir / RAW).read_text()
    assert SECRET not in raw
    assert read_marker(session_dir).source_offset == 3


def test_an_entry_that_is_no_json_never_stops_the_recording(
    ledger: Path, home: Path, site: Path
) -> None:
    install_adapter(
        site,
        "unwritable",
        """
        class Adapter(BaseAdapter):
            name = "unwritable"
            roots = (".unwritable",)

            def parse_object(self, obj):
                looped = {"type": "user"}
                looped["content"] = looped
                bad = {
                    "a": {"type": "user", "content": b"\\xff"},
                    "b": looped,
                    "c": {"type": "user", "content": object()},
                }.get(obj.get("bad"))
                return [bad] if bad else [{"type": "user", "content": obj["text"]}]
        """,
    )
    lines = [json.dumps(obj).encode() + b"\n" for obj in (
        {"text": "before"}, {"bad": "a"}, {"bad": "b"}, {"bad": "c"}, {"text": "after"}
    )]  # fmt: skip
    src = home / ".unwritable/s.jsonl"
    session_dir = record_lines(ledger, home, src, "unwritable", lines)
    transcript = read_raw(session_dir / RAW)
    assert [e.content for e in transcript.entries] == ["before", "after"]
    assert read_marker(session_dir).source_offset == src.stat().st_size


@pytest.mark.parametrize("root", ROOTS)
def test_an_adapter_root_outside_home_never_admits_a_file_there(
    ledger: Path, home: Path, site: Path, tmp_path: Path, root: str
) -> None:
    name = f"roots-{ROOTS.index(root)}"
    install_adapter(
        site,
        name,
        f"""
        class Adapter(BaseAdapter):
            name = {name!r}
            roots = ({root!r},)

            def parse_object(self, obj):
                return []
        """,
    )
    outside = tmp_path / "elsewhere.jsonl"  # beside $HOME, in no agent's folder
    outside.write_bytes(b"")
    with pytest.raises(RecordingRejected):
        create_recording(ledger, name, outside, pid=os.getpid(), home=home, agent_id="a")
    in_home = home / "notes.jsonl"  # $HOME itself is no agent's folder either
    in_home.write_bytes(b"")
    with pytest.raises(RecordingRejected):
        create_recording(ledger, name, in_home, pid=os.getpid(), home=home, agent_id="a")


def test_an_adapter_that_gives_entries_without_end_keeps_a_bounded_number(
    ledger: Path, home: Path, site: Path
) -> None:
    install_adapter(
        site,
        "endless",
        """
        import itertools

        class Adapter(BaseAdapter):
            name = "endless"
            roots = (".endless",)

            def parse_object(self, obj):
                if obj.get("text"):
                    return [{"type": "user", "content": obj["text"]}]
                return ({"type": "user", "content": str(n)} for n in itertools.count())
        """,
    )
    src = home / ".endless/s.jsonl"
    session_dir = record_lines(ledger, home, src, "endless", [b"{}\n", b'{"text": "after"}\n'])
    from ox_session_capture.raw_lines import MAX_ENTRIES_PER_LINE

    entries = read_raw(session_dir / RAW).entries
    assert len(entries) == MAX_ENTRIES_PER_LINE + 1
    assert entries[-1].content == "after"
    assert read_marker(session_dir).source_offset == src.stat().st_size


def test_an_adapter_failing_midway_through_its_entries_loses_only_its_line(
    ledger: Path, home: Path, site: Path
) -> None:
    install_adapter(
        site,
        "midway",
        """
        class Adapter(BaseAdapter):
            name = "midway"
            roots = (".midway",)

            def parse_object(self, obj):
                yield {"type": "user", "content": obj["text"]}
                if obj["text"] == "bad":
                    raise RuntimeError("the adapter's own bug")
        """,
    )
    lines = [b'{"text": "before"}\n', b'{"text": "bad"}\n', b'{"text": "after"}\n']
    src = home / ".midway/s.jsonl"
    session_dir = record_lines(ledger, home, src, "midway", lines)
    assert [e.content for e in read_raw(session_dir / RAW).entries] == ["before", "after"]
    marker = read_marker(session_dir)
    assert marker.source_offset == src.stat().st_size
    # The line it lost is counted where status reads the lines a recording could not keep.
    assert (marker.model_extra or {})["unknown_lines"] == {"(the adapter failed on it)": 1}


class ReasoningAdapter(ClaudeCodeAdapter):
    """A third party's claude-code variant that adds a field of its own to every entry."""

    name = "reasoning"

    def parse_fields(self, line: bytes) -> list[Any]:
        return [{**e, "reasoning": f"key {SECRET}"} for e in super().parse_fields(line)]


def from_the_start(marker: RecordingMarker) -> None:
    marker.source_offset = marker.start_offset = 0


@pytest.mark.skipif(not blocks.helpers_possible(), reason="needs fork and 2 cores")
def test_a_catch_up_with_forked_helpers_checks_a_third_partys_entries_too(
    ledger: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tail_mod, "HELPED_MIN_BYTES", 1)
    monkeypatch.setattr(tail_mod, "HELPED_BLOCK_MIN", 64)
    forked: list[int] = []

    class Counted(blocks.Helper):
        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            forked.append(1)

    monkeypatch.setattr(tail_mod, "Helper", Counted)
    src = claude_session_file(home)
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(b"".join(claude_user(f"u{n}", f"line {n}") for n in range(200)))
    rec = create_recording(ledger, "claude-code", src, pid=os.getpid(), home=home, agent_id="a")
    update_marker(rec.session_dir, from_the_start)
    tail = SourceTail(rec.session_dir, ReasoningAdapter(), src, redact=LedgerRedactor(),
                      batch_bytes=4096, commit_bytes=1 << 20)  # fmt: skip
    tail.resume()
    while tail.step().progressed:
        pass
    assert forked
    raw = (rec.session_dir / RAW).read_text()
    assert SECRET not in raw
    assert len(read_raw(rec.session_dir / RAW).entries) == 200


def test_a_third_party_adapter_keeping_a_built_in_name_never_takes_its_place(
    site: Path,
) -> None:
    # A subclass of the built-in that forgot to rename itself, installed ahead of it on the
    # path: claude-code's sessions (under .claude) would be refused by its roots.
    install_adapter(
        site,
        "my-agent",
        """
        from ox_session_capture.adapters.claude_code import ClaudeCodeAdapter

        class Adapter(ClaudeCodeAdapter):
            roots = (".my-agent",)
        """,
    )
    loaded = load_plugins(groups=(ADAPTERS_GROUP,))
    assert loaded.adapters["claude-code"] is ClaudeCodeAdapter
    assert [(e.name, e.distribution, e.error) for e in loaded.errors] == [
        ("my-agent", "my_agent_adapter", "adapter name 'claude-code' is taken by its entry point")
    ]

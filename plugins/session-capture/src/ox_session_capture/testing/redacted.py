"""One text redacted the ways ox redacts it, checked to agree: alone (`redact_text`), again
(idempotent), and in a capture batch beside another text (`LedgerRedactor.many`)."""

from __future__ import annotations

from ox_session_capture.redact import LedgerRedactor, redact_text


def redacted(text: str) -> str:
    """`redact_text(text)`, after asserting that redacting it again changes nothing and that
    a batch redacts it alike."""
    out = redact_text(text)
    assert redact_text(out) == out, text
    assert LedgerRedactor().many(["plain words", text]) == ["plain words", out], text
    return out


def assert_hidden(text: str, secret: str) -> None:
    """`secret`, which `text` holds, is gone from `text` redacted (`redacted`), a placeholder
    in its place."""
    out = redacted(text)
    assert secret not in out, out
    assert "[REDACTED_" in out, out

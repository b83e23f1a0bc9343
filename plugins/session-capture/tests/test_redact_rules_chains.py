"""Finding 3: `.ox/redact.toml` is a teammate's, and `pattern_safety` refuses only nested
repeats, alternations in repeats and backreferences. A chain of repeats over the same
characters (`\\w*\\w*\\w*…=`) is accepted, yet it splits one word n^k ways: a 60-letter
word (a hash, a path) hangs the capture thread, which `re` cannot interrupt."""

from __future__ import annotations

from pathlib import Path

import pytest

from ox_session_capture.redact import RedactRulesError, load_ledger_rules, redact_text
from ox_session_capture.redact.pattern_safety import unsafe_reason

CHAINS = [
    r"\w*\w*\w*\w*\w*\w*\w*\w*=",
    r"[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*!",
    r"(?:\w+)(?:\w+)(?:\w+)(?:\w+)(?:\w+)(?:\w+)#",
    r"\w{0,40}\w{0,40}\w{0,40}\w{0,40}\w{0,40}\w{0,40}%",
    r"a?" * 40 + "a" * 40 + "!",
]


@pytest.mark.parametrize("pattern", CHAINS)
def test_a_chain_of_repeats_is_refused(tmp_path: Path, pattern: str) -> None:
    (tmp_path / ".ox").mkdir()
    (tmp_path / ".ox" / "redact.toml").write_text(f"patterns = ['{pattern}']\n")
    with pytest.raises(RedactRulesError, match="chain of repeats"):
        # Refused with a line naming it: the first on one 80-letter word took 42 s in `re`,
        # in the capture thread, which cannot interrupt it.
        load_ledger_rules(tmp_path)


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?i)(?:api|secret)[_-]?key\s*[:=]\s*['\"]?(?P<secret>[A-Za-z0-9]{20,})",
        r"(?i)acme[_-]?\w*\d+",
        r"token\s*=\s*\w+",
        r"[A-Z]{2,5}-\d{4,8}-[a-z]+",
        r"https?://[^\s/]+/hooks/[A-Za-z0-9]+",
        r"(?:\d{1,3}\.){3}\d{1,3}",
        r"-----BEGIN ACME KEY-----[\s\S]+?-----END ACME KEY-----",
    ],
)
def test_what_teams_write_is_still_kept(pattern: str) -> None:
    assert unsafe_reason(pattern) is None
    assert redact_text("x", []) == "x"

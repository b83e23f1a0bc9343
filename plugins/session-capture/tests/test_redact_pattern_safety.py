"""A teammate's `.ox/redact.toml` cannot stop capture with a pattern that backtracks
exponentially: such patterns are refused when the rules are loaded, with a line naming them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ox_session_capture.redact import RedactRulesError, load_ledger_rules, redact_text
from ox_session_capture.redact.pattern_safety import unsafe_reason

# Known evil shapes (OWASP's ReDoS examples and their kin), each exponential or worse.
EVIL = [
    r"(a+)+$",
    r"(a*)*b",
    r"(a|aa)+$",
    r"(a|a?)+$",
    r"(\w+\s?)+$",
    r"^(([a-z])+.)+[A-Z]([a-z])+$",
    r"(.*a){20}",
    r"(?:x+x+)+y",
    r"(?=(a+)+b)",
    r"(?P<s>a+)(?P=s)",
    r"(a)?(?(1)b|c)",
]
# What teams write for their own secrets: allowed, and fast.
GOOD = [
    r"ACME-[0-9]{8}",
    r"(?i)internal-token-[a-z0-9]+",
    r"token=(?P<secret>[A-Za-z0-9_-]{20,})",
    r"(?:[A-Z]{4}-)+[0-9]+",
    r"(?:\d{1,3}\.){3}\d{1,3}",
    r"(x|y|z)+!",
    r"(?>a+)+b",
    r"(?:a+)++b",
    r"-----BEGIN ACME KEY-----[\s\S]+?-----END ACME KEY-----",
]


@pytest.mark.parametrize("pattern", EVIL)
def test_an_exponential_pattern_is_refused_by_name(tmp_path: Path, pattern: str) -> None:
    assert unsafe_reason(pattern) is not None
    (tmp_path / ".ox").mkdir()
    (tmp_path / ".ox" / "redact.toml").write_text(f"patterns = ['{pattern}']\n")
    with pytest.raises(RedactRulesError, match=r"redact\.toml: pattern .* refused"):
        load_ledger_rules(tmp_path)


@pytest.mark.parametrize("pattern", GOOD)
def test_the_patterns_teams_write_are_kept(tmp_path: Path, pattern: str) -> None:
    assert unsafe_reason(pattern) is None
    (tmp_path / ".ox").mkdir()
    (tmp_path / ".ox" / "redact.toml").write_text(f"patterns = ['{pattern}']\n")
    assert [p.pattern for p in load_ledger_rules(tmp_path)] == [pattern]


def test_a_kept_pattern_still_redacts(tmp_path: Path) -> None:
    (tmp_path / ".ox").mkdir()
    (tmp_path / ".ox" / "redact.toml").write_text("patterns = ['(?:[A-Z]{4}-)+[0-9]+']\n")
    rules = load_ledger_rules(tmp_path)
    assert redact_text("id ABCD-EFGH-42 end", rules) == "id [REDACTED_CUSTOM] end"
    assert rules[0].flags & re.UNICODE

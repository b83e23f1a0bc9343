"""A teammate's `.ox/redact.toml` cannot stop capture with a pattern that backtracks
exponentially: such patterns are refused when the rules are loaded, with a line naming them."""

from __future__ import annotations

import re
import subprocess
import sys
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


# ---------------------------------------------------------------- the built-in rules

# Built-in rules the check flags, each read and found linear: every repeated part begins
# with a character the part before it cannot end with, so where one ends is decided by the
# text. A rule added to this shape must be read the same way before it joins the list.
REVIEWED = {
    "sshpass(?>": "words end at a space or an escaped newline (`_WORD`), options begin with -;"
    " the options are read once (atomic) and skipped when no -p follows them",
    "--with-token|openssl[ \\t]": "flags are -n / -e, each ended by spaces; one pipe, then"
    " a reader whose words stop at the next pipe or line",
    "vault[ \\t]+login": "options are space-separated words beginning with -",
    "(?:configure|config|npm|pnpm)": "keywords are space-separated, the name after them is bounded",
    "store-secret|password_stdin|vncpasswd|cryptsetup": "sudo's options as the echo rule's; the"
    " words before `<<<` are bounded (200)",
    "(?:(?:\\r?\\n|\\\\n)[ \\t]*){0,3}": "the label's value on a next line: a newline and an"
    " escaped one are disjoint, and so are the spaces after them; three lines at most",
    "(?i:machine|default": "one optional word, spaces and escaped newlines are disjoint",
    # `_PRINTED` then where the word goes: flags are -n / -e, each ended by spaces, and the
    # printed word (possessive, bounded) stops at the first space, quote or `|`/`>`.
    "firebase[ \\t]+functions:secrets:set|cryptsetup": "as the echo rule; one pipe, then a"
    " fixed sink (cryptsetup's words before its `-d -` and htpasswd's before its `-i` bounded,"
    " 200)",
    "(?:base64|openssl[ \\t]+(?:enc": "as the echo rule; one pipe, then a fixed encoder",
    "[ \\t]*>>?[ \\t]*(?P<path>": "as the echo rule; one redirection, a bounded path",
    "(?:\\n[ \\t]{0,40}){0,2}": "an expect script's next lines: a newline and the spaces after"
    " it are disjoint; two lines at most",
    "(?:[a-z]{3,8}[ \\t]+){11,23}": "a mnemonic's words: letters and the spaces between them are"
    " disjoint; 24 words at most",
    "passwort|kennwort": "the label rule again, for the names of other languages (its own rule:"
    " see above)",
    "токен|ключ api": "the label rule again, for a key's or a token's name in other languages",
    "bundle[ \\t]+config": "a host's labels each begin with a dot, which no label holds",
    "(?i:the|our|my|your|its|their)(?:": "a value first (possessive, no space in it), then"
    " up to three words before the name: spaces and letters are disjoint",
    "(?:[ ]?[A-Za-z2-7]{4}){3,15}": "a two-factor seed's groups of exactly four, an optional"
    " space between: each group starts where the one before ended, at most 15 ways to stop",
    "(?P<secret2>(?P<two>": "a password typed twice: the first copy possessive and bounded"
    " (300), then one escape and a backreference (a comparison of that many characters, no"
    " choice); each start is a literal `echo`, `printf`, `(` or `yes`",
    "mysql_secure_installation)(?![\\w-])[^\\n|;&<]{0,200}<<<": "the here-string's words before"
    " `<<<` bounded (200), then the same possessive copy and backreference",
    "credentials?))\\((?:": "a setter's arguments before the password: at most two, each"
    " a quoted string without a quote inside (bounded, 200) and its comma",
    "chpasswd(?:": "cloud-init's lines: a newline and an escaped one are disjoint, each line's"
    " spaces and text possessive (a line is read one way); five lines before `list:` at most",
}


def test_every_flagged_built_in_rule_was_reviewed() -> None:
    from ox_session_capture.redact.engine import RULES

    flagged = [r.pattern.pattern for r in RULES if unsafe_reason(r.pattern.pattern)]
    unreviewed = [p for p in flagged if not any(key in p for key in REVIEWED)]
    assert unreviewed == []
    assert len(flagged) == len(REVIEWED)


def test_sshpass_options_split_by_escaped_newlines_never_hang() -> None:
    # Was 2^n: 22 options took 2.4 s, 40 would take days, in the capture thread.
    text = "sshpass -a" + "\\n-a" * 40 + " x"
    code = f"from ox_session_capture.redact import redact_text; redact_text({text!r})"
    subprocess.run([sys.executable, "-c", code], timeout=60, check=True)


def test_sshpass_options_with_values_do_not_hide_the_password() -> None:
    out = redact_text("sshpass -o StrictHostKeyChecking=no -p Zq8xWv3kLm9 ssh deploy@h")
    assert out == "sshpass -o StrictHostKeyChecking=no -p [REDACTED_CLI_PASSWORD] ssh deploy@h"
    assert redact_text("sshpass -e ssh host -p 2222") == "sshpass -e ssh host -p 2222"

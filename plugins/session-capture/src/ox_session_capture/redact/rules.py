"""What a redaction rule is, and the regex pieces and value checks the rule modules share.

Every rule is written for *decoded* text, but its boundaries also accept the JSON escapes
`\\n`, `\\r`, `\\t` and `\\"` as separators, so text that still carries escapes (a JSON
document quoted inside a string, a truncated tool output that no longer parses) is caught too:
after `\\n` the next character follows an `n`, which a plain `\\b` would not accept.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

# A match starts where no word character precedes it, or right after an escape sequence.
START = r"(?:(?<![A-Za-z0-9_])|(?<=\\[nrt]))"


def at_word_start(word: str) -> str:
    """`word`, then a look-behind that it started where `START` lets a match start. A pattern
    that begins with a literal is searched for it at C speed; one that begins with a
    look-behind (`START`) tests every position of the text."""
    return word + r"(?:(?<![A-Za-z0-9_]" + word + r")|(?<=\\[nrt]" + word + r"))"


LINE_CONTEXT = 400
"""How far a check looks along a match's line, either way (`line_before`, `line_after`): a
check that read to the ends of a long line would take the line's length at each match
(quadratic: 1 MB of one line of matches took minutes)."""


def letter_at_word_start(letters: str) -> str:
    """One of `letters` (a class's body: `cCuU`), then a look-behind that it started where
    `START` lets a match start: `re` finds the letters at C speed, where `START` first, or a
    look-ahead first, tests every position of the text. The rest of the word follows it."""
    return f"[{letters}](?:(?<![A-Za-z0-9_][{letters}])|(?<=\\\\[nrt][{letters}]))"


def line_start(text: str, pos: int, limit: int = LINE_CONTEXT) -> int:
    """Where the line of `pos` starts (a line also ends at an escaped `\\n`), `limit`
    characters back at most."""
    lo = max(0, pos - limit)
    escaped = text.rfind("\\n", lo, pos)
    return max(lo, text.rfind("\n", lo, pos) + 1, escaped + 2 if escaped >= 0 else 0)


def line_before(match: re.Match[str]) -> str:
    """The text of the match's line before it, its last `LINE_CONTEXT` characters at most."""
    return match.string[line_start(match.string, match.start()) : match.start()]


def line_after(match: re.Match[str]) -> str:
    """The text of the match's line after it, its first `LINE_CONTEXT` characters at most."""
    text, end = match.string, match.end()
    hi = min(len(text), end + LINE_CONTEXT)
    stops = [i for i in (text.find("\n", end, hi), text.find("\\n", end, hi)) if i >= 0]
    return text[end : min(stops, default=hi)]


# ... and ends where no word character follows.
END = r"(?![A-Za-z0-9_])"
# Whitespace, or an escaped newline / tab between the parts of a config or command line.
WS = r"(?:[ \t]|\\[nrt])"
SPACE = r"(?:\s|\\[nrt])"
NL = r"(?:\r?\n|(?:\\r)?\\n)"
"""A newline, or one escaped in JSON text."""
# A quote, possibly escaped once or twice (`"`, `\"`, `\\\"`).
QUOTE = r"(?:\\{0,3}[\"'`])"
QUOTED_VALUE = r"(?P<q>" + QUOTE + r")(?P<secret>[^\"'`\\\r\n]{1,300})" + QUOTE
"""A value in quotes, up to the closing one (groups `q`, `secret`)."""

Check = Callable[[str, "re.Match[str]"], "str | bool | tuple[str, int]"]
"""`check(secret, match)`: False to drop the match, True to keep it, the kind to report, or
the kind and where the secret ends (past the group: a value the pattern reads a word of)."""


_FOLDS = {"k": "kK\u212a", "s": "sS\u017f"}
"""What `(?i:x)` matches besides `x` and `X`, for the letters where it does (`ſ`, Kelvin)."""


def grouped_words(words: list[str]) -> tuple[str, str]:
    """(`words` as an alternation grouped by first letter, the class of their first letters),
    matching what `(?i:w1|w2|...)` matches. Each first letter is spelt as a class (`[sSſ]`),
    which `re` tests in one step before trying a group; a case-insensitive word costs a step
    each, at every position a look-ahead tries them."""
    by_first: dict[str, list[str]] = {}
    for word in words:
        by_first.setdefault(word[0], []).append(word[1:])
    spelt = {c: _FOLDS.get(c, c + c.upper()) for c in sorted(by_first)}
    groups = (f"[{spelt[c]}](?i:{'|'.join(rest)})" for c, rest in by_first.items())
    return "(?:" + "|".join(groups) + ")", "[" + "".join(spelt.values()) + "]"


@dataclass(frozen=True)
class Rule:
    """One way a secret shows up.

    `kind` names the replacement (`[REDACTED_<kind>]`); `pattern` finds it (only its `secret`
    group is replaced when it has one; a match in which no `secret` group took part is a
    *skip*, see below); `anchors` are lower-case literals of which every other match
    contains at least one (the pre-filter runs the rule only on a text holding one); `token`
    rules also need a long token-like run in the text (see `engine.CANDIDATE`); `check`, when
    set, must accept `(secret, match)` for the match to count; `vendor` and `example` feed the
    coverage table in docs/redaction.md.

    Skips keep a rule linear: where every later start of the rule inside some run of text
    would scan the same run and fail the same way (`-U.-U.-U…` with no `%` after the run: each
    `-U` looks for the same `%`), the rule's last alternative matches the run without a
    `secret` group, the engine drops that match, and the search goes on after the run instead
    of from each of its characters (n^2).
    """

    kind: str
    pattern: re.Pattern[str]
    anchors: tuple[str, ...]
    vendor: str = ""
    token: bool = False
    check: Check | None = None
    example: str = field(default="", compare=False)


def rule(
    kind: str,
    regex: str,
    anchors: tuple[str, ...] | str,
    *,
    vendor: str = "",
    token: bool = False,
    check: Check | None = None,
    flags: int = 0,
    example: str = "",
) -> Rule:
    if isinstance(anchors, str):
        anchors = (anchors,)
    assert all(a == a.lower() for a in anchors), anchors
    return Rule(kind, re.compile(regex, flags), anchors, vendor, token, check, example)


def prefixed(
    kind: str,
    vendor: str,
    prefix: str,
    body: str,
    anchors: tuple[str, ...] | str,
    *,
    case: bool = True,
    token: bool = True,
    example: str = "",
) -> Rule:
    """A vendor token that starts with a fixed prefix (`ghp_`, `glpat-`, `xoxb-`...).

    `token=False` for a base64 body (`+`, `/`, `=` may break its token-like run): the rule
    then runs whenever its (distinctive) anchor is present."""
    return rule(
        kind,
        START + prefix + body + END,
        anchors,
        vendor=vendor,
        token=token,
        flags=0 if case else re.IGNORECASE,
        example=example,
    )


# ----------------------------------------------------------------- value checks

AN_ID = re.compile(
    r"\d{4}-\d{2}-\d{2}|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
"""A date or a UUID in a value (searched): an identifier or a time, no credential."""


def not_placeholder(secret: str, _match: re.Match[str] | None = None) -> bool:
    """False for a variable or template reference (`$TOKEN`, `${X}`, `%X%`, `{{ x }}`), or a
    name of where the secret is kept (`@keychain:NAME`, `@env:NAME`: Apple's tools)."""
    return not secret.startswith(("$", "%", "{{", "<", "[REDACTED_", "@keychain:", "@env:"))


INNER_DIGIT = re.compile(r"[A-Za-z]\d+[A-Za-z]")
"""Letters with digits between them (`Tr0ub4dor`, `Hunter2pw`): a password's, no word's."""
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.\w+")
"""An e-mail address (fullmatched)."""


def not_a_word(value: str) -> bool:
    """A digit or a sign beside letters, 6 characters or more: no word of a sentence
    (`Hunter2pw`, `P@ssw0rd`; not `required`, `header`)."""
    return (
        len(value) >= 6
        and any(c.isalpha() for c in value)
        and any(c.isdigit() or not c.isalnum() for c in value)
    )


def strong_password(value: str) -> bool:
    """A password as sites require them: 8 characters or more, of all four classes (lower
    and upper case, a digit, a sign), no path (`Tm4#kQ8w!`; not `$HOME/.Config2`)."""
    return (
        len(value) >= 8
        and not any(c.isspace() or c in "/\\" for c in value)
        and not value.startswith(("$", "%", "{"))
        and not any(cut in value for cut in ("***", "...", "…"))  # a key shown masked
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
        and any(not c.isalnum() for c in value)
    )


def strong_or_random(secret: str, _match: re.Match[str] | None = None) -> bool:
    """A strong password (`strong_password`) or a random-looking value (`token_like`): what a
    value set apart from its credential's name must be to be told from the words around it."""
    return strong_password(secret) or token_like(secret)


def password_like_literal(secret: str, _match: re.Match[str] | None = None) -> bool:
    """A literal given to an encoder, a digest or the clipboard (nothing names it) that is a
    password: a user and a password that is no word (`admin:…`, a Basic header's;
    `admin:admin`, the well-known default, kept), a strong or random-looking one, or letters
    with digits between them (`Tr0ub4dor9x`); not a word, a name, a version, an e-mail
    address, a path or a URL (`echo -n admin | base64` encodes a user's name for a Secret)."""
    if not not_placeholder(secret) or any(c.isspace() for c in secret):
        return False
    if "/" in secret or EMAIL.fullmatch(secret):
        return False
    user, sep, password = secret.partition(":")
    if sep and user and password:
        return not_a_word(password) or INNER_DIGIT.search(password) is not None
    return strong_or_random(secret) or INNER_DIGIT.search(secret) is not None


def entropy(text: str) -> float:
    """Shannon entropy of `text` in bits per character."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for ch in text:
        counts[ch] = counts.get(ch, 0) + 1
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def token_like(value: str, min_len: int = 16) -> bool:
    """A random-looking credential: long enough, no spaces, several character classes and
    high entropy (a word, a path, a version or a sentence is not)."""
    if len(value) < min_len or any(c.isspace() for c in value):
        return False
    if value.count("/") >= 2 and not value.endswith("="):  # a path or a URL
        return False
    if AN_ID.search(value):  # a date, a UUID: an identifier, not a credential
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )
    if classes < 2:
        # One class: all hex digits of a long key still count; a word does not.
        return len(value) >= 32 and all(c in "0123456789abcdefABCDEF" for c in value)
    return entropy(value) >= 3.0


def basic_credentials(value: str, _match: re.Match[str] | None = None) -> bool:
    """Whether `value` is base64 of `user:password` (an `Authorization: Basic` value)."""
    padded = value + "=" * (-len(value) % 4)
    try:
        decoded = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return False
    return b":" in decoded and all(32 <= b < 127 for b in decoded)


def b64_private_key(value: str, _match: re.Match[str] | None = None) -> bool:
    """Whether base64 `value` encodes a PEM private key (kubeconfig `client-key-data`)."""
    head = value[:64]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4))
    except (binascii.Error, ValueError):
        return False
    return b"PRIVATE KEY" in decoded

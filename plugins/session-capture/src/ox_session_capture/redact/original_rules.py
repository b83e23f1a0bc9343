"""The original (Go) daemon's redaction rules, `<ledger>/.sageox/REDACT.md`, read as ledger rules.

Rules sit in fenced blocks whose info string is `redact`, one a line::

    ```redact
    literal "internal.example.test" -> [REDACTED_HOST]
    regex "ACME-[0-9]{8}" -> [REDACTED_TICKET]
    ```

The quoted text uses backslash escapes (`\\"`, `\\\\`, `\\n`, `\\t`). Empty lines and lines starting
with `#` are skipped. ox applies each rule as one of the ledger's patterns: every match becomes
`[REDACTED_CUSTOM]` (ox's placeholder; the rule's own replacement is not used).
"""

from __future__ import annotations

import re
from pathlib import Path

ORIGINAL_RULES_FILE = Path(".sageox") / "REDACT.md"
_RULE = re.compile(r'^(literal|regex)\s+"((?:[^"\\]|\\.)*)"\s*->\s*(\S.*)$')
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


class OriginalRulesError(ValueError):
    """A line of `.sageox/REDACT.md` that is not a rule, or a regex that does not compile."""


def _unquote(text: str, where: str) -> str:
    out: list[str] = []
    chars = iter(text)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        if nxt not in _ESCAPES:
            raise OriginalRulesError(f"{where}: unknown escape \\{nxt}")
        out.append(_ESCAPES[nxt])
    return "".join(out)


def parse_original_rules(text: str, source: str = str(ORIGINAL_RULES_FILE)) -> list[str]:
    """The patterns (Python regular expressions, not compiled) of a `REDACT.md` text.
    Raises `OriginalRulesError` naming the line."""
    patterns: list[str] = []
    inside = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("```"):
            inside = not inside and line[3:].strip() == "redact"
            continue
        if not inside or not line or line.startswith("#"):
            continue
        where = f"{source}:{number}"
        match = _RULE.match(line)
        if match is None:
            raise OriginalRulesError(f'{where}: not a rule (literal|regex "..." -> replacement)')
        kind, quoted = match.group(1), _unquote(match.group(2), where)
        if not quoted:
            raise OriginalRulesError(f"{where}: an empty {kind}")
        patterns.append(re.escape(quoted) if kind == "literal" else quoted)
    return patterns

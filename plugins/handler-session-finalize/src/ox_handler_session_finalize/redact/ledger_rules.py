"""A ledger's own patterns: `<ledger>/.ox/redact.toml`::

    # every match of each pattern becomes [REDACTED_CUSTOM]
    patterns = ["ACME-[0-9]{8}", "(?i)internal-token-[a-z0-9]+"]

Patterns are Python regular expressions; a pattern with a group named `secret` redacts only
that group (the rest of the match is kept), like the built-in assignment rules. They run on
every text, after the built-in rules, without the pre-filter.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ox_handler_session_finalize.redact.engine import LedgerRedactor

RULES_FILE = Path(".ox") / "redact.toml"
MAX_RULES_BYTES = 256 * 1024
MAX_PATTERNS = 500
MAX_PATTERN_CHARS = 2000


class RedactRulesError(ValueError):
    """The ledger's rules file is unreadable or holds an invalid pattern."""


def load_ledger_rules(ledger: Path) -> list[re.Pattern[str]]:
    """The extra patterns of `<ledger>/.ox/redact.toml` (`patterns = [...]`); [] when absent.

    Raises `RedactRulesError` (naming the file and the pattern) for invalid TOML, a wrong
    shape or a pattern that does not compile: a broken rules file must not silently let
    secrets through. The file is teammates' content: a link (which could point at a private
    file of this machine), a special file or an oversized one is refused, never read.
    """
    from ox_handler_session_finalize.confined import UnsafePathError, check_dirs, read_regular

    path = ledger / RULES_FILE
    try:
        check_dirs(ledger, path.parent)
        data = tomllib.loads(read_regular(path, MAX_RULES_BYTES).decode("utf-8"))
    except FileNotFoundError:
        return []
    except UnsafePathError as exc:
        raise RedactRulesError(str(exc)) from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RedactRulesError(f"{path}: {exc}") from exc
    raw = data.get("patterns", [])
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise RedactRulesError(f"{path}: `patterns` must be a list of strings")
    if len(raw) > MAX_PATTERNS or any(len(p) > MAX_PATTERN_CHARS for p in raw):
        raise RedactRulesError(
            f"{path}: at most {MAX_PATTERNS} patterns of at most {MAX_PATTERN_CHARS} characters"
        )
    compiled: list[re.Pattern[str]] = []
    for source in raw:
        try:
            compiled.append(re.compile(source))
        except re.error as exc:
            raise RedactRulesError(f"{path}: invalid pattern {source!r}: {exc}") from exc
    return compiled


def make_redactor(ledger: Path | None) -> LedgerRedactor:
    """The redactor for a ledger: built-in rules plus `<ledger>/.ox/redact.toml`.

    Raises `RedactRulesError` for a broken rules file: capturing without the team's patterns
    could let a credential through.
    """
    return LedgerRedactor(load_ledger_rules(ledger) if ledger is not None else [])

"""A ledger's own patterns: `<ledger>/.ox/redact.toml`::

    # every match of each pattern becomes [REDACTED_CUSTOM]
    patterns = ["ACME-[0-9]{8}", "(?i)internal-token-[a-z0-9]+"]

Patterns are Python regular expressions; a pattern with a group named `secret` redacts only
that group (the rest of the match is kept), like the built-in assignment rules. They run on
every text, after the built-in rules, without the pre-filter. A pattern that could backtrack
exponentially (`pattern_safety`) is refused like one that does not compile.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from ox_session_capture.redact.engine import LedgerRedactor
from ox_session_capture.redact.original_rules import (
    ORIGINAL_RULES_FILE,
    OriginalRulesError,
    parse_original_rules,
)
from ox_session_capture.redact.pattern_safety import unsafe_reason

RULES_FILE = Path(".ox") / "redact.toml"
MAX_RULES_BYTES = 256 * 1024
MAX_PATTERNS = 500
MAX_PATTERN_CHARS = 2000


class RedactRulesError(ValueError):
    """The ledger's rules file is unreadable or holds an invalid pattern."""


def load_ledger_rules(ledger: Path) -> list[re.Pattern[str]]:
    """The extra patterns of `<ledger>/.ox/redact.toml` (`patterns = [...]`), then those of
    the original daemon's `<ledger>/.sageox/REDACT.md` (see `original_rules`); [] when
    neither exists.

    Raises `RedactRulesError` (naming the file and the pattern) for invalid TOML, a wrong
    shape, a line that is not a rule or a pattern that does not compile: a broken rules file
    must not silently let secrets through. The files are teammates' content: a link (which
    could point at a private file of this machine), a special file or an oversized one is
    refused, never read.
    """
    raw: list[tuple[Path, str]] = []
    path = ledger / RULES_FILE
    text = _read_rules(ledger, path)
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise RedactRulesError(f"{path}: {exc}") from exc
        except RecursionError:  # `tomllib` recurses per nested array or table
            raise RedactRulesError(f"{path}: nested too deeply") from None
        except ValueError:  # `int()` refuses a number longer than this (`tomllib` does not)
            limit = sys.get_int_max_str_digits()
            raise RedactRulesError(f"{path}: a number has more than {limit} digits") from None
        patterns = data.get("patterns", [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise RedactRulesError(f"{path}: `patterns` must be a list of strings")
        raw += [(path, p) for p in patterns]
    original = ledger / ORIGINAL_RULES_FILE
    text = _read_rules(ledger, original)
    if text is not None:
        try:
            raw += [(original, p) for p in parse_original_rules(text, str(original))]
        except OriginalRulesError as exc:
            raise RedactRulesError(str(exc)) from None
    if len(raw) > MAX_PATTERNS or any(len(p) > MAX_PATTERN_CHARS for _, p in raw):
        where = path if path.exists() else original
        raise RedactRulesError(
            f"{where}: at most {MAX_PATTERNS} patterns of at most {MAX_PATTERN_CHARS} characters"
        )
    compiled: list[re.Pattern[str]] = []
    for where, source in raw:
        try:
            compiled.append(re.compile(source))
            unsafe = unsafe_reason(source)
        except re.error as exc:
            raise RedactRulesError(f"{where}: invalid pattern {source!r}: {exc}") from exc
        except RecursionError:  # `re` recurses per nested group
            raise RedactRulesError(f"{where}: invalid pattern: nested too deeply") from None
        if unsafe is not None:
            raise RedactRulesError(
                f"{where}: pattern {source!r} refused: {unsafe} could stop capture on one "
                "line; write it with a character class, a possessive repeat (a++) or an "
                "atomic group ((?>...)) instead"
            )
    return compiled


def _read_rules(ledger: Path, path: Path) -> str | None:
    """A rules file's text (None when it does not exist), never through a link."""
    from ox_session_capture.confined import UnsafePathError, check_dirs, read_regular

    try:
        check_dirs(ledger, path.parent)
        return read_regular(path, MAX_RULES_BYTES).decode("utf-8")
    except FileNotFoundError:
        return None
    except UnsafePathError as exc:
        raise RedactRulesError(str(exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RedactRulesError(f"{path}: {exc}") from exc


def make_redactor(ledger: Path | None) -> LedgerRedactor:
    """The redactor for a ledger: built-in rules plus `<ledger>/.ox/redact.toml`.

    Raises `RedactRulesError` for a broken rules file: capturing without the team's patterns
    could let a credential through.
    """
    return LedgerRedactor(load_ledger_rules(ledger) if ledger is not None else [])

"""Secret redaction (SPEC §3.10): well-known credential shapes become `[REDACTED_<kind>]`.

Called before anything is written to `raw.jsonl` (by the session watcher) and again at export
and upload time, so a raw file written by something else cannot carry a credential to the
shared remote.

A ledger may add patterns in `<ledger>/.ox/redact.toml`::

    # every match of each pattern becomes [REDACTED_CUSTOM]
    patterns = ["ACME-[0-9]{8}", "(?i)internal-token-[a-z0-9]+"]

Patterns are Python regular expressions; a pattern with a group named `secret` redacts only
that group (the rest of the match is kept), like the built-in assignment rules.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

RULES_FILE = Path(".ox") / "redact.toml"


@dataclass(frozen=True)
class SecretPattern:
    """One built-in rule: `kind` names it in the replacement, `pattern` finds it.

    When the pattern has a group named `secret`, only that group is replaced.
    """

    kind: str
    pattern: re.Pattern[str]


def _p(kind: str, regex: str, flags: int = 0) -> SecretPattern:
    return SecretPattern(kind, re.compile(regex, flags))


# What follows `password =` in code rather than a literal secret: a lookup, a placeholder, a
# type. Keeping these readable costs nothing: they carry no credential.
_NOT_A_VALUE = (
    r"(?:os\.(?:environ|getenv)|process\.env|getenv|env\.|settings\.|config\.|self\.|args\."
    r"|\$\{?|%\(|\{\{|<[^>]*>|\*{3,}|x{6,}\b"
    r"|(?:none|null|nil|true|false|string|str|bytes|optional|undefined|required)\b)"
)

# Order matters: specific shapes first, so a private key block or a JWT is named for what it is
# before the generic `password=` assignment rule sees the text around it.
PATTERNS: tuple[SecretPattern, ...] = (
    _p(
        "PRIVATE_KEY",
        r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY( BLOCK)?-----"
        r"[\s\S]*?(-----END[A-Z ]{0,30}PRIVATE KEY( BLOCK)?-----|\Z)",
    ),
    _p("AWS_ACCESS_KEY", r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    _p(
        "AWS_SECRET_KEY",
        r"(?i)\baws_?secret_?(?:access_?)?key\b[\"']?\s*[:=]\s*[\"']?(?P<secret>[A-Za-z0-9/+=]{40})\b",
    ),
    _p("GITHUB_TOKEN", r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b"),
    _p("GITHUB_PAT", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    _p("GITLAB_TOKEN", r"\bglpat-[A-Za-z0-9_\-]{20,}"),
    _p("ANTHROPIC_KEY", r"\bsk-ant-[A-Za-z0-9_\-]{20,}"),
    _p("OPENAI_KEY", r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}"),
    _p("GOOGLE_API_KEY", r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    _p("SLACK_TOKEN", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _p(
        "SLACK_WEBHOOK",
        r"https://hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+",
    ),
    _p("STRIPE_KEY", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
    _p("TWILIO_KEY", r"\bSK[0-9a-fA-F]{32}\b"),
    _p("SENDGRID_KEY", r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"),
    _p("NPM_TOKEN", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _p("PYPI_TOKEN", r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{20,}"),
    _p("HUGGINGFACE_TOKEN", r"\bhf_[A-Za-z0-9]{30,}\b"),
    _p("JWT", r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
    _p(
        "URL_CREDENTIALS",
        r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@\"'<>]+:(?P<secret>[^\s@/\"'<>]+)@",
    ),
    _p(
        "BEARER_TOKEN",
        r"(?i)\b(?:authorization\s*:\s*)?bearer\s+(?P<secret>[A-Za-z0-9_\-.=~+/]{20,})",
    ),
    _p(
        "PASSWORD",
        # `password=...`, `"api_key": "..."`, `SECRET_TOKEN: ...`: the value is redacted, the
        # name kept so the transcript still reads.
        r"(?i)\b[\w.\-]*(?:passw(?:or)?d|passwd|pwd|secret|api[_\-]?key|access[_\-]?key"
        r"|auth[_\-]?token|access[_\-]?token|client[_\-]?secret|private[_\-]?key)[\w.\-]*"
        r"[\"']?\s*[:=]\s*(?P<q>[\"']?)(?P<secret>(?!\[REDACTED_)(?!" + _NOT_A_VALUE + r")"
        r"[^\s\"',;}{)(\[\]]{6,})(?P=q)",
    ),
)


def _redact_one(pattern: re.Pattern[str], kind: str, text: str) -> str:
    replacement = f"[REDACTED_{kind}]"
    if "secret" not in pattern.groupindex:
        return pattern.sub(replacement, text)

    def sub(match: re.Match[str]) -> str:
        start, end = match.span("secret")
        if start < 0:
            return replacement
        whole = match.group(0)
        offset = match.start()
        return whole[: start - offset] + replacement + whole[end - offset :]

    return pattern.sub(sub, text)


def redact_text(text: str, extra: Sequence[re.Pattern[str]] = ()) -> str:
    """`text` with every built-in secret shape, then every `extra` pattern, replaced by
    `[REDACTED_<kind>]` (`[REDACTED_CUSTOM]` for `extra`). Pure; never raises for any text.
    """
    if not text:
        return text
    for rule in PATTERNS:
        text = _redact_one(rule.pattern, rule.kind, text)
    for pattern in extra:
        text = _redact_one(pattern, "CUSTOM", text)
    return text


def contains_secret(text: str, extra: Sequence[re.Pattern[str]] = ()) -> bool:
    """Whether `redact_text` would change `text`."""
    return redact_text(text, extra) != text


class RedactRulesError(ValueError):
    """The ledger's rules file is unreadable or holds an invalid pattern."""


def load_ledger_rules(ledger: Path) -> list[re.Pattern[str]]:
    """The extra patterns of `<ledger>/.ox/redact.toml` (`patterns = [...]`); [] when absent.

    Raises `RedactRulesError` (naming the file and the pattern) for invalid TOML, a wrong
    shape or a pattern that does not compile: a broken rules file must not silently let
    secrets through.
    """
    path = ledger / RULES_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RedactRulesError(f"{path}: {exc}") from exc
    raw = data.get("patterns", [])
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise RedactRulesError(f"{path}: `patterns` must be a list of strings")
    compiled: list[re.Pattern[str]] = []
    for source in raw:
        try:
            compiled.append(re.compile(source))
        except re.error as exc:
            raise RedactRulesError(f"{path}: invalid pattern {source!r}: {exc}") from exc
    return compiled

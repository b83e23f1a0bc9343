"""Parsing and validating the agent's answer to the summary prompt: the JSON object it must
be, and the fields it must hold.

`parse_summary(text)` never raises: it returns either a valid `Summary` or the reason the
answer was rejected. `failure_summary` turns a rejection into the summary that is written
instead (never carrying the raw output); after `MAX_ATTEMPTS` it is `unrecoverable`.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from ox_session_capture.records import NotableMoment, Summary

MAX_ATTEMPTS = 3
OUTCOMES = frozenset({"success", "partial", "failed"})
CATEGORIES = frozenset({"share", "local_only", "skip"})
TITLE_MIN, TITLE_MAX = 3, 200
SUMMARY_MIN = 20
MAX_CHAPTERS, CHAPTER_MAX = 12, 120
MAX_MOMENTS = 8
MAX_TEXT = 20_000
"""Characters kept of the summary, the agent summary and the score reason (a paragraph is a
few hundred): what the model printed beyond is cut, marked, so an answer the transcript
steered to megabytes is not published three times over."""
MAX_ITEMS, ITEM_MAX = 50, 500
"""Key actions and topics kept, and the characters kept of each."""

_JSON_FENCE = re.compile(r"```[ \t]*json[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)
_ANY_FENCE = re.compile(r"```[^\n`]*\r?\n(.*?)```", re.DOTALL)
# Control characters but tab and newline (terminal escapes, NUL, carriage returns), and lone
# surrogates (valid as JSON escapes, but no UTF-8 encoder writes them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")

# What an agent writes when it talks to the user instead of returning the summary.
TELLTALES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (label, re.compile(regex, re.IGNORECASE))
    for label, regex in (
        (
            "asks for permission",
            r"\b(?:may i|shall i|should i|do you want me to|would you like me to)\b",
        ),
        ("asks for permission", r"\bplease (?:confirm|approve|grant)\b"),
        ("apologises", r"\b(?:i apologi[sz]e|i'm sorry|i am sorry|sorry, (?:but )?i)\b"),
        ("announces a summary", r"\b(?:let me|i'll|i will|i'm going to) (?:now )?summari[sz]e\b"),
        ("announces a summary", r"\bhere(?:'s| is) (?:a|the|my) summary\b"),
        ("tool-call markup", r"</?(?:tool_call|tool_use|function_calls?|invoke|parameter)\b"),
        ("tool-call markup", r"\"(?:tool_use|function_call)\"\s*:"),
    )
)


@dataclass(frozen=True)
class ParseResult:
    """Either `summary` (valid) or `error` (why the answer was rejected)."""

    summary: Summary | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.summary is not None


def extract_json(text: str) -> dict[str, Any] | None:
    """The JSON object of an answer: the whole text, else the first ```json fence, else the
    first plain fence. None when none of them holds a JSON object."""
    candidates = [text]
    for pattern in (_JSON_FENCE, _ANY_FENCE):
        match = pattern.search(text)
        if match:
            candidates.append(match.group(1))
    for candidate in candidates:
        try:
            data = json.loads(candidate.strip())
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            return data
    return None


def _telltale(text: str) -> str | None:
    for label, pattern in TELLTALES:
        if pattern.search(text):
            return label
    return None


def _known(data: dict[str, Any]) -> dict[str, Any]:
    """`data` without the keys a summary does not have (at the top and in each notable moment):
    the answer's own keys would be stored and published as they are, nested at will."""
    known = {k: v for k, v in data.items() if k in Summary.model_fields}
    moments = known.get("aha_moments")
    if isinstance(moments, list):
        known["aha_moments"] = [
            {
                k: cut(v, ITEM_MAX) if isinstance(v, str) else v
                for k, v in m.items()
                if k in NotableMoment.model_fields
            }
            if isinstance(m, dict)
            else m
            for m in moments[: MAX_MOMENTS * 8]  # of which at most MAX_MOMENTS are kept
        ]
    return known


def _printable(value: Any) -> Any:
    """`value` (a dumped summary: a few levels deep) with control characters but tab and
    newline removed and lone surrogates replaced, in every string."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", _CONTROL.sub("", value))
    if isinstance(value, list):
        return [_printable(v) for v in value]
    if isinstance(value, dict):
        return {k: _printable(v) for k, v in value.items()}
    return value


def one_line(text: str) -> str:
    """`text` with every run of whitespace (newlines included) made one space: a title or a
    list item of `summary.md` must not start lines of its own."""
    return " ".join(text.split())


def cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _items(items: list[str]) -> list[str]:
    """The first `MAX_ITEMS` `items` with text, one line each without control characters, of
    `ITEM_MAX` characters at most (the rest is never looked at)."""
    lines = (one_line(_CONTROL.sub("", i)) for i in items)
    return list(itertools.islice((cut(line, ITEM_MAX) for line in lines if line), MAX_ITEMS))


def _tidy_extras(summary: Summary, steps: int | None) -> None:
    """Chapter titles: non-blank, at most `MAX_CHAPTERS` of `CHAPTER_MAX` characters. Notable
    moments: with a highlight and, when the transcript's length is known, a `seq` inside it;
    at most `MAX_MOMENTS`. What breaks these rules is dropped, not the whole answer."""
    summary.chapter_titles = [t[:CHAPTER_MAX] for t in summary.chapter_titles[:MAX_CHAPTERS]]
    summary.aha_moments = [
        m
        for m in summary.aha_moments
        if m.highlight.strip() and (steps is None or 1 <= m.seq <= steps)
    ][:MAX_MOMENTS]
    summary.agent_summary = summary.agent_summary.strip()


def validate(data: dict[str, Any], *, steps: int | None = None) -> ParseResult:
    """Check a decoded answer against the rules: the `Summary` model's fields, types and bounds.
    `steps`: how many entries the prompt numbered (notable moments must point at one).

    The answer may be anything the model printed: keys a summary does not have are left out,
    control characters (but tab and newline) removed, lone surrogates replaced, and the
    title, chapter titles, key actions and topics made one line each."""
    try:
        summary = Summary.model_validate(_known(data))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return ParseResult(None, f"invalid field {where}: {first['msg']}")
    # Bounded before anything reads the texts whole: the checks below run in the event loop,
    # and the tell-tale patterns took 13 s over an answer of 20 MB.
    summary.summary = cut(summary.summary, MAX_TEXT)
    summary.agent_summary = cut(summary.agent_summary, MAX_TEXT)
    summary.score_reason = cut(summary.score_reason, MAX_TEXT)
    summary.key_actions = _items(summary.key_actions)
    summary.topics_found = _items(summary.topics_found)
    summary.chapter_titles = _items(summary.chapter_titles)
    # Not asked for, but kept when no tool input names a file (export.write_artifacts):
    # bounded and one line each like the other lists, never megabytes of made-up paths.
    summary.files_modified = _items(summary.files_modified)
    summary = Summary.model_validate(_printable(summary.model_dump()))
    title = one_line(summary.title)
    if not title:
        return ParseResult(None, "blank title")
    if not (TITLE_MIN <= len(title) <= TITLE_MAX):
        return ParseResult(None, f"title of {len(title)} characters (want {TITLE_MIN}–{TITLE_MAX})")
    if not any(a.strip() for a in summary.key_actions):
        return ParseResult(None, "no key action")
    if len(summary.summary.strip()) < SUMMARY_MIN:
        return ParseResult(None, f"summary shorter than {SUMMARY_MIN} characters")
    if summary.outcome not in OUTCOMES:
        # Not quoted: the answer's text reaches status and the log unredacted.
        allowed = ", ".join(sorted(OUTCOMES))
        return ParseResult(None, f"unknown outcome (not one of {allowed})")
    if summary.quality_category is not None and summary.quality_category not in CATEGORIES:
        summary.quality_category = None  # Fall back to the score rather than reject.
    if summary.quality_score is not None and not 0.0 <= summary.quality_score <= 1.0:
        return ParseResult(None, "quality_score outside 0–1")
    _tidy_extras(summary, steps)
    label = _telltale(
        " ".join([title, summary.summary, *summary.key_actions, *summary.chapter_titles])
    )
    if label:
        return ParseResult(None, f"the answer {label} instead of summarising")
    summary.title = title
    summary.summary_status = "ok"
    summary.validation_error = None
    return ParseResult(summary, None)


def parse_summary(text: str, *, steps: int | None = None) -> ParseResult:
    """Parse and validate an agent's answer (`steps`: see `validate`). Never raises."""
    try:
        data = extract_json(text)
        if data is None:
            label = _telltale(text)
            reason = f"the answer {label} instead of summarising" if label else "no JSON object"
            return ParseResult(None, reason)
        return validate(data, steps=steps)
    except Exception as exc:  # A parser bug must not crash the daemon on one answer.
        return ParseResult(None, f"unparseable answer ({type(exc).__name__})")


def failure_summary(reason: str, attempts: int) -> Summary:
    """The summary written for a rejected answer: blank title, the reason, the attempt count;
    `unrecoverable` from the `MAX_ATTEMPTS`th attempt on (never retried)."""
    status = "unrecoverable" if attempts >= MAX_ATTEMPTS else "failed_validation"
    return Summary(
        title="",
        summary="",
        summary_status=status,
        validation_error=reason,
        summary_attempts=attempts,
    )

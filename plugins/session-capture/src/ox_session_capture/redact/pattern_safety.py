"""Which of a ledger's own patterns could take exponential time: refused before they run.

A ledger's `.ox/redact.toml` is committed by teammates, and its patterns run on every text
ox captures, in the capture thread, where Python's `re` cannot be interrupted. A pattern
such as `(a+)+$` backtracks 2^n times on `n` letters without a match: thirty letters in one
message would stop capture for every session on the machine, for good (the daemon restarts
into the same pattern). Such patterns are refused with the rules file's error instead, which
pauses capture with a line naming the pattern (nothing is lost: the agents' files stay).

Refused, outside an atomic group or a possessive repeat (which never backtrack into what
they matched):
- a repeat of variable count (`*`, `+`, `?` when repeated, `{m,n}`, or a fixed count above
  `MAX_COPIES`) around another one: `(a+)+`, `(?:x*y?)*`, `(.*a){20}`; a small fixed count
  (`(?:[A-Z]{4}-)+`, `(?:\\d+\\.){3}`) is a plain sequence and allowed;
- an alternation inside a repeat of variable count: `(a|aa)+`, `(?:ab|a)*` (an alternation
  of single characters, `(x|y)*`, is a character class to `re` and allowed);
- a backreference (`\\1`, `(?P=name)`), which `re` matches by backtracking.

What a refused pattern means can be written safely: a character class for an alternation of
single characters, a possessive repeat (`a++`, Python 3.11) or an atomic group (`(?>...)`).
Patterns that are only slow (quadratic on a long run of matching characters) are not refused.
"""

from __future__ import annotations

from re import _constants as sre  # type: ignore[attr-defined]  # Python 3.11+
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_VARIABLE = (sre.MAX_REPEAT, sre.MIN_REPEAT)
MAX_COPIES = 8
"""A fixed count above this (`(.*a){20}`: n^20 ways to split) counts as a variable one."""
_ATOMIC = (sre.ATOMIC_GROUP, sre.POSSESSIVE_REPEAT)
_BACKREFERENCES = (sre.GROUPREF, sre.GROUPREF_EXISTS)


def unsafe_reason(source: str) -> str | None:
    """Why the pattern `source` may take exponential time (see the module), None when it
    may not. `re.error` for a pattern that does not compile."""
    return _walk(sre_parse.parse(source), inside=False)


def _walk(items: Any, *, inside: bool) -> str | None:
    """The first reason in the parsed `items`; `inside`: within a repeat of variable count."""
    for op, arg in items:
        if op in _BACKREFERENCES:
            return "a backreference (matched by backtracking)"
        if op in _ATOMIC:
            continue  # never backtracks into what it matched
        if op in _VARIABLE:
            low, high, body = arg
            if inside and low != high:
                return "a repeat inside a repeat (exponential backtracking)"
            # An optional part (`?`) is tried once or not at all: no ways to multiply.
            multiplies = high > 1 and (low != high or high > MAX_COPIES)
            found = _walk(body, inside=inside or multiplies)
        elif op == sre.BRANCH:
            if inside:
                return "an alternation inside a repeat (exponential backtracking)"
            found = _walk_all(arg[1], inside=inside)
        elif op == sre.SUBPATTERN:
            found = _walk(arg[-1], inside=inside)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _walk(arg[1], inside=inside)
        else:
            found = None
        if found is not None:
            return found
    return None


def _walk_all(branches: list[Any], *, inside: bool) -> str | None:
    for branch in branches:
        found = _walk(branch, inside=inside)
        if found is not None:
            return found
    return None

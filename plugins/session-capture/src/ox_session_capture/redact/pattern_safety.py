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
- a backreference (`\\1`, `(?P=name)`), which `re` matches by backtracking;
- a chain of repeats that one run of a character can be shared among: `\\w*\\w*\\w*=`,
  `[a-z]*x?[a-z]+[a-z]*!` split a word of n letters n^3 ways at each start (a chain of 8
  took 43 s on a 40-letter word), and 16 optional parts (`a?a?…`) 2^16 ways. Parts between
  them that the character also matches (`\\w*a\\w*`) or that may be empty do not end the
  chain; one it cannot match does (`\\s*=\\s*` is two chains of one).

What a refused pattern means can be written safely: a character class for an alternation of
single characters, a possessive repeat (`a++`, Python 3.11) or an atomic group (`(?>...)`).
Patterns that are only slow (quadratic on a long run of matching characters) are not refused.
"""

from __future__ import annotations

from re import _compiler as sre_compile  # type: ignore[attr-defined]
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
    parsed = sre_parse.parse(source)
    return _walk(parsed, inside=False) or _chain_reason(parsed)


MAX_CHAIN = 3.0
"""Weight of a chain of repeats refused: a repeat of more than one counts 1 (n ways to split
a run), an optional part 1/8 (2 ways)."""
_SAMPLE = (*(chr(c) for c in range(32, 127)), "\t", "\n", "\xa0", "é", "ß", "ж", "中", "😀")
"""The characters a chain is looked for with: ASCII, white space and a few of other scripts."""
_BREAK = (None, None)
"""A part after which nothing is given back (atomic) or that is looked at on its own."""


def _chain_reason(parsed: Any) -> str | None:
    """Why `parsed` holds a chain of repeats (see the module) heavy enough to refuse."""
    state = parsed.state
    sequences: list[list[tuple[Any, int]]] = []
    _sequences(list(parsed), 0, sequences)
    probes: dict[int, Any] = {}
    for sequence in sequences:
        for char in _SAMPLE:
            weight = 0.0
            for item, flags in sequence:
                if item is None:
                    weight = 0.0
                    continue
                unit, covers, empty = _part(item, flags, state, char, probes)
                if covers:
                    weight += unit
                    if weight >= MAX_CHAIN:
                        return (
                            f"a chain of repeats sharing one run of {char!r} "
                            "(polynomial backtracking)"
                        )
                elif not empty:
                    weight = 0.0  # a part the character cannot take ends the chain
    return None


def _sequences(items: list[Any], flags: int, out: list[list[tuple[Any, int]]]) -> None:
    """`items` as sequences of parts (each with its inline flags) appended to `out`: groups
    inlined, a small fixed count copied; an alternation, an atomic part and the body of a
    repeat or of a look-around end the part's sequence and are sequences of their own."""
    sequence: list[tuple[Any, int]] = []
    out.append(sequence)

    def add(parts: list[Any], flags: int) -> None:
        for op, arg in parts:
            if op == sre.SUBPATTERN:
                _group, add_flags, del_flags, body = arg
                add(list(body), (flags | add_flags) & ~del_flags)
            elif op == sre.BRANCH or op in _ATOMIC:
                sequence.append((None, flags))
                bodies = arg[1] if op == sre.BRANCH else [arg if op == sre.ATOMIC_GROUP else arg[2]]
                for body in bodies:
                    _sequences(list(body), flags, out)
            elif op in _VARIABLE:
                low, high, body = arg
                if low == high and high <= MAX_COPIES:
                    for _ in range(high):
                        add(list(body), flags)
                else:
                    sequence.append(((op, arg), flags))
                    _sequences(list(body), flags, out)
            elif op in (sre.ASSERT, sre.ASSERT_NOT):
                _sequences(list(arg[1]), flags, out)  # zero-width: not a part of this one
            elif op != sre.AT:
                sequence.append(((op, arg), flags))

    add(items, flags)


def _part(
    item: Any, flags: int, state: Any, char: str, probes: dict[int, Any]
) -> tuple[float, bool, bool]:
    """(its weight in a chain, whether it can take a run of `char`, whether it may match
    nothing) for one part: a repeat of variable count weighs 1 (1/8 when optional), one
    character 0 (it neither adds to a chain nor, when it takes `char`, ends it)."""
    op, arg = item
    repeat = op in _VARIABLE
    probe: Any = probes.get(id(item))
    if probe is None:
        body = [(sre.MAX_REPEAT, (1, sre.MAXREPEAT, arg[2]))] if repeat else [item]
        group = sre_parse.SubPattern(state, body)
        try:
            probe = sre_compile.compile(
                sre_parse.SubPattern(state, [(sre.SUBPATTERN, (None, flags, 0, group))]), 0
            )
        except Exception:  # a part that does not stand alone (`re` raises anything): a boundary
            probe = False
        probes[id(item)] = probe
    if probe is False:
        return 0.0, False, False
    if not repeat:
        return 0.0, probe.fullmatch(char) is not None, False
    low, high, _body = arg
    covers = any(probe.fullmatch(char * n) is not None for n in (1, 2, 3, 4))
    return (1.0 if high > 1 else 0.125), covers, low == 0


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

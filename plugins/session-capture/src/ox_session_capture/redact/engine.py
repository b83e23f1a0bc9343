"""Running the rules: the pre-filter, JSON decoding and the replacement of what matched.

Order for one text:

1. Pre-filter. A rule runs only when the lower-cased text holds one of its anchors; a
   `token` (vendor) rule also needs a run of 16+ token characters (`CANDIDATE`). A text with
   no anchor and no escape that could hide one (`\\u`, `\\/`) is returned as it is: most
   transcript texts cost a few substring scans. `Redactor.many` does these scans once over a
   whole batch and then only for the anchors the batch holds.
2. JSON. A text that is a JSON document (a tool input, a tool output that printed JSON) is
   decoded and every string in it is redacted on its own (recursively: JSON inside a string
   is decoded too), a string under a credential key (`"password": ...`, `{"name":
   "DB_PASSWORD", "value": ...}`) is replaced whole, and a list of strings (an argv) is also
   read as one command line. The document is written back only when something changed.
3. Text. Every selected rule finds its matches on the text; a match's `secret` group (or the
   whole match) is one span; overlapping spans merge; each becomes `[REDACTED_<kind>]`. Then
   the ledger's extra patterns (`[REDACTED_CUSTOM]`). Rules accept `\\n`, `\\t`, `\\"` escapes
   as boundaries, for escaped text that does not parse (step 2 failed). Then the readers of
   formats that keep a credential's name away from its value: tables (`tables`) and SQL
   data (`sql`), on the text and on its reading (`views`).
4. Base64, hex, hex dumps. A run that decodes to readable text (`encoded`), and the bytes a
   dump's lines show (`dumps`: `xxd`, `hexdump -C`, `od -c`), are redacted as a text of
   their own (recursively); when that finds a secret, the whole run or dump is replaced. A
   Kubernetes Secret's `data` / `stringData` values are replaced whatever they hold (`kube`;
   in decoded JSON, `redact_value`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ox_session_capture.redact import dumps, kube, mnemonic, sql, tables
from ox_session_capture.redact.anchors import Scan, anchors_in, batch_text, framed
from ox_session_capture.redact.encoded import batch_texts_with_encoded_text, encoded_texts
from ox_session_capture.redact.names import classify, is_literal_secret
from ox_session_capture.redact.rules import Rule
from ox_session_capture.redact.rules_code import CODE_RULES
from ox_session_capture.redact.rules_configs import CONFIG_RULES, JWK_PRIVATE, is_private_jwk
from ox_session_capture.redact.rules_formats import FORMAT_RULES
from ox_session_capture.redact.rules_hashes import HASH_RULES
from ox_session_capture.redact.rules_keywords import KEYWORD_RULES, PROSE_RULES
from ox_session_capture.redact.rules_providers import PROVIDER_RULES
from ox_session_capture.redact.rules_terminal import TERMINAL_RULES
from ox_session_capture.redact.rules_tools import TOOL_RULES
from ox_session_capture.redact.views import (
    batch_may_read_otherwise,
    may_read_otherwise,
    reading,
)

RULES: tuple[Rule, ...] = (
    *PROVIDER_RULES, *HASH_RULES, *KEYWORD_RULES, *TOOL_RULES, *CODE_RULES, *CONFIG_RULES,
    *FORMAT_RULES,
    *PROSE_RULES,
    *TERMINAL_RULES,
)  # fmt: skip
"""Every built-in rule, vendor formats first (an overlap is named after the first rule)."""

CANDIDATE = re.compile(r"[A-Za-z0-9_\-]{16,}")
"""A token-like run: every vendor token (`Rule.token`) contains one (`has_token_run`)."""

# Token characters → "a", everything else (other ASCII, every byte of a non-ASCII character)
# → " ": a run of 16 "a" in the translated bytes is a CANDIDATE match. `bytes.translate`
# and a substring search run at memory speed, 20x faster than the regex on prose.
_TOKEN_TABLE = bytes(
    ord("a") if chr(i).isascii() and (chr(i).isalnum() or chr(i) in "_-") else ord(" ")
    for i in range(256)
)
_RUN = b"a" * 16
_MARK = dumps.MARK.encode()


def has_token_run(text: str) -> bool:
    """Whether `text` holds a `CANDIDATE` run."""
    return _RUN in text.encode("utf-8", "surrogatepass").translate(_TOKEN_TABLE)


MAX_DEPTH = 8
"""JSON inside JSON is decoded this many levels deep; deeper text is matched as it is."""

_PLACEHOLDER = re.compile(r"\[REDACTED_[A-Z0-9_]+\]")
_HIDING = ("\\u", "\\/")  # JSON escapes that can spell an anchor differently


def _index(rules: Iterable[tuple[int, Rule]]) -> dict[str, tuple[int, ...]]:
    by_anchor: dict[str, list[int]] = {}
    for i, r in rules:
        for anchor in r.anchors:
            by_anchor.setdefault(anchor, []).append(i)
    return {a: tuple(ix) for a, ix in by_anchor.items()}


_PLAIN = _index((i, r) for i, r in enumerate(RULES) if not r.token)
_TOKEN = _index((i, r) for i, r in enumerate(RULES) if r.token)
_PLAIN_ANCHORS = tuple(_PLAIN)
_TOKEN_ANCHORS = tuple(_TOKEN)


def _batch_spellings(anchors: Sequence[str]) -> dict[str, str]:
    """Each anchor as a batch's bytes may spell it, to the anchor: itself, and its capitals
    as `batch_text` lowers them (ASCII only). `str.lower` finds `ароль` in `ПАРОЛЬ=…`, where
    the batch's bytes keep the capitals `АРОЛЬ`: a capitalised word of another script must
    not skip its rules in a batch (a title-cased one, `Пароль`, holds the anchor as it is)."""
    spelt = {a: a for a in anchors}
    for a in anchors:
        caps = a.upper().encode("utf-8", "surrogatepass").lower().decode("utf-8", "surrogatepass")
        spelt.setdefault(caps, a)
    return spelt


_PLAIN_SPELT = _batch_spellings(_PLAIN_ANCHORS)
_TOKEN_SPELT = _batch_spellings(_TOKEN_ANCHORS)
_SCAN_PLAIN = Scan(tuple(_PLAIN_SPELT))
_SCAN_TOKEN = Scan(tuple(_TOKEN_SPELT))


_PLAIN_CAPITALS = frozenset(k for k, v in _PLAIN_SPELT.items() if k != v)
_TOKEN_CAPITALS = frozenset(k for k, v in _TOKEN_SPELT.items() if k != v)


def _as_anchors(found: list[str], spelt: dict[str, str], capitals: frozenset[str]) -> list[str]:
    """The anchors a batch's spellings `found` stand for, each once (`capitals`: the
    spellings that are no anchor of their own)."""
    if capitals.isdisjoint(found):
        return found
    return list(dict.fromkeys(spelt[a] for a in found))


def _select(
    text: str,
    low: str,
    plain: Sequence[str] = _PLAIN_ANCHORS,
    token: Sequence[str] = _TOKEN_ANCHORS,
) -> list[int]:
    """The indexes of the rules that can match `text` (`low` = `text.lower()`), considering
    only the anchors `plain` / `token` (a batch passes the ones it holds)."""
    chosen: set[int] = set()
    for anchor in plain:
        if anchor in low:
            chosen.update(_PLAIN[anchor])
    if token and has_token_run(text):
        for anchor in token:
            if anchor in low:
                chosen.update(_TOKEN[anchor])
    return sorted(chosen)


Span = tuple[int, int, int, str]  # start, end, rule order, kind

_SECRET_GROUPS = tuple(
    tuple(g for g in r.pattern.groupindex if g.startswith("secret")) for r in RULES
)
"""Each rule's `secret`, `secret2`, … groups: one per way its value can be read (quoted up to
the closing quote, or bare up to a space), of which at most one takes part in a match."""


def _rule_spans(text: str, order: int, r: Rule) -> list[Span]:
    spans: list[Span] = []
    groups = _SECRET_GROUPS[order]
    for m in r.pattern.finditer(text):
        if m.start() and _PLACEHOLDER.match(text, m.start() - 1):
            # A placeholder's kind is no credential's name (`[REDACTED_GITHUB_TOKEN]: word`):
            # read as one, the next pass would redact the word after it (not idempotent).
            continue
        group = next((g for g in groups if m.group(g) is not None), None)
        if groups and group is None:
            continue  # a skip (see `Rule`): text the rule consumed so as not to scan it again
        start, end = m.span(group) if group else m.span()
        if start == end:
            continue
        secret = text[start:end]
        if _PLACEHOLDER.fullmatch(secret):
            continue
        kind = r.kind
        if r.check is not None:
            verdict = r.check(secret, m)
            if not verdict:
                continue
            if isinstance(verdict, tuple):
                kind, end = verdict
            elif isinstance(verdict, str):
                kind = verdict
        spans.append((start, end, order, kind))
    return spans


def _extra_spans(text: str, extra: Sequence[re.Pattern[str]]) -> list[Span]:
    spans: list[Span] = []
    for n, pattern in enumerate(extra):
        has_group = "secret" in pattern.groupindex
        for m in pattern.finditer(text):
            grouped = has_group and m.group("secret") is not None
            start, end = m.span("secret") if grouped else m.span()
            if start < end and not _PLACEHOLDER.fullmatch(text[start:end]):
                spans.append((start, end, len(RULES) + n, "CUSTOM"))
    return spans


def find_spans(
    text: str, rules: Sequence[int] | None = None, extra: Sequence[re.Pattern[str]] = ()
) -> list[Span]:
    """The merged secret spans of `text` (sorted, not overlapping) for the rules `rules`
    (indexes into `RULES`; default: those the pre-filter selects) and `extra` patterns."""
    if rules is None:
        rules = _select(text, text.lower())
    spans: list[Span] = []
    for i in rules:
        rule = RULES[i]
        # Most texts a rule is run on hold no match of it (an anchor is no match): one
        # `search` costs a third of the spans' loop; a text with a match is scanned again.
        if rule.pattern.search(text) is not None:
            spans += _rule_spans(text, i, rule)
    if extra:
        spans += _extra_spans(text, extra)
    return _merge(spans) if spans else spans


def _merge(spans: list[Span]) -> list[Span]:
    """`spans` sorted, overlapping ones merged (named after the earliest, widest)."""
    spans.sort(key=lambda s: (s[0], -s[1], s[2]))
    merged: list[Span] = []
    for span in spans:
        if merged and span[0] < merged[-1][1]:
            last = merged[-1]
            if span[1] > last[1]:
                merged[-1] = (last[0], span[1], last[2], last[3])
            continue
        merged.append(span)
    return merged


def _apply(text: str, spans: Sequence[Span]) -> str:
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end, _, kind in spans:
        out.append(text[pos:start])
        out.append(f"[REDACTED_{kind}]")
        pos = end
    out.append(text[pos:])
    return "".join(out)


# ---------------------------------------------------------------- JSON


def _looks_json(text: str) -> bool:
    head = text.lstrip()[:1]
    if head not in ("{", "[", '"'):
        return False
    return text.rstrip()[-1:] == {"{": "}", "[": "]", '"': '"'}[head]


def _dump(value: Any, original: str) -> str:
    if "\n" in original.strip():
        return json.dumps(value, ensure_ascii=False, indent=2)
    separators = (", ", ": ") if '": ' in original else (",", ":")
    return json.dumps(value, ensure_ascii=False, separators=separators)


def _keyed_kind(key: str, value: str) -> str | None:
    """The kind when `value`, found under JSON key `key`, is a credential as a whole."""
    cls = classify(key)
    if cls is None or not is_literal_secret(value, cls, quoted=True, code_after=False):
        return None
    return "HIGH_ENTROPY" if cls == "WEAK" else cls


_PAIR_NAMES = ("name", "key", "variable", "label", "parametername", "secretname", "keyname",
               "parameterkey", "optionname")  # fmt: skip
"""The keys, in lower case, that name an object's value (any case: `Name`/`Value` in AWS
SSM and ECS, `KEY`/`VALUE` in hand-made exports, `keyName` in `az storage account keys
list`, `ParameterKey`/`ParameterValue` in CloudFormation's parameters, `OptionName` in
Elastic Beanstalk's option settings)."""
_PAIR_VALUES = ("value", "parametervalue")
"""The keys, in lower case, of the value an object names."""


def _pair_name(obj: dict[str, Any], parent: str | None) -> str | None:
    """The name of an object's `value`: its `{"name": "DB_PASSWORD", "value": ...}`
    (Kubernetes env, CI variables; 1Password's fields name theirs `label`), the first one
    that is a credential's; else `parent`, the credential key the object is under
    (`terraform output -json`: `{"db_password": {"sensitive": true, "value": ...}}`)."""
    if not any(isinstance(k, str) and k.lower() in _PAIR_VALUES for k in obj):
        return None
    named = {k.lower(): v for k, v in obj.items() if isinstance(k, str) and isinstance(v, str)}
    names = [named[k] for k in _PAIR_NAMES if k in named]
    credential = next((n for n in names if classify(n) is not None), None)
    return credential or parent or (names[0] if names else None)


def decode_json(text: str | bytes) -> tuple[Any, bool]:
    """`text` decoded, and whether one of its objects repeats a key. Every JSON reader keeps
    the last value of a repeated key, but the text holds the earlier ones too, which no rule
    looked at: such a text is never kept as written. Raises `ValueError` (not JSON) and
    `RecursionError` as `json.loads` does."""
    repeated = False

    def unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal repeated
        obj = dict(pairs)
        repeated = repeated or len(obj) != len(pairs)
        return obj

    return json.loads(text, object_pairs_hook=unique), repeated


def _spaced(item: str) -> bool:
    return any(c.isspace() for c in item) and "'" not in item


_OPTION_VALUE = re.compile(r"-{0,2}[A-Za-z0-9_.-]+=")
"""The `name=` of an item `--password=pass phrase`: quoted, only its value is (`name='…'`)."""


@dataclass(frozen=True)
class _Placed:
    """Where an item is in the joined line: `start`, its length there (`width`: quotes
    included), and `gap`, the item offset after which one quote was inserted (-1: none)."""

    start: int
    width: int
    gap: int = -1

    def offset(self, pos: int, size: int) -> int:
        """The item offset of line position `pos` (clamped to the item's `size`)."""
        off = pos - self.start
        if self.gap >= 0 and off > self.gap:
            off -= 1
        return min(max(off, 0), size)


def _argv_line(items: list[str], quote: bool) -> tuple[str, list[_Placed]]:
    """`items` joined by spaces, and where each is in the line; `quote`: an item holding
    whitespace written `'…'` as a shell line would show it, or `name='…'` for an option
    with its value."""
    parts: list[str] = []
    placed: list[_Placed] = []
    pos = 0
    for item in items:
        if quote and _spaced(item):
            option = _OPTION_VALUE.match(item)
            if option and _spaced(item[option.end() :]):
                gap = option.end()
                parts.append(f"{item[:gap]}'{item[gap:]}'")
                placed.append(_Placed(pos, len(parts[-1]), gap))
            else:
                parts.append(f"'{item}'")
                placed.append(_Placed(pos + 1, len(item)))
        else:
            parts.append(item)
            placed.append(_Placed(pos, len(item)))
        pos += len(parts[-1]) + 1
    return " ".join(parts), placed


def _redact_argv(items: list[str], extra: Sequence[re.Pattern[str]]) -> list[str]:
    """A list of strings read as one command line (`["mysql", "-pSECRET"]`): the parts of
    each item that a secret of the joined line covers are replaced. A line with items that
    hold spaces is read a second time with those quoted: a password with a space
    (`["sshpass", "-p", "pass phrase"]`, `["mysql", "--password=pass phrase"]`) is one
    argument, which only quotes show the rules."""
    lines = [_argv_line(items, False)]
    if any(_spaced(item) for item in items):
        lines.append(_argv_line(items, True))
    local: list[list[Span]] = [[] for _ in items]
    for joined, placed in lines:
        spans = find_spans(joined, None, extra)
        first = 0  # spans are sorted and disjoint: the first one not wholly before this item
        for n, item in enumerate(items):
            at = placed[n]
            start, end = at.start, at.start + at.width
            while first < len(spans) and spans[first][1] <= start:
                first += 1
            i = first
            # Only the spans over this item (each span was read again for every item: n^2 on
            # a list of thousands of `NAME=secret` lines took minutes).
            while i < len(spans) and spans[i][0] < end:
                s, e, o, k = spans[i]
                if e > start:
                    lo, hi = at.offset(s, len(item)), at.offset(e, len(item))
                    if hi > lo:
                        local[n].append((lo, hi, o, k))
                i += 1
    if not any(local):
        return items
    return [_apply(item, _merge(spans)) for item, spans in zip(items, local, strict=True)]


def redact_value(
    value: Any, extra: Sequence[re.Pattern[str]] = (), depth: int = 0, parent: str | None = None
) -> Any:
    """`value` (decoded JSON) with every string redacted, key-aware (see the module doc).
    `parent`: the credential key `value` is under (its objects' `value` is that secret, and so
    is each item of a list: a sensitive list output of `terraform output -json`)."""
    if isinstance(value, str):
        return _redact(value, extra, depth)
    if isinstance(value, list):
        if len(value) >= 2 and all(isinstance(v, str) for v in value):
            value = _redact_argv(value, extra)
        if parent is None:
            return [redact_value(v, extra, depth) for v in value]
        return [_member(v, (parent,), extra, depth) for v in value]
    if isinstance(value, dict):
        if kube.is_secret_object(value):
            value = _secret_maps_redacted(value)
        elif is_private_jwk(value):
            value = {
                k: "[REDACTED_PRIVATE_KEY]" if k in JWK_PRIVATE and isinstance(v, str) else v
                for k, v in value.items()
            }
        pair = _pair_name(value, parent)
        out: dict[Any, Any] = {}
        for key, item in value.items():
            clean_key = _redact(key, extra, depth) if isinstance(key, str) else key
            if not isinstance(key, str):
                out[clean_key] = redact_value(item, extra, depth)
            elif pair is not None and key.lower() in _PAIR_VALUES:
                out[clean_key] = _member(item, (key, pair), extra, depth)
            else:
                out[clean_key] = _member(item, (key,), extra, depth)
        return out
    return value


def _secret_maps_redacted(obj: dict[str, Any]) -> dict[str, Any]:
    """A Kubernetes Secret with every value of its `data` / `stringData` replaced."""
    out = dict(obj)
    for key in kube.MAPS:
        entries = obj.get(key)
        if isinstance(entries, dict):
            out[key] = {
                k: f"[REDACTED_{kube.KIND}]" if isinstance(v, str) and v else v
                for k, v in entries.items()
            }
    return out


def _member(item: Any, names: tuple[str, ...], extra: Sequence[re.Pattern[str]], depth: int) -> Any:
    """`item`, found under `names` (its key, then the name its object or the key above gives
    it; the last is its name): a literal any of them makes a credential whole is replaced."""
    if isinstance(item, str) or item.__class__ is int:
        # A number is a literal too (`"password": 84736291`, as text it is redacted).
        literal = item if isinstance(item, str) else str(item)
        for name in names:
            kind = _keyed_kind(name, literal)
            if kind:
                return f"[REDACTED_{kind}]"
    name = names[-1]
    credential = classify(name) is not None
    if isinstance(item, str) and credential:
        return _named(name, item, extra, depth)
    return redact_value(item, extra, depth, name if credential else None)


def _named(name: str, item: str, extra: Sequence[re.Pattern[str]], depth: int) -> str:
    """`item`, the value of a credential-named key, redacted as its text form `name: item`
    would be: a value the key does not make a secret whole may still hold one that the name
    shows (`"Authorization": "Token …"`, which no rule finds without its name)."""
    clean = _redact(item, extra, depth)
    if _looks_json(clean):
        return clean  # decoded on its own
    head = f"{name}: "
    text = _redact(head + clean, extra, depth)
    return text[len(head) :] if text.startswith(head) else clean


def _redact(
    text: str,
    extra: Sequence[re.Pattern[str]],
    depth: int = 0,
    plain: Sequence[str] = _PLAIN_ANCHORS,
    token: Sequence[str] = _TOKEN_ANCHORS,
    encoded: bool = True,
) -> str:
    """`encoded`: `text` may hold base64 of readable text (a batch without any passes False)."""
    if not text:
        return text
    low = text.lower()
    rules = _select(text, low, plain, token)
    json_like = depth < MAX_DEPTH and _looks_json(text)
    hidden = json_like and any(h in text for h in _HIDING)
    shown = may_read_otherwise(text)
    # Decoded now, read (recursively) only on the text path: the JSON path reads each string
    # on its own, and reading a run here too would redact what it hides twice per level of
    # JSON around it, 2^depth times in all (a 1 MB line took seconds).
    runs = list(encoded_texts(text)) if encoded and depth < MAX_DEPTH else []
    if depth < MAX_DEPTH and dumps.MARK in text:
        runs += dumps.dump_texts(text)
    if (
        not rules
        and not hidden
        and not shown
        and not runs
        and not kube.may_hold(text)
        and not mnemonic.alone(text)
        and not any(p.search(text) for p in extra)
    ):
        return text
    if json_like:
        try:
            obj, repeated = decode_json(text)
        except (ValueError, RecursionError):
            pass
        else:
            if isinstance(obj, (dict, list, str)):
                try:
                    clean = redact_value(obj, extra, depth + 1)
                except RecursionError:
                    clean = obj  # nested beyond reason: matched as text below
                else:
                    return text if clean == obj and not repeated else _dump(clean, text)
    spans = find_spans(text, rules, extra)
    if shown:
        spans = _merge(spans + _read_spans(text, extra))
    inner = _encoded_spans(runs, extra, depth)
    if inner or kube.may_hold(text):
        secrets = ((s, e, kube.KIND) for s, e in kube.data_spans(text))
        spans = _merge(spans + inner + _read_out(text, secrets))
    table = _read_out(text, _readers(text, rules))
    if table:
        spans = _merge(spans + table)
    return _apply(text, spans)


_ENCODED_ORDER = len(RULES) + 1_000_000  # after every rule and extra pattern: theirs name it


def _encoded_spans(
    runs: Iterable[tuple[int, int, str, str]], extra: Sequence[re.Pattern[str]], depth: int
) -> list[Span]:
    """The base64 and hex `runs` of a text (`encoded_texts`) whose decoded text holds a
    secret, each whole, named after its encoding and the first secret found in it
    (`[REDACTED_BASE64_GITHUB_TOKEN]`, `[REDACTED_HEX_PASSWORD]`; the innermost secret's
    name when encodings nest)."""
    spans: list[Span] = []
    for start, end, decoded, encoding in runs:
        clean = _redact(decoded, extra, depth + 1)
        if clean != decoded:
            found = _PLACEHOLDER.search(clean)
            kind = found.group()[10:-1] if found else "SECRET"
            kind = kind.removeprefix("BASE64_").removeprefix("HEX_")
            spans.append((start, end, _ENCODED_ORDER, f"{encoding}_{kind}"))
    return spans


def _readers(text: str, rules: Sequence[int] | None = None) -> list[tuple[int, int, str]]:
    """What the readers of formats that keep a name away from its value find: tables, SQL;
    and a wallet's recovery phrase, which has no name at all (`mnemonic`: read through when
    the rule of a named phrase was chosen for `text`, one of its `rules`; None: look)."""
    found = tables.data_spans(text) + sql.data_spans(text)
    named = (
        _NAMED_PHRASE in rules
        if rules is not None
        else any(a in text.lower() for a in mnemonic.MNEMONIC_ANCHORS)
    )
    return found + mnemonic.data_spans(text, named)


_NAMED_PHRASE = next(i for i, r in enumerate(RULES) if r.kind == mnemonic.KIND)
"""The rule of a named recovery phrase, whose anchors are the mnemonic reader's."""


def _read_out(text: str, found: Iterable[tuple[int, int, str]]) -> list[Span]:
    """The values a reader of a format found (`kube`: a Secret's data; `tables`: a credential's
    cell), as spans after every rule's, those already a placeholder left out."""
    return [
        (s, e, _ENCODED_ORDER, kind)
        for s, e, kind in found
        if not _PLACEHOLDER.fullmatch(text, s, e)
    ]


def _read_spans(text: str, extra: Sequence[re.Pattern[str]]) -> list[Span]:
    """The spans found in how `text` reads (`views.reading`: its JSON escapes and URL-encoding
    decoded, without its terminal escapes), as spans of `text`. Every rule whose anchor the
    reading holds runs, and the readers of tables and SQL data: a batch's anchors are those of
    the texts as written."""
    seen = reading(text)
    if seen is None:
        return []
    spans = find_spans(seen.text, None, extra)
    spans += ((s, e, _ENCODED_ORDER, k) for s, e, k in _readers(seen.text))
    return [(*seen.origin(s, e), o, k) for s, e, o, k in spans]


def redact_text(text: str, extra: Sequence[re.Pattern[str]] = ()) -> str:
    """`text` with every built-in secret shape, then every `extra` pattern, replaced by
    `[REDACTED_<kind>]` (`[REDACTED_CUSTOM]` for `extra`; a pattern with a `secret` group
    redacts only that group). Pure; never raises for any text; idempotent."""
    return _redact(text, extra)


def contains_secret(text: str, extra: Sequence[re.Pattern[str]] = ()) -> bool:
    """Whether `redact_text` would change `text`."""
    return redact_text(text, extra) != text


class LedgerRedactor:
    """`redact_text` with a ledger's extra patterns, built for batches (the capture path).

    `many(texts)` scans the whole batch once for each anchor and for a token-like run, then
    looks at each text only for the anchors the batch holds: a batch of ordinary lines costs
    a few substring scans. Results equal `redact_text`'s exactly.
    """

    def __init__(self, extra: Sequence[re.Pattern[str]] = ()) -> None:
        self.extra = list(extra)

    def __call__(self, text: str) -> str:
        return _redact(text, self.extra)

    def many(self, texts: list[str]) -> list[str]:
        """`[self(t) for t in texts]`, faster."""
        if not texts:
            return []
        joined = "\x00".join(texts)
        data, low, distinct = batch_text(joined)
        # What the checks below look for lies inside one word (no white space in it), and
        # the distinct words of a transcript (test dots, logs, code) are often a small part
        # of its text: each is searched for there, not in the whole batch.
        words = framed(distinct)
        found = anchors_in(_SCAN_PLAIN, distinct, low, words)
        plain = _as_anchors(found, _PLAIN_SPELT, _PLAIN_CAPITALS)
        has_run = _RUN in words.translate(_TOKEN_TABLE)
        token = (
            _as_anchors(
                anchors_in(_SCAN_TOKEN, distinct, low, words), _TOKEN_SPELT, _TOKEN_CAPITALS
            )
            if has_run
            else []
        )
        hidden = batch_may_read_otherwise(words)
        encoded = batch_texts_with_encoded_text(data, len(texts), words)
        kind = kube.batch_may_hold(words)
        dumped = _MARK in words
        if (
            not plain
            and not token
            and not hidden
            and not encoded
            and not kind
            and not dumped
            and not self.extra
            and not mnemonic.batch_may_hold(texts)
        ):
            return list(texts)
        if encoded is None:
            return [_redact(t, self.extra, 0, plain, token) for t in texts]
        return [_redact(t, self.extra, 0, plain, token, i in encoded) for i, t in enumerate(texts)]

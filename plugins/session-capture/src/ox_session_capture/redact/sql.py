"""Credentials in SQL data: a value in a column that names one. No `name = value` stands
beside such a value (its name is in a column list, the value rows later), so no rule reads it.

- `INSERT INTO users (email, password) VALUES ('a@b.c', '…'), (…);`: any number of rows,
  or one query of literals (`… SELECT 'a@b.c', '…' WHERE NOT EXISTS (…)`),
  across lines and `--` comments (`REPLACE INTO`, `INSERT OR IGNORE INTO`, MySQL's `VALUE`,
  quoted names: `"password"`, `` `password` ``, `[password]`);
- `INSERT INTO users VALUES (1, 'admin', '…')` when the same text creates that table
  (`CREATE TABLE users (id …, username …, password …)`: a seed script, a `mysqldump`);
- `INSERT INTO users VALUES (1, 'admin', '…')` into a table of accounts created elsewhere
  (its name says so: `users`, `accounts`, `wp_users`, `admins`...): a value there that looks
  like a password (`rules.password_like_literal`: strong, random-looking, or letters with
  digits between them; no name, e-mail address, date or path) is one;
- a call on a literal in a password's column, whatever else its name says: the password
  hashed where it is inserted (`password_hash` ← `crypt('…', gen_salt('bf'))`, `md5('…')`);
- a driver's call whose VALUES are positional placeholders and whose next argument (or
  arguments) hold the rows: `cur.execute("INSERT … VALUES (%s, %s)", ("bob", "…"))`,
  `executemany(…, [("a", "…"), …])`, `db.query('… VALUES ($1, $2)', ['bob', '…'])`, Go's
  `db.Exec("… VALUES (?, ?)", "bob", "…")`;
- `COPY users (id, email, password) FROM stdin;` and its tab-separated rows up to `\\.`
  (`pg_dump`);
- a settings table's row whose name cell names a credential: `INSERT INTO wp_options
  (option_name, option_value) VALUES ('smtp_password', '…')`, `settings (key, value)`.

A value counts as it would after `password = ` (`names.literal_kind`, quoted); a stored hash
is left to the hash rules, which keep its scheme (`$2b$…`). The reader is
a single pass over each statement: a string that does not close ends it, and the search for
the next statement goes on from where it stopped (no text is read twice).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator

from ox_session_capture.redact.names import (
    CREDENTIAL_WORDS,
    PASSWORD_WORDS_ABROAD,
    classify,
    holds_password_word,
    literal_kind,
)
from ox_session_capture.redact.rules import AN_ID, START, password_like_literal
from ox_session_capture.redact.rules_hashes import HASH_RULES

Span = tuple[int, int, str]

_WORDS = (*CREDENTIAL_WORDS, *PASSWORD_WORDS_ABROAD, "psk", "salt", "session")
"""What a credential's column name holds (lower case): a text without one has nothing here."""
_ACCOUNT_WORDS = ("user", "account", "admin", "member", "login", "customer", "employee",
                  "staff", "people", "person", "profile", "operator")  # fmt: skip
"""What the name of a table of people's accounts says (lower case)."""
_ACCOUNTS = re.compile(r"(?:^|_)(?:" + "|".join(_ACCOUNT_WORDS) + r")s?$")
"""Such a table (its name's last part, lower case): a row inserted there without a column
list may hold a password."""

_WS = r"(?:[ \t\r\n]|\\[nrt])"
_NAME = r'(?:"[^"\\\n]{1,128}"|`[^`\n]{1,128}`|\[[^\]\n]{1,128}\]|[A-Za-z_][\w$]{0,127})'
_TABLE = rf"(?P<table>{_NAME}(?:\.{_NAME}){{0,2}})"
_INSERT = re.compile(
    rf"{START}(?:insert|replace|upsert)(?:{_WS}+[a-z_]{{1,20}}){{0,3}}?{_WS}+into{_WS}+{_TABLE}{_WS}*",
    re.IGNORECASE,
)
"""An INSERT's head up to its table (modifiers between: `OR IGNORE`, `IGNORE`, `LOW_PRIORITY`)."""
_CREATE = re.compile(
    rf"{START}create(?:{_WS}+[a-z_]{{1,20}}){{0,2}}?{_WS}+table(?:{_WS}+if{_WS}+not{_WS}+exists)?"
    rf"{_WS}+{_TABLE}{_WS}*\(",
    re.IGNORECASE,
)
_COPY = re.compile(rf"{START}copy{_WS}+{_TABLE}{_WS}*\(", re.IGNORECASE)
_FROM_STDIN = re.compile(rf"{_WS}*from{_WS}+stdin[^\n;]{{0,200}};", re.IGNORECASE)
_VALUES = re.compile(r"values?(?![\w$])", re.IGNORECASE)
_SELECT = re.compile(r"select(?![\w$])", re.IGNORECASE)
_UNION = re.compile(
    rf"(?:from{_WS}+dual{_WS}*)?union(?:{_WS}+all)?{_WS}+select(?![\w$])", re.IGNORECASE
)
_MAX_ROWS = 10_000
"""Rows of a query of literals read at most (each is a `SELECT` of its own)."""
_ITEM = 100
"""Characters of a query's item that is no literal read at most (`crypt('…', gen_salt('bf'))`)."""
_IDENT = re.compile(_NAME)
_NOT_COLUMNS = frozenset(
    {"primary", "key", "unique", "constraint", "index", "foreign", "check", "fulltext",
     "spatial", "exclude", "like", "period"}
)  # fmt: skip
"""A CREATE TABLE item that is no column (`PRIMARY KEY (id)`, `KEY idx_email (email)`)."""
_PLACEHOLDER = re.compile(r"\?|%s|\$(\d{1,3})|:\d{1,3}")
"""A positional parameter (`?`, `%s`, `$1`, `:1`)."""
_MAX_COLUMNS = 512
_LOOK_FOR_ARGS = 400
"""Characters after a placeholders' row looked through for the host string's end."""


def _skip(text: str, i: int) -> int:
    """Past white space (and its `\\n`, `\\t`, `\\r` escapes) and SQL comments from `i`."""
    size = len(text)
    while i < size:
        c = text[i]
        if c in " \t\r\n":
            i += 1
        elif c == "\\" and text[i + 1 : i + 2] in ("n", "t", "r"):
            i += 2
        elif text.startswith("--", i):
            # To the line's end (a newline, or its escape before it: looked for only that
            # far, or each comment would scan the rest of the text).
            newline = text.find("\n", i) % (size + 1)
            escape = text.find("\\n", i, newline)
            i = escape + 2 if escape >= 0 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = size if close < 0 else close + 2
        else:
            break
    return i


def _name(quoted: str) -> str:
    """A name without its quotes; the last part of a qualified one, lower case."""
    last = _IDENT.findall(quoted)[-1] if "." in quoted else quoted
    if last[:1] in ('"', "`", "["):
        last = last[1:-1]
    return last.lower()


def _columns(text: str, i: int) -> tuple[list[str], int] | None:
    """The names of the column list whose `(` is at `i`, and where it ends."""
    names: list[str] = []
    i += 1
    while len(names) < _MAX_COLUMNS:
        i = _skip(text, i)
        m = _IDENT.match(text, i)
        if m is None:
            return None
        names.append(_name(m.group()))
        i = _skip(text, m.end())
        if text.startswith(")", i):
            return names, i + 1
        if not text.startswith(",", i):
            return None
        i += 1
    return None


class _Value:
    """One value of a row: a string literal's content span, a call's first literal
    argument's span (`call`), or neither (a number, NULL, a column, a placeholder's
    `param` index)."""

    __slots__ = ("call", "end", "param", "start")

    def __init__(self, start: int = -1, end: int = -1, *, call: bool = False) -> None:
        self.start, self.end, self.call = start, end, call
        self.param: int | None = None


def _string_end(text: str, i: int) -> int:
    """The index after the string literal whose quote is at `i` (a doubled quote and a
    backslash escape stay inside), or -1 when it does not close."""
    quote = text[i]
    size = len(text)
    i += 1
    while i < size:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == quote:
            if text.startswith(quote, i + 1):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return -1


def _expression_end(text: str, i: int, limit: int = 0) -> tuple[int, int, int]:
    """From `i`, the index of the `,` or closing bracket ending a value (-1 when the text
    ends first, or `limit` characters were read when given); with the span of the first string
    literal directly inside its first `(` (a call's first argument), or (-1, -1)."""
    depth = 0
    first = (-1, -1)
    opened = -1  # where the first `(` is
    checked = False  # whether the first literal inside it was looked at
    size = min(len(text), i + limit) if limit else len(text)
    while i < size:
        c = text[i]
        if c in "'\"":
            end = _string_end(text, i)
            if end < 0:
                return -1, -1, -1
            if depth == 1 and opened >= 0 and not checked:
                checked = True
                if not text[opened + 1 : i].strip():
                    first = (i + 1, end - 1)
            i = end
            continue
        if c in "([{":
            depth += 1
            if opened < 0:
                opened = i
        elif c in ")]}":
            if depth == 0:
                return i, *first
            depth -= 1
        elif c == "," and depth == 0:
            return i, *first
        i += 1
    return -1, -1, -1


def _literal_at(text: str, i: int) -> _Value | None:
    """The string literal at `i` (after an `E`, `N`, `b`, `r`, `u` prefix) as a `_Value`."""
    j = i + 1 if text[i : i + 1] in ("E", "e", "N", "n", "b", "r", "u") else i
    if text[j : j + 1] not in ("'", '"'):
        return None
    if text.startswith(text[j] * 3, j):  # a triple-quoted literal: not a row's value
        return None
    end = _string_end(text, j)
    if end < 0:
        return None
    return _Value(j + 1, end - 1)


UNCLOSED = -1
"""Where reading stops when a string or a bracket does not close: the rest of the text is
inside it, and reading on from anywhere in it would read it again."""


def _row(text: str, i: int, close: str = "") -> tuple[list[_Value] | None, int]:
    """The values of the row whose `(` (or `[`) is at `i`, and where it ends; None for a
    row of another shape, with where reading stopped (`UNCLOSED`)."""
    values: list[_Value] = []
    close = close or (")" if text[i] == "(" else "]")
    i += 1
    while len(values) < _MAX_COLUMNS:
        i = _skip(text, i)
        literal = _literal_at(text, i)
        if literal is not None:
            value = literal
            i = _skip(text, literal.end + 1)
            if not text.startswith((",", close), i):  # a cast, an operator: `'…'::text`
                i = _expression_end(text, i)[0]
        else:
            end, first, last = _expression_end(text, i)
            if end >= 0:
                value = _Value(first, last, call=True) if first >= 0 else _Value()
                placeholder = _PLACEHOLDER.fullmatch(text[i:end].strip())
                if placeholder is not None:
                    value.param = int(placeholder.group(1) or 0) - 1  # -1: the next in order
            i = end
        if i < 0:
            return None, UNCLOSED
        values.append(value)
        if text.startswith(close, i):
            return values, i + 1
        if not text.startswith(",", i):
            return None, i
        i += 1
    return None, i


def _selected(text: str, i: int, count: int) -> tuple[list[_Value] | None, int]:
    """The values of a query's list from `i` (after `SELECT`) when it has `count` items at
    least, as an INSERT's row (`INSERT INTO users (name, password) SELECT 'bob', '…'`, a seed
    guarded by `WHERE NOT EXISTS (…)`), else None; and where the row's last item ends. Items
    past `count` are no row's. An item other than a literal is read `_ITEM` characters far
    at most: where a query's list ends is not marked (no bracket closes it), and reading on
    from each `SELECT` of a hostile text to its end would read it again and again."""
    values: list[_Value] = []
    while True:
        i = _skip(text, i)
        literal = _literal_at(text, i)
        if literal is not None:
            value = literal
            i = _skip(text, literal.end + 1)
            if text.startswith("::", i):  # a cast: `'…'::text`
                cast = _IDENT.match(text, i + 2)
                i = _skip(text, cast.end()) if cast is not None else i
        else:
            end, first, last = _expression_end(text, i, _ITEM)
            if end < 0:
                return None, i
            value = _Value(first, last, call=True) if first >= 0 else _Value()
            i = end
        values.append(value)
        if len(values) == count:
            return values, i
        if not text.startswith(",", i):
            return None, i
        i += 1


def _selected_rows(text: str, i: int, count: int) -> list[list[_Value]]:
    """The rows of queries of literals from `i` (after the first `SELECT`), joined by `UNION
    [ALL] SELECT` (Oracle's and old MySQL's way to insert several: `… FROM dual UNION ALL
    SELECT …`)."""
    rows: list[list[_Value]] = []
    while len(rows) < _MAX_ROWS:
        row, end = _selected(text, i, count)
        if row is None:
            return rows
        rows.append(row)
        union = _UNION.match(text, _skip(text, end))
        if union is None:
            return rows
        i = union.end()
    return rows


def _rows(text: str, i: int) -> tuple[list[list[_Value]], int]:
    """The rows from `i` (`(…), (…)`), and where reading stopped (`UNCLOSED`)."""
    rows: list[list[_Value]] = []
    while True:
        i = _skip(text, i)
        if text[i : i + 1] not in ("(", "["):
            return rows, i
        row, i = _row(text, i)
        if row is None:
            return rows, i
        rows.append(row)
        i = _skip(text, i)
        if not text.startswith(",", i):
            return rows, i
        i += 1


def _column_class(name: str) -> tuple[bool, bool]:
    """Whether a value in column `name` may be a literal credential (`classify`), and
    whether a call's literal in it may be a password (a password's word anywhere in it:
    `password_hash`, `encrypted_password`)."""
    return classify(name) is not None, holds_password_word(name)


Credentials = dict[int, tuple[str, bool, bool]]


def _credentials(columns: list[str]) -> Credentials:
    """The columns that may hold a credential: `{index: (name, literal, hashed)}`."""
    found = {}
    for n, name in enumerate(columns):
        literal, hashed = _column_class(name)
        if literal or hashed:
            found[n] = (name, literal, hashed)
    return found


def _kind(column: tuple[str, bool, bool], secret: str, *, call: bool) -> str | None:
    """The kind of `secret`, a literal in `column` (`_credentials`) or a call's first
    literal there (`call`), or None when it is no credential."""
    name, literal, hashed = column
    if "[REDACTED_" in secret or any(r.pattern.search(secret) for r in HASH_RULES):
        return None  # a stored hash is the hash rules' (its scheme kept: `'$2b$[REDACTED_…]'`)
    if call:
        return literal_kind("password", secret, quoted=True) if hashed else None
    return literal_kind(name, secret, quoted=True) if literal else None


def _spans_of(
    text: str, columns: Credentials, width: int, rows: list[list[_Value]], out: list[Span]
) -> None:
    for row in rows:
        if len(row) != width:
            continue
        for n, column in columns.items():
            value = row[n]
            if value.start >= 0:
                kind = _kind(column, text[value.start : value.end], call=value.call)
                if kind is not None:
                    out.append((value.start, value.end, kind))


_PAIR_NAMES = frozenset(
    {"name", "key", "variable", "setting", "optionname", "configkey", "settingname", "settingkey",
     "paramname", "parametername", "parameterkey", "secretname", "keyname", "envname", "varname"}
)  # fmt: skip
_PAIR_VALUES = frozenset(
    {"value", "optionvalue", "configvalue", "settingvalue", "paramvalue", "parametervalue",
     "secretvalue", "envvalue", "varvalue"}
)  # fmt: skip
"""A settings table's columns, compared without `_`: a row's name cell names what its value
cell holds (`wp_options (option_name, option_value)`, `settings (key, value)`)."""
_LABEL = re.compile(r"[A-Za-z_][\w.-]{0,63}")


def _pair(columns: list[str]) -> tuple[int, int] | None:
    """The indexes of a settings table's name and value columns, or None."""
    plain = [c.replace("_", "") for c in columns]
    names = [n for n, c in enumerate(plain) if c in _PAIR_NAMES]
    values = [n for n, c in enumerate(plain) if c in _PAIR_VALUES]
    return (names[0], values[0]) if names and values else None


def _pair_spans(
    text: str, pair: tuple[int, int], width: int, rows: list[list[_Value]], out: list[Span]
) -> None:
    """A settings row's value when its name cell names a credential (`'smtp_password'`)."""
    for row in rows:
        if len(row) != width:
            continue
        name, value = row[pair[0]], row[pair[1]]
        if name.call or value.call or name.start < 0 or value.start < 0:
            continue
        label = text[name.start : name.end]
        if _LABEL.fullmatch(label) and classify(label) is not None:
            kind = _kind((label, True, False), text[value.start : value.end], call=False)
            if kind is not None:
                out.append((value.start, value.end, kind))


def _arguments(text: str, i: int) -> tuple[list[list[_Value]], int]:
    """The rows given after a statement whose placeholders' row ended at `i`: past the host
    string's closing quote and a comma, a tuple or list of values, a list of them, or the
    call's remaining arguments (Go's `db.Exec(q, a, b)`); and where reading stopped."""
    stop = min(len(text), i + _LOOK_FOR_ARGS)
    quote = min((q for q in (text.find(c, i, stop) for c in "\"'`") if q >= 0), default=-1)
    if quote < 0:
        return [], i
    i = quote
    while text[i : i + 1] in ('"', "'", "`"):
        i += 1
    comma = _skip(text, i)
    if not text.startswith(",", comma):
        return [], i
    i = _skip(text, comma + 1)
    if text[i : i + 1] in ("(", "["):
        inner = _skip(text, i + 1)
        if text[inner : inner + 1] in ("(", "["):  # executemany's rows
            return _rows(text, inner)
        row, end = _row(text, i)
    else:
        row, end = _row(text, comma, ")")  # the call's own arguments, up to its `)`
    return ([row] if row is not None else []), end


def _with_bound(text: str, rows: list[list[_Value]], end: int) -> tuple[list[list[_Value]], int]:
    """`rows`, read up to `end`, with the rows bound to them when they are one row of
    placeholders (`_arguments`); and where reading stopped."""
    if end != UNCLOSED and len(rows) == 1 and any(v.param is not None for v in rows[0]):
        args, end = _arguments(text, end)
        rows = [*rows, *_bound(rows[0], args)]
    return rows, end


def _bound(template: list[_Value], args: list[list[_Value]]) -> list[list[_Value]]:
    """Each row of `args` laid out as the placeholders' row `template`: the value for each
    placeholder (`$2` the second; `?` and `%s` in order), an empty value elsewhere."""
    rows = []
    for arg in args:
        laid: list[_Value] = []
        at = 0
        for value in template:
            if value.param is None:
                laid.append(_Value())
                continue
            index = value.param if value.param >= 0 else at
            at += 1
            laid.append(arg[index] if 0 <= index < len(arg) else _Value())
        rows.append(laid)
    return rows


def _inserts(text: str, tables: dict[str, list[str]], out: list[Span]) -> None:
    pos = 0
    while (m := _INSERT.search(text, pos)) is not None:
        i = _skip(text, m.end())
        pos = m.end()
        columns = tables.get(_name(m.group("table")))
        if text.startswith("(", i):
            listed = _columns(text, i)
            if listed is None:
                continue
            columns, i = listed
            i = _skip(text, i)
        if columns is None:
            end = _unlisted(text, m.group("table"), i, out)
            if end == UNCLOSED:
                return
            pos = max(pos, end)
            continue
        value = _VALUES.match(text, i) or _SELECT.match(text, i)
        if value is None:
            continue
        credentials = _credentials(columns)
        pair = _pair(columns)
        if not credentials and pair is None:
            continue
        if value.group()[:1] in "sS":
            rows, end = _selected_rows(text, value.end(), len(columns)), value.end()
        else:
            rows, end = _rows(text, value.end())
        rows, end = _with_bound(text, rows, end)
        _spans_of(text, credentials, len(columns), rows, out)
        if pair is not None:
            _pair_spans(text, pair, len(columns), rows, out)
        if end == UNCLOSED:
            return
        pos = max(pos, end)


_UNLISTED = ("password", True, False)
"""How a password-like value of a row without a column list is read (`_kind`)."""


def _unlisted(text: str, table: str, i: int, out: list[Span]) -> int:
    """The rows from `i` of an INSERT without a column list into `table`, a table of accounts
    that no text creates: a value that looks like a password is one (`_ACCOUNTS`). Where
    reading stopped (`UNCLOSED`), or `i` when there is nothing to read."""
    value = _VALUES.match(text, i)
    if value is None or _ACCOUNTS.search(_name(table)) is None:
        return i
    rows, end = _rows(text, value.end())
    rows, end = _with_bound(text, rows, end)
    for row in rows:
        for v in row:
            if v.start < 0 or v.call:
                continue
            secret = text[v.start : v.end]
            if AN_ID.search(secret) is not None or not password_like_literal(secret):
                continue
            if _kind(_UNLISTED, secret, call=False) is not None:
                out.append((v.start, v.end, "PASSWORD"))
    return end


def _created(text: str) -> dict[str, list[str]]:
    """The column names of each table the text creates (a name without a list is skipped)."""
    tables: dict[str, list[str]] = {}
    pos = 0
    while (m := _CREATE.search(text, pos)) is not None:
        i = m.end()
        names: list[str] = []
        while len(names) < _MAX_COLUMNS:
            i = _skip(text, i)
            ident = _IDENT.match(text, i)
            end = _expression_end(text, ident.end() if ident else i)[0]
            if end < 0:
                return tables  # the rest of the text is inside a string: no table after
            if ident is not None and ident.group().lower() not in _NOT_COLUMNS:
                names.append(_name(ident.group()))
            i = end + 1
            if text[end] != ",":
                tables[_name(m.group("table"))] = names
                break
        pos = max(i, m.end())
    return tables


def _copies(text: str, out: list[Span]) -> None:
    """`COPY t (cols) FROM stdin;` and its rows, up to a line `\\.`."""
    pos = 0
    while (m := _COPY.search(text, pos)) is not None:
        pos = m.end()
        listed = _columns(text, m.end() - 1)
        if listed is None:
            continue
        columns, i = listed
        tail = _FROM_STDIN.match(text, i)
        credentials = _credentials(columns)
        if tail is None or not credentials:
            continue
        i = tail.end()
        escaped = text.startswith("\\n", i)
        newline, tab = ("\\n", "\\t") if escaped else ("\n", "\t")
        if text.startswith("\r", i):
            i += 1
        if not text.startswith(newline, i):
            continue
        for start, line in _lines(text, i + len(newline), newline):
            if line in ("\\.", "\\\\."):
                pos = start
                break
            fields = line.split(tab)
            if len(fields) != len(columns):
                pos = start
                break
            at = start
            for n, field in enumerate(fields):
                column = credentials.get(n)
                if column is not None and field != "\\N":
                    kind = _kind(column, field, call=False)
                    if kind is not None:
                        out.append((at, at + len(field), kind))
                at += len(field) + len(tab)
            pos = start + len(line)


def _lines(text: str, i: int, newline: str) -> Iterator[tuple[int, str]]:
    size = len(text)
    while i <= size:
        end = text.find(newline, i)
        end = size if end < 0 else end
        yield i, text[i:end].rstrip("\r")
        i = end + len(newline)


_ESCAPE = re.compile(r'\\(["\\/])')
"""A JSON escape of a quote, a backslash or a slash (`\\n`, `\\t` are read as white space)."""


def _unescaped(text: str) -> tuple[str, array[int]]:
    """`text` with its JSON escapes of quotes, backslashes and slashes decoded (text quoted in a
    JSON string that did not parse: `execute(\\"INSERT …\\", (\\"bob\\", …))`), and where
    each of its characters was in `text` (one more: `len(text)`)."""
    parts: list[str] = []
    origins = array("q")
    pos = 0
    for m in _ESCAPE.finditer(text):
        parts.append(text[pos : m.start()])
        origins.extend(range(pos, m.start()))
        parts.append(m.group(1))
        origins.append(m.start())
        pos = m.end()
    parts.append(text[pos:])
    origins.extend(range(pos, len(text) + 1))
    return "".join(parts), origins


def _read(text: str, out: list[Span]) -> None:
    low = text.lower()
    if "into" in low and ("value" in low or "select" in low):
        _inserts(text, _created(text) if "table" in low else {}, out)
    if "copy" in low and "stdin" in low:
        _copies(text, out)


def data_spans(text: str) -> list[Span]:
    """`(start, end, kind)` of each value of `text`'s SQL data in a credential's column (see
    the module)."""
    out: list[Span] = []
    if "(" not in text:
        return out
    low = text.lower()
    if not any(w in low for w in _WORDS) and not (
        "into" in low and any(w in low for w in _ACCOUNT_WORDS)
    ):
        return out
    _read(text, out)
    if '\\"' in text:
        decoded, origins = _unescaped(text)
        found: list[Span] = []
        _read(decoded, found)
        out += ((origins[s], origins[e], kind) for s, e, kind in found)
    return out

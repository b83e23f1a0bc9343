"""Pieces of the rules that find a password among a known command's arguments (`curl -u
user:password`, `mysql -pX`, `htpasswd -b file user password`, `smbclient -U user%password`).

A password argument counts only after its command on the same command line; the rules are
written so that where each option ends is decided by the text (see `Rule` on skips), as
they run on every captured text in the capture thread.
"""

from __future__ import annotations

import bisect
import re
import threading

from ox_session_capture.redact.rules import (
    END,
    QUOTE,
    START,
    Check,
    Rule,
    at_word_start,
    not_placeholder,
    rule,
)

WINDOW = 300
"""Characters a password flag may stand after its command (`mysql -u root ... -pX`)."""
CURL_FLAGS = r"(?<![\w-])(?:-u|--user|--proxy-user|-U|--auth|-a)"
CURL_USER = r"[^\s:\"'\\]"
"""One character of a `curl -u` user (up to its `:`)."""


def near_command(commands: str, flags: str) -> Check:
    """The check of the `curl -u user:password` rule, which matches at one of `flags`: one of
    `commands` (a whole word) ends at most `WINDOW` characters before the flag with no
    newline, `|`, `;` or `&` between (as in `cli`).

    Matching from the command on, lazily across the window, each flag of the window read its
    user again for each command before it (`http.-u.http.-u.…`: n^3). A match found at a flag
    but not after a command is still consumed: a command and a flag after it inside the match
    would have started a match ending with the same secret, so they count too. The commands of
    a text are found once (for its first flag), then looked up."""
    command = re.compile(START + r"(?i:" + commands + r")" + END)
    flag_at = re.compile(flags)
    last = threading.local()  # per thread: two threads' texts would evict each other

    def places(text: str) -> tuple[list[int], list[int]]:
        """Where the commands of `text` start, and where they end."""
        seen: tuple[str, list[int], list[int]] | None = getattr(last, "seen", None)
        if seen is None or seen[0] is not text:
            found = [m.span() for m in command.finditer(text)]
            seen = (text, [s for s, _ in found], [e for _, e in found])
            last.seen = seen
        return seen[1], seen[2]

    def after_command(text: str, flag: int, ends: list[int]) -> bool:
        before = bisect.bisect_right(ends, flag) - 1  # the nearest: any other is farther
        if before < 0 or ends[before] < flag - WINDOW:
            return False
        return not any(sep in text[ends[before] : flag] for sep in "\n|;&")

    def check(secret: str, match: re.Match[str]) -> bool:
        if not not_placeholder(secret):
            return False
        text, flag, end = match.string, match.start(), match.end()
        starts, ends = places(text)
        if after_command(text, flag, ends):
            return True
        inside = bisect.bisect_right(starts, flag)
        if inside == len(starts) or starts[inside] >= end:
            return False
        later = flag_at.finditer(text, ends[inside], end)
        return any(after_command(text, f.start(), ends) for f in later)

    return check


A_QUOTE = r"\$?\\{0,3}[\"']"
"""The quote a password argument may open with: `'`, `"`, escaped (`\\"`), or bash's `$'`
(`-p $'pw'` redacted only the `$`)."""
CLOSE_QUOTE = r"\\{0,3}[\"']"
"""The quote that closes it (any of the two: a password holding the other one stops there)."""
QUOTED_RUN = r"[^\"'\\\r\n]{1,300}+(?=" + CLOSE_QUOTE + r")"
"""The rest of a value whose opening quote was read, up to its closing quote, spaces included:
no quote, backslash or newline (an escaped `\\"` closes it too). Read at once and at most 300
characters from each start; with no closing quote after it, it does not match."""
BARE_WORD = r"[^\s\"'\\]+"
"""A password read up to a space or a quote: an unclosed quote's run may be the rest of the
line."""


def password_value(bare: str = BARE_WORD) -> str:
    """A password argument: quoted (`A_QUOTE`) up to its closing quote, spaces included
    (`-p 'pass phrase'` redacted only `pass`); else, quoted or not, as `bare`. Groups `q`,
    `secret` (quoted) and `secret2` (bare)."""
    quoted = r"(?P<q>" + A_QUOTE + r")(?P<secret>" + QUOTED_RUN + r")"
    return r"(?:" + quoted + r"|(?:" + A_QUOTE + r")?(?P<secret2>" + bare + r"))"


def rest_of_quoted(n: int) -> str:
    """The password of an argument whose quote opened before it (`-U 'user%pass phrase'`,
    `-passin 'pass:pass phrase'`): up to the closing quote, spaces included (`secret<n>`);
    with no closing quote on the line, up to a space (`secret<n+1>`)."""
    return rf"(?:(?P<secret{n}>{QUOTED_RUN})|(?P<secret{n + 1}>{BARE_WORD}))"


SMB_FLAG = r"(?:-U|--user(?:name)?=?)[ \t]*"
"""smbclient's user flag: `-U user%pw`, `--user=user%pw` (or `--user` and a user `=…`)."""
SMB_USER = r"(?:[^\s%\"'\\]|\\++(?=[^\s%\"'\\]))"
"""One character of an smbclient user, or a run of backslashes inside it (`DOM\\user`)."""
_HT_OPTIONS = r"(?P<opts>(?>(?:[ \t]+-(?:\w*[Cr][ \t]+\d+|\w+))*))"
"""htpasswd's options, each with its value when it takes one (`-C 10`, `-r 5000`: a number),
read once: where they end is decided by the text."""


def htpasswd(*, no_file: bool) -> Rule:
    """`htpasswd -b [-C cost] file user password`, or with `-n` (printed, no file) `user
    password`. Options with a value before the file (`-cbB -C 10`) made the user read as the
    password. Options not followed by the file, user and password are skipped whole (see
    `Rule`): an `htpasswd` inside them (`-htpasswd -htpasswd …`) would read the same options
    again, and find no more words after them."""

    def check(secret: str, match: re.Match[str]) -> bool:
        opts = match.group("opts")
        return "b" in opts and ("n" in opts) == no_file and not_placeholder(secret)

    return rule(
        "CLI_PASSWORD",
        START
        + r"htpasswd"
        + _HT_OPTIONS
        + r"(?:(?:[ \t]+[^\s\\]+){"
        + ("1" if no_file else "2")
        + r"}[ \t]+"
        + password_value()
        + r"|)",
        "htpasswd",
        vendor="command line",
        check=check,
    )


ARG_SEP = r"(?:[ \t]+|=|" + QUOTE + r"[ \t]*,[ \t]*)"
"""Between a flag and its value: spaces, `=`, or the end of one quoted item of a list and the
start of the next (an exec form: `["redis-cli", "-a", "pw"]` in a Dockerfile, compose's
`command:`, `subprocess.run([...])`)."""


def cli(
    kind: str, commands: str, flag: str, anchors: tuple[str, ...], *, attached: bool = False
) -> Rule:
    """`<command> ... <flag> <secret>` on one command line (`attached`: the value is glued to
    the flag, as mysql's `-pSECRET`). The anchors are the flags: fewer and no rarer than
    the command names."""
    return _cli_rule(kind, START + r"(?i:" + commands + r")", flag, anchors, attached)


def cli_words(
    kind: str,
    words: tuple[str, ...],
    flag: str,
    anchors: tuple[str, ...],
    *,
    attached: bool = False,
) -> Rule:
    """`cli` for commands spelled as literal `words` (each case meant: `psexec`, `PsExec`):
    `re` looks for their letters at C speed, where `cli`'s pattern, which begins with the
    test of where a word starts, is tried at every position of the text."""
    words_first = r"(?:" + "|".join(at_word_start(re.escape(w)) for w in words) + r")(?i:\.exe)?"
    return _cli_rule(kind, words_first, flag, anchors, attached)


def _cli_rule(kind: str, command: str, flag: str, anchors: tuple[str, ...], attached: bool) -> Rule:
    sep = r"" if attached else ARG_SEP
    return rule(
        kind,
        command
        + END
        + r"[^\n|;&]{0,"
        + str(WINDOW)
        + r"}?(?<![\w-])"
        + flag
        + sep
        + password_value(r"[^\s\"'\\\-][^\s\"'\\]*"),
        anchors,
        vendor="command line",
        check=not_placeholder,
    )

"""A terminal's text pasted or quoted whole: a prompt, a command that prints a secret (`$ pass
show db/prod`, `$ aws secretsmanager get-secret-value …`, `$ echo $DB_PASSWORD`), then
what it printed. A tool call's output is hidden by `secret_commands.SecretOutputs`, which
reads the call; here the command and its output are one text (a prompt the user wrote, an
answer quoting a session, a `script` log), so the lines after the command are hidden up to
the first blank line, the next prompt or the end of a code block.

Which commands print a secret is `secret_commands.prints_secret`'s list, read only in a
prompt's line: the rule matches at a prompt character (`$`, `#`, `%`, `>`, `❯`, `➜`) and a
space; `#`, `%` and `>` only with a prompt's text before them on their line
(`[root@db ~]#`, `PS C:\\repo>`, `(venv) bob@mac ~ %`), so a `#` comment or a quote costs one
bounded check.
"""

from __future__ import annotations

import re

from ox_session_capture.redact.rules import Rule, line_before, rule
from ox_session_capture.redact.secret_commands import prints_secret

_CH = r"(?:[^\n\\]|\\(?![rn]))"
"""A character of a line: anything but a newline, or an escape that is not a newline's
(JSON text that did not parse still carries `\\n`)."""
_NL = r"(?:\r?\n|\\r\\n|\\n)"
_PROMPTS = "$#%>❯➜"
_PROMPT_LINE = (
    r"[ \t]*(?:[" + _PROMPTS + r"]|[\w.-]{1,40}@[\w.-]{1,60}[^\s\\]{0,80}?[$#%]"
    r"|\[[^\]\n\\]{1,80}\][$#%]|PS [^\n>\\]{1,80}>)[ \t]"
)
"""The start of a line that is the next prompt: the command's output ended before it."""
_OUTPUT_LINE = (
    r"(?![ \t]*(?:```|~~~)|" + _PROMPT_LINE + r")[ \t]*(?:[^\s\\]|\\(?![rn]))" + _CH + r"*+"
)
"""A line the command printed: not blank, not a prompt, not a code block's fence."""

_PREFIX = re.compile(
    r"(?:^[ \t]*(?:\([^()\n]{1,40}\)[ \t]*)?|\[[^\[\]\n]{1,80}\]"
    r"|[\w.-]{1,40}@[\w.-]{1,60}(?:[: ][^\s]{0,80})?|PS [^\n>]{1,80}|\b\w{0,4}sh-\d[\d.]{0,8})"
    r"[ \t]*$"
)
"""What stands right before a `#`, `%` or `>` that is a prompt's: nothing on its line (a
virtualenv's name at most), or a prompt's own text (`[user@host dir]`, `user@host:~/dir`,
`bob@mac ~`, `PS C:\\dir`, `bash-5.2`). Searched in the line's text before the match, of
which each character is read by one match's check (matches do not overlap)."""


def _after_prompt(secret: str, match: re.Match[str]) -> bool:
    """The match's character starts a prompt, and its command prints a secret. A `$`, `❯`
    or `➜` and a space are a prompt wherever they stand (`I ran $ pass show x`): only
    `#`, `%` and `>` also start comments, quotes and arithmetic, so a prompt's text alone
    may stand before them on their line."""
    if match.group()[0] in "#%>" and _PREFIX.search(line_before(match)) is None:
        return False
    return prints_secret(match.group("cmd"))


TERMINAL_RULES: tuple[Rule, ...] = (
    rule(
        "SECRET_COMMAND_OUTPUT",
        r"["
        + _PROMPTS
        # Not a prompt's character before another prompt (`x> $ pass show …`): its refusal
        # would take the line, the real prompt with it (matches do not overlap).
        # The spaces after the prompt read once (`> ` then a long run of spaces tried each
        # split of the run: 2 s for 300 KB).
        + r"][ \t]++(?!["
        + _PROMPTS
        + r"][ \t])(?P<cmd>"
        + _CH
        + r"{1,300}+)"
        + _NL
        # No bound on the lines: a redacted output must read as one on a second pass.
        + r"(?P<secret>"
        + _OUTPUT_LINE
        + r"(?:"
        + _NL
        + _OUTPUT_LINE
        + r")*+)",
        tuple(_PROMPTS),
        vendor="a terminal's text (prompt, secret-printing command, output)",
        check=_after_prompt,
        example="$ pass show db/prod\\nTq8vLm2xWp4z",
    ),
)

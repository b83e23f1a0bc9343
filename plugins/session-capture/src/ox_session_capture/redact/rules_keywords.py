"""Rules that find a secret by what surrounds it: private-key blocks, `name = value`
assignments (code, `.env`, YAML, JSON, INI, XML, connection strings, query strings),
command-line flags and the password arguments of known commands, URL user-info, HTTP
`Authorization` headers, `.netrc`, `.pgpass` and kubeconfig contents.

Assignment-like rules capture the name and let `names.classify` decide: a password-like
name redacts any literal value, a credential name a value of 8+ characters, a weaker name
(`KEY`, `salt`, `session`) only a random-looking value (the high-entropy rule).
"""

from __future__ import annotations

import bisect
import re
import threading

from ox_session_capture.redact.names import classify, is_literal_secret
from ox_session_capture.redact.rules import (
    END,
    QUOTE,
    SPACE,
    START,
    WS,
    Check,
    Rule,
    b64_private_key,
    basic_credentials,
    grouped_words,
    not_placeholder,
    rule,
    token_like,
)

# Words a credential's name contains (case-insensitive); `names.classify` decides.
_NAME_WORD = (
    r"(?:pass|pwd|pw|secret|token|key|auth|cred|dsn|salt|sig|cookie|session|bearer|webhook"
    r"|private|license|hmac|sas|jwt|otp|connstr|connectionstring)"
)
# The same words for `re` to try fast (see `grouped_words`): a flag can start after each `.`
# of `.-.-.-…`, each start tries the name look-ahead below (1 MB of `.-a` took 8 s, now 1-2 s).
_NAME_GROUPED, _NAME_FIRST = grouped_words(_NAME_WORD[3:-1].split("|"))
# The name: a run of name characters holding one of those words within its first 60. The
# look-ahead is bounded and the run possessive, so a long run costs one linear scan (a lazy
# prefix with a backtracking tail went quadratic on a long word).
NAME = (
    r"(?P<name>(?=[A-Za-z0-9_.\-]{0,60}?(?="
    + _NAME_FIRST
    + r")"
    + _NAME_GROUPED
    + r")[A-Za-z0-9_.\-]{1,100}+)"
)
# A value: quoted (may hold spaces; not a quote, backslash or newline), or bare (up to
# whitespace, a quote, an escape, a separator or a bracket).
_QUOTED = r"(?P<q>" + QUOTE + r")(?P<secret>[^\"'`\\\r\n]{1,300})" + QUOTE
_BARE = r"(?P<secret2>[^\s\"'`\\,;&(){}\[\]<>|]{1,300})"
VALUE = r"(?:" + _QUOTED + r"|" + _BARE + r")"
# Where a name may start: as `START`, but not inside a run of name characters.
_RUN_START = r"(?:(?<![A-Za-z0-9_.\-])|(?<=\\[nrt]))"
_WORD = r"(?:[^\s\\]|\\[^nrt\s])*"
"""The rest of a command-line word: never a space nor an escaped newline (`WS`), so that
where one word ends and the next begins is decided by the text, not by backtracking."""
NAME_ANCHORS = (
    "pass", "pwd", "pw", "secret", "token", "key", "auth", "cred", "dsn", "salt", "sig",
    "cookie", "session", "bearer", "webhook", "private", "license", "hmac", "sas", "jwt",
    "otp", "connstr", "connectionstring",
)  # fmt: skip


def _secret_of(match: re.Match[str]) -> str:
    value = match.group("secret")
    return value if value is not None else match.group("secret2") or ""


def _named_value(secret: str, match: re.Match[str]) -> str | bool:
    """The kind for `name <op> value` when the name calls for a secret and the value is a
    literal one (see `names`), else False."""
    cls = classify(match.group("name"))
    if cls is None or match.string.endswith("://", 0, match.start("name")):
        return False  # not a name, or the user of a URL's user-info (the URL rule's)
    quoted = match.group("q") is not None
    text, end = match.string, match.end()
    code_after = text[end : end + 1] in ("(", "[", ".")
    value = _secret_of(match)
    if (
        not quoted
        and " " in match.group("op_space")
        and re.fullmatch(r"[A-Za-z_]\w*", value)
        and classify(value) is not None
    ):
        return False  # `password = user_password` in code: a variable, not a literal
    if not is_literal_secret(value, cls, quoted=quoted, code_after=code_after):
        return False
    return "HIGH_ENTROPY" if cls == "WEAK" else cls


def _flag_value(secret: str, match: re.Match[str]) -> str | bool:
    cls = classify(match.group("name"))
    if cls is None or cls == "WEAK":
        return False
    value = _secret_of(match)
    if not is_literal_secret(value, cls, quoted=match.group("q") is not None, code_after=False):
        return False
    return cls


def _bearer(secret: str, match: re.Match[str]) -> bool:
    return token_like(secret, 16) or secret.startswith("eyJ")


def _auth_header(secret: str, match: re.Match[str]) -> bool:
    scheme = (match.group("scheme") or "").lower()
    if scheme == "basic":
        return basic_credentials(secret)
    if secret.lower() in ("basic", "bearer", "token", "digest", "negotiate"):
        return False
    return len(secret) >= 8 and not secret.startswith("$")


_WINDOW = 300
"""Characters a password flag may stand after its command (`mysql -u root ... -pX`)."""
_CURL_FLAGS = r"(?<![\w-])(?:-u|--user|--proxy-user|-U|--auth|-a)"


def _near_command(commands: str, flags: str) -> Check:
    """The check of the `curl -u user:password` rule, which matches at one of `flags`: one of
    `commands` (a whole word) ends at most `_WINDOW` characters before the flag with no
    newline, `|`, `;` or `&` between (as in `_cli`).

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
        if before < 0 or ends[before] < flag - _WINDOW:
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


def _cli(
    kind: str, commands: str, flag: str, anchors: tuple[str, ...], *, attached: bool = False
) -> Rule:
    """`<command> ... <flag> <secret>` on one command line (`attached`: the value is glued to
    the flag, as mysql's `-pSECRET`). The anchors are the flags: fewer and no rarer than
    the command names."""
    sep = r"" if attached else r"(?:[ \t]+|=)"
    return rule(
        kind,
        START
        + r"(?i:"
        + commands
        + r")"
        + END
        + r"[^\n|;&]{0,"
        + str(_WINDOW)
        + r"}?(?<![\w-])"
        + flag
        + sep
        + r"(?P<q>\\{0,3}[\"'])?(?P<secret>[^\s\"'\\\-][^\s\"'\\]*)",
        anchors,
        vendor="command line",
        check=not_placeholder,
    )


KEYWORD_RULES: tuple[Rule, ...] = (
    rule(
        "PRIVATE_KEY",
        r"-----BEGIN[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----"
        r"[\s\S]*?(?:-----END[A-Z ]{0,30}PRIVATE KEY(?: BLOCK)?-----|\Z)",
        "private key",
        vendor="PEM / OpenSSH / PGP",
    ),
    rule(
        "PRIVATE_KEY",
        r"PuTTY-User-Key-File-\d:[\s\S]*?(?:Private-MAC:\s*[0-9a-fA-F]+|\Z)",
        "putty-user-key-file",
        vendor="PuTTY",
    ),
    rule(
        "PRIVATE_KEY",
        START + r"(?P<secret>LS0tLS1CRUdJTi[A-Za-z0-9+/]{20,}={0,2})",
        "ls0tls1crudjti",
        vendor="base64 PEM (kubeconfig client-key-data, Kubernetes secrets)",
        check=lambda s, m: b64_private_key(s),
    ),
    rule(
        "AWS_SECRET_KEY",
        r"(?i:aws_?secret_?(?:access_?)?key)"
        + QUOTE
        + r"?\s*[:=]\s*"
        + QUOTE
        + r"?(?P<secret>[A-Za-z0-9/+=]{40})"
        + END,
        ("aws_secret", "awssecret"),
        vendor="AWS",
    ),
    rule(
        "AUTH_HEADER",
        START
        + r"(?i:(?:proxy-)?authorization)"
        + QUOTE
        # The spaces after the colon are all taken at once (`*+`): with `\s*` and `[ \t]*`
        # around an optional quote, n spaces could be shared n^2 ways.
        + r"?\s*[:=]\s*+(?:"
        + QUOTE
        + r"[ \t]*+)?(?:(?P<scheme>(?i:basic|bearer|token|digest|negotiate|ntlm|apikey|api-key"
        r"|sso-key|key|otp|dsn))[ \t]+)?(?P<secret>[A-Za-z0-9_\-.=~+/:]{8,})",
        "authorization",
        vendor="HTTP Authorization header",
        check=_auth_header,
    ),
    rule(
        "BASIC_AUTH",
        START + r"(?i:basic)[ \t]+(?P<secret>[A-Za-z0-9+/]{8,}={0,2})" + END,
        "basic",
        vendor="HTTP Basic credentials",
        check=lambda s, m: basic_credentials(s),
    ),
    rule(
        "BEARER_TOKEN",
        START + r"(?i:bearer)[ \t]+(?P<secret>[A-Za-z0-9_\-.=~+/]{16,})",
        "bearer",
        vendor="HTTP Bearer token",
        check=_bearer,
    ),
    rule(
        "URL_CREDENTIALS",
        # Tried once a run of scheme characters (not from each of its `.`, `+`, `-`: n^2 on
        # `a.a.a…`), when a scheme could start in it: a letter where a word may start.
        r"(?<![A-Za-z0-9+.\-])(?=[A-Za-z0-9+.\-]*?"
        + START
        + r"[A-Za-z])[A-Za-z0-9+.\-]*+://(?P<user>[^\s:/@\"'<>\\]*):"
        r"(?P<secret>[^\s/\"'<>\\]+)@",
        "://",
        vendor="URL user-info (connection strings, git remotes, proxies)",
        check=lambda s, m: not s.startswith(("${", "$(", "{{", "<", "[REDACTED_")),
    ),
    rule(
        "PASSWORD",
        # `password=...`, `"api_key": "..."`, `DB_PASS: ...`, `Password=...;` (ADO.NET),
        # `?token=...&`: the value is redacted, the name kept so the transcript still reads.
        # Starts only where a run of name characters starts (not after a `.` or `-`: a run of
        # dots in test output is one try, not one per dot), and fails fast where no operator
        # follows the run (most words of prose and code), before the costlier name look-ahead.
        _RUN_START
        + r"(?=[A-Za-z0-9_.\-]{1,100}+"
        + QUOTE
        + r"?\]?[ \t]*(?::=|=>|=|:))"
        + NAME
        + r"(?P<close>"
        + QUOTE
        + r"?\]?)(?P<op_space>[ \t]*)(?::=|=>|=|:)[ \t]*"
        + VALUE,
        NAME_ANCHORS,
        vendor="assignments (.env, code, YAML, JSON, INI, connection strings, query strings)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        # define('DB_PASSWORD', 'x'), setenv("API_TOKEN", "x"), ENV.fetch("KEY", "x")
        QUOTE + NAME + QUOTE + r"(?P<op_space>[ \t]*),[ \t]*" + _QUOTED,
        NAME_ANCHORS,
        vendor="name/value pairs (PHP define, setenv)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        r"(?<![\w-])--?" + NAME + r"(?:[ \t]+|=)(?!-)" + VALUE,
        NAME_ANCHORS,
        vendor="command-line flags (--password, --token, -storepass, --client-secret)",
        check=_flag_value,
    ),
    rule(
        "PASSWORD",
        # A tag without its `>` and value is skipped whole: each `<key` inside it would look for
        # the same `>` (n^2 on `<key <key …`).
        r"<" + NAME + r"(?:(?:[ \t][^>]*)?>(?P<q>)(?P<secret>[^<\s]{3,300})</|[ \t][^>]*+)",
        NAME_ANCHORS,
        vendor="XML elements (Maven settings.xml, NuGet.config)",
        check=lambda s, m: (
            classify(m.group("name")) in ("PASSWORD", "SECRET")
            and is_literal_secret(s, "PASSWORD", quoted=True, code_after=False)
        ),
    ),
    # ---- password arguments of known commands
    _cli(
        "CLI_PASSWORD",
        r"mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mysqlpump|mariadb"
        r"|mariadb-dump|mariadb-admin|mycli",
        r"-p",
        ("-p",),
        attached=True,
    ),
    rule(
        "CLI_PASSWORD",
        START
        + r"sshpass(?>(?:"
        + WS
        # sshpass' own options before `-p`, each with its value when it takes one (`-o X`
        # would hide the password otherwise). A word never runs over an escaped newline
        # (`\n`, a separator in `WS`): with `\S*` both could take it, and 2^n ways to split
        # n options were tried. Where the options end is decided by the text, so they are
        # read once (`(?>...)`), and skipped when no `-p` follows them: each `sshpass` inside
        # them (`-a.sshpass -a.sshpass …`) would read the same options again (n^2).
        + r"+-[^\sp\\]"
        + _WORD
        + r"(?:"
        + WS
        + r"+[^\s\\-]"
        + _WORD
        + r")?)*)(?:"
        + WS
        + r"+-p[ \t]*(?P<q>\\{0,3}[\"'])?(?P<secret>[^\s\"'\\]+)|)",
        "sshpass",
        vendor="command line",
        check=not_placeholder,
    ),
    rule(
        "CLI_PASSWORD",
        # `curl ... -u user:password`. A user without its `:password` is skipped whole: every
        # flag inside it would look for the same `:`.
        _CURL_FLAGS + r"(?:[ \t]+|=)?(?P<q>\\{0,3}[\"'])?"
        r"(?:(?P<user>[^\s:\"'\\]*+):(?P<secret>[^\s\"'\\]+)|[^\s:\"'\\]*+)",
        ("-u", "-a", "--user", "--auth"),
        vendor="command line",
        check=_near_command(r"curl|wget|http|https|xh|httpie", _CURL_FLAGS),
    ),
    _cli("CLI_PASSWORD", r"login", r"(?:-p|--password)", ("-p",)),
    _cli("CLI_PASSWORD", r"redis-cli|keydb-cli", r"(?:-a|--pass)", ("-a", "-p")),
    _cli(
        "CLI_PASSWORD",
        r"mongo|mongosh|mongodump|mongorestore|mongoimport|mongoexport|mongostat|mongotop",
        r"(?:-p|--password)",
        ("-p",),
    ),
    _cli("CLI_PASSWORD", r"ldap\w+", r"-w", ("-w",)),
    _cli("CLI_PASSWORD", r"sqlcmd|bcp|osql|isql", r"-P", ("-p",)),
    rule(
        "CLI_PASSWORD",
        START + r"htpasswd[ \t]+-[^\Wb]*b\w*(?:[ \t]+-\w+)*(?:[ \t]+[^\s\\]+){2}[ \t]+"
        r"(?P<q>\\{0,3}[\"'])?(?P<secret>[^\s\"'\\]+)",
        "htpasswd",
        vendor="command line",
        check=not_placeholder,
    ),
    rule(
        "CLI_PASSWORD",
        # A user without its `%password` is skipped whole (each `-U` in it would look for the
        # same `%`), once no way of reading the flag (`--user=` or `--user` and a user `=…`)
        # finds one.
        r"(?<![\w-])(?:(?:-U|--user(?:name)?=?)[ \t]*(?P<q>\\{0,3}[\"'])?[^\s%\"'\\]++%"
        r"(?P<secret>[^\s\"'\\]+)|(?:-U|--user(?:name)?=?)[ \t]*(?:\\{0,3}[\"'])?"
        r"[^\s%\"'\\]*+)",
        "%",
        vendor="command line (smbclient -U user%pass)",
    ),
    rule(
        "CLI_PASSWORD",
        r"(?<![\w-])-(?:passin|passout|pass|password|k)[ \t]+(?P<q>\\{0,3}[\"'])?pass:"
        r"(?P<secret>[^\s\"'\\]+)",
        "pass:",
        vendor="command line (openssl -passin pass:...)",
    ),
    rule(
        "CLI_PASSWORD",
        START + r"echo[ \t]+(?:-[ne][ \t]+)*(?P<q>\\{0,3}[\"'])?(?P<secret>[^\s\"'\\|$]{3,})"
        r"(?:\\{0,3}[\"'])?[ \t]*\|[ \t]*(?:sudo(?:[ \t]+-\w+)*[ \t]+-S|[^\n|]*--password-stdin"
        r"|chpasswd|passwd)",
        ("--password-stdin", "sudo", "passwd"),
        vendor="command line (echo ... | docker login --password-stdin, sudo -S)",
    ),
    rule(
        "CLI_PASSWORD",
        START + r"vault[ \t]+login(?:[ \t]+-\S+)*[ \t]+"
        r"(?P<secret>(?:s|hvs|hvb)\.[A-Za-z0-9_\-]{20,})",
        "vault",
        vendor="HashiCorp Vault (vault login)",
    ),
    rule(
        # `aws configure set aws_secret_access_key VALUE`, `npm config set //host/:_authToken
        # VALUE`, `git config --global github.token VALUE`: a secret-sounding name, then the
        # value after a space rather than `=`.
        "PASSWORD",
        START + r"(?:configure|config)(?:[ \t]+(?:set|--global|--local|--system|-g))+[ \t]+"
        r"(?P<name>[\w./:@\-]{1,120})[ \t]+(?P<q>\\{0,3}[\"'])?(?P<secret>[^\s\"'\\]+)",
        "config",
        vendor="command line (aws configure set, npm/yarn/git config)",
        check=_flag_value,
    ),
    # ---- configuration files
    rule(
        "NETRC",
        START
        + r"(?i:machine|default|login|account)(?:"
        + SPACE
        + r"+[^\s\\]+)?"
        + SPACE
        + r"+(?i:password|passwd)"
        + SPACE
        + r"+(?P<q>\\{0,3}[\"'])?(?P<secret>[^\s\"'\\]+)",
        ("machine", "login", "default", "account"),
        vendor=".netrc / _netrc",
    ),
    rule(
        "PGPASS",
        r"(?:(?<!\S)|(?<=\\n))[^:\s\\]+:(?:\d{1,5}|\*):[^:\s\\]+:[^:\s\\]+:"
        r"(?P<secret>[^\s\\]+)",
        (":5432:", ":5433:", ":6432:", ":*:", ":3306:"),
        vendor=".pgpass",
        check=lambda s, m: not s.startswith("[REDACTED_"),
    ),
)

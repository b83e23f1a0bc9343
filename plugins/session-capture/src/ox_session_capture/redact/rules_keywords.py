"""Rules that find a secret by what surrounds it: private-key blocks, `name = value`
assignments (code, `.env`, YAML, JSON, INI, XML, connection strings, query strings),
command-line flags and the password arguments of known commands, URL user-info, HTTP
`Authorization` headers, `.netrc`, `.pgpass` and kubeconfig contents.

Assignment-like rules capture the name and let `names.classify` decide: a password-like
name redacts any literal value, a credential name a value of 8+ characters, a weaker name
(`KEY`, `salt`, `session`) only a random-looking value (the high-entropy rule).
"""

from __future__ import annotations

import re

from ox_session_capture.redact.names import (
    NOT_VALUES,
    PASSWORD_WORDS_ABROAD,
    a_form_text,
    classify,
    is_literal_secret,
    literal_kind,
    literal_password,
    names_a_credential,
)
from ox_session_capture.redact.rules import (
    END,
    NL,
    QUOTE,
    QUOTED_VALUE,
    SPACE,
    START,
    WS,
    Check,
    Rule,
    b64_private_key,
    basic_credentials,
    grouped_words,
    letter_at_word_start,
    line_after,
    line_before,
    line_start,
    not_a_word,
    not_placeholder,
    password_like_literal,
    rule,
    strong_or_random,
    strong_password,
    token_like,
)
from ox_session_capture.redact.rules_commands import (
    A_QUOTE,
    ARG_SEP,
    CLOSE_QUOTE,
    CURL_FLAGS,
    CURL_USER,
    SMB_FLAG,
    SMB_USER,
    cli,
    htpasswd,
    near_command,
    password_value,
    rest_of_quoted,
)
from ox_session_capture.redact.secret_commands import secret_file as _secret_file

# Words a credential's name contains (case-insensitive); `names.classify` decides.
_NAME_WORD = (
    r"(?:pass|pwd|pw|secret|token|key|auth|cred|dsn|salt|sig|cookie|session|bearer|webhook"
    r"|private|license|hmac|sas|jwt|otp|connstr|connectionstring|psk"
    # A password's name in other languages (`passwort`, `passe`, `passord` hold `pass`).
    + "|"
    + "|".join(PASSWORD_WORDS_ABROAD)
    # A personal access token (`GITLAB_PAT`), not a path.
    + r"|_pat(?![a-z]))"
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
# whitespace, a quote, an escape, a separator or a bracket; an `&` only where it starts no
# query string's next `name=` or an entity (`&amp;`): `pw: Tr0ub&3x` is one YAML value).
_BARE = r"(?P<secret2>(?:(?!&[\w.\-\[\]]*+[=;])[^\s\"'`\\,;(){}\[\]<>|]){1,300})"
# Quoted, a string literal's prefix (`b"…"`, `r'…'`, `rb'…'`; not `B"`, which ends query
# strings' values in HTML: `?t=B">…`) and the opening of a triple quote (`"""…"""`) are the
# quote's.
_CODE_QUOTED = (
    r"(?P<q>(?:[rbuR]{1,2}(?=\\{0,3}[\"'])|\"\"(?=\")|''(?='))?"
    + QUOTE
    + r")(?P<secret>[^\"'`\\\r\n]{1,300})"
    + QUOTE
)
VALUE = r"(?:" + _CODE_QUOTED + r"|" + _BARE + r")"
_YAML_ANCHOR = r"(?:&[^\s,\[\]{}&*!]{1,60}+[ \t]+)?"
YAML_PROPERTIES = r"(?>" + _YAML_ANCHOR + r"(?:!!?(?:str|binary)[ \t]+)?" + _YAML_ANCHOR + ")"
"""A YAML node's anchor (`&name`) and tag (`!!str`, `!!binary`: base64 of the value) before
it, in either order; taken whole (atomic): a tag before a placeholder is no value of its own
(`password: !!str [REDACTED_PASSWORD]` redacted again is the same)."""
# Where a name may start: as `START`, but not inside a run of name characters.
_RUN_START = r"(?:(?<![A-Za-z0-9_.\-])|(?<=\\[nrt]))"
_WORD = r"(?:[^\s\\]|\\[^nrt\s])*"
"""The rest of a command-line word: never a space nor an escaped newline (`WS`), so that
where one word ends and the next begins is decided by the text, not by backtracking."""
NAME_ANCHORS = (
    "pass", "pwd", "pw", "secret", "token", "key", "auth", "cred", "dsn", "salt", "sig",
    "cookie", "session", "bearer", "webhook", "private", "license", "hmac", "sas", "jwt",
    "otp", "connstr", "connectionstring", "psk",
    *PASSWORD_WORDS_ABROAD,
    # `GITLAB_PAT=`: not `pat` alone, which every `path` and `pattern` holds.
    "_pat=", "_pat:", '_pat"', "_pat'",
)  # fmt: skip


_ALNUM_HEAD = re.compile(r"[A-Za-z0-9]{8,}")
_DIGIT_INSIDE = re.compile(r"[A-Za-z][0-9]+[A-Za-z]")


def _secret_of(match: re.Match[str]) -> str:
    value = match.group("secret")
    return value if value is not None else match.group("secret2") or ""


def _named_value(secret: str, match: re.Match[str]) -> str | bool | tuple[str, int]:
    """The kind for `name <op> value` when the name calls for a secret and the value is a
    literal one (see `names`), else False."""
    cls = classify(match.group("name"))
    if cls is None or match.string.endswith("://", 0, match.start("name")):
        return False  # not a name, or the user of a URL's user-info (the URL rule's)
    if match.group("name") == "PASS" and match.string.endswith("--- ", 0, match.start("name")):
        return False  # Go's test verdict (`--- PASS: TestName (0.00s)`), not a password
    if _a_pass_in_prose(match) or _DOC_FIELD.search(
        match.string, max(0, match.start("name") - 60), match.start("name")
    ):
        return False  # a docstring's `:param password: The password to log in with.`
    quoted = match.group("q") is not None
    text, end = match.string, match.end()
    start = match.start("name")
    if (
        quoted
        and text[start - 1 : start] == match.group("q")[-1:]
        and "close" in match.re.groupindex  # the assignment rule's (its key's own quote)
        and not match.group("close")
        and not match.group("op_space")
        and text[match.end("name") : match.start("q")] == ":"
    ):
        # The quote after `password:` closes the string the name is in (an `expect` prompt,
        # a label: `"password:" { send … }`, `label="password:" value=…`): no value opens
        # there. (After `=` it may: the shell's `"password="Tr0ub4dor9x"` is one word.)
        return False
    code_after = text[end : end + 1] in ("(", "[", ".")
    value = _secret_of(match)
    if (
        not quoted
        and " " in match.group("op_space")
        and re.fullmatch(r"[A-Za-z_]\w*", value)
        and names_a_credential(value)
    ):
        # `password = user_password` in code: a variable, not a literal (`Hunter2pw` holds a
        # credential's word too, with a digit inside: a password)
        return False
    if not quoted and cls == "PASSWORD":
        # A bare value is one word of what follows on its line: `forgot_password: Forgot your
        # password?` (YAML, and JSON read as keys and values) is a form's text. Not after a
        # comment's `#`: `password: pw  # the password` holds one.
        rest = (value + line_after(match)).strip()
        if "#" not in rest and a_form_text(rest):
            return False
        phrase_end = _phrase_end(match, value, code_after)
        if phrase_end is not None:
            return cls, phrase_end
    if quoted and _CONNECTION_PASSWORD.search(value):
        # A connection string quoted whole, spaces in its keys (`User Id=sa;Password=…;`):
        # no single word, yet a password inside, which this match hides from the `Name=value;`
        # reading (matches do not overlap).
        return "SECRET"
    if not is_literal_secret(value, cls, quoted=quoted, code_after=code_after):
        return False
    return "HIGH_ENTROPY" if cls == "WEAK" else cls


_DOC_FIELD = re.compile(
    r":(?:param|parameter|arg|argument|key|keyword|kwarg|ivar|cvar|var)[ \t]+"
    r"(?:[\w.\[\], |]{1,40}[ \t]+)?\Z"
)
"""A reST field list's parameter before a name (`:param str password:`): the text after it
describes the parameter."""
_A_PASS_OF = re.compile(r"[Pp]ass")
_WORD_BEFORE = re.compile(r"[A-Za-z] \Z")


def _a_pass_in_prose(match: re.Match[str]) -> bool:
    """An algorithm's pass in a comment or prose (`# First pass: determine …`, `found in one
    pass: growing …`): a word before it, a lower-case word after it. Not `pass: hunter2`
    nor `login pass: Sunshine`."""
    start, value = match.start("name"), _secret_of(match)
    return (
        _A_PASS_OF.fullmatch(match.group("name")) is not None
        and value.isalpha()
        and value.islower()
        and _WORD_BEFORE.search(match.string, max(0, start - 2), start) is not None
    )


_CONNECTION_PASSWORD = re.compile(r"(?i)(?:^|;)[ \t]*(?:password|pwd)[ \t]*=[ \t]*[^;\s]")

_PHRASE_REST = re.compile(
    # One to nine more words after the first (a passphrase of up to ten), to the end of the
    # line (a comment after a space may follow, or the quote that closes a string holding the
    # line: `echo "password: a b c" >> f`). Not a word with `=` nor one ending in `:`: another
    # key of a log line (`password: pw host: db1`) ends no value, nor a flag (`-out f`: the
    # next argument of a command read as one line); no match then, not a part.
    r"(?:[ \t]++(?![#-])[^\s\"'`\\,;(){}\[\]<>|=]{1,100}+(?<!:)){1,9}"
    r"(?=[ \t]*+(?:(?<=[ \t])#[^\r\n]*+)?(?:\Z|[\r\n]|\\[nr]|\\?[\"'`]))"
)
_CONFIG_LINE_HEAD = re.compile(r"(?:[ \t]|\\t)*+(?:(?:-|#++|//|;)[ \t]*+)?(?:export[ \t]++)?")
"""What may stand before a key on its line in a config file: indentation, a YAML list's dash,
a comment's mark (a key commented out holds its value all the same), `export`."""


def _phrase_end(match: re.Match[str], value: str, code_after: bool) -> int | None:
    """Where a bare password of several words ends (`password: correct horse battery staple`
    in YAML, `password = …` in INI, Java properties with `:`, a line of chat): YAML and INI
    read the whole rest of the line as the value, while the assignment rule reads one word.

    The rest of the line is taken when the first word is a password on its own, or when a
    YAML key begins its line (a config file's, not prose's `the password: it must change`)
    and the words are no sentence nor code (`password: str = None`). Not after a bare `=`:
    in a shell, `PASSWORD=pw make deploy` sets the variable for the command that follows.
    None when the value is one word, or not the whole rest of its line."""
    if match.group("secret2") is None or "close" not in match.re.groupindex:
        return None
    text = match.string
    op = text[match.end("close") : match.start("secret2")]
    if op.strip() not in (":", "=") or op == "=" or op.startswith((" :", "\t:")):
        # A space before the colon is no YAML key's but a docstring's parameter
        # (`pw : rational number`).
        return None
    rest = _PHRASE_REST.match(text, match.end("secret2"))
    if rest is None:
        return None
    if is_literal_secret(value, "PASSWORD", quoted=False, code_after=code_after):
        return rest.end()
    phrase = text[match.start("secret2") : rest.end()]
    start = match.start("name")
    if (
        ":" in op  # after `=` the words may be code (`password = x if y else z`)
        and _CONFIG_LINE_HEAD.fullmatch(text, line_start(text, start), start)
        and value.lower() not in NOT_VALUES
        and not value.startswith("$")
        and phrase[-1] not in ".?!:"
        and not a_form_text(phrase)
    ):
        return rest.end()
    return None


def _flag_value(secret: str, match: re.Match[str]) -> str | bool:
    cls = classify(match.group("name"))
    if cls is None or cls == "WEAK":
        return False
    value = _secret_of(match)
    if not is_literal_secret(value, cls, quoted=match.group("q") is not None, code_after=False):
        return False
    return cls


# `echo`/`printf` and the word it prints (quoted up to its closing quote; a `$X` is a variable,
# kept): the value of the two rules below that find where it goes.
_PRINTED = (
    r"(?=[ep])"
    + START
    + r"(?:echo|printf)[ \t]+(?:-[ne][ \t]+)*(?:"
    + QUOTE
    + r"%s(?:\\n)?"
    + QUOTE
    + r"[ \t]+)?(?:"
    + A_QUOTE
    + r"(?P<secret2>(?!\$)[^\"'\\\r\n]{3,300}+)"
    + CLOSE_QUOTE
    + r"|(?P<secret>(?!\$)[^\s\"'\\|$<>;&]{3,300}+))"
)
_ENCODERS = (
    r"(?:base64|openssl[ \t]+(?:enc[ \t]+-)?(?:base64|a|dgst)|basenc|sha(?:1|224|256|384|512)sum"
    r"|shasum|md5sum|md5|b2sum|xxd|hexdump|pbcopy|xclip|xsel|wl-copy|clip(?:\.exe)?"
    r"|Set-Clipboard)(?![\w-])"
)
"""What a literal is printed into to be encoded (a Secret's `data`, a Basic header), hashed,
or put on the clipboard."""
_ENCODER_ANCHORS = (
    "base64", "basenc", "openssl", "sha1sum", "sha224sum", "sha256sum", "sha384sum",
    "sha512sum", "shasum", "md5", "b2sum", "xxd", "hexdump", "pbcopy", "xclip", "xsel",
    "wl-copy", "| clip", "|clip", "set-clipboard",
)  # fmt: skip
"""Not `sum` nor `clip`: `summary`, `resume`, `clipboard` are in most texts."""


_PASSWD_SETTERS = (
    r"(?:passwd|chpasswd|smbpasswd|vncpasswd|tightvncpasswd|x11vnc|pdbedit|kpasswd|ldappasswd"
    r"|mysql_secure_installation)(?![\w-])"
)
"""Commands that set a password read from their input, asking for it twice."""
_USER_STATEMENT = re.compile(r"(?i)\b(?:create|alter)[ \t]+(?:user|role|login)\b|\bgrant\b")
"""SQL that makes or changes a user, before an `IDENTIFIED BY` on its line."""

_SECRET_SINKS = (
    # A package runner first (`npx wrangler …`, `bunx`, `pnpm dlx`).
    r"(?:(?:npx|bunx|pnpx|pnpm[ \t]+dlx|yarn(?:[ \t]+dlx)?)[ \t]+(?:-y[ \t]+)?)?"
    r"(?:gh[ \t]+secret[ \t]+set|(?:go)?pass[ \t]+insert"
    r"|wrangler[ \t]+(?:pages[ \t]+)?secret[ \t]+put"
    r"|vercel[ \t]+env[ \t]+add|netlify[ \t]+env:set|(?:docker|podman)[ \t]+secret[ \t]+create"
    r"|kubectl[ \t]+create[ \t]+secret|secret-tool[ \t]+store|keyring[ \t]+set"
    r"|gcloud[ \t]+secrets[ \t]+(?:create|versions[ \t]+add)|firebase[ \t]+functions:secrets:set"
    # A LUKS passphrase: cryptsetup reads it from its input when that is no terminal
    # (`luksOpen`, `luksFormat … -`, `-d -`); and what `rclone obscure -` obscures.
    r"|cryptsetup[ \t]|rclone[ \t]+obscure[ \t]+-(?![\w./~-])"
    # A WireGuard private key: its public key asked for, or set from the standard input.
    r"|wg[ \t]+(?:pubkey|set[ \t][^\n|;&]{0,200}?private-key[ \t]+/dev/stdin)"
    # gpg's passphrase read from its standard input (`--passphrase-fd 0`).
    r"|gpg2?[ \t][^\n|;&]{0,200}?--passphrase-fd(?:[ \t]+|=)0(?!\d)"
    # Apache's htpasswd with `-i`: the password read from the standard input.
    r"|htpasswd[ \t](?:[^\n|;&]{0,200}?[ \t])?-[A-Za-z]*i[A-Za-z]*(?![\w-]))"
)


# A credential named in prose, then its value after a verb: `the password is Hunter2pw`,
# `the staging token was set to …`, `password for admin: …`, `API key Xq7m…`.
_PROSE_NAME = (
    r"(?P<name>(?i:pass(?:word|phrase|wd|code)|pwd?(?![A-Za-z0-9_])|token"
    r"|(?:api|access|secret|wi-?fi|wpa2?)[ _-]?key|client[ _-]?secret|secret|credentials?))"
)
_AT_PROSE_NAME = r"(?=[pPtTaAsScCwW])" + START + _PROSE_NAME
"""A credential's name where a word starts, its first letters looked at first (one test a
position, before the look-behind)."""
_PROSE_ANCHORS = ("pass", "pw", "token", "key", "secret", "credential")
_THREE_WORDS = r"(?:[ \t]++[^\s:]{1,30}+){1,3}?"
"""One to three words after a credential's name, none holding a colon."""
_ARROW = r"(?:->|=>|→|—|–)"
_PROSE_VERB = (
    # The longer verbs first: a check that refuses `changed` does not try them again.
    r"(?:(?:[ \t]+(?i:for|of|on)[ \t]+[^\s:]{1,60}?[ \t]*:"
    # `the passphrase for the deploy key is …`: a few words, then the verb.
    r"|[ \t]+(?i:for|of|on)" + _THREE_WORDS + r"[ \t]+(?i:is|was)(?:[ \t]+(?i:now))?"
    r"|[ \t]+(?i:(?:(?:is|was|has[ \t]+been)[ \t]+)?(?:now[ \t]+)?(?:set|changed|reset|updated)"
    r"[ \t]+to|(?:would|will|should)[ \t]+be|(?:is|was)[ \t]+(?:now|still)|is|was|are"
    r"|stays|remains)"
    r"|(?P<bare>))[ \t]+"
    # An arrow or a dash (`api key -> …`, `token for staging — …`), or the value in
    # parentheses (`the API key (…) stopped working`): only a random-looking value.
    r"|(?P<sign>(?:[ \t]+(?i:for|of|on)(?:[ \t]++[^\s:]{1,30}+){1,2}?)?[ \t]*"
    + _ARROW
    + r"[ \t]*|[ \t]+\())"
)
_PROSE_VALUE = (
    r"(?:(?P<q>" + QUOTE + r")(?P<secret>[^\"'`\\\r\n]{4,200})" + QUOTE
    + r"|(?P<secret2>[^\s\"'`\\,;()<>\[\]{}]{3,199}[^\s\"'`\\,;()<>\[\]{}.!?:]))"
)  # fmt: skip


_LINKING_WORDS = frozenset(("to", "is", "was", "are", "be", "been", "for", "of", "on", "in",
                            "at", "and", "or", "with", "from", "as", "by", "the", "a", "an",
                            "it", "that"))  # fmt: skip
"""Words that go on a sentence after a credential's name: no password of a `.netrc`."""

_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_DOTTED_NAME = re.compile(r"[A-Za-z_]+(?:\.[A-Za-z_]+)+")
"""An attribute or a module path of letters (`Name.Function`, `self.eof`): code."""


def _a_name(value: str) -> bool:
    """Whether a value written after a credential's name is rather a name itself: `the API key
    is OPENAI_API_KEY`, `max_tokens`, code's `if token is Name.Function:`."""
    return (
        _ENV_NAME.fullmatch(value) is not None
        or _DOTTED_NAME.fullmatch(value) is not None
        or names_a_credential(value)
    )


def _prose_value(secret: str, match: re.Match[str]) -> str | bool:
    """A value written in prose after a credential's name: quoted, any literal; bare, one that
    is no word of the sentence (a digit or a sign beside letters: `Hunter2pw`, `P@ssw0rd`),
    and after the name alone (`API key X`), a random-looking one."""
    name = match.group("name")
    cls = classify(name.replace(" ", "_")) or "SECRET"
    value = _secret_of(match)
    if not is_literal_secret(value, "PASSWORD", quoted=True, code_after=False):
        return False
    if _a_name(value):
        return False
    sign = match.group("sign") is not None
    if sign or match.group("bare") is not None:
        if token_like(value):
            return "SECRET"
        # Right after a password's name (`logged in with password Hunter2pwQx`): 8 letters
        # and digits or more first (`input-box`, `v2.0`, `field_1`, `%2B%3D` are kept); after
        # a dash, a digit between letters too (`Password — Tr0ub4dor3x`; `password — reset2024
        # page` is a word and a year).
        head = _ALNUM_HEAD.match(value)
        mixed = head is not None and not head.group().isalpha() and not head.group().isdigit()
        if sign and head is not None and mixed:
            mixed = _DIGIT_INSIDE.search(head.group()) is not None
        return cls if cls == "PASSWORD" and (mixed or strong_password(value)) else False
    if match.group("q") is not None:
        return cls if cls != "WEAK" else "SECRET"
    if not not_a_word(value) or value.startswith(("http", "/", "$")):
        return False
    return cls if cls != "WEAK" else "SECRET"


def _bearer(secret: str, match: re.Match[str]) -> bool:
    return token_like(secret, 16) or secret.startswith("eyJ")


_URL_PLACEHOLDERS = frozenset({"password", "passwd", "pass", "pwd", "secret", "changeme"})
_UUID = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
_AUTH_SCHEMES = frozenset(
    {"", "basic", "bearer", "token", "digest", "negotiate", "ntlm", "apikey", "api-key",
     "sso-key", "key", "otp", "dsn"}
)  # fmt: skip


def _auth_header(secret: str, match: re.Match[str]) -> bool:
    scheme = (match.group("scheme") or "").lower()
    if scheme == "basic":
        return basic_credentials(secret)
    if secret.lower() in ("basic", "bearer", "token", "digest", "negotiate"):
        return False
    if scheme not in _AUTH_SCHEMES:
        # After a word that may be prose, only what looks random; a UUID is a credential
        # in this place (Opsgenie's, Splunk's HEC tokens).
        return token_like(secret) or _UUID.fullmatch(secret) is not None
    return len(secret) >= 8 and not secret.startswith("$")


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
        # Any other scheme's word (Okta's `SSWS`, Opsgenie's `GenieKey`, `Splunk`): a random
        # credential after it (`_auth_header`).
        r"|sso-key|key|otp|dsn)|[A-Za-z][A-Za-z0-9_-]{1,30}+(?=[ \t]+[A-Za-z0-9_\-.=~+/:]{8}))"
        r"[ \t]+)?(?P<secret>[A-Za-z0-9_\-.=~+/:]{8,})",
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
        # `user:password@localhost`: the docs' placeholder, no password.
        check=lambda s, m: (
            not s.startswith(("${", "$(", "{{", "<", "[REDACTED_"))
            and s.lower() not in _URL_PLACEHOLDERS
        ),
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
        # Not a URL's scheme (`otpauth://…?secret=…`: the name would take the URL whole).
        + r"?\]?[ \t]*(?::=|=>|\|\|=|\?\?=|=|:(?!//)))"
        + NAME
        + r"(?P<close>"
        + QUOTE
        # `||=`, `??=`: Ruby's, JavaScript's and C#'s assignment of a default.
        + r"?\]?)(?P<op_space>[ \t]*)(?::=|=>|\|\|=|\?\?=|=|:)[ \t]*"
        # A YAML node's anchor and tag (`password: &pw …`, `api_token: !!str …`, `!!binary`).
        + YAML_PROPERTIES
        + VALUE,
        NAME_ANCHORS,
        vendor="assignments (.env, code, YAML, JSON, INI, connection strings, query strings)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        # define('DB_PASSWORD', 'x'), setenv("API_TOKEN", "x"), ENV.fetch("KEY", "x")
        # Not a key after it: `{"name": "DB_PASSWORD", "value": …}` is a pair, read below.
        QUOTE + NAME + QUOTE + r"(?P<op_space>[ \t]*),[ \t]*" + QUOTED_VALUE + r"(?![ \t]*:)",
        NAME_ANCHORS,
        vendor="name/value pairs (PHP define, setenv)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        r"(?<![\w-])--?" + NAME + ARG_SEP + r"(?!-)" + VALUE,
        NAME_ANCHORS,
        vendor="command-line flags (--password, --token, -storepass, --client-secret)",
        check=_flag_value,
    ),
    rule(
        "PASSWORD",
        # A tag without its `>` and value is skipped whole: each `<key` inside it would look for
        # the same `>` (n^2 on `<key <key …`). Its attributes never hold a `<` (XML forbids it):
        # an unclosed `<key ` read up to the `>` of a later `<password>` took that element, its
        # check rejected the name `key`, and the password was left in clear.
        r"<" + NAME + r"(?:(?:[ \t][^<>]*)?>(?P<q>)(?P<secret>[^<\s]{3,300})</|[ \t][^<>]*+)",
        NAME_ANCHORS,
        vendor="XML elements (Maven settings.xml, NuGet.config)",
        check=lambda s, m: (
            classify(m.group("name")) in ("PASSWORD", "SECRET")
            and is_literal_secret(s, "PASSWORD", quoted=True, code_after=False)
        ),
    ),
    rule(
        "PASSWORD",
        # `- name: DB_PASSWORD` then `value: …` on the next line (Kubernetes env in YAML,
        # `kubectl get deploy -o yaml`, CI variables): the name is not beside its value.
        r"(?=n)"
        + START
        + r"name:[ \t]*"
        + QUOTE
        + r"?"
        + NAME
        + QUOTE
        + r"?[ \t]*(?:\r?\n|\\n)[ \t]*+(?:-[ \t]*)?value:(?P<op_space>[ \t]*)"
        + VALUE,
        "name:",
        vendor="name/value pairs in YAML (Kubernetes env, CI variables)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        # A declared parameter's default: Terraform's `variable "db_password" { default = "…"
        # }`, CloudFormation's `DBPassword:` then `Type: String` and `Default: …` below it.
        r"(?:variable[ \t]+\\{0,3}\""
        + NAME
        + r"\\{0,3}\"[ \t]*\{[^{}]{0,400}?"
        + r"default[ \t]*=[ \t]*"
        + r"|"
        + _RUN_START
        + NAME.replace("?P<name>", "?P<cf_name>")
        + r":[ \t]*"
        + NL
        + r"(?:[ \t]++(?!Default:)[A-Za-z]{1,30}+:[^\r\n\\]{0,200}+"
        + NL
        + r"){0,6}+"
        + r"[ \t]++Default:[ \t]*)"
        + VALUE,
        ("default",),
        vendor="declared defaults (Terraform variable, CloudFormation parameter)",
        check=lambda s, m: (
            literal_kind(m.group("name") or m.group("cf_name"), s, quoted=m.group("q") is not None)
            or False
        ),
    ),
    rule(
        "PASSWORD",
        # A getter that returns a literal: `def password(self): return "…"`, Java's `String
        # getApiKey() { return "…"; }`, a test fixture's `def password(): return "…"`.
        _RUN_START
        + r"(?=[A-Za-z0-9_.\-]{1,100}+[ \t]*\()"
        + NAME
        + r"[ \t]*\([^()\n]{0,100}+\)[^\n{:;=]{0,60}+[:{][ \t]*(?:"
        + NL
        + r"[ \t]*)?return[ \t]+"
        + QUOTED_VALUE,
        # `return`, which the getter needs, not the name's words: most code holds `key`.
        ("return",),
        vendor="code (a getter returning a literal: def password(): return …)",
        check=lambda s, m: literal_kind(m.group("name"), s, quoted=True) or False,
    ),
    rule(
        "PASSWORD",
        # The Dockerfile's older `ENV NAME value` (a space, no `=`), at a line's start.
        r"(?:(?<![^\n])|(?<=\\n))[ \t]*ENV[ \t]+" + NAME + r"(?P<op_space>[ \t]+)(?![=\s])" + VALUE,
        ("env ",),
        vendor="Dockerfile (ENV NAME value)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        # A name and its value on one line: JSON text that did not parse (`{"name":
        # "DB_PASSWORD", "value": …}`, ECS, Kubernetes), a YAML flow mapping (`{ name:
        # DB_PASSWORD, value: … }`), the AWS CLI's shorthand (`ParameterKey=DBPassword,
        # ParameterValue=…`).
        r"(?i:name|key|parameterkey|optionname)\\{0,3}[\"']?[ \t]*[:=][ \t]*"
        + QUOTE
        + r"?"
        + NAME
        + QUOTE
        + r"?[ \t]*,[ \t]*\\{0,3}[\"']?(?i:value|parametervalue)\\{0,3}[\"']?"
        + r"(?P<op_space>[ \t]*)[:=][ \t]*"
        + VALUE,
        ('value"', "value:", "value=", "value\\", "value'"),
        vendor="name/value pairs on one line (JSON text, YAML flow mappings, AWS CLI)",
        # A password's or a secret's name only: `key=taint-key-1,value=…` is a label.
        check=lambda s, m: _named_value(s, m) if classify(m.group("name")) != "WEAK" else False,
    ),
    rule(
        "PASSWORD",
        # `<add key="ApiKey" value="…"/>` (.NET appSettings), `<property name="db.password"
        # value="…"/>` (Spring, Ant), `<param name="token" value="…">`.
        r"(?=[kKnN])(?<![\w-])(?i:key|name)="
        + QUOTE
        + NAME
        + QUOTE
        + r"[ \t]+(?i:value)=(?P<op_space>)(?P<q>"
        + QUOTE
        + r")(?P<secret>[^\"'\\<>\r\n]{1,300})"
        + QUOTE,
        "value=",
        vendor="XML attributes (.NET appSettings, Spring and Ant properties)",
        check=_named_value,
    ),
    rule(
        "PASSWORD",
        # `CREATE USER app WITH PASSWORD '…'`, `ALTER ROLE … ENCRYPTED PASSWORD '…'`,
        # `IDENTIFIED [WITH plugin] BY '…'` (MySQL, Oracle): no operator between the word and
        # the value.
        r"(?=[pPiI])" + START + r"(?i:password|identified(?:[ \t]+with[ \t]+\w{1,40})?[ \t]+by)"
        r"[ \t]+(?:(?i:password)[ \t]+)?"
        r"(?P<q>\\{0,3}')(?P<secret>[^'\\\r\n]{1,300})\\{0,3}'",
        ("password", "identified"),
        vendor="SQL (CREATE/ALTER USER … PASSWORD, IDENTIFIED BY)",
        check=lambda s, m: is_literal_secret(s, "PASSWORD", quoted=True, code_after=False),
    ),
    rule(
        "PASSWORD",
        # Oracle's `CREATE USER app IDENTIFIED BY pw;` unquoted, or in double quotes; only in
        # a statement that makes or changes a user (prose says `identified by the team`).
        r"(?=[iI])"
        + START
        + r"(?i:identified)[ \t]+(?i:by)[ \t]+(?!(?i:values|password)\b)"
        + r"(?:(?P<q>\\{0,3}\")(?P<secret2>[^\"\\\r\n]{1,300})\\{0,3}\""
        + r"|(?P<secret>[A-Za-z0-9_#$!@%^*+=~-]{4,128}+)"
        + r"(?=[ \t]*(?:;|\r?\n|\\[nr]|$|[ \t](?i:account|default|temporary|quota|profile"
        + r"|password|container)\b)))",
        ("identified",),
        vendor="SQL (Oracle: IDENTIFIED BY password, unquoted)",
        check=lambda s, m: (
            not_placeholder(s)
            and _USER_STATEMENT.search(line_before(m)) is not None
            and is_literal_secret(s, "PASSWORD", quoted=True, code_after=False)
        ),
    ),
    # ---- password arguments of known commands
    cli(
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
        + r"+-p[ \t]*"
        + password_value()
        + r"|)",
        "sshpass",
        vendor="command line",
        check=not_placeholder,
    ),
    rule(
        "CLI_PASSWORD",
        # `curl ... -u user:password`: the whole argument quoted (`-u 'user:pass phrase'`), the
        # password alone (`-u user:'pass phrase'`) or nothing. A user without its `:password`
        # is skipped whole: every flag inside it would look for the same `:`.
        CURL_FLAGS
        + r"(?:[ \t]+|=)?(?:"
        + A_QUOTE
        + CURL_USER
        + r"*+:"
        + rest_of_quoted(3)
        + r"|(?:"
        + A_QUOTE
        + CURL_USER
        + r"*+"
        + CLOSE_QUOTE
        + r"|"
        + CURL_USER
        + r"*+):"
        + password_value()
        + r"|(?:"
        + A_QUOTE
        + r")?"
        + CURL_USER
        + r"*+)",
        ("-u", "-a", "--user", "--auth"),
        vendor="command line",
        check=near_command(r"curl|wget|http|https|xh|httpie", CURL_FLAGS),
    ),
    cli("CLI_PASSWORD", r"login", r"(?:-p|--password)", ("-p",)),
    cli("CLI_PASSWORD", r"redis-cli|keydb-cli", r"(?:-a|--pass)", ("-a", "-p")),
    cli(
        "CLI_PASSWORD",
        r"mongo|mongosh|mongodump|mongorestore|mongoimport|mongoexport|mongostat|mongotop",
        r"(?:-p|--password)",
        ("-p",),
    ),
    cli("CLI_PASSWORD", r"ldap\w+", r"-w", ("-w",)),
    # ldappasswd's new and old passwords (`-s`, `-a`: elsewhere in ldap tools, other flags).
    cli("CLI_PASSWORD", r"ldappasswd", r"(?:-s|-a)", ("-s", "-a")),
    cli("CLI_PASSWORD", r"sqlcmd|bcp|osql|isql|mssql-cli", r"-P", ("-p",)),
    htpasswd(no_file=False),
    htpasswd(no_file=True),
    rule(
        "CLI_PASSWORD",
        # The whole argument quoted (`-U 'user%pass phrase'`), the password alone (`-U
        # user%'pass phrase'`, `-U "user"%"pw"`) or nothing. A user without its `%password` is
        # skipped whole (each `-U` in it would look for the same `%`), once no way of reading
        # the flag (`--user=` or `--user` and a user `=…`) finds one. The user may hold
        # backslashes (`DOM\\user`, see `SMB_USER`).
        r"(?<![\w-])(?:"
        + SMB_FLAG
        + A_QUOTE
        + SMB_USER
        + r"++%"
        + rest_of_quoted(3)
        + r"|"
        + SMB_FLAG
        + r"(?:"
        + A_QUOTE
        + SMB_USER
        + r"++"
        + CLOSE_QUOTE
        + r"|"
        + SMB_USER
        + r"++)%"
        + password_value()
        + r"|"
        + SMB_FLAG
        + r"(?:"
        + A_QUOTE
        + r")?"
        + SMB_USER
        + r"*+)",
        "%",
        vendor="command line (smbclient -U user%pass)",
    ),
    rule(
        "CLI_PASSWORD",
        # `-passin 'pass:pass phrase'` (quoted before `pass:`) or `-passin pass:'pass phrase'`.
        r"(?<![\w-])-(?:passin|passout|pass|password|k)[ \t]+(?:"
        + A_QUOTE
        + r"pass:"
        + rest_of_quoted(3)
        + r"|pass:"
        + password_value()
        + r")",
        "pass:",
        vendor="command line (openssl -passin pass:...)",
    ),
    rule(
        "CLI_PASSWORD",
        # Quoted, the password runs to its closing quote (`echo 'pass phrase' | sudo -S`); a
        # value starting with `$` is a variable, kept. `printf '%s' …` too, and the long
        # options and other readers of a password on their input (`sudo --stdin`, `| sudo
        # chpasswd`, `gh auth login --with-token`, `openssl … -pass stdin`).
        _PRINTED
        + r"[ \t]*\|[ \t]*(?:sudo(?:[ \t]+-\w+)*[ \t]+(?:-S|--stdin)|[^\n|]*--password-stdin"
        r"|[^\n|]*--with-token|openssl[ \t][^\n|]*-pass(?:in)?[ \t]+stdin"
        r"|(?:sudo[ \t]+(?:-\w+[ \t]+)*)?(?:chpasswd|passwd))",
        ("stdin", "sudo", "passwd", "--with-token"),
        vendor="command line (echo ... | docker login --password-stdin, sudo -S)",
    ),
    rule(
        "CLI_PASSWORD",
        # A password typed twice, as a command that sets one asks for it (new, then again):
        # `printf 'pw\npw\n' | vncpasswd`, `echo -e "pw\npw" | passwd bob`, `(echo pw; echo
        # pw) | smbpasswd -s`, `yes pw | passwd`, `passwd bob <<< $'pw\npw'`. Both copies are
        # one span (the second is the same password).
        r"(?=[epy(])"
        + START
        + r"(?:(?:echo[ \t]+(?:-[a-zA-Z]*e[a-zA-Z]*)|printf)[ \t]+\$?(?P<q>"
        + QUOTE
        + r")(?P<secret>(?P<one>(?!\$)[^\"'`\\\s]{3,300}+)\\{1,3}[rn](?P=one))"
        r"(?:\\{1,3}[rn])*(?P=q)"
        r"|\([ \t]*echo[ \t]+(?P<q2>"
        + QUOTE
        + r")?(?P<secret2>(?P<two>(?!\$)[^\"'`\\\s;|]{3,300}+)(?P=q2)?[ \t]*;[ \t]*echo[ \t]+"
        r"(?P=q2)?(?P=two))(?P=q2)?[ \t]*\)"
        r"|yes[ \t]+(?P<q3>" + QUOTE + r")?(?P<secret3>(?!\$)[^\"'`\\\s;|]{3,300}+)(?P=q3)?"
        # Its two lines taken first (`yes pw | head -2 | passwd`).
        r"(?:[ \t]*\|[ \t]*head[ \t]+-n?[ \t]*\d{1,2})?)"
        r"[ \t]*\|[ \t]*(?:sudo[ \t]+(?:-\w+[ \t]+)*)?" + _PASSWD_SETTERS,
        ("passwd", "vncpasswd", "pdbedit", "x11vnc", "mysql_secure_installation"),
        vendor="command line (printf 'pw\\npw' | passwd)",
        check=lambda s, m: s.lower() not in ("yes", "y", "no", "n"),
    ),
    rule(
        "CLI_PASSWORD",
        # The same twice-typed password given as a here-string (`passwd bob <<< $'pw\npw'`).
        r"(?=[pcstvxklm])"
        + START
        + _PASSWD_SETTERS
        + r"[^\n|;&<]{0,200}<<<[ \t]*\$?(?P<q>"
        + QUOTE
        + r")(?P<secret>(?P<one>(?!\$)[^\"'`\\\s]{3,300}+)\\{1,3}[rn](?P=one))",
        ("passwd", "vncpasswd", "pdbedit", "x11vnc", "mysql_secure_installation"),
        vendor="command line (passwd <<< $'pw\\npw')",
    ),
    rule(
        "CLI_PASSWORD",
        # A secret printed into a secret store's standard input (`echo -n X | gh secret set
        # NAME`, `| pass insert -e`, `| kubectl create secret … --from-file=/dev/stdin`).
        _PRINTED + r"[ \t]*\|[ \t]*(?:" + _SECRET_SINKS + r")",
        (
            "secret",
            "insert",
            "keyring",
            "env add",
            "env:set",
            "cryptsetup",
            "passphrase-fd",
            "pubkey",
            "private-key",
            "htpasswd",
            "obscure",
        ),
        vendor="command line (echo … | gh secret set, pass insert, docker secret create)",
        # `echo YES | cryptsetup luksFormat …` answers its confirmation.
        check=lambda s, m: s.strip().lower() not in ("yes", "y"),
    ),
    rule(
        "CLI_PASSWORD",
        # A password printed into an encoder, a digest or the clipboard (`echo -n … | base64`:
        # made into a Kubernetes Secret's or a Basic header's value; `| sha256sum`, `|
        # pbcopy`), or given to one as a here-string (`base64 <<< '…'`).
        _PRINTED + r"[ \t]*\|[ \t]*" + _ENCODERS,
        _ENCODER_ANCHORS,
        vendor="command line (echo … | base64, a digest or the clipboard)",
        check=password_like_literal,
    ),
    rule(
        "CLI_PASSWORD",
        r"(?:(?<![\w-])|(?<=\\[nrt]))"  # a line's start in JSON text too (`\nbase64 …`)
        + _ENCODERS
        + r"(?>(?:[ \t]+-[\w-]+)*)[ \t]*<<<[ \t]*(?:"
        + A_QUOTE
        + r"(?P<secret2>(?!\$)[^\"'\\\r\n]{3,300}+)"
        + CLOSE_QUOTE
        + r"|(?P<secret>(?!\$)[^\s\"'\\|$<>;&]{3,300}+))",
        ("<<<",),
        vendor="command line (base64 <<< …)",
        check=password_like_literal,
    ),
    rule(
        "PASSWORD",
        # A secret printed into a file named for one (`echo X > ~/.config/app/api_token`,
        # `printf X > /run/secrets/db_password`): the value has no name beside it.
        _PRINTED + r"[ \t]*>>?[ \t]*(?P<path>[^\s;&|<>]{1,300})",
        ("echo", "printf"),
        vendor="command line (echo … > a credential file)",
        check=lambda s, m: _secret_file(m.group("path").strip("\"'\\")),
    ),
    rule(
        "CLI_PASSWORD",
        START + r"vault[ \t]+login(?:[ \t]+-\S+)*[ \t]+"
        r"(?P<secret>(?:s|hvs|hvb)\.[A-Za-z0-9_\-]{20,})",
        "vault",
        vendor="HashiCorp Vault (vault login)",
    ),
    rule(
        "CLI_PASSWORD",
        # `gh secret set NAME --body "…"` (or `-b…`): the value of a GitHub Actions secret.
        r"(?=g)" + START + r"gh[ \t]+secret[ \t]+set[ \t][^\n|;&]{0,200}?(?<![\w-])(?:--body|-b)"
        r"(?:[ \t]+|=)?" + password_value(),
        "secret",
        vendor="GitHub CLI (gh secret set --body)",
        check=not_placeholder,
    ),
    rule(
        # `aws configure set aws_secret_access_key VALUE`, `npm config set //host/:_authToken
        # VALUE`, `git config --global github.token VALUE`: a secret-sounding name, then the
        # value after a space rather than `=`.
        "PASSWORD",
        START + r"(?:configure|config|npm|pnpm)(?:[ \t]+(?:set|--global|--local|--system|-g))+"
        r"[ \t]+(?P<name>[\w./:@\-]{1,120})[ \t]+" + password_value(),
        ("config", "npm"),
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
        + r"+"
        + password_value(),
        ("machine", "login", "default", "account"),
        vendor=".netrc / _netrc",
        # Prose reads so too (`changed the default password to …`): its next word is none.
        check=lambda secret, match: secret.lower() not in _LINKING_WORDS,
    ),
    rule(
        "PGPASS",
        r"(?:(?<!\S)|(?<=\\n))[^:\s\\]+:(?:\d{1,5}|\*):[^:\s\\]+:[^:\s\\]+:"
        r"(?P<secret>[^\s\\]+)",
        (":5432:", ":5433:", ":6432:", ":*:", ":3306:"),
        vendor=".pgpass",
        # A password's own `:` is escaped (`\:`): one first is a wider format's (`user:RID:LM:
        # NT:::`, pwdump).
        check=lambda s, m: not s.startswith(("[REDACTED_", ":")),
    ),
)


# A password's name in other languages, as a label: German, Spanish, Portuguese, Dutch,
# French, Russian, Chinese, Japanese, Korean, Polish, Turkish, Swedish, Danish, Finnish,
# Czech, Hungarian, Vietnamese, Arabic, Hindi, Indonesian, Thai, Hebrew, Greek (`passord`,
# `mot de passe` hold `pass`).
_LABEL_WORDS = (
    "passwort|kennwort|contraseña|contrasena|senha|wachtwoord|mot de passe|пароль|密码|密碼|口令"
    "|パスワード|비밀번호|hasło|haslo|şifre|sifre|lösenord|losenord|passord|adgangskode|salasana"
    "|heslo|jelszó|jelszo|mật khẩu|كلمة المرور|كلمة السر|पासवर्ड|kata sandi|รหัสผ่าน|סיסמה"
    "|κωδικός"
)
_LABEL_FIRST = "pPtTaAsSkKcCwWmMhHlLjJпП密口パ비şŞكपรסκΚ"
# An access token's or an API key's name in other languages: Russian, Chinese, Japanese,
# Korean, Turkish, Dutch, French, German, Spanish, Portuguese, Italian.
_KEY_WORDS = (
    "токен|ключ api|api[ -]?ключ|api ?密钥|密钥|令牌|访问令牌|トークン|api ?キー|api ?키|토큰"
    "|api anahtarı|api-sleutel|clé api|clé d'api|api-schlüssel|clave de api|chave de api"
    "|chiave api"
)
_KEY_NAME = re.compile(_KEY_WORDS)
_KEY_FIRST = "тТкКaA密令访トキ토cC"
_KEY_ANCHORS = (
    "окен", "люч", "密钥", "令牌", "トークン", "キー", "토큰", " 키", "api anahtar", "api-sleutel",
    "clé", "api-schl", "clave de api", "chave de api", "chiave api",
)  # fmt: skip
# A verb between a password's or a key's name and its value, in those languages (`la
# contraseña es …`, `le mot de passe est …`, `der API-Schlüssel lautet …`, `a senha é …`).
_OTHER_VERBS = r"(?:[ \t]+(?:es|est|ist|lautet|é|è|är|er|jest|je|это|là|dır|dir)|[ \t]*(?:是|は))"
"""A verb, a word of its own (`river` holds no `er`); Chinese and Japanese write theirs
joined to the name."""
_LABEL_ANCHORS = (
    # Lower case as the batch scan folds it (ASCII only): a word's tail after a capital
    # that is not ASCII (`Пароль`, `Şifre`, `Hasło`, `Lösenord`, `Jelszó`).
    "passwort", "passord", "kennwort", "ontrase", "senha", "wachtwoord", "ароль", "密码", "密碼",
    "口令", "パスワード",
    "비밀번호", "asło", "haslo", "ifre", "senord", "adgangskode", "salasana", "heslo", "elszó",
    "jelszo", "khẩu", "المرور", "السر", "पासवर्ड", "kata sandi", "รหัสผ่าน", "סיסמה", "ωδικός",
)  # fmt: skip


def _named(names: str, first: str) -> str:
    """One of `names` (case-insensitive) where a word starts, as group `name`; its first
    letter, one of `first`, tested before the look-behind (one test a position of the text)."""
    return r"(?=[" + first + r"])" + START + r"(?P<name>(?i:" + names + r"))"


def _label(names: str, first: str, anchors: tuple[str, ...], seps: str = ":：") -> Rule:
    """A label naming a credential (one of `names`, whose first letters are `first`), then
    one of `seps` and its value (see `PROSE_RULES`)."""
    return rule(
        "PASSWORD",
        _named(names, first)
        # Possessive runs: neither holds what must follow it (a colon; a space, a quote or a
        # line's end), so none is given back, and a start without a label costs one scan.
        + r"(?:[ \t,][^\n"
        + seps
        + r"\\]{0,99}+)?["
        + seps
        + r"][ \t]*(?:(?:[›»>]|\\u203a|\\u00bb)[ \t]*)?"
        # The value looked at, not taken, as the prose rule's (a refused one takes no label).
        + r"(?=(?:(?:\r?\n|\\n)[ \t]*){0,3}"
        + r"(?P<secret2>[^\s\"'`()\[\]{}<>,;|\\：]{6,200}+)"
        # Ending its line, or a quoted text (a closing quote, escaped or not, right after it:
        # `run '…: pw' now`, `"…: pw\n"`).
        + r"(?=\\{0,3}[\"'`]|[ \t]*(?:\r?\n|\\[nr]|$)|[,;][ \t]|(?P<more>[ \t])))",
        anchors,
        vendor="prose (a label naming a password, then the password: logs, setup output)",
        check=_label_value,
    )


def _quoted_abroad(
    names: str, first: str, anchors: tuple[str, ...], check: Check, whose: str
) -> Rule:
    """A credential's name in another language (one of `names`, as `_label`'s), `=`, `:` or
    `=>`, and a quoted value that `check` accepts."""
    # A space of a name outside a class may be `_` in code (`mot_de_passe`, `clé_api`).
    spelt = re.sub(r"\[[^\]]*\]| ", lambda m: "[ _]" if m.group() == " " else m.group(), names)
    return rule(
        "PASSWORD",
        _named(spelt, first)
        # The key's closing quote, and bracket (`$config['пароль'] = …`), if any.
        + r"(?:\\{0,3}[\"'])?\]?[ \t]*(?:=>|[:=：])[ \t]*"
        + QUOTED_VALUE,
        anchors,
        vendor=f"code ({whose} name in another language, a quoted value)",
        check=check,
    )


def _random_secret(secret: str, _match: re.Match[str]) -> str | bool:
    """A key's or a token's value named in another language: only a random-looking one (the
    names also mean a dictionary's key, `ключ`, `キー`)."""
    return "SECRET" if token_like(secret) else False


_SECRET_LABELS = ("token", "secret", "api", "openai", "anthropic")
"""The English labels of a secret rather than a password."""


def _label_value(secret: str, match: re.Match[str]) -> str | bool:
    """A value after a line's label naming a credential: one that is no word of a sentence
    (ending its line), or a random-looking one (words after it)."""
    if not not_a_word(secret) or secret.startswith(("http", "/", "./", "~/", "$")):
        return False
    if _a_name(secret) or secret.endswith(":"):
        return False
    if match.groupdict().get("more") is not None and not strong_or_random(secret):
        return False  # words go on after it: only a random-looking one is no word of them
    name = match.group("name").lower()
    if _KEY_NAME.fullmatch(name):
        return "SECRET" if token_like(secret) else False  # another language's: random-looking
    return "SECRET" if name.startswith(_SECRET_LABELS) else "PASSWORD"


# After every other rule (`engine.RULES`): a span it shares with a command's or a config
# file's rule (`password X` in `.netrc`, `mysqladmin … password X`) is named after that rule.
# A credential set to a value in prose, the verb first: `I set the admin password to X`,
# `changed DB_PASSWORD from X to Y`, `use X as the API key`: an agent's summary of its
# work says so, and no name stands right before the value.
_SET_VERB = (
    letter_at_word_start("sScCuUrR")
    + r"(?:(?<=[sS])(?i:et|ets|etting)|(?<=[cC])(?i:hange[ds]?|hanging)"
    r"|(?<=[uU])(?i:pdate[ds]?|pdating)|(?<=[rR])(?i:eset|esets|esetting|otate[ds]?|otating))"
)
_NOT_TO = r"(?![tT][oO][ \t])"
"""Not the word `to` that ends the name's part (`set … password for user x to …`)."""
_SET_WORDS = r"(?:[ \t]++" + _NOT_TO + r"(?![fF][rR][oO][mM][ \t])[^\s:=,;]{1,40}+){0,4}?"
"""Up to four words between the verb and the name (`the`, `staging`, `admin`...)."""
_SET_NAME = r"[ \t]++`?(?=[A-Za-z])" + NAME + r"`?"
"""The credential's name: a run of name characters holding a credential's word (`NAME`), so
that the words before it are tried until one is (`the API key`); in backticks as code."""
_SET_FOR = r"(?:[ \t]+(?i:for|of|on|in)(?:[ \t]++" + _NOT_TO + r"[^\s:=,;]{1,40}+){1,3}?)?"
"""Whose credential it is or where it is kept, between its name and `to` (`the password for
user postgres`, `the API key in config.yaml`)."""


def _set_value(secret: str, match: re.Match[str]) -> str | bool:
    """A value a credential is set to in prose: the name one's (`classify`), the value a
    literal that is no word of the sentence (quoted: any literal)."""
    cls = classify(match.group("name"))
    if cls is None:
        return False
    quoted = match.groupdict().get("q") is not None
    if not is_literal_secret(secret, "PASSWORD", quoted=True, code_after=False):
        return False
    if _a_name(secret) or secret.startswith(("http", "/", "$", "./", "~/")):
        return False
    if cls == "WEAK":  # a name that only may hold a secret (`key`): a random-looking value
        return "HIGH_ENTROPY" if token_like(secret) else False
    if not quoted and not (not_a_word(secret) or token_like(secret)):
        return False
    if not quoted and _WORDS_OR_VERSION.fullmatch(secret):
        return False  # `read-only`, `built-in`, `v2-beta`, `1.2.3-rc1`: no password
    return cls


_WORDS_OR_VERSION = re.compile(r"[A-Za-z]+(?:[-'][A-Za-z]+)+|v?\d+(?:[.-][0-9A-Za-z]+)*")


_SET_VALUE = (
    r"(?:(?P<q>" + QUOTE + r")(?P<secret>[^\"'`\\\r\n]{4,200})" + QUOTE
    + r"|(?P<secret2>[^\s\"'`\\,;()<>\[\]{}]{4,200}+))"
)  # fmt: skip
"""A value a word follows (`from X to`, `use X as`): its last character is its own, not the
sentence's (`Tm4#kQ8w!`)."""


def _strong_value(secret: str, match: re.Match[str]) -> str | bool:
    """A value set apart from its credential's name by words or commas: random-looking, or
    a strong password after a password's name; or announced (`_announced_value`)."""
    if match.group("announced") is not None:
        return _announced_value(secret, match)
    if match.group("comma") is not None and (
        "=" in secret or match.string[match.end() : match.end() + 1] != ","
    ):
        return False  # an argument list (`credentials, expires=…`), not an apposition
    return _apart_value(secret, match)


def _new_value(secret: str, match: re.Match[str]) -> str | bool:
    """The new value of a credential named before it (`the secret; the new one is
    Tm4#kQ8w!`): a strong password counts whatever the credential."""
    return _apart_value(secret, match, strong_for_any=True)


def _apart_value(secret: str, match: re.Match[str], *, strong_for_any: bool = False) -> str | bool:
    """A value away from its credential's name: random-looking, or a strong password after
    a password's name (after any credential's, `strong_for_any`); never a name itself."""
    if _a_name(secret):
        return False
    if token_like(secret):
        return "SECRET"
    if not strong_password(secret):
        return False
    if classify(match.group("name").replace(" ", "_")) == "PASSWORD":
        return "PASSWORD"
    return "SECRET" if strong_for_any else False


_CODE = r"(?=[A-Za-z-]{0,16}[0-9])[A-Za-z0-9]{4,10}+(?:-[A-Za-z0-9]{4,6}+)?"
"""One recovery code: `1b2c3-d4e5f` (GitHub), `8f2k-9x3m`, `12345678` (Google); a digit in
it, so that the words after a list (`please`, `that is all`) are not taken for one."""
_CODE_RUN = re.compile(_CODE)
_BULLET = r"(?:[-*•.)0-9]{1,3}[ \t]+)?"
"""A list's bullet or number before a code (`- `, `1. `): a space after it, or it would be a
code's first digits."""


def _recovery_codes(secret: str, match: re.Match[str]) -> bool:
    """Two codes at least, or one of 8 characters (`recovery code: 2024` is a year)."""
    return len(_CODE_RUN.findall(secret)) >= 2 or len(secret) >= 8


_MADE = re.compile(r"(?i)\b(?:created|generated|issued|new|rotated|regenerated|here)\b")


def _announced_value(secret: str, match: re.Match[str]) -> str | bool:
    """A random-looking value starting the line after one that names a credential made."""
    line = match.string[match.start() : match.end("announced")]
    if not _MADE.search(line) or _a_name(secret):
        return False
    return "SECRET" if token_like(secret) and "/" not in secret else False


def _admin_password(secret: str, match: re.Match[str]) -> bool:
    """A strong or random-looking password after `admin / `, the name no path's part."""
    if match.start() and match.string[match.start() - 1] in "/\\.":
        return False  # `/srv/root / …`
    return strong_or_random(secret)


_DETERMINERS = ("the", "our", "my", "your", "its", "their")
"""The words before a credential's name that follows its value (`… is the admin password`)."""
_USER = r"\\{0,3}[`'\"]?[\w.@-]{1,64}+\\{0,3}[`'\"]?"
"""A user's name or email, maybe quoted, before its password."""


def _user_and_password(secret: str, match: re.Match[str]) -> str | bool:
    """A password given beside its user (`user bob, pass …`, `log in with bob and …`): strong,
    random-looking, or 8 letters and digits or more mixed (`Tr0ub4dor3x`; no name, version or
    hyphenated words)."""
    if _a_name(secret) or _WORDS_OR_VERSION.fullmatch(secret):
        return False
    mixed = (
        len(secret) >= 8
        and secret.isalnum()
        and any(c.isdigit() for c in secret)
        and any(c.isalpha() for c in secret)
    )
    return "PASSWORD" if mixed or strong_or_random(secret) else False


def _value_first(secret: str, match: re.Match[str]) -> str | bool:
    """A value the sentence then calls a credential (`… is the admin password`): strong or
    random-looking, and no name."""
    if _a_name(secret) or not strong_or_random(secret):
        return False
    return "PASSWORD" if classify(match.group("name").replace(" ", "_")) == "PASSWORD" else "SECRET"


_NAMED_ON_LINE = re.compile(_AT_PROSE_NAME)


def _old_or_new(secret: str, match: re.Match[str]) -> str | bool:
    """A credential's old or new value (`API key rotated: old=… new=…`): a credential named
    before it on its line, the value strong or random-looking."""
    before = line_before(match)[-160:]
    if _NAMED_ON_LINE.search(before) is None or _a_name(secret):
        return False
    return "SECRET" if strong_or_random(secret) else False


def _strong_or_mixed(secret: str) -> bool:
    """A strong password, a random-looking value, or 8 letters and digits or more with a
    digit between letters (`Tr0ub4dor3x`; `reset2024` is a word and a year); no name."""
    if _a_name(secret):
        return False
    if strong_or_random(secret):
        return True
    return len(secret) >= 8 and secret.isalnum() and _DIGIT_INSIDE.search(secret) is not None


def _sign_value(secret: str, match: re.Match[str]) -> str | bool:
    """A value after words and an arrow: random-looking; after a password's name, a strong
    password or letters and digits with a digit between letters (`Password updated → …`)."""
    if _a_name(secret):
        return False
    if token_like(secret):
        return "SECRET"
    if classify(match.group("name").replace(" ", "_")) != "PASSWORD":
        return False
    return "PASSWORD" if _strong_or_mixed(secret) else False


_FEW_WORDS = _THREE_WORDS + r"|(?:[ \t]++[\w'’-]{1,30}+){4,7}?"
"""The words between a credential's name and its verb: up to three, or up to seven plain
words (`the password that we use for the staging database is …`), which end no sentence."""

_SET_HEAD = _SET_VERB + _SET_WORDS + _SET_NAME + _SET_FOR
"""`set the admin password for user postgres`: what comes before `from` or `to`."""

_SET_RULES: tuple[Rule, ...] = (
    rule(
        "PASSWORD",
        _SET_HEAD
        + r"(?:[ \t]+(?i:from)[ \t]+"
        + _SET_VALUE.replace("?P<", "?P<old_")
        + r")?"
        + r"[ \t]+(?i:to)[ \t]+"
        + _PROSE_VALUE,
        ("set", "chang", "updat", "reset", "rotat"),
        vendor="prose (a credential set to a value: set the password to …)",
        check=_set_value,
    ),
    rule(
        "PASSWORD",
        # The old value of `changed the password from X to Y`.
        _SET_HEAD + r"[ \t]+(?i:from)[ \t]+" + _SET_VALUE + r"(?=[ \t]+(?i:to)[ \t])",
        ("set", "chang", "updat", "reset", "rotat"),
        vendor="prose (a credential set to a value: changed the password from …)",
        check=_set_value,
    ),
    rule(
        "PASSWORD",
        letter_at_word_start("uU")
        + r"(?i:se[sd]?|sing)[ \t]+"
        + _SET_VALUE
        + r"[ \t]+(?i:as|(?P<for>for))(?:[ \t]+(?i:the|my|your|our|a|an|its|their))?"
        + r"(?:[ \t]++[^\s:=,;]{1,40}+){0,2}?"
        + _SET_NAME,
        ("use", "using"),
        vendor="prose (a value used as a credential: use … as the password)",
        # `for`: what a tool is used for too (`use Argon2id for the password hashes`): a
        # strong password or a random-looking value only.
        check=lambda s, m: (
            _set_value(s, m) if m.group("for") is None or strong_or_random(s) else False
        ),
    ),
    rule(
        "SECRET",
        # Words between the name and an arrow (`save this secret somewhere safe -> …`): a
        # random-looking value only.
        _AT_PROSE_NAME + _THREE_WORDS + r"[ \t]*" + _ARROW + r"[ \t]*" + _PROSE_VALUE,
        ("->", "=>", "→", "—", "–"),  # the arrow: a text without one is not searched
        vendor="prose (a credential's name, words, an arrow: … -> value)",
        check=_sign_value,
    ),
    rule(
        "PASSWORD",
        # One search for two forms: words between the name and its verb (`the root password
        # I chose is …`) or the value set off by commas (`the new password, …, works`), a
        # strong password or a random-looking value only; and a line announcing a credential
        # made (`Token created successfully!`), then a random-looking value starting the
        # next line.
        _AT_PROSE_NAME
        + r"(?:(?:(?:"
        + _FEW_WORDS
        + r")[ \t]+(?i:is|was)(?:[ \t]+(?i:now|still))?[ \t]+"
        + r"|(?P<comma>,)[ \t]+)"
        + _SET_VALUE
        + r"|(?P<announced>[^\n\\:]{0,60}+)"
        + NL
        + r"[ \t]*"
        + r"(?P<secret3>[^\s\"'`\\,;]{16,300}+)[ \t]*(?=[,;)\"'`\s]|\\n|$))",
        _PROSE_ANCHORS,
        vendor="prose (a credential's name, words, then its value: the password I chose is …)",
        check=_strong_value,
    ),
    rule(
        "PASSWORD",
        # The credential named, then its new value as `the new one` further on its line:
        # `I rotated the secret; the new one is …`, `regenerated the token, here's the new
        # one: …`.
        _AT_PROSE_NAME
        + r"[^\n\\]{0,80}?(?i:new[ \t]+one)(?:[ \t]+(?i:is|was))?[ \t]*:?[ \t]+"
        + _SET_VALUE,
        ("new one",),
        vendor="prose (a credential named, then the new one is …)",
        check=_new_value,
    ),
    rule(
        "PASSWORD",
        # A key emoji as a summary's label: `🔑 …`, `🔑 Admin: …`.
        r"🔑[ \t]*(?:[^\n:\\]{1,40}+:[ \t]*)?" + _SET_VALUE,
        ("🔑",),
        vendor="prose (a key emoji, then a value: 🔑 …)",
        check=lambda s, m: "PASSWORD" if _strong_or_mixed(s) else False,
    ),
    rule(
        "SECRET",
        # A credential's old and new values after its name on the line: `API key rotated:
        # old=… new=…`, `rotated the token (old: …, new: …)`.
        r"(?<![\w-])(?i:new|old)[ \t]*[=:][ \t]*" + _SET_VALUE,
        ("new=", "new:", "old=", "old:", "new =", "old ="),
        vendor="prose (a credential's old and new values: old=… new=…)",
        check=_old_or_new,
    ),
    rule(
        "PASSWORD",
        # A default administrator's name, a spaced slash, a strong or random-looking password
        # (`Grafana: admin / …`, `root / …`); a path has no spaces around its slashes.
        letter_at_word_start("aArReEpP")
        + r"(?:(?<=[aA])(?i:dmin(?:istrator)?)|(?<=[rR])(?i:oot)|(?<=[eE])(?i:lastic)"
        + r"|(?<=[pP])(?i:ostgres))[ \t]+/[ \t]+(?P<secret2>[^\s\"'`,;()\\/]{8,200}+)(?![/\w])",
        ("admin", "root", "elastic", "postgres"),
        vendor="prose (a default administrator and a password: admin / …)",
        check=_admin_password,
    ),
    rule(
        "PASSWORD",
        # A user, then a password's short label and its value: `user bob, pass …`, `login:
        # bob; pw: …`, `account bob / password …`.
        START
        + r"(?i:user(?:name)?|login|account)[ \t]*[:=]?[ \t]+"
        + _USER
        + r"[ \t]*[,;/][ \t]*(?i:pass(?:word|wd)?|pwd?)[ \t]*[:=]?[ \t]+"
        + _SET_VALUE,
        # The sign and the label: `pass` alone is in every `password`.
        tuple(
            f"{sign}{space}{label}"
            for sign in ",;/"
            for space in ("", " ")
            for label in ("pass", "pw")
        ),
        vendor="prose (a user, then its password: user bob, pass …)",
        check=_user_and_password,
    ),
    rule(
        "PASSWORD",
        # A label naming credentials, then a user and a password across a spaced slash or a
        # comma: `Credentials for the staging DB: app / …`, `Use these to log in: bob, …`.
        START
        + r"(?i:cred(?:ential)?s|log[ -]?in|account)(?![A-Za-z0-9_])[^\n:\\]{0,60}+:[ \t]*"
        + _USER
        + r"(?:[ \t]+/|[ \t]*,)[ \t]+"
        + _SET_VALUE,
        ("cred", "login", "log in", "log-in", "account"),
        vendor="prose (a credentials label, then a user and a password: Login: bob / …)",
        check=_user_and_password,
    ),
    rule(
        "PASSWORD",
        # Signing in with a user and a password: `log in with bob and …`, `sign in as bob
        # with …`, `logged in using bob / …`.
        START
        + r"(?i:log(?:ged)?[ -]?in|sign(?:ed)?[ -]?in)"
        # Where, before whom: `sign in at https://admin.acme.io with bob / …`.
        + r"(?:[ \t]+(?i:at|to|on)[ \t]+[^\s]{1,200}+)?[ \t]+(?i:with|as|using)[ \t]+"
        + _USER
        + r"[ \t]+(?:(?i:and|with)|/)[ \t]+"
        + r"(?!(?i:the|a|an|your|my|our|its|their|this|that)[ \t])"
        + _SET_VALUE,
        ("log in", "login", "logged in", "log-in", "sign in", "signin", "signed in", "sign-in"),
        vendor="prose (signing in with a user and a password: log in with bob and …)",
        check=_user_and_password,
    ),
    rule(
        "PASSWORD",
        # The value first, then what it is: `… is the admin password`, `` `…` is the new
        # API token``: a strong password or a random-looking value.
        r"(?:(?<![^\s(\[])|(?<=\\[nrt]))\\{0,3}[`'\"]?(?P<secret2>[^\s`'\"\\,;()]{8,200}+)\\{0,3}[`'\"]?"
        + r"[ \t]+(?i:is|was|will[ \t]+be)[ \t]+(?i:"
        + "|".join(_DETERMINERS)
        + ")"
        + r"(?:[ \t]+[A-Za-z-]{1,20}+){0,3}?[ \t]+"
        + _PROSE_NAME,
        # The verb and its article, not the name: `key` and `token` are in most code.
        tuple(f"{verb} {det}" for verb in ("is", "was", "be") for det in _DETERMINERS),
        vendor="prose (a value, then the credential it is: … is the admin password)",
        check=_value_first,
    ),
    rule(
        "PASSWORD",
        # An email address, then a spaced slash or `and`, then a strong password or a
        # random-looking value (`Admin login → admin@acme.io / …`, `log in with
        # `admin@acme.io` and `…``): a user and a password, as a summary gives them.
        r"@[A-Za-z0-9-]{1,63}+\.[A-Za-z0-9.-]{1,190}+(?<=[A-Za-z])\\{0,3}[`'\"]?"
        + r"(?:[ \t]+/[ \t]+|[ \t]+(?i:and)[ \t]+)\\{0,3}[`'\"]?"
        + r"(?P<secret2>[^\s`'\"\\,;()]{8,200}+)",
        ("@",),
        vendor="prose (an email and a password: admin@acme.io / …)",
        check=strong_or_random,
    ),
    rule(
        "SECRET",
        # An account's recovery codes, listed after their label on its line or the next ones
        # (`Recovery codes: 1b2c3-d4e5f, …`, GitHub's one a line, bullets or numbers first):
        # each a code of letters and digits, holding a digit. A code matches no separator
        # (spaces, commas, newlines, bullets), so the list is read one way.
        letter_at_word_start("rRbB")
        + r"(?:(?<=[rR])(?i:ecovery)|(?<=[bB])(?i:ackup))[ \t_-](?i:codes?)[^\n:\\]{0,40}:[ \t]*"
        + r"(?:"
        + NL
        + r"[ \t]*)?"
        + _BULLET
        + r"(?P<secret>"
        + _CODE
        + r"(?:[ \t,;]*(?:"
        + NL
        + r"[ \t]*"
        + _BULLET
        + r")?"
        + _CODE
        + r"){0,23}+)",
        (
            "recovery code",
            "backup code",
            "recovery_code",
            "backup_code",
            "recovery-code",
            "backup-code",
        ),
        vendor="prose (an account's recovery codes: Recovery codes: …)",
        check=_recovery_codes,
    ),
    rule(
        "PASSWORD",
        # Elasticsearch's `elasticsearch-reset-password`: the value on the line after.
        r"(?i:password)[^\n\\]{0,80}?(?i:reset)[^\n\\]{0,20}+" + NL + r"[ \t]*"
        r"(?i:new value)[ \t]*:[ \t]*(?P<secret2>[^\s\"'`\\]{6,200}+)",
        ("new value",),
        vendor="prose (a password reset, then its new value: elasticsearch-reset-password)",
    ),
)


def _base32_seed(secret: str, match: re.Match[str]) -> bool:
    """A TOTP seed in base32: one case, a digit of base32's (2-7) in it (`free from this
    test` is words)."""
    letters = secret.replace(" ", "").rstrip("=")
    one_case = letters.upper() == letters or letters.lower() == letters
    return one_case and any(c in "234567" for c in letters)


PROSE_RULES: tuple[Rule, ...] = (
    rule(
        "SECRET",
        # A two-factor seed in base32 after its name: `The 2FA seed is JBSW…`, `MFA secret:
        # jbsw y3dp …` (grouped by four, as authenticator setups show it).
        START
        + r"(?i:2fa|mfa|totp|otp|authenticator|two[ -]factor)[ _-]?"
        + r"(?i:seed|secret|key|setup[ ]key)(?:[ \t]+(?i:is|was)|[ \t]*[:=])[ \t]*"
        + r"\\{0,3}[`'\"]?(?P<secret>[A-Za-z2-7]{4}(?:[ ]?[A-Za-z2-7]{4}){3,15}=*)"
        + END,
        ("2fa", "mfa", "totp", "otp", "authenticator", "factor"),
        vendor="prose (a two-factor seed in base32: the 2FA seed is …)",
        check=_base32_seed,
    ),
    rule(
        "PASSWORD",
        # The value is looked at, not taken: a value refused as a word of the sentence
        # (`password password Hunter2pw`) would take the next name with it.
        _AT_PROSE_NAME + _PROSE_VERB + r"(?=" + _PROSE_VALUE + r")",
        _PROSE_ANCHORS,
        vendor="prose (the password is …, API key …)",
        check=_prose_value,
    ),
    # A label naming a credential, words after it (a space first: `secretName:` is a key), a
    # colon, and the value ending the line or alone on one of the next lines: MySQL's `A
    # temporary password is generated for root@localhost: …`, Elasticsearch's `Password for
    # the elastic user (reset with …):` and Jenkins' `Please use the following password to
    # proceed to installation:` over the password's own line, a prompt's echo (`? Enter a
    # secret value: › …`). The names of other languages are a rule of their own, run only on
    # a text holding one: their first letters would be tried at most positions of English.
    _label(
        "pass(?:word|phrase)|token|secret|(?:api|openai|anthropic|wi-?fi|wpa2?)[ _-]?key",
        "pPtTaAsSoOwW",
        # Not `key`: every dict has keys.
        ("pass", "token", "secret", "api", "openai", "anthropic", "wifi", "wi-fi", "wpa"),
    ),
    # In other languages also an assignment (`contraseña=…`, `пароль = …`): the assignment
    # rule reads ASCII names only.
    _label(_LABEL_WORDS, _LABEL_FIRST, _LABEL_ANCHORS, ":：="),
    # And quoted, as code and config in the developer's language write them (`contraseña =
    # "…"`, `$пароль = '…';`, `'пароль' => '…'`, `токен: "…"`).
    _quoted_abroad(_LABEL_WORDS, _LABEL_FIRST, _LABEL_ANCHORS, literal_password, "a password's"),
    _label(_KEY_WORDS, _KEY_FIRST, _KEY_ANCHORS, ":：="),
    _quoted_abroad(_KEY_WORDS, _KEY_FIRST, _KEY_ANCHORS, _random_secret, "a key's or a token's"),
    rule(
        "PASSWORD",
        # The name, a few words (`do banco`), a verb, then a value that is no word of the
        # sentence (`la contraseña es incorrecta` is kept).
        _named(_LABEL_WORDS + "|" + _KEY_WORDS + "|password", _LABEL_FIRST + _KEY_FIRST)
        + r"(?:[ \t][^\n:：=]{0,40}?)?"
        + _OTHER_VERBS
        + r"[ \t]+"
        + r"(?P<secret2>[^\s\"'`()\[\]{}<>,;|\\：]{6,200}+)",
        (*_LABEL_ANCHORS, *_KEY_ANCHORS, "mot de passe", "password"),
        vendor="prose in other languages (la contraseña es …, der API-Schlüssel lautet …)",
        check=_label_value,
    ),
    rule(
        "PASSWORD",
        # A user and a password as a pair, named: `creds are admin / pw`, `u/p: bob/pw`,
        # `login with bob:pw`; the password no word of a sentence.
        # The first letter, then where it stands (one test a position), then the rest.
        letter_at_word_start("cCuUlLzZ")
        + r"(?:(?<=[cC])(?i:reds|redentials)|(?<=[uU])(?i:/p|ser/pass(?:word)?|sername/password)"
        + r"|(?<=[lL])(?i:og[ \t]?in)|(?<=[zZ])(?i:ugangsdaten))"
        + r"(?:[ \t]+(?i:are|is|was|were|with|as|using))?[ \t]*:?[ \t]+"
        + r"[\w.@+-]{1,64}+[ \t]*[/:][ \t]*(?P<secret>[^\s\"'`,;()\\/]{3,200}+)(?![/\w])",
        ("cred", "u/p", "/pass", "login", "log in", "log\tin", "zugangsdaten"),
        vendor="prose (a user and a password as a pair: creds are admin / pw)",
        check=lambda secret, match: not_a_word(secret) and not_placeholder(secret),
    ),
    *_SET_RULES,
)

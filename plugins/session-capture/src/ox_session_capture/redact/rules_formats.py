"""Formats whose credential stands without an `=` or `:` beside its name: network devices'
configs (Cisco, FortiGate), daemons' config lines (`auth_pass …`, `requirepass …`, mbsync's
`Pass …`), resource files (`<entry key="…">`, a plist's `<key>` then `<string>`, Android's
`<string name="…">`), YAML's block scalars and argument lists, C's `#define`, Gradle's
`storePassword '…'`, ODBC's braced `PWD={…}`.

Each pattern begins with its format's literal; the value must be no word of a sentence
(`not_a_word`) or be quoted in the format's own way, so that prose about the same settings
(`the password 7 characters long`) is kept.
"""

from __future__ import annotations

import re

from ox_session_capture.redact.names import classify, literal_kind
from ox_session_capture.redact.rules import (
    NL,
    QUOTE,
    QUOTED_VALUE,
    Rule,
    line_before,
    line_start,
    not_a_word,
    not_placeholder,
    rule,
    token_like,
)
from ox_session_capture.redact.rules_code import value_named_before

_LINE_END = r"(?=[ \t]*(?:\r?\n|(?:\\r)?\\n|$))"
_GAP = r"(?:\s|\\[nrt]){0,40}+"  # between two elements (indentation, newlines)
_WORD = r"(?P<secret2>[^\s\"'`\\<>]{4,300})"


def _device_value(secret: str, match: re.Match[str]) -> bool:
    """A device's key or password: no word of a sentence, or hex (Cisco's type 7)."""
    return not_placeholder(secret) and (not_a_word(secret) or token_like(secret, 8))


def _named(secret: str, match: re.Match[str]) -> str | bool:
    """The kind for the value of the element or line named `name`, quoted in its format."""
    return literal_kind(match.group("name"), secret, quoted=True) or False


def _named_random(secret: str, match: re.Match[str]) -> str | bool:
    """`_named` for a format that holds a user interface's texts as well (Android's strings,
    a plist's): only a value no word of a sentence (`<string name="password">Password`)."""
    kind = _named(secret, match)
    random = token_like(secret) or (not_a_word(secret) and not any(c.isspace() for c in secret))
    return kind if kind and random else False


def _field_before(secret: str, match: re.Match[str]) -> str | bool:
    """A pydantic error's `input_value`, given to the field named on the line before it
    (`openai_api_key` then `  String should match … input_value='…'`): the field's last
    part names the value (`db.password`, `keys.0.token`)."""
    text = match.string
    here = line_start(text, match.start())
    gap = 2 if text.endswith("\\n", 0, here) else 1
    if here < gap or text[here - gap] not in "\n\\":
        return False  # the first line: no field before it (or one cut at the limit)
    loc = text[line_start(text, here - gap) : here - gap].strip()
    parts = [p for p in loc.split(".") if p and not p.isdigit()]
    return bool(parts) and (literal_kind(parts[-1], secret, quoted=True) or False)


def _at_line_start(secret: str, match: re.Match[str]) -> bool:
    return not line_before(match).strip() and _device_value(secret, match)


_KEY_DER = (
    "IBADANBgkqhkiG9w0BAQEFAASC",  # PKCS#8, RSA (`BEGIN PRIVATE KEY`)
    "IBAAKCAQEA", "IBAAKCAYEA", "IBAAKCAgEA",  # PKCS#1, RSA 2048, 3072, 4096
    "MHcCAQEEI", "MIGkAgEBBDA",  # SEC 1, EC P-256 and P-384 (`BEGIN EC PRIVATE KEY`)
    "AgEAMBMGByqGSM49AgEG",  # PKCS#8, EC
    "MC4CAQAwBQYDK2VwBCIEI",  # PKCS#8, Ed25519
    "b3BlbnNzaC1rZXktdjEAAAAA",  # `openssh-key-v1`
)  # fmt: skip
"""How a private key's base64 begins, after its length: a key's body is found without its
`-----BEGIN` line (cut off in an excerpt, pasted without it)."""
_B64_LINES = r"[A-Za-z0-9+/=]*+(?:(?:\r?\n|(?:\\r)?\\n)[A-Za-z0-9+/=]{8,}+)*+"
"""The rest of a base64 run, and the lines of 8 base64 characters or more that follow it."""
_B64_BLOCK = r"[A-Za-z0-9+/=]{16,}+(?:" + NL + r"[A-Za-z0-9+/=]{16,}+)*+"
"""Lines of 16 base64 characters or more."""

_BYTE = r"[ \t]*+(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)[ \t]*+"

_FILE_SUFFIX = re.compile(r"(?i)[_-]?file$")
_FLAG_BEFORE = re.compile(r"--?(?P<name>[A-Za-z][\w-]{0,60})[ \t]*=?[ \t]*$")
"""The flag a process substitution is given to, at the end of the text before it."""


def _printed_into_flag(secret: str, match: re.Match[str]) -> str | bool:
    """A value printed into the file of a flag naming a credential (`--password-file`)."""
    flag = _FLAG_BEFORE.search(line_before(match))
    if flag is None:
        return False
    name = _FILE_SUFFIX.sub("", flag.group("name"))
    return literal_kind(name, secret, quoted=True) or False


FORMAT_RULES: tuple[Rule, ...] = (
    rule(
        "PASSWORD",
        # A prompt for a named value, answered on its line: `vercel env add`'s `? What's the
        # value of STRIPE_SECRET_KEY? …`, `railway`'s, Inquirer's.
        r"(?i:value[ \t]+(?:of|for))[ \t]+(?P<name>[A-Za-z_][\w.\-]{0,100})[ \t]*[?:][ \t]*"
        r"(?:[›»>][ \t]*)?(?P<q>)(?P<secret>[^\s\"'`\\]{6,300})",
        ("value of", "value for"),
        vendor="prompts for a named value (vercel env add, Inquirer)",
        check=_named,
    ),
    rule(
        "PASSWORD",
        # A password printed into a flag's file: `rsync --password-file=<(echo …)`,
        # `--db-password-file <(printf '%s' …)`.
        r"<\([ \t]*(?:echo|printf)(?:[ \t]+-[ne]|[ \t]+" + QUOTE + r"%s" + QUOTE + r")*+[ \t]+"
        + QUOTE + r"?(?P<q>)(?P<secret>[^\s\"'`\\)]{3,300})",
        ("<(echo", "<(printf", "<( echo", "<( printf"),
        vendor="a flag's file given by process substitution (--password-file=<(echo …))",
        check=_printed_into_flag,
    ),
    rule(
        "PRIVATE_KEY",
        # A Solana keypair file (`~/.config/solana/id.json`), a wallet's `secretKey`: a JSON
        # array of 64 bytes, in a text that names a keypair or a secret key.
        r"\[(?P<secret>(?>(?:" + _BYTE + r",(?:\r?\n)?){63})" + _BYTE + r")\]",
        ("solana", "keypair", "id.json", "secretkey", "secret_key", "private"),
        vendor="Solana keypairs (a JSON array of 64 bytes)",
    ),
    rule(
        "PASSWORD",
        # PgBouncer's `userlist.txt`: `"user" "password"` (or its SCRAM or md5 hash) at the
        # start of a line.
        r'"(?:(?<=^")|(?<=\n")|(?<=\\n")|(?<=\\n\\"))[A-Za-z0-9_.@\-]{1,64}(?:" "|\\" \\")'
        r'(?P<secret>[^"\s\\]{4,300})\\?"',
        ('" "', '\\" \\"'),
        vendor="PgBouncer userlist.txt",
        check=lambda s, m: not_placeholder(s) and (not_a_word(s) or token_like(s)),
    ),
    rule(
        "PASSWORD",
        # Postfix's `sasl_passwd`: `[smtp.example.com]:587 user@example.com:password`.
        r"\[[A-Za-z0-9.\-]{0,100}smtp[A-Za-z0-9.\-]{0,100}\](?::\d{1,5})?[ \t]+[^\s:\[\]]{1,200}:"
        r"(?P<secret>[^\s]{1,300})",
        ("smtp",),
        vendor="Postfix sasl_passwd",
        check=lambda s, m: not_placeholder(s),
    ),
    rule(
        "PASSWORD",
        # An `expect` script answering a password prompt: `expect "*assword*"` then
        # `send "…\r"` (on the same line in braces, or the next).
        r"expect[ \t]+(?:-\w+[ \t]+)*+" + QUOTE + r"?[^\"'\r\n]{0,80}?(?i:assword|passphrase)"
        r"[^\r\n]{0,80}?" + NL + r"?[ \t]*+send[ \t]+(?:--[ \t]+)?" + QUOTE
        + r"(?P<secret>[^\"'\\\r\n]{1,300})",
        ("assword", "passphrase"),
        vendor="expect scripts (send after a password prompt)",
        check=lambda s, m: not_placeholder(s),
    ),
    rule(
        "PRIVATE_KEY",
        r"(?:" + "|".join(map(re.escape, _KEY_DER)) + r")" + _B64_LINES,
        tuple(d.lower() for d in _KEY_DER),
        vendor="private keys' base64 without their BEGIN line (PKCS#1, PKCS#8, SEC 1, OpenSSH)",
    ),
    rule(
        "PRIVATE_KEY",
        # Base64 lines before a private key's END line whose BEGIN line is not in the text.
        # A run of lines not before one is taken whole as a skip, so that the search goes on
        # after it rather than from each of its lines (n^2 on a long blob).
        r"(?<![A-Za-z0-9+/=])(?:(?P<secret>" + _B64_BLOCK + r")" + NL
        + r"(?=-----END[A-Z ]{0,30}PRIVATE KEY)|" + _B64_BLOCK + r")",
        ("private key-----",),
        vendor="private keys' base64 lines before their END line",
    ),
    rule(
        "PASSWORD",
        # pydantic's validation error shows the value it refused: `openai_api_key` on one
        # line, then `String should match pattern … [type=…, input_value='sk-…', …]`.
        r"input_value=" + QUOTED_VALUE,
        "input_value=",
        vendor="pydantic validation errors (input_value of a field named for a secret)",
        check=_field_before,
    ),
    rule(
        "PRIVATE_KEY",
        # A PEM block of a token rather than a key: cloudflared's `ARGO TUNNEL TOKEN`.
        r"-----BEGIN[A-Z ]{0,30}(?:TOKEN|SECRET|CREDENTIALS?|PASSWORD)-----[\s\S]*?"
        r"(?:-----END[A-Z ]{0,30}(?:TOKEN|SECRET|CREDENTIALS?|PASSWORD)-----|\Z)",
        ("token-----", "secret-----", "credential-----", "credentials-----", "password-----"),
        vendor="PEM blocks of tokens (cloudflared's ARGO TUNNEL TOKEN)",
    ),
    rule(
        "HONEYCOMB_KEY",
        r"(?i:x-honeycomb-team)" + QUOTE + r"?[ \t]*[:=][ \t]*" + QUOTE
        + r"?(?P<secret>[A-Za-z0-9_]{20,64})(?![A-Za-z0-9_])",
        "x-honeycomb-team",
        vendor="Honeycomb (the X-Honeycomb-Team header)",
    ),
    rule(
        "COOKIE",
        # `curl --cookie "connect.sid=s%3A…"`: the first long value of the cookie list (a
        # session cookie by any name; `Cookie:` headers are read as assignments).
        r"--cookie(?:[ \t]+|=)" + QUOTE + r"?(?:[^\s\"'`=;]{1,100}=[^\s\"'`;]{0,15};[ \t]*){0,8}+"
        r"[^\s\"'`=;]{1,100}=(?P<secret>[^\s\"'`;]{16,300})",
        "--cookie",
        vendor="curl --cookie",
        check=lambda s, m: not_placeholder(s) and token_like(s.replace("%3A", ":"), 12),
    ),
    rule(
        "PASSWORD",
        # Cisco IOS: `username admin password 0 …`, `enable secret 0 …`, `password 7 <hex>`
        # (type 7 is reversible).
        r"(?:password|secret)[ \t]+[07][ \t]+" + _WORD,
        ("password 0", "password 7", "secret 0", "secret 7"),
        vendor="Cisco IOS (password 0 / 7)",
        check=_device_value,
    ),
    rule(
        "PASSWORD",
        # Cisco's shared keys and communities: `snmp-server community …`, `tacacs-server host h
        # key …`, `ip ospf authentication-key …`, `message-digest-key 1 md5 …`, `crypto isakmp
        # key … address …`.
        r"(?:snmp-server[ \t]+community|(?:tacacs|radius)-server[ \t]+(?:host[ \t]+\S+[ \t]+)?key"
        r"|authentication-key|message-digest-key[ \t]+\d+[ \t]+md5|isakmp[ \t]+key)"
        r"[ \t]+(?:[067][ \t]+)?" + _WORD,
        ("snmp-server", "tacacs-server", "radius-server", "authentication-key",
         "message-digest-key", "isakmp"),
        vendor="Cisco IOS (communities, TACACS+/RADIUS, OSPF, IPsec keys)",
        check=_device_value,
    ),
    rule(
        "PASSWORD",
        # FortiOS: `set psksecret …`, `set passwd …` (`ENC …` is its encrypted form: kept).
        r"set[ \t]+(?:psksecret|passwd|password)[ \t]+(?!ENC[ \t])" + _WORD,
        ("set psksecret", "set passwd", "set password"),
        vendor="FortiGate (set psksecret, set passwd)",
        check=_device_value,
    ),
    rule(
        "PASSWORD",
        # A daemon's config line, name and value alone on it: keepalived's `auth_pass`,
        # Redis' `requirepass`/`masterauth`, mbsync's `Pass`, Fluent Bit's `HTTP_Passwd`,
        # fluentd's `shared_key`, bitcoind's `rpcpassword`.
        r"(?:(?:auth_pass|requirepass|masterauth|HTTP_Passwd|shared_key|rpcpassword)[ \t]+"
        r"|Pass[ ]+)" + _WORD
        + _LINE_END,
        ("auth_pass", "requirepass", "masterauth", "http_passwd", "shared_key", "rpcpassword",
         "pass "),
        vendor="config lines (keepalived, Redis, mbsync, Fluent Bit, fluentd, bitcoind)",
        check=_at_line_start,
    ),
    rule(
        "PASSWORD",
        # `#define WIFI_PASSWORD "…"` (an embedded project's secrets.h).
        r"#define[ \t]+(?P<name>\w{1,100})[ \t]+" + QUOTED_VALUE,
        ("#define",),
        vendor="C preprocessor (#define NAME \"value\")",
        check=_named,
    ),
    rule(
        "PASSWORD",
        # Gradle's signing config: `storePassword '…'`, `keyPassword "…"` (Groovy, no `=`).
        r"(?P<name>(?:store|key)Password)[ \t]+" + QUOTED_VALUE,
        ("storepassword", "keypassword"),
        vendor="Gradle (signingConfigs storePassword, keyPassword)",
        check=_named,
    ),
    rule(
        "PASSWORD",
        # ODBC's braced value, which may hold `;`: `PWD={…};`.
        r"(?i:pwd|password)=\{(?P<secret>[^}\r\n]{1,300})\}",
        ("pwd={", "password={"),
        vendor="ODBC connection strings (PWD={…})",
        check=not_placeholder,
    ),
    rule(
        "SECRET",
        # Azure Functions' key in the URL: `https://app.azurewebsites.net/api/fn?code=…`.
        r"azurewebsites\.net/api/[^\s?\"'<>]{1,200}\?(?:[^\s\"'<>#]{0,300}&)?code="
        r"(?P<secret>[A-Za-z0-9_\-=%]{20,})",
        ("azurewebsites.net",),
        vendor="Azure Functions (?code= key)",
    ),
    rule(
        "PASSWORD",
        # Java's `Properties.storeToXML`: `<entry key="db.password">…</entry>`.
        r"<entry[ \t]+key=" + QUOTE + r"(?P<name>[^\"'<>\\]{1,100})" + QUOTE + r"[ \t]*>"
        r"(?P<q>)(?P<secret>[^<\r\n]{1,300})</entry>",
        ("<entry",),
        vendor="Java properties as XML (<entry key=…>)",
        check=_named,
    ),
    rule(
        "PASSWORD",
        # .NET's settings: `<setting name="ApiKey" …>` then `<value>…</value>`.
        r"<setting[ \t]+name=" + QUOTE + r"(?P<name>[^\"'<>\\]{1,100})" + QUOTE
        + r"[^<>]{0,200}>" + _GAP
        + r"<value>(?P<q>)(?P<secret>[^<\r\n]{1,300})</value>",
        ("<setting",),
        vendor=".NET application settings (<setting name=…><value>)",
        check=_named,
    ),
    rule(
        "PASSWORD",
        # A property list: `<key>StripeSecretKey</key>` then `<string>…</string>`.
        r"<key>(?P<name>[^<>\r\n]{1,100})</key>" + _GAP
        + r"<string>(?P<q>)(?P<secret>[^<\r\n]{1,300})</string>",
        ("<key>",),
        vendor="property lists (Info.plist <key> then <string>)",
        check=_named_random,
    ),
    rule(
        "PASSWORD",
        # Android's resources: `<string name="openai_api_key">…</string>`.
        r"<string[ \t]+name=" + QUOTE + r"(?P<name>[^\"'<>\\]{1,100})" + QUOTE + r"[^<>]{0,100}>"
        r"(?P<q>)(?P<secret>[^<\r\n]{1,300})</string>",
        ("<string",),
        vendor="Android resources (<string name=…>)",
        check=_named_random,
    ),
    rule(
        "PASSWORD",
        # Android's manifest: `<meta-data android:name="com.acme.API_SECRET"
        # android:value="…"/>`.
        r"android:name=" + QUOTE + r"(?P<name>[^\"'<>\\]{1,200})" + QUOTE + _GAP
        + r"android:value="
        + QUOTED_VALUE,
        ("android:value",),
        vendor="Android manifest (<meta-data android:name android:value>)",
        check=_named,
    ),
    rule(
        "PASSWORD",
        # A YAML block scalar: `password: |` (or `>-`) and the value alone on the next line;
        # a tag between (`password: !!binary |`, base64 of the value).
        r":[ ]?(?:!!(?:str|binary)[ \t]+)?[|>][-+]?[ \t]*" + NL
        + r"[ \t]+(?P<q>)(?P<secret>[^\s\"'`\\]{4,300})" + _LINE_END,
        (": |", ":|", ": >", ":>", ": !!"),
        vendor="YAML block scalars (password: | then the value)",
        check=value_named_before,
    ),
    rule(
        "PASSWORD",
        # A flag and its value as two items of a YAML list (Kubernetes `args:`, compose
        # `command:`): `- --db-password` then `- …`.
        r"-[ \t]+--?(?P<name>[A-Za-z][\w-]{1,60})[ \t]*" + NL + r"[ \t]*-[ \t]+"
        r"(?:" + QUOTED_VALUE + r"|" + _WORD + r")",
        ("- -",),
        vendor="YAML lists of arguments (- --password, then - value)",
        check=lambda s, m: _named(s, m) if classify(m.group("name")) != "WEAK" else False,
    ),
)  # fmt: skip

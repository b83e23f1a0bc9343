"""Stored password hashes: `/etc/shadow`'s `$6$salt$hash`, `.htpasswd`'s `$apr1$…`, bcrypt's
`$2b$12$…`, argon2's `$argon2id$v=19$…`, Django's `pbkdf2_sha256$…`.

A hash is not the password, but a weak password falls to a dictionary run against its hash
offline, and an agent prints them: `sudo cat /etc/shadow`, `htpasswd -nb`, `openssl passwd
-6`, a seed file's users, a database row. The salt and hash are replaced; the scheme's name
(`$6$`, `$argon2id$`) is kept, so the reader still sees what was there. Each scheme's layout is
fixed (its alphabet and lengths), which keeps `$1$2` in an `awk` program or a price list out.
"""

from __future__ import annotations

from ox_session_capture.redact.rules import END, Rule, rule

_HEX = "[0-9a-fA-F]"

_C = "[./A-Za-z0-9]"
"""crypt(3)'s alphabet."""
_B64 = "[A-Za-z0-9+/]"


def _hash(scheme: str, body: str, anchors: tuple[str, ...], vendor: str) -> Rule:
    """`scheme` starts with `\\$` or is an alternation of words starting with `p`, `b`, `s`.
    Its first character comes first, then the test that no word character stands before it:
    a pattern that begins with a literal is searched for it at C speed, one that begins with
    a look-behind tests every position of the text."""
    if scheme.startswith("\\$"):
        lead, rest = r"\$(?<!\w\$)", scheme[2:]
    else:
        lead, rest = r"(?=[pbs])(?<!\w)", scheme
    return rule(
        "PASSWORD_HASH",
        lead + rest + r"(?P<secret>" + body + r")" + END,
        anchors,
        vendor=vendor,
    )


HASH_RULES: tuple[Rule, ...] = (
    _hash(
        r"\$(?:1|5|6|md5|sha1|apr1)\$",
        r"(?:rounds=\d{1,9}\$)?" + _C + r"{1,16}\$" + _C + r"{22,86}",
        ("$1$", "$5$", "$6$", "$md5$", "$sha1$", "$apr1$"),
        "crypt(3) MD5, SHA-256, SHA-512, Apache apr1 (/etc/shadow, .htpasswd)",
    ),
    _hash(
        r"\$2[abxy]?\$", r"\d\d\$" + _C + "{53}", ("$2a$", "$2b$", "$2y$", "$2x$", "$2$"), "bcrypt"
    ),
    _hash(
        r"\$(?:y|gy|7)\$",
        _C + r"{1,40}\$" + _C + r"{1,86}\$" + _C + r"{20,86}",
        ("$y$", "$gy$", "$7$"),
        "yescrypt, scrypt (/etc/shadow)",
    ),
    _hash(
        r"\$argon2(?:id|i|d)\$",
        r"(?:v=\d{1,3}\$)?m=\d{1,9},t=\d{1,9},p=\d{1,4}\$"
        + _B64
        + r"{8,88}\$"
        + _B64
        + r"{16,172}",
        ("$argon2",),
        "Argon2 (PHC string)",
    ),
    _hash(
        r"(?:pbkdf2_sha(?:1|256|512)|bcrypt_sha256|scrypt)\$",
        r"[\w$=,.+/-]{0,40}?\$[A-Za-z0-9./+=]{1,64}\$" + _B64 + r"{20,88}={0,2}",
        ("pbkdf2_sha", "bcrypt_sha256$", "scrypt$"),
        "Django password hashers",
    ),
    # An eighth attack: the hashes databases and directories keep, printed by a query or a
    # dump (`SELECT authentication_string FROM mysql.user`, `pg_authid`, an LDIF export,
    # `secretsdump.py`).
    rule(
        "PASSWORD_HASH",
        r"\*(?<![\w*]\*)(?P<secret>[0-9A-F]{40})" + END,
        ("*",),
        vendor="MySQL mysql_native_password (*HEX)",
    ),
    rule(
        "PASSWORD_HASH",
        # PostgreSQL's `md5` + the hash of password and user, glued (`rolpassword`).
        r"md5(?<![\w]md5)(?P<secret>[0-9a-f]{32})" + END,
        ("md5",),
        vendor="PostgreSQL md5 (rolpassword)",
    ),
    rule(
        "PASSWORD_HASH",
        r"SCRAM-SHA-256\$\d{1,7}:(?P<secret>[A-Za-z0-9+/=]{8,88}\$[A-Za-z0-9+/=]{20,88}"
        + r":[A-Za-z0-9+/=]{20,88})",
        ("scram-sha-256$",),
        vendor="PostgreSQL SCRAM-SHA-256",
    ),
    rule(
        "PASSWORD_HASH",
        # LDAP's `userPassword: {SSHA}…` (an LDIF's `userPassword::` is base64 of the same).
        r"\{(?i:S?SHA(?:256|384|512)?|S?MD5|CRYPT|PBKDF2(?:-SHA\d{1,3})?|ARGON2|BCRYPT)\}"
        + r"(?P<secret>[A-Za-z0-9+/=.$,-]{16,300}+)",
        ("{ssha", "{sha", "{smd5}", "{md5}", "{crypt}", "{pbkdf2", "{argon2}", "{bcrypt}"),
        vendor="LDAP userPassword ({SSHA}, {CRYPT}, ...)",
    ),
    rule(
        "PASSWORD_HASH",
        # `user:RID:LM:NT:::` (pwdump, `secretsdump.py`): an NT hash logs on as the password
        # does (pass-the-hash).
        r"(?P<secret>" + _HEX + r"(?<!" + _HEX + _HEX + r")" + _HEX + r"{31}:" + _HEX + r"{32}):::",
        (":::",),
        vendor="Windows LM:NT hashes (pwdump, secretsdump)",
    ),
    rule(
        "PASSWORD_HASH",
        # SQL Server's `password_hash` (`sys.sql_logins`): `0x0200` and a salted SHA-512,
        # `0x0100` and a SHA-1 (2005-2008).
        r"0x0[12]00(?P<secret>" + _HEX + r"{80}(?:" + _HEX + r"{56})?)" + END,
        ("0x0200", "0x0100"),
        vendor="SQL Server password hashes (0x0200…)",
    ),
)

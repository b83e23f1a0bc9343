"""Passwords in a place of a file's or a call's own format, with no `name = value` beside
them: strongSwan's `: PSK "…"`, HAProxy's `stats auth user:pw`, Kickstart's `rootpw`, a
debconf preseed's `… password …`, Windows' `unattend.xml`, Hibernate's `<property
name="connection.password">`, a database driver's connect call with the password as its
third argument, an `expect` script answering a password prompt, a token given as a URL's
user (`https://<token>@github.com`); and keys of a shape of their own: a JSON Web Key's
private members, a wallet's private key given to its constructor, a BIP-39 mnemonic. Each
reached the ledger whole before (the fifth and sixth attacks, `test_redact_configs.py`).
"""

from __future__ import annotations

import re
from typing import Any

from ox_session_capture.redact.rules import (
    START,
    Rule,
    at_word_start,
    line_before,
    not_placeholder,
    rule,
    token_like,
)

_ARG = r"[ \t]*(?:\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[^,()\"'\n]{1,200})[ \t]*,"
"""One argument of a call before the password (a literal, a variable, an expression without
parentheses), and its comma."""
_LITERAL = r"[ \t]*(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\n]{1,300})\\{0,3}[\"']"
"""The password: a quoted literal (a variable is kept)."""


def _connect(first: str, calls: str, before: int, anchors: tuple[str, ...], vendor: str) -> Rule:
    """The password given as argument `before + 1` of one of `calls`, whose first letters
    are `first` (tested before the look-behind: one test a position of the text)."""
    return rule(
        "PASSWORD",
        r"(?=[" + first + r"])" + START + r"(?:" + calls + r")\(" + _ARG * before + _LITERAL,
        anchors,
        vendor=vendor,
        check=not_placeholder,
    )


def _debconf(secret: str, match: re.Match[str]) -> bool:
    """A debconf preseed line: `<owner> <question> password <value>`, the question with a
    `/` (`d-i passwd/root-password password pw`), in a sentence too."""
    words = line_before(match).split()[-2:]
    if len(words) < 2 or "/" not in words[1]:
        return False
    # A question asking for a password (`passwd/root-password`, `mysql-server/root_password`),
    # or any the installer's owner `d-i` asks: not `the root/admin password is …` in prose.
    return (words[0] == "d-i" or "pass" in words[1].lower()) and not_placeholder(secret)


JWK_PRIVATE = ("d", "p", "q", "dp", "dq", "qi", "k")
"""A JSON Web Key's private members (RFC 7518: RSA's exponent and primes, EC's and OKP's `d`,
a symmetric key's `k`)."""
_JWK_NEAR = 3000
"""How far from a private member `kty` must stand for the text to be a JWK."""


def is_private_jwk(obj: dict[str, Any]) -> bool:
    """Whether a decoded JSON object is a JSON Web Key holding private members."""
    return isinstance(obj.get("kty"), str) and any(isinstance(obj.get(m), str) for m in JWK_PRIVATE)


def _near_kty(secret: str, match: re.Match[str]) -> bool:
    text = match.string
    return "kty" in text[max(0, match.start() - _JWK_NEAR) : match.end() + _JWK_NEAR]


def _url_token(secret: str, _match: re.Match[str]) -> bool:
    # A user name is a word or an address; a token given as the user looks random.
    hexed = len(secret) >= 32 and all(c in "0123456789abcdefABCDEF" for c in secret)
    return hexed or token_like(secret, 20)


CONFIG_RULES: tuple[Rule, ...] = (
    rule(
        "PASSWORD",
        # strongSwan's ipsec.secrets: `[ids] : PSK "secret"` (also EAP, XAUTH).
        r"(?=[PEXN])(?<![\w-])(?:PSK|EAP|XAUTH|NTLM)[ \t]+"
        + r"(?P<q>\\{0,3}\")(?P<secret>[^\"\\\n]{1,300})\\{0,3}\"",
        ("psk", "eap", "xauth", "ntlm"),
        vendor="strongSwan (ipsec.secrets)",
        check=lambda secret, match: (
            line_before(match).rstrip().endswith(":") and not_placeholder(secret)
        ),
    ),
    rule(
        "PASSWORD",
        # HAProxy's statistics page: `stats auth admin:pw`.
        at_word_start("stats") + r"[ \t]+auth[ \t]+[^\s:]{1,100}:(?P<secret>[^\s\"'\\]{1,300})",
        ("stats",),
        vendor="HAProxy (stats auth user:password)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # Kickstart: `rootpw [--plaintext] pw` (`--iscrypted` gives a hash: redacted too).
        at_word_start("rootpw")
        + r"(?>(?:[ \t]+--(?:plaintext|iscrypted|lock|allow-ssh))*)[ \t]+"
        + r"(?P<secret>(?!--)[^\s\"'\\]{1,300})",
        ("rootpw",),
        vendor="Kickstart (rootpw)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # A debconf preseed: `<owner> <question> password <value>`, the question holding a
        # `/` (`d-i passwd/root-password password pw`, `mysql-server/root_password`).
        r"password(?<=[ \t]password)[ \t]+(?P<secret>[^\s\"'\\]{1,300})",
        ("password",),
        vendor="debconf preseed (d-i passwd/root-password password …)",
        check=_debconf,
    ),
    rule(
        "PASSWORD",
        # Windows setup's unattend.xml: `<AdministratorPassword><Value>pw</Value>`.
        r"<(?:\w{0,40}Password)>\s{0,200}<Value>(?P<secret>[^<\n]{1,300})</Value>",
        ("password>",),
        vendor="Windows unattend.xml (<Password><Value>)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # Hibernate, Spring XML: `<property name="connection.password">pw</property>`.
        r"<property[ \t]+name=\\{0,3}[\"'][\w.-]{0,100}(?i:password|passwd|pwd)\\{0,3}[\"']"
        + r"[ \t]*>(?P<secret>[^<\n]{1,300})</property>",
        ("<property",),
        vendor="XML property elements (Hibernate, Spring)",
        check=not_placeholder,
    ),
    _connect(
        "mnDgl",
        r"mysqli_connect|mysql_connect|mysqli_real_connect|new[ \t]+PDO|new[ \t]+mysqli"
        r"|(?:DriverManager\.)?getConnection|new[ \t]+Sequelize|ldap_bind",
        2,
        ("connect(", "pdo(", "mysqli(", "getconnection(", "sequelize(", "ldap_bind("),
        "code (a driver's connect call: host or DSN, user, password; PHP's ldap_bind)",
    ),
    _connect(
        "sb",
        r"simple_bind_s|simple_bind|bind_s",
        1,
        ("bind_s(", "bind("),
        "code (python-ldap's bind: DN, password)",
    ),
    rule(
        "PASSWORD",
        # An `expect` or pexpect script answering a password prompt: `expect "password:"`
        # then `send "pw\r"` (`child.expect('Password:')`, `child.sendline('pw')`).
        at_word_start("expect")
        + r"[ \t(]{1,4}\\{0,3}[\"'][^\"'\n]{0,60}(?i:pass(?:word|phrase)|pin)[^\"'\n]{0,60}"
        + r"\\{0,3}[\"'][^\n]{0,100}(?:\n[ \t]{0,40}){0,2}[^\n]{0,60}?(?:(?<!\w)|(?<=\\[nrt]))"
        # The answer's `\r` (or `\n`), escaped once more in a quoted or JSON text.
        + r"(?:send|sendline)[ \t(]{1,4}(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\n]{1,300})"
        + r"(?:\\{1,4}[rn])?\\{0,3}[\"']",
        ("expect",),
        vendor="expect / pexpect (a password prompt answered)",
        check=not_placeholder,
    ),
    rule(
        "PRIVATE_KEY",
        # A JSON Web Key's private member in text (YAML, JSON that did not parse); decoded
        # JSON loses them in `engine` (`is_private_jwk`). Only near a `kty`.
        # Quoted (JSON) or not (YAML); a text holding `kty` is rare, so the look-behind
        # first costs little.
        r"(?:(?<![\w\\-])|(?<=\\[nrt]))\\{0,3}[\"']?(?:dp|dq|qi|[dpqk])\\{0,3}[\"']?[ \t]*:"
        + r"[ \t]*\\{0,3}[\"']?"
        + r"(?P<secret>[A-Za-z0-9_-]{16,})",
        ("kty",),
        vendor="JSON Web Key (private members)",
        check=_near_kty,
    ),
    rule(
        "PRIVATE_KEY",
        # A wallet's private key given to its constructor: ethers' `new Wallet('0x…')`, viem's
        # `privateKeyToAccount('0x…')`, web3's `Account.from_key`, `fromPrivateKey`.
        r"(?=[WpfP])(?:Wallet|privateKeyToAccount|fromPrivateKey|PrivateKey|from_key)\([ \t]*"
        + r"\\{0,3}[\"'`]?(?P<secret>(?:0x)?[0-9a-fA-F]{64})(?![0-9a-fA-F])",
        ("wallet(", "privatekeytoaccount(", "fromprivatekey(", "privatekey(", "from_key("),
        vendor="crypto wallets (a private key given to its constructor)",
    ),
    rule(
        "MNEMONIC",
        # A BIP-39 recovery phrase: 12 to 24 words of 3 to 8 lower-case letters, named.
        r"(?=[mMsSrR])(?i:mnemonic|(?:seed|recovery|secret(?:[ _-]?recovery)?)[ _-]?phrase)"
        + r"\\{0,3}[\"']?[ \t]*[:=][ \t]*\\{0,3}[\"'`]?[ \t]*"
        + r"(?P<secret>(?:[a-z]{3,8}[ \t]+){11,23}[a-z]{3,8})(?![a-z])",
        ("mnemonic", "phrase"),
        vendor="BIP-39 mnemonic (a wallet's recovery phrase)",
    ),
    rule(
        "SECRET",
        # A token given as the URL's user, no password after it: `https://<token>@github.com`.
        r"(?<=[A-Za-z0-9])://(?P<secret>[A-Za-z0-9_\-.~]{20,200})@" + r"(?=[A-Za-z0-9\[])",
        ("://",),
        vendor="URL user-info holding a token",
        check=_url_token,
    ),
)

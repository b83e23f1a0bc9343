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

from ox_session_capture.redact.mnemonic import MNEMONIC_ANCHORS
from ox_session_capture.redact.names import path_kind
from ox_session_capture.redact.rules import (
    START,
    Rule,
    at_word_start,
    letter_at_word_start,
    line_before,
    not_a_word,
    not_placeholder,
    rule,
    token_like,
)

_ANSWER = r"(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\n]{1,300})(?:\\{1,4}[rn])?\\{0,3}[\"']"
"""What `expect`'s `send` types, quoted: its `\\r` (or `\\n`) escaped once more in a quoted or
JSON text."""
_ARG = r"[ \t]*(?:\"[^\"\n]{0,200}\"|'[^'\n]{0,200}'|[^,()\"'\n]{1,200})[ \t]*,"
"""One argument of a call before the password (a literal, a variable, an expression without
parentheses), and its comma."""
_LITERAL = r"[ \t]*(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\n]{1,300})\\{0,3}[\"']"
"""The password: a quoted literal (a variable is kept)."""


def _connect(
    first: str,
    calls: str,
    before: int,
    anchors: tuple[str, ...],
    vendor: str,
    *,
    first_args: str = "",
) -> Rule:
    """The password given as argument `before + 1` of one of `calls`, whose first letters
    are `first` (tested before the look-behind: one test a position of the text); or after
    `first_args`, the regex of the arguments before it when they are told by their shape."""
    return rule(
        "PASSWORD",
        r"(?=["
        + first
        + r"])"
        + START
        + r"(?:"
        + calls
        + r")\("
        + (first_args or _ARG * before)
        + _LITERAL,
        anchors,
        vendor=vendor,
        check=not_placeholder,
    )


_TRACE = re.compile(r"(?:^|[\s\"'`])(?:[<>]|-{1,3}>|[CS]:)[ \t]*$")
"""What a protocol trace prints before a command it sent (`curl -v`, `ftp -d`, an RFC)."""
_IMAP_TAG = re.compile(r"(?:^|[\s\"'`])(?:\.|[A-Za-z]{0,5}\d{1,5})[ \t]+$")
"""An IMAP command's tag (`a1`, `A001`, `.`), right before the command."""


def _app_password(secret: str, match: re.Match[str]) -> bool:
    """Sixteen letters are no word; four groups of four may be words of a sentence (`password
    must have more than`): only alone on a config's line, one group without a vowel (a
    random group has none two times in five; this misses about one app password in ten)."""
    if " " not in secret:
        return True
    groups = secret.split()
    return not line_before(match).strip() and any(not set(g) & set("aeiou") for g in groups)


_PROTOCOL_PASSWORD = (
    r"(?P<secret>[^\s\\,;\"'`]{1,300}+)"
    r"(?=\\{0,3}[\"'`]|[,;]?(?:[ \t]|\r?\n|\\[nr]|$))"
)
"""The password a protocol's command ends with (a comma or a semicolon after it is prose's, a
quote a string's that holds the command)."""


def _a_password(secret: str) -> bool:
    return not_placeholder(secret) and set(secret) != {"*"}


def _imap_login(secret: str, match: re.Match[str]) -> bool:
    """IMAP's `LOGIN` after a command's tag (`a1`, `A001`, `.`)."""
    return _a_password(secret) and _IMAP_TAG.search(line_before(match)) is not None


def _pass_command(secret: str, match: re.Match[str]) -> bool:
    """`PASS` after a trace's prefix, or alone at a line's start with a value no word or path
    (test runners print `PASS src/app.test.js`)."""
    if not _a_password(secret):
        return False
    before = line_before(match)
    if _TRACE.search(before) is not None:
        return True
    return not before.strip() and not_a_word(secret) and not any(c in secret for c in "/.:")


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


def _xml_named(secret: str, match: re.Match[str]) -> str | bool:
    """The kind of a `<value>` under a `<name>` that names a credential (its dots read as `_`:
    `fs.s3a.secret.key`, `javax.jdo.option.ConnectionPassword`), or False."""
    return path_kind(match.group("name"), secret.strip()) or False


CONFIG_RULES: tuple[Rule, ...] = (
    rule(
        "PASSWORD",
        # Hadoop's, Hive's and HBase's `<property><name>…</name><value>…</value>`: the name of
        # a property and its value are elements of their own.
        r"<name>[ \t]*(?P<name>[\w.:/-]{1,120}+)[ \t]*</name>(?:\s|\\[nrt]){0,200}+"
        r"<value>[ \t]*(?P<secret>[^<\s\\][^<\r\n\\]{0,299}+)</value>",
        ("</name>",),
        vendor="Hadoop, Hive (<name>…</name><value>…</value>)",
        check=_xml_named,
    ),
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
        # then `send "pw\r"` (`child.expect('Password:')`, `child.sendline('pw')`); the prompt
        # a raw string of a regex too (`p.expect(r"[Pp]assword")`).
        at_word_start("expect")
        + r"[ \t(]{1,4}[rbu]?\\{0,3}[\"'][^\"'\n]{0,60}(?i:assword|assphrase|pin)[^\"'\n]{0,60}"
        + r"\\{0,3}[\"'][^\n]{0,100}(?:\n[ \t]{0,40}){0,2}[^\n]{0,60}?(?:(?<!\w)|(?<=\\[nrt]))"
        + r"(?:send|sendline)[ \t(]{1,4}"
        + _ANSWER,
        ("expect",),
        vendor="expect / pexpect (a password prompt answered)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # An `expect` block's branch for a password prompt: `expect { "password:" { send
        # "…\r"; exp_continue } }`, `-re "assword" {send -- "…\r"}`.
        r"\\{0,3}[\"'][^\"'\n{}]{0,60}(?i:assword|assphrase)[^\"'\n{}]{0,60}\\{0,3}[\"']"
        r"[ \t]*\{[ \t]*send(?:[ \t]+--)?[ \t]+" + _ANSWER,
        ("{ send", "{send"),
        vendor="expect (a password prompt's branch of an expect block)",
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
        # Its anchors are also what has `redact.mnemonic` read a text for a phrase not named
        # so (`Wallet.fromPhrase("…")`, `Write down these 12 words: …`).
        MNEMONIC_ANCHORS,
        vendor="BIP-39 mnemonic (a wallet's recovery phrase)",
    ),
    _connect(
        "aSN",
        # `algoliasearch('APP_ID', 'admin key')`, Ruby's `Net::SMTP.start(host, port, helo,
        # user, pw, :login)`.
        r"algoliasearch|SearchClient\.create|algoliasearch\.Client",
        1,
        ("algoliasearch", "searchclient"),
        "code (Algolia's client: app id, API key)",
    ),
    _connect(
        "N",
        r"Net::SMTP\.start",
        4,
        ("net::smtp",),
        "code (Ruby's Net::SMTP.start: host, port, helo, user, password)",
    ),
    _connect(
        "C",
        # ldap3's `Connection(server, 'cn=admin,dc=…', 'pw')`: the user a DN, so a directory's
        # bind (a `Connection` of any other library with a third literal is not read).
        r"Connection",
        0,
        ("connection(",),
        "code (ldap3's Connection: server, DN, password)",
        first_args=_ARG
        + r"[ \t]*(?:user[ \t]*=[ \t]*)?[rbuf]?\\{0,3}[\"'](?i:cn|uid|ou|mail)="
        + r"[^\"'\\\n]{0,200}\\{0,3}[\"'][ \t]*,",
    ),
    rule(
        "PASSWORD",
        # cloud-init's `chpasswd: list:` lines (`root:pw`, one user a line): the list is
        # replaced whole (names and passwords), as a YAML block or a sequence.
        at_word_start("chpasswd")
        + r":[ \t]*(?:(?:\r?\n|\\n)[ \t]++(?!list:)[^\n\\]{0,100}+){0,5}(?:\r?\n|\\n)[ \t]+list:"
        + r"[ \t]*\|?-?[ \t]*"
        + r"(?P<secret>(?:(?:\r?\n|\\n)[ \t]++(?:-[ \t]++)?[\w.-]{1,64}+:(?![\s\\])"
        + r"[^\s\\]{1,300}+)+)",
        ("chpasswd",),
        vendor="cloud-init (chpasswd: list: user:password lines)",
    ),
    rule(
        "PRIVATE_KEY",
        # OpenVPN's shared key (`--secret`, `<tls-auth>`, `<tls-crypt>`): 2048 bits in hex.
        r"-----BEGIN OpenVPN Static key V1-----[\s\S]*?(?:-----END OpenVPN Static key V1-----|\Z)",
        ("openvpn",),
        vendor="OpenVPN static key",
    ),
    rule(
        "PASSWORD",
        # A Google app password in msmtp's or fetchmail's file: 16 lower-case letters (shown
        # in 4 groups), alone after `password` on its line. In prose such a word is a word.
        at_word_start("password")
        + r"[ \t]+(?:(?P<secret>[a-z]{16})(?![a-z])"
        + r"|(?P<secret2>[a-z]{4}(?: [a-z]{4}){3})(?=[ \t]*(?:\r?\n|\\[nr]|$)))",
        ("password",),
        vendor="msmtp / fetchmail (a Google app password)",
        check=_app_password,
    ),
    rule(
        "PASSWORD",
        # A PIN or PUK of 4 to 8 digits (`SIM_PIN=4821`, `pin: "1234"`); a name that only
        # ends in those letters (`SPIN`, `pinpoint`) is none.
        r"[pP](?<![A-Za-z0-9][pP])(?:IN|in|UK|uk)(?:[_-]?(?:CODE|code|Code))?"
        + r"\\{0,3}[\"']?[ \t]*[=:][ \t]*\\{0,3}[\"']?(?P<secret>\d{4,8})(?![\w.])",
        ("pin", "puk"),
        vendor="PIN / PUK codes",
    ),
    rule(
        "PASSWORD",
        # A protocol's own login typed or traced: IMAP's `a1 LOGIN user pw` ...
        letter_at_word_start("lL")
        + r"(?:OGIN|ogin)[ \t]+"
        + r"(?:\\?\"[^\"\n\\]{1,100}\\?\"|[^\s\"\\]{1,100})[ \t]+"
        + _PROTOCOL_PASSWORD,
        ("login",),
        vendor="IMAP LOGIN (a protocol session)",
        check=_imap_login,
    ),
    rule(
        "PASSWORD",
        # ... FTP's and POP3's `PASS pw` (`curl -v`'s `> PASS …`, `ftp -d`'s `---> PASS …`,
        # `C: PASS …`). Each begins with its literal: `pass` is in every `password`.
        at_word_start("PASS") + r"[ \t]+" + _PROTOCOL_PASSWORD,
        ("pass",),
        vendor="FTP / POP3 PASS (a protocol session)",
        check=_pass_command,
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

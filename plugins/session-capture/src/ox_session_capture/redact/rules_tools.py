"""Passwords and tokens that tools take as plain arguments, with no telling name beside them:
`zip -P pw`, `7z a -ppw`, `ssh-keygen -N pw`, `sqlplus user/pw@db`, `net use \\\\srv\\share pw`,
`rabbitmqctl add_user bob pw`, `cargo login token`, `sudo -S cmd <<< pw`, Python's
`auth=("user", "pw")`. Each was found leaking whole (`tests`: `test_redact_tools.py`).

The same pieces as the other command-line rules (`rules_commands`): a value counts only after
its command on the same command line, where each option ends is decided by the text, and a
value that is a variable or a placeholder (`$PW`, `<password>`, `***`) is kept.
"""

from __future__ import annotations

import re

from ox_session_capture.redact.names import (
    CREDENTIAL_WORDS,
    literal_kind,
    literal_password,
    path_kind,
)
from ox_session_capture.redact.rules import (
    EMAIL,
    END,
    START,
    Rule,
    at_word_start,
    letter_at_word_start,
    line_after,
    line_before,
    not_a_word,
    not_placeholder,
    password_like_literal,
    rule,
    token_like,
)
from ox_session_capture.redact.rules_commands import WINDOW, cli, cli_words, password_value

_LINE = r"[^\n|;&]{0," + str(WINDOW) + r"}?"
"""The rest of a command line before the argument looked for (lazily, bounded)."""
_SNMP = r"snmp(?:walk|bulkwalk|get|getnext|bulkget|set|table|trap|inform|delta|df|netstat|status)"
_OPTIONS = r"(?>(?:[ \t]+-{1,2}[\w.-]+(?:=[^\s\"'\\]*)?)*)"
"""Options without values (`-1`, `--batch`, `--opt=x`), read once."""


_USER_THEN_PASSWORD = (
    # Quotes escaped in JSON text that did not parse (`\\"`).
    r"[ \t]*[rbuf]?\\{0,3}[\"'][^\"'\\\n]{0,200}\\{0,3}[\"'][ \t]*,[ \t]*[rbu]?"
    r"(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\n]{1,300})\\{0,3}[\"']"
)
"""A call's first two arguments, a quoted user and a quoted password (a variable is kept)."""
_ARG = r"[rbu]?\\{0,3}[\"'][^\"'\n]{0,200}\\{0,3}[\"'][ \t]*"
"""A quoted argument before them (a host, a DSN, an identity)."""


def _on_its_line(word: str, match: re.Match[str]) -> bool:
    """Whether `word` stands on the line of `match` (in it, or near it before or after)."""
    return word in match.group() or word in line_before(match) or word in line_after(match)


def _sed_body(n: int, delimiter: str) -> str:
    d = re.escape(delimiter)
    return (
        rf"{d}(?P<pat{n}>(?:[^\s\\{d}]|\\.){{1,200}}+){d}"
        rf"(?P<secret{n}>(?:[^\s\\{d}\"']|\\.){{1,300}}+){d}"
    )


_SED_BODIES = "|".join(_sed_body(n, d) for n, d in enumerate("/|#,", start=1))
"""`s/pattern/replacement/` with each usual delimiter, neither part with a space in it."""
_SED_PLACEHOLDER = re.compile(
    r"(?i:changeme|change_me|change-me|replace_?me|placeholder|your[_-]?\w*?"
    r"(?:pass|pwd|key|secret|token))|[A-Z0-9_]*(?:PASS|PWD|SECRET|TOKEN|API_?KEY)[A-Z0-9_]*"
    r"|<[^<>\s]{1,80}>|\{\{[^{}]{1,80}\}\}|__[A-Za-z]\w*__|%[A-Za-z]\w*%|@@\w+@@"
)
"""A template's placeholder: a word that asks to be changed, a credential's name in capitals,
or one marked as a template's (`<password>`, `{{ token }}`, `__SECRET__`, `%PASSWORD%`)."""


def _sed_value(secret: str, match: re.Match[str]) -> bool:
    """The replacement of a placeholder is a password: not a reference to the pattern (`&`,
    `\\1`), a variable or a word (`s/TOKEN/tokenizer/`), nor an assignment (`s/^PW=.*/PW=x/`,
    whose value the assignment rule reads)."""
    groups = match.groupdict()
    n = next(k[len("secret") :] for k, v in groups.items() if k.startswith("secret") and v)
    pattern = groups["pat" + n]
    return (
        _SED_PLACEHOLDER.search(pattern) is not None
        and not_placeholder(secret)
        and "=" not in secret
        and "&" not in secret
        and "\\" not in secret
        and not_a_word(secret)
    )


def _after(
    command: str, before: str, anchors: tuple[str, ...], vendor: str, *, prompt: str = ""
) -> Rule:
    """The password argument that follows `command` and then `before` (a regex of the words
    between, on the same command line); `prompt`, what asks for it instead (`*`), is kept,
    and so is a short lower-case word not quoted: prose names these commands too (`run cargo
    login and paste the token`)."""

    def check(secret: str, match: re.Match[str]) -> bool:
        if secret == prompt or not not_placeholder(secret, match):
            return False
        word = secret.isalpha() and secret.islower() and len(secret) <= 7
        return match.group("q") is not None or not word

    return rule(
        "CLI_PASSWORD",
        START + command + before + r"[ \t]+" + password_value(),
        anchors,
        vendor=vendor,
        check=check,
    )


_NAMED_PASSWORD = re.compile(
    r"(?i)(?:pass(?:word|wd)?|pwd)\w*[\"'`\]]?[ \t]*(?:=|:|=>)[ \t]*(?:[\w.]+\([ \t]*)*$"
)
"""A password's name (`password_digest`, `encrypted_password`), then what is assigned to it
and the calls it is wrapped in (`encode(`), at the end of the text before a digest's call."""


_P_IS_PASSWORD = (
    "rabbitmqadmin", "evil-winrm", "crackmapexec", "netexec", "nxc", "smbmap", "hydra", "medusa",
)  # fmt: skip
_ASSIGNMENT = re.compile(r"[A-Za-z_][\w.-]*=")
_NO_BACKTICK = r"[^\s\"'`\\]+"
"""A bare value up to a space, a quote or a backtick (a command quoted in Markdown ends at
one: `` `vercel env add DB_PASSWORD production` ``)."""


_STORE_WORDS = (
    "secret set", "secrets set", "secret put", "secrets put", "env set", "env add", "kv put",
    "config set", "etcdctl", "redis-cli", "racadm set",
)  # fmt: skip
"""What a store's command line holds before `NAME VALUE` (the anchors of its rule)."""


def _names_a_credential(name: str) -> bool:
    """Whether `name` holds a credential's word (`CREDENTIAL_WORDS`): the rules that read a
    name beside a value anchor on their command's words, not on these."""
    low = name.lower()
    return any(word in low for word in CREDENTIAL_WORDS)


def _named_value(secret: str, match: re.Match[str], *, strict: bool = False) -> str | bool:
    """The kind of `secret` stored under the match's `name` (`app/db/password`,
    `fs.s3a.secret.key`: its separators read as `_`), or False; `strict`: a value beside a
    name on a command line must also be no word (`vercel env add DB_PASSWORD production`
    names an environment) and no assignment (`kv put path name=value`: the keyword rules')."""
    if strict and (_ASSIGNMENT.match(secret) or not (not_a_word(secret) or token_like(secret))):
        return False
    if not _names_a_credential(match.group("name")):
        return False
    return path_kind(match.group("name"), secret) or False


_SETTER_PREFIX = re.compile(r"^(?:[sS]et|[wW]ith)_?")
_METHOD_HEAD = re.compile(r"(?<![\w$])[A-Za-z_]\w{0,40}\Z")
_BARE_SETTERS = frozenset(
    {"password", "passphrase", "apikey", "api_key", "clientsecret", "client_secret", "secretkey",
     "secret_key", "accesstoken", "access_token", "token", "secret"}
)  # fmt: skip
"""A builder's methods named for what they are given (`.password("…")`, `.apiKey("…")`)."""


def _a_setters_literal(secret: str, match: re.Match[str]) -> str | bool:
    """The kind of a literal given to a setter of a credential (`set_password`, `setApiKey`,
    `withPassword`, a builder's `.password`; not `setPasswordField`, `getApiKey`,
    `setTokenizer`), or False. The method's name is read back from its credential's word."""
    start = match.start()
    head = _METHOD_HEAD.search(match.string, max(0, start - 41), start)
    name = (head.group() if head else "") + match.group("word")
    rest = _SETTER_PREFIX.sub("", name)
    at = start - len(head.group()) if head else start
    if rest == name and (name.lower() not in _BARE_SETTERS or match.string[at - 1 : at] != "."):
        # Neither a setter nor a builder's method (`.password(…)`): a getter (`getApiKey(
        # "name")`), a constructor or a function (`Token("NAME", …)`, `apikey("Id")`).
        return False
    if secret.startswith("{") and secret.endswith("}"):
        return False  # an f-string's or a template's field (`"{self.value}"`)
    return literal_kind(rest, secret, quoted=True) or False


def _a_hashed_password(secret: str, match: re.Match[str]) -> bool:
    """A password (no word, no e-mail address: a reset key is the digest of one) whose digest
    a password's name is given."""
    return (
        not_placeholder(secret)
        and not_a_word(secret)
        and " " not in secret
        and not EMAIL.fullmatch(secret)
        and _NAMED_PASSWORD.search(line_before(match)) is not None
    )


TOOL_RULES: tuple[Rule, ...] = (
    # ---- a flag and its value (`cli`: the command, then the flag on the same line)
    cli("CLI_PASSWORD", r"zip|unzip|zipcloak|funzip", r"-P", ("-p",)),
    cli("CLI_PASSWORD", r"7z|7za|7zr|7zz", r"-p", ("-p",), attached=True),
    # WinRAR's console tools: `rar a -hpPW …` (the headers encrypted too), `unrar x -pPW …`.
    cli_words(
        "CLI_PASSWORD",
        ("rar", "unrar", "Rar", "UnRAR", "WinRAR"),
        r"-(?:hp|p)",
        ("-p", "-hp"),
        attached=True,
    ),
    cli_words("CLI_PASSWORD", ("cypher-shell",), r"(?:-p|--password)", ("cypher-shell",)),
    cli_words("CLI_PASSWORD", ("slappasswd",), r"-s", ("slappasswd",)),
    rule(
        "PASSWORD",
        # A password stored in clear under a scheme that says so: Dovecot's passwd-file
        # (`bob:{PLAIN}…`, `{CLEARTEXT}`), its `passdb static { args = password={PLAIN}… }`.
        r"\{(?:PLAIN|CLEARTEXT|CLEAR|PLAINTEXT)\}(?P<secret>[^\s:\"'`\\{}]{1,300})",
        ("{plain}", "{cleartext}", "{clear}", "{plaintext}"),
        vendor="Dovecot (a password under the {PLAIN} scheme)",
        check=not_placeholder,
    ),
    # One rule a flag: a match ends at its value, so `-P old -N new` needs both.
    cli("CLI_PASSWORD", r"ssh-keygen", r"-N", ("-n",)),
    cli("CLI_PASSWORD", r"ssh-keygen", r"-P", ("-p",)),
    cli("CLI_PASSWORD", r"openssl", r"-k", ("-k",)),
    cli("CLI_PASSWORD", r"twine", r"(?:-p|--password)", ("-p", "--password")),
    cli("CLI_PASSWORD", r"dotnet[ \t]+nuget|nuget", r"(?:-p|--password|-Password)", ("-p",)),
    cli("CLI_PASSWORD", r"gpg|gpg2", r"--passphrase", ("--passphrase",)),
    cli("CLI_PASSWORD", r"doctl", r"(?:-t|--access-token)", ("-t", "--access-token")),
    cli("CLI_PASSWORD", r"mosquitto_pub|mosquitto_sub|mosquitto_rr", r"-P", ("-p",)),
    cli("CLI_PASSWORD", r"cqlsh", r"(?:-p|--password)", ("-p",)),
    cli("CLI_PASSWORD", r"ncftp|ncftpget|ncftpput|ncftpls", r"-p", ("-p",)),
    cli("CLI_PASSWORD", r"poetry[ \t]+publish", r"(?:-p|--password)", ("-p",)),
    cli("CLI_PASSWORD", r"doveadm[ \t]+pw", r"-p", ("-p",)),
    cli("CLI_PASSWORD", r"caddy[ \t]+hash-password", r"(?:-p|--plaintext)", ("--plaintext", "-p")),
    cli("CLI_PASSWORD", r"security[ \t]+add-(?:generic|internet)-password", r"-w", ("-w",)),
    # `xcrun altool … -p pw`: an app-specific password (`@keychain:NAME` names one, kept).
    cli("CLI_PASSWORD", r"(?:xcrun[ \t]+)?altool", r"(?:-p|--password)", ("altool",)),
    # `lftp -u user,password host`: the user and its comma are the flag's.
    cli("CLI_PASSWORD", r"lftp", r"-u[ \t]+[^\s,\"'\\]+,", ("lftp",), attached=True),
    rule(
        "CLI_PASSWORD",
        # OpenVPN's credentials from a process substitution, the password on the second line:
        # `--auth-user-pass <(printf 'user\npass\n')`, `<(echo -e "user\npass")`.
        r"--auth-user-pass[ \t]+<\((?:printf|echo(?:[ \t]+-e)?)[ \t]+[\"']"
        # Each line break a backslash and `n` as written, two backslashes in a JSON string.
        r"[^\"'\\\n]{1,100}+\\{1,2}n(?P<secret>[^\"'\\\n]{1,200}+)(?:\\{1,2}n)?[\"']",
        ("--auth-user-pass",),
        vendor="command line (openvpn --auth-user-pass <(printf …))",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # Junos' `set system root-authentication plain-text-password-value "…"` (where
        # `plain-text-password` alone prompts for it).
        r"(?<![\w-])plain-text-password-value[ \t]+" + password_value(),
        ("plain-text-password-value",),
        vendor="Junos (plain-text-password-value)",
        check=not_placeholder,
    ),
    rule(
        "CLI_PASSWORD",
        # SonarQube's token given as its login: `-Dsonar.login=…` (`sonar.token` is named).
        r"(?<![\w.])-Dsonar\.login=" + password_value(),
        ("sonar.login",),
        vendor="command line (sonar-scanner -Dsonar.login)",
        check=not_placeholder,
    ),
    # Remote consoles, network gear, databases and tunnels (a fourth attack).
    cli("CLI_PASSWORD", r"[xw]?freerdp3?|sdl-freerdp3?", r"/p:", ("freerdp",), attached=True),
    cli("CLI_PASSWORD", r"rdesktop", r"-p", ("rdesktop",)),
    # A build machine's keychain: `security unlock-keychain -p pw`, `create-keychain -p pw`,
    # `set-key-partition-list … -k pw`.
    cli("CLI_PASSWORD", r"security[ \t]+(?:unlock|create|delete)-keychain", r"-p", ("-keychain",)),
    cli("CLI_PASSWORD", r"security[ \t]+set-key-partition-list", r"-k", ("partition-list",)),
    cli("CLI_PASSWORD", r"ipmitool", r"-P", ("ipmitool",)),
    cli("CLI_PASSWORD", r"racadm", r"-p", ("racadm",)),
    cli("CLI_PASSWORD", r"vsql", r"(?:-w|--password)", ("vsql",)),
    cli("CLI_PASSWORD", r"p4", r"-P", ("p4",)),
    cli("CLI_PASSWORD", r"influx", r"(?:-p|--password)", ("influx",)),
    cli("CLI_PASSWORD", r"influx", r"(?:-t|--token)", ("influx",)),
    # SNMPv3's authentication and privacy passphrases, v1/v2c's community (`public`, the
    # well-known default, kept).
    cli("CLI_PASSWORD", _SNMP, r"(?:-A|-X)", ("snmp",)),
    rule(
        "CLI_PASSWORD",
        START
        + r"(?:"
        + _SNMP
        + r")"
        + r"[^\n|;&]{0,200}?(?<![\w-])-c(?:[ \t]+|=)"
        + password_value(r"[^\s\"'\\\-][^\s\"'\\]*"),
        ("snmp",),
        vendor="command line (snmpwalk -c community)",
        check=lambda secret, match: (
            not_placeholder(secret, match) and secret.strip("'\"") != "public"
        ),
    ),
    cli("CLI_PASSWORD", r"az[ \t]+keyvault[ \t]+secret[ \t]+set", r"--value", ("keyvault",)),
    rule(
        "CLI_PASSWORD",
        # A parameter stored encrypted: its value is a secret (a `String` one may be any).
        # One window from `aws` to `--value` (as `cli`); the subcommand and type are looked
        # for on the line by the check, not by the pattern (two windows went quadratic).
        START + r"aws" + END + _LINE + r"(?<![\w-])--value(?:[ \t]+|=)" + password_value(),
        ("securestring",),
        vendor="command line (aws ssm put-parameter --type SecureString --value)",
        check=lambda secret, match: (
            not_placeholder(secret)
            and _on_its_line("put-parameter", match)
            and _on_its_line("SecureString", match)
        ),
    ),
    # ---- a positional argument
    _after(
        # `pulumi config set [--secret] NAME VALUE [--secret]`: stored encrypted, given bare.
        r"pulumi[ \t]+config[ \t]+set(?=[^\n|;&]{0,300}?[ \t]--secret\b)",
        r"(?>(?:[ \t]+--[\w-]+)*)[ \t]+[^\s\"'\\-][^\s\"'\\]*",
        ("pulumi",),
        "command line (pulumi config set --secret)",
    ),
    _after(
        r"ngrok",
        r"(?:[ \t]+config)?[ \t]+(?:add-authtoken|authtoken)",
        ("ngrok",),
        "command line (ngrok config add-authtoken)",
    ),
    _after(
        r"(?i:openssl)[ \t]+passwd",
        r"(?>(?:[ \t]+-(?:salt[ \t]+[^\s\"'\\]+|[\w-]+))*)",
        ("passwd",),
        "command line (openssl passwd)",
    ),
    _after(
        r"mkpasswd",
        r"(?>(?:[ \t]+-(?:[mSR][ \t]+[^\s\"'\\]+|-\w[\w-]*(?:=\S*)?|\w+))*)",
        ("mkpasswd",),
        "command line (mkpasswd)",
    ),
    _after(r"mysqladmin", _LINE + r"[ \t]password", ("mysqladmin",), "command line (mysqladmin)"),
    _after(
        r"rabbitmqctl",
        _LINE + r"(?<![\w-])(?:add_user|change_password|authenticate_user)[ \t]+[^\s\"'\\]+",
        ("rabbitmqctl",),
        "command line (rabbitmqctl add_user)",
    ),
    _after(r"wpa_passphrase", r"[ \t]+[^\s\"'\\]+", ("wpa_passphrase",), "wpa_passphrase"),
    _after(
        # `mosquitto_passwd -b [-c] [-H sha512] file user password` (`-b`: the password given).
        r"mosquitto_passwd(?=[^\n|;&]{0,100}?[ \t]-\w*b)",
        r"(?>(?:[ \t]+-(?:[HI][ \t]+[^\s\"'\\]+|\w+))*)(?:[ \t]+[^\s\"'\\-][^\s\"'\\]*){2}",
        ("mosquitto_passwd",),
        "command line (mosquitto_passwd -b file user password)",
    ),
    _after(
        r"drush",
        _OPTIONS
        + r"[ \t]+(?:upwd|user:password|user-password)"
        + _OPTIONS
        + r"[ \t]+[^\s\"'\\-][^\s\"'\\]*",
        ("drush",),
        "command line (drush user:password name password)",
    ),
    rule(
        "CLI_PASSWORD",
        # A placeholder of a config file replaced by the password (`sed -i
        # 's/CHANGEME/pw/' …`, `s|<db_password>|pw|`): the replacement is the secret.
        at_word_start("sed") + END + r"[^\n|;&]{0,200}?[ \t]\\{0,3}[\"']?s(?:" + _SED_BODIES + r")",
        ("sed",),
        vendor="command line (sed replacing a placeholder with a password)",
        check=_sed_value,
    ),
    _after(
        r"nmcli",
        _LINE + r"(?<![\w.-])(?:password|wifi-sec\.psk|802-11-wireless-security\.psk)",
        ("nmcli",),
        "command line (nmcli … password)",
    ),
    _after(
        r"neo4j-admin",
        r"(?:[ \t]+dbms)?[ \t]+set-initial-password",
        ("set-initial-password",),
        "command line (neo4j-admin set-initial-password)",
    ),
    _after(
        # redis.conf and `CONFIG SET`: `requirepass pw`, `masterauth pw`; ldap.conf's and
        # nslcd.conf's `bindpw pw`, Postfix LDAP tables' `bind_pw = pw`.
        r"(?i:requirepass|masterauth|bind_?pw)",
        r"(?:[ \t]*=)?",
        ("requirepass", "masterauth", "bindpw", "bind_pw"),
        "redis (requirepass, masterauth), LDAP clients (bindpw)",
    ),
    _after(
        r"setx",
        r"[ \t]+(?=[\w.-]*(?i:pass|pwd|secret|token|key|credential))[\w.-]+",
        ("setx",),
        "Windows (setx NAME value)",
    ),
    _after(
        r"dotnet[ \t]+user-secrets[ \t]+set",
        r"(?>(?:[ \t]+--?[\w-]+(?:[ \t]+[^\s\"'\\-][^\s]*)?)*?)[ \t]+"
        r"(?:\\{0,3}\"[^\"\\\n]{1,200}\\{0,3}\"|'[^'\n]{1,200}'|[^\s\"'\\-][^\s]*)",
        ("user-secrets",),
        "command line (dotnet user-secrets set)",
    ),
    _after(
        r"(?i:ConvertTo-SecureString)",
        # Its switches before the string (`-AsPlainText "…" -Force`) are no value.
        r"(?:[ \t]+-(?i:String|AsPlainText|Force)(?![\w-]))*+",
        ("convertto-securestring",),
        "PowerShell (ConvertTo-SecureString … -AsPlainText)",
    ),
    _after(
        r"composer",
        r"[ \t]+config" + _OPTIONS + r"[ \t]+(?:http-basic\.[^\s\"'\\]+[ \t]+[^\s\"'\\]+"
        r"|(?:github-oauth|gitlab-token|gitlab-oauth|bitbucket-oauth|bearer)\.[^\s\"'\\]+)",
        ("composer",),
        "command line (composer config http-basic, github-oauth)",
    ),
    rule(
        "CLI_PASSWORD",
        # `bundle config [set] [--global] rubygems.pkg.github.com user:token`: a gem source's
        # credentials, named by its host.
        START + r"bundle[ \t]+config(?:[ \t]+set)?(?:[ \t]+--(?:global|local))?[ \t]+"
        r"[\w-]+(?:\.[\w-]+)+/?[ \t]+[^\s:\"'\\]+:" + password_value(),
        ("bundle",),
        vendor="command line (bundle config host user:token)",
        check=not_placeholder,
    ),
    _after(
        r"cargo[ \t]+login",
        r"(?>(?:[ \t]+--(?:registry|config)[ \t=]+[^\s\"'\\]+|[ \t]+-{1,2}[\w-]+)*)",
        ("cargo",),
        "command line (cargo login)",
    ),
    _after(
        r"poetry[ \t]+config",
        _OPTIONS + r"[ \t]+(?:http-basic\.[^\s\"'\\]+[ \t]+[^\s\"'\\]+|pypi-token\.[^\s\"'\\]+)",
        ("poetry",),
        "command line (poetry config http-basic, pypi-token)",
    ),
    _after(
        r"mc",
        r"[ \t]+(?:alias[ \t]+set|config[ \t]+host[ \t]+add)(?:[ \t]+[^\s\"'\\]+){3}",
        ("alias", "config"),
        "command line (mc alias set)",
    ),
    _after(
        r"ansible-vault[ \t]+encrypt_string",
        r"(?>(?:[ \t]+(?:--(?:vault-id|vault-password-file|name|output|encrypt-vault-id)|-n)"
        r"[ \t=]+[^\s\"'\\]+|[ \t]+-{1,2}[\w-]+)*)",
        ("encrypt_string",),
        "command line (ansible-vault encrypt_string)",
    ),
    _after(
        # `net use Z: \\server\share pw /user:bob` (or the password after `/user:bob`); `*`
        # asks for it.
        r"(?i:net)[ \t]+(?i:use)",
        # The share's backslashes doubled in JSON text that did not parse.
        r"(?:[ \t]+[A-Za-z]:)?[ \t]+\\{2,}[^\s\\]+\\+\S+(?>(?:[ \t]+/\S+)*)",
        ("net",),
        "command line (net use)",
        prompt="*",
    ),
    _after(
        # `rclone obscure pw` prints the form rclone's config stores (reversible): the
        # password is its argument (`-` reads it from the standard input).
        r"rclone[ \t]+obscure",
        r"",
        ("obscure",),
        "command line (rclone obscure)",
        prompt="-",
    ),
    _after(
        r"rclone[ \t]+config[ \t]+(?:create|update)",
        _LINE + r"[ \t](?:\w*(?:pass|key|secret|token)\w*)[ \t]*=?",
        ("rclone",),
        "command line (rclone config create … pass …)",
    ),
    rule(
        "CLI_PASSWORD",
        # `sqlplus user/pw@db`, `expdp user/pw`, `rman target sys/pw@db`: Oracle's logon.
        START
        + r"(?i:sqlplus|sqlldr|expdp|impdp|rman|dgmgrl)"
        + r"(?>(?:[ \t]+-\w+|[ \t]+(?i:target|auxiliary|catalog|userid=))*)[ \t]*"
        + r"[A-Za-z_][\w$#]*/(?P<secret>[^\s@/\"'\\]+)",
        ("sqlplus", "sqlldr", "expdp", "impdp", "rman", "dgmgrl"),
        vendor="command line (sqlplus user/password@db)",
        check=not_placeholder,
    ),
    rule(
        "CLI_PASSWORD",
        # A here-string into what reads a secret from its input: `sudo -S cmd <<< pw`,
        # `chpasswd <<< 'bob:pw'`, `gh auth login --with-token <<< token`, `wrangler secret
        # put NAME <<< value`, `vercel env add NAME env <<< value`, `docker secret create NAME -
        # <<< value`.
        START
        + r"(?:sudo(?:[ \t]+-\w+)*[ \t]+-S|chpasswd|--password-stdin|--with-token"
        + r"|secret[ \t]+(?:put|set|create)|env[ \t]+add|env:set|secrets[ \t]+(?:set|create)"
        + r"|versions[ \t]+add|store-secret|password_stdin|vncpasswd"
        # cryptsetup reads the passphrase from its input when that is no terminal.
        + r"|cryptsetup|rclone[ \t]+obscure[ \t]+-)"
        + r"[^\n|;&<]{0,200}<<<[ \t]*"
        + password_value(),
        ("<<<",),
        vendor="command line (here-string into sudo -S, chpasswd, a secret store)",
        check=not_placeholder,
    ),
    rule(
        "CLI_PASSWORD",
        # redis' AUTH, typed in `redis-cli` or sent to it: `AUTH pw`, `AUTH user pw`. The
        # password holds a digit or a sign beside letters: `AUTH header carries` is prose.
        START + r"AUTH(?:[ \t]+[^\s\"'\\]+(?=[ \t]+[^\s]))?[ \t]+" + password_value(),
        ("auth",),
        vendor="redis AUTH",
        check=lambda secret, match: (
            not_placeholder(secret, match) and not_a_word(secret.strip(",.;:!?"))
        ),
    ),
    rule(
        "LARAVEL_APP_KEY",
        # `php artisan key:generate --show` prints the key alone: `base64:` and 32 bytes.
        START + r"base64:(?P<secret>[A-Za-z0-9+/]{43}=)(?![A-Za-z0-9+/=])",
        ("base64:",),
        vendor="Laravel (APP_KEY printed alone)",
    ),
    rule(
        "PASSWORD",
        # Python's `auth=("user", "pw")`, `HTTPBasicAuth("user", "pw")`, aiohttp's
        # `BasicAuth("user", "pw")`: a quoted literal only (a variable is kept).
        r"(?:\b(?:basic_|http_)?auth[ \t]*=[ \t]*[(\[]"
        r"|\b(?:HTTPBasicAuth|HTTPDigestAuth|BasicAuth|HTTPProxyAuth)\()" + _USER_THEN_PASSWORD,
        ("auth",),
        vendor="Python (requests auth=(user, password))",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # The same two literals given to a login call: Python's `smtplib`/`ftplib`/`imaplib`
        # `.login("user", "pw")`, a test's `login("user", "pw")` or `login_as(…)`, Go's
        # `req.SetBasicAuth("user", "pw")`.
        r"(?:\.login|(?<![\w.])login(?:_as)?|"
        + at_word_start("SetBasicAuth")
        + "|"
        + at_word_start("basic_auth")
        + r")\("
        + _USER_THEN_PASSWORD,
        ("login(", "login_as(", "setbasicauth(", "basic_auth("),
        vendor="code (.login(user, password), SetBasicAuth)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # A credential object made of two literals: .NET's `new NetworkCredential("u", "pw")`,
        # Java's `new PasswordAuthentication("u", "pw".toCharArray())`, Apache HttpClient's
        # `UsernamePasswordCredentials`, AWS SDK's `BasicAWSCredentials(key, secret)`.
        # The names first: `re` looks for their first letters at C speed.
        r"(?:NetworkCredential|PasswordAuthentication|UsernamePasswordCredentials"
        + r"|BasicAWSCredentials|BasicSessionCredentials|NewStaticCredentialsProvider"
        + r"|AwsBasicCredentials\.create|PlainCredentials|Credentials\.basic)\("
        + _USER_THEN_PASSWORD,
        ("credential", "passwordauthentication", "awscredentials"),
        vendor="code (NetworkCredential, PasswordAuthentication, UsernamePasswordCredentials)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # A password by position after arguments of another kind: Go's `smtp.PlainAuth("",
        # user, pw, host)` and gomail's `NewDialer(host, 587, user, pw)`, Perl's
        # `DBI->connect(dsn, user, pw)`, Python's `FTP(host, user, pw)` and
        # `pymysql.connect(host, user, pw, db)`, a board's `WiFi.begin(ssid, pw)`.
        r"(?:PlainAuth\([ \t]*"
        + _ARG
        + r",|NewDialer\([ \t]*"
        + _ARG
        + r",[ \t]*\d{1,5}[ \t]*,"
        + r"|DBI->connect\([ \t]*"
        + _ARG
        + r",|FTP(?:_TLS)?\([ \t]*"
        + _ARG
        + r","
        + r"|(?:pymysql|MySQLdb)\.connect\([ \t]*"
        + _ARG
        + r",|WiFi\.begin\(|(?:wlan|wifi|sta_if|sta|station)\.connect\("
        # paramiko's `client.connect(hostname, 22, "root", "pw")`: a host, a port number.
        + r"|\.connect\([ \t]*[\w.\"']{1,200}+[ \t]*,[ \t]*\d{1,5}[ \t]*,"
        # Django's `create_user('bob', 'bob@acme.io', 'pw')`, `create_superuser(…)`.
        + r"|create_(?:super)?user\([ \t]*"
        + _ARG
        + r",)"
        + _USER_THEN_PASSWORD,
        (
            "plainauth(",
            "newdialer(",
            "dbi->connect(",
            "ftp(",
            "ftp_tls(",
            ".connect(",
            "wifi.begin(",
            "create_user(",
            "create_superuser(",
        ),
        vendor="code (a password by position: smtp.PlainAuth, gomail, DBI, ftplib, pymysql,"
        " paramiko, Django's create_user, Wi-Fi)",
        check=not_placeholder,
    ),
    rule(
        "SECRET",
        # Twilio's `Client('AC…', 'auth token')`: the account SID is public, the token after
        # it is the account's password.
        r"AC(?<=[\"']AC)[0-9a-f]{32}\\{0,3}[\"'][ \t]*,[ \t]*\\{0,3}[\"'](?P<secret>[0-9a-f]{32})"
        + r"\\{0,3}[\"']",
        ("ac",),
        vendor="Twilio (account SID, then auth token)",
        token=True,
    ),
    rule(
        "CLI_PASSWORD",
        # Windows' `net user bob pw /add` (`*` asks for it; `/delete` is an option).
        # Its first letter first (one test a position), then where it stands.
        letter_at_word_start("nN")
        + r"(?i:et)[ \t]+(?i:user)[ \t]+(?!/)"
        + r"[^\s\"'\\/]+[ \t]+"
        + password_value(),
        ("net",),
        vendor="Windows (net user name password)",
        check=lambda secret, match: (
            not secret.startswith(("/", "*")) and not_placeholder(secret, match)
        ),
    ),
    cli("CLI_PASSWORD", r"useradd|usermod", r"(?:-p|--password)", ("useradd", "usermod")),
    # Windows' remote runs and scheduled tasks, a package index's upload, a CI recorder.
    cli_words(
        "CLI_PASSWORD",
        ("psexec", "PsExec", "psexec64", "PsExec64", "paexec", "PAExec"),
        r"-p",
        ("psexec", "paexec"),
    ),
    cli_words("CLI_PASSWORD", ("schtasks", "SCHTASKS", "Schtasks"), r"/rp", ("/rp",)),
    cli_words(
        "CLI_PASSWORD",
        ("winrs", "WinRS", "WINRS"),
        r"-p(?:assword)?:",
        ("-p:", "-password:"),
        attached=True,
    ),
    cli_words("CLI_PASSWORD", ("hatch",), r"(?:-a|--auth)", ("-a", "--auth")),
    # The twentieth attack: admin and remote-shell tools whose `-p` is the password.
    cli_words("CLI_PASSWORD", _P_IS_PASSWORD, r"(?:-p|--password)", _P_IS_PASSWORD),
    cli(
        "CLI_PASSWORD",
        r"grafana-cli[ \t]+(?:[^\n|;&]{0,200}?[ \t])?admin",
        r"reset-admin-password",
        ("reset-admin-password",),
    ),
    cli_words(
        "CLI_PASSWORD",
        ("dotnet", "nuget", "NuGet"),
        r"(?:-k|--api-key|setapikey)",
        ("-k", "--api-key", "setapikey"),
    ),
    cli_words("CLI_PASSWORD", ("cypress",), r"--key", ("--key",)),
    cli_words("CLI_PASSWORD", ("snyk",), r"auth", ("auth",)),
    rule(
        "CLI_PASSWORD",
        # MinIO's `mc admin user add ALIAS USER SECRET`, Backblaze's `b2 account authorize
        # KEY_ID KEY` (and `b2 authorize-account`), IRC's `NickServ IDENTIFY [account] pw`.
        r"(?:(?i:mc)[ \t]+admin[ \t]+user[ \t]+add[ \t]+\S+[ \t]+\S+"
        r"|b2[ \t]+(?:account[ \t]+authorize|authorize[-_]account)[ \t]+\S+"
        r"|(?i:nickserv)[ \t]+(?i:identify)(?:[ \t]+\S+(?=[ \t]+\S))?)[ \t]+" + password_value(),
        ("admin user add", "authorize", "nickserv"),
        vendor="command line (mc admin user add, b2 account authorize, NickServ IDENTIFY)",
        check=not_placeholder,
    ),
    rule(
        "SECRET",
        # A wallet's private key imported in WIF (`bitcoin-cli importprivkey 5…`).
        r"importprivkey[ \t]+[\"']?(?P<secret>[5KLc9][1-9A-HJ-NP-Za-km-z]{50,51})" + END,
        ("importprivkey",),
        vendor="Bitcoin Core (importprivkey WIF)",
    ),
    rule(
        "PASSWORD",
        # redis-cli printing the password it was asked for (`CONFIG GET requirepass`).
        r"\d\)[ \t]+\\?\"(?:requirepass|masterauth)\\?\"[ \t]*(?:\r?\n|(?:\\r)?\\n)[ \t]*"
        r"\d\)[ \t]+\\?\"(?P<secret>[^\"\\\r\n]{1,300})\\?\"",
        ("requirepass", "masterauth"),
        vendor="redis-cli (CONFIG GET requirepass)",
        check=not_placeholder,
    ),
    rule(
        "SECRET",
        # A JWT signing secret written in the call: `jwt.sign(payload, 'secret', …)` (Node),
        # `jwt.encode(payload, "secret", algorithm=…)` (PyJWT).
        at_word_start("jwt")
        + r"\.(?:sign|encode)\([^,()\n]{1,200},[ \t]*[rbu]?"
        + r"(?P<q>\\{0,3}[\"'`])(?P<secret>[^\"'`\\\n]{4,300})\\{0,3}[\"'`]",
        ("jwt.sign(", "jwt.encode("),
        vendor="code (jwt.sign, jwt.encode with a literal secret)",
        check=not_placeholder,
    ),
    rule(
        "SECRET",
        # A Fernet key written in the code (`Fernet(b'…=')`): 32 bytes, URL-safe base64.
        at_word_start("Fernet") + r"\([ \t]*[b]?\\{0,3}[\"'](?P<secret>[A-Za-z0-9_\-]{43}=)",
        ("fernet(",),
        vendor="Python cryptography (Fernet key)",
    ),
    rule(
        "PASSWORD",
        # Oracle's JDBC logon, `jdbc:oracle:thin:user/pw@host:1521/db`.
        r"(?i:jdbc:oracle:(?:thin|oci8?)):[\w$#.]{1,64}/(?P<secret>[^\s@/\"'\\]{1,200})@",
        ("jdbc:oracle:",),
        vendor="JDBC (Oracle thin logon)",
        check=not_placeholder,
    ),
    rule(
        "PASSWORD",
        # Go's MySQL DSN: `user:pw@tcp(host:3306)/db`.
        START + r"[\w.-]{1,64}:(?P<secret>[^\s@:\"'\\/]{1,200})@(?:tcp|unix|udp)\(",
        ("@tcp(", "@unix(", "@udp("),
        vendor="Go MySQL DSN (user:password@tcp(host))",
        check=not_placeholder,
    ),
    # ---- what tools print
    rule(
        "SECRET",
        # Consul's and Nomad's ACL tokens: `SecretID: <uuid>`, `Secret ID = <uuid>`.
        at_word_start("Secret ID")
        + r"[ \t]*[:=][ \t]*(?P<secret>[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}"
        r"-[0-9a-fA-F]{12})" + END,
        ("secret",),  # not `secret id`: an anchor with a space scans the whole batch
        vendor="Nomad (ACL token Secret ID)",
    ),
    rule(
        "VAULT_UNSEAL_KEY",
        # `vault operator init`: `Unseal Key 1: <base64>` (`Recovery Key 1:` when auto-unsealed).
        r"(?=[UR])"
        + START
        + r"(?:Unseal|Recovery) Key \d{1,2}:[ \t]*(?P<secret>[A-Za-z0-9+/]{20,100}={0,2})",
        ("unseal", "recovery"),
        vendor="HashiCorp Vault (operator init)",
    ),
    _after(
        r"oathtool",
        r"(?>(?:[ \t]+-(?:[dswN][ \t]+[^\s\"'\\]+|-[\w-]+(?:=\S*)?|\w+))*)",
        ("oathtool",),
        "command line (oathtool --totp -b SECRET)",
    ),
    rule(
        "PASSWORD",
        # A setter or a builder's method named for a credential, given a literal (the last
        # of at most three): `user.set_password("…")`, `setApiKey("…")`, `keyring.set_password(
        # "svc", "bob", "…")`, testcontainers' `.withPassword("…")`, `.password("…")`.
        # The pattern starts at the credential's word before the `(`; the check reads the
        # method's whole name back from there (anchors as rare as `password(`, `key(`).
        r"(?P<word>(?i:pass(?:word|phrase|wd)|pwd|secret|token|key|credentials?))"
        r"\((?:[ \t]*[rbuf]?\\{0,3}[\"'][^\"'\\\n]{0,200}\\{0,3}[\"'][ \t]*,){0,2}[ \t]*[rbuf]?"
        r"(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\n]{1,300})\\{0,3}[\"'][ \t]*\)",
        ("password(", "passphrase(", "passwd(", "pwd(", "secret(", "token(", "key(", "credential"),
        vendor="code (set_password('…'), setApiKey, withPassword, .password('…'))",
        check=_a_setters_literal,
    ),
    # ---- the twenty-first attack: Wi-Fi passwords
    rule(
        "PASSWORD",
        # A Wi-Fi network's QR code text (`qrencode 'WIFI:S:home;T:WPA;P:…;;'`): its `P:` field,
        # `\;` `\,` `\:` and `\\` escaped inside.
        r"WIFI:(?:[A-Z]:(?:\\.|[^;\\\n]){0,200}+;){0,6}?P:(?P<secret>(?:\\.|[^;\\\n]){1,300}+);",
        ("wifi:",),
        vendor="Wi-Fi QR code (WIFI:T:WPA;S:…;P:…;;)",
        check=literal_password,
    ),
    rule(
        "PASSWORD",
        # A Windows Wi-Fi profile exported with its key in clear (`netsh wlan export profile
        # key=clear`), and what `netsh wlan show profile … key=clear` prints.
        r"<keyMaterial>(?P<secret>[^<\n]{1,300})</keyMaterial>"
        r"|(?=K)(?<![\w])Key Content[ \t]*:[ \t]*(?P<secret2>\S[^\r\n]{0,299}+)",
        ("keymaterial>", "key content"),
        vendor="Windows Wi-Fi profile (keyMaterial, Key Content)",
        # No word: `Key Content : Absent` is what netsh prints for a network without a key.
        check=lambda s, m: literal_password(s, m) and (not_a_word(s) or token_like(s)),
    ),
    rule(
        "CLI_PASSWORD",
        # macOS: `networksetup -setairportnetwork en0 <SSID> <password>`.
        r"-setairportnetwork[ \t]+\S+[ \t]+(?:\"[^\"\n]{1,100}\"|'[^'\n]{1,100}'|[^\s\"']+)[ \t]+"
        + password_value(),
        ("-setairportnetwork",),
        vendor="macOS (networksetup -setairportnetwork)",
        check=literal_password,
    ),
    # ---- the nineteenth attack: a value stored under a name given on its command line
    rule(
        "PASSWORD",
        # A store's `set NAME VALUE` (`render env set`, `travis env set`, `sst secret set`,
        # `consul kv put app/db/password …`, `etcdctl put`, `redis-cli SET`): the name's
        # words decide, its path's separators read as `_`.
        r"(?=[sekcr])"
        + START
        + r"(?:secrets?[ ](?:set|put)|env[ ](?:set|add)|kv[ ]put|config[ ]set|etcdctl[ ]put"
        r"|racadm[ ]set"
        r"|redis-cli(?>(?:[ \t]+-[a-zA-Z][ \t]+[^\s-]\S{0,200})*)[ \t]+(?i:set))"
        + _OPTIONS
        + r"[ \t]+(?P<name>[\w./:@-]{1,120}+)[ \t]+(?!-)"
        + password_value(_NO_BACKTICK),
        _STORE_WORDS,
        vendor="command line (env set NAME value, kv put PATH value)",
        check=lambda s, m: _named_value(s, m, strict=True),
    ),
    rule(
        "PASSWORD",
        # `--name API_KEY … --value …` on one command line (`eas secret:create`, a store's
        # CLI): at most six words between them.
        r"--name(?<![\w-]--name)(?:[ \t]+|=)(?P<name>[\w./:@-]{1,120}+)"
        r"(?>(?:[ \t]+(?!--value)\S+){0,6})"
        r"[ \t]+--value(?:[ \t]+|=)(?!-)" + password_value(_NO_BACKTICK),
        ("--name",),
        vendor="command line (--name NAME --value value)",
        check=lambda s, m: _named_value(s, m, strict=True),
    ),
    # ---- the eighteenth attack: passwords set in a database's or a tool's own words
    rule(
        "PASSWORD",
        # MongoDB's shell: `db.changeUserPassword("app", "…")`.
        r"changeUserPassword\(" + _USER_THEN_PASSWORD,
        ("changeuserpassword",),
        vendor="MongoDB (db.changeUserPassword)",
        check=literal_password,
    ),
    rule(
        "PASSWORD",
        # MySQL's `SET PASSWORD FOR 'app'@'%' = '…'` (`= PASSWORD('…')`: the hashing calls').
        r"(?=[sS])"
        + START
        + r"(?i:set[ \t]+password)(?:[ \t]+(?i:for)[ \t]+[^\n=;]{1,200}?)?[ \t]*=[ \t]*"
        r"(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\r\n]{1,300})\\{0,3}[\"']",
        ("set password",),
        vendor="MySQL (SET PASSWORD FOR … = '…')",
        check=literal_password,
    ),
    rule(
        "PASSWORD",
        # Redis 6's ACL: `ACL SETUSER alice on >p4ss ~* +@all` (a `#<sha256>` is its hash).
        r"(?=[aA])"
        + START
        + r"(?i:acl[ \t]+setuser)[ \t]+[^\n>]{0,300}?(?<=[ \t'\"])>(?P<secret>[^\s'\"`\\]{1,300})",
        ("setuser",),
        vendor="Redis (ACL SETUSER … >password)",
        check=literal_password,
    ),
    rule(
        "PASSWORD",
        # A digest of a literal assigned to a password's name, whatever its suffix: SQL's
        # `SET password_digest = md5('…')`, PHP's `$hash = sha1('…')` under `password`.
        r"(?=[mMsSdDhH])(?<![\w.])(?i:md5|sha1|sha2|sha256|sha512|digest|hash)\([ \t]*"
        r"(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\r\n]{3,300})\\{0,3}[\"']",
        ("md5(", "sha1(", "sha2(", "sha256(", "sha512(", "digest(", "hash("),
        vendor="SQL, PHP (password_digest = md5('…'))",
        check=_a_hashed_password,
    ),
    rule(
        "PASSWORD",
        # A password given to a digest in code (a seed script storing a user's hash):
        # Python's `hashlib.sha256(b'…')`, `hashlib.new('sha256', b'…')`, Node's
        # `createHash('sha256').update('…')`, Ruby's `Digest::SHA256.hexdigest('…')`, Commons
        # Codec's `DigestUtils.sha256Hex("…")`, Go's `sha256.Sum256([]byte("…"))`, PHP's
        # `hash('sha256', '…')` and `md5('…')`, Java's `md.digest("…".getBytes())`, .NET's
        # `ComputeHash(Encoding.UTF8.GetBytes("…"))`. Nothing names it a password, but for a
        # password's name it is assigned to: only a password-like literal is one (as what is
        # printed into `sha256sum`); under a password's name any that is no word.
        r"(?:hashlib\.(?:md5|sha1|sha224|sha256|sha384|sha512|sha3_(?:224|256|384|512)"
        r"|blake2[bs])\("
        r"|hashlib\.new\([ \t]*[\"'][\w\-]{1,20}[\"'][ \t]*,"
        r"|createHash\([ \t]*[\"'][\w\-]{1,20}[\"'][ \t]*\)\.update\("
        r"|Digest::(?:MD5|SHA1|SHA2|SHA256|SHA384|SHA512)\.(?:hex|base64)?digest\("
        r"|DigestUtils\.(?:md5|sha1|sha256|sha384|sha512)(?:Hex)?\("
        r"|(?:md5|sha1|sha256|sha512)\.Sum(?:224|256|384|512)?\([ \t]*\[\]byte\("
        r"|(?<![\w.$>:])hash\([ \t]*[\"'](?:md5|sha\w{1,10})[\"'][ \t]*,"
        r"|(?<![\w.$>:])(?:md5|sha1)\("
        r"|\.(?:update|digest)\((?=[ \t]*\"[^\"\\\n]{1,300}\"\.getBytes\()"
        r"|ComputeHash\([ \t]*Encoding\.\w{1,10}\.GetBytes\()"
        r"[ \t]*[rbu]?(?P<q>\\{0,3}[\"'])(?P<secret>[^\"'\\\r\n]{3,300})\\{0,3}[\"']",
        (
            "hashlib.",
            "createhash(",
            "digest::",
            "digestutils.",
            "sum([]byte(",
            "sum224(",
            "sum256(",
            "sum384(",
            "sum512(",
            "hash(",
            "md5(",
            "sha1(",
            "getbytes(",
        ),
        vendor="code (a password given to a digest: hashlib, createHash, Digest::SHA256)",
        check=lambda s, m: password_like_literal(s) or _a_hashed_password(s, m),
    ),
)

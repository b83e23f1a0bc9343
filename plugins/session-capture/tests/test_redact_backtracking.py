"""No built-in rule backtracks super-linearly on hostile text.

Every captured text is redacted in the capture thread, where Python's `re` cannot be
interrupted: one rule that takes minutes on some text (a fetched web page in a tool output, a
pasted log in a message) stops capture for every session. Each text below took minutes or
more before its rule was fixed (quadratic or worse: many starts scanning the same run, or two
repeats sharing the same characters) and takes a second at most now. Each runs in a subprocess, so
that a regression hangs only its own test; and the secrets each fixed rule catches are
checked next to the same hostile text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from ox_session_capture.redact import redact_text
from ox_session_capture.redact.rules_keywords import _NAME_FIRST, _NAME_GROUPED, _NAME_WORD

TIMEOUT = 60.0
"""Seconds a text may take in the subprocess (a second at most now; before the fixes,
minutes to hours): generous for a loaded CI box."""

# name: text (the comment says why it was slow)
HOSTILE = {
    # `\s*` then an optional quote then `[ \t]*`: n^2 ways to share the spaces.
    "authorization header then spaces": "Authorization:" + " " * 50_000 + "!",
    # A scheme could start after every `.` of the run and scan to its end: n^2.
    "a dotted run in a text with a URL": "see ://\n" + "a." * 250_000,
    # Every `<key ` scanned the rest of the text for its `>`: n^2.
    "unclosed XML-like tags": "<key " * 100_000,
    # Every command word times every flag in its window scanned the whole run: n^3.
    "curl-like commands and flags in one word": "http.-u." * 20_000,
    # Every `-U` scanned the rest of the word for its `%`: n^2.
    "smbclient-like flags in one word": "100% " + "-U." * 150_000,
    # `-\w*b\w*`: n^2 ways to place the `b` in a long option.
    "a long htpasswd option": "htpasswd -" + "b" * 50_000 + "!",
    # A JWT could start after every `-` and scan to the run's end for its `.`: n^2.
    "JWT-like prefixes joined by dashes": "eyJ-" * 250_000,
    # Every `sshpass` inside the options of the one before read the same options again: n^2.
    "sshpass inside sshpass options": "sshpass -" * 30_000,
    # A JSON list of strings is also read as one command line; each item then looked at every
    # secret of the whole line: n^2 in the number of secrets (not a regex, the engine).
    "a JSON list of thousands of secrets": json.dumps(["password=Hunter2pw"] * 50_000),
    # Each quoted start reads at most up to the next quote (300 characters at most).
    "quoted smbclient users": "smbclient " + "-U 'a%b " * 40_000,
    "unclosed smbclient quotes": "-U 'a%" + "b " * 100_000,
    "quoted openssl passwords": "-passin 'pass:a " * 40_000,
    "quoted curl users": "curl " + "-u 'a:b " * 40_000,
    "quoted echo passwords": "echo 'abc " * 40_000 + "| sudo -S x",
    "quoted config values": "git config --global a.password 'b " * 20_000,
    "quoted netrc passwords": "machine h password 'a " * 30_000,
    "smbclient flags and quotes in one word": "100% " + "-U'.\\\\" * 100_000,
    # The rules added since: each start reads a bounded stretch (a name, a quoted value, a
    # gap of 200 characters), never the rest of the text.
    "YAML name/value pairs without values": "- name: DB_PASSWORD\n  value: " * 40_000,
    "YAML names without a value line": "name: db_password\n" * 60_000,
    "XML key/value attributes unclosed": 'key="password" value="' * 50_000,
    "SQL password words unclosed": "password '" * 100_000,
    "gh secret set without a body": "gh secret set " * 50_000,
    "printed words piped nowhere": "echo 'abc' | " * 50_000,
    "printed words redirected to files": "echo abcdef > a" * 60_000,
    "a printed word without its end": "printf '%s' " + "a" * 200_000,
    "credential words in prose": "the password is " * 60_000,
    "credential words without a value": "token for x:" * 60_000 + "token " * 60_000,
    # URL-encoding and hex are decoded, then read by every rule: linear in what they decode.
    "URL-encoded separators": "password%3D" * 100_000,
    "URL-encoded twice, with form spaces": "%253D%2B+" * 100_000,
    "escaped runs of multi-byte characters": "%C3%A9" * 150_000 + "%F0",
    "one long hex run of text": ("password=" * 60_000).encode().hex(),
    "xxd -p lines of text": "\n".join(["70617373776f72643d" * 3 + "4142434445464748"] * 15_000),
    # The tools' password arguments (`rules_tools`): options read once, bounded gaps.
    "ssh-keygen and zip flags without values": "ssh-keygen -N " * 30_000 + "zip -P " * 30_000,
    "sqlplus options without a logon": "sqlplus" + " -s" * 150_000,
    "net use options without a password": "net use \\\\a\\b" + " /x" * 150_000,
    "sudo -S here-strings unfinished": "sudo -S x " * 30_000 + "<<<",
    "AUTH words": "AUTH a " * 100_000,
    "Python auth tuples unclosed": 'auth=("' * 100_000,
    "rclone words without a key": "rclone config create " + "a " * 150_000,
    "openssl passwd options": "openssl passwd" + " -a" * 150_000,
    "mkpasswd options": "mkpasswd" + " -m x" * 100_000,
    "mc aliases without a secret": "mc alias set a b c " * 30_000,
    "setx names without values": "setx API_KEY" * 60_000,
    "requirepass words": "requirepass " * 80_000,
    "bundle hosts without credentials": "bundle config set --global a.b.c " * 30_000,
    "dotnet user-secrets options": "dotnet user-secrets set" + " --project x" * 80_000,
    "composer options": "composer config" + " --global" * 100_000,
    "altool and lftp words": "xcrun altool " + "-u " * 100_000 + "lftp -u " * 50_000,
    "nmcli words without a password": "nmcli " + "dev " * 100_000,
    "Laravel-like keys one character short": ("base64:" + "A" * 42 + "= ") * 20_000,
    # A fourth attack's rules: labels, hashes, code calls, tools' outputs and arguments.
    "label words without a colon": "password " + "a " * 150_000,
    "labels with colons and no value": "password for x: \n" * 60_000,
    "labels over blank lines": "Password:\n\n\n" * 60_000,
    "label words then a long line": ("token " + "b" * 98 + ":") * 20_000,
    "crypt prefixes": "$6$" * 100_000 + "$2b$12$" * 50_000,
    "crypt salts without a hash": "$6$aaaaaaaa$" * 60_000,
    "argon2 parameters without a hash": "$argon2id$v=19$m=1,t=1,p=1$" * 40_000,
    "Django hasher prefixes": "pbkdf2_sha256$" * 60_000 + "pbkdf2_sha256$1$" * 50_000,
    "yescrypt dollars": "$y$" + "a$" * 200_000,
    "jwt.sign calls unclosed": "jwt.sign(" * 100_000 + "jwt.sign(a, '" * 50_000,
    "Fernet calls unclosed": "Fernet(b'" * 100_000,
    "login calls unclosed": ".login('a', " * 80_000,
    "Go DSN colons": "a:" * 150_000 + "@tcp(",
    "JDBC Oracle prefixes": "jdbc:oracle:thin:" * 60_000,
    "unseal keys without values": "Unseal Key 1: " * 60_000,
    "Secret IDs without values": "Secret ID = " * 80_000,
    "oathtool options": "oathtool" + " -d 6" * 100_000,
    "snmp commands without a community": "snmpwalk " * 100_000 + "-c",
    "pulumi --secret flags": "pulumi config set" + " --secret" * 100_000,
    "aws ssm words without a value": "aws ssm put-parameter SecureString " * 20_000,
    # A check that read the whole line around each match: quadratic on one long line (a
    # megabyte of `aws … --value …` took about 20 s, these 2.8 MB 150 s; it reads 400
    # characters either way now, 1 s).
    "aws values on one line without put-parameter": "aws x --value abcdefgh " * 120_000
    + " SecureString",
    "authorization schemes without a credential": "Authorization: " + "Abc " * 100_000,
    "authorization headers of one scheme": "Authorization: Splunk " * 60_000,
    # A fifth attack's rules (`rules_configs`).
    "PSK words without a quote": ": PSK " * 100_000,
    "stats auth without a colon": "stats auth " + "a" * 200_000,
    "preseed words without a value": "d-i a/b password " * 60_000,
    "debconf-like lines without password": "a b/c " * 150_000,
    "Password tags without a value": "<Password>" + " " * 100_000 + "<Password>" * 50_000,
    "property elements unclosed": '<property name="password">' * 50_000,
    "connect calls without literals": "mysqli_connect(a, b, " * 50_000,
    "expect prompts without a send": 'expect "password:"\n' * 50_000,
    "URL users without a host": "https://" + "a" * 150 + "@" * 1 + "https://a" * 60_000,
    # A sixth attack's rules: keys of their own shape, labels in other languages. A label's
    # value once gave back up to 200 characters at each of 100,000 starts (9 s), and its
    # words before the colon were tried one by one (lazy): both read once now.
    "JWK members without values near kty": "kty " + '"d": "' * 100_000,
    "JWK members of short values": "kty " + '"d": "abc", ' * 80_000,
    "mnemonic words forever": "mnemonic: " + "abcd " * 150_000,
    "mnemonic names without words": "mnemonic: " * 100_000,
    "wallet calls unclosed": "Wallet('0x" * 100_000,
    "labels in other languages": "Пароль " * 100_000 + "密码：" * 100_000,
    "password words": "password " * 110_000,
    # A seventh attack's rules: a terminal's text, protocol sessions, tools' arguments.
    "prompts without a newline": "$ " * 300_000,
    "prompts of long lines": ("$ " + "a " * 200 + "\n") * 2_500,
    "comments over code": "# cat /run/secrets/db_password\nx = 1\n" * 25_000,
    "bracket prompts on one line": "[a@b c]# " * 100_000,
    "secret prints, one output line each": "$ pass show a\nb\n" * 60_000,
    "outputs that never end": "$ pass show a\n" + "b\n" * 400_000,
    "sed substitutions unclosed": "sed -i 's/CHANGEME/" * 50_000,
    "sed with no script": "sed " * 200_000,
    "chpasswd lists without list": "chpasswd:\n" + "  x: y\n" * 100_000,
    "openvpn keys unclosed": "-----BEGIN OpenVPN Static key V1-----\n" * 20_000,
    "identified by without a statement": "identified by abcd; " * 50_000,
    "imap logins without a password": "a1 LOGIN " * 100_000,
    "PASS words": "PASS " * 200_000,
    "app passwords of 15 letters": "password " + "abcdefghijklmno " * 60_000,
    "pins without digits": "SIM_PIN=" * 100_000,
    "pairs without a password": "creds are admin / " * 50_000,
    "connections with DNs unclosed": "Connection(a, 'cn=" * 50_000,
    "mosquitto_passwd without -b": "mosquitto_passwd " * 60_000,
    "drush options forever": "drush" + " -y" * 300_000,
    # An eighth attack's rules and tables.
    "MySQL hashes one short": "*" + "A" * 39 + " " + ("*" + "B" * 39 + " ") * 25_000,
    "md5 words": "md5" * 300_000,
    "SCRAM prefixes": "SCRAM-SHA-256$4096:" * 50_000,
    "LDAP schemes without a hash": "{SSHA}" * 150_000,
    "hash pairs without colons after": ("a" * 32 + ":" + "b" * 32 + "::") * 15_000,
    "credential objects unclosed": 'new NetworkCredential("bob", ' * 30_000,
    "Twilio SIDs without a token": "'AC" + "a" * 32 + "', " * 30_000,
    "net user without a password": "net user " * 100_000,
    "Net::SMTP calls unclosed": "Net::SMTP.start(a, " * 50_000,
    "tables of one column": "password\n" * 100_000,
    "credential words, one a line": "key\n" * 250_000,
    "a key-value table of a megabyte": "password\tHunter2pw!\n" * 60_000,
    "table rows of credential names": "password, token, secret\n" * 40_000,
    "wide spaces after credential words": "password  " * 100_000,
    "x escapes of a megabyte": "\\x41" * 250_000,
    "gzip heads that do not inflate": "H4sIAAAAAAAAA0tMTEpOSU1L " * 40_000,
    "x escapes cut short": "\\x4" * 300_000,
    "x escapes of text, one short of a run": ("\\x41" * 7 + " ") * 30_000,
    # Dumps are read line by line from each offset 0: one pass over the text.
    "offsets 0 without a dump": "0000000 " * 150_000,
    "one long od-like line": "0000000" + "   a" * 250_000,
    "xxd-like lines without their text column": "00000000: 4142 " * 100_000,
    "a dump of a megabyte": "".join(
        f"{o:08x}: 4142 4344 4546 4748 494a 4b4c 4d4e 4f50  ABCDEFGHIJKLMNOP\n"
        for o in range(0, 1 << 20, 16)
    ),
    # Code where a name and its value stand apart: each joint is a literal, the name read back
    # on a bounded part of the line.
    "typed declarations without a value": "apiKey: string = " * 60_000,
    "a long name before a type": "a" * 500_000 + ": str = 'x'",
    "fallbacks without a value": "process.env.API_KEY || " * 40_000,
    "defaults of one line": "config('API_KEY', default=" * 30_000,
    "bold labels never closed": "**API key" * 100_000,
    "bold labels without a value": "**Password:** " * 60_000,
    "setters without a value": "set -gx DB_PASSWORD " * 40_000,
    "signing calls without a key": "createHmac('sha256', " * 40_000,
    "hook paths": "/hooks/" * 100_000 + "a" * 26,
    # Formats without an operator: each begins with its literal, reads a bounded gap.
    "device keys without a value": "snmp-server community " * 40_000,
    "config names without a line end": "auth_pass x" * 80_000,
    "plist keys without a string": "<key>password</key>\n" * 50_000,
    "settings without a value": '<setting name="ApiKey">' + " " * 100_000,
    "block scalars without a value": "password: |\n" * 60_000,
    "argument lists without a value": "- --password\n" * 60_000,
    "odbc braces never closed": "PWD={" + "x" * 500_000,
    "reg values without data": "/v ApiToken /t REG_SZ " * 40_000,
    "redis replies without a value": '1) "requirepass"\n' * 50_000,
    # The tenth attack's rules: each begins with its literal and reads a bounded gap.
    "cookie lists without a long value": "--cookie " + "a=b;" * 120_000,
    "byte arrays of 63 bytes": "solana keypair " + "[" + "1," * 63 + "x]" * 20_000,
    "a long byte array": "secret_key [" + "255, " * 200_000,
    "base64 lines without an END": "private key-----\n" + ("A" * 63 + "\n") * 100_000,
    "base64 lines, END far after": ("B" * 40 + "\n") * 50_000 + "x\n-----END PRIVATE KEY-----",
    "key bodies one after another": "MHcCAQEEI" * 100_000,
    "headings without a code block": "# API key\n\n" * 50_000,
    "userlist pairs without a value": '\n"app" "' * 80_000,
    "auth calls without a password": ".auth('bob', " * 50_000,
    "bundler names without a value": "BUNDLE_A__" * 80_000,
    "pydantic values at the first line": "input_value='x'" * 60_000,
    "sasl maps without a password": "[smtp.x]:587 " * 60_000,
    "prose names before arrows": "token for a b -> " * 40_000,
    "box tables of one column": "│ password │\n" * 50_000,
    # A table's rule line read with a repeat around `-{3,}`: n^2 on a line of dashes.
    "a table's header, then a line of dashes": "| password | x |\n" + "-" * 200_000 + "x",
    "prompts without an answer": "value of DB_PASSWORD? " * 50_000,
    "process substitutions without a flag": "<(echo x" * 80_000,
    # The eleventh attack's rules: a verb, a few words, a name, `to`; a value, `as`, a name.
    "set verbs without a name": "set the " * 80_000,
    "set verbs and names without `to`": "set the admin password " * 40_000,
    "changes from a value never followed by `to`": "changed password from x " * 40_000,
    "a long run where a name would stand": "set " + "password" * 100_000 + " to",
    "use without `as`": "use x " * 100_000,
    "use and values without a name": "use Tm4#kQ8w! as the a b " * 30_000,
    "names and words without an arrow": "secret a b c " * 60_000,
    "password resets without a new value": "password reset\n" * 60_000,
    "label words before a colon, strong values": "password is: Tm4#kQ8w " * 40_000,
    "names and words without a verb": "password a b c d " * 50_000,
    "names and commas without a value": "password, " * 100_000,
    "announcements without a token": "token created!\n" * 60_000,
    "set a name for whom without `to`": "set the password for the a b c " * 30_000,
    "log in without a pair": "log in with " * 80_000,
    "administrators without a password": "admin / " * 80_000,
    "k3s prefixes without a hash": "K10" + "a" * 63 + "::" * 20_000,
    "ldappasswd flags without a value": "ldappasswd " + "-s " * 100_000,
    # The twelfth attack's rules: a name, words, `new one`; a name, seven plain words, a verb.
    "names never followed by the new one": "the secret; the new " * 50_000,
    "names and the new one without a value": "password new one is " * 50_000,
    "names and seven words without a verb": "password a b c d e f g " * 40_000,
    "names and plain words without end": "token " + "word " * 200_000,
    "passwords that stay without a value": "password stays " * 60_000,
    "printed values into no encoder": "echo -n 'Tm4#kQ8w!zR2' | " * 40_000,
    "htpasswd flags without -i": "| htpasswd " + "-c " * 100_000,
    "htpasswd and long arguments": "echo x | htpasswd " + "a" * 300_000,
    "recovery code labels without a colon": "recovery codes " * 60_000,
    "recovery codes that never end": "recovery codes: " + "1234-5678, " * 60_000,
    "a list of bullets without codes": "backup codes:\n" + "1. \n" * 80_000,
    "codes glued into one word": "recovery codes: " + "1a2b" * 100_000,
    "emails and slashes without a password": "a@b.io / " * 80_000,
    "one long domain": "@" + "a." * 200_000 + "io / x",
    "at signs without a domain": "@" * 300_000,
    # The thirteenth attack's rules: YAML properties, `&` in bare values, string prefixes,
    # defaults, a user and its password, the value first.
    "yaml anchors without a value": "password: " + "&a " * 100_000,
    "yaml tags and anchors repeated": "password: !!str &a !!binary &b " * 30_000,
    "ampersands in a bare value": "password=" + "&" * 300_000,
    "ampersands before names": "password=a" + "&b" * 150_000,
    "string prefixes without a quote": "password = " + "rb" * 150_000,
    "triple quotes never closed": 'password = """' + '"' * 300_000,
    "shell defaults never closed": "${PASSWORD:-" + "a" * 300_000,
    "shell defaults repeated": "${PW-" * 60_000,
    "or without a quoted value": 'os.getenv("PASSWORD") or ' * 40_000,
    "users and commas without a label": "user bob, " * 80_000,
    "users and labels without a value": "user bob, pass " * 60_000,
    "log in with users and no password": "log in as bob with " * 60_000,
    "values and verbs without a name": "Tm4#kQ8w!zR2 is the " * 50_000,
    "long words before a name": "a" * 300_000 + " is the password",
    "values and many words": "Tm4#kQ8w!zR2 is the " + "a " * 100_000 + "password",
    "two-factor seeds never long enough": "2FA seed is " + "abcd " * 80_000,
    "two-factor names without a value": "totp secret: " * 60_000,
    "credentials labels without a slash": "credentials for x: bob " * 40_000,
    "backticks around names without to": "set `password` " * 50_000,
    "where a name is kept without to": "set the password in a b c " * 40_000,
    "django prefixes repeated": "django-insecure-" * 30_000,
    "a session cookie of signs": "PHPSESSID=" + "%" * 300_000,
    "session cookie names without a value": "_a_session=" * 50_000,
    "terraform variables never closed": 'variable "password" {' + " x" * 150_000,
    "cloudformation keys without a default": "password:\n" + "  Type: String\n" * 40_000,
    "dockerfile env without a value": "ENV PASSWORD " * 50_000,
    "names and values never paired": '"name": "password", ' * 40_000,
    "old and new without a value": "token old= new= " * 50_000,
    "key emojis without a value": "🔑 a: " * 60_000,
    "sign in at places without a user": "sign in at x " * 50_000,
    "hashing calls without a literal": "bcrypt.hashpw(" * 50_000,
    "crypt calls never salted": "crypt('" + "a" * 200 + "', " * 30_000,
    "create_user calls without a password": "create_user('a', " * 40_000,
    "password selectors never filled": "password " * 60_000 + ".fill(x)",
    "fill calls without a password field": ".fill('#email', " * 40_000,
    "user events without a value": "userEvent.type(password " * 30_000,
    "getters without a return": "def password(" * 40_000,
    "getters with long arguments": "def password(" + "a" * 300_000,
    # The SQL reader (`redact.sql`) is no regex: a statement that does not close must end
    # the reading, not have each later statement read the rest of the text again.
    "inserts never closed": "insert into t (password) values (" * 40_000,
    "inserts with unclosed strings": "insert into t (password) values ('" * 40_000,
    "rows never ending": "insert into t (password) values " + "('Pw7abc', 'x')," * 50_000,
    "comments in rows, no escaped newline": "insert into t (password) values ('a',\n"
    + "--a\n" * 100_000,
    "tables of many columns never closed": "create table t (" + "password text, " * 50_000,
    "placeholders then open arguments": 'insert into t (password) values (?)", (' * 40_000,
    "copy rows never ending": "COPY t (password) FROM stdin;\n" + "a\n" * 200_000,
    "escaped quotes in rows": 'insert into t (password) values (\\"' * 40_000,
    "set password never assigned": "set password for " + "a" * 300_000,
    "acl setuser without a password": "ACL SETUSER a on " * 40_000,
    "digests without a name": "md5('a1b2c3d4'), " * 40_000,
    "passwords typed once": "printf 'Pw7abc\\nPw8abc' | " * 30_000,
    "here-strings never doubled": "passwd <<< $'" + "a" * 300_000,
    "echoes never closed": "(echo 'pw'; echo " * 40_000,
    "stores set without a value": "env set a " * 50_000,
    "redis options without a command": "redis-cli -a x " * 40_000,
    "names never given a value": "--name a b c " * 40_000,
    "property names then spaces": "<name>password</name>" + " " * 300_000,
    "property names repeated": "<name>a.password</name><value>" * 40_000,
    "setters never closed": 'set_password("a", ' * 40_000,
    "setters of long arguments": 'setPassword("' + "a" * 300_000,
    "admin tools without a password": "rabbitmqadmin -u a " * 40_000,
    "wifi codes without a password": "WIFI:S:a;" * 50_000,
    "key contents then spaces": "Key Content" + " " * 300_000,
    "airport networks without a password": "-setairportnetwork a " * 40_000,
    "passwords of another language never quoted": "пароль = " * 40_000,
    "a password of another language never closed": "ПАРОЛЬ = '" + "a" * 300_000,
    "password keys of another script": '{"пароль": "' * 40_000,
    "token names of another script never quoted": "токен = клé_api = " * 20_000,
    "transliterated names never assigned": "mat_khau kata_sandi mima " * 20_000,
    "queries of calls never closed": "INSERT INTO t (password) SELECT f(" * 40_000,
    "queries whose rows never end": "INSERT INTO t (a, password) SELECT 'x', " * 40_000,
    "unions of queries without a password": "INSERT INTO t (a, password) SELECT 1 UNION ALL SELECT "
    * 30_000,
    "rar flags without a password": "rar a -hp" * 100_000,
    "openvpn credentials never closed": "--auth-user-pass <(printf 'a\\n" * 40_000,
    "here-strings without a value": "base64 <<< " * 60_000,
    "encoders fed words": "echo -n abc | base64 " * 40_000,
    "hashers given second a long first argument": "hashlib.pbkdf2_hmac(" + "a" * 300_000,
    "identity calls never closed": "userManager.CreateAsync(new X { A = (" * 30_000,
    "plain schemes without a password": "{PLAIN}" * 100_000,
    "sudo -S without its input": "sudo -S " * 100_000,
    "sudo -S lists without their input": "['sudo', '-S', " * 60_000,
    "password checks never closed": "verify_password('" * 60_000,
    "password checks given second after a long argument": "check_password_hash(" + "a" * 300_000,
    "HMAC keys after a long argument": "hash_hmac('sha256', " + "a" * 300_000,
    "digests of literals never closed": "hashlib.sha256(b'" * 60_000,
    "Java digests of strings never closed": '.digest("' + "a" * 299 + '"' * 3_000,
    "rows of accounts never closed": "INSERT INTO users VALUES (1, 'a" * 40_000,
    "rows of accounts without a password": "INSERT INTO users VALUES " + "(1, 'ab', 2), " * 60_000,
    "expect branches never closed": '"password:" { send "' * 50_000,
    "expect prompts without a branch": '"password:" ' * 80_000,
    "list words after a seed phrase's name": "seed phrase: " + "abandon " * 100_000,
    "numbered words that never check": "recovery phrase: "
    + "".join(f"{n % 24 + 1}. zoo " for n in range(80_000)),
    "quoted runs of words never closed": "'" + "abc " * 200_000,
    "runs of eleven words": ("wallet " + "abc " * 11 + ". ") * 15_000,
    # Each bare passphrase looked back for its line's start: to the text's, n^2.
    "passphrases of YAML keys on one line": "x password: the horse battery staple " * 30_000,
    "passphrases after escaped newlines": "\\n  password: the horse battery staple" * 30_000,
    "a password then endless words": "password: correct" + " horse" * 100_000,
}


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_text_is_redacted_in_linear_time(name: str) -> None:
    code = "import sys\nfrom ox_session_capture.redact import redact_text\n"
    code += "redact_text(sys.stdin.read())\n"
    subprocess.run(
        [sys.executable, "-c", code],
        input=HOSTILE[name],
        text=True,
        encoding="utf-8",
        timeout=TIMEOUT,
        check=True,
    )


# ---------------------------------------------------------------- the fixed rules still catch


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer Zq8xWv3kLm9Tq2Rs7Yu4", "Zq8xWv3kLm9Tq2Rs7Yu4"),
        ("Authorization:    \t  Token Zq8xWv3kLm9Tq2Rs", "Zq8xWv3kLm9Tq2Rs"),
        ('"Authorization":   "  Bearer Zq8xWv3kLm9Tq2Rs7Yu4"', "Zq8xWv3kLm9Tq2Rs7Yu4"),
        ("authorization=\n   Zq8xWv3kLm9Tq2Rs", "Zq8xWv3kLm9Tq2Rs"),
        ('Authorization: \\"Bearer Zq8xWv3kLm9Tq2Rs7Yu4\\"', "Zq8xWv3kLm9Tq2Rs7Yu4"),
    ],
)
def test_authorization_headers_are_still_redacted(text: str, secret: str) -> None:
    out = redact_text(text)
    assert secret not in out
    assert "[REDACTED_AUTH_HEADER]" in out
    assert secret not in redact_text(text + " " * 5_000 + "!")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://app:Hunter2pw@db:5432/x",
        "git+https://bot:Hunter2pw@git.example.com/r.git",
        "x.y-z+w://app:Hunter2pw@host",
        "1.postgres://app:Hunter2pw@host",  # the scheme starts at its first letter
        "--url=redis://:Hunter2pw@cache:6379",
        "\\npostgres://app:Hunter2pw@db",
        "a." * 2_000 + "postgres://app:Hunter2pw@db",
    ],
)
def test_url_credentials_are_still_redacted(url: str) -> None:
    for text in (url, f"see {url} now", "a." * 3_000 + " " + url):
        out = redact_text(text)
        assert "Hunter2pw" not in out
        assert "[REDACTED_URL_CREDENTIALS]" in out


def test_a_url_needs_a_letter_where_a_word_starts() -> None:
    # As before: no scheme starts inside a word (`1abc`), so nothing here is a URL's user-info.
    assert redact_text("1abc://app:Hunter2pw@host") == "1abc://app:Hunter2pw@host"


@pytest.mark.parametrize(
    "text",
    [
        "<password>Hunter2pw!</password>",
        '<password encrypted="false">Hunter2pw!</password>',
        "<server><id>x</id><password>Hunter2pw!</password></server>",
        "<ClientSecret\tv='1'>Hunter2pw!</ClientSecret>",
    ],
)
def test_xml_passwords_are_still_redacted(text: str) -> None:
    for variant in (text, "<key " * 2_000 + "> " + text, text + " " + "<key " * 2_000):
        out = redact_text(variant)
        assert "Hunter2pw!" not in out
        assert "[REDACTED_PASSWORD]" in out


def test_an_unclosed_tag_is_not_a_secret() -> None:
    text = "<password " + "x" * 50 + " and more text"
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "curl -u admin:Hunter2pw https://x",
        "curl -s -H 'Accept: a' --user 'admin:Hunter2pw' https://x",
        "http -a admin:Hunter2pw GET x",
        "wget --proxy-user=me:Hunter2pw x",
        "curl -u a.-u.b:Hunter2pw https://x",  # a flag inside the user: the same password
        "curl " + "-v " * 90 + "-u admin:Hunter2pw x",  # 275 characters after the command
    ],
)
def test_curl_credentials_are_still_redacted(text: str) -> None:
    for variant in (text, "http.-u." * 500 + " " + text, text + " " + "http.-u." * 500):
        out = redact_text(variant)
        assert "Hunter2pw" not in out
        assert "[REDACTED_CLI_PASSWORD]" in out


@pytest.mark.parametrize(
    "text",
    [
        "curl " + "-v " * 110 + "-u admin:Hunter2pw x",  # 335 characters after the command
        "curl x; other -u admin:Hunter2pw",  # another command
        "curl x\nother -u admin:Hunter2pw",
        "curly -u admin:Hunter2pw",
        "other -u admin:Hunter2pw",
    ],
)
def test_a_curl_flag_counts_only_near_its_command(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "smbclient //srv/share -U alice%Hunter2pw",
        "smbclient //srv/share --user=alice%Hunter2pw",
        "rpcclient -U 'alice%Hunter2pw' srv",
        "smbclient -U a.-U.b%Hunter2pw",  # a flag inside the user: the same password
        "smbclient --user=%Hunter2pw //srv/x",  # read as `--user` and the user `=`
    ],
)
def test_smbclient_passwords_are_still_redacted(text: str) -> None:
    for variant in (text, "-U." * 3_000 + " " + text, text + " " + "-U." * 3_000):
        out = redact_text(variant)
        assert "Hunter2pw" not in out
        assert "[REDACTED_CLI_PASSWORD]" in out


@pytest.mark.parametrize(
    "text",
    [
        "htpasswd -b .htpasswd alice Hunter2pw",
        "htpasswd -cbB /etc/nginx/.htpasswd alice Hunter2pw",
        "htpasswd -Bb users alice Hunter2pw",
        "htpasswd -" + "B" * 3_000 + "b users alice Hunter2pw",
    ],
)
def test_htpasswd_passwords_are_still_redacted(text: str) -> None:
    out = redact_text(text)
    assert "Hunter2pw" not in out
    assert "[REDACTED_CLI_PASSWORD]" in out


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.mark.parametrize(
    "text",
    [
        JWT,
        f"token={JWT}",
        f"x-{JWT}",  # starts after a dash
        "eyJ-" * 3_000 + JWT,  # the same run: the JWT starts at its last prefix
        "eyJ-" * 3_000 + " " + JWT,
        JWT + " " + "eyJ-" * 3_000,
    ],
)
def test_jwts_are_still_redacted(text: str) -> None:
    out = redact_text(text)
    assert "dozjgNryP4J3jVmNHl0w5N" not in out
    assert "[REDACTED_JWT]" in out


@pytest.mark.parametrize(
    "text",
    [
        "sshpass -p Hunter2pw ssh deploy@host",
        "sshpass -o StrictHostKeyChecking=no -e -p Hunter2pw ssh deploy@host",
        "sshpass -a.sshpass -p Hunter2pw ssh host",
        "sshpass -o a b.sshpass -p Hunter2pw ssh host",  # the second one after the options
    ],
)
def test_sshpass_passwords_are_still_redacted(text: str) -> None:
    for variant in (text, "sshpass -" * 2_000 + " " + text, text + " " + "sshpass -" * 2_000):
        out = redact_text(variant)
        assert "Hunter2pw" not in out
        assert "[REDACTED_CLI_PASSWORD]" in out


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        ("mysql -h db -u root", "-p"),
        ("mariadb-dump db", "-p"),
        ("login -u me", "-p "),
        ("redis-cli -h cache", "-a "),
        ("mongosh --host db -u me", "-p "),
        ("ldapsearch -x -D cn=admin", "-w "),
        ("sqlcmd -S srv -U sa", "-P "),
    ],
)
def test_password_flags_count_within_their_command_line(command: str, flag: str) -> None:
    near = f"{command} {'-v ' * 85}{flag}Hunter2pw"
    assert "Hunter2pw" not in redact_text(near)
    assert "Hunter2pw" not in redact_text("x.-p " * 2_000 + "\n" + near)
    far = f"{command} {'-v ' * 105}{flag}Hunter2pw"  # more than 300 characters after it
    for text in (far, f"{command}; echo {flag}Hunter2pw", f"{command}\nls {flag}Hunter2pw"):
        assert redact_text(text) == text


def test_the_name_words_grouped_by_first_letter_are_the_same_words() -> None:
    # `_NAME_GROUPED` spells each first letter as a class (one step for `re`): it must match
    # what the case-insensitive words match, `ſ` and the Kelvin sign included.
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    words = _NAME_WORD[3:-1].split("|")
    firsts = set(re.findall(_NAME_FIRST, every))
    assert firsts == set(re.findall("(?i:[" + "".join({w[0] for w in words}) + "])", every))
    grouped = re.compile(_NAME_GROUPED)
    # A first letter swapped may spell another word (`heslo` → `Geslo`, which is `geslo`).
    alternation = re.compile("(?i:" + "|".join(words) + ")")
    for word in words:
        for first in firsts:
            candidate = first + word[1:]
            expected = alternation.fullmatch(candidate) is not None
            assert (grouped.fullmatch(candidate) is not None) == expected, candidate


@pytest.mark.parametrize(
    "items",
    [
        ["password=Hunter2pw"] * 3,
        ["curl", "-u", "admin:Hunter2pw", "https://x"],
        ["sshpass", "-p", "Hunter2pw", "ssh", "host"],
        ["x"] * 1_000 + ["mysql", "-u", "root", "-pHunter2pw"] + ["y"] * 1_000,
        ["-----BEGIN", "PRIVATE", "KEY-----", "Hunter2pw", "-----END", "PRIVATE", "KEY-----"],
        ["", "--password", "Hunter2pw", ""],
    ],
)
def test_an_argv_list_still_loses_each_secret(items: list[str]) -> None:
    out = redact_text(json.dumps(items))
    assert "Hunter2pw" not in out
    assert len(json.loads(out)) == len(items)

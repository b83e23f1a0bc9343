"""The shapes of the thirteenth attack on redaction (each leaked, whole or in part, before its
rule): a YAML node's anchor or tag before the value (`password: &db …`, `!!str` with an `&`
inside the value, `!!binary` base64 on the line or in a block); a string literal's prefix or
triple quote (`b"…"`, `r'…'`, `\"\"\"…\"\"\"`); a literal default after a lookup (Python's `or`,
Ruby's `||=`, the shell's `${NAME:=…}`, `${NAME-…}`); cryptsetup and `rclone obscure` fed a
passphrase; ncftp's and `poetry publish`'s `-p`, paramiko's `connect(host, port, user, pw)`;
a user and its password in prose (`user bob, pass …`, `log in with bob and …`); the value
first, then the credential it is (`… is the admin password`); a credentials label before a
user and a password (`Login: bob / …`); letters and digits after a dash after a password's
name; a name in backticks, or where it is kept, before `to`; a two-factor seed in base32;
Django's `django-insecure-` key; a session cookie by its framework's name; a declared default
(Terraform, CloudFormation), the Dockerfile's `ENV NAME value`, a name and its value on one
line (`{"name": …, "value": …}` that did not parse, a YAML flow mapping, the AWS CLI's
shorthand), CloudFormation's and Elastic Beanstalk's pairs in JSON, `bindpw`. And the same
forms holding no secret (kept)."""

from __future__ import annotations

import base64

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tm4#kQ8w!zR2"
MIXED = "Tr0ub4dor3xyz"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"
B64 = base64.b64encode(MIXED.encode()).decode()
DJANGO = "django-insecure-8f#k2m!x9q@z3w$e7r^t5y&u1i*o0p(l)abcdefgh12k9xq2lm7zp"

LEAKED = [
    # a YAML node's anchor or tag before the value
    (f"password: &db {MIXED}", MIXED),
    (f'password: &dbpass "{MIXED}"', MIXED),
    ("password: !!str Tr0ub4dor&3xyz", "&3xyz"),
    ("password: &pw Tr0ub4dor&3xyz", "&3xyz"),
    (f"password: !!str &a {MIXED}", MIXED),
    (f"password: !!binary {B64}", B64),
    (f"db_password: !!binary |\n  {B64}", B64),
    # a string literal's prefix or triple quote
    (f'password = b"{MIXED}"', MIXED),
    (f"password = r'{MIXED}'", MIXED),
    (f'password = """{MIXED}"""', MIXED),
    (f"token = rb'{K}'", K),
    (f'let password: &str = "{MIXED}";', MIXED),
    # a literal default after a lookup
    (f'password = os.environ.get("DB_PASSWORD") or "{MIXED}"', MIXED),
    (f"api_key = os.getenv('API_KEY') or '{K}'", K),
    (f"config.password ||= '{MIXED}'", MIXED),
    (f'options.apiKey ??= "{K}"', K),
    (f'DB_PASSWORD="${{DB_PASSWORD:={MIXED}}}"', MIXED),
    (f': "${{API_TOKEN:={K}}}"', K),
    ("echo ${PW-hunter2pw}", "hunter2pw"),
    # cryptsetup and rclone obscure fed a passphrase
    (f"cryptsetup luksOpen /dev/sdb1 data <<< {MIXED}", MIXED),
    (f'cryptsetup open /dev/sdb1 data --key-file=- <<< "{MIXED}"', MIXED),
    (f'echo -n "{MIXED}" | cryptsetup luksFormat /dev/sdb1 -', MIXED),
    (f"rclone obscure {MIXED}", MIXED),
    (f"echo {MIXED} | rclone obscure -", MIXED),
    # ncftp's and poetry publish's -p, paramiko's password by position
    (f"ncftp -u admin -p {MIXED} ftp.acme.io", MIXED),
    (f"ncftpput -u bot -p {MIXED} ftp.acme.io /up file.txt", MIXED),
    (f"poetry publish -u bot -p {MIXED}", MIXED),
    (f'ssh.connect(hostname, 22, "root", "{MIXED}")', MIXED),
    (f"client.connect(\"10.0.0.5\", 2222, 'deploy', '{MIXED}')", MIXED),
    # a user and its password in prose
    (f"user admin, pass {PW}", PW),
    (f"user admin, pass {MIXED}", MIXED),
    (f"username: bob; pw: {MIXED}", MIXED),
    (f"You can log in with admin and {PW}.", PW),
    (f"log in as root with {MIXED}", MIXED),
    (f"Signed in using `deploy` / `{MIXED}`", MIXED),
    (f"Credentials for the staging DB: app / {MIXED}", MIXED),
    ("Login: bob / Tr0ub4dor&3xyz", "Tr0ub4dor&3xyz"),
    # a dash after a password's name, a name in backticks, where it is kept
    (f"* Password — {MIXED}", MIXED),
    (f"password -> {MIXED}", MIXED),
    (f"I've set `ADMIN_PASSWORD` to `{MIXED}` in the .env file.", MIXED),
    (f"I updated the API key in config.yaml to {K}.", K),
    # a two-factor seed in base32
    ("The 2FA seed is JBSWY3DPEHPK3PXPJBSWY3DP", "JBSWY3DPEHPK3PXPJBSWY3DP"),
    ("MFA secret: jbsw y3dp ehpk 3pxp jbsw y3dp", "jbsw y3dp ehpk 3pxp"),
    ("use The 2FA seed is JBSWY3DPEHPK3PXPJBSWY3DP please", "JBSWY3DPEHPK3PXPJBSWY3DP"),
    # Django's startproject key (its signs end any name: value reading), session cookies
    (f"Generated a new Django SECRET_KEY: {DJANGO}", DJANGO),
    (f"SECRET_KEY = '{DJANGO}'", DJANGO),
    (f"connect.sid=s%3A{K}.abcDEF123", K),
    (f"_session_id={K}", K),
    ("PHPSESSID=k9xq2lm7zp4rt8vw1yz3bc6df0", "k9xq2lm7zp4rt8vw1yz3bc6df0"),
    (f"_myapp_session={K}", K),
    ("JSESSIONID=8A2F3C4D5E6F7A8B9C0D1E2F3A4B5C6D", "8A2F3C4D5E6F7A8B9C0D1E2F3A4B5C6D"),
    # a declared default, the Dockerfile's older ENV, a name and its value on one line
    (f'variable "db_password" {{\n  default = "{MIXED}"\n}}', MIXED),
    (
        f"Parameters:\n  DBPassword:\n    Type: String\n    NoEcho: true\n    Default: {MIXED}",
        MIXED,
    ),
    (f"ENV DB_PASSWORD {MIXED}", MIXED),
    (f"FROM python:3.12\nENV API_TOKEN {K}", K),
    (f'"environment": [{{"name": "DB_PASSWORD", "value": "{MIXED}"}}]', MIXED),
    (f'- {{ name: DB_PASSWORD, value: "{MIXED}" }}', MIXED),
    (
        f"aws cloudformation create-stack --parameters ParameterKey=DBPassword,"
        f"ParameterValue={MIXED}",
        MIXED,
    ),
    (f'{{"ParameterKey": "DBPassword", "ParameterValue": "{MIXED}"}}', MIXED),
    (f'{{"OptionName": "DB_PASSWORD", "Value": "{MIXED}"}}', MIXED),
    (f"bindpw {MIXED}", MIXED),
    (f"bind_pw = {MIXED}", MIXED),
    # the value first, then the credential it is
    (f"{PW} is the admin password.", PW),
    (f"`{PW}` is the new root password.", PW),
    (f"{K} is the API token for staging", K),
    (f"({PW} was the old password)", PW),
]

KEPT = [
    "fn check(password: &str) -> bool {",
    "icon: !!binary |\n  R0lGODlhDAAMAIQAAP//9/X17unp5WZmZgAAAOfn515eXvPz7Y6OjuDg4J+fn5",
    "https://x.io/login?password=&next=/home",
    "password = u''",
    'x = a or "default value"',
    'name = os.environ.get("USER") or "nobody"',
    "${HOME:-/root}",
    "${PASSWORD_FILE:-/run/secrets/pw}",
    "${DB_PASSWORD:-}",
    "Run rclone obscure and paste the result.",
    "rclone obscure -",
    "cryptsetup luksDump /dev/sdb1",
    "echo YES | cryptsetup luksFormat /dev/sdb1",
    'sock.connect(("localhost", 8080))',
    "poetry publish --build -r acme",
    "poetry publish -p",
    "user admin, pass the test suite again",
    "Make sure the user passes, pass it along",
    "Log in with GitHub and authorize the app.",
    "log in with admin and the password from the vault",
    "sign in with SSO and MFA2FA enabled",
    "Argon2id is the password hashing algorithm we use.",
    "OPENAI_API_KEY is the token name",
    "bcrypt is the password hash",
    "The value in the vault is the password.",
    "config.API_KEY is the API key",
    "Account: bob / settings",
    "Login page: /login / /signup",
    "credentials: see vault / 1Password",
    "set the token in the header to expire after an hour",
    "password -> sha256 hash",
    "the password — v2 format",
    "the token -> refresh flow and password — reset2024 page",
    "the OTP key is free from this test",
    "2FA key: ABCDEFGHABCDEFGH",
    "session.cookie_name = PHPSESSID",
    "PHPSESSID=deleted",
    "sessionid=None",
    "the django-insecure- prefix marks a dev key",
    'variable "region" {\n  default = "us-east-1"\n}',
    "Parameters:\n  InstanceType:\n    Type: String\n    Default: t3.micro",
    "ENV PASSWORD_FILE /run/secrets/pw",
    '[{"ParameterKey": "InstanceType", "ParameterValue": "t3.micro"}]',
    '{"name": "LOG_LEVEL", "value": "debug"}',
    "Set bindpw to the DN's password.",
    "--taints 'addOrUpdateTaints=[{key=taint-new-key-1,value=taint-new-value-1,effect=NONE}]'",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_thirteenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_secret_are_kept(text: str) -> None:
    assert redacted(text) == text


def test_a_query_string_still_ends_its_value_at_the_next_name() -> None:
    """A bare value takes an `&` (a YAML value's own) only where no `name=` or entity
    follows it: a query string's next parameter and `&amp;` stay in the text."""
    assert redacted("?password=Tr0ub4dor&next=/home") == "?password=[REDACTED_PASSWORD]&next=/home"
    assert redacted("?password=abc123xyz&amp;user=bob") == (
        "?password=[REDACTED_PASSWORD]&amp;user=bob"
    )
    assert redacted(f"password: {MIXED}&x9") == "password: [REDACTED_PASSWORD]"

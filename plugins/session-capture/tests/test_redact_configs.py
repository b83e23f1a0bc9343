"""Passwords in a place of a file's or a call's own format (`redact.rules_configs`), and a
build machine's keychain password (`rules_tools`): each reached the ledger whole before (a
fifth attack: 93 shapes of config files, code and commands, 28 leaked). The same places
without a password keep every word."""

from __future__ import annotations

import pytest

from ox_session_capture.redact import redact_text
from ox_session_capture.testing.redacted import redacted

PW = "Zx9cVbNm2qWe8rTy"
HEX40 = "0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b"

LEAKED = [
    f'%any : PSK "{PW}"',
    f': XAUTH "{PW}"',
    f"listen stats\n    stats auth admin:{PW}",
    f"rootpw --plaintext {PW}",
    f"rootpw {PW}",
    f"d-i passwd/root-password password {PW}",
    f"d-i passwd/user-password-again password {PW}",
    f"mysql-server mysql-server/root_password password {PW}",
    f"<AdministratorPassword>\n  <Value>{PW}</Value>\n  <PlainText>true</PlainText>",
    f"<Password><Value>{PW}</Value><PlainText>true</PlainText></Password>",
    f'<property name="connection.password">{PW}</property>',
    f"<property name='hibernate.connection.password'>{PW}</property>",
    f"$conn = mysqli_connect('localhost', 'app', '{PW}', 'appdb');",
    f"$pdo = new PDO($dsn, 'app', '{PW}');",
    f'$pdo = new PDO("mysql:host=db;dbname=app", "app", "{PW}");',
    f'Connection c = DriverManager.getConnection(url, "app", "{PW}");',
    f"const sequelize = new Sequelize('appdb', 'app', '{PW}', {{ host: 'db' }});",
    f"conn.simple_bind_s('cn=admin,dc=ex,dc=com', '{PW}')",
    f"ldap_bind($ds, 'cn=admin,dc=ex,dc=com', '{PW}');",
    f'expect "password:"\nsend "{PW}\\r"',
    f'expect "Password: " {{ send "{PW}\\r" }}',
    f"child.expect('Password:')\nchild.sendline('{PW}')",
    f"security unlock-keychain -p {PW} ~/Library/Keychains/build.keychain",
    f"security create-keychain -p '{PW}' build.keychain",
    f"security set-key-partition-list -S apple-tool:,apple: -s -k {PW} build.keychain",
    f"git clone https://{HEX40}@github.com/o/r.git",
    f"git remote add origin https://{PW}AbCd1234@gitlab.example.com/g/r.git",
    # A seventh attack: places of a format's own, protocol sessions.
    f"CREATE USER app IDENTIFIED BY {PW};",
    f'ALTER USER system IDENTIFIED BY "{PW}" ACCOUNT UNLOCK;',
    f"conn = Connection(server, 'cn=admin,dc=acme,dc=io', '{PW}', auto_bind=True)",
    f"conn = Connection(server, user='uid=bob,ou=people,dc=acme,dc=io', '{PW}')",
    f"chpasswd:\n  list: |\n    root:{PW}\n    bob:{PW}x\n  expire: False",
    f"chpasswd:\n  expire: false\n  list:\n    - root:{PW}",
    "-----BEGIN OpenVPN Static key V1-----\n" + (HEX40[:32] + "\n") * 4,
    f"<tls-auth>\n-----BEGIN OpenVPN Static key V1-----\n{HEX40[:32]}\n"
    "-----END OpenVPN Static key V1-----\n</tls-auth>",
    "account gmail\nhost smtp.gmail.com\nuser bob@gmail.com\npassword qwrtzpxkvmnbhjdl",
    "password qwrt zpxk vmnb hjdl",
    "export SIM_PIN=739164",
    'pin: "4821"',
    "PUK_CODE=12345678",
    f"a1 LOGIN bob@acme.io {PW}",
    f'A001 login "bob" {PW}',
    f"---> PASS {PW}",
    f"> PASS {PW}",
    f"C: PASS {PW}",
    f"USER bob\nPASS {PW}\n+OK",
    # An eighth attack: credential objects in code, a Vault token of the older format.
    f'var cred = new NetworkCredential("bob", "{PW}");',
    f'new PasswordAuthentication("bob", "{PW}".toCharArray())',
    f'new UsernamePasswordCredentials("bob", "{PW}")',
    f"client = Client('AC{HEX40[:32]}', '{HEX40[8:40]}')",
    f"client = algoliasearch('ABCD1234EF', '{PW}')",
    f"Net::SMTP.start('smtp.acme.io', 587, 'acme.io', 'bob', '{PW}', :login)",
    f"export VAULT_TOKEN=s.{PW}AbCdEfGh",
    f"VAULT_TOKEN: b.{PW}AbCdEfGh",
]


# A sixth attack: keys of a shape of their own.
D = "jpsQnnGQmL-YBIffH1136cLyc_7kAbLm0kDGAx5rVD8"
ETH = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
WORDS = "abandon ability able about above absent absorb abstract absurd abuse access accident"
KEYS = [
    # A JSON Web Key with its private members: as JSON (decoded), as YAML, cut short.
    f'{{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gH","d":"{D}"}}',
    f'{{"keys": [{{"kty": "oct", "k": "{D}", "alg": "HS256"}}]}}',
    f"kty: RSA\nn: 0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWh\ne: AQAB\nd: {D}\np: {D}",
    f'{{"kty":"RSA","e":"AQAB","d":"{D}","p":"{D}","q":"{D}","dp":"{D}"',
    f"const wallet = new ethers.Wallet('0x{ETH}', provider)",
    f"const account = privateKeyToAccount('0x{ETH}')",
    f"acct = Account.from_key('{ETH}')",
    f'MNEMONIC="{WORDS}"',
    f"mnemonic: {WORDS}",
    f"Seed phrase: {WORDS}",
]


@pytest.mark.parametrize("text", KEYS)
def test_a_key_of_a_shape_of_its_own_is_redacted(text: str) -> None:
    out = redacted(text)
    assert D not in out
    assert ETH not in out
    assert WORDS[:30] not in out
    assert "[REDACTED_" in out


@pytest.mark.parametrize(
    "text",
    [
        '{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}',
        '{"d": "2026-12-04T10:00:00Z", "p": "paragraph-text-here-long-enough"}',
        "tx = await wallet.sendTransaction({ to, value })",
        "const wallet = new ethers.Wallet(process.env.PRIVATE_KEY, provider)",
        "blockHash: 0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
        "the mnemonic is stored in the keychain",
        "Seed phrase: write it down and keep it offline",
    ],
)
def test_the_same_shapes_without_a_key_keep_every_word(text: str) -> None:
    assert redact_text(text) == text


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_in_its_own_place_is_redacted(text: str) -> None:
    out = redacted(text)
    assert PW not in out
    assert HEX40 not in out
    assert "[REDACTED_" in out


@pytest.mark.parametrize(
    "text",
    [
        "# : PSK is the pre-shared key of ipsec.secrets",
        "    stats auth",
        "    stats uri /haproxy?stats",
        "rootpw --iscrypted",
        "d-i passwd/root-login boolean false",
        "d-i passwd/user-fullname string Bob",
        "the root/admin password is set in the vault",
        "<Password><Value></Value></Password>",
        '<property name="connection.username">app</property>',
        "$conn = mysqli_connect($host, $user, $pass, $db);",
        "$pdo = new PDO($dsn, $user, $password);",
        "DriverManager.getConnection(url, props)",
        "conn.simple_bind_s(dn, password)",
        'expect "password:"\nsend "$env(PASSWORD)\\r"',
        'expect "login:"\nsend "bob\\r"',
        "security unlock-keychain build.keychain",
        "git clone https://github.com/o/r.git",
        "git clone https://bob@github.com/o/r.git",
        "ssh://git@github.com/o/r.git",
        "https://alice.smith@example.com/calendar",
        "mailto://first.last.name-example@example.com",
        "The bug was identified by Sarah",
        "CREATE USER app IDENTIFIED BY :new_password;",
        "CREATE USER app IDENTIFIED EXTERNALLY;",
        "conn = Connection(server, user_dn, password, auto_bind=True)",
        "db = Connection('localhost', 5432, 'appdb')",
        "chpasswd:\n  expire: False",
        "the password requirements are listed below",
        "password must have more than",
        "LED_PIN = 13",
        "pin: 2",
        "pinned: 12345",
        "SPIN=5000",
        "a1 LOGIN bob",
        "PASS src/App.test.js",
        "--- PASS: TestRedact (0.00s)",
        "PASS",
        "> PASS ****",
        "var cred = new NetworkCredential(user, password);",
        "client = Client(account_sid, auth_token)",
        "client = algoliasearch(app_id, api_key)",
        "Net::SMTP.start(host, port, helo, user, pass, :login)",
        "vault read -field=ttl s.ttl_of_the_lease",
        "export VAULT_ADDR=https://vault.acme.io:8200",
    ],
)
def test_the_same_places_without_a_password_keep_every_word(text: str) -> None:
    assert redact_text(text) == text

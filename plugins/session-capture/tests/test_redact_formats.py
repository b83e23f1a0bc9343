"""Formats whose credential stands without an operator beside its name, more tools'
arguments and vendors of the ninth attack on redaction (each of these leaked), and the same
formats holding no secret (kept)."""

from __future__ import annotations

import re

import pytest

from ox_session_capture.testing.redacted import redacted

K = "Wu77MIkXexGDW7V9zEtISlmltsbthXjTqABLJoqi"
PW = "3dFgFzzM0ht97j"

LEAKED = [
    # network devices
    f"username admin privilege 15 password 0 {PW}",
    "username admin privilege 15 password 7 0822455D0A16544541",
    f"snmp-server community {PW} RW",
    f"tacacs-server host 10.0.0.5 key {PW}",
    f" ip ospf authentication-key {PW}",
    f" ip ospf message-digest-key 1 md5 {PW}",
    f"crypto isakmp key {PW} address 0.0.0.0 0.0.0.0",
    f"    set psksecret {PW}",
    # daemons' config lines
    f"    authentication {{\n        auth_type PASS\n        auth_pass {PW}\n    }}",
    f"IMAPAccount acme\nHost imap.acme.io\nUser bob\nPass {PW}",
    f"[OUTPUT]\n    Name http\n    HTTP_User bob\n    HTTP_Passwd {PW}",
    f"<match **>\n  <security>\n    shared_key {K}\n  </security>",
    # code and resources
    f'#define WIFI_PASSWORD "{PW}"\n#define MQTT_TOKEN "{K}"',
    f"signingConfigs {{\n  release {{\n    storePassword '{PW}'\n    keyPassword '{PW}'\n  }}\n}}",
    f"Driver={{ODBC Driver 18 for SQL Server}};Server=db;UID=sa;PWD={{{PW};x}};Encrypt=yes",
    f"curl 'https://acme-fn.azurewebsites.net/api/HttpTrigger1?code={K}=='",
    f'<entry key="db.password">{PW}</entry>',
    f'<setting name="ApiKey" serializeAs="String">\n  <value>{K}</value>\n</setting>',
    f"<key>StripeSecretKey</key>\n\t<string>{K}</string>",
    f'<string name="openai_api_key">{K}</string>',
    f'<meta-data android:name="com.acme.API_SECRET" android:value="{K}" />',
    f"stripe:\n  secret_key: >-\n    {K}\n  mode: live",
    f"db:\n  password: |\n    {PW}\n  host: db",
    f"        args:\n          - --db-password\n          - {PW}",
    # tools
    f"nuget setapikey {K} -Source https://nuget.acme.io/v3/index.json",
    f"dotnet nuget push pkg.nupkg -k {K} -s https://nuget.pkg.github.com/acme/index.json",
    f"hatch publish -r https://pypi.acme.io -u bob -a {PW}",
    f"snyk auth {K}",
    f"npx cypress run --record --key {K}",
    f"mc admin user add myminio bob {PW}",
    f"schtasks /create /tn Backup /tr C:\\b.bat /sc daily /ru ACME\\svc /rp {PW}",
    f"psexec \\\\host1 -u ACME\\admin -p {PW} cmd.exe",
    f"winrs -r:host1 -u:ACME\\admin -p:{PW} ipconfig",
    f'Set-ADAccountPassword -Identity bob -NewPassword (ConvertTo-SecureString -AsPlainText "{PW}"'
    " -Force)",
    f"defaults write com.acme.app ApiToken {K}",
    f'/usr/libexec/PlistBuddy -c "Set :API_TOKEN {K}" Info.plist',
    f"/msg NickServ IDENTIFY {PW}",
    f"/msg NickServ IDENTIFY bob {PW}",
    f"echo '{K}' | npx wrangler secret put OPENAI_API_KEY",
    f'127.0.0.1:6379> CONFIG GET requirepass\n1) "requirepass"\n2) "{K}"',
    "echo 'WxHfW771RWiP/o86MrDUC3exchy+IjFveNG/tIoP0Zk=' | wg set wg0 private-key /dev/stdin",
    "echo 'J3VLqP/jNVuwHf7XnRNJtsKpqTAwDu13lPsUbk20b+I=' | wg pubkey",
    "importprivkey 58cYgiZNRzwftCDgBx3b1qJo4JZ1DvVrBxH9yLkaMxoQSLgynxD",
    f"b2 account authorize 01bf1f7e839c72a5f182d41ef {K}",
    f"mollie.setApiKey('live_{K}')",
    f"reg add HKCU\\Software\\Acme /v ApiToken /t REG_SZ /d {K} /f",
    # vendors
    "teamcity eyJ0eXAiOiAiVENWMiJ9.UF5DqppPK0FNVRDGu7ubOE2xDtgHAy9IvZIt9ceC.aseKVBUtU8JeI23jHaD1"
    "LhP1ZC8G4ydUe_-PFHXUkvDbovVR",
    "PASS oauth:y628sy7suxc45lc64phfi7ycisv78w\nNICK mybot",
    "UNLEASH_INSTANCE=*:production.c815fadd684884b8c147b36433bbe99255d27204f2d3e7df1e8680671c675604",
    "CONVEX_DEPLOY_KEY=prod:happy-otter-123|eyJ2MiI6ICI3ZDQxYTdiMTJiNmRlZWM3ZGY1NDdkNjRlODcwNTk1ZCJ9",
    "sa | 0x0200F6995F6E75FD450C80C8EEFFAD0D203E14748E051951A5847B7494035BEBD86D9BC7607F65FF8B52"
    "43AC5354A0FB1597B5469515740035BF88CC3A055BD1773FCCCE8DFA",
]

KEPT = [
    "the password 7 characters long",
    "set password for the user",
    "Pass the value along",
    "requirepass yes",
    "snmp-server community public RO",
    '<string name="password_hint">Enter your password</string>',
    '<string name="password">Password</string>',
    '<string name="api_key_label">API key</string>',
    "<key>NSPasswordLabel</key>\n<string>Password</string>",
    '<string name="prompt_password">Mot de passe</string>',
    '<string name="error_invalid_password">Le mot de passe est trop court</string>',
    "<key>CFBundleName</key>\n<string>MyApp</string>",
    "description: |\n  Some text here",
    "- --verbose\n- true",
    "#define MAX_TOKEN_LEN 64",
    "dotnet build -k",
    "snyk auth",
    "snyk test --all-projects",
    "reg add HKCU\\Software\\Acme /v Theme /d dark",
    "defaults write com.apple.dock autohide -bool true",
    "npx cypress run --key",
    "hatch publish -a",
    "/msg NickServ IDENTIFY",
    "mollie.setApiKey(process.env.MOLLIE_KEY)",
    "oauth:token is the scheme",
]


def _secrets(text: str) -> list[str]:
    """The random runs of `text` (a name or a word has no digit)."""
    runs = re.findall(r"[A-Za-z0-9+_\-]{16,}", text)
    return [r for r in runs if any(c.isdigit() for c in r) and any(c.isalpha() for c in r)]


@pytest.mark.parametrize("text", LEAKED)
def test_a_credential_in_such_a_format_is_redacted(text: str) -> None:
    out = redacted(text)
    assert "[REDACTED_" in out
    for secret in (K, PW, *_secrets(text)):
        if secret in (K, PW) and secret not in text:
            continue
        assert secret not in out or secret == "01bf1f7e839c72a5f182d41ef", secret  # b2's key id


@pytest.mark.parametrize("text", KEPT)
def test_the_same_formats_without_a_secret_are_kept(text: str) -> None:
    assert redacted(text) == text

"""The shapes of the twentieth attack on redaction (each leaked before its rule): a setter or a
builder's method named for a credential given a literal (Django's `user.set_password("…")`,
`keyring.set_password("svc", "bob", "…")`, Java's `setPassword("…")` and `setApiKey`,
testcontainers' `.withPassword("…")`, a builder's `.password("…")`), and admin and
remote-shell tools whose `-p` is the password (`rabbitmqadmin`, `evil-winrm`,
`crackmapexec`/`nxc`, `smbmap`, `grafana-cli admin reset-admin-password`). And the same forms
holding no literal password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "SunnyDayPw9"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"

LEAKED = [
    (f'user.set_password("{PW}")', PW),
    (f'keyring.set_password("svc", "bob", "{PW}")', PW),
    (f'account.setPassword("{PW}");', PW),
    (f'client.setApiKey("{K}");', K),
    (f'new PostgreSQLContainer<>("postgres:16").withUsername("t").withPassword("{PW}")', PW),
    (f'DataSourceBuilder.create().username("app").password("{PW}").build()', PW),
    (f"OpenAI.builder().apiKey('{K}').build()", K),
    (f"grafana-cli admin reset-admin-password {PW}", PW),
    (f"rabbitmqadmin -u admin -p {PW} list queues", PW),
    (f"evil-winrm -i 10.0.0.5 -u admin -p '{PW}'", PW),
    (f"crackmapexec smb 10.0.0.5 -u admin -p {PW}", PW),
    (f"nxc smb 10.0.0.5 -u admin -p {PW} --shares", PW),
    (f"smbmap -H 10.0.0.5 -u admin -p {PW}", PW),
]

KEPT = [
    'form.setPasswordField("pw-input")',
    'tok.setTokenizer("bert-base")',
    "user.setPassword(password)",
    'container.withPassword(System.getenv("PG_PASSWORD"))',
    'builder.withKey("id")',
    'ds.password("")',
    "client.setApiKey(apiKey)",
    'localStorage.setItem("theme", "dark")',
    "rabbitmqadmin -u admin -p $RABBIT_PW list queues",
    "grafana-cli admin reset-admin-password $GF_PW",
    "hydra -l admin -P rockyou.txt ssh://host",
    # Found by the scan of installed packages: a constructor and a function, not setters.
    """return f'Token("{self.type}", "{self.value}")'""",
    'ApiKeyId: PassThroughProp | None = apikey("ApiKeyId")',
    'self.secret("{name}")',
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_twentieth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_literal_are_kept(text: str) -> None:
    assert redacted(text) == text

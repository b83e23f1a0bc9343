"""The shapes of the twelfth attack on redaction (each leaked before its rule): a credential
named, then its value as `the new one` further on its line (`I rotated the secret; the new
one is …`); four to seven words between a credential's name and its verb (`the password that
we use for the staging database is …`); a password that `is still`, `stays` or `remains` a
value; a strong password or a random-looking value printed into an encoder (`echo -n … |
base64`) or into `htpasswd -i`; a Cloudflare Tunnel's token, a Doppler service token, a
Firebase Cloud Messaging server key; an account's recovery codes, a Wi-Fi key, an email and
its password. And the same forms holding no secret (kept), with code that compares a token
to a name (`if token is Name.Function:`)."""

from __future__ import annotations

import base64

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tm4#kQ8w!zR2"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"
DOPPLER = "dp.st.prd." + K + "Ab3dE6gH"
FCM = "AAAAk9Xq2Lm:APA91b" + K * 4 + "x_-yZ"
TUNNEL = base64.b64encode(
    b'{"a":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","t":"4f8a2c6e-1b3d-4f7a-9c0e-2b4d6f8a1c3e",'
    b'"s":"ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="}'
).decode()

LEAKED = [
    # the credential named, then the new one
    (f"I rotated the secret; the new one is {PW}", PW),
    (f"Rotated the API token. The new one is {K}", K),
    (f"Regenerated the password: new one is {PW}", PW),
    (f"I regenerated the token, here's the new one: {K}", K),
    (f"The old password didn't work so I made a new one: {PW}", PW),
    (f"the passphrase was weak, the new one is `{PW}`", PW),
    # four to seven words between the name and its verb
    (f"The password that we use for the staging database is {PW}", PW),
    (f"The token the CI job uses to push images is {K}", K),
    (f"The password you gave me for the staging box was {PW}", PW),
    (f"the secret that signs the session cookies is {K}", K),
    (f"The password that the installer printed for me is now {PW}", PW),
    # is still, stays, remains
    (f"The password is still {PW}", PW),
    (f"password stays {PW}", PW),
    (f"the admin password remains {PW}", PW),
    (f"The API token is still {K} on staging", K),
    # printed into an encoder, or into htpasswd -i
    (f"echo -n '{PW}' | base64", PW),
    (f"printf '%s' '{PW}' | base64", PW),
    (f'echo -n "{PW}" | base64 -w0', PW),
    (f"echo -n {K} | base64", K),
    (f"echo -n '{PW}' | openssl enc -base64", PW),
    (f"echo -n '{PW}' | openssl base64 -A", PW),
    (f"echo '{PW}' | htpasswd -i -c .htpasswd bob", PW),
    (f"echo '{PW}' | htpasswd -ciB /etc/nginx/.htpasswd bob", PW),
    ("echo hunter2pw | htpasswd -i .htpasswd bob", "hunter2pw"),
    # a Cloudflare Tunnel's token (base64 of its account, tunnel and secret), wherever it is
    (f"sudo cloudflared service install {TUNNEL}", TUNNEL),
    (f"the tunnel runs with {TUNNEL}", TUNNEL),
    # a Doppler service token names its config; Firebase Cloud Messaging's legacy server key
    (f"run doppler with {DOPPLER}", DOPPLER),
    (f"messages went out with {FCM}", FCM),
    # an account's recovery codes, on the label's line or listed under it
    ("Your one-time recovery codes: 8f2k-9x3m, 7p4q-2w8e, 5r6t-1y9u", "5r6t-1y9u"),
    ("Recovery codes:\n1b2c3-d4e5f\n6a7b8-c9d0e\nf1e2d-3c4b5", "f1e2d-3c4b5"),
    ("Here are your backup codes (keep them safe):\n1. 12345678\n2. 87654321", "87654321"),
    ("Backup codes:\n- 1234 5678\n- 8765 4321", "8765 4321"),
    ('{"text": "Recovery codes:\\n1b2c3-d4e5f\\n6a7b8-c9d0e"}', "6a7b8-c9d0e"),
    # a Wi-Fi network's key
    (f"the WiFi key is {PW}", PW),
    (f"The wpa2 key is now {PW}", PW),
    (f"Wi-Fi key: {PW}", PW),
    (f"SSID: AcmeGuest\nWPA key: {PW}\n", PW),
    # an email, then a spaced slash or `and`, then the password
    (f"Admin login → admin@acme.io / {PW}", PW),
    (f"Login with `admin@acme.io` and `{PW}`", PW),
    (f"log in with admin@acme.io and {K} for now", K),
    # a here-string into `docker secret create`
    (f'docker secret create db_pw - <<< "{PW}"', PW),
]

KEPT = [
    "I rotated the secret; the new one is in the vault",
    "The token expired, so I made a new one: see the vault",
    "Rotated the API token. The new one is stored in Vault.",
    "the password was too short, the new one is longer",
    "the token format changed; the new one is JWT-based",
    "The token that the API returns for this request is short-lived",
    "The password that we use for the staging database is in 1Password",
    "The token count of the prompt that I sent was 12345678",
    "The secret that the operator mounts into the pod is db-credentials",
    "Don't log the password. The commit hash of that change was "
    "3f2a9b1c7d8e6f5a4b3c2d1e0f9a8b7c6d5e4f3a",
    "The password is still required",
    "the token remains valid for an hour",
    "The password stays the same",
    "the secret remains in the vault",
    "the API key is still OPENAI_API_KEY",
    "echo -n 'hello world' | base64",
    "echo -n 'admin:admin' | base64",
    'echo -n "$DB_PASSWORD" | base64',
    "echo -n 'my-app-config' | base64",
    "echo test | htpasswd -v .htpasswd bob",
    "htpasswd -c .htpasswd bob",
    "            if token is Name.Function or token is Name.Variable:",
    "                if token is Comment.Single:",
    "    if token is self.eof:",
    "the API key is config.API_KEY",
    # JSON in base64 that is no tunnel's token: a JWT's header, a first key other than `a`
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
    base64.b64encode(b'{"ab":"0f1e2d3c4b5a69788796a5b4c3d2e1f0","t":"x"}').decode(),
    "backup codes: stored offline",
    "Recovery codes: see the settings page",
    "recovery code: 2024",
    "Backup codes:\n- printed\n- in the safe",
    "the wifi key is on the router sticker",
    "Wi-Fi key: on the back of the router",
    "contact bob@acme.io / alice@acme.io for access",
    "email bob@acme.io and Alice about the Q3-Report#2",
    "ssh deploy@prod.acme.io and run ./deploy.sh",
    "send it to ops@acme.io / PagerDuty",
    "git@github.com:acme/api.git",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_twelfth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_secret_are_kept(text: str) -> None:
    assert redacted(text) == text


def test_prose_read_as_a_netrc_line_keeps_its_next_word() -> None:
    """`changed the default password to …` reads as a `.netrc`'s `default … password <pw>`:
    `to` was taken for the password (and lost to the text); the value after it is."""
    text = f"Changed the default password to {PW}"
    assert redacted(text) == "Changed the default password to [REDACTED_PASSWORD]"
    netrc = f"machine api.acme.io login bob password {PW}"
    assert redacted(netrc) == "machine api.acme.io login bob password [REDACTED_NETRC]"

"""The shapes of the tenth attack on redaction (each leaked before its rule): vendors' keys
without a prefix of their own, a private key's base64 without its BEGIN line, values in
exec-form argument lists, pydantic's errors, box-drawn tables, prose with an arrow or a
dash, password labels in more languages; and the same forms holding no secret (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

K = "Wu77MIkXexGDW7V9zEtISlmltsbthXjTqABLJoqi"
PW = "3dFgFzzM0ht97j"
RSA = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCHAVrnL8fmQzBiRGUqU7EZp0VXT2Nl625NqpZ5ynS/qLW/DrIdAHrCRbSkFuo"
BODY = "6Rj1DC+eo4mVW9uBMgrKQbelhKGOU7hApPrvu07WSdc7ejO3yE9VQU6WRDDVZ9hkEt+9FO"
DIGEST = "239f59ed55e737c77147cf55ad0c1b030b6d7ee748a7426952f9b852d5a935e5"
KEYPAIR = ",".join(str((37 * i + 11) % 256) for i in range(64))

LEAKED = [
    # vendors
    ("vo = voyageai.Client('pa-1p8zV8huA35b0sQxf91Q3xuQpJlv6muYONoEVvYu-y7')",
     "pa-1p8zV8huA35b0sQxf91Q3xuQpJlv6muYONoEVvYu-y7"),
    ("fireworks: fw_jrnMSemZ7atly0tnGTttWNtP", "fw_jrnMSemZ7atly0tnGTttWNtP"),
    ("yandex static key YCAJEdwF3v5tZZS_tfXJskbiRe805DWBOJhvH18X",
     "YCAJEdwF3v5tZZS_tfXJskbiRe805DWBOJhvH18X"),
    ("sanity skBpQMxA38k3ao7IMV7q43mpc36hlfONv42f8YWPDBuxFQcPdOsLiBQxPDnq9slZmxraKd86v6nNR8hbcy",
     "BpQMxA38k3ao7IMV7q43mpc36hlfONv42f8YWPDBuxFQcPdOsLiBQxPDnq9slZmxraKd86v6nNR8hbcy"),
    ("geoipupdate license 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",
     "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"),
    ("asana pat 2/7627493272490233/1235015369175172:6b6edd78adac3406ce7caf3735ad9136",
     "6b6edd78adac3406ce7caf3735ad9136"),
    ("client.run('MTEngpZ2Nw8y7p8Eo54tajgnZh.DZt0NP.9a1uOXaQWl4m-xNqWRJpjBSZDmT7Y91Ib3C6Pd')",
     "9a1uOXaQWl4m-xNqWRJpjBSZDmT7Y91Ib3C6Pd"),
    ("const ably = new Ably.Realtime('k7Nsz-.dYEuO5:ehLQjS0ikWgaPftcq0QcRdCtYxzhuyOmTJAddG2-w0a');",
     "ehLQjS0ikWgaPftcq0QcRdCtYxzhuyOmTJAddG2-w0a"),
    ("BUNDLE_GEMS__CONTRIBSYS__COM=51b059aa:a06bf64d", "51b059aa:a06bf64d"),
    # HTTP
    (f"  x-honeycomb-team: {K[:32]}", K[:32]),
    (f'curl --cookie "theme=dark; connect.sid=s%3A{K}" https://x/api', K),
    # code
    (f'client.get(url).basic_auth("bob", Some("{PW}"))', PW),
    (f'buildConfigField("String", "API_KEY", "\\"{K}\\"")', K),
    (f'local ok, err = red:auth("{PW}")', PW),
    (f"request(app).post('/login').auth('bob', '{PW}')", PW),
    (f'conn = oracledb.connect("scott/{PW}@db.acme.io:1521/ORCLPDB1")', PW),
    (f"### Admin password\n\n```\n{PW}\n```", PW),
    (f"## API key\\n\\n```\\n{K}\\n```", K),  # JSON-escaped newlines
    # argument lists (exec form)
    (f'    healthcheck:\n      test: ["CMD", "redis-cli", "-a", "{PW}", "ping"]', PW),
    (f'    command: ["redis-server", "--requirepass", "{PW}"]', PW),
    (f'subprocess.run(["mysql", "-u", "root", "--password", "{PW}"])', PW),
    # config files
    (f"api_token: !!str {K}", K),
    (f"[Repository Remote]\nremoteuser = bob\nremotepass = {PW}", PW),
    (f"[smtp.gmail.com]:587 bob@gmail.com:{PW}", PW),
    (f'"app" "{PW}"\n"admin" "SCRAM-SHA-256$4096:DmkTuewNXEByIOb/ThrRr8mE"', PW),
    (f'spawn ssh bob@host\nexpect "*assword*"\nsend "{PW}\\r"', PW),
    (f'expect "Password:" {{ send "{PW}\\r" }}', PW),
    # keys
    (f"-----BEGIN ARGO TUNNEL TOKEN-----\n{BODY}\n-----END ARGO TUNNEL TOKEN-----", BODY),
    (f"...cHS6vj0xka++S1f+QglmLyTlwdXX\n{RSA}\n-----END PRIVATE KEY-----", RSA[6:]),
    (f"```\n{BODY}\n{BODY[::-1]}\n-----END OPENSSH PRIVATE KEY-----\n```", BODY),
    (f"the key: {RSA} (cut)", RSA[6:]),
    (f"$ cat ~/.config/solana/id.json\n[{KEYPAIR}]", KEYPAIR),
    # logs
    ("1 validation error for Settings\nopenai_api_key\n  String should match pattern "
     f"[type=string_pattern_mismatch, input_value='{K}', input_type=str]", K),
    ("2 validation errors for Config\ndb.password\n  String should have at most 8 characters "
     f"[type=string_too_long, input_value='{PW}', input_type=str]", PW),
    # tables
    (f"│ Key            │ Value    │\n├────────────────┼──────────┤\n│ STRIPE_SECRET  │ {K} │", K),
    (f"║ MODE   │ prod  ║\n║ STRIPE_SECRET │ {K} ║", K),
    (f"| Service | Key |\n|---|---|\n| Stripe | {K} |", K),
    # prose
    (f"staging api key -> {K}", K),
    (f"token for staging — {K}", K),
    (f"the prod API key ({K}) stopped working", K),
    (f"the passphrase for the deploy key is {PW}", PW),
    (f"Zugangsdaten: bob / {PW}", PW),
    (f"mật khẩu là {PW}", PW),
    (f"كلمة المرور: {PW}", PW),
    (f"पासवर्ड: {PW}", PW),
    (f"kata sandi: {PW}", PW),
    (f"here's my openai key, don't share it: {K}", K),
    (f"here is the token, don't share it: {K}", K),
    (f"The user pasted x; API-sleutel: {K}; y", K),  # a label's value before a `;`
    (f"? What's the value of STRIPE_SECRET_KEY? {K}", K),
    (f"rsync --password-file=<(echo {PW}) a rsync://bob@host/m", PW),
    (f"cmd --token-file <(printf '%s' {K})", K),
    (f"NEXT_PUBLIC_API_SECRET={K}", K),  # a secret's name, public or not
    (f"DATABASE_URL=postgres://user:{PW}@localhost:5432/mydb", PW),
    (f"webhook_secret: sha256={DIGEST}", DIGEST),  # a secret's name: any value
]  # fmt: skip

KEPT = [
    "a spa-resort and a pa-system",
    "skip the sk step",
    "the YC batch of 2024",
    "mix 1/2 cup of flour and 2/3 of water",
    "bot.run('main')",
    "BUNDLE_BUILD__NOKOGIRI=--use-system-libraries BUNDLE_PATH=vendor/bundle",
    "x-honeycomb-team: <your key>",
    'curl --cookie "theme=dark; lang=en" https://x',
    "firebase.auth().signIn(); app.auth('admin')",
    "## Install\n\n```bash\nnpm-install-2\n```",
    '    command: ["redis-server", "--appendonly", "yes"]',
    'echo "a" "b"',
    "api_token: !!str ${API_TOKEN}",
    "[smtp.gmail.com]:587",
    'expect "login:"\nsend "bob\\r"',
    "-----BEGIN CERTIFICATE-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n"
    "-----END CERTIFICATE-----",
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 is a public key",
    "[1, 2, 3, 4] and a private note",
    "1 validation error for Settings\nport\n  Input should be a valid integer "
    "[type=int_parsing, input_value='abc8080x', input_type=str]",
    "| Service | Key |\n|---|---|\n| Stripe | billing |",
    "│ Name │ Value │\n├──────┼───────┤\n│ MODE │ prod  │",
    "the token (see docs) and the password for the user is required",
    "the token -> refresh flow and password — reset2024 page",
    "mật khẩu là bắt buộc",
    "token, see: docs",
    # Given out, or the docs' placeholder (the helper's benign texts)
    "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=",
    '{"publicKey": "2_X4CWqMuFiNmTg_wootL1Wi0XCfFjUAq8XheAgB_ow5F5ZodoBVAPfkUOHox77y4Q"}',
    "NEXT_PUBLIC_STRIPE_PUBLISHABLE_KEY=pk_test_51HqKmXuc6QwYJVGqTcYzgpwRM4gKEgXh4RuXRJayNWE",
    "NEXT_PUBLIC_POSTHOG_KEY=phc_qlXpLYzT880i0xHlOSk6Du3LIr5DcHE178C74Bxb252",
    "DATABASE_URL=postgres://user:password@localhost:5432/mydb",
    "redis://default:changeme@localhost:6379/0",
    f"X-Hub-Signature-256: sha256={DIGEST}",  # the HMAC of a payload
    "secretName: abc",
    "diff <(echo hello123) <(echo world456)",
    "what is the value of x? 12345678",
    "cmd --config-file=<(echo abcdef12)",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_tenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_secret_are_kept(text: str) -> None:
    assert redacted(text) == text

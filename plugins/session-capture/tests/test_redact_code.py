"""Code where a credential's name and its literal value stand apart, a password given by
position, a bold Markdown label, a shell's setter without `=`, and vendor formats of AI
services and developer tools (the ninth attack on redaction: each of these leaked)."""

from __future__ import annotations

import re

import pytest

from ox_session_capture.testing.redacted import redacted

K = "VsfizPInQGG1FW22jjYyoH9tpmOKyV2YAbK8x36Q"  # a random-looking key
PW = "3dFgFzzM0ht97j"  # a password

LEAKED = [
    # a type between the name and its `=`
    f"const apiKey: string = '{K}';",
    f'var apiKey string = "{K}"',
    f'val apiKey: String = "{K}"',
    f'let apiKey: String = "{K}"',
    f'class Settings(BaseSettings):\n    openai_api_key: str = "{K}"',
    f'const API_TOKEN: &str = "{K}";',
    f'public string ApiKey {{ get; set; }} = "{K}";',
    # a literal fallback or default after a lookup
    f"const apiKey = process.env.API_KEY || '{K}';",
    f'const apiKey = process.env.API_KEY ?? "{K}";',
    f'let key = env::var("API_KEY").unwrap_or("{K}".to_string());',
    f"API_KEY = config('API_KEY', default='{K}')",
    f'password: {{{{ .Values.password | default "{PW}" }}}}',
    f"db_password: \"{{{{ lookup('env', 'DB_PASSWORD') | default('{PW}', true) }}}}\"",
    # a signing key in the call
    f'tok, _ := token.SignedString([]byte("{K}"))',
    f'Algorithm alg = Algorithm.HMAC256("{K}");',
    f"$jwt = JWT::encode($payload, '{K}', 'HS256');",
    f"JWT.encode(payload, '{K}', 'HS256')",
    f'var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("{K}"));',
    f"crypto.createHmac('sha256', '{K}').update(body).digest('hex')",
    f"hmac.new(b'{K}', body, hashlib.sha256).hexdigest()",
    f'client.get(url).bearer_auth("{K}").send().await?;',
    # a password by position
    f'credentials.NewStaticCredentialsProvider("AKIAGDD63GROMHDMCAJE", "{K}", "")',
    f'AwsBasicCredentials.create("AKIAAIULBUR79XB1BP2J", "{K}")',
    f"credentials = pika.PlainCredentials('bob', '{PW}')",
    f'val cred = Credentials.basic("bob", "{PW}")',
    f"es = Elasticsearch('https://es:9200', basic_auth=('elastic', '{PW}'))",
    f'auth := smtp.PlainAuth("", "bob@acme.io", "{PW}", "smtp.gmail.com")',
    f'd := gomail.NewDialer("smtp.acme.io", 587, "bob", "{PW}")',
    f'my $dbh = DBI->connect("dbi:Pg:dbname=app;host=db", "app", "{PW}");',
    f"ftp = FTP('ftp.acme.io', 'bob', '{PW}')",
    f"cnx = pymysql.connect('db', 'app', '{PW}', 'app')",
    f'WiFi.begin("HomeNet", "{PW}");',
    f"wlan.connect('HomeNet', '{PW}')",
    # Markdown, as agents write answers
    f"**API key:** `{K}`",
    f"- **Password:** `{PW}`",
    f"**Token**: `{K}`",
    # setters without `=`
    f"set -gx DB_PASSWORD {PW}",
    f"setenv DB_PASSWORD {PW}",
    f"launchctl setenv OPENAI_API_KEY_2 {K}",
    f"netlify env:set STRIPE_SECRET {K}",
]

VENDORS = [
    "cerebras csk-hs7z8f4h4151subeafty2gvonf4tl6ndr3q3zoqngalhdo0n",
    'TavilyClient("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")',
    "app = FirecrawlApp('fc-b0b134e76ab1b5db18e476160ec638c5')",
    "reader via r.jina.ai with jina_RdY88STsPauW5x62hFB2YymjjhXNuueenbmgAF6CdGKynxybgau4T97VsFYL",
    "e2b e2b_221f8078e65cb6d5b7751d473b940aa9f6e7a207",
    'bb = Browserbase("bb_live_o5FN3tl1tWYy9fSHGc1-HH1Qy_r")',
    "neonctl projects list --api napi_b73fk0ero4d7rsnl3kfwkht0kpgmadttrvpagynoz5"
    "amytuo7xtoxvpp04buhu58",
    "runpod rpa_Y273V8WKRUUOFTW2YEBDMTPXRQWYGIW1J218TKAM",
    "inngest signkey-prod-e1b938c9cd4916c260d9f69f55cfd5090f22642f5de42f06f41a57fa9e9b5330",
    "trigger.dev key tr_prod_cjlfU5LdNaT1vxldugI7",
    "axiom xaat-ba1a7a43-9baf-76cd-3d79-84b409d526ef",
    "honeycomb hcaik_nl4553bv6v5wu6f7bmr8rdsxovqadwg7ukj9i3afp4n0flck3kn5rfgbjd",
    "hubspot pat-na1-2724b031-9545-3b63-d973-c1f472bbbfc8",
    "clickup pk_23356361_NQY1XRZMM59NEYBADTRWW0JEOT3MKS9A",
    "trello ATTA0c1c4c0eb209848ac7b9703dd8ca31281c86318dc214aed7035e1b3e4a03afb2D6AC9C66",
    "onesignal os_v2_app_5d38fy0j6969v5l5a914xdl7d7opi5lktufu406ugyv4ujnxha2yhjtk",
    "socket sktsec_w7mztYe5ZJ3Dpz0yYfUwie9anD99WwaUP8OxBU6l",
    "youtrack perm:Ym9i.TmpFdE1R.CG05N6HZaZWqKcoE52mqgiWnOw7TeE",
    "ld_client = LDClient(Config('sdk-f4025d22-dbbd-c645-60aa-5e32358481df'))",
    "statsig.initialize('secret-lRFUH4N1bw1fRPipRDbVDF35vJ3r5RRpYSbx30fgoV8')",
    "devcycle dvc_server_yCnEHJvumzCti7xsx1ux4Q_3tFRSbNSMbrSe_b99e2014",
    "paddle = Paddle('pdl_live_apikey_vvz6gq2dwo44dxrf4b25xz1fhf_SwE5VLogJNITTmB8jHOX3m2UDW_aU3')",
    "polar polar_oat_9o3ppNafhu8Fll1yDdQIPaYEViTo8Sohs8UYL3f3YFV",
    "registration: GR1348941EjiKnTE4ElXUHZPBs4mk",
    "prefect cloud login -k pnu_i1q6nXPXpVPPKS3mR2GqoQdHZcJAAAaTKdjf",
    "adobe io console: p8e-m9wpj37gzf9zt1blzag4c2sthqoxh8f0",
    "SRC_ACCESS=sgp_f580d12ff06faf75_eb75b847bcb93f968103fde0f0344120ff0201e7",
    "my nostr key nsec16rq7w44yezm2tru440f7k6dlax6h2hpzmc8cynh4trug0kxw68yfszgh5c",
    "bedrock key is ABSKq7qTAvyhYqomzZ7o4H9mx1llF789DNE5cY7hS3bIo+zxKnY8qzEhCrQLZYyaacus6Y8qgMSLS"
    "ihMc/073lMpjEk3RUM0USqLF+7ztkJua11PgMplF9jPyiZua4mnSde67q",
    "curl -X POST https://hook.eu1.make.com/ct56snttrg0if47c4oo0v65pjzqygc25 -d @p.json",
    "https://maker.ifttt.com/trigger/deploy/with/key/oP7che05wrj0zWpNdI00Nd",
    "curl -i -X POST -d 'payload={}' https://mm.acme.io/hooks/iq9q0m8u6uto3fve5bnnybc2l3",
    "https://open.feishu.cn/open-apis/bot/v2/hook/bbc0bb35-f449-b9e2-ce29-94ddc5ed914c",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=02606310-7578-a4ff-4b94-48c31a3035a5",
    "https://chat.acme.io/hooks/4xBkq8kQUIhi6sntC/ocTLlfKEC12rLQ9uKcuvpQgP",
]

KEPT = [
    # names and values that are no credential, lookups, placeholders, prose
    "const label: string = 'Password';",
    "const apiKeyLabel = opts.label || 'Your API key';",
    "token: str = Field(default='', description='the token')",
    'name: str = "Alice"',
    "const x = a || 'fallback value'",
    'password: {{ .Values.password | default "" }}',
    "mode = config('MODE', default='production')",
    "timeout: int = 30",
    "const password: string = process.env.DB_PASSWORD!;",
    "**Password:** required",
    "**API key:** see the dashboard",
    "**Note:** `npm install`",
    "**Token**: `${{ secrets.TOKEN }}`",
    "set -gx PATH $PATH ~/bin",
    "set -x TOKEN_FILE ~/.token",
    "setenv API_KEY $MY_KEY",
    "git config core.hooksPath .git/hooks/pre-commit",
    "see https://docs.acme.io/hooks/usewindowdimensionshookexample",
    "the pat-na1 region, fc-barcelona and the sdk-version flag",
    "hmac.new(key, body, hashlib.sha256)",
]


@pytest.mark.parametrize("text", LEAKED + VENDORS)
def test_a_credential_of_the_ninth_attack_is_redacted(text: str) -> None:
    out = redacted(text)
    assert "[REDACTED_" in out
    for secret in (K, PW):
        assert secret not in out
    # Whatever its shape, no long random run of the text is left (a name has no digit).
    for run in re.findall(r"[A-Za-z0-9]{20,}", text):
        assert run not in out or not any(c.isdigit() for c in run)


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_code_and_prose_beside_those_forms_is_kept(text: str) -> None:
    assert redacted(text) == text


# A form's text about a password and a docs' example value hold none (false positives the
# ninth attack found); the secrets beside them are still redacted.
EXAMPLES_KEPT = [
    '{"forgot_password": "Forgot your password?"}',
    "forgot_password: Forgot your password?",
    '"reset_password": "Reset your password"',
    'export OPENAI_API_KEY="your-api-key-here"',
    "curl https://api.acme.io/v1/items -H 'X-Api-Key: YOUR_API_KEY'",
    "export ANTHROPIC_API_KEY=sk-ant-...",
    "STRIPE_SECRET_KEY=sk_test_...",
]
STILL_REDACTED = [
    ("password: Summer2024 is what you asked?", "Summer2024"),
    ('password: "correct horse battery staple"', "horse battery"),
    ("password: hunter2X  # the password", "hunter2X"),
    ("STRIPE_SECRET_KEY=sk_test_4eC39HqLyjWDarjtT1zdp7dc...", "4eC39HqLyjWDarjtT1zdp7dc"),
    ("api_key = 'Your0wnK3yValue99'", "Your0wnK3yValue99"),
]


@pytest.mark.parametrize("text", EXAMPLES_KEPT)
def test_a_forms_text_and_a_docs_example_are_kept(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(("text", "secret"), STILL_REDACTED)
def test_a_password_beside_such_words_is_still_redacted(text: str, secret: str) -> None:
    assert secret not in redacted(text)

"""A corpus of secret shapes: every vendor format of the built-in rules and the keyword,
command-line and config-file forms, each as a line of a transcript.

Values are built at import time from a fixed prefix and deterministic random characters, so
the source holds no string that looks like a live credential (secret scanners and GitHub
push protection stay quiet) while every value is format-valid for its rule.

Each `Shape`: `vendor`, `kind` (the `[REDACTED_<kind>]` expected), `text` (the line as it
would appear), `secret` (what must vanish), `form` (inline, command line, config file, URL).
`in_json(shape)` and `at_line_start(shape)` give the variants the end-to-end test also uses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import uuid

from ox_session_capture.redact.mnemonic import phrase_of
from ox_session_capture.testing.corpus.keywords import add_keyword_forms
from ox_session_capture.testing.corpus.shapes import (
    ALNUM,
    B64,
    BECH32,
    HEX,
    LOWER,
    SHAPES,
    UPPER,
    URLSAFE,
    Shape,
    add,
    rnd,
    tok,
)

# ---------------------------------------------------------------- vendor formats

_bytes = random.Random(20261205)  # a keypair's bytes (`rnd` draws characters)


def uuid_body() -> str:
    """A UUID's shape of fresh random hex (the body of Axiom's, HubSpot's, LaunchDarkly's...)."""
    return "-".join(rnd(HEX, n) for n in (8, 4, 4, 4, 12))


tok("AWS", "AWS_ACCESS_KEY", "AKIA", UPPER, 16, "aws_access_key_id = {s}")
tok("AWS", "AWS_ACCESS_KEY", "ASIA", UPPER, 16, "the temporary key {s} expires soon")
add("AWS", "AWS_SECRET_KEY", rnd(B64, 40), "aws_secret_access_key = {s}", "config")
add("AWS", "AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2Vj" + rnd(B64, 180), "session token {s} ok")
tok("Google Cloud", "GOOGLE_API_KEY", "AIza", URLSAFE, 35, "maps key {s}")
tok("Google Cloud", "GOOGLE_OAUTH_TOKEN", "ya29.", URLSAFE, 60, "access token is {s}.")
tok("Google Cloud", "GOOGLE_REFRESH_TOKEN", "1//0", URLSAFE, 60, "refresh with {s}")
tok("Google Cloud", "GOOGLE_CLIENT_SECRET", "GOCSPX-", URLSAFE, 28, "client: {s}")
add("Microsoft Entra ID", "AZURE_CLIENT_SECRET",
    rnd(ALNUM, 3) + "8Q~" + rnd(ALNUM + "_~.", 34), "AZURE secret value: {s}")  # fmt: skip
add("Azure Storage", "AZURE_STORAGE_KEY", rnd(B64, 86) + "==",
    "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core",
    "config")  # fmt: skip
add(
    "Azure DevOps",
    "AZURE_DEVOPS_PAT",
    rnd(ALNUM, 52) + "JQQJ99" + rnd(ALNUM, 4) + "AZDO" + rnd(ALNUM, 4),
    "ado pat {s}",
)
tok("Alibaba Cloud", "ALIBABA_ACCESS_KEY", "LTAI", ALNUM, 20, "AccessKeyId {s}")
tok("Tencent Cloud", "TENCENT_SECRET_ID", "AKID", ALNUM, 32, "SecretId {s}")
tok("Yandex Cloud", "YANDEX_KEY", "AQVN", URLSAFE, 36, "yc key {s}")
tok("DigitalOcean", "DIGITALOCEAN_TOKEN", "dop_v1_", HEX, 64, "doctl auth init -t {s}")
tok("Heroku", "HEROKU_KEY", "HRKU-", URLSAFE, 60, "heroku key {s}")
tok("Fly.io", "FLY_TOKEN", "fo1_", URLSAFE, 43, "fly token {s}")
tok("PlanetScale", "PLANETSCALE_TOKEN", "pscale_tkn_", URLSAFE, 43, "token {s}")
tok("Supabase", "SUPABASE_TOKEN", "sbp_", HEX, 40, "supabase login --token {s}")
tok("Netlify", "NETLIFY_TOKEN", "nfp_", ALNUM, 36, "netlify {s}")
tok("Render", "RENDER_KEY", "rnd_", ALNUM, 32, "render api {s}")
tok("Vercel", "VERCEL_TOKEN", "vcp_", ALNUM, 56, "vercel deploy with {s}")
add(
    "Terraform Cloud",
    "TERRAFORM_TOKEN",
    rnd(ALNUM, 14) + ".atlasv1." + rnd(URLSAFE, 67),
    'token = "{s}"',
    "config",
)
tok("HashiCorp Vault", "VAULT_TOKEN", "hvs.", URLSAFE, 90, "vault token {s}")
tok("Doppler", "DOPPLER_TOKEN", "dp.st.", ALNUM, 43, "doppler {s}")
tok("Pulumi", "PULUMI_TOKEN", "pul-", HEX, 40, "pulumi {s}")
tok("Databricks", "DATABRICKS_TOKEN", "dapi", HEX, 32, "databricks token {s}")
add(
    "Cloudflare",
    "CLOUDFLARE_CA_KEY",
    "v1.0-" + rnd(HEX, 24) + "-" + rnd(HEX, 146),
    "origin ca key {s}",
)
tok("GitHub", "GITHUB_TOKEN", "ghp_", ALNUM, 36, "git push with {s}")
tok("GitHub", "GITHUB_TOKEN", "ghs_", ALNUM, 36, "installation token {s}")
tok("GitHub", "GITHUB_PAT", "github_pat_", ALNUM + "_", 82, "GH token: {s}")
tok("GitLab", "GITLAB_TOKEN", "glpat-", URLSAFE, 20, "curl -H 'PRIVATE-TOKEN: {s}' api")
tok("GitLab", "GITLAB_TOKEN", "glrt-", URLSAFE, 20, "runner token {s}")
tok("Atlassian", "BITBUCKET_TOKEN", "ATATT3", URLSAFE, 180, "jira {s}")
tok("npm", "NPM_TOKEN", "npm_", ALNUM, 36, "//registry.npmjs.org/:_authToken={s}")
tok("PyPI", "PYPI_TOKEN", "pypi-AgEIcHlwaS5vcmc", URLSAFE, 60, "twine upload -p {s}")
tok("RubyGems", "RUBYGEMS_KEY", "rubygems_", HEX, 48, ":rubygems_api_key: {s}")
tok("NuGet", "NUGET_KEY", "oy2", LOWER, 43, "nuget push -ApiKey {s}")
tok("Clojars", "CLOJARS_TOKEN", "CLOJARS_", LOWER, 60, "deploy {s}")
tok("Docker Hub", "DOCKER_HUB_TOKEN", "dckr_pat_", URLSAFE, 27, "hub token {s}")
tok("JFrog Artifactory", "ARTIFACTORY_TOKEN", "AKCp", ALNUM, 69, "jfrog {s}")
add("CircleCI", "CIRCLECI_TOKEN", "CCIPAT_" + rnd(ALNUM, 22) + "_" + rnd(HEX, 40), "circle {s}")
tok("Buildkite", "BUILDKITE_TOKEN", "bkua_", HEX, 40, "buildkite {s}")
tok("SonarQube", "SONAR_TOKEN", "sqp_", HEX, 40, "sonar-scanner -Dsonar.login={s}")
add(
    "Harness",
    "HARNESS_TOKEN",
    "pat." + rnd(URLSAFE, 22) + "." + rnd(HEX, 24) + "." + rnd(ALNUM, 20),
    "harness {s}",
)
tok("Octopus Deploy", "OCTOPUS_KEY", "API-", UPPER, 26, "octo {s}")
tok("Grafana", "GRAFANA_TOKEN", "glsa_", ALNUM, 40, "grafana {s}")
tok("Sentry", "SENTRY_TOKEN", "sntrys_", B64, 100, "SENTRY auth {s}")
add("Sentry", "SENTRY_DSN", rnd(HEX, 32), "dsn: https://{s}@o123456.ingest.sentry.io/4504", "url")
tok("New Relic", "NEWRELIC_KEY", "NRAK-", UPPER, 27, "newrelic {s}")
add(
    "Dynatrace",
    "DYNATRACE_TOKEN",
    "dt0c01." + rnd(UPPER, 24) + "." + rnd(UPPER, 64),
    "dynatrace {s}",
)
tok("PostHog", "POSTHOG_KEY", "phx_", ALNUM, 43, "posthog {s}")
tok("Anthropic", "ANTHROPIC_KEY", "sk-ant-api03-", URLSAFE, 93, "key is {s}")
tok("OpenAI", "OPENAI_KEY", "sk-proj-", URLSAFE, 120, "use key {s}")
tok("OpenRouter", "OPENAI_KEY", "sk-or-v1-", HEX, 64, "openrouter {s}")
tok("DeepSeek", "OPENAI_KEY", "sk-", HEX, 32, "deepseek {s}")
tok("Hugging Face", "HUGGINGFACE_TOKEN", "hf_", ALNUM, 34, "huggingface-cli login --token {s}")
tok("Replicate", "REPLICATE_TOKEN", "r8_", ALNUM, 37, "replicate {s}")
tok("Groq", "GROQ_KEY", "gsk_", ALNUM, 52, "groq {s}")
tok("Perplexity", "PERPLEXITY_KEY", "pplx-", ALNUM, 48, "pplx {s}")
tok("xAI", "XAI_KEY", "xai-", ALNUM, 80, "grok {s}")
add("LangSmith", "LANGSMITH_KEY", "lsv2_pt_" + rnd(HEX, 32) + "_" + rnd(HEX, 10), "ls {s}")
tok("Pinecone", "PINECONE_KEY", "pcsk_", ALNUM + "_", 70, "pinecone {s}")
tok("ElevenLabs", "ELEVENLABS_KEY", "sk_", HEX, 48, "xi-api {s}")
tok("Cerebras", "CEREBRAS_KEY", "csk-", LOWER, 48, "cerebras {s}")
tok("Tavily", "TAVILY_KEY", "tvly-dev-", ALNUM, 32, 'TavilyClient("{s}")')
tok("Firecrawl", "FIRECRAWL_KEY", "fc-", HEX, 32, "app = FirecrawlApp('{s}')")
tok("Jina AI", "JINA_KEY", "jina_", URLSAFE, 64, "reader with {s}")
tok("E2B", "E2B_KEY", "e2b_", HEX, 40, "sandbox key {s}")
tok("Browserbase", "BROWSERBASE_KEY", "bb_live_", URLSAFE, 27, 'Browserbase("{s}")')
tok("RunPod", "RUNPOD_KEY", "rpa_", UPPER, 40, "runpod {s}")
tok("AWS Bedrock", "AWS_BEDROCK_KEY", "ABSK", B64, 132, "bedrock key is {s}")
tok("Neon", "NEON_KEY", "napi_", LOWER, 64, "neonctl projects list --api {s}")
tok("Inngest", "INNGEST_SIGNING_KEY", "signkey-prod-", HEX, 64, "signing key {s}")
tok("Trigger.dev", "TRIGGER_KEY", "tr_prod_", ALNUM, 24, "trigger.dev key {s}")
add("Axiom", "AXIOM_TOKEN", "xaat-" + uuid_body(), "axiom {s}")
add("HubSpot", "HUBSPOT_TOKEN", "pat-na1-" + uuid_body(), "hubspot {s}")
add("ClickUp", "CLICKUP_TOKEN", "pk_" + rnd(string.digits, 8) + "_" + rnd(UPPER, 32),
    "clickup {s}")  # fmt: skip
add("Trello", "TRELLO_TOKEN", "ATTA" + rnd(HEX, 64) + rnd(HEX.upper()[:16], 8), "trello {s}")
tok("Honeycomb", "HONEYCOMB_KEY", "hcaik_", LOWER, 58, "x-honeycomb-team: {s}")
tok("OneSignal", "ONESIGNAL_KEY", "os_v2_app_", LOWER, 56, "onesignal {s}")
tok("Socket.dev", "SOCKET_KEY", "sktsec_", URLSAFE, 44, "socket {s}")
add("JetBrains YouTrack", "YOUTRACK_TOKEN",
    "perm:" + rnd(ALNUM, 4) + "." + rnd(ALNUM, 8) + "." + rnd(ALNUM, 30),
    "youtrack {s}")  # fmt: skip
add("LaunchDarkly", "LAUNCHDARKLY_KEY", "sdk-" + uuid_body(), "LDClient(Config('{s}'))")
tok("Statsig", "STATSIG_KEY", "secret-", ALNUM, 43, "statsig.initialize('{s}')")
tok("DevCycle", "DEVCYCLE_KEY", "dvc_server_", URLSAFE, 44, "devcycle {s}")
tok("Paddle", "PADDLE_KEY", "pdl_live_apikey_", URLSAFE, 58, "Paddle('{s}')")
tok("Polar", "POLAR_TOKEN", "polar_oat_", ALNUM, 43, "polar {s}")
tok("GitLab", "GITLAB_RUNNER_TOKEN", "GR1348941", URLSAFE, 20, "registration: {s}")
tok("Prefect", "PREFECT_KEY", "pnu_", ALNUM, 36, "prefect cloud login -k {s}")
tok("Adobe", "ADOBE_SECRET", "p8e-", LOWER, 32, "adobe io console: {s}")
add("Sourcegraph", "SOURCEGRAPH_TOKEN", "sgp_" + rnd(HEX, 16) + "_" + rnd(HEX, 40),
    "SRC_ACCESS={s}")  # fmt: skip
tok("Nostr", "NOSTR_NSEC", "nsec1", BECH32.lower(), 58, "my nostr key {s}")
add("Make", "WEBHOOK_URL", "https://hook.eu1.make.com/" + rnd(LOWER, 32),
    "curl -X POST {s} -d @p.json", "url")  # fmt: skip
add("IFTTT", "WEBHOOK_URL", "https://maker.ifttt.com/trigger/deploy/with/key/" + rnd(URLSAFE, 22),
    "ifttt {s}", "url")  # fmt: skip
add("Feishu", "WEBHOOK_URL", "https://open.feishu.cn/open-apis/bot/v2/hook/" + uuid_body(),
    "lark bot {s}", "url")  # fmt: skip
add("WeCom", "WEBHOOK_URL", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + uuid_body(),
    "wecom {s}", "url")  # fmt: skip
add("DingTalk", "WEBHOOK_URL", "https://oapi.dingtalk.com/robot/send?access_token=" + rnd(HEX, 64),
    "dingtalk {s}", "url")  # fmt: skip
add("Mattermost", "WEBHOOK_URL", "https://mm.acme.io/hooks/" + rnd(LOWER, 26),
    "curl -i -X POST -d 'payload={{}}' {s}", "url")  # fmt: skip
add(
    "Slack",
    "SLACK_TOKEN",
    "xoxb-" + rnd(string.digits, 12) + "-" + rnd(string.digits, 13) + "-" + rnd(ALNUM, 24),
    "SLACK_BOT={s}",
)
add(
    "Slack",
    "SLACK_APP_TOKEN",
    "xapp-1-" + rnd(UPPER, 11) + "-" + rnd(string.digits, 13) + "-" + rnd(HEX, 64),
    "socket mode {s}",
)
add("Slack", "SLACK_WEBHOOK",
    "https://hooks.slack.com/services/T" + rnd(UPPER, 8) + "/B" + rnd(UPPER, 10) + "/"
    + rnd(ALNUM, 24), "post to {s}", "url")  # fmt: skip
add("Discord", "DISCORD_WEBHOOK",
    "https://discord.com/api/webhooks/" + rnd(string.digits, 18) + "/" + rnd(URLSAFE, 68),
    "curl -X POST {s}", "url")  # fmt: skip
add("Microsoft Teams", "TEAMS_WEBHOOK",
    "https://acme.webhook.office.com/webhookb2/" + rnd(HEX, 32) + "@" + rnd(HEX, 32)
    + "/IncomingWebhook/" + rnd(HEX, 32), "teams {s}", "url")  # fmt: skip
add("Google Chat", "GOOGLE_CHAT_WEBHOOK",
    "https://chat.googleapis.com/v1/spaces/AAAA" + rnd(ALNUM, 7) + "/messages?key=AIza"
    + rnd(URLSAFE, 35) + "&token=" + rnd(URLSAFE, 43), "chat {s}", "url")  # fmt: skip
add("Zapier", "ZAPIER_WEBHOOK",
    "https://hooks.zapier.com/hooks/catch/" + rnd(string.digits, 7) + "/" + rnd(LOWER, 7),
    "zap {s}", "url")  # fmt: skip
add(
    "Telegram",
    "TELEGRAM_BOT_TOKEN",
    rnd(string.digits, 10) + ":AA" + rnd(URLSAFE, 33),
    "https://api.telegram.org/bot{s}/getMe",
    "url",
)
tok("Twilio", "TWILIO_KEY", "SK", HEX, 32, "twilio api key {s}")
add("SendGrid", "SENDGRID_KEY", "SG." + rnd(URLSAFE, 22) + "." + rnd(URLSAFE, 43), "SENDGRID={s}")
tok("Mailgun", "MAILGUN_KEY", "key-", HEX, 32, "mailgun {s}")
add("Mailchimp", "MAILCHIMP_KEY", rnd(HEX, 32) + "-us14", "mailchimp {s}")
add("Brevo", "BREVO_KEY", "xkeysib-" + rnd(HEX, 64) + "-" + rnd(ALNUM, 16), "brevo {s}")
add("Resend", "RESEND_KEY", "re_" + rnd(ALNUM, 8) + "_" + rnd(ALNUM, 24), "resend {s}")
tok("Stripe", "STRIPE_KEY", "sk_live_", ALNUM, 24, "stripe.api_key = '{s}'")
tok("Stripe", "STRIPE_KEY", "rk_test_", ALNUM, 24, "restricted {s}")
tok("Stripe", "STRIPE_WEBHOOK_SECRET", "whsec_", ALNUM, 32, "signing secret {s}")
tok("Square", "SQUARE_TOKEN", "sq0atp-", URLSAFE, 22, "square {s}")
tok("Shopify", "SHOPIFY_TOKEN", "shpat_", HEX, 32, "shopify {s}")
tok("Shippo", "SHIPPO_TOKEN", "shippo_live_", HEX, 40, "shippo {s}")
tok("EasyPost", "EASYPOST_KEY", "EZAK", HEX, 54, "easypost {s}")
add("Flutterwave", "FLUTTERWAVE_KEY", "FLWSECK_TEST-" + rnd(HEX, 32) + "-X", "flw {s}")
add(
    "PayPal Braintree",
    "PAYPAL_BRAINTREE_TOKEN",
    "access_token$production$" + rnd(LOWER, 16) + "$" + rnd(HEX, 32),
    "braintree {s}",
)
add(
    "Plaid",
    "PLAID_TOKEN",
    "access-sandbox-" + "-".join(rnd(HEX, n) for n in (8, 4, 4, 4, 12)),
    "plaid {s}",
)
tok("Duffel", "DUFFEL_TOKEN", "duffel_test_", URLSAFE, 43, "duffel {s}")
tok("Linear", "LINEAR_KEY", "lin_api_", ALNUM, 40, "linear {s}")
tok("Notion", "NOTION_TOKEN", "ntn_", ALNUM, 46, "notion {s}")
add("Airtable", "AIRTABLE_TOKEN", "pat" + rnd(ALNUM, 14) + "." + rnd(HEX, 64), "airtable {s}")
tok("Figma", "FIGMA_TOKEN", "figd_", URLSAFE, 40, "figma {s}")
add("Postman", "POSTMAN_KEY", "PMAK-" + rnd(HEX, 24) + "-" + rnd(HEX, 34), "postman {s}")
tok("ReadMe", "README_KEY", "rdme_", LOWER, 70, "readme {s}")
tok("Contentful", "CONTENTFUL_TOKEN", "CFPAT-", URLSAFE, 43, "contentful {s}")
tok("Typeform", "TYPEFORM_TOKEN", "tfp_", URLSAFE, 59, "typeform {s}")
tok("Dropbox", "DROPBOX_TOKEN", "sl.", URLSAFE, 138, "dropbox {s}")
tok("Frame.io", "FRAMEIO_TOKEN", "fio-u-", URLSAFE, 64, "frameio {s}")
tok("Adafruit IO", "ADAFRUIT_KEY", "aio_", ALNUM, 28, "adafruit {s}")
add("Mapbox", "MAPBOX_TOKEN", "sk.eyJ" + rnd(URLSAFE, 60) + "." + rnd(URLSAFE, 22), "mapbox {s}")
add(
    "Tailscale",
    "TAILSCALE_KEY",
    "tskey-auth-" + rnd(ALNUM, 12) + "-" + rnd(ALNUM, 30),
    "tailscale up --authkey={s}",
)
tok("1Password", "ONEPASSWORD_TOKEN", "ops_eyJ", B64, 300, "op service account {s}")
tok("age", "AGE_SECRET_KEY", "AGE-SECRET-KEY-1", BECH32, 58, "# key: {s}")
tok("Meta (Facebook)", "FACEBOOK_TOKEN", "EAAG", ALNUM, 120, "fb {s}")
add("X (Twitter)", "TWITTER_BEARER", "A" * 22 + rnd(ALNUM + "%", 90), "twitter {s}")
add(
    "Salesforce",
    "SALESFORCE_TOKEN",
    "00D" + rnd(ALNUM, 12) + "!" + rnd(ALNUM + "._", 96),
    "sfdx {s}",
)
add("JWT (any issuer)", "JWT",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi" + rnd(URLSAFE, 30) + "." + rnd(URLSAFE, 43),
    "cookie jwt={s}")  # fmt: skip

add_keyword_forms()
# Added after the keyword forms, so that the values drawn before stay the same.
tok("Google Cloud", "GOOGLE_AUTH_CODE", "4/0A", URLSAFE, 60,
    "http://localhost:8085/callback?state=x1&code={s}&scope=email")  # fmt: skip
# The tenth attack's shapes (each after the ones before: their values stay the same).
tok("Voyage AI", "VOYAGE_KEY", "pa-", URLSAFE, 43, "vo = voyageai.Client('{s}')")
tok("Fireworks AI", "FIREWORKS_KEY", "fw_", ALNUM, 24, "fireworks: {s}")
tok("Yandex Cloud", "YANDEX_KEY", "YC", URLSAFE, 38, "yandex static key {s}")
tok("Sanity", "SANITY_TOKEN", "sk", ALNUM, 80, "sanity {s}")
add("MaxMind", "MAXMIND_KEY", rnd(ALNUM, 6) + "_" + rnd(ALNUM, 29) + "_mmk",
    "geoipupdate license {s}")  # fmt: skip
add("Asana", "ASANA_TOKEN",
    "2/" + rnd(string.digits, 16) + "/" + rnd(string.digits, 16) + ":" + rnd(HEX, 32),
    "asana pat {s}")  # fmt: skip
add("Discord", "DISCORD_BOT_TOKEN",
    "MT" + rnd(ALNUM, 24) + "." + rnd(URLSAFE, 6) + "." + rnd(URLSAFE, 38),
    "client.run('{s}')")  # fmt: skip
add("Ably", "ABLY_KEY", rnd(URLSAFE, 6) + "." + rnd(URLSAFE, 6) + ":" + rnd(URLSAFE, 43),
    "const ably = new Ably.Realtime('{s}');")  # fmt: skip
add("Bundler", "BUNDLER_CREDENTIALS", rnd(HEX, 8) + ":" + rnd(HEX, 8),
    "BUNDLE_GEMS__CONTRIBSYS__COM={s}", "config")  # fmt: skip
add("Honeycomb", "HONEYCOMB_KEY", rnd(ALNUM, 32), "  x-honeycomb-team: {s}", "config")
add("curl", "COOKIE", rnd(URLSAFE, 43),
    'curl --cookie "connect.sid=s%3A{s}" https://x/api', "cli")  # fmt: skip
add("pydantic", "SECRET", rnd(ALNUM, 40),
    "1 validation error for Settings\nopenai_api_key\n  String should match pattern "
    "[type=string_pattern_mismatch, input_value='{s}', input_type=str]")  # fmt: skip
add("cloudflared", "PRIVATE_KEY", rnd(B64, 64),
    "-----BEGIN ARGO TUNNEL TOKEN-----\n{s}\n-----END ARGO TUNNEL TOKEN-----",
    "config")  # fmt: skip
add("PEM / OpenSSH / PGP", "PRIVATE_KEY",
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + rnd(B64, 60), "the key's body: {s}")  # fmt: skip
add("PEM / OpenSSH / PGP", "PRIVATE_KEY", rnd(B64, 64),
    "```\n{s}\n-----END OPENSSH PRIVATE KEY-----\n```")  # fmt: skip
add("Solana", "PRIVATE_KEY",
    ",".join(str(_bytes.randrange(256)) for _ in range(64)),
    "$ cat ~/.config/solana/id.json\n[{s}]", "config")  # fmt: skip
add("PgBouncer", "PASSWORD", rnd(ALNUM, 14), '$ cat userlist.txt\n"app" "{s}"', "config")
add("Postfix", "PASSWORD", rnd(ALNUM, 14), "[smtp.gmail.com]:587 bob@gmail.com:{s}",
    "config")  # fmt: skip
add("expect", "PASSWORD", rnd(ALNUM, 14),
    'spawn ssh bob@host\nexpect "*assword*"\nsend "{s}\\r"', "cli")  # fmt: skip
add("Markdown", "PASSWORD", rnd(ALNUM, 14), "### Admin password\n\n```\n{s}\n```")
add("reqwest", "PASSWORD", rnd(ALNUM, 14),
    'client.get(url).basic_auth("bob", Some("{s}"))')  # fmt: skip
add("Gradle", "SECRET", rnd(ALNUM, 40),
    'buildConfigField("String", "API_KEY", "\\"{s}\\"")', "config")  # fmt: skip
add("Oracle", "PASSWORD", rnd(ALNUM, 14),
    'conn = oracledb.connect("scott/{s}@db.acme.io:1521/ORCLPDB1")')  # fmt: skip
add("Vercel CLI", "SECRET", rnd(ALNUM, 40), "? What's the value of STRIPE_SECRET_KEY? {s}",
    "cli")  # fmt: skip
add("rsync", "PASSWORD", rnd(ALNUM, 14), "rsync --password-file=<(echo {s}) a rsync://bob@h/m",
    "cli")  # fmt: skip

# The eleventh attack: a credential set to a value in prose, the verb first (an agent's
# summary of its work), a name and words before an arrow, a strong password after a label
# with words after it or after `with password`, a reset password's new value.
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "I set the admin password to `{s}`.")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "I set DB_PASSWORD to {s} in the env")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "changed the password from {s} to the new one")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "use {s} as the new admin password")
add("prose", "SECRET", rnd(ALNUM, 32), "The API key is now {s}.")
add("prose", "SECRET", rnd(ALNUM, 32), "save this secret somewhere safe -> {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10),
    "The generated admin password is shown once: {s} - store it now.")  # fmt: skip
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "Created user 'deploy' with password {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "The root password I chose is {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "the new password, {s}, works")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "Set password for user postgres to {s}")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "You can log in with admin/{s}")
add("prose", "SECRET", rnd(ALNUM, 32), "Token created successfully!\n{s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "Grafana: admin / {s}")
add("K3s", "K3S_TOKEN", "K10" + rnd(HEX, 64) + "::server:" + rnd(HEX, 32),
    "$ sudo cat /var/lib/rancher/k3s/server/token\n{s}", "cli")  # fmt: skip
add("ldappasswd", "CLI_PASSWORD", rnd(ALNUM, 14),
    "ldappasswd -x -D cn=admin,dc=acme -W -s {s} uid=bob,dc=acme", "cli")  # fmt: skip
add("Elasticsearch", "PASSWORD", rnd(ALNUM, 20),
    "Password for the [elastic] user successfully reset.\nNew value: {s}", "cli")  # fmt: skip
add("prose", "SECRET", rnd(ALNUM, 32), "Rotated the API token. The new one is {s}")
add("prose", "SECRET", "Tm4#" + rnd(ALNUM, 10), "I rotated the secret; the new one is {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10),
    "The password that we use for the staging database is {s}")  # fmt: skip
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "the admin password remains {s}")
add("command line", "CLI_PASSWORD", "Tm4#" + rnd(ALNUM, 10), "echo -n '{s}' | base64", "cli")
add("htpasswd", "CLI_PASSWORD", rnd(ALNUM, 14),
    "echo '{s}' | htpasswd -i -c /etc/nginx/.htpasswd bob", "cli")  # fmt: skip
_TUNNEL = {"a": rnd(HEX, 32), "t": str(uuid.UUID(rnd(HEX, 32))), "s": rnd(B64, 44)}
add("Cloudflare Tunnel", "CLOUDFLARE_TUNNEL_TOKEN",
    base64.b64encode(json.dumps(_TUNNEL, separators=(",", ":")).encode()).decode(),
    "sudo cloudflared service install {s}", "cli")  # fmt: skip
tok("Doppler", "DOPPLER_TOKEN", "dp.st.prd.", ALNUM, 40,
    "DOPPLER_TOKEN is set; run doppler with {s}")  # fmt: skip
add("Firebase Cloud Messaging", "FCM_SERVER_KEY",
    "AAAA" + rnd(ALNUM, 7) + ":APA91b" + rnd(ALNUM, 134),
    "messages went out with {s} until it was revoked")  # fmt: skip
add("prose", "SECRET", "-".join(rnd(HEX, 5) for _ in range(2)),
    "Your recovery codes:\n" + "\n".join(rnd(HEX, 5) + "-" + rnd(HEX, 5) for _ in range(3))
    + "\n{s}")  # fmt: skip
add("prose", "SECRET", "Tm4#" + rnd(ALNUM, 10), "the WiFi key is {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "Admin login → admin@acme.io / {s}")
add("rclone", "CLI_PASSWORD", rnd(ALNUM, 14), "rclone obscure {s}", "cli")
add("cryptsetup", "CLI_PASSWORD", rnd(ALNUM, 14), "cryptsetup luksOpen /dev/sdb1 data <<< {s}",
    "cli")  # fmt: skip
add("assignment", "PASSWORD", "Pw7" + rnd(ALNUM, 12), 'DB_PASSWORD="${{DB_PASSWORD:={s}}}"',
    "config")  # fmt: skip
add("assignment", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'password = os.environ.get("DB_PASSWORD") or "{s}"', "config")  # fmt: skip
add("assignment", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "password: &db {s}", "config")
add("assignment", "PASSWORD", "Pw7" + rnd(ALNUM, 12), 'password = b"{s}"', "config")
add("assignment", "PASSWORD", base64.b64encode(rnd(ALNUM, 14).encode()).decode(),
    "db_password: !!binary {s}", "config")  # fmt: skip
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "user admin, pass {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "You can log in with admin and {s}")
add("prose", "PASSWORD", "Tm4#" + rnd(ALNUM, 10), "{s} is the admin password.")
add("ncftp", "CLI_PASSWORD", rnd(ALNUM, 14), "ncftp -u admin -p {s} ftp.acme.io", "cli")
add("Poetry", "CLI_PASSWORD", rnd(ALNUM, 14), "poetry publish -u bot -p {s}", "cli")
add("paramiko", "PASSWORD", rnd(ALNUM, 14), 'ssh.connect(hostname, 22, "root", "{s}")', "config")
add("prose", "SECRET", rnd(string.ascii_uppercase + "234567", 32), "The 2FA seed is {s}")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "Credentials for the staging DB: app / {s}")
add("Django", "DJANGO_SECRET_KEY",
    "django-insecure-" + rnd(string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)", 50),
    "Generated a new SECRET_KEY: {s}")  # fmt: skip
add("Terraform", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'variable "db_password" {{\n  type = string\n  default = "{s}"\n}}', "config")  # fmt: skip
add("AWS CloudFormation", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "Parameters:\n  DBPassword:\n    Type: String\n    NoEcho: true\n    Default: {s}",
    "config")  # fmt: skip
add("Dockerfile", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "FROM python:3.12\nENV DB_PASSWORD {s}",
    "config")  # fmt: skip
add("Amazon ECS", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    '"environment": [{{"name": "DB_PASSWORD", "value": "{s}"}}]', "config")  # fmt: skip
add("session cookies", "COOKIE", "s%3A" + rnd(ALNUM, 32) + "." + rnd(ALNUM, 20),
    "curl -b 'connect.sid={s}' https://app.acme.io/api", "cli")  # fmt: skip

add("prose", "SECRET", rnd(ALNUM, 32), "API key rotated, new={s}")
add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "Deployment finished. 🔑 Admin password: {s}")

add("bcrypt", "PASSWORD", "Pw7" + rnd(ALNUM, 12), 'bcrypt.hashpw(b"{s}", bcrypt.gensalt())',
    "config")  # fmt: skip
add("Dovecot", "CLI_PASSWORD", rnd(ALNUM, 14), "doveadm pw -s SHA512-CRYPT -p {s}", "cli")
add("Caddy", "CLI_PASSWORD", rnd(ALNUM, 14), "caddy hash-password --plaintext {s}", "cli")

add("Playwright", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "await page.getByLabel('Password').fill('{s}');", "config")  # fmt: skip
add("assignment", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'def get_password(self):\n    return "{s}"', "config")  # fmt: skip


add("SQL", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "INSERT INTO users (email, password) VALUES ('admin@acme.io', '{s}');", "config")  # fmt: skip
add("pg_dump", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "COPY public.users (id, email, password) FROM stdin;\n1\tadmin@acme.io\t{s}\n\\.",
    "config")  # fmt: skip
add("mysqldump", "SECRET", rnd(ALNUM, 32),
    "CREATE TABLE `api_clients` (\n  `id` int NOT NULL,\n  `secret` varchar(64)\n);\n"
    "INSERT INTO `api_clients` VALUES (1,'{s}');", "config")  # fmt: skip
add("psycopg", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'cur.execute("INSERT INTO users (name, password) VALUES (%s, %s)", ("bob", "{s}"))',
    "config")  # fmt: skip


add("MongoDB", "PASSWORD", "Pw7" + rnd(ALNUM, 12), 'db.changeUserPassword("app", "{s}")', "config")
add("MySQL", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "SET PASSWORD FOR 'app'@'%' = '{s}';", "config")
add("Redis", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "ACL SETUSER alice on >{s} ~* +@all", "cli")
add("SQL", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "UPDATE users SET password_digest = md5('{s}') WHERE id = 1;", "config")  # fmt: skip
add("command line", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12), "printf '{s}\\n{s}\\n' | vncpasswd",
    "cli")  # fmt: skip
add("command line", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12), "passwd bob <<< $'{s}\\n{s}'", "cli")


add("Hadoop", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "<property>\n  <name>javax.jdo.option.ConnectionPassword</name>\n  <value>{s}</value>\n"
    "</property>", "config")  # fmt: skip
add("Consul", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "consul kv put app/db/password {s}", "cli")
add("command line", "SECRET", rnd(ALNUM, 32),
    "eas secret:create --scope project --name API_KEY --value {s}", "cli")  # fmt: skip


add("Django", "PASSWORD", "Pw7" + rnd(ALNUM, 12), 'user.set_password("{s}")', "config")
add("RabbitMQ", "CLI_PASSWORD", rnd(ALNUM, 14), "rabbitmqadmin -u admin -p {s} list queues", "cli")
add("Grafana", "CLI_PASSWORD", rnd(ALNUM, 14), "grafana-cli admin reset-admin-password {s}", "cli")


add("Wi-Fi QR code", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "qrencode -t ansiutf8 'WIFI:S:HomeWifi;T:WPA;P:{s};;'", "cli")  # fmt: skip
add("Windows Wi-Fi profile", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "<keyMaterial>{s}</keyMaterial>",
    "config")  # fmt: skip
add("macOS", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "networksetup -setairportnetwork en0 HomeWifi {s}", "cli")  # fmt: skip


# The twenty-second attack: a password named in the developer's own language.
# Each begins with ASCII text, as base64 is read only then (docs/redaction.md).
add("another language", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "$config['db']['пароль'] = '{s}';",
    "config")  # fmt: skip
add("another language", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    '{{"db": {{"host": "db1", "mật khẩu": "{s}"}}}}', "config")  # fmt: skip
add("another language", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "INSERT INTO usuarios (nome, senha) VALUES ('joao', '{s}');", "config")  # fmt: skip
add("another language", "SECRET", rnd(ALNUM, 32), "$settings['api']['токен'] = '{s}';", "config")


# The twenty-third attack: passwords given where no rule looked.
add("SQL", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "INSERT INTO users (email, password) SELECT 'admin@acme.io', '{s}' WHERE NOT EXISTS "
    "(SELECT 1 FROM users);", "config")  # fmt: skip
add("WinRAR", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12), "rar a -hp{s} backup.rar db.sql", "cli")
add("Neo4j", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12), "cypher-shell -u neo4j -p {s}", "cli")
add("OpenVPN", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "sudo openvpn --config c.ovpn --auth-user-pass <(printf 'bob\\n{s}\\n')", "cli")  # fmt: skip
add("Junos", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'set system root-authentication plain-text-password-value "{s}"', "config")  # fmt: skip


# The twenty-fourth attack: a password handed to what encodes, hashes or copies it.
add("coreutils", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12), "base64 <<< '{s}'", "cli")
add("OpenLDAP", "CLI_PASSWORD", "Pw7" + rnd(ALNUM, 12), "slappasswd -h {{SSHA}} -s {s}", "cli")
add("Dovecot", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "bob:{{PLAIN}}{s}:1000:1000::/home/bob",
    "config")  # fmt: skip
add("ASP.NET Identity", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'await userManager.CreateAsync(user, "{s}");', "config")  # fmt: skip


# The twenty-fifth attack: a password a program types for its user.
add("Python subprocess", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "subprocess.run(['sudo', '-S', 'apt', 'update'], input='{s}\\n', text=True)",
    "config")  # fmt: skip


# The twenty-sixth attack: a password checked or hashed in code, a key given to its cipher.
add("password check (verify_password)", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'assert verify_password("{s}", user.hashed_password)', "config")  # fmt: skip
add("hashlib", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'pw_digest = hashlib.sha256(b"{s}").hexdigest()', "config")  # fmt: skip
add("PyCryptodome", "SECRET", rnd(ALNUM, 32), 'cipher = AES.new(b"{s}", AES.MODE_GCM)',
    "config")  # fmt: skip


# The twenty-seventh attack: passwords where no name stands beside them.
add("SQL (a users table's row, no column list)", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    "INSERT INTO users VALUES (1, 'alice', '{s}');", "config")  # fmt: skip
add("expect block", "PASSWORD", "Pw7" + rnd(ALNUM, 12),
    'spawn ssh bob@host\nexpect {{\n  "password:" {{ send "{s}\\r"; exp_continue }}\n}}',
    "cli")  # fmt: skip


# The twenty-eighth attack: a wallet's recovery phrase with no name beside it.
add("BIP-39 (a wallet library's call)", "MNEMONIC",
    phrase_of(hashlib.sha256(b"ox corpus wallet").digest()[:16]),
    'const wallet = ethers.Wallet.fromPhrase("{s}");', "config")  # fmt: skip


# The twenty-ninth attack: a passphrase of several words, bare where the line is the value.
add("YAML (a passphrase of several words)", "PASSWORD",
    " ".join(rnd(string.ascii_lowercase, 6) for _ in range(4)),
    "smtp:\n  host: mail.acme.io\n  password: {s}\n  port: 587", "config")  # fmt: skip

VENDORS = sorted({s.vendor for s in SHAPES if s.form != "cli" and s.vendor not in (
    "assignment", "command line", "URL", "HTTP", "high entropy")})  # fmt: skip


def in_json(shape: Shape, *, ascii_only: bool = False) -> str:
    """The shape's text starting a line inside a JSON-escaped tool input (`\\nSECRET...`),
    its other scripts as UTF-8 (as agents write JSON) or, `ascii_only`, as `\\u` escapes."""
    command = "cat <<'EOF' > .env\n" + shape.text + "\nEOF"
    return json.dumps({"command": command}, ensure_ascii=ascii_only)


def at_line_start(shape: Shape) -> str:
    """The shape's text at the start of a line of a multi-line text."""
    return "Here is the file:\n" + shape.text + "\nthat is all"


__all__ = ["SHAPES", "VENDORS", "Shape", "at_line_start", "in_json"]

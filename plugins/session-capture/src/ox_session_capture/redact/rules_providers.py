"""Vendor-specific credential formats: a fixed prefix and a body of known alphabet and length.

Written after the public rule sets of gitleaks (`config/gitleaks.toml`), detect-secrets
(`detect_secrets/plugins/`) and trufflehog (`pkg/detectors/`), checked against each vendor's
documented format. A format without a distinctive prefix (Datadog, Cloudflare, Okta keys: a
bare hex or base62 string) is caught by the keyword rules when a name such as `DD_API_KEY`
stands next to it, not here.

Each rule is a `token` rule: it runs only on text holding a long token-like run (see
`engine.CANDIDATE`) and one of its anchors, which keeps ordinary text cheap.
"""

from __future__ import annotations

from ox_session_capture.redact.rules import (
    END,
    QUOTE,
    START,
    Rule,
    not_placeholder,
    prefixed,
    rule,
    token_like,
)

_B62 = "[A-Za-z0-9]"
_URLSAFE = r"[A-Za-z0-9_\-]"
_HEX = "[a-f0-9]"

PROVIDER_RULES: tuple[Rule, ...] = (
    # ---- cloud
    prefixed("AWS_ACCESS_KEY", "AWS", r"(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])", "[A-Z0-9]{16}",
             ("akia", "asia", "abia", "acca", "a3t")),
    prefixed("AWS_SESSION_TOKEN", "AWS", r"(?:IQoJb3JpZ2luX2Vj|FwoGZXIvYXdzE|FQoGZXIvYXdzE)",
             r"[A-Za-z0-9/+=]{40,}", ("iqojb3jpz2lux2vj", "fwogzxivyxdze", "fqogzxivyxdze"),
             token=False),
    prefixed("GOOGLE_API_KEY", "Google Cloud", "AIza", r"[0-9A-Za-z_\-]{35}", "aiza"),
    prefixed("GOOGLE_OAUTH_TOKEN", "Google Cloud", r"ya29\.", r"[0-9A-Za-z_\-]{20,}", "ya29."),
    prefixed("GOOGLE_REFRESH_TOKEN", "Google Cloud", r"1//0", r"[0-9A-Za-z_\-]{40,}", "1//0"),
    # An OAuth authorization code, on its way back in a redirect (`?code=4/0A…`).
    prefixed("GOOGLE_AUTH_CODE", "Google Cloud", r"4/0A", r"[0-9A-Za-z_\-]{30,}", "4/0a"),
    prefixed("GOOGLE_CLIENT_SECRET", "Google Cloud", "GOCSPX-", r"[0-9A-Za-z_\-]{28}",
             "gocspx-"),
    rule("AZURE_CLIENT_SECRET", START + r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}" + END,
         "q~", vendor="Microsoft Entra ID (Azure AD)"),
    rule("AZURE_STORAGE_KEY", r"(?i:AccountKey)=(?P<secret>[A-Za-z0-9+/]{86}==)",
         "accountkey=", vendor="Azure Storage"),
    rule("AZURE_DEVOPS_PAT", START + r"[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{4}AZDO[A-Za-z0-9]{4}"
         + END, "jqqj99", vendor="Azure DevOps", token=True),
    prefixed("ALIBABA_ACCESS_KEY", "Alibaba Cloud", "LTAI", "[A-Za-z0-9]{12,20}", "ltai"),
    prefixed("TENCENT_SECRET_ID", "Tencent Cloud", "AKID", "[A-Za-z0-9]{32}", "akid"),
    prefixed("YANDEX_KEY", "Yandex Cloud", r"(?:AQVN|t1\.9euelZ)", r"[A-Za-z0-9_\-.]{30,}",
             ("aqvn", "t1.9euelz"), token=False),
    prefixed("DIGITALOCEAN_TOKEN", "DigitalOcean", r"do[por]_v1_", _HEX + "{64}",
             ("dop_v1_", "doo_v1_", "dor_v1_")),
    prefixed("HEROKU_KEY", "Heroku", "HRKU-", _URLSAFE + "{60}", "hrku-"),
    prefixed("FLY_TOKEN", "Fly.io", r"(?:fo1_|fm[12][ar]?_)", r"[A-Za-z0-9_\-+/=]{40,}",
             ("fo1_", "fm1", "fm2"), token=False),
    prefixed("PLANETSCALE_TOKEN", "PlanetScale", r"pscale_(?:tkn|pw|oauth)_",
             r"[A-Za-z0-9_\-.=]{32,64}", "pscale_"),
    prefixed("SUPABASE_TOKEN", "Supabase", r"(?:sbp_|sb_secret_)", _URLSAFE + "{32,}",
             ("sbp_", "sb_secret_")),
    prefixed("NETLIFY_TOKEN", "Netlify", "nfp_", _B62 + "{36}", "nfp_"),
    prefixed("RENDER_KEY", "Render", "rnd_", _B62 + "{32}", "rnd_"),
    prefixed("VERCEL_TOKEN", "Vercel", r"vc[pika]_", _B62 + "{56}",
             ("vcp_", "vci_", "vck_", "vca_")),
    prefixed("TERRAFORM_TOKEN", "HashiCorp Terraform Cloud", "[A-Za-z0-9]{14}\\.atlasv1\\.",
             r"[A-Za-z0-9_\-=]{60,70}", "atlasv1"),
    prefixed("VAULT_TOKEN", "HashiCorp Vault", r"hv[sbr]\.", _URLSAFE + "{24,}",
             ("hvs.", "hvb.", "hvr.")),
    # A Vault token of the older format, beside a Vault name (`VAULT_TOKEN=s.…`).
    rule("VAULT_TOKEN", START + r"[sb]\.(?P<secret>[A-Za-z0-9]{24})" + END, "vault",
         vendor="HashiCorp Vault (legacy s. and b. tokens, beside a Vault name)",
         check=lambda s, m: token_like(s)),
    # A service token names its config first (`dp.st.prd.…`).
    prefixed("DOPPLER_TOKEN", "Doppler", r"dp\.(?:pt|st|sa|ct|scim|audit)\.",
             r"(?:[a-z0-9_-]{2,35}\.)?" + _B62 + "{40,44}", "dp."),
    prefixed("PULUMI_TOKEN", "Pulumi", "pul-", _HEX + "{40}", "pul-"),
    prefixed("DATABRICKS_TOKEN", "Databricks", "dapi", _HEX + r"{32}(?:-\d)?", "dapi"),
    prefixed("CLOUDFLARE_CA_KEY", "Cloudflare", r"v1\.0-", _HEX + "{24}-" + _HEX + "{146}",
             "v1.0-"),
    # ---- source hosting, CI, registries
    prefixed("GITHUB_TOKEN", "GitHub", r"gh[pousr]_", _B62 + "{36,255}",
             ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    prefixed("GITHUB_PAT", "GitHub", "github_pat_", "[A-Za-z0-9_]{22,255}", "github_pat_"),
    prefixed("GITLAB_TOKEN", "GitLab", r"gl(?:pat|ptt|dt|rt|cbt|imt|ft|soat|agent|oas)-",
             _URLSAFE + "{20,}",
             ("glpat-", "glptt-", "gldt-", "glrt-", "glcbt-", "glimt-", "glft-", "glsoat-",
              "glagent-", "gloas-")),
    prefixed("BITBUCKET_TOKEN", "Bitbucket / Atlassian", r"(?:ATBB|ATATT3|ATCTT3)",
             r"[A-Za-z0-9_\-=]{32,}", ("atbb", "atatt3", "atctt3")),
    prefixed("NPM_TOKEN", "npm", "npm_", _B62 + "{36}", "npm_"),
    prefixed("PYPI_TOKEN", "PyPI", r"pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)",
             _URLSAFE + "{20,}", ("pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw")),
    prefixed("RUBYGEMS_KEY", "RubyGems", "rubygems_", _HEX + "{48}", "rubygems_"),
    prefixed("NUGET_KEY", "NuGet", "oy2", "[a-z0-9]{43}", "oy2"),
    prefixed("CLOJARS_TOKEN", "Clojars", "CLOJARS_", "[a-z0-9]{60}", "clojars_"),
    prefixed("DOCKER_HUB_TOKEN", "Docker Hub", r"dckr_(?:pat|oat)_", _URLSAFE + "{27,}",
             "dckr_"),
    prefixed("ARTIFACTORY_TOKEN", "JFrog Artifactory", r"(?:AKCp|cmVmdGtuOjAxOj)",
             _B62 + "{40,}", ("akcp", "cmvmdgtuojaxoj")),
    prefixed("CIRCLECI_TOKEN", "CircleCI", "CCIPAT_", _B62 + "{22}_" + _HEX + "{40}",
             "ccipat_"),
    prefixed("BUILDKITE_TOKEN", "Buildkite", "bkua_", _HEX + "{40}", "bkua_"),
    prefixed("SONAR_TOKEN", "SonarQube / SonarCloud", r"sq[pau]_", _HEX + "{40}",
             ("sqp_", "sqa_", "squ_")),
    prefixed("HARNESS_TOKEN", "Harness", r"pat\.[A-Za-z0-9_\-]{22}\.", _HEX + r"{24}\."
             + _B62 + "{20}", "pat."),
    prefixed("OCTOPUS_KEY", "Octopus Deploy", "API-", "[A-Z0-9]{26}", "api-"),
    prefixed("GRAFANA_TOKEN", "Grafana", r"(?:glc_|glsa_|eyJrIjoi)", r"[A-Za-z0-9+/_=]{32,}",
             ("glc_", "glsa_", "eyjrijoi"), token=False),
    prefixed("SENTRY_TOKEN", "Sentry", r"sntry[sua]_", r"[A-Za-z0-9+/=_\-]{40,}",
             "sntry", token=False),
    rule("SENTRY_DSN", r"https?://(?P<secret>" + _HEX + r"{32})(?::" + _HEX
         + r"{32})?@[A-Za-z0-9.\-]*sentry", "sentry", vendor="Sentry", token=True),
    prefixed("NEWRELIC_KEY", "New Relic", r"NR(?:AK|AA|II|JS)-", "[A-Za-z0-9]{19,32}",
             ("nrak-", "nraa-", "nrii-", "nrjs-")),
    prefixed("DYNATRACE_TOKEN", "Dynatrace", r"dt0c01\.", r"[A-Z0-9]{24}\.[A-Z0-9]{64}",
             "dt0c01."),
    prefixed("POSTHOG_KEY", "PostHog", "phx_", _B62 + "{43}", "phx_"),
    # ---- AI
    prefixed("ANTHROPIC_KEY", "Anthropic", "sk-ant-", _URLSAFE + "{20,}", "sk-ant-"),
    prefixed("OPENAI_KEY", "OpenAI (and sk- keys: DeepSeek, OpenRouter, Moonshot)",
             r"sk-(?:proj-|svcacct-|admin-|or-v1-|None-)?", _URLSAFE + "{20,}", "sk-"),
    prefixed("HUGGINGFACE_TOKEN", "Hugging Face", r"(?:hf_|api_org_)", _B62 + "{30,}",
             ("hf_", "api_org_")),
    prefixed("REPLICATE_TOKEN", "Replicate", "r8_", _B62 + "{37}", "r8_"),
    prefixed("GROQ_KEY", "Groq", "gsk_", _B62 + "{52}", "gsk_"),
    prefixed("PERPLEXITY_KEY", "Perplexity", "pplx-", _B62 + "{48}", "pplx-"),
    prefixed("XAI_KEY", "xAI", "xai-", _B62 + "{80}", "xai-"),
    prefixed("LANGSMITH_KEY", "LangSmith", r"lsv2_(?:pt|sk)_", _HEX + "{32}_" + _HEX + "{10}",
             "lsv2_"),
    prefixed("PINECONE_KEY", "Pinecone", "pcsk_", "[A-Za-z0-9_]{40,}", "pcsk_"),
    prefixed("ELEVENLABS_KEY", "ElevenLabs", "sk_", _HEX + "{48}", "sk_"),
    # AI services and the agents' tools (MCP servers' configs hold these).
    prefixed("CEREBRAS_KEY", "Cerebras", "csk-", "[a-z0-9]{48}", "csk-"),
    prefixed("TAVILY_KEY", "Tavily", r"tvly-(?:dev-|prod-)?", _B62 + "{32}", "tvly-"),
    prefixed("FIRECRAWL_KEY", "Firecrawl", "fc-", _HEX + "{32}", "fc-"),
    prefixed("JINA_KEY", "Jina AI", "jina_", _URLSAFE + "{60,}", "jina_"),
    prefixed("E2B_KEY", "E2B", "e2b_", _HEX + "{40}", "e2b_"),
    prefixed("BROWSERBASE_KEY", "Browserbase", "bb_live_", _URLSAFE + "{20,}", "bb_live_"),
    prefixed("RUNPOD_KEY", "RunPod", "rpa_", "[A-Z0-9]{40}", "rpa_"),
    prefixed("AWS_BEDROCK_KEY", "AWS Bedrock", "ABSK", r"[A-Za-z0-9+/]{100,}={0,2}", "absk",
             token=False),
    # ---- messaging, webhooks
    prefixed("SLACK_TOKEN", "Slack", r"xox[abposre]-", r"[A-Za-z0-9-]{10,}", "xox"),
    prefixed("SLACK_APP_TOKEN", "Slack", r"xapp-\d-", r"[A-Z0-9]+-\d+-[a-z0-9]+", "xapp-"),
    rule("SLACK_WEBHOOK", r"https://hooks\.slack\.com/(?:services|workflows|triggers)/"
         r"[A-Za-z0-9_/]+", "hooks.slack", vendor="Slack"),
    rule("DISCORD_WEBHOOK", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/"
         r"\d+/[A-Za-z0-9_\-]{30,}", "discord", vendor="Discord"),
    rule("TEAMS_WEBHOOK", r"https://[A-Za-z0-9\-.]*(?:webhook\.office|outlook\.office)\.com/"
         r"webhook(?:b2)?/[^\s\"'\\<>]+", ("webhook.office", "outlook.office"),
         vendor="Microsoft Teams"),
    rule("GOOGLE_CHAT_WEBHOOK", r"https://chat\.googleapis\.com/v1/spaces/[^\s\"'\\<>]+",
         "chat.googleapis", vendor="Google Chat"),
    rule("ZAPIER_WEBHOOK", r"https://hooks\.zapier\.com/hooks/catch/\d+/[A-Za-z0-9]+",
         "hooks.zapier", vendor="Zapier"),
    rule("TELEGRAM_BOT_TOKEN",
         r"(?:(?<![A-Za-z0-9_])|(?<=bot))\d{8,10}:AA[A-Za-z0-9_\-]{33}" + END, ":aa",
         vendor="Telegram", token=True),
    prefixed("TWILIO_KEY", "Twilio", "SK", "[0-9a-fA-F]{32}", "sk"),
    prefixed("SENDGRID_KEY", "SendGrid", r"SG\.", _URLSAFE + r"{16,}\." + _URLSAFE + "{16,}",
             "sg."),
    prefixed("MAILGUN_KEY", "Mailgun", "key-", _HEX + "{32}", "key-"),
    rule("MAILCHIMP_KEY", START + _HEX + r"{32}-us\d{1,2}" + END, "-us", vendor="Mailchimp",
         token=True),
    prefixed("BREVO_KEY", "Brevo (Sendinblue)", r"x(?:keysib|smtpsib)-",
             _HEX + "{64}-" + _B62 + "{16}", ("xkeysib-", "xsmtpsib-")),
    prefixed("RESEND_KEY", "Resend", "re_", _B62 + "{8}_" + _B62 + "{24}", "re_"),
    # ---- payments, commerce
    prefixed("STRIPE_KEY", "Stripe", r"(?:sk|rk)_(?:live|test)_", _B62 + "{16,}",
             ("k_live_", "k_test_")),
    prefixed("STRIPE_WEBHOOK_SECRET", "Stripe", "whsec_", _B62 + "{24,}", "whsec_"),
    prefixed("SQUARE_TOKEN", "Square", r"(?:EAAA|sq0atp-|sq0csp-)", _URLSAFE + "{22,60}",
             ("eaaa", "sq0atp-", "sq0csp-")),
    prefixed("SHOPIFY_TOKEN", "Shopify", r"shp(?:at|ca|pa|ss)_", "[a-fA-F0-9]{32}",
             ("shpat_", "shpca_", "shppa_", "shpss_")),
    prefixed("SHIPPO_TOKEN", "Shippo", r"shippo_(?:live|test)_", _HEX + "{40}", "shippo_"),
    prefixed("EASYPOST_KEY", "EasyPost", r"EZ[AT]K", _HEX + "{54}", ("ezak", "eztk")),
    prefixed("FLUTTERWAVE_KEY", "Flutterwave", r"FLWSECK(?:_TEST)?-", _HEX + "{32}-X",
             "flwseck"),
    prefixed("PAYPAL_BRAINTREE_TOKEN", "PayPal Braintree", r"access_token\$production\$",
             r"[a-z0-9]{16}\$" + _HEX + "{32}", "access_token$"),
    prefixed("PLAID_TOKEN", "Plaid", r"access-(?:sandbox|development|production)-",
             _HEX + "{8}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{12}",
             ("access-sandbox-", "access-development-", "access-production-")),
    prefixed("DUFFEL_TOKEN", "Duffel", r"duffel_(?:test|live)_", r"[A-Za-z0-9_\-=]{43}",
             "duffel_"),
    # ---- productivity, design, content
    prefixed("LINEAR_KEY", "Linear", "lin_api_", _B62 + "{40}", "lin_api_"),
    prefixed("NOTION_TOKEN", "Notion", r"(?:secret_|ntn_)", _B62 + "{43,46}",
             ("secret_", "ntn_")),
    prefixed("AIRTABLE_TOKEN", "Airtable", r"pat[A-Za-z0-9]{14}\.", _HEX + "{64}", "pat"),
    prefixed("FIGMA_TOKEN", "Figma", r"fig[dou]_", _URLSAFE + "{40,}",
             ("figd_", "figo_", "figu_")),
    prefixed("POSTMAN_KEY", "Postman", "PMAK-", _HEX + "{24}-" + _HEX + "{34}", "pmak-"),
    prefixed("README_KEY", "ReadMe", "rdme_", "[a-z0-9]{70}", "rdme_"),
    prefixed("CONTENTFUL_TOKEN", "Contentful", "CFPAT-", _URLSAFE + "{43}", "cfpat-"),
    prefixed("TYPEFORM_TOKEN", "Typeform", "tfp_", r"[A-Za-z0-9_\-.=]{40,}", "tfp_"),
    prefixed("DROPBOX_TOKEN", "Dropbox", r"sl\.", r"[A-Za-z0-9_\-.]{130,}", "sl."),
    prefixed("FRAMEIO_TOKEN", "Frame.io", "fio-u-", r"[A-Za-z0-9_\-=]{64}", "fio-u-"),
    prefixed("ADAFRUIT_KEY", "Adafruit IO", "aio_", _B62 + "{28}", "aio_"),
    prefixed("MAPBOX_TOKEN", "Mapbox", r"sk\.eyJ", r"[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}",
             "sk.eyj"),
    # A K3s cluster's secure token: the CA's SHA-256, then `::user:password`.
    prefixed("K3S_TOKEN", "K3s", "K10", r"[0-9a-f]{64}::[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9]{8,}",
             "k10"),
    # A Cloudflare Tunnel's token: base64 of `{"a":<account>,"t":<tunnel>,"s":<secret>}`
    # (`cloudflared service install <token>`, the dashboard's copy-paste command).
    prefixed("CLOUDFLARE_TUNNEL_TOKEN", "Cloudflare Tunnel", "eyJhIjoi",
             r"[A-Za-z0-9+/_\-]{60,}={0,2}", "eyjhijoi", token=False),
    prefixed("TAILSCALE_KEY", "Tailscale", r"tskey-(?:auth-|api-|client-|scim-|webhook-)?",
             r"[A-Za-z0-9]{6,}-[A-Za-z0-9]{16,}", "tskey-"),
    prefixed("ONEPASSWORD_TOKEN", "1Password", r"ops_eyJ", r"[A-Za-z0-9+/=_\-]{100,}",
             "ops_eyj", token=False),
    prefixed("ONEPASSWORD_SECRET_KEY", "1Password", r"A3-[A-Z0-9]{6}-",
             r"(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
             "a3-"),
    prefixed("AGE_SECRET_KEY", "age", "AGE-SECRET-KEY-1", "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
             "age-secret-key-1"),
    prefixed("FACEBOOK_TOKEN", "Meta (Facebook)", r"EAA[BCDGI]", _B62 + "{80,}", "eaa"),
    # Not a run of `A` alone (base64 of zeros: a compressed or sparse file).
    prefixed("TWITTER_BEARER", "X (Twitter)", "A{22}",
             r"(?=A{0,60}[B-Za-z0-9%])[A-Za-z0-9%]{30,}", "aaaaaaaaaaaaaaaaaaaaaa", token=False),
    prefixed("SALESFORCE_TOKEN", "Salesforce", r"00D[A-Za-z0-9]{12}!", r"[A-Za-z0-9_.]{80,}",
             "00d"),
    # A run that is not a JWT is skipped whole: each `eyJ` after a `-` in it would look for
    # the same `.` (n^2 on `eyJ-eyJ-…`).
    rule("JWT", START + r"(?:(?P<secret>eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}"
         r"\.[A-Za-z0-9_\-]{8,})|eyJ[A-Za-z0-9_\-]*+)",
         "eyj", vendor="JSON Web Token (any issuer)", token=True),
    # ---- dev tools, observability, flags, payments (each a documented prefix)
    prefixed("NEON_KEY", "Neon", "napi_", "[a-z0-9]{64}", "napi_"),
    # Firebase Cloud Messaging's legacy server key: an id, `:APA91b`, then the key.
    prefixed("FCM_SERVER_KEY", "Firebase Cloud Messaging", r"AAAA[A-Za-z0-9_\-]{7}:APA91b",
             r"[A-Za-z0-9_\-]{100,200}", ":apa91b", token=False),
    prefixed("INNGEST_SIGNING_KEY", "Inngest", r"signkey-(?:prod|test|branch)-", _HEX + "{64}",
             "signkey-"),
    prefixed("TRIGGER_KEY", "Trigger.dev", r"tr_(?:prod|dev|stg|preview)_", _B62 + "{20,}",
             ("tr_prod_", "tr_dev_", "tr_stg_", "tr_preview_")),
    prefixed("AXIOM_TOKEN", "Axiom", r"xa[ap]t-",
             _HEX + "{8}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{12}",
             ("xaat-", "xapt-")),
    prefixed("HONEYCOMB_KEY", "Honeycomb", r"hc[ab]i[kc]_", "[a-z0-9]{50,}",
             ("hcaik_", "hcbik_", "hcaic_", "hcbic_")),
    prefixed("HUBSPOT_TOKEN", "HubSpot", r"pat-(?:na|eu|ap)\d-",
             _HEX + "{8}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{12}",
             ("pat-na", "pat-eu", "pat-ap")),
    prefixed("CLICKUP_TOKEN", "ClickUp", r"pk_\d{6,10}_", "[A-Z0-9]{32}", "pk_"),
    prefixed("TRELLO_TOKEN", "Trello", "ATTA", _HEX + "{64}[A-F0-9]{8}", "atta"),
    prefixed("ONESIGNAL_KEY", "OneSignal", r"os_v2_(?:app|org)_", "[a-z0-9]{50,}", "os_v2_"),
    prefixed("SOCKET_KEY", "Socket.dev", "sktsec_", _URLSAFE + "{40,}", "sktsec_"),
    prefixed("YOUTRACK_TOKEN", "JetBrains YouTrack / Hub", "perm:",
             r"[A-Za-z0-9=+/]{2,}\.[A-Za-z0-9=+/]{2,}\.[A-Za-z0-9]{20,}", "perm:", token=False),
    prefixed("LAUNCHDARKLY_KEY", "LaunchDarkly", "sdk-",
             _HEX + "{8}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{4}-" + _HEX + "{12}",
             "sdk-"),
    prefixed("STATSIG_KEY", "Statsig", "secret-", _B62 + "{43}", "secret-"),
    prefixed("DEVCYCLE_KEY", "DevCycle", r"dvc_(?:server|client|mobile)_", _URLSAFE + "{20,}",
             "dvc_"),
    prefixed("PADDLE_KEY", "Paddle", r"pdl_(?:live|sdbx)_apikey_", _URLSAFE + "{40,}", "pdl_"),
    prefixed("POLAR_TOKEN", "Polar", r"polar_(?:oat|pat|at_u|at_o|rt_o|rt_u)_", _B62 + "{40,}",
             "polar_"),
    prefixed("GITLAB_RUNNER_TOKEN", "GitLab", "GR1348941", _URLSAFE + "{20}", "gr1348941"),
    prefixed("PREFECT_KEY", "Prefect", "pnu_", _B62 + "{36}", "pnu_"),
    prefixed("ADOBE_SECRET", "Adobe", "p8e-", "[A-Za-z0-9_\\-]{32}", "p8e-"),
    prefixed("SOURCEGRAPH_TOKEN", "Sourcegraph", "sgp_", r"(?:[a-f0-9]{16}_|local_)?[a-f0-9]{40}",
             "sgp_"),
    prefixed("TEAMCITY_TOKEN", "JetBrains TeamCity", r"eyJ0eXAiOiAiVENWMiJ9\.",
             r"[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}", "eyj0exaioiaivenwmij9"),
    rule("TWITCH_TOKEN", r"oauth:(?P<secret>[a-z0-9]{30})" + END, "oauth:", vendor="Twitch"),
    rule("UNLEASH_TOKEN", r"\*:[a-z0-9_\-]{1,40}\.(?P<secret>[a-f0-9]{64})" + END, "*:",
         vendor="Unleash"),
    rule("CONVEX_DEPLOY_KEY", r"(?:prod|dev|preview|project):[a-z0-9\-]{1,64}\|"
         r"(?P<secret>eyJ[A-Za-z0-9+/=_\-]{20,})", "|eyj", vendor="Convex"),
    prefixed("NOSTR_NSEC", "Nostr", "nsec1", "[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}", "nsec1"),
    prefixed("VOYAGE_KEY", "Voyage AI", "pa-", _URLSAFE + "{43}", "pa-"),
    prefixed("FIREWORKS_KEY", "Fireworks AI", "fw_", _B62 + "{24}", "fw_"),
    prefixed("YANDEX_KEY", "Yandex Cloud (static access key)", "YC", _URLSAFE + "{38}", "yc"),
    prefixed("SANITY_TOKEN", "Sanity", "sk", _B62 + "{78,}", "sk"),
    # MaxMind's license keys end in `_mmk`; Asana's personal tokens are two ids and a secret.
    rule("MAXMIND_KEY", START + r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk" + END, "_mmk",
         vendor="MaxMind", token=True),
    rule("ASANA_TOKEN", START + r"[12]/\d{10,19}(?:/\d{10,19})?:" + _HEX + "{32}" + END,
         ("1/", "2/"), vendor="Asana", token=True),
    # Keys with no prefix of their own, where the client that takes them is named.
    rule("DISCORD_BOT_TOKEN", r"\.run\(\s*(?:token\s*=\s*)?" + QUOTE + r"(?P<secret>[MNO]"
         r"[A-Za-z0-9_\-]{23,27}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,40})" + QUOTE, ".run(",
         vendor="Discord (a bot's token, in `client.run`)"),
    rule("ABLY_KEY", r"Ably\.(?:Realtime|Rest)(?:\.Promise)?\(\s*(?:\{\s*key\s*:\s*)?" + QUOTE
         + r"(?P<secret>[A-Za-z0-9_\-]{4,12}\.[A-Za-z0-9_\-]{4,12}:[A-Za-z0-9_\-]{30,})" + QUOTE,
         "ably.", vendor="Ably"),
    # Bundler's credentials for a gem source: `BUNDLE_<HOST>=user:password` (`__` for a dot).
    rule("BUNDLER_CREDENTIALS", r"BUNDLE_(?!BUILD__)(?P<host>[A-Z0-9_]{1,120}+)"
         r"(?:[ \t]*+[=:][ \t]*+|[ \t]++)" + QUOTE + r"?(?P<secret>[^\s\"'`]{8,200})",
         "bundle_", vendor="Bundler (a private gem source: Sidekiq Pro, GitHub Packages)",
         check=lambda s, m: "__" in m.group("host").strip("_") and not_placeholder(s)),
    # Django's `startproject` key: `django-insecure-` and 50 of `get_random_secret_key`'s
    # characters (its signs take the key out of any `name: value` reading).
    rule("DJANGO_SECRET_KEY", START + r"django-insecure-[a-z0-9!@#$%^&*(\-_=+)]{40,60}+",
         "django-insecure-", vendor="Django", token=True),
    # A session cookie by its framework's name: PHP's, Java's, ASP.NET's, Express's, Rails'
    # and Laravel's (`_id` names are no secrets' elsewhere; these hold a live session).
    rule("COOKIE", r"(?<![\w.-])(?i:PHPSESSID|JSESSIONID|ASP\.NET_SessionId|connect\.sid"
         r"|_[a-z0-9]{1,40}_session(?:_id)?|_session_id|laravel_session|sessionid)"
         r"[ \t]*=[ \t]*" + QUOTE + r"?(?P<secret>[A-Za-z0-9%._\-+/=:]{16,400}+)",
         ("sessid", "sessionid", "connect.sid", "_session"), vendor="session cookies",
         check=lambda s, m: token_like(s.replace("%3A", ":"), 16) or (
             len(s) >= 26 and s.isalnum() and any(c.isdigit() for c in s))),
    # ---- webhooks whose URL is the secret
    rule("WEBHOOK_URL", r"https://hook\.(?:eu|us)\d\.make\.com/[a-z0-9]{32}" + END,
         "make.com/", vendor="Make"),
    rule("WEBHOOK_URL", r"https://maker\.ifttt\.com/(?:trigger/[^\s/\"'<>]+/)?with/key/"
         r"[A-Za-z0-9_\-]{20,}", "maker.ifttt", vendor="IFTTT"),
    rule("WEBHOOK_URL", r"https://open\.(?:feishu\.cn|larksuite\.com)/open-apis/bot/v2/hook/"
         r"[A-Za-z0-9\-]{20,}", ("open.feishu", "open.larksuite"), vendor="Feishu / Lark"),
    rule("WEBHOOK_URL", r"https://qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key="
         r"[A-Za-z0-9\-]{20,}", "qyapi.weixin", vendor="WeCom"),
    rule("WEBHOOK_URL", r"https://oapi\.dingtalk\.com/robot/send\?access_token=[a-f0-9]{64}",
         "oapi.dingtalk", vendor="DingTalk"),
    # Mattermost's ids are 26 lower-case letters and digits; Rocket.Chat's an id and a token.
    rule("WEBHOOK_URL", r"/hooks/(?:[a-z0-9]{26}|[A-Za-z0-9]{17}/[A-Za-z0-9]{24,})" + END,
         "/hooks/", vendor="Mattermost / Rocket.Chat",
         check=lambda s, m: any(c.isdigit() for c in s) and any(c.isalpha() for c in s)),
)  # fmt: skip

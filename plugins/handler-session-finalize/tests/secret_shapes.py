"""A table of realistic (fake) secret shapes, shared by the redaction and the end-to-end tests.

Values are assembled from parts so that this file itself does not look like it leaks keys.
Each row: (kind expected in the replacement, text as it would appear in a transcript, the
secret value that must vanish).
"""

from __future__ import annotations

_B64 = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
_ALNUM36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"

SECRET_SHAPES: list[tuple[str, str, str]] = [
    (
        "AWS_ACCESS_KEY",
        "export AWS_ACCESS_KEY_ID=" + "AKIA" + "IOSFODNN7EXAMPLE",
        "AKIA" + "IOSFODNN7EXAMPLE",
    ),
    ("AWS_SECRET_KEY", "aws_secret_access_key = " + _B64, _B64),
    (
        "GITHUB_TOKEN",
        "git remote set-url origin with token " + "ghp_" + _ALNUM36,
        "ghp_" + _ALNUM36,
    ),
    (
        "GITHUB_PAT",
        "GH token: " + "github_pat_" + "11ABCDEFG0123456789_abcdefghijKLMNOPqrstuv",
        "github_pat_" + "11ABCDEFG0123456789_abcdefghijKLMNOPqrstuv",
    ),
    (
        "GITLAB_TOKEN",
        "curl -H 'PRIVATE-TOKEN: " + "glpat-" + "xYz12_AbCdEfGhIjKlMn'",
        "glpat-" + "xYz12_AbCdEfGhIjKlMn",
    ),
    (
        "ANTHROPIC_KEY",
        "ANTHROPIC_API_KEY is " + "sk-ant-" + "api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "sk-ant-" + "api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    ),
    (
        "OPENAI_KEY",
        "use key " + "sk-proj-" + "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56",
        "sk-proj-" + "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56",
    ),
    (
        "GOOGLE_API_KEY",
        "maps key " + "AIza" + "SyD-1234567890abcdefghijklmnopqrstu",
        "AIza" + "SyD-1234567890abcdefghijklmnopqrstu",
    ),
    (
        "SLACK_TOKEN",
        "SLACK_BOT=" + "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
    ),
    (
        "SLACK_WEBHOOK",
        "post to "
        + "https://hooks.slack.com/services/"
        + "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
        "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX",
    ),
    (
        "STRIPE_KEY",
        "stripe.api_key = '" + "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc'",
        "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc",
    ),
    (
        "TWILIO_KEY",
        "twilio sid " + "SK" + "0123456789abcdef0123456789abcdef",
        "SK" + "0123456789abcdef0123456789abcdef",
    ),
    (
        "SENDGRID_KEY",
        "SENDGRID=" + "SG." + "ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
        "SG." + "ngeVfQFYQlKU0ufo8x5d1A.TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc-1s5cr",
    ),
    ("NPM_TOKEN", "//registry.npmjs.org/:_authToken=" + "npm_" + _ALNUM36, "npm_" + _ALNUM36),
    (
        "PYPI_TOKEN",
        "password = " + "pypi-AgEIcHlwaS5vcmc" + "CJDU2ZjE0ZTg3LWFiYzQtNDQ1Zi05ZmVj",
        "pypi-AgEIcHlwaS5vcmc" + "CJDU2ZjE0ZTg3LWFiYzQtNDQ1Zi05ZmVj",
    ),
    (
        "HUGGINGFACE_TOKEN",
        "HF_TOKEN " + "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
        "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567",
    ),
    (
        "JWT",
        "cookie session=" + "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    (
        "URL_CREDENTIALS",
        "DATABASE_URL=postgres://app:" + "s3cr3tPassw0rd" + "@db.internal:5432/app",
        "s3cr3tPassw0rd",
    ),
    (
        "BEARER_TOKEN",
        "Authorization: Bearer " + "abcDEF123456ghiJKL789012mnoPQR",
        "abcDEF123456ghiJKL789012mnoPQR",
    ),
    ("PASSWORD", "mysql -u root password=" + "Hunter2Hunter2!", "Hunter2Hunter2!"),
    ("PASSWORD", '{"client_secret": "' + "9f8e7d6c5b4a39281706" + '"}', "9f8e7d6c5b4a39281706"),
    (
        "PRIVATE_KEY",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq0vTQ9x\nQ2lBf3Xk9Zp\n"
        "-----END RSA PRIVATE KEY-----",
        "MIIEowIBAAKCAQEA7bq0vTQ9x",
    ),
    (
        "PRIVATE_KEY",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n"
        "-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
    ),
]

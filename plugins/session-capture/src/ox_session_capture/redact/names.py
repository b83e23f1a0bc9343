"""Whether a name (`DB_PASSWORD`, `apiKey`, `--client-secret`, a JSON key) calls for a secret,
and whether the value next to it is a literal secret rather than code or a placeholder.

Used by the assignment, flag and XML rules of `rules_keywords` and by the JSON walk of
`engine` (a value under a key such as `"password"`).
"""

from __future__ import annotations

import re
from typing import Literal

from ox_session_capture.redact.rules import INNER_DIGIT, token_like

NameClass = Literal["PASSWORD", "SECRET", "WEAK"]

_COMPONENT = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_PASSWORD = re.compile(
    r"pass(?:word|wd|phrase|code)|pwd|^pw$|^pword$"
    r"|^(?:src|dest|new|old)?(?:db|pg|my|sql|root|admin|user|smtp|redis|mail|ftp|ldap|store"
    r"|key|rabbit|mongo|ssh|sudo|vnc|wifi|pfx|p12|require|remote|local|proxy|bind|master|imap"
    r"|pop|auth|keystore|truststore|server|client)?pass$|^(?:wifi|wpa|wlan)?psk$"
    # in other languages (`mot_de_passe`; `contraseña` splits at its `ñ`), and transliterated
    # (Russian `parol`, Chinese pinyin `mima`; not Serbian `sifra` nor Indonesian `sandi`
    # alone, a product's code as often)
    r"|passwort|kennwort|^contrase|^senha$|wachtwoord|^passe$|^passord$|^haslo$|^heslo$"
    r"|^sifre$|^salasana$|^losenord$|motdepasse|^parol$|^parool$|^mima$|^lozinka$|^geslo$"
    r"|^jelszo$|^kodeord$|^adgangskode$",
    re.MULTILINE,
)
"""A password's word among a name's words, searched over them once, a line each (`^` and `$`
are each word's ends)."""
PASSWORD_WORDS_ABROAD = (
    "kennwort", "contrase", "senha", "wachtwoord", "haslo", "heslo", "sifre", "salasana",
    "losenord", "parol", "mima", "lozinka", "geslo", "jelszo", "kodeord", "adgangskode",
    "sandi", "khau",
)  # fmt: skip
"""What a password's name in another language holds, ASCII and lower case, for the rules'
pre-filters and name patterns (`passwort`, `passord`, `mot_de_passe` hold `pass`; `khau`,
`sandi`: Vietnamese `mat_khau`, Indonesian `kata_sandi`, two words)."""
_JOINED_PASSWORD = re.compile("matkhau|katasandi")
"""A password's name of two words, however joined (`mat_khau`, `matKhau`, `KATA_SANDI`)."""
_ABROAD = re.compile(
    r"пароль|密码|密碼|口令|パスワード|비밀번호|hasło|şifre|lösenord|contraseña|mật khẩu|jelszó"
    r"|كلمة المرور|كلمة السر|पासवर्ड|รหัสผ่าน|סיסמה|κωδικός πρόσβασης|mật_khẩu"
)
"""A password's name written in another script or with its accents (a JSON key `"пароль"`,
`"mật khẩu"`): `components` reads ASCII letters only."""
_KEY_ABROAD = re.compile(r"токен|ключ|密钥|令牌|トークン|キー|토큰|키|clé|schlüssel|anahtar")
"""A token's or a key's name so written (`"токен"`, `"密钥"`, `clé_api`): it only may hold a
secret (`ключ`, `キー` also name a dictionary's key), as `key` does."""
_SECRET_PARTS = (
    "secret", "apikey", "accesskey", "privatekey", "secretkey", "encryptionkey", "signingkey",
    "masterkey", "clientkey", "appkey", "licensekey", "authkey", "sessionkey", "hmackey",
    "deploykey", "accountkey", "sharedkey", "storagekey", "subscriptionkey", "servicekey",
    "adminkey", "writekey", "ingestkey", "cryptkey", "passkey", "webhook", "connectionstring",
    "connstr", "credential", "apitoken",
)  # fmt: skip
_SECRET_WORDS = frozenset(
    {"token", "auth", "authorization", "bearer", "dsn", "creds", "cred", "jwt", "otp", "totp",
     "mfa", "sas", "authtoken", "accesstoken", "refreshtoken", "idtoken", "sessiontoken",
     "csrftoken", "xsrftoken"}
)  # fmt: skip
_NOT_TOKEN = frozenset({"tokens", "tokenizer", "tokenizers", "tokenize", "tokenized"})
_WEAK_WORDS = frozenset(
    {"key", "salt", "sig", "signature", "cookie", "session", "sessionid", "hmac",
     "private", "license"}
)  # fmt: skip
_PUBLIC = frozenset({"public", "publishable", "pub"})
"""A name that only may hold a secret (`key`) and says the value is given out: a public key,
a browser's build variable (`NEXT_PUBLIC_…`), a publishable key. A password's or a secret's
name stays one (`PUBLIC_API_SECRET`)."""
# A name ending in one of these describes a secret without holding it (`PASSWORD_FILE`,
# `token_url`, `api_key_name`, `password_min_length`, `auth_method`).
_NOT_SECRET_SUFFIX = frozenset(
    {"id", "ids", "name", "names", "file", "files", "path", "paths", "dir", "url", "uri",
     "endpoint", "type", "types", "method", "methods", "mode", "length", "len", "size", "count",
     "min", "max", "ttl", "timeout", "expiry", "expires", "expiration", "expire", "format",
     "version", "enabled", "enable", "disabled", "required", "provider", "policy", "policies",
     "scope", "scopes", "field", "fields", "env", "var", "label", "hint", "prefix", "suffix",
     "header", "headers", "algorithm", "algo", "hash", "hashed", "digest", "reset", "rotation",
     "strength", "regex", "pattern", "validator", "validation", "input", "prompt", "location",
     "generator", "manager", "service", "class", "schema", "model", "error", "errors",
     "message", "msg", "placeholder", "visible", "visibility", "limit", "index", "idx",
     "column", "table", "ref", "refs", "arn", "cache", "kind", "help", "stdin", "store",
     "storage", "helper", "command", "cmd", "script", "source", "sources", "mount",
     "user", "username", "login", "email", "account", "host", "port", "region", "mask",
     "masked", "status", "state", "check", "test", "tests", "spec", "ok", "valid",
     "changed", "update", "updated", "at", "date", "time", "created", "used", "usage",
     "flow", "grant", "issuer", "audience", "server", "endpoints", "only", "list", "map",
     "bits", "fingerprint", "public", "pub", "cert", "certificate", "ca", "crt", "encryption",
     "scheme", "schemes"}
)  # fmt: skip
_PLACEHOLDER = re.compile(
    r"(?:\$\{?[A-Za-z_]|\$\(|%\(|%[A-Za-z_]+%|\{\{|<[^>]*>|\*{3,}|x{6,}|X{6,}|\.{3}|…|#\{"
    r"|\[REDACTED_|os\.(?:environ|getenv)|process\.env|getenv|System\.getenv|ENV\[|env\(|env:"
    r"|secrets\.|vault:|!vault|\$ANSIBLE_|ref\+|arn:aws)"
)
NOT_VALUES = frozenset(
    {"none", "null", "nil", "true", "false", "string", "str", "bytes", "optional",
     "undefined", "required", "int", "bool", "any", "object", "secret", "password", "token",
     "changeme", "redacted", "hidden", "masked", "empty", "unset", "example", "your_password",
     "yourpassword", "placeholder", "default", "prompt", "stdin", "include", "same-origin",
     "omit", "secretstr", "sensitive", "text", "number", "boolean", "na", "n/a", "tbd", "todo",
     # code keywords after `password:` (a type hint or a block) are not values
     "raise", "return", "await", "yield", "lambda", "continue", "break", "pass", "new",
     "typeof", "function", "async", "const", "let", "var", "self", "this", "cls"}
)  # fmt: skip
_IDENT = re.compile(r"[A-Za-z_]\w*")
_DIGEST = re.compile(r"(?i:sha(?:1|224|256|384|512)|md5)[=:][0-9a-fA-F]{32,128}")
"""A digest named by its algorithm: a webhook's signature (`X-Hub-Signature-256:
sha256=…`, the HMAC of a payload), an image's (`sha256:…`); under a name that only may hold
a secret (`signature`, `key`), no secret."""
_YOURS = re.compile(r"(?i)your[-_ a-z]*")
"""A docs' example value, fullmatched: `YOUR_API_KEY`, `your-api-key-here`."""
_ABOUT_ONE = re.compile(r"(?i)\b(?:password|passphrase|passcode)\b|\?$")
"""A form's text about a password (`Forgot your password?`, `Enter your password`)."""


def a_form_text(text: str) -> bool:
    """Whether `text`, where a password would stand, is rather a form's text about one
    (`Forgot your password?`, `Enter your password`): words without a digit, and the word or
    a question (`Summer2024 is the password?` holds one); or the word in another language,
    without a digit or in a sentence (a translation's `Пароль`, `请输入密码`, `Пароль должен
    содержать 8 символов`; `пароль123` is one)."""
    if " " in text and not _has_digit(text) and _ABOUT_ONE.search(text) is not None:
        return True
    if not _password_abroad(text):
        return False
    return not _has_digit(text) or text.count(" ") >= 2


def _has_digit(text: str) -> bool:
    return any(c.isdigit() for c in text)


def _an_example(v: str) -> bool:
    """A docs' example: `YOUR_API_KEY`, or a vendor's prefix cut short (`sk-ant-...`,
    `sk_test_…`: a key cut after more than its prefix still holds part of the key)."""
    if _YOURS.fullmatch(v):
        return True
    return v.endswith(("...", "…")) and len(v.rstrip(".…").rstrip("-_")) <= 12


_DOTTED = re.compile(r"[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+")


def components(name: str) -> list[str]:
    """`name` split into lower-case words: `DB_PASSWORD` → db, password; `apiKey` → api, key."""
    return [c.lower() for c in _COMPONENT.findall(name)]


def classify(name: str) -> NameClass | None:
    """PASSWORD for password-like names, SECRET for other credential names (token, secret,
    API key, auth...), WEAK for names that only may hold one (key, salt, session...: their
    value must look random), None for anything else (including `*_file`, `*_url`, `*_name`)."""
    parts = components(name)
    if not parts:
        return _abroad(name)
    last = parts[-1]
    if parts[-2:] == ["secret", "id"]:
        return "SECRET"  # a token named as an id: Consul's `SecretID`, Vault's `secret_id`
    if last in _NOT_SECRET_SUFFIX and not (last in ("url", "uri") and "webhook" in parts):
        return None
    joined = "".join(parts)
    if _password_in(parts, joined):
        return "PASSWORD"
    ascii_name = name.isascii()
    if not ascii_name and _password_abroad(name):
        return "PASSWORD"
    if any(p in joined for p in _SECRET_PARTS):
        return "SECRET"
    if any(p in _SECRET_WORDS or ("token" in p and p not in _NOT_TOKEN) for p in parts):
        return "SECRET"
    if any(p in _PUBLIC for p in parts):
        return None  # `PublicKey`, `NEXT_PUBLIC_POSTHOG_KEY`, `STRIPE_PUBLISHABLE_KEY`: given out
    if any(p in _WEAK_WORDS for p in parts) or (last == "pat" and len(parts) > 1):
        return "WEAK"  # `GITLAB_PAT`: a personal access token (a lone `pat` is a pattern)
    return None if ascii_name else _abroad(name)


def _abroad(name: str) -> NameClass | None:
    """The class of a name in another script or with its accents (`_ABROAD`, `_KEY_ABROAD`)."""
    if _password_abroad(name):
        return "PASSWORD"
    return "WEAK" if not name.isascii() and _KEY_ABROAD.search(name.lower()) else None


def _password_abroad(text: str) -> bool:
    """Whether `text` holds a password's name in another script or with its accents."""
    return not text.isascii() and _ABROAD.search(text.lower()) is not None


def names_a_credential(value: str) -> bool:
    """Whether `value`, found where a secret would stand, is rather a variable's name holding a
    credential's word (`password = user_password`, `the API key is max_tokens`). A digit
    between letters makes it a password that holds such a word (`Hunter2pw`, `Passw0rd`),
    not a name (`oauth2_token` is one)."""
    return classify(value) is not None and not INNER_DIGIT.search(value)


def literal_kind(name: str, value: str, *, quoted: bool) -> str | None:
    """The kind to redact `value` as when it is a literal credential (`is_literal_secret`)
    given to one named `name` (`classify`), else None: a password's or a secret's name gives
    its own kind, a name that only may hold one (`WEAK`) gives `HIGH_ENTROPY`."""
    cls = classify(name)
    if cls is None or not is_literal_secret(value, cls, quoted=quoted, code_after=False):
        return None
    return kind_of(cls)


_SEPARATORS = re.compile(r"[./:@-]+")

CREDENTIAL_WORDS = ("pass", "pw", "secret", "token", "key", "auth", "cred")
"""Words most credentials' names hold (lower case): a cheap test before `classify`."""


def path_kind(path: str, value: str) -> str | None:
    """`literal_kind` for a name written as a path or a dotted key (`app/db/password`,
    `fs.s3a.secret.key`): its separators read as `_`."""
    return literal_kind(_SEPARATORS.sub("_", path).strip("_"), value, quoted=True)


def holds_password_word(name: str) -> bool:
    """Whether one of `name`'s words is a password's (`password_hash`, `encrypted_password`),
    whatever else it says."""
    parts = components(name)
    return _password_in(parts, "".join(parts)) or _password_abroad(name)


def _password_in(parts: list[str], joined: str) -> bool:
    return (
        _PASSWORD.search("\n".join(parts)) is not None
        or _JOINED_PASSWORD.search(joined) is not None
    )


def literal_password(value: str, _match: re.Match[str] | None = None) -> bool:
    """A password as it counts after `password = `, quoted (a rule's check)."""
    return is_literal_secret(value, "PASSWORD", quoted=True, code_after=False)


def literal_secret(value: str, _match: re.Match[str] | None = None) -> bool:
    """A secret as it counts after `api_key = `, quoted (a rule's check)."""
    return is_literal_secret(value, "SECRET", quoted=True, code_after=False)


def kind_of(cls: NameClass) -> str:
    """The kind a value named `cls` is redacted as: a password's or a secret's own, and
    `HIGH_ENTROPY` for a name that only may hold one (`WEAK`)."""
    return "HIGH_ENTROPY" if cls == "WEAK" else cls


def is_literal_secret(value: str, cls: NameClass, *, quoted: bool, code_after: bool) -> bool:
    """Whether `value`, written next to a name of class `cls`, is a literal credential.

    Not: placeholders and lookups (`${X}`, `os.environ[...]`, `{{ x }}`, `<your key>`,
    `****`), type names and keywords (`str`, `None`, `true`), dotted expressions
    (`self.password`), an unquoted identifier followed by `(` or `[` (`code_after`: a call
    or an index). PASSWORD values count from 4 characters; SECRET values from 8 and not a
    single word; WEAK values must look random (`token_like`).
    """
    v = value.strip()
    if not v or _PLACEHOLDER.match(v) or v.lower() in NOT_VALUES or _an_example(v):
        return False
    if not quoted and (code_after or _DOTTED.fullmatch(v)):
        return False
    if cls == "WEAK":
        return token_like(v) and not _DIGEST.fullmatch(v)
    if any(c.isspace() for c in v) and cls != "PASSWORD":
        return False
    if cls == "PASSWORD":
        if a_form_text(v):
            return False  # not a passphrase
        return len(v) >= 4 and not (v.startswith(("http://", "https://")) and "@" not in v)
    if len(v) < 8 or v.startswith(("http://", "https://", "/", "./", "../", "~/")):
        return False
    # A lower-case word or identifier (`oauth2`, `include`, `bearer_auth`) is not a token.
    return not (_IDENT.fullmatch(v) and v.lower() == v and not any(c.isdigit() for c in v[1:]))

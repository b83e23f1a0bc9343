"""Code where a credential's name and its literal value stand apart: a type between them
(`apiKey: string = '…'`, `var apiKey string = "…"`), a fallback after a lookup
(`process.env.API_KEY || '…'`, `config('API_KEY', default='…')`), a signing key given to the
call that uses it (`HMAC256("…")`, `createHmac('sha256', '…')`); and two forms of other
texts with the same trait: a Markdown label in bold (`**API key:** `…``, as agents write
answers) and a shell's setter without `=` (`set -gx DB_PASSWORD …`, `setenv`, `launchctl
setenv`, `netlify env:set`).

Each pattern begins with the literal that joins name and value (`:`, `||`, `default`, the
call's name): `re` looks for it at C speed, and the check reads the name on the line before
it (`name_before`), where a pattern beginning with the name would be tried at every word.
"""

from __future__ import annotations

import re

from ox_session_capture.redact.names import (
    classify,
    is_literal_secret,
    literal_kind,
    literal_password,
    literal_secret,
)
from ox_session_capture.redact.rules import (
    NL,
    QUOTE,
    QUOTED_VALUE,
    Rule,
    line_before,
    not_a_word,
    not_placeholder,
    rule,
    token_like,
)

_NAME_AT_END = re.compile(
    r"([A-Za-z_][A-Za-z0-9_\-]{0,100})(?:\\{0,3}[\"'`])?[ \t]*\)?[ \t]*[,|]?[ \t]*$"
)
"""The last name before a match: `process.env.API_KEY `, `env::var("API_KEY")`,
`config('API_KEY', `, `.Values.password | ` (a dotted name's last part); its quote may be
escaped (`get(\"API_KEY\") or`, JSON text that did not parse)."""
_TAIL = 160  # the line before a match read for its name, at most (a long line stays linear)
_KEY_NAMES = re.compile(r"(?:\{[A-Za-z]+\})+")
_PASSWORD_WORD = r"(?i:pass(?:word|wd|phrase)?|pwd)"
"""A password field's word in a selector, a label or a variable (`#password`, `pwd`)."""


def name_before(match: re.Match[str]) -> str:
    """The name that ends the match's line before it ('' for none)."""
    found = _NAME_AT_END.search(line_before(match)[-_TAIL:])
    return found.group(1) if found else ""


def value_named_before(secret: str, match: re.Match[str]) -> str | bool:
    """The kind for a quoted literal given to the credential named just before the match."""
    return literal_kind(name_before(match), secret, quoted=True) or False


def _bold_label(secret: str, match: re.Match[str]) -> str | bool:
    """A value after a bold label naming a credential: in backticks any literal one, bare one
    that looks random (or, for a password, mixes letters and digits: `**Password:** pw` in a
    sentence is kept)."""
    cls = classify(match.group("label").strip().replace(" ", "_"))
    if cls is None or not is_literal_secret(secret, cls, quoted=True, code_after=False):
        return False
    kind = "SECRET" if cls == "WEAK" else cls
    if match.group("q") is not None or token_like(secret):
        return kind
    mixed = any(c.isdigit() for c in secret) and any(c.isalpha() for c in secret)
    return kind if cls == "PASSWORD" and mixed and len(secret) >= 8 else False


_LABEL_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9_\-]*")


def _heading_label(secret: str, match: re.Match[str]) -> str | bool:
    """A code block's one value under a Markdown heading that names a credential (`### Admin
    password`): its last words name it, the value is no word of a sentence."""
    words = _LABEL_WORDS.findall(match.group("label"))[-3:]
    for n in range(len(words)):
        cls = classify("_".join(words[n:]))
        if cls is not None:
            kind = "SECRET" if cls == "WEAK" else cls
            ok = is_literal_secret(secret, cls, quoted=True, code_after=False)
            return kind if ok and (not_a_word(secret) or token_like(secret)) else False
    return False


def _random_or_mixed(secret: str) -> bool:
    """A password given bare to a call: no placeholder, and no word of a sentence."""
    return is_literal_secret(secret, "PASSWORD", quoted=True, code_after=False) and (
        not_a_word(secret) or token_like(secret)
    )


def _set_value(secret: str, match: re.Match[str]) -> str | bool:
    quoted = match.group("q") is not None
    return literal_kind(match.group("name"), secret, quoted=quoted) or False


_STRING_TYPE = r"(?:&(?:'static[ \t]+)?str|str|string|String|SecretStr|NSString[ \t]*\*|Text)"

CODE_RULES: tuple[Rule, ...] = (
    rule(
        "PASSWORD",
        # `const apiKey: string = '…'` (TypeScript), `val apiKey: String = "…"` (Kotlin, Swift),
        # `openai_api_key: str = "…"` (Python, pydantic settings), `API_TOKEN: &str = "…"`
        # (Rust): a string type between the name and its `=`.
        r":[ \t]*" + _STRING_TYPE + r"\??[ \t]*=[ \t]*" + QUOTED_VALUE,
        ("str", "text"),
        vendor="typed declarations (TypeScript, Kotlin, Swift, Python, Rust)",
        check=value_named_before,
    ),
    rule(
        "PASSWORD",
        # Go's `var apiKey string = "…"` (the name before the type, no colon).
        r"string(?<=[ \t]string)[ \t]*=[ \t]*" + QUOTED_VALUE,
        ("string =", "string="),
        vendor="typed declarations (Go)",
        check=value_named_before,
    ),
    rule(
        "PASSWORD",
        # C#'s `public string ApiKey { get; set; } = "…";`.
        r"\{[ \t]*get;[ \t]*(?:(?:private|protected|internal)[ \t]+)?(?:set|init);[ \t]*\}"
        r"[ \t]*=[ \t]*@?" + QUOTED_VALUE,
        ("get;",),
        vendor="typed declarations (C# property initializers)",
        check=value_named_before,
    ),
    rule(
        "PASSWORD",
        # A literal fallback after a lookup: `process.env.API_KEY || '…'` (or `??`),
        # `env::var("API_KEY").unwrap_or("…")`, `os.getenv` has its own (the assignment rule).
        # Python's `os.environ.get("DB_PASSWORD") or "…"` (after a call's `)`: `'a', or 'b'`
        # and `x not in token or 'y'` are no fallbacks).
        r"(?:\|\||\?\?|\.unwrap_or\(|\)[ \t]+or(?=[ \t]))[ \t]*" + QUOTED_VALUE,
        ("||", "??", ".unwrap_or(", ') or "', ") or '", ') or \\"'),
        vendor="literal fallbacks (JavaScript ||, ??, Python or, Rust unwrap_or)",
        check=value_named_before,
    ),
    rule(
        "PASSWORD",
        # A shell parameter's default: `${DB_PASSWORD:-…}`, `${API_TOKEN:=…}`, `${PW-…}`.
        r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]{0,100}+):?[-=](?P<q>)"
        r"(?P<secret>[^\s{}\"'`$\\]{1,300}+)\}",
        ("${",),
        vendor="literal defaults (shell ${NAME:-value}, ${NAME:=value})",
        check=lambda s, m: literal_kind(m.group("name"), s, quoted=True) or False,
    ),
    rule(
        "PASSWORD",
        # `config('API_KEY', default='…')` (python-decouple, environs), `{{ .Values.password |
        # default "…" }}` (Helm), `lookup('env', 'DB_PASSWORD') | default('…')` (Ansible).
        r"default(?:[ \t]*=[ \t]*|[ \t]*\([ \t]*|[ \t]+)" + QUOTED_VALUE,
        ("default",),
        vendor="literal defaults (python-decouple, Helm, Ansible)",
        check=value_named_before,
    ),
    rule(
        "SECRET",
        # A signing key written into the call that signs: Go's `SignedString([]byte("…"))`,
        # java-jwt's `Algorithm.HMAC256("…")`, .NET's `new SymmetricSecurityKey(Encoding.UTF8
        # .GetBytes("…"))`, Node's `createHmac('sha256', '…')`, Python's `hmac.new(b'…', …)`,
        # php-jwt's `JWT::encode($payload, '…')`, ruby-jwt's `JWT.encode(payload, '…')`;
        # and a key written into the call that encrypts or signs with it: Ruby's
        # `OpenSSL::HMAC.hexdigest('SHA256', '…', data)`, PHP's `hash_hmac('sha256', $data,
        # '…')`, `Fernet(b'…')`, PyCryptodome's `AES.new(b'…', …)`, Node's `createCipheriv(
        # 'aes-256-cbc', '…', iv)`.
        r"(?:SignedString\([ \t]*\[\]byte\(|HMAC(?:256|384|512)\(|SymmetricSecurityKey\("
        r"(?:[ \t]*Encoding\.\w{1,10}\.GetBytes\()?|createHmac\([ \t]*[\"'][\w\-]{1,20}[\"'][ \t]*,"
        r"|hmac\.new\(|JWT(?:::|\.)encode\([^,()\n]{1,200},"
        r"|OpenSSL::HMAC\.(?:hex|base64)?digest\([ \t]*[^,()\n]{1,60},"
        r"|hash_hmac\([ \t]*[\"'][\w\-/]{1,20}[\"'][ \t]*,"
        r"(?>[^,()\n]{1,200}|\([^()\n]{0,200}\)){1,4}?,"
        r"|(?<![\w.])Fernet\(|(?<![\w.])AES\.new\("
        r"|create(?:De)?[cC]ipheriv\([ \t]*[\"'][\w\-]{1,30}[\"'][ \t]*,)"
        r"[ \t]*[rbu]?" + QUOTED_VALUE,
        ("signedstring(", "hmac256(", "hmac384(", "hmac512(", "symmetricsecuritykey(",
         "createhmac(", "hmac.new(", "jwt::encode(", "jwt.encode(", "openssl::hmac.",
         "hash_hmac(", "fernet(", "aes.new(", "createcipheriv(", "createdecipheriv("),
        vendor="code (a signing or encryption key in the call: HMAC, JWT, Fernet, AES)",
        check=literal_secret,
    ),
    rule(
        "PASSWORD",
        # A password typed into a login form by a browser test: Playwright's `page.fill(
        # '#password', '…')` and `getByLabel('Password').fill('…')`, Selenium's `find_element(
        # By.ID, "password").send_keys("…")`, Cypress' `cy.get('[name=password]').type('…')`,
        # Testing Library's `userEvent.type(getByLabelText(/password/i), '…')` and
        # `fireEvent.change(passwordInput, { target: { value: '…' } })`, Capybara's `fill_in
        # 'Password', with: '…'`. The field is named by a password's word in the selector,
        # the label or the variable.
        r"(?:(?:\.fill|\.type|\.press_?[sS]equentially|fill_in)\(?[ \t]*"
        + QUOTE
        + r"[^\"'`\n]{0,120}?" + _PASSWORD_WORD + r"[^\"'`\n]{0,120}?"
        + QUOTE
        + r"[ \t]*,[ \t]*(?:with:[ \t]*)?"
        + r"|" + _PASSWORD_WORD + r"[^\n]{0,120}?(?:(?:\.fill|\.type|\.send_keys|\.sendKeys"
        + r"|\.setValue|\.set_value|\.press_?[sS]equentially)\([ \t]*"
        + r"|target:[ \t]*\{[ \t]*value:[ \t]*)"
        + r"|(?:userEvent|user)\.type\([^,\n]{0,200}?" + _PASSWORD_WORD + r"[^,\n]{0,100}?,[ \t]*)"
        + QUOTED_VALUE,
        ("fill", "type(", "send_keys(", "sendkeys(", "setvalue(", "set_value(", "target:",
         "sequentially("),
        vendor="browser tests (a password typed into a login form: Playwright, Selenium)",
        # Cypress' key names (`type('{enter}')`) are no password.
        check=lambda s, m: (
            _KEY_NAMES.fullmatch(s) is None
            and literal_password(s)
        ),
    ),
    rule(
        "PASSWORD",
        # A password written into the call that hashes it (a seed script, a test user):
        # Python's `bcrypt.hashpw(b"…")`, `generate_password_hash("…")`, Django's
        # `make_password('…')`, passlib's `pwd_context.hash("…")`; PHP's `password_hash('…')`,
        # Laravel's `Hash::make('…')` and `bcrypt('…')`; Ruby's `BCrypt::Password.create("…")`;
        # Node's `bcrypt.hash('…', 10)`, `argon2.hash("…")`; Spring's `passwordEncoder.encode
        # ("…")`; Go's `bcrypt.GenerateFromPassword([]byte("…")`; MySQL's `PASSWORD('…')`,
        # pgcrypto's `crypt('…', gen_salt(…))`.
        r"(?:bcrypt\.hashpw|generate_password_hash|make_password|pwd_context\.hash"
        r"|password_hash|Hash::make|(?<![\w.])bcrypt|BCrypt::Password\.create"
        r"|bcrypt(?:js)?\.hash(?:Sync)?|argon2\.hash|[pP]asswordEncoder(?:\(\))?\.encode"
        r"|bcrypt\.GenerateFromPassword\([ \t]*\[\]byte|(?<![\w.])PASSWORD"
        r"|(?<![\w.])crypt(?=\([ \t]*[\"'][^\"'\n]{1,300}[\"'][ \t]*,[ \t]*gen_salt)"
        # Python's `crypt.crypt('…', …)`, argon2-cffi's `PasswordHasher().hash("…")` (or its
        # `ph`), passlib's handlers (`pbkdf2_sha256.hash("…")`), jBCrypt's `BCrypt.hashpw`,
        # Node's `scrypt.hash('…')`, PHP's `PasswordHash::hash('…')`.
        r"|(?<![\w.])crypt\.crypt|(?:PasswordHasher\(\)|(?<![\w.])ph|[hH]asher)\.hash"
        r"|(?:pbkdf2_sha(?:1|256|512)|sha(?:256|512)_crypt|bcrypt_sha256|md5_crypt|argon2"
        r"|scrypt)\.(?:hash|encrypt)|BCrypt\.hashpw|PasswordHash::hash)"
        r"\([ \t]*[rbu]?" + QUOTED_VALUE,
        ("hashpw(", "generate_password_hash(", "make_password(", "pwd_context.hash(",
         "password_hash(", "hash::make(", "bcrypt(", "password.create(", "bcrypt.hash",
         "bcryptjs.hash", "argon2.hash(", "encoder.encode(", "encoder().encode(",
         "generatefrompassword(", "password(", "crypt(", "ph.hash(", "hasher.hash(",
         "hasher().hash(", "sha1.hash(", "sha256.hash(", "sha512.hash(", "crypt.hash(",
         "crypt.encrypt(", "sha1.encrypt(", "sha256.encrypt(", "sha512.encrypt(",
         "argon2.encrypt(", "scrypt.hash(", "scrypt.encrypt(", "passwordhash::hash("),
        vendor="code (a password in the call that hashes it: bcrypt, Django, PHP, Spring)",
        check=literal_password,
    ),
    rule(
        "PASSWORD",
        # A password given second to the call that hashes or stores it: `hashlib.pbkdf2_hmac(
        # 'sha256', b'…', salt, n)`, Symfony's `$hasher->hashPassword($user, '…')`, ASP.NET
        # Identity's `HashPassword(user, "…")` and `userManager.CreateAsync(user, "…")`,
        # Devise's `Devise::Encryptor.digest(User, '…')`; or that checks it against its hash:
        # Werkzeug's `check_password_hash(hash, '…')`, argon2's `ph.verify(hash, '…')` and
        # `argon2.verify(hash, '…')`, Go's `bcrypt.CompareHashAndPassword(hash, []byte("…"))`,
        # Symfony's `isPasswordValid($user, '…')`.
        r"(?:hashlib\.pbkdf2_hmac|(?:\.|->)hashPassword|\.HashPassword|[uU]serManager\.CreateAsync"
        r"|Devise::Encryptor\.digest|check_password_hash|(?:(?<![\w.])ph|PasswordHasher\(\)"
        r"|argon2|[hH]asher)\.verify|CompareHashAndPassword|isPasswordValid)"
        r"\([ \t]*(?>[^,()\n]{1,200}|\([^()\n]{0,200}\)){1,4}?,"
        r"[ \t]*(?:\[\]byte\([ \t]*)?[rbu]?" + QUOTED_VALUE,
        ("pbkdf2_hmac(", "hashpassword(", "createasync(", "encryptor.digest(",
         "check_password_hash(", "ph.verify(", "hasher().verify(", "argon2.verify(",
         "hasher.verify(", "comparehashandpassword(", "ispasswordvalid("),
        vendor="code (a password given second to the call that hashes or checks it)",
        check=literal_password,
    ),
    rule(
        "PASSWORD",
        # A password checked against its hash, given first (a test of a login, a seed script):
        # `verify_password('…', hashed)`, `hash_password("…")`, Django's `check_password('…',
        # encoded)` and `user.check_password('…')`, passlib's `pwd_context.verify('…', h)`,
        # `bcrypt.checkpw(b'…', h)`, Node's `bcrypt.compare('…', h)`, PHP's `password_verify(
        # '…', $h)`, Laravel's `Hash::check('…', $h)`, jBCrypt's `BCrypt.checkpw`, Spring's
        # `passwordEncoder.matches('…', h)`, Devise's `valid_password?('…')`, Rails'
        # `user.authenticate('…')` (its one argument, no word: Passport's `authenticate(
        # 'local')`, imaplib's `authenticate('CRAM-MD5', …)`).
        r"(?:(?<![\w$])(?i:hash|check|verify|validate|compare|encrypt)_?(?i:pass(?:word|wd))"
        r"|pwd_context\.verify|[bB][cC]rypt\.checkpw|bcrypt(?:js)?\.compare(?:Sync)?"
        r"|password_verify|Hash::check|[pP]asswordEncoder(?:\(\))?\.matches"
        r"|\.valid_password\?|(?P<auth>\.authenticate)(?=\([ \t]*[\"'][^\"'\n]{1,300}[\"'][ \t]*\))"
        # bcrypt's `hash` imported alone, its rounds second: `await hash('…', 12)` (no word).
        r"|(?P<bare>(?<![\w.$>:])hash(?:Sync)?)"
        r"(?=\([ \t]*[\"'][^\"'\n]{1,300}[\"'][ \t]*,[ \t]*\d{1,2}[ \t]*\)))"
        r"\([ \t]*[rbu]?" + QUOTED_VALUE,
        ("password(", "passwd(", "pwd_context.verify(", "checkpw(", "compare(", "comparesync(",
         "password_verify(", "hash::check(", "encoder.matches(", "encoder().matches(",
         "valid_password?(", ".authenticate(", "hash(", "hashsync("),
        vendor="code (a password checked against its hash: verify_password, bcrypt, Django)",
        check=lambda s, m: (
            _random_or_mixed(s) if m.group("auth") or m.group("bare") else literal_password(s)
        ),
    ),
    rule(
        "PASSWORD",
        # A password a program gives `sudo -S` on its input: `subprocess.run(['sudo', '-S', …],
        # input='…\n')`, `Popen(…).communicate(b'…\n')`, `.stdin.write('…\n')` (paramiko's
        # `exec_command('sudo -S …')` too), Go's `cmd.Stdin = strings.NewReader("…\n")`.
        r"sudo[\"']?(?:[ \t]*,[ \t]*\[?)?[ \t]*[\"']?-S(?![\w-])[\s\S]{0,400}?"
        r"(?:input[ \t]*=[ \t]*|\.write\([ \t]*|communicate\([ \t]*(?:input[ \t]*=[ \t]*)?"
        r"|NewReader\([ \t]*)[rbu]?(?P<q>[\"'])(?P<secret>[^\"'\\\r\n]{1,300})(?:\\{1,2}n)?[\"']",
        ("sudo",),
        vendor="code (a password given to sudo -S on its input: subprocess, paramiko, Go)",
        check=literal_password,
    ),
    rule(
        "SECRET",
        # A key given to its client's setter: reqwest's `.bearer_auth("…")`, Mollie's and
        # SendGrid's `setApiKey('…')`.
        r"\.(?:bearer_auth|setApiKey|set_api_key|setAccessToken)\([ \t]*" + QUOTED_VALUE,
        (".bearer_auth(", ".setapikey(", ".set_api_key(", ".setaccesstoken("),
        vendor="code (reqwest bearer_auth, setApiKey)",
        check=literal_secret,
    ),
    rule(
        "PASSWORD",
        # A heading naming a credential, then a code block of its value alone (`### Admin
        # password`, a blank line, then ``` … ```), as agents write answers.
        r"#{1,6}[ \t]+(?P<label>[^\r\n#\\]{1,80})(?:" + NL + r"[ \t]*+){1,3}+```[A-Za-z]{0,20}"
        + NL + r"[ \t]*(?P<q>)(?P<secret>[^\s`\\]{4,300})[ \t]*" + NL + r"[ \t]*```",
        ("```",),
        vendor="Markdown (a heading naming a credential, then its value in a code block)",
        check=_heading_label,
    ),
    rule(
        "PASSWORD",
        # A password given to its client's call: reqwest's `.basic_auth("bob", Some("…"))`,
        # supertest's `.auth('bob', '…')`, Redis clients' `red:auth("…")`, `client.auth('…')`.
        r"(?:\.basic_auth|[.:]auth)\([ \t]*(?:" + QUOTE + r"[^\"'`\\\r\n]{1,100}" + QUOTE
        + r"[ \t]*,[ \t]*(?:Some\([ \t]*)?)?" + QUOTED_VALUE,
        (".basic_auth(", ".auth(", ":auth("),
        vendor="code (basic_auth and auth calls: reqwest, supertest, Redis clients)",
        check=lambda s, m: _random_or_mixed(s),
    ),
    rule(
        "PASSWORD",
        # Android's Gradle: `buildConfigField("String", "API_KEY", "\"…\"")` (the value a Java
        # literal inside a Groovy or Kotlin string), `resValue("string", "api_key", "…")`.
        r"(?:buildConfigField|resValue)[ \t]*\(?[ \t]*" + QUOTE + r"\w{1,20}" + QUOTE
        + r"[ \t]*,[ \t]*" + QUOTE + r"(?P<name>[A-Za-z_][\w.]{0,100})" + QUOTE
        + r"[ \t]*,[ \t]*" + QUOTE + r"(?:\\{1,3}[\"'])?(?P<q>)(?P<secret>[^\"'`\\\r\n]{1,300})",
        ("buildconfigfield", "resvalue"),
        vendor="Gradle (buildConfigField, resValue)",
        check=lambda s, m: literal_kind(m.group("name"), s, quoted=True) or False,
    ),
    rule(
        "PASSWORD",
        # Oracle's connect string in code: `oracledb.connect("scott/…@db:1521/ORCL")`.
        r"(?:oracledb|cx_Oracle)\.connect\([ \t]*(?:dsn[ \t]*=[ \t]*)?" + QUOTE
        + r"[A-Za-z0-9_$#]{1,64}/(?P<secret>[^@\"'`\s/\\]{1,200})@",
        ("oracledb.connect(", "cx_oracle.connect("),
        vendor="code (Oracle connect strings: python-oracledb, cx_Oracle)",
        check=lambda s, m: not_placeholder(s),
    ),
    rule(
        "PASSWORD",
        # `**API key:** `…``, `- **Password**: `…``: the label in bold, the value in backticks
        # (or bare).
        r"\*\*(?P<label>[A-Za-z][A-Za-z0-9 _\-]{1,40}?)(?::\*\*|\*\*[ \t]*:)[ \t]*"
        r"(?:(?P<q>`)(?P<secret>[^`\r\n]{4,300})`|(?P<secret2>[^\s*`]{4,300}))",
        ("**",),
        vendor="Markdown (a bold label, then the value)",
        check=_bold_label,
    ),
    rule(
        "PASSWORD",
        # Setters without `=`: fish's `set -gx NAME value`, csh's `setenv NAME value`, macOS'
        # `launchctl setenv NAME value`, `netlify env:set NAME value`.
        r"(?:set[ \t]+-[gxUul]{1,4}[ \t]+(?:-[gxUul]{1,4}[ \t]+)?|setenv[ \t]+|env:set[ \t]+"
        # macOS' `defaults write DOMAIN KEY [-string] VALUE`, PlistBuddy's `Set :KEY VALUE`.
        r"|defaults[ \t]+write[ \t]+[^\s\"']{1,200}[ \t]+|Set[ \t]+:)"
        r"(?P<name>[A-Za-z_][A-Za-z0-9_]{0,100})[ \t]+(?:-string[ \t]+)?"
        r"(?:" + QUOTED_VALUE + r"|(?P<secret2>[^\s\"'`\\;&|()<>]{1,300}))",
        ("set -", "setenv", "env:set", "defaults write", "set :"),
        vendor="setters (fish set -gx, csh setenv, launchctl setenv, netlify env:set, defaults "
        "write, PlistBuddy Set)",
        check=_set_value,
    ),
    rule(
        "PASSWORD",
        # A registry value named for a credential: `reg add KEY /v ApiToken /t REG_SZ /d …`.
        r"/v[ \t]+[\"']?(?P<name>[A-Za-z_][\w.\-]{0,100})[\"']?[ \t]+(?:/t[ \t]+\w{1,20}[ \t]+)?"
        r"/d[ \t]+(?:" + QUOTED_VALUE + r"|(?P<secret2>[^\s\"'`/][^\s\"'`]{0,299}))",
        ("/d ",),
        vendor="Windows registry (reg add /v NAME /d VALUE)",
        check=_set_value,
    ),
)  # fmt: skip

"""The shapes of the twenty-sixth attack on redaction, a password checked or hashed in code
(each leaked before its rule): a password given first to the call that checks it against its
hash (`verify_password('…', hashed)` in a test of a login, `bcrypt.checkpw`, `password_verify`,
`Hash::check`, Rails' `authenticate`), given second (`check_password_hash(hash, '…')`,
argon2's `verify`, Go's `CompareHashAndPassword`), or to a digest (`hashlib.sha256(b'…')`,
`createHash('sha256').update('…')`, `Digest::SHA256.hexdigest`); and a key given to the call
that encrypts or signs with it (`Fernet(b'…')`, `createCipheriv`, `hash_hmac`,
`OpenSSL::HMAC`). And the same forms holding no password (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor9x"
KEY = "q8Vz3LmW7xRt2NpK5sYd"

LEAKED = [
    # checked, the password first
    f'assert verify_password("{PW}", user.hashed_password)',
    f"hashed = hash_password('{PW}')",
    f'assert check_password("{PW}", encoded)',
    f"assert user.check_password('{PW}')",
    f'assert pwd_context.verify("{PW}", hashed)',
    f'assert bcrypt.checkpw(b"{PW}", hashed)',
    f"const ok = await bcrypt.compare('{PW}', user.passwordHash);",
    f'expect(bcrypt.compareSync("{PW}", hash)).toBe(true);',
    f"if (password_verify('{PW}', $hash)) {{",
    f"$this->assertTrue(Hash::check('{PW}', $user->password));",
    f'assertTrue(BCrypt.checkpw("{PW}", hashed));',
    f'assertTrue(passwordEncoder.matches("{PW}", encoded));',
    f'expect(user.valid_password?("{PW}")).to be true',
    f'expect(user.authenticate("{PW}")).to eq(user)',
    f"const ok = await user.comparePassword('{PW}');",
    f"const hashed = await hash('{PW}', 12);",
    # checked, the password second
    f'assert check_password_hash(user.password_hash, "{PW}")',
    f'ph.verify(stored, "{PW}")',
    f"assert.ok(await argon2.verify(hash, '{PW}'));",
    f'err := bcrypt.CompareHashAndPassword(hash, []byte("{PW}"))',
    f"$hasher->isPasswordValid($user, '{PW}')",
    # hashed by a digest
    f'pw = hashlib.sha256(b"{PW}").hexdigest()',
    f'hashed = hashlib.sha256("{PW}".encode()).hexdigest()',
    'password_hash = hashlib.sha256(b"admin123").hexdigest()',
    f"h = hashlib.new('sha256', b'{PW}').hexdigest()",
    f"const hash = crypto.createHash('sha256').update('{PW}').digest('hex');",
    f"digest = Digest::SHA256.hexdigest('{PW}')",
    f'String hex = DigestUtils.sha256Hex("{PW}");',
    f'sum := sha256.Sum256([]byte("{PW}"))',
    f"$hash = hash('sha256', '{PW}');",
    f"$hash = md5('{PW}');",
    f'byte[] d = md.digest("{PW}".getBytes(StandardCharsets.UTF_8));',
    f'var h = sha.ComputeHash(Encoding.UTF8.GetBytes("{PW}"));',
]

KEY_LEAKED = [
    f"OpenSSL::HMAC.hexdigest('SHA256', '{KEY}', data)",
    f"$sig = hash_hmac('sha256', $payload, '{KEY}');",
    f'f = Fernet(b"{KEY}")',
    f'cipher = AES.new(b"{KEY}", AES.MODE_GCM)',
    f"const c = crypto.createCipheriv('aes-256-cbc', '{KEY}', iv);",
    f"const d = crypto.createDecipheriv('aes-256-cbc', '{KEY}', iv);",
]

KEPT = [
    "assert verify_password(password, user.hashed_password)",
    "hashed = hash_password(form.password.data)",
    "assert check_password_hash(user.password_hash, password)",
    "passport.authenticate('local', { failureRedirect: '/login' })",
    "app.post('/login', passport.authenticate('session'))",
    "const h = hash('hello', 2)",
    "return self.authenticate('CRAM-MD5', self._CRAM_MD5_AUTH)",
    "const h = await hash(password, 12)",
    'hashlib.sha256(b"hello world").hexdigest()',
    "hashlib.sha256(data).hexdigest()",
    'hashlib.md5(b"abc").hexdigest()',
    "crypto.createHash('sha256').update('hello world').digest('hex')",
    "crypto.createHash('sha256').update(body).digest('hex')",
    "Digest::SHA256.hexdigest(File.read(path))",
    'digest = md.digest("hello".getBytes(StandardCharsets.UTF_8));',
    "$hash = md5('file.txt');",
    "$hash = hash('sha256', $contents);",
    "cipher = AES.new(key, AES.MODE_GCM)",
    "f = Fernet(Fernet.generate_key())",
    "hash_hmac('sha256', $payload, $secret)",
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_of_the_twenty_sixth_attack_is_redacted(text: str) -> None:
    assert_hidden(text, "admin123" if "admin123" in text else PW)


@pytest.mark.parametrize("text", KEY_LEAKED)
def test_a_key_given_to_its_cipher_or_hmac_is_redacted(text: str) -> None:
    assert_hidden(text, KEY)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text

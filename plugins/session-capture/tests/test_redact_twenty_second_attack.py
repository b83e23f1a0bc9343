"""The shapes of the twenty-second attack on redaction, a credential named in the developer's
own language (each leaked before its rule): a password's name in another script or with its
accents given a quoted value (`contraseña = "…"`, `$пароль = '…';`, `'пароль' => '…'`,
`密码 = "…"`), one in capitals (`ПАРОЛЬ=…`: `str.lower` folds them, a capture batch's bytes
did not; `redacted` checks that a batch redacts each text as it is redacted alone), a JSON
key in another script (`{"пароль": …}`, `{"mật khẩu": …}`), a transliterated name (Russian
`parol`, Chinese pinyin `mima`, Vietnamese `mat_khau`, Indonesian `kata_sandi`, Serbian
`lozinka`, French `motdepasse`), a SQL column so named (`INSERT INTO usuarios (nome, senha)
…`); a token's or a key's name so written (`токен = "…"`, `{"密钥": …}`, `clé_api`). And the
same names holding no credential: a translation's text, code, a product's code (kept)."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor9x"

LEAKED = [
    f'contraseña = "{PW}"',
    f"$пароль = '{PW}';",
    f"'пароль' => '{PW}',",
    f'пароль: "{PW}"',
    f'密码 = "{PW}"',
    f"ПАРОЛЬ={PW}",
    f'ПАРОЛЬ="{PW}"',
    f"HASŁO: {PW}",
    f'{{"пароль": "{PW}", "логин": "ivan"}}',
    f'{{"mật khẩu": "{PW}"}}',
    f'{{"密码": "{PW}", "用户": "li"}}',
    f'$parol = "{PW}";',
    f'mima = "{PW}"',
    f'$mat_khau = "{PW}";',
    f"matKhau: {PW}",
    f'kata_sandi = "{PW}"',
    f"LOZINKA={PW}",
    f"motdepasse={PW}",
    f'$jelszo = "{PW}";',
    f'GESLO="{PW}"',
    f"$config['db']['пароль'] = '{PW}';",
    f"INSERT INTO usuarios (nome, senha) VALUES ('joao', '{PW}');",
    f"INSERT INTO utilisateurs (email, motdepasse) VALUES ('a@b.fr', '{PW}');",
    f"INSERT INTO nguoidung (email, mat_khau) VALUES ('a@b.vn', '{PW}');",
    f'cur.execute("INSERT INTO usuarios (nome, senha) VALUES (%s, %s)", ("joao", "{PW}"))',
]

TOKEN = "ghx9Kq2LmZ8pQ7rT5vW3yB1nC4dF6hJ0"

# A token's or a key's name so written: only a random-looking value is one.
KEYS_LEAKED = [
    f'токен = "{TOKEN}"',
    f'访问令牌 = "{TOKEN}"',
    f'clé_api = "{TOKEN}"',
    f'{{"токен": "{TOKEN}"}}',
    f'{{"密钥": "{TOKEN}", "区域": "cn"}}',
    f'{{"api_ключ": "{TOKEN}"}}',
]

KEPT = [
    '{"ключ": "значение"}',
    '{"токен": "Введите токен"}',
    'ключ = "user_name"',
    'password: "Пароль"',
    '{"пароль": "Введите пароль"}',
    '"密码": "请输入密码"',
    'contraseña: "Introduce tu contraseña"',
    "'пароль' => 'Пароль должен содержать 8 символов',",
    '{"label": "Пароль", "type": "password"}',
    "parol = request.form['parol']",
    "$matkhau = md5($_POST['matkhau']);",
    'kata_sandi = input("Kata sandi: ")',
    'sandi = "X100"',
    'sifra_proizvoda = "X100"',
    'parole = "mot"',
    'mimalloc = "enabled"',
    "INSERT INTO usuarios (nome, senha) VALUES ('joao', crypt(:senha, gen_salt('bf')));",
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_named_in_another_language_is_redacted(text: str) -> None:
    assert_hidden(text, PW)


@pytest.mark.parametrize("text", KEYS_LEAKED)
def test_a_token_named_in_another_language_is_redacted(text: str) -> None:
    assert_hidden(text, TOKEN)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_names_without_a_password_are_kept(text: str) -> None:
    assert redacted(text) == text

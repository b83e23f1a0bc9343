"""The shapes of the twenty-ninth attack on redaction, a passphrase of several words written
bare where YAML, INI and Java properties read the whole rest of the line as the value
(`password: correct horse battery staple`): the assignment rule read one word of it, so the
other words were left, or none when the first word was short or common (`password: the
horse battery staple`). And what must stay: a shell's `PASSWORD=pw make deploy` (the words
after are the command), code after a key (`password: str = None`), a sentence, another key
on the same line, an algorithm's `First pass: …` (kept)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact.names import NOT_VALUES, PASSWORD_WORDS_ABROAD
from ox_session_capture.testing.redacted import redacted

PHRASE = "correct horse battery staple"

LEAKED = [
    ("db:\n  user: app\n  password: correct horse battery staple\n  port: 5432", PHRASE),
    ("password: the horse battery staple", "the horse battery staple"),
    ("password: my dog has fleas", "my dog has fleas"),
    ("[database]\npassword = correct horse battery staple\nhost = db1", PHRASE),
    ("spring.datasource.password: correct horse battery staple", PHRASE),
    ("  passphrase: walking in the rain again  # rotated", "walking in the rain again"),
    ("# password: correct horse battery staple", PHRASE),
    ("  // password: correct horse battery staple", PHRASE),
    ("services:\n  db:\n    - password: purple monkey dishwasher", "purple monkey dishwasher"),
    ('echo "password: correct horse battery staple" >> config.yml', PHRASE),
    (
        "cat > app.yml <<EOF\nsmtp:\n  password: blue sky over the ocean\nEOF",
        "blue sky over the ocean",
    ),
    ('{"content": "db:\\n  password: correct horse battery staple\\n  user: x"}', PHRASE),
    ("password: correct horse battery staple\r\nuser: x", PHRASE),
    ("Password: correct horse battery staple", PHRASE),
    ("my new password: correct horse battery staple", PHRASE),
    ("wifi_psk: Sunny Days Are Here 2024", "Sunny Days Are Here 2024"),
]

KEPT = [
    "    password: str = None",
    "    password: Optional[str] = None",
    "val password: String by lazy { x }",
    "Password: I forgot it again.",
    "The password: it must be changed weekly",
    "password = x if y else z",
    "# First pass: determine maximum length of long option names",
    "found in one pass: growing the fence",
    "    :param is_password: Show asterisks instead of the actual typed characters.",
    "- password: The user's password",
    "  password: ${DB_PASSWORD}",
]

# The value is one word, and what follows it on the line is something else: only the word.
ONE_WORD = [
    ("PASSWORD=Hunter2pw make deploy", "make deploy"),  # the command the variable is set for
    ("DB_PASSWORD=s3cret123 npm run migrate", "npm run migrate"),
    ("login password: Hunter2pw host: db1", "host: db1"),  # another key
    ("password: Hunter2pw, user: bob", "user: bob"),
    ("pw : rational number", "number"),  # a docstring's parameter
    ("password: Hunter2pw user=bob", "user=bob"),
]


def _words_left(out: str, phrase: str) -> list[str]:
    return [w for w in phrase.split() if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", out)]


@pytest.mark.parametrize(("text", "phrase"), LEAKED)
def test_each_word_of_a_bare_passphrase_is_redacted(text: str, phrase: str) -> None:
    out = redacted(text)
    assert _words_left(out, phrase) == [], out
    assert "[REDACTED_PASSWORD]" in out, out


@pytest.mark.parametrize("text", KEPT)
def test_code_sentences_and_passes_are_kept(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(("text", "after"), ONE_WORD)
def test_what_follows_a_one_word_value_stays(text: str, after: str) -> None:
    out = redacted(text)
    assert "[REDACTED_PASSWORD]" in out, out
    assert out.endswith(after), out


# Words of a passphrase: none a value's stand-in (`none`, `str`) or a password's name in any
# language (`password: heslo …` is a form's text), none a word of the frames below.
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=9).filter(
    lambda w: (
        w not in NOT_VALUES
        and w not in ("next", "rotated", "smtp")
        and not any(n in w for n in ("pass", *PASSWORD_WORDS_ABROAD))
    )
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_WORD, min_size=2, max_size=9),
    st.sampled_from(["password", "db_password", "passphrase", "smtp.password", "PASSWORD"]),
    st.sampled_from(["{k}: {v}", "  {k}: {v}  # rotated", "- {k}: {v}\nnext: 1", "{k} = {v}"]),
)
def test_no_word_of_a_passphrase_written_as_a_config_value_is_left(
    words: list[str], key: str, frame: str
) -> None:
    # After `=` the rest is read only when the first word is a password alone (code may
    # follow `password = x`): there the first word is one.
    if "=" in frame:
        words = ["Tr0ub4dor9x", *words[1:]]
    phrase = " ".join(words)
    out = redacted(frame.format(k=key, v=phrase))
    assert _words_left(out, phrase) == [], out

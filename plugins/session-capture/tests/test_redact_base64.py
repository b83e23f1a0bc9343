"""Redaction of secrets printed base64-encoded: `echo … | base64`, `kubectl get secret -o
yaml` / `-o json` (every `data:` value, whatever its key), `.dockerconfigjson` (base64 of JSON
holding base64), wrapped `base64` output; and base64 that hides nothing (images, hashes,
text without a secret) left alone."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ox_session_capture.redact import LedgerRedactor, redact_text
from ox_session_capture.testing.corpus.benign import LINES
from ox_session_capture.testing.corpus.secrets import SHAPES, Shape
from ox_session_capture.testing.redacted import redacted

GH = "ghp_" + "Wm3vT8kX2pL7sQ9nB4cR1yH6jF0dZ5gA3eK8"
DB_URL = "postgres://user:s3cr3t@db.internal:5432/app"
RANDOM_PW = "Zx9Qw2Lm8Np4Rt6Vy1Bc3"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq8Lt3Hn2v"


def b64(text: str | bytes, urlsafe: bool = False) -> str:
    data = text.encode() if isinstance(text, str) else text
    return (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(data).decode()


DOCKER_AUTH = b64("deploy:" + "hunter2-registry-pw")
DOCKERCONFIG = json.dumps({"auths": {"ghcr.io": {"auth": DOCKER_AUTH}}})
SECRET_YAML = f"""apiVersion: v1
data:
  .dockerconfigjson: {b64(DOCKERCONFIG)}
  AWS_SECRET_ACCESS_KEY: {b64(AWS_SECRET)}
  DB_URL: {b64(DB_URL)}
  GH: {b64(GH)}
  plain: {b64(RANDOM_PW)}
kind: Secret
metadata:
  name: db
  namespace: default
type: Opaque
"""
SECRET_VALUES = [b64(DOCKERCONFIG), b64(AWS_SECRET), b64(DB_URL), b64(GH), b64(RANDOM_PW)]


def test_echo_base64_of_a_token_is_redacted() -> None:
    text = f"$ echo -n {GH} | base64\n{b64(GH)}\n"
    out = redact_text(text)
    assert b64(GH) not in out
    assert "[REDACTED_BASE64_GITHUB_TOKEN]" in out


def test_kubectl_get_secret_yaml_loses_every_data_value() -> None:
    out = redact_text(SECRET_YAML)
    assert [v for v in SECRET_VALUES if v in out] == []
    assert "  DB_URL: [REDACTED_" in out
    assert "  plain: [REDACTED_KUBERNETES_SECRET]" in out
    assert "  name: db\n" in out  # the rest reads as it was


def test_a_list_of_secrets_in_yaml_and_a_configmap_beside_it() -> None:
    text = (
        "apiVersion: v1\nitems:\n- apiVersion: v1\n  data:\n"
        f"    password: {b64(RANDOM_PW)}\n    api: {b64('x' * 3 + RANDOM_PW)}\n"
        "  kind: Secret\n  metadata:\n    name: a\n"
        "- apiVersion: v1\n  data:\n    LOG_LEVEL: debug\n  kind: ConfigMap\n"
        "kind: List\n"
    )
    out = redact_text(text)
    assert b64(RANDOM_PW) not in out
    assert b64("x" * 3 + RANDOM_PW) not in out
    assert "    LOG_LEVEL: debug\n" in out  # a ConfigMap's data is no secret


def test_string_data_and_block_values_of_a_manifest() -> None:
    text = (
        "kind: Secret\nmetadata:\n  name: app\nstringData:\n"
        f"  DATABASE: {RANDOM_PW}\n  config.yaml: |\n    dsn: {RANDOM_PW}x\n"
        "    retries: 3\ntype: Opaque\n"
    )
    out = redact_text(text)
    assert RANDOM_PW not in out
    assert "type: Opaque" in out


def test_kubectl_get_secret_json_whole_and_cut() -> None:
    doc = {
        "apiVersion": "v1",
        "kind": "Secret",
        "data": {"DB_URL": b64(DB_URL), "plain": b64(RANDOM_PW)},
        "metadata": {"name": "db"},
    }
    text = json.dumps(doc, indent=4)
    for variant in (text, text[:-40], json.dumps({"output": text})):
        out = redact_text(variant)
        assert b64(DB_URL) not in out, variant
        assert b64(RANDOM_PW) not in out, variant
    listed = json.dumps({"kind": "List", "items": [doc]}, indent=4)
    assert b64(RANDOM_PW) not in redact_text(listed)


def test_docker_config_and_basic_auth_and_npmrc() -> None:
    texts = [
        json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": DOCKER_AUTH}}}),
        f"Authorization: Basic {DOCKER_AUTH}",
        f"//registry.npmjs.org/:_auth={DOCKER_AUTH}",
        f"registry: ghcr.io\ndockerconfigjson {b64(DOCKERCONFIG)}",
    ]
    for text in texts:
        out = redact_text(text)
        assert DOCKER_AUTH not in out, text
        assert b64(DOCKERCONFIG) not in out, text


def test_wrapped_base64_of_a_private_key_goes_whole() -> None:
    body = b64(bytes(range(256)) * 3)
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----\n"
    encoded = b64(pem)
    wrapped = "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    out = redact_text(f"$ base64 key.pem\n{wrapped}\n$ ")
    lines = wrapped.splitlines()
    assert [line for line in lines if line in out] == []


def test_base64_in_escaped_json_text() -> None:
    cut = json.dumps({"command": f"cat <<EOF\n{b64(DB_URL)}\nEOF"})[:-3]
    assert b64(DB_URL) not in redact_text(cut)


def test_the_batch_path_gives_the_same_result() -> None:
    texts = [*LINES[:40], SECRET_YAML, f"value {b64(GH)} ok", *LINES[40:80]]
    assert LedgerRedactor().many(texts) == [redact_text(t) for t in texts]


def test_redacting_twice_changes_nothing() -> None:
    for text in (SECRET_YAML, f"echo {b64(GH)}", json.dumps({"k": b64(DOCKERCONFIG)})):
        once = redact_text(text)
        assert redact_text(once) == once


def test_base64_of_benign_text_is_left_alone() -> None:
    kept = [line for line in LINES if redact_text(line) == line]
    for line in kept:
        for text in (b64(line), f"data: {b64(line, urlsafe=True)}"):
            assert redact_text(text) == text, line


# ---------------------------------------------------------------- properties

# What stands before and after the secret in the encoded text: its length moves the secret
# across the three byte alignments of base64.
_BEFORE = st.sampled_from(["", " ", "\n", "x ", "# ", "ab\n"])
_AFTER = st.sampled_from(["", " ", "\n", " x", " #", "\nab"])


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SHAPES),
    _BEFORE,
    _AFTER,
    st.booleans(),
    st.booleans(),
    st.sampled_from(["{}", "value: {}\n", "[{}]", '"{}"', "echo {} | base64 -d"]),
    st.text(max_size=20),
)
def test_any_secret_the_rules_catch_is_caught_base64_encoded(
    shape: Shape,
    before: str,
    after: str,
    urlsafe: bool,
    padded: bool,
    frame: str,
    prose: str,
) -> None:
    encoded = b64(before + shape.text + after, urlsafe)
    encoded = encoded if padded else encoded.rstrip("=")
    text = prose + " " + frame.format(encoded) + " " + prose
    out = redact_text(text)
    assert encoded.rstrip("=") not in out
    assert redact_text(out) == out


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=16, max_size=600), st.booleans(), st.booleans())
def test_base64_of_binary_data_is_left_alone(data: bytes, urlsafe: bool, digest: bool) -> None:
    if digest:
        data = hashlib.sha512(data).digest()
    for text in (
        b64(data, urlsafe),
        f'<img src="data:image/png;base64,{b64(data)}">',
        f'"integrity": "sha512-{b64(data)}"',
    ):
        assert redact_text(text) == text


@pytest.mark.parametrize("shape", SHAPES[::7], ids=lambda s: s.kind)
def test_base64_inside_base64_is_read_to_the_secret(shape: Shape) -> None:
    inner = b64(shape.text)
    outer = b64(json.dumps({"note": "nested", "blob": inner}))
    out = redact_text(f"payload {outer}")
    assert outer not in out


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}-{s.kind}" for n, s in enumerate(SHAPES)])
def test_every_shape_is_caught_at_every_alignment(shape: Shape) -> None:
    for before in ("", "#", "# "):
        for urlsafe in (False, True):
            encoded = b64(before + "\n" + shape.text + "\n", urlsafe)
            out = redact_text(f"$ cat creds.b64\n{encoded}\n")
            assert encoded not in out, (before, urlsafe)


def test_a_manifest_with_comments_on_its_kind_and_data_lines_loses_its_data_values() -> None:
    # A YAML comment after `kind: Secret` or `data:` made neither line count: kept whole.
    value = b64("correct horse battery staple")
    for kind, data in (("Secret  # by hand, never applied", "data:"), ("Secret", "data: # b64")):
        text = f"apiVersion: v1\nkind: {kind}\nmetadata:\n  name: app\n{data}\n  aux: {value}\n"
        out = redact_text(text)
        assert value not in out
        assert "  aux: [REDACTED_KUBERNETES_SECRET]\n" in out
        assert LedgerRedactor().many([text]) == [out]


def _gzip_b64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode(), mtime=0)).decode()


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{n}-{s.kind}" for n, s in enumerate(SHAPES)])
def test_every_shape_gzipped_then_base64_encoded_is_redacted(shape: Shape) -> None:
    encoded = _gzip_b64("apiVersion: v1\n" + shape.text + "\n")
    out = redacted(f"release: {encoded}\n")
    assert encoded[:40] not in out
    assert "[REDACTED_BASE64_" in out


def test_a_gzip_stream_cut_short_is_read_as_far_as_it_goes() -> None:
    encoded = _gzip_b64("DB_PASSWORD=Hunter2pwQx9\n" + "filler line\n" * 50)
    out = redacted(f"release: {encoded[:60]}")
    assert "[REDACTED_BASE64_PASSWORD]" in out


def test_gzip_bombs_and_gzip_of_binary_or_ordinary_text_are_kept_quickly() -> None:
    for raw in (b"\x00" * 50_000_000, b"A" * 50_000_000, os.urandom(5_000)):
        encoded = base64.b64encode(gzip.compress(raw, mtime=0)).decode()
        # (A run of `A`s in base64 of zeros looks like an X bearer token's start: that rule's.)
        assert "[REDACTED_BASE64_" not in redact_text(f"data {encoded}")
    plain = _gzip_b64("nothing to hide here: a changelog, some notes, a list of hosts")
    assert redact_text(plain) == plain

"""Texts redaction kept as secrets though they hold none, and keeps in clear since stop 48: a
`kubectl get secrets` listing's TYPE column (a row's first cell names a resource, not what
its second cell holds) and PostgreSQL's `password_encryption` (a method, not a password). The
credentials beside them still go."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

LISTING = (
    "NAME                  TYPE                                  DATA   AGE\n"
    "default-token-abcde   kubernetes.io/service-account-token   3      10d\n"
    "db-secret             Opaque                                2      5m\n"
)

KEPT = [
    LISTING,
    "NAMESPACE   NAME         TYPE     DATA   AGE\nprod        api-token    Opaque   1      2d\n",
    "password_encryption = scram-sha-256",
    "#password_encryption = md5\t\t# scram-sha-256 or md5",
]


@pytest.mark.parametrize("text", KEPT)
def test_a_listing_or_a_method_is_kept(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("| Key | Value |\n| API_TOKEN | Zq8xWv3kLm9Tq2Rs7Yu4Ab |", "Zq8xWv3kLm9Tq2Rs7Yu4Ab"),
        ("NAME   VALUE\napi-token   Zq8xWv3kLm9Tq2Rs7Yu4Ab\n", "Zq8xWv3kLm9Tq2Rs7Yu4Ab"),
        ("password_encryption_key = Zq8xWv3kLm9Tq2Rs7Yu4Ab", "Zq8xWv3kLm9Tq2Rs7Yu4Ab"),
        (LISTING + "\nand the token: Zq8xWv3kLm9Tq2Rs7Yu4Ab", "Zq8xWv3kLm9Tq2Rs7Yu4Ab"),
    ],
)
def test_the_credentials_beside_them_still_go(text: str, secret: str) -> None:
    assert_hidden(text, secret)

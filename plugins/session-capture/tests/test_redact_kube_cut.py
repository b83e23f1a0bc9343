"""A Secret whose `kind` the tool result's excerpt cut away: kubectl prints `data` before
`kind` (its keys sorted), and a successful tool result is kept as its first 500 characters,
cut before it is redacted. A Secret with more data than that reached `raw.jsonl` (and the
pushed files) as `apiVersion: v1`, `data:` and its values, with nothing to say it is a
Secret: a value under a plain key (`admin`, `aux`) that no rule knows was kept."""

from __future__ import annotations

import base64
import json

from ox_session_capture.redact import LedgerRedactor
from ox_session_capture.testing.bash_sessions import captured_result


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


ADMIN = b64("tR5vQ8nW2xK7mP4sL9cZb3Yh")  # a random password under a plain key
AUX = b64("correct horse battery staple")
# A public certificate, sorted after them: longer than the excerpt, cut inside.
CA = b64("-----BEGIN CERTIFICATE-----\n" + "MIIB" * 300 + "\n-----END CERTIFICATE-----\n")
METADATA = (
    'metadata:\n  creationTimestamp: "2026-01-01T00:00:00Z"\n  name: app\n'
    '  namespace: default\n  resourceVersion: "1234"\n'
    "  uid: 5f0e4e3a-1111-2222-3333-444455556666\ntype: Opaque\n"
)
SECRET_YAML = f"apiVersion: v1\ndata:\n  admin: {ADMIN}\n  aux: {AUX}\n  ca.crt: {CA}\n"
SECRET_YAML += "kind: Secret\n" + METADATA
SECRET_JSON = json.dumps(
    {
        "apiVersion": "v1",
        "data": {"admin": ADMIN, "aux": AUX, "ca.crt": CA},
        "kind": "Secret",
        "metadata": {"name": "app", "namespace": "default"},
        "type": "Opaque",
    },
    indent=4,
)


def test_a_secret_whose_kind_the_excerpt_cut_away_loses_its_data_values() -> None:
    for command, output in (
        ("kubectl get secret app -o yaml", SECRET_YAML),
        ("kubectl get secret app -o json", SECRET_JSON),
    ):
        excerpt, uploaded = captured_result(command, output)
        assert "kind" not in excerpt  # the excerpt ends before it
        for value in (ADMIN, AUX):
            assert value not in excerpt, command
            assert value.encode() not in uploaded, command


def test_a_cut_list_of_secrets_loses_its_items_data_values() -> None:
    listed = "apiVersion: v1\nitems:\n" + "".join(
        "- " + line + "\n" if n == 0 else "  " + line + "\n"
        for n, line in enumerate(SECRET_YAML.splitlines())
    )
    excerpt, _ = captured_result("kubectl get secrets -o yaml", listed)
    assert ADMIN not in excerpt
    assert AUX not in excerpt


def test_a_configmap_whose_kind_was_cut_keeps_its_data() -> None:
    text = (
        'apiVersion: v1\ndata:\n  LOG_LEVEL: info\n  PORT: "8080"\n'
        "  URL: https://example.com/api\n  FLAGS: true\n"
    )
    assert LedgerRedactor().many([text]) == [text]
    short = "apiVersion: v1\ndata:\n  LOG_LEVEL: info\n  ENABLED: true\n"
    assert LedgerRedactor().many([short]) == [short]


def test_the_batch_and_one_text_agree_and_redacting_again_changes_nothing() -> None:
    cut = SECRET_YAML[: SECRET_YAML.index("kind:")]
    texts = [cut, "plain text", SECRET_JSON[: SECRET_JSON.index('"kind"')]]
    batch = LedgerRedactor().many(texts)
    assert batch == [LedgerRedactor()(t) for t in texts]
    assert LedgerRedactor().many(batch) == batch
    assert ADMIN not in batch[0]
    assert ADMIN not in batch[2]

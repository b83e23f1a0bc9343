"""End to end: secrets a tool printed base64-encoded never reach the team's remote or the
summarizer's prompt.

`kubectl get secret db -o yaml` and `-o json` print every value of a Secret's `data`
base64-encoded, whatever its key: a connection string, a token, a random password, and a
`.dockerconfigjson` (base64 of JSON whose `auth` is base64 of `user:password`). An agent's
`echo -n … | base64` prints a token the same way. A claude-code session's Bash results print
each; the test reads every object of the bare remote and every prompt the fake summarizer
received, for the encoded values and for what they decode to.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ox_session_capture.testing.bash_sessions import bash_session, published

if TYPE_CHECKING:
    from conftest import OxWorld

GH = "ghp_" + "Qz8vT3kX2pL7sQ9nB4cR1yH6jF0dZ5gA3eW2"
DB_URL = "postgres://app:" + "Vb7nQ2xLp9Tz" + "@db.internal:5432/app"
RANDOM_PW = "Kq4" + "wZ8nRt2Yv6LmP3"
REGISTRY_PW = "Rg5" + "tY7uI9oP1aS3"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


DOCKERCONFIG = json.dumps({"auths": {"ghcr.io": {"auth": b64("deploy:" + REGISTRY_PW)}}})
DATA = {
    ".dockerconfigjson": b64(DOCKERCONFIG),
    "DB_URL": b64(DB_URL),
    "GITHUB_TOKEN": b64(GH),
    "plain": b64(RANDOM_PW),
}
YAML = (
    "apiVersion: v1\ndata:\n"
    + "".join(f"  {key}: {value}\n" for key, value in DATA.items())
    + "kind: Secret\nmetadata:\n  name: db\n  namespace: default\ntype: Opaque\n"
)
JSON = json.dumps(
    {"apiVersion": "v1", "data": DATA, "kind": "Secret", "metadata": {"name": "db"}}, indent=4
)
OUTPUTS = {
    "kubectl get secret db -o yaml": YAML,
    "kubectl get secret db -o json": JSON,
    f"echo -n {GH} | base64": b64(GH) + "\n",
}
SECRETS = [
    *DATA.values(),
    b64("deploy:" + REGISTRY_PW),
    GH,
    DB_URL,
    RANDOM_PW,
    REGISTRY_PW,
]


def session_lines(outputs: dict[str, str]) -> list[dict[str, Any]]:
    return bash_session(
        "why can the app not reach the db?",
        [(command, output, False) for command, output in outputs.items()],
        "The staging settings are read.",
    )


def test_a_kubernetes_secret_printed_by_kubectl_never_reaches_the_remote(
    world: OxWorld, pid_holder: int
) -> None:
    daemon = world.serve()
    source = world.home / ".claude/projects/-home-dev-infra/5b2e8f1c-kube.jsonl"
    blobs, prompts = published(world, daemon, source, pid_holder, session_lines(OUTPUTS))
    assert "kubectl get secret db -o yaml" in blobs  # the session is there
    assert "namespace: default" in blobs  # and the Secret's other fields
    assert "kubectl get secret db -o json" in prompts
    assert [s for s in SECRETS if s in blobs] == []
    assert [s for s in SECRETS if s in prompts] == []
    assert not list(Path(world.remote).rglob("*.lock"))

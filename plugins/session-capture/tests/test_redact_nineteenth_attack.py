"""The shapes of the nineteenth attack on redaction: a value stored under a name given apart
from it (each leaked before its rule): Hadoop's and Hive's `<name>…</name><value>…</value>`,
a store's `set NAME VALUE` on a command line (`travis env set`, `sst secret set`, `consul kv
put app/db/password …`, `etcdctl put`, `redis-cli SET`), `--name NAME … --value …` (`eas
secret:create`). And the same forms holding no credential (kept): a value that is a word (an
environment's name), a variable, a name that is no credential's."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import assert_hidden, redacted

PW = "Tr0ub4dor3xyz"
K = "k9Xq2Lm7Zp4Rt8Vw1Yz3Bc6Df0Gh5Jn8"
LAST = "SunnyDayPw9"  # a digit only at its end: no label rule reads it as a password

LEAKED = [
    (
        "<property>\n  <name>javax.jdo.option.ConnectionPassword</name>\n"
        f"  <value>{PW}</value>\n</property>",
        PW,
    ),
    (f"<property><name>fs.s3a.secret.key</name><value>{K}</value></property>", K),
    (f"<name>hbase.zookeeper.property.auth.token</name>\\n<value>{K}</value>", K),
    (f"travis env set DB_PASSWORD {PW}", PW),
    (f"render env set DB_PASSWORD '{PW}'", PW),
    (f"sst secret set StripeKey {K}", K),
    (f"npx convex env set API_KEY {LAST}", LAST),
    (f"consul kv put app/db/password {LAST}", LAST),
    (f"etcdctl put /app/db/password {LAST}", LAST),
    (f"redis-cli -h cache -p 6379 SET app:db:password {LAST}", LAST),
    (f"kubectl config set users.bob.token {K}", K),
    (f"kubectl config set users.bob.client-secret {LAST}", LAST),
    (f"eas secret:create --scope project --name API_KEY --value {K}", K),
    (f"mytool store --name /prod/db/password --type string --value '{PW}'", PW),
]

KEPT = [
    "vercel env add DB_PASSWORD production",
    "a value must be no word (`vercel env add DB_PASSWORD production` names an environment)",
    'gh secret set DB_PASSWORD --body "$PW"',
    "travis env set DB_PASSWORD $DB_PASSWORD",
    "npm config set registry https://registry.npmjs.org/",
    "pnpm config set auto-install-peers true",
    "redis-cli SET counter 42",
    "etcdctl put /app/config/feature_flag true",
    "consul kv put app/db/host db.internal",
    "wrangler secret put API_TOKEN",
    "az deployment create --name app-deploy --value 42",
    "<property><name>dfs.replication</name><value>3</value></property>",
    "<name>hadoop.security.authentication</name>\n<value>kerberos</value>",
    "<name>hive.metastore.password.file</name><value>/etc/hive/pw</value>",
]


@pytest.mark.parametrize(("text", "secret"), LEAKED)
def test_a_credential_of_the_nineteenth_attack_is_redacted(text: str, secret: str) -> None:
    assert_hidden(text, secret)


@pytest.mark.parametrize("text", KEPT)
def test_the_same_forms_without_a_credential_are_kept(text: str) -> None:
    assert redacted(text) == text


def test_a_key_value_pair_keeps_its_name() -> None:
    out = redacted(f"vault kv put secret/app db_password={PW}")
    assert out == "vault kv put secret/app db_password=[REDACTED_PASSWORD]"

"""Passwords and tokens that tools take as plain arguments (`rules_tools`): each of these
reached the ledger whole before (35 of 82 shapes tried leaked); the same commands without a
secret (a prompt asked for, a variable, an option of the same letter) keep every word.
The corpus holds one shape of each (`testing.corpus.keywords`), so each is also checked in
JSON, in `raw.jsonl`, in prose and end to end through the daemon."""

from __future__ import annotations

import pytest

from ox_session_capture.testing.redacted import redacted

PW = "Hunter2pwQx"
TOKEN = "q8Zr2mXv7LpT4nWs9Kd1Xa"

LEAKED = [
    f"zip -P {PW} backup.zip data.sql",
    f"unzip -P {PW} backup.zip",
    f"7z a -p{PW} backup.7z data",
    f"ssh-keygen -t ed25519 -N {PW} -f key",
    f"openssl enc -aes-256-cbc -k {PW} -in a -out b",
    f"openssl passwd -6 {PW}",
    f"usermod -p $(openssl passwd -1 {PW}) bob",
    f"mkpasswd -m sha-512 {PW}",
    f"gpg --batch --passphrase {PW} -d secrets.gpg",
    f"sqlplus scott/{PW}@orcl",
    f"rman target sys/{PW}@prod",
    f"net use Z: \\\\server\\share {PW} /user:bob",
    f"mysqladmin -u root password {PW}",
    f"rabbitmqctl add_user admin {PW}",
    f"rabbitmqctl -n rabbit@mq1 change_password admin {PW}",
    f"redis-cli AUTH {PW}",
    f"AUTH default {PW}",
    f'sudo -S apt update <<< "{PW}"',
    f"chpasswd <<< 'bob:{PW}'",
    f"gh auth login --with-token <<< {TOKEN}",
    f"vercel env add API_TOKEN production <<< {TOKEN}",
    f"wrangler secret put API_KEY <<< {TOKEN}",
    f"twine upload -u __token__ -p {TOKEN} dist/*",
    f"poetry config http-basic.private bob {PW}",
    f"poetry config pypi-token.pypi {TOKEN}",
    f"cargo login {TOKEN}",
    f"cargo login --registry acme {TOKEN}",
    f"dotnet nuget add source https://x -u bob -p {PW} --store-password-in-clear-text",
    f"nuget sources add -Name acme -Source https://x -Username bob -Password {PW}",
    f"mc alias set s3 https://s3 AKIAIOSFODNN7EXAMPLE {TOKEN}",
    f"rclone config create s3 s3 secret_access_key {TOKEN}",
    f"ansible-vault encrypt_string '{PW}' --name db_password",
    f"ansible-vault encrypt_string --vault-id prod@prompt '{PW}' --name db_password",
    f"npm set //registry.npmjs.org/:_authToken {TOKEN}",
    f'requests.get(url, auth=("admin", "{PW}"))',
    f"session.auth = ('admin', '{PW}')",
    f'HTTPBasicAuth("admin", "{PW}")',
    f"Your new password is {PW}",
    f"doctl auth init -t {TOKEN}",
    f"CREATE USER 'a'@'%' IDENTIFIED WITH mysql_native_password BY '{PW}';",
    f"redis-cli CONFIG SET requirepass {PW}",
    f"masterauth {PW}",
    f"security add-generic-password -a bob -s deploy -w {PW}",
    f"lftp -u bob,{PW} ftp.example.com",
    f"sonar-scanner -Dsonar.login={TOKEN}",
    f"nmcli dev wifi connect HomeNet password {PW}",
    f"wpa_passphrase HomeNet {PW}",
    f"mosquitto_pub -h mq -u bob -P {PW} -t x -m y",
    f"cqlsh -u cassandra -p {PW} db1",
    f"mssql-cli -S db -U sa -P {PW}",
    f"neo4j-admin dbms set-initial-password {PW}",
    f"composer config --global github-oauth.github.com {TOKEN}",
    f"composer config http-basic.repo.example.com bob {PW}",
    f"bundle config set --global rubygems.pkg.github.com bob:{TOKEN}",
    f'dotnet user-secrets set "Db:Password" "{PW}"',
    f"setx API_TOKEN {TOKEN}",
    f"ConvertTo-SecureString '{PW}' -AsPlainText -Force",
    f"keytool -importkeystore -srcstorepass {PW} -deststorepass {PW}x",
    f"xcrun altool --upload-app -u bob@x.io -p {PW}",
    f"$ php artisan key:generate --show\nbase64:{TOKEN}{TOKEN[:21]}=",
    # A fourth attack (220 shapes, 62 leaked; the commands among them):
    f"xfreerdp /u:admin /p:{PW} /v:10.0.0.5",
    f"rdesktop -u admin -p {PW} 10.0.0.5",
    f"ipmitool -I lanplus -H 10.0.0.9 -U ADMIN -P {PW} chassis status",
    f"racadm -r 10.0.0.9 -u root -p {PW} getsysinfo",
    f"vsql -U dbadmin -w {PW}",
    f"p4 -u bob -P {PW} sync",
    f"influx setup -u admin -p {PW} -o org -b bkt -f",
    f"influx bucket list -t {TOKEN}",
    f"ngrok config add-authtoken {TOKEN}",
    f"ngrok authtoken {TOKEN}",
    f"snmpwalk -v3 -u admin -l authPriv -a SHA -A {PW} 10.0.0.1",
    f"snmpget -v3 -u admin -l authPriv -x AES -X {PW} 10.0.0.1 sysName.0",
    f"snmpwalk -v2c -c {PW} 10.0.0.1",
    f"az keyvault secret set --vault-name v --name db --value {PW}",
    f"aws ssm put-parameter --name /app/db --type SecureString --value '{PW}'",
    f"pulumi config set --secret dbPassword {PW}",
    f"pulumi config set dbPassword {PW} --secret",
    f"gcloud secrets create x --data-file=- <<< '{PW}'",
    f"circleci context store-secret org ctx API_KEY <<< {TOKEN}",
    f"sshfs bob@h:/ /mnt -o password_stdin <<< '{PW}'",
    f"vncpasswd -f <<< {PW}",
    f"oathtool --totp -b {TOKEN}",
    f"smtp.login('bob@ex.com', '{PW}')",
    f'req.SetBasicAuth("bob", "{PW}")',
    f"jwt.sign(payload, '{PW}', {{ expiresIn: '1h' }})",
    f'jwt.encode(payload, "{PW}", algorithm="HS256")',
    f"f = Fernet(b'{TOKEN}{TOKEN[:21]}=')",
    f"jdbc:oracle:thin:bob/{PW}@db:1521/ORCL",
    f'sql.Open("mysql", "bob:{PW}@tcp(db:3306)/app")',
    f"-H 'Authorization: SSWS 00{TOKEN}'",
    f"-H 'Authorization: GenieKey 3f8a1c2e-7b6d-4e5f-9a0b-{TOKEN[:12].lower()}'",
    f"otpauth://totp/ACME:bob@ex.com?secret={TOKEN}&issuer=ACME",
]


@pytest.mark.parametrize("text", LEAKED)
def test_a_password_argument_is_redacted(text: str) -> None:
    out = redacted(text)
    assert PW not in out
    assert TOKEN not in out
    assert "[REDACTED_" in out


def test_each_of_two_password_flags_is_redacted() -> None:
    out = redacted(f"ssh-keygen -p -P old{PW} -N new{PW} -f key")
    assert PW not in out
    assert out.count("[REDACTED_") == 2


@pytest.mark.parametrize(
    "text",
    [
        "zip -r backup.zip data/",
        "7z x backup.7z -o/tmp/out",
        "7z a -p backup.7z data",  # asks for it
        'ssh-keygen -t ed25519 -N "" -f key',
        "ssh-keygen -t ed25519 -N $PASSPHRASE -f key",
        "openssl passwd -stdin < pw.txt",
        "sqlplus / as sysdba",
        "sqlplus -s /nolog",
        "net use Z: \\\\server\\share /user:bob *",
        "mysqladmin -u root -p status",
        "rabbitmqctl list_users",
        "rabbitmqctl add_user admin $ADMIN_PASSWORD",
        "cargo login",
        "The AUTH header carries the token.",
        "requests.get(url, auth=(user, password))",
        'requests.get(url, auth=("admin", os.environ["PW"]))',
        "dotnet run -p src/App",
        'sudo -S apt update <<< "$SUDO_PASSWORD"',
        "npm set registry https://registry.npmjs.org/",
        "gpg --passphrase-fd 0 -d secrets.gpg",
        "poetry config virtualenvs.in-project true",
        "mc alias list",
        "Your new password is required.",
        "Run cargo login and paste the token from crates.io.",
        "wpa_passphrase HomeNet < passphrase.txt",
        "nmcli connection show --active",
        "neo4j-admin dbms set-initial-password $NEO4J_PASSWORD",
        "Set requirepass in redis.conf, then restart.",
        "setx PATH C:\\tools",
        "dotnet user-secrets list",
        "ConvertTo-SecureString $plain -AsPlainText -Force",
        "composer config --global process-timeout 2000",
        "bundle config set --local path vendor/bundle",
        "security add-generic-password -a bob -s deploy -w",
        "lftp -u bob ftp.example.com",
        "xcrun altool --upload-app -u bob@x.io -p @keychain:AC_PASSWORD",
        '<img src="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAf">',
        "encoding: base64: the text is base64-encoded",
        "Use openssl passwd to make the hash, or mkpasswd with the same salt.",
        "xfreerdp /u:admin /v:10.0.0.5 /cert:ignore",
        "rdesktop -u admin 10.0.0.5",
        "ipmitool -I lanplus -H 10.0.0.9 -U ADMIN -E chassis status",
        "influx -precision rfc3339 -database metrics",
        "snmpwalk -v2c -c public 10.0.0.1",
        "snmpwalk -v3 -u admin -l authPriv -A $SNMP_AUTH 10.0.0.1",
        "aws ssm put-parameter --name /app/region --type String --value eu-west-1",
        "az keyvault secret set --vault-name v --name db --file pw.txt",
        "pulumi config set aws:region eu-west-1",
        "ngrok http 8080",
        "oathtool --totp -b $TOTP_SEED",
        "client.login(username, password)",
        "jwt.sign(payload, process.env.JWT_SECRET, { expiresIn: '1h' })",
        "f = Fernet(key)",
        "jdbc:oracle:thin:@db:1521/ORCL",
        'dsn := fmt.Sprintf("%s:%s@tcp(%s)/app", user, pass, host)',
        "Authorization: handled by the middleware/authenticate step",
        "otpauth://totp/ACME:bob@ex.com?issuer=ACME",
    ],
)
def test_the_same_commands_without_a_secret_keep_every_word(text: str) -> None:
    assert redacted(text) == text

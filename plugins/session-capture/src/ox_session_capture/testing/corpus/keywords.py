"""The keyword, command-line and config-file forms of the secrets corpus (the vendor formats
are in `secrets`): `add_keyword_forms()` appends them to `SHAPES`, after the vendor formats,
so the deterministic random values stay the same from run to run."""

from __future__ import annotations

import base64
import string

from ox_session_capture.testing.corpus.shapes import (
    ALNUM,
    B64,
    HEX,
    LOWER,
    UPPER,
    URLSAFE,
    add,
    rnd,
)


def add_keyword_forms() -> None:
    add("assignment", "PASSWORD", rnd(ALNUM, 14), "db_password={s}", "config")
    add("assignment", "PASSWORD", rnd(ALNUM, 12), "PGPASSWORD={s} psql -h db app", "cli")
    add("assignment", "PASSWORD", rnd(ALNUM, 12), "MYSQL_PWD={s}", "config")
    add("assignment", "PASSWORD", rnd(ALNUM, 12), "REDIS_PASS: {s}", "config")
    add("assignment", "PASSWORD", rnd(ALNUM, 12), '  password: "{s}"', "config")
    add("assignment", "SECRET", rnd(ALNUM, 20), '{{"client_secret": "{s}"}}', "config")
    add("assignment", "SECRET", rnd(HEX, 32), "DD_API_KEY={s}", "config")
    add("assignment", "SECRET", rnd(HEX, 40), "CLOUDFLARE_API_TOKEN={s}", "config")
    add("assignment", "SECRET", "00" + rnd(ALNUM, 40), "OKTA_API_TOKEN={s}", "config")
    add("assignment", "SECRET", rnd(ALNUM, 40), "NEXTAUTH_SECRET={s}", "config")
    add("assignment", "SECRET", rnd(ALNUM, 32), "JWT_SECRET: {s}", "config")
    add(
        "assignment",
        "SECRET",
        "-".join(rnd(HEX, n) for n in (8, 4, 4, 4, 12)),
        "HEROKU_API_KEY={s}",
        "config",
    )
    add("assignment", "SECRET", rnd(ALNUM, 64), "SENTRY_AUTH_TOKEN={s}", "config")
    add("assignment", "SECRET", rnd(B64, 44), "APP_KEY=base64:{s}", "config")
    add("assignment", "SECRET", rnd(ALNUM, 40), "  secret_key_base: {s}", "config")
    add("assignment", "SECRET", rnd(ALNUM, 24), "twilio.auth_token = '{s}'", "config")
    add("assignment", "SECRET", rnd(ALNUM, 32), "X-Api-Key: {s}", "config")
    add("assignment", "SECRET", rnd(ALNUM, 32), "https://api.example.com/v1?api_key={s}&q=1", "url")
    add(
        "assignment",
        "SECRET",
        rnd(ALNUM, 32),
        "wss://stream.example.com/feed?access_token={s}",
        "url",
    )
    add(
        "assignment",
        "PASSWORD",
        rnd(ALNUM, 16),
        "Server=db;Database=app;User Id=sa;Password={s};",
        "config",
    )
    add(
        "assignment",
        "PASSWORD",
        rnd(ALNUM, 16),
        "jdbc:mysql://db:3306/app?user=app&password={s}",
        "url",
    )
    add("assignment", "PASSWORD", rnd(ALNUM, 16), "define('DB_PASSWORD', '{s}');", "config")
    add("assignment", "PASSWORD", rnd(ALNUM, 16), "<password>{s}</password>", "config")
    add("assignment", "PASSWORD", rnd(ALNUM, 16), "spring.datasource.password={s}", "config")
    add(
        "assignment",
        "PASSWORD",
        rnd(ALNUM, 16),
        "mount -t cifs -o username=bob,password={s}",
        "cli",
    )
    add("high entropy", "HIGH_ENTROPY", rnd(ALNUM, 40), "SIGNING_SALT={s}", "config")
    add(
        "high entropy",
        "HIGH_ENTROPY",
        rnd(ALNUM, 32),
        "Cookie: sessionid={s}; theme=dark",
        "config",
    )
    add("command line", "PASSWORD", rnd(ALNUM, 16), "psql --password={s} -h db", "cli")
    add("command line", "PASSWORD", rnd(ALNUM, 16), "vault write auth/userpass password={s}", "cli")
    add("command line", "SECRET", rnd(ALNUM, 20), "gh secret set --token {s}", "cli")
    add("command line", "PASSWORD", rnd(ALNUM, 14), "keytool -list -storepass {s}", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "mysql -u root -p{s} app", "cli")
    add(
        "command line",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "mysqldump -uroot -p'{s}' app > a.sql",
        "cli",
    )
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "sshpass -p '{s}' ssh deploy@host", "cli")
    add(
        "command line",
        "SECRET",
        rnd(ALNUM + "/+", 40),
        "aws configure set aws_secret_access_key {s}",
        "cli",
    )
    add("command line", "SECRET", rnd(ALNUM, 24), "git config --global github.token {s}", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "curl -u admin:{s} https://ci/api", "cli")
    add(
        "command line",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "curl --user 'bob:{s}' -X POST https://x",
        "cli",
    )
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "docker login -u bob -p {s} ghcr.io", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "oc login -u dev -p {s} https://k8s", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "redis-cli -h cache -a {s} ping", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "mongosh --username root -p {s}", "cli")
    add(
        "command line",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "ldapsearch -x -D cn=admin,dc=acme -w {s} -b dc=acme",
        "cli",
    )
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "sqlcmd -S db -U sa -P {s}", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "htpasswd -b .htpasswd bob {s}", "cli")
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "smbclient //nas/share -U bob%{s}", "cli")
    add(
        "command line",
        "PASSWORD",
        rnd(ALNUM, 14),
        "openssl pkcs12 -in a.p12 -passin pass:{s}",
        "cli",
    )
    add(
        "command line",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "echo '{s}' | docker login -u bob --password-stdin",
        "cli",
    )
    add("command line", "CLI_PASSWORD", rnd(ALNUM, 14), "echo {s} | sudo -S apt update", "cli")
    add(
        "URL",
        "URL_CREDENTIALS",
        rnd(ALNUM, 14),
        "DATABASE_URL=postgres://app:{s}@db:5432/app",
        "url",
    )
    add("URL", "URL_CREDENTIALS", rnd(ALNUM, 14), "redis://:{s}@cache:6379/0", "url")
    add(
        "URL",
        "URL_CREDENTIALS",
        rnd(ALNUM, 14),
        "mongodb+srv://admin:{s}@cluster0.mongodb.net/db",
        "url",
    )
    add("URL", "URL_CREDENTIALS", rnd(ALNUM, 14), "amqp://guest:{s}@rabbit:5672/", "url")
    add(
        "URL",
        "URL_CREDENTIALS",
        rnd(ALNUM, 14),
        "git clone https://oauth2:{s}@gitlab.example.com/g/p.git",
        "url",
    )
    add("URL", "URL_CREDENTIALS", rnd(ALNUM, 14), "https_proxy=http://me:{s}@proxy:3128", "url")
    add("HTTP", "AUTH_HEADER",
        base64.b64encode(f"bob:{rnd(ALNUM, 12)}".encode()).decode(),
        "curl -H 'Authorization: Basic {s}' https://x", "cli")  # fmt: skip
    add("HTTP", "AUTH_HEADER", rnd(ALNUM, 40), "Authorization: token {s}", "config")
    add("HTTP", "BEARER_TOKEN", rnd(ALNUM, 40), "-H 'X-Auth: Bearer {s}'", "cli")
    add(
        "HTTP",
        "BASIC_AUTH",
        base64.b64encode(f"svc:{rnd(ALNUM, 12)}".encode()).decode(),
        "proxy auth: Basic {s}",
        "config",
    )
    add(
        ".netrc",
        "NETRC",
        rnd(ALNUM, 14),
        "machine api.heroku.com login me@x.io password {s}",
        "config",
    )
    add(
        ".netrc",
        "NETRC",
        rnd(ALNUM, 14),
        "machine git.acme.io\n  login bob\n  password {s}",
        "config",
    )
    add(".pgpass", "PGPASS", rnd(ALNUM, 14), "db.internal:5432:app:app_user:{s}", "config")
    add(".pgpass", "PGPASS", rnd(ALNUM, 14), "*:*:*:postgres:{s}", "config")
    add("kubeconfig", "SECRET", rnd(ALNUM, 40), "    token: {s}", "config")
    add(
        "kubeconfig",
        "PRIVATE_KEY",
        "LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo" + rnd(B64, 120),
        "    client-key-data: {s}",
        "config",
    )
    add(
        "Docker config",
        "SECRET",
        base64.b64encode(f"bob:{rnd(ALNUM, 14)}".encode()).decode(),
        '{{"auths": {{"ghcr.io": {{"auth": "{s}"}}}}}}',
        "config",
    )
    add(
        "PEM",
        "PRIVATE_KEY",
        "MIIEow" + rnd(B64, 58) + "\n" + rnd(B64, 64),
        "-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----",
        "config",
    )
    add(
        "OpenSSH",
        "PRIVATE_KEY",
        "b3BlbnNzaC1rZXktdjEAAAAA" + rnd(B64, 40),
        "-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n-----END OPENSSH PRIVATE KEY-----",
        "config",
    )
    add("PuTTY", "PRIVATE_KEY", rnd(B64, 64),
        "PuTTY-User-Key-File-3: ssh-rsa\nPrivate-Lines: 1\n{s}\nPrivate-MAC: "
        + rnd(HEX, 64), "config")  # fmt: skip
    add(
        "1Password",
        "ONEPASSWORD_SECRET_KEY",
        "A3-" + "-".join(rnd(UPPER, n) for n in (6, 6, 5, 5, 5, 5)),
        "emergency kit: {s}",
    )
    add("HashiCorp Vault", "CLI_PASSWORD", "s." + rnd(ALNUM, 24), "vault login {s}", "cli")
    add("Kubernetes env (YAML)", "PASSWORD", rnd(ALNUM, 14),
        "        env:\n        - name: DB_PASSWORD\n          value: {s}", "config")  # fmt: skip
    add("Kubernetes env (YAML)", "SECRET", rnd(ALNUM, 24),
        '  - name: "STRIPE_API_KEY"\n    value: "{s}"', "config")  # fmt: skip
    add(".NET appSettings", "SECRET", rnd(ALNUM, 32),
        '<add key="PaymentApiKey" value="{s}" />', "config")  # fmt: skip
    add("Spring XML", "PASSWORD", rnd(ALNUM, 12),
        '<property name="jdbc.password" value="{s}"/>', "config")  # fmt: skip
    add("PostgreSQL", "PASSWORD", rnd(ALNUM, 14),
        "CREATE ROLE app WITH LOGIN PASSWORD '{s}';", "cli")  # fmt: skip
    add("MySQL", "PASSWORD", rnd(ALNUM, 14),
        "ALTER USER 'app'@'%' IDENTIFIED BY '{s}';", "cli")  # fmt: skip
    add("GitHub CLI", "CLI_PASSWORD", rnd(ALNUM, 20),
        'gh secret set DEPLOY_KEY --repo acme/api --body "{s}"', "cli")  # fmt: skip
    add("GitHub CLI", "CLI_PASSWORD", rnd(ALNUM, 20),
        "echo -n '{s}' | gh secret set DEPLOY_TOKEN --repo acme/api", "cli")  # fmt: skip
    add("pass", "CLI_PASSWORD", rnd(ALNUM, 16),
        "printf '%s' \"{s}\" | pass insert -e infra/db", "cli")  # fmt: skip
    add("credential file", "PASSWORD", rnd(ALNUM, 18),
        "echo {s} > ~/.config/acme/api_token", "cli")  # fmt: skip
    # Tools that take a password or token as a plain argument (`rules_tools`).
    add("zip", "CLI_PASSWORD", rnd(ALNUM, 14), "zip -r -P {s} backup.zip data/", "cli")
    add("7-Zip", "CLI_PASSWORD", rnd(ALNUM, 14), "7z a -p{s} -mhe=on backup.7z data", "cli")
    add("ssh-keygen", "CLI_PASSWORD", rnd(ALNUM, 14),
        "ssh-keygen -t ed25519 -N '{s}' -f ~/.ssh/deploy", "cli")  # fmt: skip
    add("ssh-keygen", "CLI_PASSWORD", rnd(ALNUM, 14),
        "ssh-keygen -y -P {s} -f ~/.ssh/deploy", "cli")  # fmt: skip
    add("OpenSSL", "CLI_PASSWORD", rnd(ALNUM, 14),
        "openssl enc -aes-256-cbc -k {s} -in db.sql -out db.enc", "cli")  # fmt: skip
    add("OpenSSL", "CLI_PASSWORD", rnd(ALNUM, 14), "openssl passwd -6 -salt x1 {s}", "cli")
    add("mkpasswd", "CLI_PASSWORD", rnd(ALNUM, 14), "mkpasswd -m sha-512 {s}", "cli")
    add("GnuPG", "PASSWORD", rnd(ALNUM, 16),
        "gpg --batch --passphrase {s} -d secrets.gpg", "cli")  # fmt: skip
    add("Oracle", "CLI_PASSWORD", rnd(ALNUM, 12), "sqlplus -s scott/{s}@orcl @report.sql", "cli")
    add("Windows", "CLI_PASSWORD", rnd(ALNUM, 12),
        "net use Z: \\\\fs01\\share {s} /user:ACME\\bob", "cli")  # fmt: skip
    add("MySQL", "CLI_PASSWORD", rnd(ALNUM, 14), "mysqladmin -u root password {s}", "cli")
    add("RabbitMQ", "CLI_PASSWORD", rnd(ALNUM, 14), "rabbitmqctl add_user admin {s}", "cli")
    add("Redis", "CLI_PASSWORD", rnd(ALNUM, 16), "AUTH default {s}", "cli")
    add("sudo", "CLI_PASSWORD", rnd(ALNUM, 14), 'sudo -S systemctl restart app <<< "{s}"', "cli")
    add("GitHub CLI", "CLI_PASSWORD", rnd(ALNUM, 36),
        "gh auth login --hostname ghe.acme.io --with-token <<< {s}", "cli")  # fmt: skip
    add("Cargo", "CLI_PASSWORD", "cio" + rnd(ALNUM, 32), "cargo login {s}", "cli")
    add("twine", "CLI_PASSWORD", rnd(ALNUM, 32), "twine upload -u __token__ -p {s} dist/*", "cli")
    add("Poetry", "CLI_PASSWORD", rnd(ALNUM, 14),
        "poetry config http-basic.private bob {s}", "cli")  # fmt: skip
    add("NuGet", "CLI_PASSWORD", rnd(ALNUM, 14),
        "dotnet nuget add source https://nuget.acme.io -u bob -p {s}", "cli")  # fmt: skip
    add("MinIO", "CLI_PASSWORD", rnd(ALNUM, 32),
        "mc alias set s3 https://s3.acme.io AKIAIOSFODNN7EXAMPLE {s}", "cli")  # fmt: skip
    add("rclone", "CLI_PASSWORD", rnd(ALNUM, 32),
        "rclone config create s3 s3 secret_access_key {s}", "cli")  # fmt: skip
    add("Ansible", "CLI_PASSWORD", rnd(ALNUM, 14),
        "ansible-vault encrypt_string '{s}' --name db_password", "cli")  # fmt: skip
    add("npm", "SECRET", rnd(ALNUM, 36), "npm set //registry.npmjs.org/:_authToken {s}", "cli")
    add("DigitalOcean", "CLI_PASSWORD", rnd(ALNUM, 40), "doctl auth init -t {s}", "cli")
    add("Mosquitto", "CLI_PASSWORD", rnd(ALNUM, 14),
        "mosquitto_pub -h mq -u bob -P {s} -t t -m m", "cli")  # fmt: skip
    add("Cassandra", "CLI_PASSWORD", rnd(ALNUM, 14), "cqlsh -u cassandra -p {s} db1", "cli")
    add("macOS keychain", "CLI_PASSWORD", rnd(ALNUM, 14),
        "security add-generic-password -a bob -s deploy -w {s}", "cli")  # fmt: skip
    add("Xcode", "CLI_PASSWORD", rnd(ALNUM, 16),
        "xcrun altool --upload-app -f a.ipa -u bob@acme.io -p {s}", "cli")  # fmt: skip
    add("lftp", "CLI_PASSWORD", rnd(ALNUM, 14), "lftp -u bob,{s} ftp.acme.io", "cli")
    add("SonarQube", "CLI_PASSWORD", rnd(HEX, 40),
        "sonar-scanner -Dsonar.projectKey=api -Dsonar.login={s}", "cli")  # fmt: skip
    add("wpa_supplicant", "CLI_PASSWORD", rnd(ALNUM, 14), "wpa_passphrase HomeNet {s}", "cli")
    add("NetworkManager", "CLI_PASSWORD", rnd(ALNUM, 14),
        "nmcli dev wifi connect HomeNet password {s}", "cli")  # fmt: skip
    add("Neo4j", "CLI_PASSWORD", rnd(ALNUM, 14), "neo4j-admin dbms set-initial-password {s}", "cli")
    add("Redis", "CLI_PASSWORD", rnd(ALNUM, 16), "requirepass {s}", "config")
    add("Windows", "CLI_PASSWORD", rnd(ALNUM, 24), "setx STRIPE_API_KEY {s}", "cli")
    add(".NET", "CLI_PASSWORD", rnd(ALNUM, 24),
        'dotnet user-secrets set "Stripe:ApiKey" "{s}"', "cli")  # fmt: skip
    add("PowerShell", "CLI_PASSWORD", rnd(ALNUM, 14),
        "$pw = ConvertTo-SecureString '{s}' -AsPlainText -Force", "cli")  # fmt: skip
    add("Composer", "CLI_PASSWORD", rnd(ALNUM, 40),
        "composer config --global github-oauth.github.com {s}", "cli")  # fmt: skip
    add("Bundler", "CLI_PASSWORD", rnd(ALNUM, 36),
        "bundle config set --global rubygems.pkg.github.com bob:{s}", "cli")  # fmt: skip
    add("MySQL", "PASSWORD", rnd(ALNUM, 14),
        "CREATE USER 'a'@'%' IDENTIFIED WITH caching_sha2_password BY '{s}';", "cli")  # fmt: skip
    add("MySQL", "PASSWORD", "Hunter2pw" + rnd(ALNUM, 5),
        "[mysqld]\nroot-password = {s}", "config")  # fmt: skip
    add("wpa_supplicant", "PASSWORD", rnd(ALNUM, 14),
        'network={{\n  ssid="Home"\n  psk="{s}"\n}}', "config")  # fmt: skip
    add(".NET", "SECRET", rnd(ALNUM, 14),
        '<add name="db" connectionString="Server=db;User Id=sa;Password={s};"/>',
        "config")  # fmt: skip
    add("prose", "PASSWORD", "Pw" + rnd(ALNUM, 10) + "7", "Authenticating as bob with password {s}")
    add("Laravel", "LARAVEL_APP_KEY", rnd(ALNUM, 43) + "=", "base64:{s}")
    add("Python requests", "PASSWORD", rnd(ALNUM, 14),
        'requests.get(url, auth=("admin", "{s}"))', "config")  # fmt: skip
    add("prose", "PASSWORD", "Hunter2pw" + rnd(ALNUM, 4), "Your new password is {s}")
    add("prose", "PASSWORD", rnd(ALNUM, 14), "The staging db password is {s} until Friday.")
    add("prose", "SECRET", rnd(ALNUM, 32), "use the API key {s} for the sandbox")
    add("prose", "SECRET", rnd(ALNUM, 20), "the deploy token was changed to '{s}' today")
    # A fourth attack: consoles, network gear, databases, tunnels, secret stores, code and
    # what setup tools print (`rules_tools`, `rules_hashes`, the label rule of the prose).
    add("FreeRDP", "CLI_PASSWORD", rnd(ALNUM, 14), "xfreerdp /u:admin /p:{s} /v:10.0.0.5", "cli")
    add("rdesktop", "CLI_PASSWORD", rnd(ALNUM, 14), "rdesktop -u admin -p {s} 10.0.0.5", "cli")
    add(
        "IPMI",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "ipmitool -I lanplus -H 10.0.0.9 -U ADMIN -P {s} chassis status",
        "cli",
    )
    add(
        "Dell iDRAC",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "racadm -r 10.0.0.9 -u root -p {s} getsysinfo",
        "cli",
    )
    add("Vertica", "CLI_PASSWORD", rnd(ALNUM, 14), "vsql -U dbadmin -w {s}", "cli")
    add("Perforce", "CLI_PASSWORD", rnd(ALNUM, 14), "p4 -u bob -P {s} sync //depot/...", "cli")
    add(
        "InfluxDB", "CLI_PASSWORD", rnd(ALNUM, 14), "influx setup -u admin -p {s} -o acme -f", "cli"
    )
    add(
        "InfluxDB",
        "CLI_PASSWORD",
        rnd(URLSAFE, 40) + "==",
        "influx bucket list --host http://db:8086 -t {s}",
        "cli",
    )
    add(
        "ngrok",
        "CLI_PASSWORD",
        "2" + rnd(ALNUM, 26) + "_" + rnd(ALNUM, 21),
        "ngrok config add-authtoken {s}",
        "cli",
    )
    add(
        "SNMP",
        "CLI_PASSWORD",
        rnd(ALNUM, 14),
        "snmpwalk -v3 -u admin -l authPriv -a SHA -A {s} 10.0.0.1",
        "cli",
    )
    add("SNMP", "CLI_PASSWORD", rnd(ALNUM, 14), "snmpget -v2c -c {s} 10.0.0.1 sysName.0", "cli")
    add(
        "Azure Key Vault",
        "CLI_PASSWORD",
        rnd(ALNUM, 20),
        "az keyvault secret set --vault-name prod --name db --value {s}",
        "cli",
    )
    add(
        "AWS SSM",
        "CLI_PASSWORD",
        rnd(ALNUM, 20),
        "aws ssm put-parameter --name /app/db --type SecureString --value '{s}'",
        "cli",
    )
    add(
        "Pulumi", "CLI_PASSWORD", rnd(ALNUM, 20), "pulumi config set --secret dbPassword {s}", "cli"
    )
    add(
        "gcloud",
        "CLI_PASSWORD",
        rnd(ALNUM, 20),
        "gcloud secrets create db --data-file=- <<< '{s}'",
        "cli",
    )
    add(
        "OATH",
        "CLI_PASSWORD",
        rnd("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32),
        "oathtool --totp -b {s}",
        "cli",
    )
    add("smtplib", "PASSWORD", rnd(ALNUM, 16), "smtp.login('bob@acme.io', '{s}')", "config")
    add("Go net/http", "PASSWORD", rnd(ALNUM, 16), 'req.SetBasicAuth("bob", "{s}")', "config")
    add(
        "JWT", "SECRET", rnd(ALNUM, 24), "jwt.sign(payload, '{s}', {{ expiresIn: '1h' }})", "config"
    )
    add("Fernet", "SECRET", rnd(URLSAFE, 43) + "=", "f = Fernet(b'{s}')", "config")
    add("Oracle JDBC", "PASSWORD", rnd(ALNUM, 16), "jdbc:oracle:thin:scott/{s}@db:1521/ORCL", "url")
    add(
        "Go MySQL",
        "PASSWORD",
        rnd(ALNUM, 16),
        'sql.Open("mysql", "app:{s}@tcp(db:3306)/app")',
        "config",
    )
    add(
        "Nomad",
        "SECRET",
        "-".join(rnd(HEX, n) for n in (8, 4, 4, 4, 12)),
        "Accessor ID  = 6c1b2a1c-9d9e-4b52-8d7c-2f6a1e3b9c0d\nSecret ID    = {s}",
        "cli",
    )
    add(
        "Consul",
        "SECRET",
        "-".join(rnd(HEX, n) for n in (8, 4, 4, 4, 12)),
        "AccessorID:       6c1b2a1c-9d9e-4b52-8d7c-2f6a1e3b9c0d\nSecretID:         {s}",
        "cli",
    )
    add("HashiCorp Vault", "VAULT_UNSEAL_KEY", rnd(B64, 44), "Unseal Key 1: {s}", "cli")
    add(
        "prose",
        "PASSWORD",
        "k#9" + rnd(ALNUM, 14) + "!",
        "[Note] [MY-010454] [Server] A temporary password is generated for root@localhost: {s}",
    )
    add(
        "prose",
        "PASSWORD",
        rnd(HEX, 32),
        "Please use the following password to proceed to installation:\n\n{s}\n\n"
        "This may also be found at: /var/jenkins_home/secrets/initialAdminPassword",
    )
    add(
        "prose",
        "PASSWORD",
        "Ab1*" + rnd(ALNUM, 14),
        "Password for the elastic user (reset with `bin/elasticsearch-reset-password -u elastic`):"
        "\n  {s}\n",
    )
    add("prose", "SECRET", "Zx9" + rnd(ALNUM, 16), "? Enter a secret value: › {s}")
    # Stored password hashes (`rules_hashes`): salt and hash, the scheme's name kept.
    _crypt = "./" + ALNUM
    add(
        "crypt(3)",
        "PASSWORD_HASH",
        rnd(_crypt, 8) + "$" + rnd(_crypt, 86),
        "deploy:$6${s}:19700:0:99999:7:::",
        "config",
    )
    add(
        "bcrypt",
        "PASSWORD_HASH",
        "12$" + rnd(_crypt, 53),
        "INSERT INTO users (email, pw) VALUES ('a@acme.io', '$2b${s}');",
        "config",
    )
    add(
        "yescrypt",
        "PASSWORD_HASH",
        "j9T$" + rnd(_crypt, 22) + "$" + rnd(_crypt, 43),
        "bob:$y${s}:19700::::::",
        "config",
    )
    add(
        "Argon2",
        "PASSWORD_HASH",
        "v=19$m=65536,t=3,p=4$" + rnd(ALNUM, 22) + "$" + rnd(ALNUM, 43),
        "hash = $argon2id${s}",
        "config",
    )
    add(
        "Django",
        "PASSWORD_HASH",
        "600000$" + rnd(ALNUM, 22) + "$" + rnd(ALNUM, 43) + "=",
        "admin | pbkdf2_sha256${s} | 2026-01-01",
        "config",
    )
    # A fifth attack: passwords in a place of a file's or a call's own format
    # (`rules_configs`), and a build machine's keychain (`rules_tools`).
    add("strongSwan", "PASSWORD", rnd(ALNUM, 16), '%any : PSK "{s}"', "config")
    add("HAProxy", "PASSWORD", rnd(ALNUM, 16), "    stats auth admin:{s}", "config")
    add("Kickstart", "PASSWORD", rnd(ALNUM, 16), "rootpw --plaintext {s}", "config")
    add("debconf", "PASSWORD", rnd(ALNUM, 16), "d-i passwd/root-password password {s}", "config")
    add(
        "Windows setup",
        "PASSWORD",
        rnd(ALNUM, 16),
        "<AdministratorPassword><Value>{s}</Value></AdministratorPassword>",
        "config",
    )
    add(
        "Hibernate",
        "PASSWORD",
        rnd(ALNUM, 16),
        '<property name="connection.password">{s}</property>',
        "config",
    )
    add(
        "PHP",
        "PASSWORD",
        rnd(ALNUM, 16),
        "$db = mysqli_connect('localhost', 'app', '{s}', 'app');",
        "config",
    )
    add(
        "python-ldap",
        "PASSWORD",
        rnd(ALNUM, 16),
        "conn.simple_bind_s('cn=admin,dc=acme,dc=io', '{s}')",
        "config",
    )
    add("expect", "PASSWORD", rnd(ALNUM, 16), 'expect "password:"\nsend "{s}\\r"', "cli")
    add(
        "macOS keychain",
        "CLI_PASSWORD",
        rnd(ALNUM, 16),
        "security unlock-keychain -p {s} build.keychain",
        "cli",
    )
    add(
        "macOS keychain",
        "CLI_PASSWORD",
        rnd(ALNUM, 16),
        "security set-key-partition-list -S apple-tool:,apple: -s -k {s} build.keychain",
        "cli",
    )
    add(
        "git remote", "SECRET", rnd(HEX, 40), "git clone https://{s}@github.com/acme/api.git", "url"
    )
    # A sixth attack: keys of a shape of their own, and passwords named in other languages.
    add("JSON Web Key", "PRIVATE_KEY", rnd(URLSAFE, 43),
        '{{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",'
        ' "d": "{s}"}}', "config")  # fmt: skip
    add("Ethereum", "PRIVATE_KEY", "0x" + rnd(HEX, 64),
        "const wallet = new ethers.Wallet('{s}', provider)", "config")  # fmt: skip
    words = " ".join(rnd(string.ascii_lowercase, 5) for _ in range(12))
    add("BIP-39", "MNEMONIC", words, 'MNEMONIC="{s}"', "config")
    add("prose", "PASSWORD", "Zx9" + rnd(ALNUM, 14), "Passwort: {s}")
    add("assignment", "PASSWORD", rnd(ALNUM, 14), "Kennwort={s}", "config")
    # A seventh attack: a terminal's text pasted whole, protocol sessions, tools' positional
    # passwords, lists of a format's own, names the assignment rule could not read.
    add("terminal", "SECRET_COMMAND_OUTPUT", rnd(ALNUM, 18), "$ pass show db/prod\n{s}", "cli")
    add(
        "terminal",
        "SECRET_COMMAND_OUTPUT",
        rnd(ALNUM, 24),
        "[root@db1 ~]# aws secretsmanager get-secret-value --secret-id prod/db"
        " --query SecretString --output text\n{s}",
        "cli",
    )
    add("mosquitto", "CLI_PASSWORD", rnd(ALNUM, 16),
        "mosquitto_passwd -c -b /etc/mosquitto/passwd bob {s}", "cli")  # fmt: skip
    add("Drupal", "CLI_PASSWORD", rnd(ALNUM, 16), "drush user:password admin '{s}'", "cli")
    add("sed", "CLI_PASSWORD", rnd(ALNUM, 16), "sed -i 's/CHANGEME/{s}/' config/db.yml", "cli")
    add("cryptsetup", "CLI_PASSWORD", rnd(ALNUM, 16),
        "echo -n '{s}' | cryptsetup luksOpen /dev/sdb1 vault -d -", "cli")  # fmt: skip
    add("Oracle", "PASSWORD", "Ox7" + rnd(ALNUM, 13),
        "CREATE USER app IDENTIFIED BY {s};", "config")  # fmt: skip
    add("ldap3", "PASSWORD", rnd(ALNUM, 16),
        "conn = Connection(srv, 'cn=admin,dc=acme,dc=io', '{s}', auto_bind=True)",
        "config")  # fmt: skip
    add("cloud-init", "PASSWORD", rnd(ALNUM, 16),
        "chpasswd:\n  list: |\n    root:{s}\n  expire: False", "config")  # fmt: skip
    add(
        "OpenVPN",
        "PRIVATE_KEY",
        "\n".join(rnd(HEX, 32) for _ in range(4)),
        "-----BEGIN OpenVPN Static key V1-----\n{s}\n-----END OpenVPN Static key V1-----",
        "config",
    )
    add("Google app password", "PASSWORD", rnd(string.ascii_lowercase, 16),
        "host smtp.gmail.com\npassword {s}", "config")  # fmt: skip
    add("PIN", "PASSWORD", "739164", "export SIM_PIN={s}", "config")
    add("IMAP", "PASSWORD", rnd(ALNUM, 16), "a1 LOGIN bob@acme.io {s}", "cli")
    add("FTP", "PASSWORD", rnd(ALNUM, 16), "---> PASS {s}", "cli")
    add("prose", "PASSWORD", "Pw7" + rnd(ALNUM, 12), "creds are admin / {s}")
    add("GitLab", "HIGH_ENTROPY", rnd(ALNUM, 24), "GITLAB_PAT={s}", "config")
    # An eighth attack: the hashes databases and directories keep, credential objects in code,
    # Windows' and shadow's own commands.
    add("MySQL", "PASSWORD_HASH", rnd("0123456789ABCDEF", 40), "| app | *{s} |", "config")
    add("PostgreSQL", "PASSWORD_HASH", rnd(HEX, 32), " app     | md5{s}", "config")
    add("PostgreSQL", "PASSWORD_HASH",
        rnd(B64, 24) + "$" + rnd(B64, 44) + ":" + rnd(B64, 44),
        " app     | SCRAM-SHA-256$4096:{s}", "config")  # fmt: skip
    add("OpenLDAP", "PASSWORD_HASH", rnd(B64, 32), "userPassword: {{SSHA}}{s}", "config")
    add("Windows", "PASSWORD_HASH", rnd(HEX, 32) + ":" + rnd(HEX, 32),
        "Administrator:500:{s}:::", "cli")  # fmt: skip
    add("HashiCorp Vault", "VAULT_TOKEN", rnd(ALNUM, 24), "export VAULT_TOKEN=s.{s}", "config")
    add(".NET", "PASSWORD", rnd(ALNUM, 16), 'new NetworkCredential("bob", "{s}")', "config")
    add("Twilio", "SECRET", rnd(HEX, 32),
        "client = Client('AC" + rnd(HEX, 32) + "', '{s}')", "config")  # fmt: skip
    add(
        "Algolia", "PASSWORD", rnd(HEX, 32), "client = algoliasearch('ABCD1234EF', '{s}')", "config"
    )
    add("Ruby", "PASSWORD", rnd(ALNUM, 16),
        "Net::SMTP.start('smtp.acme.io', 587, 'acme.io', 'bob', '{s}', :login)",
        "config")  # fmt: skip
    add("Windows", "CLI_PASSWORD", rnd(ALNUM, 16), "net user bob {s} /add", "cli")
    add("shadow", "CLI_PASSWORD", rnd(ALNUM, 16), "useradd -m -p {s} bob", "cli")
    add("GnuPG", "CLI_PASSWORD", rnd(ALNUM, 16),
        "echo {s} | gpg --batch --passphrase-fd 0 -d secrets.gpg", "cli")  # fmt: skip
    # Code where the name and the value stand apart (`rules_code`), and calls given a
    # password by position (ninth attack).
    add("TypeScript", "SECRET", rnd(ALNUM, 40), "const apiKey: string = '{s}';", "config")
    add("Go", "PASSWORD", rnd(ALNUM, 16), 'var dbPassword string = "{s}"', "config")
    add("C#", "SECRET", rnd(ALNUM, 40), 'public string ApiToken {{ get; set; }} = "{s}";', "config")
    add("JavaScript", "SECRET", rnd(ALNUM, 40),
        "const apiKey = process.env.API_KEY || '{s}';", "config")  # fmt: skip
    add("python-decouple", "SECRET", rnd(ALNUM, 40),
        "API_KEY = config('API_KEY', default='{s}')", "config")  # fmt: skip
    add("java-jwt", "SECRET", rnd(ALNUM, 32), 'Algorithm alg = Algorithm.HMAC256("{s}");', "config")
    add("reqwest", "SECRET", rnd(ALNUM, 40),
        'client.get(url).bearer_auth("{s}").send().await?;', "config")  # fmt: skip
    add("Markdown", "SECRET", rnd(ALNUM, 40), "**API key:** `{s}`", "inline")
    add("fish", "PASSWORD", rnd(ALNUM, 16), "set -gx DB_PASSWORD {s}", "cli")
    add("Go", "PASSWORD", rnd(ALNUM, 16),
        'auth := smtp.PlainAuth("", "bob@acme.io", "{s}", "smtp.acme.io")', "config")  # fmt: skip
    # Formats without an operator beside the name (`rules_formats`), more tools' arguments,
    # and the ninth attack's other vendors.
    b58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    forms = [
        ("Cisco IOS", "PASSWORD", rnd(ALNUM, 16), "username admin password 0 {s}", "config"),
        ("Cisco IOS", "PASSWORD", rnd(ALNUM, 16), "snmp-server community {s} RW", "config"),
        ("FortiGate", "PASSWORD", rnd(ALNUM, 16), "    set psksecret {s}", "config"),
        ("keepalived", "PASSWORD", rnd(ALNUM, 8),
         "authentication {{\n    auth_type PASS\n    auth_pass {s}\n}}", "config"),
        ("C", "PASSWORD", rnd(ALNUM, 16), '#define WIFI_PASSWORD "{s}"', "config"),
        ("Gradle", "PASSWORD", rnd(ALNUM, 16), "        storePassword '{s}'", "config"),
        ("ODBC", "PASSWORD", rnd(ALNUM, 16),
         "Driver={{ODBC Driver 18 for SQL Server}};Server=db;UID=sa;PWD={{{s}}};", "config"),
        ("Azure Functions", "SECRET", rnd(URLSAFE, 40),
         "curl 'https://acme-fn.azurewebsites.net/api/Trigger1?code={s}'", "url"),
        ("Java", "PASSWORD", rnd(ALNUM, 16), '<entry key="db.password">{s}</entry>', "config"),
        (".NET", "SECRET", rnd(ALNUM, 40),
         '<setting name="ApiKey" serializeAs="String">\n  <value>{s}</value>', "config"),
        ("iOS", "SECRET", rnd(ALNUM, 40),
         "<key>StripeSecretKey</key>\n\t<string>{s}</string>", "config"),
        ("Android", "SECRET", rnd(ALNUM, 40),
         '<string name="openai_api_key">{s}</string>', "config"),
        ("Android", "SECRET", rnd(ALNUM, 40),
         '<meta-data android:name="com.acme.API_SECRET" android:value="{s}" />', "config"),
        ("YAML", "PASSWORD", rnd(ALNUM, 16), "db:\n  password: |\n    {s}\n  host: db",
         "config"),
        ("Kubernetes", "PASSWORD", rnd(ALNUM, 16),
         "args:\n  - --db-password\n  - {s}", "config"),
        ("Windows", "CLI_PASSWORD", rnd(ALNUM, 16), "psexec \\\\host1 -u admin -p {s} cmd",
         "cli"),
        ("Windows", "CLI_PASSWORD", rnd(ALNUM, 16),
         "schtasks /create /tn Backup /ru ACME\\svc /rp {s}", "cli"),
        ("Windows", "CLI_PASSWORD", rnd(ALNUM, 16), "winrs -r:host1 -u:admin -p:{s} ipconfig",
         "cli"),
        ("Hatch", "CLI_PASSWORD", rnd(ALNUM, 16), "hatch publish -u bob -a {s}", "cli"),
        ("NuGet", "CLI_PASSWORD", rnd(ALNUM, 32), "nuget setapikey {s} -Source https://x",
         "cli"),
        ("Cypress", "CLI_PASSWORD", rnd(ALNUM, 36), "npx cypress run --record --key {s}", "cli"),
        ("Snyk", "CLI_PASSWORD", rnd(ALNUM, 36), "snyk auth {s}", "cli"),
        ("MinIO", "CLI_PASSWORD", rnd(ALNUM, 16), "mc admin user add myminio bob {s}", "cli"),
        ("Bitcoin Core", "SECRET", "5" + rnd(b58, 50), "bitcoin-cli importprivkey {s}", "cli"),
        ("Redis", "PASSWORD", rnd(ALNUM, 32),
         '> CONFIG GET requirepass\n1) "requirepass"\n2) "{s}"', "cli"),
        ("Windows", "SECRET", rnd(ALNUM, 40),
         "reg add HKCU\\Software\\Acme /v ApiToken /t REG_SZ /d {s} /f", "cli"),
        ("JetBrains TeamCity", "TEAMCITY_TOKEN",
         "eyJ0eXAiOiAiVENWMiJ9." + rnd(URLSAFE, 40) + "." + rnd(URLSAFE, 48), "teamcity {s}",
         "inline"),
        ("Twitch", "TWITCH_TOKEN", rnd(LOWER, 30), "PASS oauth:{s}\nNICK mybot", "config"),
        ("Unleash", "UNLEASH_TOKEN", rnd(HEX, 64), "UNLEASH_INSTANCE=*:production.{s}",
         "config"),
        ("Convex", "CONVEX_DEPLOY_KEY", "eyJ" + rnd(B64, 60),
         "npx convex deploy --admin-key prod:happy-otter-123|{s}", "cli"),
        ("SQL Server", "PASSWORD_HASH", rnd("0123456789ABCDEF", 136), "sa | 0x0200{s}",
         "config"),
        ("prose", "PASSWORD", "Zx9" + rnd(ALNUM, 14), "le mot de passe est {s}", "inline"),
        ("prose", "SECRET", rnd(ALNUM, 40), "API-sleutel: {s}", "inline"),
    ]  # fmt: skip
    for vendor, kind, secret, template, form in forms:
        add(vendor, kind, secret, template, form)

"""Tool calls whose output is a secret itself: `echo $DB_PASSWORD`, `printenv API_TOKEN`,
`pass show`, `op read`, `gcloud secrets versions access`, `security find-generic-password -w`,
`kubectl get secret … | base64 -d`, `openssl rand -hex 32`.

What such a command prints is a bare credential (a random password, a key), which no rule
can tell from any other word, so the whole output of the call is replaced
(`[REDACTED_SECRET_COMMAND_OUTPUT]`). A result names only its call's id: `SecretOutputs`
follows one transcript's entries in order, noting the calls and hiding their results, and a
secret printed as one word wherever it shows up after.

Only the command is read (the `command` / `cmd` / `script` / `args` of a tool's input; a
freeform input's text; nothing of an input without one, such as a file written), at most
`MAX_COMMAND` characters of it, each pattern with bounded gaps.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ox_session_capture.redact.names import classify

HIDDEN = "[REDACTED_SECRET_COMMAND_OUTPUT]"
MAX_COMMAND = 8192
MAX_INPUT = 4 * 1024 * 1024
"""A tool input past this size is not decoded: its first `MAX_COMMAND` characters are read."""
MAX_CALLS = 4096
"""Call ids kept by `SecretOutputs` (a result comes soon after its call)."""

_GAP = r"[^\n;&|]{0,300}?"  # within one command of a line
_AT = r"(?:(?<![\w./-])|(?<=\\n))"  # where a command word starts (after an escaped newline too)

_KUBECTL = r"kubectl\s+(?:[^\n;&|]{0,200}?\s)?"
"""kubectl and its flags, which may come before the subcommand (`kubectl -n argocd get …`)."""

_STORES = (
    r"gh\s+auth\s+token",
    r"gcloud\s+(?:(?:alpha|beta)\s+)?auth\s+(?:application-default\s+)?print-(?:access|identity)-token",
    r"gcloud\s+(?:(?:alpha|beta)\s+)?secrets\s+versions\s+access",
    r"aws\s+" + _GAP + r"\bsecretsmanager\s+get-secret-value",
    r"aws\s+" + _GAP + r"\bssm\s+get-parameters?(?:-by-path)?\b" + _GAP + r"--with-decryption",
    r"aws\s+" + _GAP + r"\becr(?:-public)?\s+get-login-password",
    r"aws\s+" + _GAP + r"\bcodeartifact\s+get-authorization-token",
    r"aws\s+configure\s+get\s+\S{0,40}(?:secret|token|key)",
    r"az\s+keyvault\s+(?:secret|key)\s+(?:show|download)",
    r"az\s+account\s+get-access-token",
    r"az\s+acr\s+login\b" + _GAP + r"--expose-token",
    r"vault\s+(?:kv\s+get|read|print\s+token|token\s+create)",
    r"op\s+(?:read|inject|item\s+get)\b",
    r"(?:gopass|pass)\s+(?:show|cat|generate|otp)\b",
    r"bw\s+get\s+(?:password|item|notes|totp)",
    r"lpass\s+show",
    r"keepassxc-cli\s+show",
    r"secret-tool\s+lookup",
    r"security\s+find-(?:generic|internet)-password\b" + _GAP + r"\s-[wg]\b",
    r"keyring\s+get",
    r"doppler\s+secrets\s+(?:get|download)",
    r"infisical\s+secrets\s+get",
    r"chamber\s+(?:read|export)\b",
    r"heroku\s+(?:auth:token|config:get)",
    r"doctl\s+auth\s+token",
    r"glab\s+auth\s+status\b" + _GAP + r"(?:-t|--show-token)\b",
    r"elasticsearch-reset-password\b",
    r"fly(?:ctl)?\s+auth\s+token",
    r"npm\s+token\s+create",
    r"sops\s+(?:-d|--decrypt|exec-env)\b",
    r"ansible-vault\s+(?:view|decrypt)",
    r"kubectl\s+view-secret",
    # Decoded, or reshaped by jq (`-c` prints a Secret on one line, which a cut output leaves
    # unparsed, its `kind` cut away): the kube rules read kubectl's own YAML and JSON.
    _KUBECTL + r"get\s+secrets?\b[^\n;&]{0,300}?"
    r"(?:base64\s+(?:-d|-D|--decode)|jsonpath|go-template|\|\s*jq\b)",
    r"openssl\s+rand\b",
    r"pwgen\b",
    r"gpg2?\s+" + _GAP + r"(?:-d|--decrypt)\b",
    r"age\s+" + _GAP + r"(?:-d|--decrypt)\b",
    # What makes a key or a password and prints it: `wg genkey`, `age-keygen`, `rails
    # secret`, `argocd admin initial-password`, `vault operator init` (its unseal keys).
    r"wg\s+gen(?:key|psk)\b",
    r"age-keygen\b",
    r"(?:rails|rake)\s+secret\b",
    r"rails\s+credentials:show\b",
    r"mix\s+phx\.gen\.secret\b",
    r"(?:apg|makepasswd|diceware|xkcdpass)\b",
    r"gpg2?\s+" + _GAP + r"--gen-random\b",
    r"argocd\s+" + _GAP + r"\badmin\s+initial-password\b",
    r"vault\s+operator\s+(?:init|generate-root)\b",
    r"(?:consul|nomad)\s+acl\s+(?:bootstrap|token\s+(?:create|read))\b",
    _KUBECTL + r"create\s+token\b",
)
# A command word may be given by its path (`bin/elasticsearch-reset-password`, `./bin/rails`).
_STORE = re.compile(r"(?:" + _AT + r"|(?<=/))(?:" + "|".join(_STORES) + r")")
# Randomness printed: read from the kernel (`head -c 32 /dev/urandom | base64`, `tr -dc … <
# /dev/urandom`), or a language's generator in a one-liner (`secrets.token_urlsafe(32)`,
# `crypto.randomBytes(32)`, `Fernet.generate_key()`, Django's `get_random_secret_key()`).
_RANDOM = re.compile(
    r"/dev/u?random\b|\bsecrets\.token_(?:hex|urlsafe|bytes)\b|\brandomBytes\s*\("
    r"|\bFernet\.generate_key\b|\bget_random_secret_key\b|\bSecureRandom\.(?:hex|base64|urlsafe)"
)

# A variable's value printed: `echo "$X"`, `printf '%s' "${X}"`, `printenv X`, and the
# one-liners of the usual languages (`print(os.environ["X"])`, `console.log(process.env.X)`).
# The arguments of a shell's print (up to the end of its command), and of a language's.
_SHELL_PRINT = re.compile(_AT + r"(?:echo|printf|cat\s*<<<)(?![\w-])([^\n;&|)]{0,300})")
_LANG_PRINT = re.compile(
    r"(?<![\w.])(?:print|puts|console\.log|println|Println|Printf)(?!\w)([^\n;]{0,300})"
)
_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]{0,100})")
_PRINTENV = re.compile(_AT + r"printenv\s+([A-Za-z_][A-Za-z0-9_]{0,100})")
_ENV_READ = re.compile(
    r"(?:environ|getenv|process\.env|ENV|System\.getenv)\W{0,4}([A-Za-z_][A-Za-z0-9_]{0,100})"
)
_TERRAFORM = re.compile(_AT + r"terraform\s+output\s+(?:-raw\s+|-json\s+)?([A-Za-z_][\w-]{0,100})")

# `cat` of a file named for a credential (`db_password`, `api-token.txt`, `/run/secrets/x`).
_READ_FILE = re.compile(_AT + r"(?:cat|head|tail|less|more|bat|xxd|od)\s([^\n;&|<>]{1,300})")
_CODE = re.compile(
    r"\.(?:py|js|mjs|cjs|ts|tsx|jsx|go|rs|java|kt|rb|php|c|h|cc|cpp|hpp|cs|swift|scala|sh"
    r"|md|rst|html|css|sql|example|sample|template|tmpl|dist|pub|schema|log)$",
    re.IGNORECASE,
)


def _credential(name: str) -> bool:
    return classify(name) in ("PASSWORD", "SECRET")


def secret_file(path: str) -> bool:
    """Whether the file at `path` holds a credential by its name: `/run/secrets/x`,
    `db_password`, `api-token.txt`, a private key (`id_ed25519`, `*.key`), not code."""
    if path.startswith(("/run/secrets/", "/var/run/secrets/")):
        return not path.endswith(("/ca.crt", "/namespace"))
    name = path.rsplit("/", 1)[-1]
    if not name or _CODE.search(name):
        return False
    if name.startswith("id_") and name[3:] in ("rsa", "dsa", "ecdsa", "ed25519"):
        return True
    stem = name.split(".", 1)[0] if not name.startswith(".") else name[1:]
    return _credential(stem) or name.endswith((".key", ".p12", ".pfx", ".jks", ".keystore"))


def prints_secret(command: str) -> bool:
    """Whether running `command` (a shell command line, or a tool's input as text) prints a
    secret as its output."""
    text = command[:MAX_COMMAND]
    if _STORE.search(text) or _RANDOM.search(text):
        return True
    if any(_credential(m.group(1)) for m in _PRINTENV.finditer(text)):
        return True
    if any(_credential(m.group(1)) for m in _TERRAFORM.finditer(text)):
        return True
    for m in _READ_FILE.finditer(text):
        words = (w.strip("\"'\\") for w in m.group(1).split())
        if any(secret_file(w) for w in words if w and not w.startswith("-")):
            return True
    # `${#X}` is a length and `${X:+set}` prints a word, but how a printed variable is
    # expanded is not read here: a credential's name among a print's arguments hides it.
    for m in _SHELL_PRINT.finditer(text):
        if any(_credential(v.group(1)) for v in _SHELL_VAR.finditer(m.group(1))):
            return True
    for m in _LANG_PRINT.finditer(text):
        if any(_credential(v.group(1)) for v in _ENV_READ.finditer(m.group(1))):
            return True
    return False


_COMMAND_KEYS = ("command", "cmd", "script", "args", "argv", "code")


def command_of(tool_input: Any) -> str:
    """The command line of a tool's input: its `command` (a string, or an argv list), `cmd`,
    `script`... (also under `action`: Codex's `local_shell_call`); "" for an input of other
    fields (a file written, a sub-agent's prompt: they run no command, and the text they
    carry may name any); a freeform input (not JSON) as it is."""
    value: Any = tool_input
    if isinstance(tool_input, str) and tool_input[:1] == "{" and len(tool_input) <= MAX_INPUT:
        try:
            value = json.loads(tool_input)
        except (ValueError, RecursionError):
            return tool_input[:MAX_COMMAND]
    for _ in range(2):  # the input, then its `action`
        if not isinstance(value, Mapping):
            break
        for key in _COMMAND_KEYS:
            got = value.get(key)
            if isinstance(got, str):
                return got[:MAX_COMMAND]
            if isinstance(got, list) and all(isinstance(a, str) for a in got):
                return " ".join(got)[:MAX_COMMAND]
        value = value.get("action")
    if isinstance(tool_input, str) and tool_input[:1] not in ("{", "["):
        return tool_input[:MAX_COMMAND]
    return ""


MAX_VALUES = 256
"""Printed secrets `SecretOutputs` keeps looking for (each in its encoded forms too)."""
_CLASSES = (str.islower, str.isupper, str.isdigit)


def _printed_value(output: str) -> str | None:
    """The secret a hidden output *is*, when it is one word (`Xq7mR2vLp9`, a token): looked
    for in what follows (the agent pastes it into its next command, or quotes it). A word of
    one kind of character only (`true`, `database`) is not taken: it would be hidden
    everywhere."""
    word = output.strip()
    if not 6 <= len(word) <= 4096 or any(c.isspace() for c in word):
        return None
    kinds = sum(any(test(c) for c in word) for test in _CLASSES)
    kinds += any(not c.isalnum() for c in word)
    return word if kinds >= 2 else None


def _forms(secret: str) -> list[str]:
    """`secret` as the agent may write it again: itself, URL-encoded, in hex (either case), in
    base64 (either alphabet, without padding: `echo -n … | base64`)."""
    raw = secret.encode()
    forms = {
        secret,
        urllib.parse.quote(secret, safe=""),
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    return list(forms)


def _replaced(value: Any, secrets: list[str], depth: int = 0) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, HIDDEN)
        return value
    if depth > 20:
        return value
    if isinstance(value, list):
        return [_replaced(v, secrets, depth + 1) for v in value]
    if isinstance(value, dict):
        return {k: _replaced(v, secrets, depth + 1) for k, v in value.items()}
    return value


class SecretOutputs:
    """Follows one transcript's entries (plain dicts, in order): a tool call whose command
    prints a secret is noted by its call id, and its result's output is hidden; a secret so
    printed as one word is hidden wherever it shows up after (the agent's next command, its
    answer), and so is each of its encoded forms (`_forms`: the agent encodes it for a URL, a
    manifest, a header)."""

    def __init__(self) -> None:
        self._ids: dict[str, None] = {}
        self._printed: dict[str, None] = {}
        self._values: list[str] = []  # the printed secrets' forms, the longest first

    def hide(self, entry: Mapping[str, Any]) -> dict[str, Any] | None:
        """A copy of `entry` with its output hidden when it is the result of such a call (or a
        call and its result in one entry), and the secrets printed before hidden in it; None
        when nothing of it is. Notes the calls and the secrets."""
        hidden = self._hide_output(entry)
        if self._values:
            source = entry if hidden is None else hidden
            # The field names too (an entry's extra keys are anyone's).
            replaced = {
                _replaced(k, self._values): _replaced(v, self._values) for k, v in source.items()
            }
            if replaced != source:
                hidden = replaced
        return hidden

    def _hide_output(self, entry: Mapping[str, Any]) -> dict[str, Any] | None:
        call_id = entry.get("call_id")
        tool_input = entry.get("tool_input")
        secret = False
        if tool_input is not None and tool_input != "" and prints_secret(command_of(tool_input)):
            secret = True
            if isinstance(call_id, str) and call_id:
                self._ids[call_id] = None
                if len(self._ids) > MAX_CALLS:
                    del self._ids[next(iter(self._ids))]
        elif isinstance(call_id, str) and "tool_output" in entry and call_id in self._ids:
            del self._ids[call_id]
            secret = True
        output = entry.get("tool_output")
        if not secret or output in (None, "", HIDDEN):
            return None
        value = _printed_value(output) if isinstance(output, str) else None
        if value is not None and value not in self._printed:
            self._printed[value] = None
            if len(self._printed) > MAX_VALUES:
                del self._printed[next(iter(self._printed))]
            # The longest first: a secret holding another is hidden whole.
            forms = {form for printed in self._printed for form in _forms(printed)}
            self._values = sorted(forms, key=len, reverse=True)
        return {**entry, "tool_output": HIDDEN}

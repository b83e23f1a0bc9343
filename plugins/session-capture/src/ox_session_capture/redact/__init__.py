"""Secret redaction: credentials in transcripts become `[REDACTED_<kind>]`.

Applied before anything is written to `raw.jsonl` (by the session watcher), again at export
and upload time (so a raw file written by something else cannot carry a credential to the
shared remote) and to the transcript put in the summary prompt. See docs/redaction.md for
the layers, the order and the coverage table.

- `rules_providers`: vendor token formats (GitHub, AWS, Stripe, Slack...);
- `rules_keywords`: assignments, command-line flags and password arguments, URL user-info,
  `Authorization` headers, private keys, `.netrc` / `.pgpass` / kubeconfig contents, and the
  high-entropy rule for random-looking values next to key-like names;
- `rules_tools`, `rules_configs`, `rules_hashes`: tools' password arguments, a format's own
  places (`: PSK "…"`, `chpasswd: list:`, `a1 LOGIN`), stored password hashes;
- `rules_code`: code where a credential's name and value stand apart (a type, a fallback, a
  signing call), a bold Markdown label, a setter without `=`;
- `rules_formats`: formats without an operator beside the name (Cisco, daemons' config lines,
  `<key>`/`<string>` resources, YAML block scalars and argument lists);
- `rules_terminal`: a terminal's text in one text (a prompt, a secret-printing command of
  `secret_commands`, its output);
- `names`: which names call for a secret and which values are literal ones;
- `engine`: the pre-filter, JSON decoding, span merging (`redact_text`, `LedgerRedactor`);
- `encoded`: base64 runs that decode to readable text (read again by the engine);
- `kube`: the `data` / `stringData` values of Kubernetes Secrets printed as YAML or JSON;
- `tables`: a credential's column under a table's header, a row naming one;
- `files`: whole files and entry lists as they are exported and uploaded;
- `ledger_rules`: a ledger's own patterns in `<ledger>/.ox/redact.toml`.
"""

from __future__ import annotations

from ox_session_capture.redact.engine import (
    RULES,
    LedgerRedactor,
    contains_secret,
    redact_text,
    redact_value,
)
from ox_session_capture.redact.files import redact_entries, redact_file_bytes, redact_raw_bytes
from ox_session_capture.redact.ledger_rules import (
    RULES_FILE,
    RedactRulesError,
    load_ledger_rules,
    make_redactor,
)

__all__ = [
    "RULES",
    "RULES_FILE",
    "LedgerRedactor",
    "RedactRulesError",
    "contains_secret",
    "load_ledger_rules",
    "make_redactor",
    "redact_entries",
    "redact_file_bytes",
    "redact_raw_bytes",
    "redact_text",
    "redact_value",
]

"""Where a ledger's LFS uploads go, and what a committed `.lfsconfig` may not decide.

git-lfs reads `.lfsconfig`, a file at the top of the work tree that any teammate can commit,
and lets it name the LFS endpoint. ox never sends a developer's sessions to a server that only
such a commit names:

- When this clone's git config names an endpoint (`lfs.pushurl`, `lfs.url`, the remote's
  `lfspushurl` or `lfsurl`), every upload is pinned to it (`-c lfs.pushurl=<it>`, which
  outranks anything `.lfsconfig` says).
- When it names none and `.lfsconfig` does, publishing through LFS and pushing pause until a
  person names the endpoint in the clone's git config (`git config lfs.url <url>`, the command
  is in the message). A `.lfsconfig` that is not a regular file counts as naming one: git-lfs
  would follow a link where ox does not look. So does one that includes another file
  (`[include]`, `[includeIf ...]`): git-lfs calls `include.path` an unsafe key, then takes
  `lfs.url` and `lfs.pushurl` from the included file all the same (any file of the ledger).
- A `.lfsconfig` that sets an `lfs.extension.<name>.priority` pauses publishing through LFS
  whatever the git config says: git-lfs takes that key from it (not the extension's commands),
  then fails every `git add` of a content file. The message names the key to remove.

Nothing is lost while paused: sessions stay in the cache, commits stay local.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping

ENDPOINT_KEYS = r"^(lfs\.(push)?url|remote\..*\.lfs(push)?url)$"
"""`git config --get-regexp` pattern of the keys that name an LFS endpoint."""
_EXTENSION = re.compile(r"^lfs\.extension\..*\.priority$")
"""The one extension key git-lfs takes from `.lfsconfig` (it ignores the commands)."""
UNREAD = "\0unread"
"""The key that stands for a `.lfsconfig` ox does not read: a link or special file, or one
git cannot parse (no git config key holds a NUL)."""


def config_values(output: str) -> dict[str, str]:
    """The keys (lower case) and values of `git config -z --list` or `--get-regexp` output;
    the last value of a key wins, as in git and git-lfs."""
    found: dict[str, str] = {}
    for record in filter(None, output.split("\0")):
        key, _, value = record.partition("\n")
        found[key.lower()] = value
    return found


def push_url(urls: Mapping[str, str], remote: str | None) -> str:
    """The endpoint uploads go to by `urls`, in git-lfs' order: `lfs.pushurl`, `lfs.url`,
    then the remote's `lfspushurl`, `lfsurl`. Empty when `urls` name none."""
    order = ["lfs.pushurl", "lfs.url"]
    if remote is not None:
        order += [f"remote.{remote}.lfspushurl".lower(), f"remote.{remote}.lfsurl".lower()]
    return next((urls[k] for k in order if urls.get(k)), "")


def fetch_url(urls: Mapping[str, str], remote: str | None) -> str:
    """The endpoint downloads come from by `urls`, in git-lfs' order: `lfs.url`, then the
    remote's `lfsurl`; else where uploads go (`push_url`). Empty when `urls` name none."""
    order = ["lfs.url", *([f"remote.{remote}.lfsurl".lower()] if remote is not None else [])]
    return next((urls[k] for k in order if urls.get(k)), push_url(urls, remote))


def includes_files(lfsconfig: Mapping[str, str]) -> bool:
    """Whether a `.lfsconfig` (its `config_values`, read without following includes) includes
    another file, whose keys git-lfs takes and ox does not see (see the module)."""
    return any(key.startswith(("include.", "includeif.")) for key in lfsconfig)


def names_endpoint(lfsconfig: Mapping[str, str]) -> bool:
    """Whether a `.lfsconfig` (its `config_values`) names an LFS endpoint, for any remote."""
    return any(re.match(ENDPOINT_KEYS, key) for key in lfsconfig)


def refusal(
    ledger: str, git_urls: Mapping[str, str], lfsconfig: Mapping[str, str], remote: str | None
) -> str:
    """Why publishing through LFS must pause (see the module), or "" when it may go on.
    `git_urls` are the endpoints the clone's git config names, `lfsconfig` the keys of the
    ledger's `.lfsconfig` (empty without one; `{UNREAD: ""}` for one ox does not read)."""
    if UNREAD in lfsconfig or includes_files(lfsconfig):
        if push_url(git_urls, remote):
            return ""
        return (
            f"the ledger's .lfsconfig is not a regular file git can parse on its own (a link? "
            f"an [include] of another file?), and "
            f"git-lfs may take an LFS endpoint from it. Remove it from the ledger, or name your "
            f"team's LFS server in this clone's git config: "
            f"git -C {shlex.quote(ledger)} config lfs.url <url>"
        )
    extensions = sorted(key for key in lfsconfig if _EXTENSION.match(key))
    if extensions:
        return (
            f"the ledger's .lfsconfig sets {', '.join(extensions)}: git-lfs then fails every "
            f"add of a session's content. Remove those keys from .lfsconfig in the ledger"
        )
    if push_url(git_urls, remote) or not names_endpoint(lfsconfig):
        return ""
    named = push_url(lfsconfig, remote) or next(
        value for key, value in lfsconfig.items() if re.match(ENDPOINT_KEYS, key)
    )
    # A teammate wrote it: shown quoted, never as raw text in a log line or a command.
    shown = shlex.quote(named) if named.isprintable() else repr(named)
    return (
        f"the ledger's committed .lfsconfig sends LFS uploads to {shown}; ox sends sessions "
        f"only to an LFS endpoint this clone's own git config names. If that is your team's "
        f"LFS server: git -C {shlex.quote(ledger)} config lfs.url {shown}"
    )

# Sourced by the scripts here: make sure .venv/ holds every distribution of this checkout.
# Works on a machine that has only python3 and pip. Fast when nothing changed: the lock file
# and every pyproject.toml are fingerprinted, and uv runs only when that fingerprint (or the
# Python) differs from the one of the last sync (sources are installed editable: editing them
# needs no sync).
set -euo pipefail
OX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export UV_PYTHON_DOWNLOADS=never
export UV_PYTHON="${UV_PYTHON:-$(command -v python3)}"

_ox_fingerprint() {
    (
        cd "$OX_ROOT"
        echo "$UV_PYTHON"
        cat uv.lock pyproject.toml core/pyproject.toml plugins/*/pyproject.toml 2>/dev/null
    ) | cksum
}

OX_SYNC_STAMP="$OX_ROOT/.venv/.ox-sync-stamp"
_ox_wanted=$(_ox_fingerprint)
if [ -x "$OX_ROOT/.venv/bin/ox-core" ] && [ -f "$OX_SYNC_STAMP" ] \
    && [ "$(cat "$OX_SYNC_STAMP")" = "$_ox_wanted" ]; then
    :  # up to date
else
    if command -v uv >/dev/null 2>&1; then
        UV=(uv)
    elif python3 -m uv --version >/dev/null 2>&1; then
        UV=(python3 -m uv)
    else
        if [ ! -x "$OX_ROOT/.tools/bin/uv" ]; then
            echo "ox: installing uv (the Python package manager) into $OX_ROOT/.tools, once…" >&2
            python3 -m venv "$OX_ROOT/.tools"
            "$OX_ROOT/.tools/bin/python" -m pip install --quiet --disable-pip-version-check uv
        fi
        UV=("$OX_ROOT/.tools/bin/uv")
    fi
    if [ -d "$OX_ROOT/.venv" ]; then
        echo "ox: uv.lock or a pyproject.toml changed: updating $OX_ROOT/.venv…" >&2
    else
        echo "ox: first run: installing ox (5 distributions, editable) and its dependencies" \
            "into $OX_ROOT/.venv; this takes a little while, once…" >&2
    fi
    _ox_start=$SECONDS
    # uv lists what it installs (no --quiet): a first install is not a silent wait.
    "${UV[@]}" sync --project "$OX_ROOT" --no-progress
    echo "$_ox_wanted" >"$OX_SYNC_STAMP"
    echo "ox: .venv is ready ($((SECONDS - _ox_start)) s); ox-core is $OX_ROOT/.venv/bin/ox-core" >&2
fi
unset _ox_wanted

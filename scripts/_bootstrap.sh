# Sourced by the scripts here: find or install uv (never a Python), then sync the workspace.
# Works on a machine that has only python3 and pip.
set -euo pipefail
OX_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export UV_PYTHON_DOWNLOADS=never
export UV_PYTHON="${UV_PYTHON:-$(command -v python3)}"
if command -v uv >/dev/null 2>&1; then
    UV=(uv)
elif python3 -m uv --version >/dev/null 2>&1; then
    UV=(python3 -m uv)
else
    if [ ! -x "$OX_ROOT/.tools/bin/uv" ]; then
        echo "ox: installing uv into $OX_ROOT/.tools (once)" >&2
        python3 -m venv "$OX_ROOT/.tools"
        "$OX_ROOT/.tools/bin/python" -m pip install --quiet uv
    fi
    UV=("$OX_ROOT/.tools/bin/uv")
fi
"${UV[@]}" sync --quiet --project "$OX_ROOT"

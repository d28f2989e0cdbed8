#!/usr/bin/env bash
# Create .venv with Python >= 3.12 and install momentsim with its test tools.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    for candidate in python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
           "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then
    python=$(find_python) || { echo "momentsim needs Python 3.12 or newer (python3.12 not found)" >&2; exit 1; }
    rm -rf .venv
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
# The array engine's compiled loops (numba): compiled once here, cached next to the code.
.venv/bin/python -c 'import sim.kernels; sim.kernels.warm()'

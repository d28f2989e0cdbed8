#!/usr/bin/env bash
# Set everything up, add JupyterLab (the "notebooks" extra), and open the teaching notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pip install --quiet -e ".[notebooks]"
exec .venv/bin/jupyter lab notebooks/ "$@"

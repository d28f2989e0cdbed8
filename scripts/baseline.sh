#!/usr/bin/env bash
# Set everything up, then run the baseline scenario into out/baseline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/momentsim run baseline --out out/baseline "$@"

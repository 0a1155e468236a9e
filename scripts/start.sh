#!/usr/bin/env bash
# Sets up (first run only) and serves the dashboard at http://127.0.0.1:8050.
# Extra arguments go to app.py, e.g. `bash scripts/start.sh --port 8060`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec .venv/bin/python app.py "$@"

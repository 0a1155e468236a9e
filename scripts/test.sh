#!/usr/bin/env bash
# Sets up (first run only) and runs the whole test suite, browser tests included.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/unit -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOWDASH_LOCK=requirements-dev.lock source scripts/setup.sh
if [ ! -x /usr/lib/chromium/chromium ]; then
  echo "Installing Debian's Chromium for the browser tests ..."
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
exec .venv/bin/python -m pytest "$@"

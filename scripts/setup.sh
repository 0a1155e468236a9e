#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs a lock file's pinned, hashed packages when that
# lock changed: requirements.lock (runtime, for start.sh) or, with FLOWDASH_LOCK set to
# requirements-dev.lock (test.sh, CI), runtime plus tests and lint.
# Sourced by start.sh and test.sh; safe to run again (does nothing when up to date).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

python_bin=$(command -v python3.11 || command -v python3)
if [ ! -x .venv/bin/python ]; then
  if ! "$python_bin" -m venv .venv 2>/dev/null; then
    echo "Installing python3-venv (Debian) ..."
    as_root apt-get update -qq
    as_root apt-get install -y -qq python3-venv >/dev/null
    rm -rf .venv
    "$python_bin" -m venv .venv
  fi
fi
lock=${FLOWDASH_LOCK:-requirements.lock}
stamp=.venv/.$lock.sha256
wanted=$(sha256sum "$lock" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing Python packages ($lock) ..."
  .venv/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r "$lock"
  echo "$wanted" > "$stamp"
fi

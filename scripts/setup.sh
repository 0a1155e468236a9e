#!/usr/bin/env bash
# Creates .venv with Python 3.11 and installs the pinned requirements when they changed.
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
stamp=.venv/.requirements.sha256
wanted=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "Installing Python packages (requirements.txt) ..."
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  echo "$wanted" > "$stamp"
fi

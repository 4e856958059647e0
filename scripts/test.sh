#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run `make check`
# (ruff, mypy --strict, and the whole test suite: unit, storage, end-to-end, browser).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS="chromium fonts-noto-cjk fonts-noto-color-emoji"
if command -v apt-get >/dev/null 2>&1; then
  missing=""
  for deb in $DEBS; do
    dpkg -s "$deb" >/dev/null 2>&1 || missing="$missing $deb"
  done
  if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "installing Debian packages:$missing"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
fi

PYTHON="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"

export PATH="$PWD/.venv/bin:$PATH"
export LASTMETER_REQUIRE_BROWSER=1  # a missing browser fails the browser test instead of skipping it
make check PY=.venv/bin/python

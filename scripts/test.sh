#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, start PostgreSQL and Redis on
# loopback, then run `make check` (ruff, mypy --strict, the whole suite on SQLite: unit, storage,
# end-to-end, browser; and the replicas behind nginx on PostgreSQL and Redis), then
# `make test-postgres` (the storage, delivery and end-to-end tests again, on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS="chromium fonts-noto-cjk fonts-noto-color-emoji postgresql redis-server nginx"
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
export LASTMETER_REQUIRE_REPLICAS=1  # so do missing engines the replicas test

services="$(mktemp -d)"
eval "$(bash scripts/services.sh start "$services")"
trap 'bash scripts/services.sh stop "$services"; rm -rf "$services"' EXIT
make check PY=.venv/bin/python
make test-postgres PY=.venv/bin/python

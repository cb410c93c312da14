#!/bin/sh
# Sets up and runs the relay on its embedded default (a private redis-server under ./data):
# installs what the relay needs (npm ci --omit=dev: no test tools, no client CLIs), installs
# redis-server when it is missing and this machine lets us (Debian/Ubuntu with apt, as root or
# with passwordless sudo), builds, and becomes the relay: Ctrl-C, SIGTERM, PM2 and Docker signals
# reach its primary, which drains the workers and stops Redis last.
set -eu
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null 2>&1; then
  echo "Node.js 20 or newer is needed: https://nodejs.org/ (or: apt-get install nodejs)" >&2
  exit 1
fi

if ! command -v redis-server >/dev/null 2>&1 && [ -z "${REDIS_URL:-}" ] && [ -z "${REDIS_CLUSTER_NODES:-}" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      echo "Installing redis-server (apt-get)…"
      apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      echo "Installing redis-server (sudo apt-get)…"
      sudo apt-get update -qq && sudo apt-get install -y -qq redis-server >/dev/null
    fi
  fi
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "The relay's embedded default needs redis-server. Install it, then run this again:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install -y redis-server" >&2
    echo "  Fedora/RHEL:   sudo dnf install -y redis" >&2
    echo "  macOS:         brew install redis" >&2
    echo "or point the relay at an existing Redis: REDIS_URL=redis://host:6379 $0" >&2
    exit 1
  fi
fi

# Install when nothing is installed or the lockfile changed since; a full development install
# (npm ci, for the tests) is kept as it is.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --omit=dev --no-audit --no-fund
fi
npm run build --silent
exec node dist/main.js

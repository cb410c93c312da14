#!/bin/sh
# Runs the whole test suite on a fresh machine: installs the system packages the suites start
# (redis-server and redis-cli; prometheus and promtool, which check the shipped rules and
# dashboards; nginx, caddy and openssl, which check the shipped proxy configs; apt, as root or
# with passwordless sudo), the full npm install
# (test tools and the real client CLIs) when it is missing or stale, then `npm test`.
set -eu
cd "$(dirname "$0")/.."

need=""
command -v redis-server >/dev/null 2>&1 || need="$need redis-server"
command -v redis-cli >/dev/null 2>&1 || need="$need redis-tools"
command -v promtool >/dev/null 2>&1 || need="$need prometheus"
command -v nginx >/dev/null 2>&1 || need="$need nginx"
command -v caddy >/dev/null 2>&1 || need="$need caddy"
command -v openssl >/dev/null 2>&1 || need="$need openssl"
if [ -n "$need" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

if [ ! -x node_modules/.bin/vitest ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
exec npm test

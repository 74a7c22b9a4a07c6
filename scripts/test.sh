#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian/Python 3.11 machine, then run the whole suite.
# The README's test command and CI (.ci/run) both call this script, so they cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: Chromium for the browser tests, LibreOffice to recalculate and render exports,
# PostgreSQL for the storage tests against a real server, fonts with full Vietnamese coverage.
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v soffice >/dev/null || need+=(libreoffice-calc-nogui libreoffice-writer-nogui)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fc-list 2>/dev/null | grep -q "Liberation Serif" || need+=(fonts-liberation2)
fc-list 2>/dev/null | grep -q "DejaVu Sans" || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

python3 -m pip install -q -r requirements-dev.txt
exec python3 -m pytest "$@"

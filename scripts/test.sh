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

# A real PostgreSQL for the storage tests: start the Debian cluster and give the tests a scratch database.
if [ -z "${TEST_DATABASE_URL:-}" ] && command -v pg_lsclusters >/dev/null; then
  cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  if [ -n "$cluster" ]; then
    pg_ctlcluster $cluster start 2>/dev/null || true
    as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi; }
    as_postgres psql -q -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cchc_test') THEN CREATE ROLE cchc_test LOGIN PASSWORD 'cchc_test' CREATEDB; END IF; END \$\$;" >/dev/null
    as_postgres psql -q -tc "SELECT 1 FROM pg_database WHERE datname = 'cchc_test'" | grep -q 1 \
      || as_postgres createdb -O cchc_test cchc_test
    port=$(pg_lsclusters --no-header | awk 'NR==1 {print $3}')
    export TEST_DATABASE_URL="postgresql+psycopg://cchc_test:cchc_test@127.0.0.1:${port}/cchc_test"
  fi
fi

exec python3 -m pytest "$@"

#!/usr/bin/env bash
# Install what the app needs on a fresh Debian/Python 3.11 machine, then start it on the embedded default:
# SQLite under data/ (CCHC_DATA_DIR), the bundled 2026 plan and criteria set. Extra arguments go to Streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages used by the exports: Chromium renders charts to PNG/SVG, LibreOffice makes the PDF summary,
# Liberation/DejaVu fonts cover Vietnamese (Times New Roman metrics for the Word report).
need=()
command -v chromium >/dev/null || need+=(chromium)
command -v soffice >/dev/null || need+=(libreoffice-writer-nogui)
fc-list 2>/dev/null | grep -q "Liberation Serif" || need+=(fonts-liberation2)
fc-list 2>/dev/null | grep -q "DejaVu Sans" || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

python3 -m pip install -q -r requirements.txt
python3 -m scoring init   # first start: the embedded default, and the first administrator's password (shown once)
# Without sign-in whoever connects is an administrator: listen on this machine only, unless told otherwise.
if [ "${CCHC_AUTH:-on}" = "off" ] && ! printf '%s\n' "$@" | grep -q -- '--server.address'; then
  echo "Chế độ không cần đăng nhập (CCHC_AUTH=off): chỉ mở được trên máy này, http://localhost:8501" >&2
  set -- --server.address=127.0.0.1 "$@"
fi
exec python3 -m streamlit run server.py "$@"

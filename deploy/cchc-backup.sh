#!/bin/sh
# Nightly backup (cchc-backup.service): one .zip made by the app's own `python -m scoring backup` (database and
# every evidence file, the same file `python -m scoring restore` takes), named by the Vietnam date and time
# (scoring.store.backup.backup_file_name), then only the newest CCHC_BACKUP_KEEP copies are kept.
set -eu
dir="${CCHC_BACKUP_DIR:-/var/backups/cchc}"
keep="${CCHC_BACKUP_KEEP:-14}"
python="${CCHC_PYTHON:-python3}"
case "$keep" in
  ''|*[!0-9]*|0) echo "CCHC_BACKUP_KEEP phải là một số nguyên dương (đang là «$keep»)." >&2; exit 2 ;;
esac
[ -d "$dir" ] || { echo "Thư mục sao lưu «$dir» chưa có." >&2; exit 2; }

name=$("$python" -c 'from scoring.store.backup import backup_file_name; print(backup_file_name())')
"$python" -m scoring backup "$dir/$name"

# Only after a backup succeeded (set -e): the names sort by time, so everything after the newest $keep goes.
ls -1 "$dir" | grep -E '^cchc-sao-luu-[0-9]{8}-[0-9]{4}\.zip$' | sort -r | tail -n +"$((keep + 1))" |
  while read -r old; do
    rm -f -- "$dir/$old"
    echo "Đã xóa bản sao lưu cũ «$dir/$old» (giữ $keep bản mới nhất)."
  done

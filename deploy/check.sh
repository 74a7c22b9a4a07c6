#!/bin/sh
# Checks a running Chỉ số CCHC behind nginx from any machine with curl:
#   sh deploy/check.sh https://cchc.so.example.gov.vn [http://cchc.so.example.gov.vn]
# CCHC_CHECK_INSECURE=1 accepts a self-signed certificate (a trial). Exit code 0 when every check passed.
set -u
base="${1:?Cách dùng: sh deploy/check.sh https://TÊN-MÁY-CHỦ [http://TÊN-MÁY-CHỦ]}"
plain="${2:-}"
base="${base%/}"
k=""; [ "${CCHC_CHECK_INSECURE:-}" = 1 ] && k="-k"
failed=0
check() {  # check "what" "expected" "seen"
  case "$3" in
    *"$2"*) echo "ĐẠT   $1: $3" ;;
    *)      echo "LỖI   $1: mong đợi «$2», nhận được «$3»"; failed=1 ;;
  esac
}

if [ -n "$plain" ]; then
  seen=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "${plain%/}/cham-diem")
  check "HTTP chuyển sang HTTPS" "301 https://" "$seen"
fi
seen=$(curl -s $k -o /dev/null -w '%{http_code}' "$base/")
check "Trang chính" "200" "$seen"
seen=$(curl -s $k -D - -o /dev/null "$base/" | tr -d '\r' | grep -i '^cache-control:')
check "Trang không được lưu đệm" "no-store" "$seen"
seen=$(curl -s $k "$base/_stcore/health")
check "Máy chủ ứng dụng trả lời (/_stcore/health)" "ok" "$seen"
host=$(printf '%s' "$base" | sed 's#^[a-z]*://##; s#/.*##')
seen=$(curl -s $k --http1.1 -i --max-time 3 -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
  -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" -H "Origin: https://$host" "$base/_stcore/stream" | head -n 1 | tr -d '\r')
check "Websocket qua nginx (/_stcore/stream)" "101" "$seen"
# 15 MB reaches the app, which refuses this request itself (no page session behind it: 403); nginx would say 413.
seen=$(head -c 15728640 /dev/zero | curl -s $k -o /dev/null -w '%{http_code}' -X PUT --data-binary @- "$base/_stcore/upload_file/kiem-tra/kiem-tra")
case "$seen" in 413|000|5*) check "Tệp 15 MB tới được ứng dụng (nginx không từ chối)" "mã khác 413, 5xx" "$seen" ;;
                 *) check "Tệp 15 MB tới được ứng dụng (nginx không từ chối)" "$seen" "$seen" ;; esac
seen=$(head -c 31457280 /dev/zero | curl -s $k -o /dev/null -w '%{http_code}' -X PUT --data-binary @- "$base/_stcore/upload_file/kiem-tra/kiem-tra")
check "Tệp 30 MB bị nginx từ chối" "413" "$seen"
exit $failed

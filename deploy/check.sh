#!/bin/sh
# Checks a running Chỉ số CCHC behind nginx from any machine with curl:
#   sh deploy/check.sh https://cchc.so.example.gov.vn [http://cchc.so.example.gov.vn]
# CCHC_CHECK_INSECURE=1 accepts a self-signed certificate (a trial); CCHC_CHECK_USER and CCHC_CHECK_PASSWORD add a
# sign-in. Exit code 0 when every check passed.
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
# With sign-in on, the page sends a browser without a session to the sign-in page: follow it.
seen=$(curl -s $k -L -o /dev/null -w '%{http_code} %{url_effective}' "$base/")
check "Trang chính (hoặc trang đăng nhập)" "200" "$seen"
seen=$(curl -s $k -L -D - -o /dev/null "$base/" | tr -d '\r' | grep -i '^cache-control:' | tail -n 1)
check "Trang không được lưu đệm" "no-store" "$seen"
seen=$(curl -s $k "$base/healthz")
check "Ứng dụng và cơ sở dữ liệu trả lời (/healthz)" "ok" "$seen"
host=$(printf '%s' "$base" | sed 's#^[a-z]*://##; s#/.*##')
seen=$(curl -s $k --http1.1 -i --max-time 3 -H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13" \
  -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" -H "Origin: https://$host" "$base/_stcore/stream" | head -n 1 | tr -d '\r')
check "Websocket qua nginx (/_stcore/stream)" "101" "$seen"
# 15 MB passes nginx: the app's sign-in route reads a posted body whole before refusing one over 8 KB with its own
# sentence (an upload the app refuses unread ends in a broken connection instead, which says nothing about nginx).
seen=$(head -c 15728640 /dev/zero | curl -s $k -X POST --data-binary @- -H "Content-Type: application/x-www-form-urlencoded" "$base/dang-nhap")
check "Thân yêu cầu 15 MB qua được nginx tới ứng dụng" "Biểu mẫu đăng nhập quá lớn" "$seen"
seen=$(head -c 31457280 /dev/zero | curl -s $k -X POST --data-binary @- -H "Content-Type: application/x-www-form-urlencoded" "$base/dang-nhap" | grep -o '413 Request Entity Too Large' | head -n 1)
check "Thân yêu cầu 30 MB bị chính nginx từ chối (413)" "413 Request Entity Too Large" "$seen"
# With an account (CCHC_CHECK_USER, CCHC_CHECK_PASSWORD): the sign-in cookie is Secure, i.e. the app sees the
# X-Forwarded-Proto nginx sends; the session is ended again at once.
if [ -n "${CCHC_CHECK_USER:-}" ]; then
  cookie=$(printf '%s' "${CCHC_CHECK_PASSWORD:-}" | curl -s $k -o /dev/null -D - -H "Origin: $base" \
    --data-urlencode "ten_dang_nhap=$CCHC_CHECK_USER" --data-urlencode "mat_khau@-" --data-urlencode "next=/" "$base/dang-nhap" |
    tr -d '\r' | grep -i '^set-cookie: cchc_phien=')
  check "Đăng nhập qua HTTPS: cookie phiên có Secure" "; Secure" "$cookie"
  check "Cookie phiên có HttpOnly" "; HttpOnly" "$cookie"
  token=$(printf '%s' "$cookie" | sed 's/^[^=]*=\([^;]*\).*/\1/')
  [ -n "$token" ] && curl -s $k -o /dev/null -b "cchc_phien=$token" "$base/dang-xuat"
fi
exit $failed

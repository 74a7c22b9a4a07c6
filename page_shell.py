"""The HTML page every Streamlit address loads (Streamlit's index.html), as web.SignInGate serves it: in Vietnamese,
never blank while it loads, and reloaded when Streamlit's frontend has stopped.

Why (issue 19, benchmarks/reconnect.py on this 2-core machine, load average 13–28): (1) a page is white until
Streamlit's code has loaded (about 60 script files) and /_stcore/health and /_stcore/host-config have answered: stApp
appeared only as the websocket opened, 3–8 s after the address at load 19, 10–72 s with 8–12 pages loading at once.
(2) Streamlit's frontend can stop for good while the page stays open: an error while it applied an update from the
server ("Bad delta path index 24 (should be between [0, 23])", once in eight runs of about 16 000 clicks, in a page
not yet clicked while other sessions opened) emptied its React root, so `[data-testid=stApp]` was gone and the page
white; its websocket closed 40 ms later and was never reopened, and every click after it stayed in the page ("Cannot
send rerun backMessage when disconnected from server"), while the server had done the work asked before
(benchmarks/scale.py's save was in the database). Both are Streamlit's code; from our side the page (1) says it is
loading, in Vietnamese, until the app draws, and (2) watches the app element: once it has been drawn, if it is gone,
or Streamlit says it is disconnected for good, for GONE_SECONDS, the page says why and reloads itself. A reload is
safe: the sign-in is a cookie, the address keeps the page and its query, and every save is in the database. At most
MAX_RELOADS in RELOAD_WINDOW_SECONDS: after that the page says so and offers a button.

Nothing else of Streamlit's page changes but its language, title and the <noscript> text (which describes an agent
API this server does not answer: web._CLOSED_PREFIXES).
"""

from __future__ import annotations

import html
import json

from starlette.types import Message, Scope, Send

# Streamlit's page is recognised by its empty React root; any other HTML passes unchanged.
ROOT_MARKER = b'<div id="root"></div>'
MAX_RELOADS = 3
RELOAD_WINDOW_SECONDS = 120
GONE_SECONDS = 1.5  # the app element missing this long (React unmounted), or disconnected for good: reload
SLOW_SECONDS = 12  # still loading after this long: the busy-server sentence

TITLE = "Chỉ số CCHC"
LOADING = "Đang tải trang…"
LOADING_SLOW = "Máy chủ đang bận nên trang tải chậm hơn thường lệ; xin chờ trong giây lát."
RELOADING = "Trang vừa gặp lỗi khi hiển thị nên đang được tải lại. Những gì đã lưu vẫn còn nguyên."
STUCK = ("Trang gặp lỗi khi hiển thị nhiều lần liền. Những gì đã lưu vẫn còn nguyên; hãy bấm «Tải lại trang», "
         "hoặc báo quản trị viên nếu lỗi còn lặp lại.")
RELOAD_BUTTON = "Tải lại trang"
NO_SCRIPT = "Trang này cần JavaScript: hãy bật JavaScript trong trình duyệt rồi tải lại trang."

_STYLE = """<style>
  #root:empty::before { content: __LOADING__; display: block; margin: 5rem auto 0; max-width: 32rem; padding: 0 1rem;
    text-align: center; font: 1.1rem/1.5 "Source Sans 3", "DejaVu Sans", Arial, sans-serif; color: #4a5563; }
  #root[data-cchc-slow]:empty::before { content: __LOADING_SLOW__; }
  #cchc-page-problem { position: fixed; z-index: 2147483647; top: 1rem; left: 50%; transform: translateX(-50%);
    max-width: min(36rem, calc(100vw - 2rem)); box-sizing: border-box; padding: .8rem 1rem; border-radius: .5rem;
    background: #fdecea; color: #8a1c13; font: 1rem/1.5 "Source Sans 3", "DejaVu Sans", Arial, sans-serif;
    box-shadow: 0 1px 4px rgba(23, 32, 42, .25); }
  #cchc-page-problem button { display: block; margin-top: .6rem; font: inherit; font-weight: 600; padding: .4rem .9rem;
    border: 0; border-radius: .4rem; background: #0b5cad; color: #fff; cursor: pointer; }
</style>"""

_SCRIPT = """<script>
(() => {
  const APP = '[data-testid="stApp"]';
  const KEY = "cchc-page-reloads";  // this tab's own reloads (sessionStorage): a page that keeps failing stops trying
  const T = __TEXTS__;
  const started = Date.now();
  let seen = false, wrongSince = 0, done = false;
  const say = (text, button) => {
    let box = document.getElementById("cchc-page-problem");
    if (!box) {
      box = document.createElement("div");
      box.id = "cchc-page-problem";
      box.setAttribute("role", "alert");
      document.body.appendChild(box);
    }
    box.textContent = text;
    if (button) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = T.button;
      b.addEventListener("click", () => location.reload());
      box.appendChild(b);
    }
  };
  const reload = () => {
    done = true;
    let recent = [];
    try { recent = JSON.parse(sessionStorage.getItem(KEY) || "[]").filter((t) => Date.now() - t < T.windowMs); } catch (e) {}
    if (recent.length >= T.maxReloads) { say(T.stuck, true); return; }
    try { sessionStorage.setItem(KEY, JSON.stringify(recent.concat([Date.now()]))); } catch (e) {}
    say(T.reloading);
    setTimeout(() => location.reload(), 700);
  };
  const look = () => {
    if (done) return;
    const app = document.querySelector(APP);
    if (!app && !seen) {  // still loading
      const root = document.getElementById("root");
      if (root && Date.now() - started > T.slowMs) root.setAttribute("data-cchc-slow", "");
      return;
    }
    seen = seen || !!app;
    const wrong = !app || app.getAttribute("data-test-connection-state") === "DISCONNECTED_FOREVER";
    if (!wrong) { wrongSince = 0; return; }
    if (!wrongSince) wrongSince = Date.now();
    else if (Date.now() - wrongSince >= T.goneMs) reload();
  };
  setInterval(look, 250);
})();
</script>"""


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'  # the page is UTF-8 (its <meta charset>)


def _head_addition() -> bytes:
    texts = {"button": RELOAD_BUTTON, "stuck": STUCK, "reloading": RELOADING, "maxReloads": MAX_RELOADS,
             "windowMs": RELOAD_WINDOW_SECONDS * 1000, "goneMs": int(GONE_SECONDS * 1000), "slowMs": SLOW_SECONDS * 1000}
    style = _STYLE.replace("__LOADING__", _css_string(LOADING)).replace("__LOADING_SLOW__", _css_string(LOADING_SLOW))
    script = _SCRIPT.replace("__TEXTS__", json.dumps(texts, ensure_ascii=False))
    return (style + "\n" + script + "\n").encode("utf-8")


HEAD_ADDITION = _head_addition()


def rewrite(page: bytes) -> bytes:
    """Streamlit's index.html with our language, title, loading sentence and watchdog; other HTML unchanged."""
    if ROOT_MARKER not in page or b"</head>" not in page:
        return page
    page = page.replace(b'<html lang="en">', b'<html lang="vi">', 1)
    page = page.replace(b"<title>Streamlit</title>", f"<title>{html.escape(TITLE)}</title>".encode(), 1)
    start, end = page.find(b"<noscript>"), page.find(b"</noscript>")
    if 0 <= start < end:
        page = page[:start] + f"<noscript><p>{html.escape(NO_SCRIPT)}</p>".encode() + page[end:]
    return page.replace(b"</head>", HEAD_ADDITION + b"</head>", 1)


# Request headers that would keep the page from reaching us whole and plain: compressed, conditional, partial.
_DROPPED_REQUEST_HEADERS = (b"accept-encoding", b"if-none-match", b"if-modified-since", b"range", b"if-range")
# What described the original file and no longer describes the rewritten one.
_DROPPED_RESPONSE_HEADERS = (b"content-length", b"etag", b"last-modified", b"accept-ranges")


def prepared(scope: Scope) -> Scope:
    """A page request's scope, asking for the page whole and uncompressed (it is a few kilobytes), and without the
    server's file-sending extensions, so the body comes through `send` and can be rewritten."""
    headers = [(k, v) for k, v in scope.get("headers", ()) if k not in _DROPPED_REQUEST_HEADERS]
    extensions = {k: v for k, v in (scope.get("extensions") or {}).items()
                  if k not in ("http.response.pathsend", "http.response.zerocopysend")}
    return {**scope, "headers": headers, "extensions": extensions}


def rewriting(send: Send) -> Send:
    """`send` for a page request: an HTML answer (200) is gathered and passed on rewritten; anything else as it is."""
    held: dict[str, object] = {}

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = {k.lower(): v for k, v in message.get("headers", ())}
            if (message.get("status") == 200 and headers.get(b"content-type", b"").startswith(b"text/html")
                    and b"content-encoding" not in headers):
                held["start"], held["body"] = message, []
                return
        elif message["type"] == "http.response.body" and "start" in held:
            held["body"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = rewrite(b"".join(held.pop("body")))
            start = held.pop("start")
            headers = [(k, v) for k, v in start.get("headers", ()) if k.lower() not in _DROPPED_RESPONSE_HEADERS]
            headers.append((b"content-length", str(len(body)).encode("ascii")))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await send(message)

    return sending

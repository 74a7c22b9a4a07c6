"""The web layer around the Streamlit app (server.py mounts it): the sign-in page, the session cookie, and
what the server answers to whom.

Why a page of its own and not a Streamlit form: a Streamlit script talks to the browser over a websocket
and cannot set a cookie, least of all an HttpOnly one. So signing in is an ordinary HTML form posted to
/dang-nhap; on success the server sets the cookie `cchc_phien` (HttpOnly, SameSite=Strict, Secure behind
TLS) that names a session row (scoring/access/sessions.py), and sends the browser back to the page it asked for.
The password check, lock-out and session rules stay in scoring/; this module only speaks HTTP.

What the gate (SignInGate) lets through, with sign-in on:
- to anyone: this sign-in page, /healthz for a monitor, Streamlit's own static files (code, no data);
- nowhere: Streamlit's metrics, its agent API and its own sign-in routes (nothing here uses them);
- with a live session only: every page (a browser without one is sent to the sign-in page, which brings
  it back afterwards), media files (evidence, charts, downloads) and uploads (only into a Streamlit
  session opened under the same sign-in);
- every page (Streamlit's index.html) in Vietnamese, with a loading sentence and a watchdog that reloads a tab whose
  Streamlit frontend has stopped (page_shell.py: the blank page of issue 19), with sign-in on or off;
- the websocket: always, but a Streamlit session id it presents is dropped unless that Streamlit session
  was opened under the same person's sign-in, so a copied id opens a fresh, signed-out session. The
  script itself (ui.current_principal) decides who is signed in, from the cookie, on every run.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import threading
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

import page_shell
from scoring.access.accounts import NO_ADMIN_YET, has_accounts, sign_in, sign_in_required
from scoring.access.auth import DEFAULT_SESSION_POLICY
from scoring.access.sessions import COOKIE_NAME, NO_SESSION, check_session, end_session, open_session, reason_message
from scoring.errors import InputError, StorageError
from scoring.store.db import Database, Settings, open_database, settings_from_env
from scoring.store.workspace import ensure_default_workspace

log = logging.getLogger("cchc")

SIGN_IN_PATH = "/dang-nhap"
SIGN_OUT_PATH = "/dang-xuat"
HEALTH_PATH = "/healthz"
HOME = "/"
_MAX_FORM_BYTES = 8 * 1024  # a user name and a password; anything bigger is not a sign-in

# Answered to anyone: our own routes above, and Streamlit's frontend code and its start-up probes.
_PUBLIC_PREFIXES = ("/static/", "/_stcore/health", "/_stcore/host-config")
_PUBLIC_FILES = ("/favicon.png", "/manifest.json", "/robots.txt")
# Answered to no one: what a monitor or a person never needs, and what would describe the app to a stranger.
_CLOSED_PREFIXES = ("/_stcore/metrics", "/_stcore/agent", "/_stcore/script-health-check", "/auth/", "/oauth2callback")
# Not pages: a browser asking for these without a session gets a refusal, not the sign-in page.
_NOT_PAGES = ("/_stcore/", "/media/", "/component/", "/app/static/")
_UPLOAD_PREFIX = "/_stcore/upload_file/"
_STREAM_PATH = "/_stcore/stream"

NOT_FOUND = "Không có trang này."
NEEDS_SIGN_IN = "Cần đăng nhập để mở nội dung này."
NOT_YOURS = "Phiên làm việc này không phải của bạn."
FOREIGN_FORM = "Biểu mẫu đăng nhập không gửi từ trang của ứng dụng nên không được nhận; hãy mở trang đăng nhập và thử lại."


# ---------------------------------------------------------------- the server's database

_DATABASES: dict[Settings, Database] = {}
_OPENING = threading.Lock()


def database() -> Database:
    """The database the environment names (CCHC_DATA_DIR / DATABASE_URL), opened once per server process
    and shared by these routes and every script run (ui.database is this function).

    A plain dictionary rather than st.cache_resource: every save and every fragment asks for it, and
    st.cache_resource hashes its argument on each call, which cost more than the save itself.
    """
    settings = _settings(os.environ.get("CCHC_DATA_DIR"), os.environ.get("DATABASE_URL"))
    db = _DATABASES.get(settings)
    if db is None:
        with _OPENING:  # two sessions starting together must not migrate and seed twice
            db = _DATABASES.get(settings)
            if db is None:
                db = _DATABASES[settings] = _open_database(settings)
    return db


# Self-scoring closes by itself at its deadline (scoring.store.cycle_store.close_due_self_scoring). The app checks as it
# is used, at most every DEADLINE_CHECK_SECONDS per process, so a department server needs no scheduler; a
# province may also run `python -m scoring close-due` from cron. CCHC_CLOSE_AT_DEADLINE=off turns the app's own
# check off (the test suite does, so tests never depend on the day they run).
DEADLINE_CHECK_SECONDS = 600
_next_deadline_check = [0.0]
_DEADLINE_CHECK_LOCK = threading.Lock()


def closes_at_deadlines() -> bool:
    return os.environ.get("CCHC_CLOSE_AT_DEADLINE", "on").strip().lower() not in ("off", "0", "false", "no")


def close_at_deadlines_now_and_then(now: float | None = None) -> None:
    """Lock the years whose self-scoring deadline has passed, unless this process did so less than
    DEADLINE_CHECK_SECONDS ago. Never stops a page: a failure is logged and tried again at the next check."""
    if not closes_at_deadlines():
        return
    now = time.monotonic() if now is None else now
    with _DEADLINE_CHECK_LOCK:
        if now < _next_deadline_check[0]:
            return
        _next_deadline_check[0] = now + DEADLINE_CHECK_SECONDS
    from scoring.store import actors, cycle_store  # the app's core, loaded by the first page anyway

    try:
        closed = cycle_store.close_due_self_scoring(database(), actor=actors.SYSTEM_ACTOR)
    except InputError as problem:  # a read-only or busy database: the next check tries again
        log.warning("checking self-scoring deadlines failed: %s", problem)
        return
    for year in closed:
        log.info("self-scoring of department %s, %s closed at its deadline %s", year.department_id, year.year, year.deadline)


@functools.lru_cache(maxsize=8)
def _settings(data_dir: str | None, database_url: str | None) -> Settings:
    """Settings for these environment values (building them resolves paths on disk: once is enough)."""
    return settings_from_env({k: v for k, v in (("CCHC_DATA_DIR", data_dir), ("DATABASE_URL", database_url)) if v})


def _open_database(settings: Settings) -> Database:
    """Migrates, then seeds the embedded default on first start. It makes no account: the first administrator
    is made by `python -m scoring init` on the operator's console (scripts/run.sh runs it), never because a
    visitor opened the sign-in page, and its password never reaches the server's log."""
    db = open_database(settings)
    ensure_default_workspace(db)
    return db


# ---------------------------------------------------------------- which sign-in each Streamlit session serves

# Streamlit session id → (session digest, username, when bound). Written by each script run
# (ui.current_principal), read by the gate for the websocket and uploads. Per process, as Streamlit's
# sessions are (a province's proxy keeps a browser on one process: deploy/).
_BINDINGS: dict[str, tuple[str | None, str | None, float]] = {}
_BINDINGS_LOCK = threading.Lock()
_BINDINGS_KEPT = DEFAULT_SESSION_POLICY.absolute_timeout.total_seconds()


def bind_streamlit_session(session_id: str, digest: str | None, username: str | None) -> None:
    """Record that this Streamlit session now serves this sign-in (None: nobody signed in)."""
    now = time.monotonic()
    with _BINDINGS_LOCK:
        _BINDINGS[session_id] = (digest, username, now)
        if len(_BINDINGS) > 1000:  # forget sessions older than any sign-in can live
            for key in [k for k, (_, _, at) in _BINDINGS.items() if now - at > _BINDINGS_KEPT]:
                del _BINDINGS[key]


def streamlit_session_belongs(session_id: str, digest: str, username: str | None) -> bool:
    """Whether a browser holding sign-in `digest` may continue this Streamlit session: it was opened under
    the same sign-in, or under an earlier one of the same person (who signed in again after expiry)."""
    with _BINDINGS_LOCK:
        bound = _BINDINGS.get(session_id)
    if bound is None or bound[0] is None:
        return False
    return bound[0] == digest or (username is not None and bound[1] == username)


# ---------------------------------------------------------------- addresses


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never another site, never the sign-in page
    itself); anything else goes to the first page."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    if parts.path in (SIGN_IN_PATH, SIGN_OUT_PATH) or parts.path.startswith(_NOT_PAGES):
        return HOME
    return target


def sign_in_url(next_path: str | None = None, reason: str | None = None) -> str:
    """The sign-in page's address, bringing the person back to `next_path` and saying why they are there."""
    query = {}
    if next_path and safe_next(next_path) != HOME:
        query["next"] = safe_next(next_path)
    if reason:
        query["ly-do"] = reason
    return SIGN_IN_PATH + ("?" + urlencode(query) if query else "")


def _secure(request_scheme: str, headers) -> bool:
    """The cookie is Secure when the browser reached us over TLS: directly, or through nginx (which says so in
    X-Forwarded-Proto, see deploy/)."""
    forwarded = (headers.get("x-forwarded-proto") or "").split(",")[0].strip().lower()
    return request_scheme in ("https", "wss") or forwarded == "https"


# ---------------------------------------------------------------- the sign-in page

_PAGE = """<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Đăng nhập — Chỉ số CCHC</title>
<style>
  :root {{ color-scheme: light; }}
  body {{ margin: 0; min-height: 100vh; display: flex; align-items: center; justify-content: center;
         background: #f1f4f8; color: #17202a; font: 17px/1.5 "Source Sans 3", "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }}
  main {{ background: #fff; width: min(26rem, calc(100vw - 2rem)); padding: 2rem 2.25rem; border-radius: .75rem;
          box-shadow: 0 1px 3px rgba(23, 32, 42, .15); box-sizing: border-box; }}
  h1 {{ font-size: 1.5rem; margin: 0 0 .25rem; }}
  .sub {{ margin: 0 0 1.5rem; color: #4a5563; }}
  label {{ display: block; font-weight: 600; margin: 1rem 0 .35rem; }}
  input {{ width: 100%; box-sizing: border-box; font: inherit; padding: .55rem .7rem; border: 1px solid #9aa5b1;
           border-radius: .4rem; }}
  input:focus {{ outline: 3px solid rgba(11, 92, 173, .35); border-color: #0b5cad; }}
  button {{ margin-top: 1.5rem; width: 100%; font: inherit; font-weight: 600; padding: .65rem; border: 0; border-radius: .4rem;
            background: #0b5cad; color: #fff; cursor: pointer; }}
  button:hover {{ background: #094a8c; }}
  .msg {{ padding: .7rem .9rem; border-radius: .4rem; margin: 0 0 1rem; }}
  .error {{ background: #fdecea; color: #8a1c13; }}
  .info {{ background: #e8f1fb; color: #0b3d73; }}
  code {{ background: #f1f4f8; padding: 0 .25rem; border-radius: .2rem; }}
</style>
</head>
<body>
<main>
<h1>Chỉ số CCHC</h1>
<p class="sub">Đăng nhập để làm việc với bộ chỉ số cải cách hành chính.</p>
{message}
{form}
</main>
</body>
</html>
"""

_FORM = """<form method="post" action="{action}" autocomplete="on">
<input type="hidden" name="next" value="{next}">
<label for="ten_dang_nhap">Tên đăng nhập</label>
<input id="ten_dang_nhap" name="ten_dang_nhap" value="{username}" autocomplete="username" autocapitalize="none"
       spellcheck="false" required {focus_user}>
<label for="mat_khau">Mật khẩu</label>
<input id="mat_khau" name="mat_khau" type="password" autocomplete="current-password" required {focus_password}>
<button type="submit">Đăng nhập</button>
</form>"""

# The page holds no script and loads nothing from anywhere: its own styles, its own form, nothing else.
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}


def _message(kind: str, sentence: str) -> str:
    # Our own sentences may name a command in `backticks`; everything else in them is escaped text.
    escaped = html.escape(sentence)
    parts = escaped.split("`")
    escaped = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return f'<p class="msg {kind}" role="{"alert" if kind == "error" else "status"}">{escaped}</p>'


def _sign_in_page(*, next_path: str, username: str = "", error: str | None = None, info: str | None = None,
                  form: bool = True, status: int = 200) -> HTMLResponse:
    message = _message("error", error) if error else (_message("info", info) if info else "")
    form_html = _FORM.format(action=SIGN_IN_PATH, next=html.escape(next_path, quote=True),
                             username=html.escape(username, quote=True),
                             focus_user="" if username else "autofocus", focus_password="autofocus" if username else "")
    body = _PAGE.format(message=message, form=form_html if form else "")
    return HTMLResponse(body, status_code=status, headers=_PAGE_HEADERS)


def _same_origin(request: Request) -> bool:
    """A sign-in is posted from our own page: the browser's Origin (or, lacking it, Referer) names this host."""
    claimed = request.headers.get("origin") or request.headers.get("referer")
    if not claimed or claimed == "null":
        return False
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    return urlsplit(claimed).netloc.lower() == host.split(",")[0].strip().lower()


def _with_session_cookie(response: Response, token: str, request: Request) -> Response:
    response.set_cookie(COOKIE_NAME, token, max_age=int(DEFAULT_SESSION_POLICY.absolute_timeout.total_seconds()),
                        path="/", httponly=True, samesite="strict", secure=_secure(request.url.scheme, request.headers))
    return response


def _without_session_cookie(response: Response, request: Request) -> Response:
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict",
                           secure=_secure(request.url.scheme, request.headers))
    return response


async def sign_in_page(request: Request) -> Response:
    next_path = safe_next(request.query_params.get("next"))
    try:
        db = await run_in_threadpool(database)
        if request.method == "POST":
            return await _sign_in_posted(request, db)
        token = request.cookies.get(COOKIE_NAME)
        check = await run_in_threadpool(check_session, db, token) if token else NO_SESSION
        accounts_exist = await run_in_threadpool(has_accounts, db)
    except StorageError as problem:  # disk full, read-only, busy, unreachable: the sentence, never a traceback
        return _storage_problem_page(problem)
    if check.signed_in is not None:  # already signed in (another tab did it): straight on
        return RedirectResponse(next_path, status_code=303)
    if not accounts_exist:
        return _sign_in_page(next_path=next_path, info=NO_ADMIN_YET, form=False)
    info = reason_message(check.reason) or reason_message(request.query_params.get("ly-do"))
    response = _sign_in_page(next_path=next_path, info=info)
    return _without_session_cookie(response, request) if token else response


async def _sign_in_posted(request: Request, db) -> Response:
    body = await request.body()
    if len(body) > _MAX_FORM_BYTES:
        return PlainTextResponse("Biểu mẫu đăng nhập quá lớn.", status_code=413)
    form = await request.form()
    next_path = safe_next(str(form.get("next") or ""))
    username = str(form.get("ten_dang_nhap") or "").strip()
    password = str(form.get("mat_khau") or "")
    if not _same_origin(request):
        return _sign_in_page(next_path=next_path, username=username, error=FOREIGN_FORM, status=403)
    try:
        principal = await run_in_threadpool(sign_in, db, username, password)
        token = await run_in_threadpool(open_session, db, principal)
    except StorageError as problem:
        return _sign_in_page(next_path=next_path, username=username, error=str(problem), status=503)
    except InputError as problem:  # wrong password, locked out: the name stays typed, the password never
        return _sign_in_page(next_path=next_path, username=username, error=str(problem), status=401)
    log.info("sign-in: %s", principal.username)
    return _with_session_cookie(RedirectResponse(next_path, status_code=303), token, request)


def _storage_problem_page(problem: StorageError) -> HTMLResponse:
    log.warning("sign-in page: %s", problem.__cause__ or problem)
    return _sign_in_page(next_path=HOME, error=str(problem), form=False, status=503)


async def sign_out_page(request: Request) -> Response:
    """A link or form to /dang-xuat ends the session (the app's own button ends it in ui.sign_out)."""
    try:
        await run_in_threadpool(end_session, await run_in_threadpool(database), request.cookies.get(COOKIE_NAME))
    except StorageError as problem:
        return _storage_problem_page(problem)
    return _without_session_cookie(RedirectResponse(sign_in_url(reason="signed_out"), status_code=303), request)


async def health(request: Request) -> Response:
    """For a monitor: the server answers and its database can be read. Says nothing about the data."""
    def database_answers() -> bool:
        with database().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    try:
        await run_in_threadpool(database_answers)
    except Exception as problem:  # the monitor needs only "not ok"; the reason goes to the log
        log.warning("health check: %s", problem)
        return PlainTextResponse("loi: co so du lieu khong tra loi", status_code=503, headers={"Cache-Control": "no-store"})
    return PlainTextResponse("ok", headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    return [
        Route(SIGN_IN_PATH, sign_in_page, methods=["GET", "POST"]),
        Route(SIGN_OUT_PATH, sign_out_page, methods=["GET", "POST"]),
        Route(HEALTH_PATH, health, methods=["GET", "HEAD"]),
    ]


# ---------------------------------------------------------------- the gate


def _cookies(scope: Scope) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in scope.get("headers", ()):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no session
                return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def without_foreign_session_id(scope: Scope, digest: str | None, username: str | None) -> Scope:
    """The websocket's scope with the Streamlit session id it presents removed, unless that Streamlit session
    was opened under this same sign-in (or the same person's new one). Streamlit reads the id from the third
    entry of Sec-WebSocket-Protocol; without it, the browser simply gets a fresh session."""
    raw = _header(scope, b"sec-websocket-protocol")
    if not raw:
        return scope
    entries = [entry.strip() for entry in raw.split(",")]
    if len(entries) < 3 or not entries[2]:
        return scope
    if digest is not None and streamlit_session_belongs(entries[2], digest, username):
        return scope
    entries[2] = ""
    headers = [(k, v) for k, v in scope["headers"] if k != b"sec-websocket-protocol"]
    headers.append((b"sec-websocket-protocol", ", ".join(entries).encode("latin-1")))
    return {**scope, "headers": headers}


def _is_streamlit_page(scope: Scope) -> bool:
    """A browser loading a page (Streamlit answers every such address with its index.html), not a file or a route."""
    path = scope.get("path", "")
    return (scope["type"] == "http" and scope.get("method") == "GET"
            and path not in (SIGN_IN_PATH, SIGN_OUT_PATH, HEALTH_PATH) and path not in _PUBLIC_FILES
            and not path.startswith(_NOT_PAGES + ("/static/",)))


def _check(token: str):
    return check_session(database(), token)


class SignInGate:
    """Pure ASGI middleware (it must see websockets too): see the module's docstring for what passes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        if path.startswith(_CLOSED_PREFIXES):
            await self._refuse(scope, receive, send, NOT_FOUND, 404)
            return
        if _is_streamlit_page(scope):  # in Vietnamese, never blank while loading, reloaded if Streamlit's code stops
            scope, send = page_shell.prepared(scope), page_shell.rewriting(send)
        if (not sign_in_required() or path in (SIGN_IN_PATH, SIGN_OUT_PATH, HEALTH_PATH)
                or path.startswith(_PUBLIC_PREFIXES) or path in _PUBLIC_FILES):
            await self.app(scope, receive, send)
            return
        token = _cookies(scope).get(COOKIE_NAME)
        try:
            check = await run_in_threadpool(_check, token) if token else NO_SESSION
        except StorageError as problem:
            if scope["type"] == "websocket":  # the page itself says what happened (app.py)
                await self.app(without_foreign_session_id(scope, None, None), receive, send)
            else:
                await _storage_problem_page(problem)(scope, receive, send)
            return
        signed_in = check.signed_in
        if scope["type"] == "websocket":
            digest, username = (signed_in.digest, signed_in.principal.username) if signed_in else (None, None)
            await self.app(without_foreign_session_id(scope, digest, username), receive, send)
            return
        if signed_in is not None:
            if path.startswith(_UPLOAD_PREFIX):
                session_id = path[len(_UPLOAD_PREFIX):].split("/", 1)[0]
                if not streamlit_session_belongs(session_id, signed_in.digest, signed_in.principal.username):
                    await self._refuse(scope, receive, send, NOT_YOURS, 403)
                    return
            await self.app(scope, receive, _with_page_headers(send))
            return
        method = scope.get("method", "GET")
        if method in ("GET", "HEAD") and not path.startswith(_NOT_PAGES):
            query = scope.get("query_string", b"").decode("latin-1")
            wanted = path + ("?" + query if query else "")
            if _header(scope, b"sec-fetch-site") == "cross-site":
                # A link followed from another site carries no SameSite=Strict cookie: load the same address
                # once more from here, which does, before deciding that nobody is signed in.
                response: Response = HTMLResponse(
                    f'<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={html.escape(wanted, quote=True)}">'
                    f'<title>Chỉ số CCHC</title><a href="{html.escape(wanted, quote=True)}">Mở trang</a>',
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "same-origin"})
            else:
                response = RedirectResponse(sign_in_url(wanted, check.reason), status_code=303,
                                            headers={"Cache-Control": "no-store"})
            await response(scope, receive, send)
            return
        await self._refuse(scope, receive, send, NEEDS_SIGN_IN, 401)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, sentence: str, status: int) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await PlainTextResponse(sentence, status_code=status, headers={"Cache-Control": "no-store"})(scope, receive, send)


def _with_page_headers(send: Send) -> Send:
    """Pages and files of a signed-in person are not framed by another site nor kept in shared caches."""
    async def sending(message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            names = {k.lower() for k, _ in headers}
            if b"x-frame-options" not in names:
                headers.append((b"x-frame-options", b"DENY"))
            if b"cache-control" not in names:
                headers.append((b"cache-control", b"private, no-store"))
            headers.append((b"referrer-policy", b"same-origin"))
            message = {**message, "headers": headers}
        await send(message)
    return sending

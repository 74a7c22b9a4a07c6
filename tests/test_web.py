"""What the server answers to whom (web.py): the sign-in page and its cookie, the gate in front of pages,
media, uploads and the websocket, and the routes no one gets. Through Starlette's TestClient in front of
a stand-in for Streamlit (fixture `web_client`); the real server is tried in tests/test_browser.py."""

from __future__ import annotations

import pytest

import web
from scoring.access import accounts, sessions
from scoring.access.auth import Role, token_digest
from scoring.store import actors, department_store

PASSWORD = "Mat-khau-du-dai-2026"
ORIGIN = {"Origin": "http://testserver"}


@pytest.fixture
def signed_in_mode(monkeypatch):
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = web.database()  # opening it seeds the embedded default
    accounts.create_account(db, "vanphong", role=Role.OFFICE, password=PASSWORD,
                            department_ids=[d.id for d in department_store.list_departments(db)], actor=actors.SYSTEM_ACTOR)
    return db


def _sign_in(client, username="vanphong", password=PASSWORD, next_path="/trinh-chieu", headers=ORIGIN):
    return client.post("/dang-nhap", data={"ten_dang_nhap": username, "mat_khau": password, "next": next_path},
                       headers=headers)


def test_a_page_without_a_session_goes_to_sign_in_and_comes_back_after(signed_in_mode, web_client):
    asked = web_client.get("/trinh-chieu?nam=2026")
    assert asked.status_code == 303
    assert asked.headers["location"] == "/dang-nhap?next=%2Ftrinh-chieu%3Fnam%3D2026"
    page = web_client.get(asked.headers["location"])
    assert page.status_code == 200 and 'name="next" value="/trinh-chieu?nam=2026"' in page.text
    signed = _sign_in(web_client, next_path="/trinh-chieu?nam=2026")
    assert signed.status_code == 303 and signed.headers["location"] == "/trinh-chieu?nam=2026"
    opened = web_client.get("/trinh-chieu?nam=2026")
    assert opened.status_code == 200 and opened.text == "streamlit"
    assert opened.headers["x-frame-options"] == "DENY"


def test_the_session_cookie_is_http_only_strict_and_secure_behind_tls(signed_in_mode, web_client):
    cookie = _sign_in(web_client).headers["set-cookie"]
    assert cookie.startswith(f"{sessions.COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # plain http on this machine: a Secure cookie would never come back
    behind_nginx = _sign_in(web_client, headers={**ORIGIN, "X-Forwarded-Proto": "https"}).headers["set-cookie"]
    assert "Secure" in behind_nginx


def test_a_wrong_password_keeps_the_name_never_the_password_and_sets_no_cookie(signed_in_mode, web_client):
    answer = _sign_in(web_client, password="sai-mat-khau-roi")
    assert answer.status_code == 401 and "set-cookie" not in answer.headers
    assert accounts.WRONG_CREDENTIALS in answer.text
    assert 'value="vanphong"' in answer.text and "sai-mat-khau-roi" not in answer.text
    assert answer.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_five_wrong_passwords_lock_the_account_and_the_page_says_until_when(signed_in_mode, web_client):
    for _ in range(5):
        answer = _sign_in(web_client, password="sai-mat-khau-roi")
    assert "tạm khóa" in answer.text
    assert "tạm khóa" in _sign_in(web_client).text  # the right password waits too


def test_a_sign_in_posted_from_another_site_is_refused(signed_in_mode, web_client):
    for headers in ({"Origin": "https://evil.example"}, {}, {"Referer": "https://evil.example/form"}):
        answer = _sign_in(web_client, headers=headers)
        assert answer.status_code == 403 and "set-cookie" not in answer.headers
        assert web.FOREIGN_FORM in answer.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "/dang-nhap",
                                    "/dang-xuat", "/_stcore/stream", "/media/x.pdf", "trinh-chieu", "/x\r\nSet-Cookie: a=b", ""])
def test_after_sign_in_the_person_only_ever_goes_to_a_page_of_this_site(target):
    assert web.safe_next(target) == "/"


def test_the_sign_in_page_escapes_what_the_address_carries(signed_in_mode, web_client):
    page = web_client.get('/dang-nhap', params={"next": '/a"><script>alert(1)</script>', "ly-do": "<b>xin chào</b>"})
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text
    assert "xin chào" not in page.text  # a reason in the address only picks one of our own sentences


def test_sign_out_ends_the_session_for_every_tab(signed_in_mode, web_client):
    token = _sign_in(web_client).cookies[sessions.COOKIE_NAME]
    left = web_client.get("/dang-xuat")
    assert left.status_code == 303 and left.headers["location"] == "/dang-nhap?ly-do=signed_out"
    assert sessions.check_session(signed_in_mode, token).reason == sessions.Ended.SIGNED_OUT
    web_client.cookies.set(sessions.COOKIE_NAME, token)  # another tab still holding the old cookie
    assert web_client.get("/tong-quan").headers["location"] == "/dang-nhap?next=%2Ftong-quan&ly-do=signed_out"
    assert "Bạn đã đăng xuất." in web_client.get("/dang-nhap?ly-do=signed_out").text


def test_someone_already_signed_in_skips_the_form(signed_in_mode, web_client):
    _sign_in(web_client)
    answer = web_client.get("/dang-nhap?next=/cham-diem")
    assert answer.status_code == 303 and answer.headers["location"] == "/cham-diem"


def test_a_link_followed_from_another_site_is_loaded_again_from_here_before_asking_to_sign_in(signed_in_mode, web_client):
    answer = web_client.get("/cham-diem", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 200 and 'http-equiv="refresh" content="0;url=/cham-diem"' in answer.text
    assert web_client.get("/cham-diem", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 303


@pytest.mark.parametrize("path", ["/media/0123abcd.pdf", "/_stcore/upload_file/s1/f1", "/component/x/index.html",
                                  "/_stcore/bidi-components/x"])
def test_files_and_uploads_need_a_live_session(signed_in_mode, web_client, path):
    answer = web_client.get(path) if not path.startswith("/_stcore/upload") else web_client.put(path, content=b"x")
    assert answer.status_code == 401 and answer.text == web.NEEDS_SIGN_IN
    _sign_in(web_client)
    web_client.get("/dang-xuat")
    after = web_client.get(path) if not path.startswith("/_stcore/upload") else web_client.put(path, content=b"x")
    assert after.status_code == 401  # signed out: the files are closed again at once


def test_an_upload_only_goes_into_a_streamlit_session_of_the_same_sign_in(signed_in_mode, web_client):
    token = _sign_in(web_client).cookies[sessions.COOKIE_NAME]
    assert web_client.put("/_stcore/upload_file/someone-elses/f1", content=b"x").status_code == 403
    web.bind_streamlit_session("mine", token_digest(token), "vanphong")
    assert web_client.put("/_stcore/upload_file/mine/f1", content=b"x").text == "streamlit"


@pytest.mark.parametrize("path", ["/_stcore/metrics", "/_stcore/agent/openapi.json", "/_stcore/agent/mcp",
                                  "/_stcore/script-health-check", "/auth/login", "/oauth2callback"])
@pytest.mark.parametrize("mode", ["on", "off"])
def test_metrics_the_agent_api_and_streamlits_own_sign_in_answer_no_one(monkeypatch, web_client, path, mode):
    monkeypatch.setenv("CCHC_AUTH", mode)
    answer = web_client.get(path)
    assert answer.status_code == 404 and answer.text == web.NOT_FOUND


def test_a_monitor_gets_health_without_signing_in(signed_in_mode, web_client):
    for path in ("/healthz", "/_stcore/health"):
        assert web_client.get(path).status_code == 200
    assert web_client.get("/healthz").text == "ok"
    assert web_client.get("/static/js/index.js").text == "streamlit"  # the frontend's code holds no data


def _presented_session_id(web_client, session_id: str) -> str:
    with web_client.websocket_connect("/_stcore/stream", subprotocols=["streamlit", "xsrf", session_id]) as socket:
        return socket.receive_text().split(",")[2].strip()


def test_a_copied_streamlit_session_id_never_reaches_that_session(signed_in_mode, web_client):
    victim = sessions.open_session(signed_in_mode, accounts.sign_in(signed_in_mode, "vanphong", PASSWORD))
    web.bind_streamlit_session("victims-session", token_digest(victim), "vanphong")
    assert _presented_session_id(web_client, "victims-session") == ""  # no cookie: a fresh session
    web_client.cookies.set(sessions.COOKIE_NAME, "made-up")
    assert _presented_session_id(web_client, "victims-session") == ""
    web_client.cookies.set(sessions.COOKIE_NAME, victim)  # the victim's own browser reconnecting
    assert _presented_session_id(web_client, "victims-session") == "victims-session"


def test_a_session_of_another_person_is_not_continued_with_ones_own_cookie(signed_in_mode, web_client):
    accounts.create_account(signed_in_mode, "quantri", role=Role.ADMIN, password=PASSWORD, department_ids=[], actor=actors.SYSTEM_ACTOR)
    admin = sessions.open_session(signed_in_mode, accounts.sign_in(signed_in_mode, "quantri", PASSWORD))
    web.bind_streamlit_session("admins-session", token_digest(admin), "quantri")
    _sign_in(web_client)  # vanphong, signed in for real, presents the administrator's session id
    assert _presented_session_id(web_client, "admins-session") == ""


def test_open_mode_lets_this_machine_in_without_a_session(monkeypatch, web_client):
    monkeypatch.setenv("CCHC_AUTH", "off")
    assert web_client.get("/cham-diem").text == "streamlit"
    assert web_client.get("/media/x.pdf").text == "streamlit"


def test_a_database_that_cannot_be_read_is_a_vietnamese_sentence_on_the_sign_in_page(signed_in_mode, web_client, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from scoring.errors import StorageError, storage_problem

    full = OperationalError("INSERT", {}, Exception("database or disk is full"))
    sentence = storage_problem(full)

    def broken(*_args, **_kwargs):
        raise StorageError(sentence)

    monkeypatch.setattr(web, "check_session", broken)
    monkeypatch.setattr(web, "has_accounts", broken)
    web_client.cookies.set(sessions.COOKIE_NAME, "some-token")
    for answer in (web_client.get("/dang-nhap"), web_client.get("/cham-diem"), web_client.get("/media/x.png")):
        assert answer.status_code == 503 and sentence in answer.text
        assert "Traceback" not in answer.text and "sqlalchemy" not in answer.text.lower()
    monkeypatch.setattr(web, "sign_in", broken)
    posted = _sign_in(web_client)
    assert posted.status_code == 503 and sentence in posted.text and 'value="vanphong"' in posted.text  # kept

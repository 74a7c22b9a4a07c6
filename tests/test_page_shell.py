"""The page Streamlit's addresses load, as web.py serves it (page_shell): Vietnamese, a sentence while it loads,
and a watchdog that reloads the tab when Streamlit's frontend has stopped (the blank page of issue 19). Through
Starlette's TestClient in front of a stand-in that answers pages with Streamlit's own index.html, as Streamlit does;
the watchdog itself in a real browser: tests/test_browser_sessions.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import page_shell
import web
from scoring.access import accounts
from scoring.access.auth import Role
from scoring.store import actors, department_store

INDEX = Path(streamlit.__file__).parent / "static" / "index.html"
PASSWORD = "Mat-khau-du-dai-2026"


@pytest.fixture
def client():
    """web.py's gate in front of Streamlit's index.html for every page, gzipped like Streamlit's own answers."""
    async def index(request):
        return FileResponse(INDEX)

    async def script(request):
        return PlainTextResponse("console.log(1)", media_type="text/javascript")

    app = Starlette(routes=[*web.routes(), Route("/static/js/app.js", script), Route("/{path:path}", index)],
                    middleware=[Middleware(web.SignInGate), Middleware(GZipMiddleware, minimum_size=10)])
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def test_the_rewritten_page_keeps_streamlits_code_and_adds_the_vietnamese_and_the_watchdog():
    original = INDEX.read_bytes()
    page = page_shell.rewrite(original).decode("utf-8")
    assert '<html lang="vi">' in page and "<title>Chỉ số CCHC</title>" in page
    assert page_shell.LOADING in page and page_shell.LOADING_SLOW in page  # the CSS sentences, UTF-8 as the page
    assert page_shell.RELOADING in page and page_shell.STUCK in page and '[data-testid="stApp"]' in page
    assert "DISCONNECTED_FOREVER" in page
    assert "agent" not in page.split("<noscript>")[1].split("</noscript>")[0]  # no API this server refuses
    for line in original.decode().splitlines():  # every script and style of Streamlit's is still there
        if "<script" in line or "modulepreload" in line or "stylesheet" in line:
            assert line in page
    assert page.index("cchc-page-reloads") < page.index("</head>") < page.index('<div id="root"></div>')
    assert page_shell.rewrite(b"<html><head></head><body>khac</body></html>") == b"<html><head></head><body>khac</body></html>"


def test_open_mode_serves_the_page_whole_uncompressed_and_without_the_files_validators(monkeypatch, client):
    monkeypatch.setenv("CCHC_AUTH", "off")
    answer = client.get("/cham-diem", headers={"Accept-Encoding": "gzip", "If-None-Match": '"x"'})
    assert answer.status_code == 200 and "content-encoding" not in answer.headers
    assert "etag" not in answer.headers and "last-modified" not in answer.headers
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert page_shell.RELOADING in answer.text and '<div id="root"></div>' in answer.text
    code = client.get("/static/js/app.js", headers={"Accept-Encoding": "gzip"})
    assert code.text == "console.log(1)" and "cchc" not in code.text  # files are not pages


def test_a_signed_in_page_gets_the_watchdog_and_the_sign_in_page_does_not(monkeypatch, client):
    monkeypatch.setenv("CCHC_AUTH", "on")
    db = web.database()
    accounts.create_account(db, "vanphong", role=Role.OFFICE, password=PASSWORD,
                            department_ids=[d.id for d in department_store.list_departments(db)], actor=actors.SYSTEM_ACTOR)
    asked = client.get("/cham-diem")
    assert asked.status_code == 303  # no session: the sign-in page, unchanged
    sign_in = client.get(asked.headers["location"])
    assert sign_in.status_code == 200 and "cchc-page-reloads" not in sign_in.text
    client.post("/dang-nhap", data={"ten_dang_nhap": "vanphong", "mat_khau": PASSWORD, "next": "/cham-diem"},
                headers={"Origin": "http://testserver"})
    page = client.get("/cham-diem?nam=2026", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200 and "cchc-page-reloads" in page.text and "content-encoding" not in page.headers
    assert page.headers["x-frame-options"] == "DENY"  # the signed-in page's own headers stay

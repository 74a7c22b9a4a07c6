"""Shared fixtures. Tests never touch the real data/ folder: every database lives in a temporary folder."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text

from scoring.store.db import Database, Settings

# CI runs the property tests with a fixed seed, so a submission's result does not depend on luck; on a
# developer's machine they keep exploring new examples.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# The app closes self-scoring by itself once a year's deadline has passed (web.close_at_deadlines_now_and_then):
# off for every test, and for the servers the browser tests start, so no test depends on the day it runs. The
# tests of that mechanism call it with their own day.
os.environ["CCHC_CLOSE_AT_DEADLINE"] = "off"
# Likewise the app's own email reminders (scoring.assessment.reminders.send_now_and_then): off unless a test turns them on.
os.environ["CCHC_REMINDERS"] = "off"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI phải chạy kiểm thử với PostgreSQL thật: TEST_DATABASE_URL chưa được đặt (xem scripts/test.sh).")
        pytest.skip("không có PostgreSQL (TEST_DATABASE_URL chưa đặt)")
    engine = create_engine(url)
    with engine.begin() as connection:  # a clean schema per test
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Anything that reads CCHC_DATA_DIR/DATABASE_URL from the environment gets a scratch folder."""
    monkeypatch.setenv("CCHC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CCHC_AUTH", "off")  # page tests run open; the sign-in tests switch it on themselves


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request, tmp_path):
    folder = tmp_path / "data"
    if request.param == "sqlite":
        url = f"sqlite:///{folder / 'cchc.db'}"
    else:
        url = _postgres_url()
    database = Database(Settings(data_dir=folder, database_url=url))
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path):
    folder = tmp_path / "data"
    database = Database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))
    yield database
    database.dispose()


@pytest.fixture
def browser_cookie(monkeypatch):
    """AppTest has no browser, so no cookie: this stands in for the one web.py sets at sign-in. It returns
    `sign_in(at, username, password)`, which signs in through the core (password check, lock-out, session
    row) and gives that AppTest's session the token, as the browser's cookie would."""
    import streamlit as st

    import ui
    from scoring.access import accounts, sessions

    key = "_test_browser_cookie"
    monkeypatch.setattr(ui, "browser_session_token", lambda: st.session_state.get(key))

    def sign_in(at, username: str, password: str):
        db = ui.database()
        token = sessions.open_session(db, accounts.sign_in(db, username, password))
        at.session_state[key] = token
        return token

    return sign_in


@pytest.fixture
def web_client():
    """web.py's routes and gate in front of a stand-in for Streamlit (which answers every other address
    with "streamlit"), through Starlette's TestClient: what a browser gets, without starting a server."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.testclient import TestClient

    import web

    async def streamlit(request):
        return PlainTextResponse("streamlit")

    async def stream(websocket):
        await websocket.accept(subprotocol="streamlit")
        await websocket.send_text(websocket.headers.get("sec-websocket-protocol", ""))
        await websocket.close()

    app = Starlette(routes=[*web.routes(), WebSocketRoute("/_stcore/stream", stream),
                            Route("/{path:path}", streamlit, methods=["GET", "HEAD", "POST", "PUT"])],
                    middleware=[Middleware(web.SignInGate)])
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def deferred(monkeypatch):
    """The callables the pages hand to st.download_button, by the id the browser would ask for (AppTest has no
    browser to ask): calling one is what Streamlit does when the person clicks."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    registered: dict[str, tuple] = {}
    original = MediaFileManager.add_deferred

    def record(self, data_callable, mimetype, coordinates, file_name=None, **options):
        file_id = original(self, data_callable, mimetype, coordinates, file_name=file_name, **options)
        registered[file_id] = (data_callable, file_name)
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", record)
    return registered

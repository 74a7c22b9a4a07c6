"""Staying signed in, in a real browser against the app as it is served (server.py): reloads, new tabs,
bookmarked pages, sign-out, evidence files, and a Streamlit session id copied to another client."""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.request

import pytest
from test_browser import _fill_sign_in, _settled, _shot, _sign_in, browser, signed_in_server  # noqa: F401

pytestmark = pytest.mark.browser


def _heading(page) -> str:
    return page.locator("h1").first.inner_text()


def test_signed_in_once_a_person_stays_signed_in_across_reloads_tabs_and_bookmarks(signed_in_server, browser):
    url, _ = signed_in_server
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.goto(f"{url}/trinh-chieu")  # a bookmark, before signing in
    page.wait_for_url("**/dang-nhap?next=%2Ftrinh-chieu", timeout=30000)
    _shot(page, "dang-nhap-1366x768.png")
    _fill_sign_in(page, "vanphong", "sai-mat-khau-roi")
    page.wait_for_selector(".msg.error")
    assert page.get_by_label("Tên đăng nhập").input_value() == "vanphong"  # what was typed stays
    assert page.get_by_label("Mật khẩu").input_value() == ""
    _fill_sign_in(page, "vanphong")
    page.wait_for_url(f"{url}/trinh-chieu", timeout=30000)  # back to the page that was asked for
    _settled(page)
    assert _heading(page).startswith("Chỉ số CCHC năm 2026")
    assert not page.get_by_text("Page not found").count()

    page.reload()  # F5
    _settled(page)
    assert page.url == f"{url}/trinh-chieu" and _heading(page).startswith("Chỉ số CCHC năm 2026")
    tab = context.new_page()  # a new tab, straight to another page
    tab.goto(f"{url}/cham-diem")
    _settled(tab)
    assert _heading(tab).startswith("Chấm điểm")
    _shot(tab, "tab-moi-da-dang-nhap-1366x768.png")

    tab.get_by_role("button", name="Đăng xuất").click()
    tab.wait_for_url("**/dang-nhap?**", timeout=30000)
    assert "Bạn đã đăng xuất." in tab.locator(".msg").inner_text()
    page.reload()  # the other tab is signed out with it
    page.wait_for_url("**/dang-nhap?next=%2Ftrinh-chieu**", timeout=30000)
    context.close()


def _media_status(address: str, cookie: str | None = None) -> int:
    request = urllib.request.Request(address, headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def _evidence_image(data_dir) -> None:
    from PIL import Image

    from scoring.store import actors, department_store, evidence_store
    from scoring.store.db import Database, Settings

    picture = io.BytesIO()
    Image.new("RGB", (60, 40), (11, 92, 173)).save(picture, format="PNG")
    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    department_id = department_store.list_departments(db)[0].id
    evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(doc_type="Ảnh", summary="Ảnh chụp bảng niêm yết"),
                      actor=actors.SYSTEM_ACTOR, upload=("bang-niem-yet.png", picture.getvalue()))
    db.dispose()


def test_an_evidence_file_reaches_only_the_signed_in_browser_and_only_until_sign_out(signed_in_server, browser):
    url, data_dir = signed_in_server
    _evidence_image(data_dir)
    page = _sign_in(browser, url, "vanphong", path="/tai-lieu")
    page.get_by_label("Xem, sửa tài liệu").click()
    page.get_by_role("option", name="Ảnh chụp bảng niêm yết").first.click()
    _settled(page)
    image = page.locator('[data-testid="stImage"] img').first
    image.wait_for(timeout=30000)
    address = url + image.get_attribute("src") if image.get_attribute("src").startswith("/") else image.get_attribute("src")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    assert _media_status(address, cookie) == 200
    assert _media_status(address) == 401  # another browser, or a link sent to someone: no file
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url("**/dang-nhap?**", timeout=30000)
    assert _media_status(address, cookie) == 401  # the same browser after signing out: no file either
    page.close()


def _session_id_of(page_frames: list[bytes]) -> str | None:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    for frame in page_frames:
        message = ForwardMsg()
        try:
            message.ParseFromString(frame)
        except Exception:
            continue
        if message.HasField("new_session"):
            return message.new_session.initialize.session_id
    return None


def _connect_as_another_client(url: str, session_id: str, cookie: str | None) -> tuple[str | None, str]:
    """A websocket client presenting `session_id` (as Streamlit's frontend does when it reconnects): which
    session the server gives it, and the text of what that session draws."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ClientState_pb2 import ClientState
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    headers = {"Origin": url, **({"Cookie": cookie} if cookie else {})}
    given, drawn = None, []
    with connect(url.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit", "PLACEHOLDER_AUTH_TOKEN", session_id],
                 additional_headers=headers, open_timeout=10) as socket:
        socket.send(BackMsg(rerun_script=ClientState(query_string="", page_script_hash="")).SerializeToString())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                frame = socket.recv(timeout=2)
            except TimeoutError:
                if given:
                    break
                continue
            message = ForwardMsg()
            message.ParseFromString(frame)
            if message.HasField("new_session"):
                given = message.new_session.initialize.session_id
            drawn.append(str(message))
            if message.HasField("script_finished"):
                break
    return given, "\n".join(drawn)


def test_a_copied_streamlit_session_id_gets_the_sign_in_page_not_the_session(signed_in_server, browser):
    url, _ = signed_in_server
    frames: list[bytes] = []
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload) if isinstance(payload, bytes) else None))
    page = context.new_page()
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(payload) if isinstance(payload, bytes) else None))
    page.goto(f"{url}/cau-hinh")
    page.wait_for_url("**/dang-nhap**", timeout=30000)
    _fill_sign_in(page, "quantri")
    page.wait_for_url(f"{url}/cau-hinh", timeout=30000)
    _settled(page)
    victims = _session_id_of(frames)
    assert victims, "the browser's Streamlit session id was not seen"

    given, drawn = _connect_as_another_client(url, victims, cookie=None)
    assert given and given != victims  # a fresh session, never the administrator's
    assert "Đăng nhập" in drawn and "Sao lưu" not in drawn and "quantri" not in drawn
    page.reload()  # the administrator's own browser is untouched
    _settled(page)
    assert _heading(page).startswith("Cấu hình")
    context.close()

"""Email reminders sent by the app itself as it is used (scoring.assessment.reminders.send_now_and_then from ui.sidebar_context):
the app as it is served, a local SMTP server (aiosmtpd) on 127.0.0.1, and Cấu hình → Tài khoản saying to whom they went."""

from __future__ import annotations

import email
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller
from test_browser import (  # noqa: F401 - fixtures and helpers
    PASSWORD,
    _free_port,
    _require_chromium,
    _settled,
    _shot,
    _sign_in,
    _start_server,
    browser,
)

pytestmark = pytest.mark.browser


class _Received:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def mailing_server(tmp_path_factory):
    """The app served with reminders on and a mail server of its own; an administrator and an Office account with an
    address, on the bundled department (its year has criteria without evidence: something awaits the Office)."""
    _require_chromium()
    from scoring.access import accounts
    from scoring.access.auth import Role
    from scoring.store import actors
    from scoring.store.db import Database, Settings
    from scoring.store.workspace import ensure_default_workspace

    data_dir = tmp_path_factory.mktemp("browser-reminders")
    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    workspace = ensure_default_workspace(db)
    for username, role, address in (("quantri", Role.ADMIN, None), ("vanphong", Role.OFFICE, "vanphong@sodttg.gov.vn")):
        accounts.create_account(db, username, role=role, password=PASSWORD, display_name="Nguyễn Thị Hoà" if address else "",
                                department_ids=[workspace.department_id], email=address, actor=actors.SYSTEM_ACTOR)
    db.dispose()
    received = _Received()
    controller = Controller(received, hostname="127.0.0.1", port=_free_port())
    controller.start()
    process, url = _start_server(data_dir, "on", {
        "CCHC_REMINDERS": "on", "CCHC_SMTP_HOST": "127.0.0.1", "CCHC_SMTP_PORT": str(controller.port),
        "CCHC_SMTP_SECURITY": "none", "CCHC_SMTP_FROM": "cchc@sonoivu.gov.vn", "CCHC_SMTP_USER": "", "CCHC_SMTP_PASSWORD": ""})
    yield url, received
    process.terminate()
    process.wait(timeout=10)
    controller.stop()


def test_the_app_sends_the_reminders_as_it_is_used_and_says_so(mailing_server, browser):
    url, received = mailing_server
    page = _sign_in(browser, url, "quantri")  # the first page run starts the app's own sending, on its own thread
    deadline = time.monotonic() + 30
    while not received.envelopes and time.monotonic() < deadline:
        time.sleep(0.3)
    (envelope,) = received.envelopes  # the administrator has no address: only the Office is written to
    assert envelope.rcpt_tos == ["vanphong@sodttg.gov.vn"]
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert message["Subject"].startswith("Chỉ số CCHC: ") and message["To"].addresses[0].display_name == "Nguyễn Thị Hoà"
    assert "Làm ở trang «Tài liệu kiểm chứng»." in message.get_content()

    page.goto(f"{url}/cau-hinh")
    _settled(page)
    page.get_by_role("tab", name="Tài khoản").click()
    page.get_by_text("Nhắc việc qua thư điện tử đang bật", exact=False).wait_for(timeout=30000)
    page.get_by_text("Thư nhắc việc gửi gần đây").wait_for()
    _shot(page, "cau-hinh-nhac-viec-1366x900.png")
    page.reload()  # another page run, within the hour: nothing is sent again
    _settled(page)
    time.sleep(2)
    assert len(received.envelopes) == 1

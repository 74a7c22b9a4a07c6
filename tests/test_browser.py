"""The app in a real browser: Debian's Chromium driven by Playwright, against a server on a free local port.

What AppTest cannot see: clicks on the rendered page, a file upload through the browser, the projector
layout at 1920×1080. Screenshots land in test-artifacts/ (1366×768 desktop, 1920×1080 projector).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("CI phải có Chromium của Debian (/usr/bin/chromium): scripts/test.sh cài gói chromium.")
        pytest.skip("không có /usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_chromium()
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = _free_port()
    env = {**os.environ, "CCHC_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail("máy chủ Streamlit không khởi động được:\n" + process.stdout.read().decode(errors="replace"))
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def browser():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def _settled(page) -> None:
    """Wait until Streamlit has finished running the script and drawing."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=30000)
    page.wait_for_selector("h1", timeout=60000)  # the first run on a new data folder seeds the database
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30000)
    page.wait_for_timeout(700)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def _metric(page, label: str):
    return page.locator('[data-testid="stMetric"]').filter(has_text=label).locator('[data-testid="stMetricValue"]')


def test_overview_at_desktop_and_projector_sizes(server, browser):
    for width, height, name in ((1366, 768, "tong-quan-1366x768.png"), (1920, 1080, "tong-quan-1920x1080.png")):
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(server)
        _settled(page)
        assert page.get_by_role("heading", name="Tổng quan CCHC năm 2026").is_visible()
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=30000)  # plotly loads lazily
        page.wait_for_timeout(1000)
        assert page.locator('[data-testid="stPlotlyChart"]').count() >= 4
        assert "Traceback" not in page.content()
        _shot(page, name)
        page.close()


def test_scoring_a_criterion_in_the_browser(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server}/cham-diem")
    _settled(page)
    assert _metric(page, "Điểm tự chấm").inner_text() == "0 / 100"
    page.get_by_text("Ban hành không kịp thời: 0,5 điểm").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === '0,5 / 100')",
        timeout=30000,
    )
    page.reload()
    _settled(page)
    assert _metric(page, "Điểm tự chấm").inner_text() == "0,5 / 100"  # saved, not only shown
    _shot(page, "cham-diem-1366x768.png")
    page.close()


def test_uploading_an_evidence_pdf(server, browser, tmp_path):
    pdf = tmp_path / "ke-hoach-cchc-2026.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
                    b"trailer<</Root 1 0 R>>\n%%EOF\n")
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{server}/tai-lieu")
    _settled(page)
    page.get_by_role("tab", name="Thêm tài liệu").click()
    page.get_by_label("Số, ký hiệu").fill("15/KH-SDTTG")
    page.get_by_label("Trích yếu").fill("Kế hoạch cải cách hành chính năm 2026")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(pdf))
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Lưu tài liệu").click()
    page.wait_for_function("() => document.body.innerText.includes('Đã lưu tài liệu')", timeout=30000)
    _settled(page)
    page.get_by_role("tab", name="Sổ tài liệu").click()
    page.wait_for_timeout(800)
    assert page.get_by_text(re.compile(r"Tải về «ke-hoach-cchc-2026\.pdf»")).is_visible()
    _shot(page, "tai-lieu-1366x900.png")
    page.close()


def test_projector_mode_is_readable_and_navigable(server, browser):
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}/trinh-chieu")
    _settled(page)
    assert not page.locator('[data-testid="stSidebar"]').is_visible()  # full width, no sidebar
    heading = page.get_by_role("heading", name=re.compile("tổng hợp"))
    assert heading.is_visible()
    # large type: the title is readable from the back of the room
    size = page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert size >= 48
    _shot(page, "trinh-chieu-tong-hop-1920x1080.png")
    page.get_by_role("button", name="Tiếp ▶").click()
    page.wait_for_function("() => document.querySelector('h1') && document.querySelector('h1').innerText.startsWith('1.')", timeout=30000)
    _settled(page)
    _shot(page, "trinh-chieu-linh-vuc-1-1920x1080.png")
    page.close()


def test_no_page_shows_a_traceback(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    for path in ("ke-hoach", "cau-hinh"):
        page.goto(f"{server}/{path}")
        _settled(page)
        assert not page.locator('[data-testid="stException"]').count()
    page.close()


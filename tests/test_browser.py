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
from decimal import Decimal
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


SERVER_DATA_DIRS: dict[str, Path] = {}  # base URL → the data folder its server runs on


def _serve(data_dir: Path, auth: str):
    """Run the app as it is served (`streamlit run server.py`) on a free port against `data_dir`; yields the base URL."""
    process, url = _start_server(data_dir, auth)
    SERVER_DATA_DIRS[url] = data_dir
    yield url
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


def _start_server(data_dir: Path, auth: str, environ: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """A `streamlit run server.py` process on a free port against `data_dir` (and `environ`, e.g. a DATABASE_URL),
    once it answers; and its base URL."""
    port = _free_port()
    env = {**os.environ, "CCHC_DATA_DIR": str(data_dir), "CCHC_AUTH": auth}
    env.pop("DATABASE_URL", None)
    env.update(environ or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.port", str(port), "--server.headless", "true",
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
    return process, url


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_chromium()
    yield from _serve(tmp_path_factory.mktemp("browser-data"), auth="off")


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
    # on a busy machine the page may still be drawing its placeholders after the run has finished
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60000)
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
        # by area: HTML figures (scoring.charts_html); the plotly charts by unit wait in their expander until it is opened
        charts = page.locator('[data-testid="stHtml"] figure')
        assert charts.count() == 2 and charts.first.get_by_text("Tiến độ Kế hoạch CCHC", exact=False).is_visible()
        assert page.locator('[data-testid="stPlotlyChart"]').count() == 0
        page.get_by_text("Tiến độ theo đơn vị chủ trì", exact=False).first.click()
        page.wait_for_function("() => document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg').length >= 2",
                               timeout=30000)  # plotly loads lazily
        _settled(page)
        assert "Traceback" not in page.content()
        _shot(page, name)
        page.close()


def test_scoring_a_criterion_in_the_browser(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(server)  # not the deep URL: on a fresh server Streamlit may show its English "Page not found" (#9992)
    _settled(page)
    _open_from_menu(page, "Chấm điểm")
    assert _metric(page, "Điểm tự chấm").inner_text() == "0 / 100"
    criteria_shown = page.locator('[data-testid="stRadio"]').count()
    page.get_by_text("Ban hành không kịp thời: 0,5 điểm").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === '0,5 / 100')",
        timeout=30000,
    )
    _settled(page)
    # only the criterion, its headings and the summary were drawn again: all of them show the new score,
    # and the rest of the page is still there, once
    text = page.inner_text("body")
    assert "0,5/13 điểm · đã chấm 1/" in text and "1.1 Kế hoạch CCHC năm · 0,5/5 điểm" in text
    assert page.locator('[data-testid="stRadio"]').count() == criteria_shown
    assert page.locator('[data-testid="stMetric"]').filter(has_text="Điểm tự chấm").count() == 1
    assert page.get_by_text("Chốt điểm tự chấm — chưa chốt").count() == 1
    # a second save on the same criterion carries the version the first one left: no conflict
    page.get_by_text("Ban hành kịp thời (trước ngày 20/12 năm trước): 1 điểm").first.click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === '1 / 100')",
        timeout=30000,
    )
    _settled(page)
    assert not page.locator('[data-testid="stAlertContentError"]').count()
    page.reload()
    _settled(page)
    assert _metric(page, "Điểm tự chấm").inner_text() == "1 / 100"  # saved, not only shown
    _shot(page, "cham-diem-1366x768.png")
    page.close()


def test_a_suggestion_matched_by_hand_goes_away_and_never_applies_itself(browser, tmp_path):
    """A score saved from a criterion's inputs reruns only its header, which drops the plan's suggestion (and its
    button) once the inputs match it. The browser must not send that button again with a later change: AppTest's
    stale tree would, and the suggestion would then be saved a second time by itself."""
    from scoring.store import (
        assessment_state,
        assessment_store,
        department_store,
    )
    from scoring.store.db import Database, Settings

    serving = _serve(tmp_path, auth="off")
    url = next(serving)
    try:
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(url)
        _settled(page)
        _open_from_menu(page, "Chấm điểm")
        page.locator(".st-key-score-open-1-1-4 button").click()  # only the open criterion draws its inputs
        suggest = page.get_by_role("button", name="Áp dụng gợi ý")
        suggest.first.wait_for(timeout=30000)
        assert suggest.count() == 1  # 1.1.4: the plan has 0 of 22 activities done
        for label, value in (("Số đạt (tử số)", "0"), ("Tổng số (mẫu số)", "22")):
            field = page.get_by_label(label).first
            field.fill(value)
            field.press("Enter")
            _settled(page)
        assert suggest.count() == 0  # matched by hand: nothing left to suggest
        page.locator(".st-key-score-open-1-1-1 button").click()
        _settled(page)
        page.get_by_text("Ban hành không kịp thời: 0,5 điểm").first.click()  # another criterion, later
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === '0,5 / 100')",
            timeout=30000,
        )
        _settled(page)
        assert not page.locator('[data-testid="stAlertContentError"]').count()
        page.close()
    finally:
        next(serving, None)  # stops the server
    db = Database(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'cchc.db'}"))
    department = department_store.list_departments(db)[0]
    scores = assessment_store.list_scores(db, assessment_state.get_assessment(db, department.id, 2026).id)
    assert (scores["1.1.4"].version, scores["1.1.4"].inputs) == (2, {"numerator": 0, "denominator": 22})  # two saves, no third
    assert scores["1.1.1"].version == 1
    db.dispose()


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


def test_an_evidence_file_the_uploader_refused_is_not_saved_as_a_record_without_file(server, browser, tmp_path):
    """Over the limit, Streamlit's uploader refuses the file in the browser and the server receives nothing: the save
    says so (limit and types, in Vietnamese) and keeps what was typed; a file of another type is refused by name."""
    large = tmp_path / "bao-cao-24mb.pdf"
    large.write_bytes(b"%PDF-1.4\n" + bytes(24 * 1024 * 1024))
    drawing = tmp_path / "so-do.svg"
    drawing.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.goto(f"{server}/tai-lieu")
    _settled(page)
    page.get_by_role("tab", name="Thêm tài liệu").click()
    form = page.locator('[data-testid="stForm"]').filter(has=page.get_by_role("button", name="Lưu tài liệu"))
    form.get_by_label("Số, ký hiệu").fill("99/BC-SDTTG")
    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(large))
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Lưu tài liệu").click()
    page.wait_for_function("() => document.body.innerText.includes('Chưa nhận được tệp đính kèm')", timeout=30000)
    _settled(page)
    assert page.get_by_text(re.compile(r"Mỗi tệp tối đa 20 MB")).first.is_visible()
    page.get_by_role("tab", name="Thêm tài liệu").click()
    assert form.get_by_label("Số, ký hiệu").input_value() == "99/BC-SDTTG"  # kept, to correct

    form.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(drawing))
    page.wait_for_timeout(800)
    page.get_by_role("button", name="Lưu tài liệu").click()
    page.wait_for_function("() => document.body.innerText.includes('có đuôi .svg không được nhận')", timeout=30000)
    _settled(page)
    assert not page.get_by_text("Đã lưu tài liệu").count()
    page.close()  # what is stored is checked on the same form under AppTest (tests/test_uploads.py)


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


def test_a_save_in_a_settings_tab_keeps_that_tab_open(server, browser):
    """The message a save leaves above the page makes the tabs new elements; they still show the tab saved from."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(server)
    _settled(page)
    _open_from_menu(page, "Cấu hình")
    page.get_by_role("tab", name="Năm đánh giá").click()
    _settled(page)
    page.get_by_role("button", name="Lưu thiết lập năm").click()
    page.wait_for_function("() => document.body.innerText.includes('Đã lưu thiết lập năm')", timeout=30000)
    _settled(page)
    assert page.get_by_role("tab", name="Năm đánh giá").get_attribute("aria-selected") == "true"
    page.close()


def test_no_page_shows_a_traceback(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    for path in ("ke-hoach", "cau-hinh"):
        page.goto(f"{server}/{path}")
        _settled(page)
        assert not page.locator('[data-testid="stException"]').count()
    page.close()



# ---------------------------------------------------------------- with sign-in on: roles and the appraisal cycle

PASSWORD = "Mat-khau-du-dai-2026"


def _prepare_signed_in_data(data_dir: Path) -> None:
    """Accounts for each role, and a self-assessment with every criterion scored and explained (ready to lock)."""
    from datetime import timedelta

    from scoring.access import accounts
    from scoring.access.auth import Role
    from scoring.assessment.cycle import vietnam_today
    from scoring.assessment.settings import ROUND_APPRAISAL_1, ROUND_EXPLANATION
    from scoring.criteria.rules import RuleKind
    from scoring.store import (
        actors,
        assessment_state,
        assessment_store,
        criteria_store,
        cycle_store,
    )
    from scoring.store.db import Database, Settings
    from scoring.store.workspace import ensure_default_workspace

    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    workspace = ensure_default_workspace(db)
    for username, role, unit in (("vanphong", Role.OFFICE, None), ("phongtg", Role.UNIT, "Phòng Tôn giáo"),
                                 ("snv", Role.APPRAISER, None), ("quantri", Role.ADMIN, None)):
        accounts.create_account(db, username, role=role, password=PASSWORD, department_ids=[workspace.department_id], unit=unit, actor=actors.SYSTEM_ACTOR)
    criteria = criteria_store.load_criteria(db, assessment_state.get_assessment(db, workspace.department_id, 2026).criteria_set_id)
    sample = {RuleKind.TIERS: lambda rule: {"tier": rule.tiers[0].label}, RuleKind.RATIO: lambda rule: {"numerator": 9, "denominator": 10},
              RuleKind.COUNT: lambda rule: {"count": 1}, RuleKind.VALUE: lambda rule: {"value": "0"},
              RuleKind.DEDUCTION: lambda rule: {"occurrences": 0}, RuleKind.SURVEY: lambda rule: {}}
    for leaf in criteria.leaves():
        assessment_store.save_self_score(db, workspace.assessment_id, leaf.code, 0, inputs=sample[leaf.rule.kind](leaf.rule),
                             explanation="Đã đối chiếu hồ sơ lưu tại Văn phòng", actor="vanphong")
    # the test appraises and explains on the day it runs: the administrator opens both rounds from today
    for round_code in (ROUND_APPRAISAL_1, ROUND_EXPLANATION):
        cycle_store.override_round(db, workspace.assessment_id, round_code, vietnam_today() + timedelta(days=7),
                            "Kiểm thử: thẩm định và giải trình trong cùng một ngày", actor="quantri")
    db.dispose()


@pytest.fixture(scope="module")
def signed_in_server(tmp_path_factory):
    _require_chromium()
    data_dir = tmp_path_factory.mktemp("browser-auth-data")
    _prepare_signed_in_data(data_dir)
    for url in _serve(data_dir, auth="on"):
        yield url, data_dir


def _open_from_menu(page, title: str) -> None:
    """Navigate inside the session, as a person clicks the menu."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText.includes({title!r})",
                           timeout=30000)
    _settled(page)


def _sign_in(browser, url: str, username: str, size=(1366, 900), path: str = ""):
    """A new browser (its own cookies) opening `url + path`, signing in on the sign-in page it is sent to."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(url + path)
    page.wait_for_url("**/dang-nhap**", timeout=30000)
    _fill_sign_in(page, username)
    page.wait_for_url(lambda address: "/dang-nhap" not in address, timeout=30000)
    _settled(page)
    return page


def _fill_sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_a_unit_signs_in_and_cannot_edit_scores(signed_in_server, browser):
    url, _ = signed_in_server
    page = _sign_in(browser, url, "phongtg")
    _open_from_menu(page, "Chấm điểm")
    page.get_by_text("Ban hành kịp thời", exact=False).first.wait_for()
    radios = page.locator('[data-testid="stRadio"] input[type="radio"]')
    assert radios.count() > 0 and all(radios.nth(i).is_disabled() for i in range(radios.count()))
    assert page.get_by_text("chế độ chỉ đọc").is_visible()
    _shot(page, "don-vi-chi-doc-1366x900.png")
    assert not page.locator('[data-testid="stSidebarNav"]').get_by_text("Cấu hình", exact=True).count()  # not in the menu
    page.goto(f"{url}/cau-hinh")  # a typed address: still signed in, and the page itself refuses the unit
    page.get_by_text("không được xem nhật ký").wait_for(timeout=60000)
    assert "/dang-nhap" not in page.url
    page.close()


def test_lock_then_appraisal_then_explanation(signed_in_server, browser):
    from scoring.store import (
        assessment_state,
        assessment_store,
        department_store,
    )
    from scoring.store.db import Database, Settings

    url, data_dir = signed_in_server
    office = _sign_in(browser, url, "vanphong")
    _open_from_menu(office, "Chấm điểm")
    office.get_by_text("Chốt điểm tự chấm — chưa chốt").click()
    office.get_by_text("Tôi hiểu: sau khi chốt").click()  # locking says what it means, and asks
    office.get_by_role("button", name="Chốt điểm tự chấm").click()
    office.wait_for_function("() => document.body.innerText.includes('Đã chốt điểm tự chấm')", timeout=30000)
    _settled(office)

    appraiser = _sign_in(browser, url, "snv")  # an appraiser lands on every department's progress
    appraiser.get_by_role("heading", name="Các cơ quan — năm 2026").wait_for(timeout=30000)
    _shot(appraiser, "cac-co-quan-1366x900.png")
    # a row's link opens that department's scoring page on its year
    appraiser.goto(url + "/cham-diem?co-quan=1&nam=2026")
    _settled(appraiser)
    first_round = appraiser.get_by_label("Thẩm định lần 1").first
    first_round.fill("0,5")
    first_round.press("Enter")
    _settled(appraiser)
    appraiser.get_by_text("Yêu cầu giải trình").first.click()
    appraiser.wait_for_function("() => document.body.innerText.includes('Giải trình của cơ quan')", timeout=30000)
    _settled(appraiser)
    _shot(appraiser, "tham-dinh-1366x900.png")

    _open_from_menu(office, "Tổng quan")
    _open_from_menu(office, "Chấm điểm")
    answer = office.get_by_label("Giải trình của cơ quan").first
    answer.fill("Kế hoạch ban hành ngày 18/12/2025, trước hạn 20/12")
    answer.press("Control+Enter")
    office.wait_for_timeout(1500)
    _settled(office)

    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    department_id = department_store.list_departments(db)[0].id
    assessment = assessment_state.get_assessment(db, department_id, 2026)
    stored = assessment_store.list_scores(db, assessment.id)["1.1.1"]
    db.dispose()
    assert assessment.locked_by == "vanphong"
    assert stored.appraisal.round1_points == Decimal("0.5") and stored.appraisal.explanation_requested
    assert stored.appraisal.explanation == "Kế hoạch ban hành ngày 18/12/2025, trước hạn 20/12"
    appraiser.close()
    office.close()


def _edit_plan_cell(page, row: int, column: int, text: str, grid=None) -> None:
    """Type into one cell of the plan table (or of `grid`, a table's locator) as a person does: the grid is drawn on a
    canvas, so click its first cell, walk there with the arrow keys, open the cell's editor with Enter, type and press
    Enter. A click that lands before the grid takes keyboard focus opens nothing: then it is tried again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.bring_to_front()
    grid = grid if grid is not None else page.locator('[data-testid="stDataFrame"]').first
    grid.scroll_into_view_if_needed()
    editor = page.locator("#portal input, #portal textarea").first  # Glide draws the cell editor outside the canvas
    for _attempt in range(3):
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 20, box["y"] + 35 + 17)  # below the header row: the first row's first cell
        page.wait_for_timeout(300)
        for _ in range(row):
            page.keyboard.press("ArrowDown")
        for _ in range(column):
            page.keyboard.press("ArrowRight")
        page.keyboard.press("Enter")  # opens the cell's editor
        try:
            editor.wait_for(timeout=5000)
            break
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    editor.fill(text)
    editor.press("Enter")


def _filter_plan_area(page, area: str) -> None:
    """Choose one area in the plan page's «Lĩnh vực» filter, as a person does."""
    field = page.locator('[data-testid="stMultiSelect"]').first
    field.click()
    page.keyboard.type(area)
    page.get_by_role("option", name=area, exact=True).click()
    page.keyboard.press("Escape")
    _settled(page)


def _plan_cell(page, code: str, column: int) -> str:
    row = page.locator('[data-testid="stDataFrame"] table tr').filter(has_text=code).first
    return row.locator("td").nth(column).inner_text()


def test_two_people_edit_one_activity_in_the_plan_table_and_the_second_is_told(signed_in_server, browser):
    """The VII.2 case: the Office saves 40 % while the administrator's table still shows 0 %; the administrator's
    70 % is refused with who saved first and when, and the table then shows the 40 % stored."""
    from scoring.store import (
        actors,
        audit_trail,
        department_store,
        plan_store,
    )
    from scoring.store.db import Database, Settings

    url, data_dir = signed_in_server
    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    department = department_store.list_departments(db)[0]
    # the table shows area VII only: its rows are tall (three lines of text), and the grid draws only the rows in view
    row = [a.code for a in plan_store.list_activities(db, department.id, 2026) if a.area == "VII"].index("VII.2")
    progress_column = 5  # Mã, Hoạt động, Chủ trì, Hạn, Trạng thái, Tiến độ (%)
    office = _sign_in(browser, url, "vanphong", size=(1366, 1400))
    admin = _sign_in(browser, url, "quantri", size=(1366, 1400))
    for page in (office, admin):  # both tables drawn before either saves
        _open_from_menu(page, "Kế hoạch")
        _filter_plan_area(page, "VII")
        assert _plan_cell(page, "VII.2", progress_column) == "0"

    _edit_plan_cell(office, row, progress_column, "40")
    office.wait_for_function("() => document.body.innerText.includes('Đã lưu hoạt động VII.2')", timeout=30000)
    _settled(office)

    _edit_plan_cell(admin, row, progress_column, "70")
    admin.wait_for_function("() => document.body.innerText.includes('Hoạt động VII.2 vừa được sửa bởi vanphong lúc')", timeout=30000)
    _settled(admin)
    assert "Đã lưu hoạt động VII.2" not in admin.inner_text("body")
    _shot(admin, "ke-hoach-xung-dot-1366x1400.png")
    stored = next(a for a in plan_store.list_activities(db, department.id, 2026) if a.code == "VII.2")
    assert stored.progress == 40
    # only the Office's save is in the log (its status followed the progress typed); nothing of the refused one
    assert sorted((e.actor, e.new) for e in audit_trail.audit_log(db, department.id, entity_key="2026/VII.2", viewer=actors.SYSTEM_ACTOR)) == [
        ("vanphong", "40"), ("vanphong", "Đang thực hiện")]
    # the administrator's table now shows what is stored (read from the grid's accessible copy of its cells)
    assert _plan_cell(admin, "VII.2", progress_column) == "40"
    office.close()
    admin.close()
    db.dispose()


def test_a_weak_password_for_a_new_account_keeps_the_accounts_tab_and_what_was_typed(signed_in_server, browser):
    """Cấu hình → Tài khoản in the browser: a refusal is said at the password, the tab stays open, what was typed
    stays; then the account is made."""
    from scoring.access import accounts
    from scoring.store.db import Database, Settings

    url, data_dir = signed_in_server
    page = _sign_in(browser, url, "quantri", size=(1366, 768))
    _open_from_menu(page, "Cấu hình")
    page.get_by_role("tab", name="Tài khoản").click()
    _settled(page)
    assert page.get_by_placeholder("Chọn vai trò…").is_visible()  # no role until one is chosen
    page.get_by_role("textbox", name="Tên đăng nhập").fill("nguoimoi")
    page.get_by_role("textbox", name="Họ tên").fill("Người Mới")
    page.get_by_role("combobox", name="Vai trò").click()
    page.get_by_role("option", name="Lãnh đạo").click()
    _settled(page)
    page.get_by_role("textbox", name="Mật khẩu (ít nhất 10 ký tự)").fill("ngan")
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.wait_for_function("() => document.body.innerText.includes('Mật khẩu chưa đạt')", timeout=30000)
    _settled(page)
    _shot(page, "tai-khoan-mat-khau-yeu-1366x768.png")
    assert page.get_by_role("tab", name="Tài khoản").get_attribute("aria-selected") == "true"
    assert page.get_by_role("textbox", name="Tên đăng nhập").input_value() == "nguoimoi"
    assert page.get_by_role("textbox", name="Họ tên").input_value() == "Người Mới"

    page.get_by_role("textbox", name="Mật khẩu (ít nhất 10 ký tự)").fill("Mot-mat-khau-rat-dai")
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.wait_for_function("() => document.body.innerText.includes('Đã tạo tài khoản «nguoimoi»')", timeout=30000)
    _settled(page)
    assert page.get_by_role("tab", name="Tài khoản").get_attribute("aria-selected") == "true"
    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    assert accounts.sign_in(db, "nguoimoi", "Mot-mat-khau-rat-dai").display_name == "Người Mới"
    db.dispose()
    page.close()


def test_a_link_to_a_page_opens_that_page_on_a_server_just_started(tmp_path, browser):
    """The first visit after the server starts, straight to a page's address (a bookmark, a link in a message),
    opens that page with no "Page not found" (Streamlit's old pages/ folder lookup once did that)."""
    for url in _serve(tmp_path / "moi", auth="off"):
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(f"{url}/cham-diem")
        _settled(page)
        assert page.locator("h1").first.inner_text().startswith("Chấm điểm")
        assert not page.get_by_text("Page not found").count()
        # every page has an address of its own, the first one too; the root opens it under that address
        for path, title in (("tong-quan", "Tổng quan"), ("trinh-chieu", "Chỉ số CCHC năm"), ("", "Tổng quan")):
            page.goto(f"{url}/{path}")
            _settled(page)
            assert page.locator("h1").first.inner_text().startswith(title), path
            assert not page.get_by_text("Page not found").count(), path
        assert page.url == f"{url}/tong-quan"
        page.close()


def test_every_criterions_points_fit_their_column_at_1366(server, browser):
    """The figure beside each criterion ("0,75 điểm", "-0,5 điểm") is never cut to "0,75 đi…" on the Office's laptops."""
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server}/cham-diem")
    _settled(page)
    figures = page.locator("[data-testid='stColumn'] [data-testid='stMetricValue']")  # the headline's are in a row, not columns
    figures.first.wait_for(timeout=30000)
    widest = page.evaluate("""() => {
        const cells = [...document.querySelectorAll("[data-testid='stColumn'] [data-testid='stMetricValue']")];
        // the longest figure a criterion shows, written into each cell in turn, must fit the cell
        return cells.map(cell => { const keep = cell.innerHTML; const target = cell.querySelector('div') || cell;
                                    target.textContent = '-10,75 điểm'; const fits = target.scrollWidth <= target.clientWidth + 1;
                                    cell.innerHTML = keep; return fits; });
    }""")
    assert widest and all(widest), widest
    page.close()


def _click_table_row(page, table, row: int) -> None:
    """Tick a row of a selectable st.dataframe: the grid is a canvas, so click the row's marker at its left."""
    table.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box = table.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 * (row + 1) + 17)


def test_an_areas_table_and_the_locks_blockers_each_open_their_criterion(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server}/cham-diem")
    _settled(page)
    page.get_by_text("Bảng cả lĩnh vực", exact=True).click()
    _settled(page)
    _shot(page, "cham-diem-bang-linh-vuc-1366x768.png")
    _click_table_row(page, page.locator('[data-testid="stDataFrame"]').last, 3)  # the fourth criterion: 1.1.4
    page.get_by_role("button", name="Hiện cả lĩnh vực 1").wait_for(timeout=30000)
    _settled(page)
    assert page.get_by_text("Mức độ thực hiện kế hoạch CCHC").first.is_visible()
    assert not page.get_by_text("Ban hành kế hoạch CCHC năm", exact=True).count()  # 1.1.1 is not drawn
    page.get_by_text("Chốt điểm tự chấm — chưa chốt").click()
    _settled(page)
    _click_table_row(page, page.locator('[data-testid="stExpander"] [data-testid="stDataFrame"]').first, 0)
    page.wait_for_function("() => document.body.innerText.includes('Hiện cả lĩnh vực')", timeout=30000)
    _settled(page)
    assert page.get_by_role("button", name=re.compile("Hiện cả lĩnh vực")).is_visible()
    page.close()


def test_an_export_shows_that_it_is_being_made_and_arrives(server, browser, tmp_path):
    """Xuất tệp: a click on «Tải về» says «Đang tạo báo cáo…» until the file is made (the report draws its two
    charts), then the browser receives the .docx."""
    page = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
    page.goto(server)
    _settled(page)
    _open_from_menu(page, "Xuất, nhập tệp")
    # remember whether the progress line was ever on screen, however briefly
    page.evaluate("""() => { window.__progress = false; new MutationObserver(() => {
        if (document.body.innerText.includes('Đang tạo báo cáo')) window.__progress = true;
    }).observe(document.body, {subtree: true, childList: true, characterData: true}); }""")
    buttons = page.get_by_role("button", name="Tải về")
    assert buttons.count() == 5
    with page.expect_download(timeout=120000) as download:
        buttons.nth(1).click()  # the report: the second export listed
    target = tmp_path / download.value.suggested_filename
    download.value.save_as(target)
    assert target.suffix == ".docx" and target.read_bytes()[:2] == b"PK"
    page.wait_for_function("() => window.__progress", timeout=10000)
    _settled(page)
    assert "Đang tạo" not in page.inner_text("body")
    page.close()

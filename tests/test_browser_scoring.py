"""Chấm điểm in a real browser during a working session: two laptops score at once, and each page shows the
other's saves within seconds without losing what its own person holds unsaved."""

from __future__ import annotations

import pytest

from test_browser import _open_from_menu, _settled, _shot, browser, server  # noqa: F401

pytestmark = pytest.mark.browser


def _headline(page) -> str:
    return page.locator('[data-testid="stMetric"]').filter(has_text="Điểm tự chấm").locator(
        '[data-testid="stMetricValue"]').inner_text().strip()


def _type(page, label: str, value: str) -> None:
    field = page.get_by_label(label).first
    field.fill(value)
    field.press("Enter")
    _settled(page)


def test_a_save_on_one_laptop_shows_on_the_other_which_keeps_its_unsaved_value(server, browser):
    first = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    second = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    for page in (first, second):
        page.goto(server)
        _settled(page)
        _open_from_menu(page, "Chấm điểm")
    # the second laptop works on 1.1.4 and types a value its rule refuses: kept in its field, marked unsaved
    second.locator(".st-key-score-open-1-1-4 button").click()
    _settled(second)
    for label, value in (("Số đạt (tử số)", "2"), ("Tổng số (mẫu số)", "3"), ("Số đạt (tử số)", "5")):
        _type(second, label, value)
    second.get_by_text("chưa được lưu").first.wait_for(timeout=30000)
    before = _headline(second)

    first.get_by_text("Ban hành không kịp thời: 0,5 điểm").first.click()  # the first laptop scores 1.1.1
    first.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.includes('0,5'))",
        timeout=30000)

    # nobody touches the second laptop: within a few seconds its totals include the first laptop's save …
    second.wait_for_function(
        f"() => [...document.querySelectorAll('[data-testid=stMetric]')].some(m => m.innerText.includes('Điểm tự chấm') "
        f"&& !m.innerText.includes({before!r}))", timeout=20000)
    _settled(second)
    # … and 1.1.1's summary says what it stands at, while 1.1.4 still holds what its person typed, marked
    assert "Tự chấm: 0,5 điểm" in second.locator(".st-key-score-open-1-1-1").inner_text()
    assert second.get_by_label("Số đạt (tử số)").first.input_value() == "5"
    assert second.get_by_text("chưa được lưu").first.is_visible()
    assert not second.locator('[data-testid="stException"]').count()
    first.context.close()
    second.context.close()


def test_a_refused_value_is_told_beside_its_inputs_and_the_fix_takes_the_message_away(server, browser):
    """A score saved from the inputs redraws only the points and totals; a refusal is said beside the inputs and
    marked unsaved, and the save that fixes it takes both away, the inputs showing what the person typed."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(server)
    _settled(page)
    _open_from_menu(page, "Chấm điểm")
    page.locator(".st-key-score-open-1-1-4 button").click()
    _settled(page)
    for label, value in (("Số đạt (tử số)", "2"), ("Tổng số (mẫu số)", "3")):
        _type(page, label, value)
    saved = _headline(page)
    _type(page, "Số đạt (tử số)", "5")  # more done than planned: the rule refuses it
    page.locator('[data-testid="stAlertContentError"]').first.wait_for(timeout=30000)
    assert page.get_by_text("chưa được lưu").first.is_visible()
    assert _headline(page) == saved
    assert page.get_by_label("Số đạt (tử số)").first.input_value() == "5"  # kept as typed
    _type(page, "Số đạt (tử số)", "3")  # fixed: 3 of 3
    page.wait_for_function("() => !document.querySelector('[data-testid=stAlertContentError]')", timeout=30000)
    assert not page.get_by_text("chưa được lưu").count()
    fixed = _headline(page)
    assert fixed != saved
    _type(page, "Số đạt (tử số)", "2")  # a save from the same inputs again: the totals follow
    page.wait_for_function(
        f"() => [...document.querySelectorAll('[data-testid=stMetric]')].some(m => m.innerText.includes('Điểm tự chấm') "
        f"&& !m.innerText.includes({fixed!r}))", timeout=30000)
    assert _headline(page) == saved
    assert (page.get_by_label("Số đạt (tử số)").first.input_value(), page.get_by_label("Tổng số (mẫu số)").first.input_value()) == ("2", "3")
    assert not page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count()
    page.context.close()


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080)])
def test_a_criterion_not_open_is_a_row_that_reads_whole_and_opens_from_the_keyboard(server, browser, size):
    """Each criterion not open is one button: its code and name on a line, its facts under them, nothing cut at
    either screen size; Tab reaches it and Enter opens it, as a click does."""
    page = browser.new_context(viewport={"width": size[0], "height": size[1]}).new_page()
    page.goto(server)
    _settled(page)
    _open_from_menu(page, "Chấm điểm")
    row = page.locator(".st-key-score-open-1-1-2 button")
    lines = [line.strip() for line in row.inner_text().splitlines() if line.strip()]  # the icon's ligature aside
    assert "1.1.2 Xác định đầy đủ nhiệm vụ CCHC theo kế hoạch của UBND tỉnh và bố trí kinh phí thực hiện" in lines
    assert lines[-1].startswith("Tối đa 1 điểm · Tự chấm: chưa chấm · 0 tài liệu · Còn thiếu: ")
    rows = page.locator('[class*="st-key-score-open-"] button')
    # nothing cut: every row is as wide as the page's column and no wider than its own text needs
    fits = rows.evaluate_all("bs => bs.map(b => b.scrollWidth <= b.clientWidth && b.getBoundingClientRect().right <= innerWidth)")
    assert fits and all(fits), fits
    row.scroll_into_view_if_needed()
    _shot(page, f"cham-diem-dong-tieu-chi-{size[0]}x{size[1]}.png")
    row.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector('[class*="st-key-s-"][class*="-1-1-2-tier"] [role="radiogroup"]', timeout=30000)
    _settled(page)
    assert page.locator(".st-key-score-open-1-1-2").count() == 0  # open now: its inputs, not its row
    assert page.locator(".st-key-score-open-1-1-1 button").is_visible()  # the one open before is a row again
    page.context.close()

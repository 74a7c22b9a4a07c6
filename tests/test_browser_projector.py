"""The projector in a real browser: a presenter's clicker and the keyboard move between screens, Esc leaves,
and the screen follows the room (a score saved elsewhere appears without anyone touching it)."""

from __future__ import annotations

import pytest

from test_browser import _settled, _shot, browser, server  # noqa: F401

pytestmark = pytest.mark.browser


def _title(page) -> str:
    return page.locator("h1").first.inner_text()


def _wait_title(page, starts: str) -> None:
    page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText.startsWith({starts!r})",
                           timeout=30000)
    _settled(page)


def test_a_clicker_and_the_arrow_keys_move_between_screens_and_esc_leaves(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(f"{server}/trinh-chieu")
    _settled(page)
    assert "tổng hợp" in _title(page)
    page.mouse.click(5, 300)  # the room's focus is the page, not a field
    page.keyboard.press("PageDown")  # what a presenter's clicker sends
    _wait_title(page, "1.")
    page.keyboard.press("ArrowRight")
    _wait_title(page, "2.")
    page.keyboard.press("ArrowLeft")
    _wait_title(page, "1.")
    page.keyboard.press("PageUp")
    _wait_title(page, "Chỉ số CCHC năm")
    page.keyboard.press("Escape")
    _wait_title(page, "Tổng quan")
    page.close()


def test_the_projected_screen_follows_a_score_saved_on_another_laptop(server, browser):
    from decimal import Decimal

    from scoring import repository as repo
    from scoring.db import open_database, settings_from_env

    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}/trinh-chieu")
    _settled(page)
    shown = page.locator('[data-testid="stMetric"]').filter(has_text="Điểm tự chấm").locator('[data-testid="stMetricValue"]')
    before = shown.inner_text()
    db = open_database(settings_from_env({"CCHC_DATA_DIR": server_data_dir(server)}))
    department = repo.list_departments(db)[0]
    assessment = repo.get_assessment(db, department.id, 2026)
    leaf = repo.load_criteria(db, assessment.criteria_set_id).node("1.4")
    current = repo.list_scores(db, assessment.id).get("1.4")
    repo.save_self_score(db, assessment.id, "1.4", current.version if current else 0, inputs={"tier": leaf.rule.tiers[0].label},
                         explanation="Đã đối chiếu", actor="Văn phòng")
    db.dispose()
    page.wait_for_function(f"() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() !== '' ) "
                           f"&& ![...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText.trim()).includes({before!r})",
                           timeout=15000)  # nobody touched the projector
    assert shown.inner_text() != before
    assert Decimal(shown.inner_text().split("/")[0].replace(",", ".")) > Decimal(before.split("/")[0].replace(",", "."))
    page.close()


def server_data_dir(url: str) -> str:
    """The data folder of the module's server (tests/test_browser.py starts it with CCHC_DATA_DIR)."""
    import test_browser

    return str(test_browser.SERVER_DATA_DIRS[url])


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)])
def test_every_projector_screen_fits_the_rooms_screens(server, browser, size):
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.goto(f"{server}/trinh-chieu")
    _settled(page)
    for screen in ("tong-hop", "linh-vuc-1"):
        for label in ("Trước", "Tiếp", "Thoát"):
            button = page.get_by_role("button", name=label).first
            fits = button.evaluate("b => [...b.querySelectorAll('p, span')].every(e => e.scrollWidth <= e.clientWidth + 1)")
            assert fits, f"«{label}» bị cắt ở {size[0]}×{size[1]} ({screen})"
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1"), "trang tràn ngang"
        _shot(page, f"trinh-chieu-{screen}-{size[0]}x{size[1]}.png")
        if screen == "tong-hop":
            page.keyboard.press("PageDown")
            _wait_title(page, "1.")
    page.close()

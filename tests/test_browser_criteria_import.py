"""Cấu hình → Bộ tiêu chí in a real browser at 1366×768: an uploaded set's draft, a fallback leaf highlighted,
a maximum corrected in the table and refused at its row. The screenshot lands in test-artifacts/."""

from __future__ import annotations

import re

from pathlib import Path

import pytest

from test_browser import _edit_plan_cell, _open_from_menu, _settled, _shot, browser, server  # noqa: F401

pytestmark = pytest.mark.browser

ROMAN_SET = Path(__file__).resolve().parent / "fixtures" / "criteria" / "so-la-ma.xlsx"


def test_the_criteria_draft_fits_1366_and_says_a_wrong_maximum_at_its_row(server, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 768})
    page.goto(server)
    _settled(page)
    _open_from_menu(page, "Cấu hình")
    page.get_by_role("tab", name="Bộ tiêu chí").click()
    _settled(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(ROMAN_SET))
    page.wait_for_function("() => document.body.innerText.includes('tạm chấm tự do')", timeout=60000)
    _settled(page)
    page.get_by_text("Bản nháp, chưa lưu").scroll_into_view_if_needed()
    _shot(page, "bo-tieu-chi-ban-nhap-dau-1366x768.png")
    grid = page.locator('[data-testid="stDataFrame"]').filter(has_text="Cách hiểu").first  # the draft's table
    grid.scroll_into_view_if_needed()
    _shot(page, "bo-tieu-chi-ban-nhap-1366x768.png")
    # row 8 is 2.2 (a free-value fallback); column 2 is its maximum
    _edit_plan_cell(page, row=7, column=2, text="hai", grid=grid)
    page.wait_for_function("() => document.body.innerText.includes('sửa xong mới lưu được')", timeout=60000)
    _settled(page)
    grid.scroll_into_view_if_needed()
    _shot(page, "bo-tieu-chi-ban-nhap-loi-1366x768.png")
    assert page.get_by_role("button", name="Lưu và dùng cho năm 2026").is_disabled()
    _edit_plan_cell(page, row=7, column=2, text="1", grid=grid)  # a second edit in the same table: the error goes, the save comes back
    page.wait_for_function("() => !document.body.innerText.includes('sửa xong mới lưu được')", timeout=60000)
    _settled(page)
    assert page.get_by_role("button", name="Lưu và dùng cho năm 2026").is_enabled()
    page.get_by_text("Sửa từng mức điểm của một tiêu chí").click()
    _settled(page)  # leaving the table may send its last edit: a rerun would close the list opened meanwhile
    chooser = page.locator('[data-testid="stExpander"]').filter(has_text="Sửa từng mức điểm").locator('[data-testid="stSelectbox"]')
    chooser.click()
    page.keyboard.type("2.2")
    page.get_by_role("option", name=re.compile(r"^2\.2\. ")).click()  # not 1.2.2, which the search also lists
    page.wait_for_function("() => document.body.innerText.includes('Dùng các mức này')", timeout=60000)
    _settled(page)
    page.get_by_role("button", name="Dùng các mức này").scroll_into_view_if_needed()
    _shot(page, "bo-tieu-chi-cac-muc-1366x768.png")
    assert "Traceback" not in page.content()
    page.close()

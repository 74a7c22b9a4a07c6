"""Every word a person sees is Vietnamese, Streamlit's own included (issue 16).

Streamlit's frontend is English only and has no language option: ui.vietnamese_widget_texts() puts Vietnamese in
place of its words. The browser test walks every page, signed in as an administrator, and looks for the English
Streamlit is known to draw; the AppTest checks cover what the pages pass to Streamlit (placeholders, figures).
"""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    _edit_plan_cell,
    _plan_cell,
    _require_chromium,
    _serve,
    _settled,
    _shot,
    _sign_in,
)

import ui
from scoring.store import actors, assessment_state, cycle_store, department_store, plan_store
from scoring.store.db import open_database
from scoring.textnorm import format_number, local_today, parse_date

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")


def _pages() -> list[tuple[str, str, str]]:
    """(file, menu title, address) of every page app.py lists."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    (pages,) = [node.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "PAGES"]
    return [(entry.elts[0].value, entry.elts[1].value, entry.elts[3].value) for entry in pages.elts]


# ---------------------------------------------------------------- what the pages pass to Streamlit


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def test_every_table_draws_an_empty_cell_as_a_dash_not_none():
    # Streamlit's table draws a missing value as "None" on its canvas (out of reach of vietnamese_widget_texts):
    # every read-only table goes through ui.dataframe, which sets the placeholder, and every editor sets its own.
    for path in sorted((ROOT / "views").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"\b(st|[a-z_]+)\.dataframe\(", source.replace("ui.dataframe(", "")), path.name
        for call in re.finditer(r"st\.data_editor\(", source):
            assert "placeholder=" in source[call.end():call.end() + 600], f"{path.name}: a data_editor without placeholder"


def test_dates_are_read_day_first():
    assert parse_date("01/12/2026") == date(2026, 12, 1)
    assert parse_date(" 1-2-2026 ") == date(2026, 2, 1)
    assert parse_date("31.12.2026") == date(2026, 12, 31)
    for not_a_date in ("31/02/2026", "12/2026", "2026-12-01", "", "hôm qua", "01/13/2026"):
        assert parse_date(not_a_date) is None, not_a_date


@pytest.mark.parametrize("page", [file for file, _title, _url in _pages()])
def test_every_select_shows_a_vietnamese_placeholder(page):
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    selects = [*at.selectbox, *at.multiselect]
    for widget in selects:
        assert widget.proto.placeholder, f"{page}: «{widget.label}» has Streamlit's English placeholder"
        assert widget.proto.placeholder not in ui.STREAMLIT_TEXTS, widget.label


def test_the_translations_are_vietnamese_and_the_script_survives_the_sanitizer():
    for english, vietnamese in ui.STREAMLIT_TEXTS.items():
        assert vietnamese and (vietnamese != english or english in ("Euro",)), english
    at = AppTest.from_string("import ui\nui.vietnamese_widget_texts()").run()
    (block,) = at.get("html")
    assert block.proto.unsafe_allow_javascript
    assert block.proto.body == ui.VIETNAMESE_WIDGET_HTML  # how tests/test_hostile_text.py tells it from data
    script = block.proto.body.split("<script", 1)[1].split(">", 1)[1].rsplit("</script>", 1)[0]
    assert "<" not in script  # DOMPurify drops a script with "<" in its text (the page would stay English)


def test_year_settings_take_figures_with_a_decimal_comma():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/cau_hinh.py").run()
    db = open_database()
    department = department_store.list_departments(db)[0]
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    before = cycle_store.year_settings(db, assessment.id)
    field = next(w for w in at.text_input if w.label == "Điểm phần điều tra XHH")
    assert field.value == format_number(before.survey_share)  # as the app writes numbers everywhere
    next(w for w in at.text_input if w.label == "Điểm thưởng tối đa").set_value("2,5")
    next(b for b in at.button if b.label == "Lưu thiết lập năm").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert cycle_store.year_settings(db, assessment.id).bonus_cap == Decimal("2.5")
    assert next(w for w in at.text_input if w.label == "Điểm thưởng tối đa").value == "2,5"

    next(w for w in at.text_input if w.label == "Điểm trừ tối đa").set_value("hai điểm")
    next(b for b in at.button if b.label == "Lưu thiết lập năm").click().run()
    assert any("«Điểm trừ tối đa» phải là một số" in _plain(e.value) for e in at.error), [e.value for e in at.error]
    assert next(w for w in at.text_input if w.label == "Điểm trừ tối đa").value == "hai điểm"  # kept, to correct
    assert cycle_store.year_settings(db, assessment.id).penalty_cap == before.penalty_cap
    db.dispose()


def test_the_plan_table_takes_a_completion_date_typed_day_first():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/ke_hoach.py").run()
    (editor,) = at.data_editor
    position = list(editor.value["Mã"]).index("I.2")
    day = local_today() - timedelta(days=40)  # a day whose day and month differ (unless both are 1 … 12 alike)
    typed = f"{day.day}/{day.month}/{day.year}"  # as people type it: no leading zeros
    at.session_state[editor.key] = {"edited_rows": {position: {"Trạng thái": "Hoàn thành", "Ngày hoàn thành": typed}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    db = open_database()
    department = department_store.list_departments(db)[0]
    stored = next(a for a in plan_store.list_activities(db, department.id, 2026) if a.code == "I.2")
    assert stored.completed_on == day
    (editor,) = at.data_editor
    assert editor.value.loc[editor.value["Mã"] == "I.2", "Ngày hoàn thành"].item() == day.strftime("%d/%m/%Y")

    at.session_state[editor.key] = {"edited_rows": {position: {"Ngày hoàn thành": "31/02/2026"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert "Hoạt động I.2: ngày hoàn thành «31/02/2026» không phải một ngày." in [_plain(e.value) for e in at.error]
    assert next(a for a in plan_store.list_activities(db, department.id, 2026) if a.code == "I.2").completed_on == day
    db.dispose()


# ---------------------------------------------------------------- in a real browser

# English that Streamlit 1.67 draws in this app's widgets (found in its frontend bundle), as whole words.
STREAMLIT_ENGLISH = [
    "Upload", "Browse files", "Drag and drop", "per file", "Choose an option", "Choose options", "No options to select",
    "No results", "Select all", "Press Enter", "Ctrl+Enter to apply", "to apply", "submit form", "dd", "mm", "yyyy",
    "Choose date", "Download as CSV", "Search", "Fullscreen", "Show/hide columns", "Add row", "Delete row",
    "Running...", "Deploy", "Main menu", "Help for", "Link to heading", "Increment", "Decrement", "Open", "Sidebar",
    "App pages", "Collapse sidebar", "Sort ascending", "Download plot", "Autoscale", "Reset axes", "Zoom", "Pan",
    "Stop", "Rerun", "Clear all", "Remove", "Hide column", "Pin column", "Autosize", "File must be", "Error:", "Connection error",
]
_ENGLISH = re.compile("|".join(rf"(?<![\w]){re.escape(word)}(?![\w])" for word in STREAMLIT_ENGLISH)
                      + r"|\d\.\d+ ?[KMG]?B\b")  # a file size with a decimal point

# What a person sees: text of visible elements (not the names of Material icons, which the icon font draws as
# pictures), their placeholder/title/aria-label, and generated ::before/::after text.
_VISIBLE_TEXT = """() => {
  const out = [];
  const shown = (e) => e.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || !node.data.trim() || parent.closest('[data-testid="stIconMaterial"], script, style') || !shown(parent)) continue;
    out.push(node.data.trim());
  }
  for (const e of document.body.querySelectorAll('*')) {
    if (!shown(e)) continue;
    for (const name of ['placeholder', 'title', 'aria-label', 'data-title']) { const v = e.getAttribute(name); if (v) out.push(v); }
    for (const pseudo of ['::before', '::after']) {
      const content = getComputedStyle(e, pseudo).content;
      if (content && content !== 'none' && content !== 'normal') out.push(content);
    }
  }
  return out;
}"""


def _english_on(page, where: str, seen: dict[str, str]) -> None:
    for text in page.evaluate(_VISIBLE_TEXT):
        match = _ENGLISH.search(text)
        if match:
            seen.setdefault(f"{where}: «{text[:80]}»", match.group(0))


@pytest.mark.browser
def test_every_page_shows_vietnamese_only(tmp_path):
    from playwright.sync_api import sync_playwright

    from scoring.access import accounts
    from scoring.access.auth import Role
    from scoring.store.db import Database, Settings
    from scoring.store.workspace import ensure_default_workspace

    _require_chromium()
    db = Database(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'cchc.db'}"))
    workspace = ensure_default_workspace(db)
    accounts.create_account(db, "quantri", role=Role.ADMIN, password=PASSWORD, department_ids=[workspace.department_id],
                            actor=actors.SYSTEM_ACTOR)
    first = plan_store.list_activities(db, workspace.department_id, 2026)[0]
    plan_store.update_activity(db, first.id, first.version, actor=actors.SYSTEM_ACTOR, status="hoan_thanh")  # its date: today
    db.dispose()
    seen: dict[str, str] = {}
    serving = _serve(tmp_path, auth="on")
    url = next(serving)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = _sign_in(browser, url, "quantri", size=(1366, 768))
            pages = {title: address for _file, title, address in _pages()}
            projector = pages.pop("Trình chiếu")  # it has no menu to leave it by: it comes last
            for title, address in pages.items():
                _go(page, title, address)
                _check_page(page, title, seen)
                if title == "Kế hoạch":
                    _check_plan_date_editor(page, seen)
                    _check_column_menu(page, seen)
                    _shot(page, "ke-hoach-tieng-viet-1366x768.png")
            page.set_viewport_size({"width": 1920, "height": 1080})
            _go(page, "Tài liệu kiểm chứng", pages["Tài liệu kiểm chứng"])
            page.get_by_role("tab", name="Thêm tài liệu").click()
            page.wait_for_timeout(500)
            _english_on(page, "Tài liệu kiểm chứng 1920×1080", seen)
            _check_chosen_files(page, tmp_path, seen)
            _shot(page, "tai-lieu-tieng-viet-1920x1080.png")
            _go(page, "Trình chiếu", projector)
            _check_page(page, "Trình chiếu", seen)
            browser.close()
    finally:
        next(serving, None)  # stops the server
    assert not seen, seen
    assert {"Tải về tệp CSV", "Tìm", "Toàn màn hình"} <= TOOLTIPS, TOOLTIPS


def _go(page, title: str, address: str) -> None:
    """Open a page from the menu, inside the signed-in session."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_function(f"() => location.pathname.endsWith({'/' + address!r})"  # the first page also lives at /
                           + (" || location.pathname === '/'" if address == _pages()[0][2] else ""), timeout=30000)
    page.wait_for_timeout(500)
    _settled(page)


def _check_page(page, title: str, seen: dict[str, str]) -> None:
    """Each tab in turn, its expanders open, then what shows on demand."""
    tabs = page.locator('[data-testid="stMain"]').get_by_role("tab")
    for tab in range(max(tabs.count(), 1)):
        where = title if not tabs.count() else f"{title} › {tabs.nth(tab).inner_text()}"
        if tabs.count():
            tabs.nth(tab).click()
            page.wait_for_timeout(300)
        _open_expanders(page)
        _english_on(page, where, seen)
        _check_popups(page, where, seen)


def _open_expanders(page) -> None:
    summaries = page.locator('[data-testid="stMain"] [data-testid="stExpander"] details > summary')
    for i in range(summaries.count()):
        summary = summaries.nth(i)
        if summary.is_visible() and summary.evaluate("e => !e.parentElement.open"):
            summary.click()
            page.wait_for_timeout(200)
    _settled(page)


TOOLTIPS: set[str] = set()  # the table toolbar's tooltips the walk saw: proof that it looked at them


def _check_popups(page, where: str, seen: dict[str, str]) -> None:
    """What shows only on demand: a select's list (and its empty result), a text field's hint once typed into,
    a table's toolbar tooltips, a date box's calendar."""
    select = page.locator('[data-testid="stMain"] [data-testid="stMultiSelect"], [data-testid="stMain"] [data-testid="stSelectbox"]')
    for i in range(min(select.count(), 2)):
        if not select.nth(i).is_visible() or select.nth(i).locator("input[disabled]").count():
            continue
        select.nth(i).click()
        page.wait_for_timeout(400)
        _english_on(page, f"{where} (danh sách)", seen)
        page.keyboard.type("zzzz")
        page.wait_for_timeout(400)
        _english_on(page, f"{where} (không có kết quả)", seen)
        page.keyboard.press("Escape")
    text = page.locator('[data-testid="stMain"] [data-testid="stTextInput"] input:not([disabled])')
    if text.count() and text.first.is_visible():
        text.first.click()
        text.first.press("End")
        page.keyboard.type("x")
        page.wait_for_timeout(300)
        _english_on(page, f"{where} (ô nhập)", seen)
        page.keyboard.press("Backspace")
    tables = [t for t in page.locator('[data-testid="stElementContainer"]:has([data-testid="stDataFrame"])').all() if t.is_visible()]
    for table in tables[:1]:
        table.locator('[data-testid="stElementToolbar"]').evaluate("e => e.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(300)
        buttons = table.locator('[data-testid="stElementToolbarButton"] button')
        for i in range(buttons.count()):
            area = table.bounding_box()
            page.mouse.move(area["x"] + 40, area["y"] + 60)  # the toolbar shows while the pointer is over the table
            page.wait_for_timeout(200)
            box = buttons.nth(i).bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_function("() => document.querySelector('[data-testid=stTooltipContent]')", timeout=5000)  # after a second
            TOOLTIPS.update(page.locator('[data-testid="stTooltipContent"]').all_inner_texts())
            _english_on(page, f"{where} (nút trên bảng)", seen)
    calendar = page.locator('[data-testid="stDateInputCalendarButton"]:not([disabled])')
    if calendar.count() and calendar.first.is_visible():
        calendar.first.click()
        page.wait_for_timeout(500)
        _english_on(page, f"{where} (lịch)", seen)
        page.keyboard.press("Escape")
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)


def _check_plan_date_editor(page, seen: dict[str, str]) -> None:
    """The plan table's completion date reads, opens and is typed day first, whatever the browser's language."""
    date_column = 6  # Mã, Hoạt động, Chủ trì, Hạn, Trạng thái, Tiến độ (%), Ngày hoàn thành
    today = local_today()
    if _plan_cell(page, "I.1", date_column) != today.strftime("%d/%m/%Y"):
        seen[f"Kế hoạch: ngày hoàn thành hiện «{_plan_cell(page, 'I.1', date_column)}»"] = "dd/mm/yyyy"
    day = today - timedelta(days=40)
    _edit_plan_cell(page, 0, date_column, f"{day.day}/{day.month}/{day.year}")
    page.wait_for_function("() => document.body.innerText.includes('Đã lưu hoạt động I.1')", timeout=30000)
    _settled(page)
    if _plan_cell(page, "I.1", date_column) != day.strftime("%d/%m/%Y"):
        seen[f"Kế hoạch: ngày vừa gõ hiện «{_plan_cell(page, 'I.1', date_column)}»"] = "dd/mm/yyyy"


def _check_column_menu(page, seen: dict[str, str]) -> None:
    """A table column's menu (sort, pin, hide…), opened from its header as a person does."""
    table = page.locator('[data-testid="stElementContainer"]:has([data-testid="stDataFrame"])').first
    table.locator('[data-testid="stElementToolbar"]').evaluate("e => e.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    box = table.locator('[data-testid="stDataFrame"]').bounding_box()
    page.mouse.move(box["x"] + 40, box["y"] + 17)  # over the first column's header: its menu button (⋮) shows
    page.wait_for_timeout(300)
    page.mouse.click(box["x"] + 60, box["y"] + 17)  # the button, at the right of the small first column
    page.wait_for_selector('[role="menu"]', timeout=10000)
    _english_on(page, "Kế hoạch (trình đơn cột)", seen)
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)


def _check_chosen_files(page, folder: Path, seen: dict[str, str]) -> None:
    """A file chosen in the uploader (its name, size, remove button), and one over the limit (its refusal)."""
    small, large = folder / "ke-hoach.pdf", folder / "bao-cao-24mb.pdf"
    small.write_bytes(b"%PDF-1.4\n" + bytes(1500))
    large.write_bytes(b"%PDF-1.4\n" + bytes(24 * 1024 * 1024))
    uploader = page.locator('[data-testid="stMain"] [data-testid="stFileUploaderDropzoneInput"]').first
    for chosen in (small, large):
        uploader.set_input_files(str(chosen))
        page.wait_for_selector(f'[data-testid="stFileChipName"][title="{chosen.name}"]', timeout=10000)
        page.wait_for_timeout(800)
        _english_on(page, f"Tài liệu kiểm chứng (tệp {chosen.name})", seen)

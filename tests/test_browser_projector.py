"""The projector in a real browser: a presenter's clicker and the keyboard move between screens, Esc leaves,
and the screen follows the room (a score saved elsewhere appears without anyone touching it)."""

from __future__ import annotations

import re

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

    from scoring.store import actors, assessment_state, assessment_store, criteria_store, department_store
    from scoring.store.db import open_database, settings_from_env

    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{server}/trinh-chieu")
    _settled(page)
    shown = page.locator('[data-testid="stMetric"]').filter(has_text="Điểm tự chấm").locator('[data-testid="stMetricValue"]')
    before = shown.inner_text()
    db = open_database(settings_from_env({"CCHC_DATA_DIR": server_data_dir(server)}))
    department = department_store.list_departments(db)[0]
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    leaf = criteria_store.load_criteria(db, assessment.criteria_set_id).node("1.4")
    current = assessment_store.list_scores(db, assessment.id).get("1.4")
    assessment_store.save_self_score(db, assessment.id, "1.4", current.version if current else 0, inputs={"tier": leaf.rule.tiers[0].label},
                         explanation="Đã đối chiếu", actor="Văn phòng")
    db.dispose()
    page.wait_for_function(f"() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() !== '' ) "
                           f"&& ![...document.querySelectorAll('[data-testid=stMetricValue]')].map(e => e.innerText.trim()).includes({before!r})",
                           timeout=15000)  # nobody touched the projector
    assert shown.inner_text() != before
    assert Decimal(shown.inner_text().split("/")[0].replace(",", ".")) > Decimal(before.split("/")[0].replace(",", "."))
    page.close()


# A province: the group «Sở» of 14 departments (more than one screen holds), «Ban, ngành» of 3, two years published,
# long names, two ties. (name, group, 2026's points of 1.1 and 1.2 or None: not published, 2025's or None)
PROVINCE = [
    ("Sở Kế hoạch và Đầu tư", "Sở", (4, 3), (4, 2.5)), ("Sở Tài chính", "Sở", (4, 2.5), (4, 3)),
    ("Sở Xây dựng", "Sở", (4, 2.5), (3, 2)), ("Sở Giáo dục và Đào tạo", "Sở", (3.5, 3), None),
    ("Sở Tài nguyên và Môi trường", "Sở", (3.5, 2), (4, 1.5)), ("Sở Nông nghiệp và Phát triển nông thôn", "Sở", (3, 3), (2, 2)),
    ("Sở Lao động - Thương binh và Xã hội", "Sở", (3, 2.5), (3, 3)), ("Sở Giao thông vận tải", "Sở", (3, 2), (3.5, 2)),
    ("Sở Công Thương", "Sở", (2.5, 2), (2, 1)), ("Sở Y tế", "Sở", (2.5, 1.5), (4, 2)), ("Sở Tư pháp", "Sở", (2, 2), (2, 2.5)),
    ("Sở Văn hóa, Thể thao và Du lịch", "Sở", (2, 1), (1.5, 1)), ("Sở Khoa học và Công nghệ", "Sở", (1.5, 1), None),
    ("Sở Thông tin và Truyền thông", "Sở", None, (3, 2)),
    ("Ban Quản lý các khu công nghiệp, khu kinh tế và khu chế xuất tỉnh", "Ban, ngành", (4, 2), (3, 2)),
    ("Ban Dân tộc", "Ban, ngành", (4, 2), (4, 3)), ("Thanh tra tỉnh", "Ban, ngành", None, None),
]


def seed_published_ranking(db) -> None:
    """PROVINCE's departments, groups and published years (scored, locked, appraised, published: scoring.province.ranking's
    only figures), on the criteria set of tests/test_cycle_store.py."""
    from scoring.criteria.files import criteria_set_from_dict
    from scoring.province import groups
    from scoring.store import actors, assessment_state, assessment_store, criteria_store, department_store
    from tests.test_cycle_store import CYCLE_SET
    from tests.test_ranking import _published

    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    group_ids = {name: groups.create_group(db, name, actor=actors.SYSTEM_ACTOR) for name in ("Sở", "Ban, ngành")}
    for name, group, now, before in PROVINCE:
        department_id = department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
        version = next(d.version for d in department_store.list_departments(db) if d.id == department_id)
        groups.assign_group(db, department_id, version, group_ids[group], actor=actors.SYSTEM_ACTOR)
        for year, points in ((2025, before), (2026, now)):
            if points is not None:
                _published(db, department_id, set_id, year, *points)


def server_data_dir(url: str) -> str:
    """The data folder of the module's server (tests/test_browser.py starts it with CCHC_DATA_DIR)."""
    import test_browser

    return str(test_browser.SERVER_DATA_DIRS[url])


# What the room reads on each screen: nothing scrolls, no text runs past its box, no chart text past its chart.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const shown = e => e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden';
  const name = e => (e.innerText || e.textContent || '').trim().slice(0, 60);
  if (document.documentElement.scrollHeight > innerHeight + 1) problems.push('trang cuộn dọc');
  if (document.documentElement.scrollWidth > innerWidth + 1) problems.push('trang tràn ngang');
  for (const e of document.querySelectorAll('[data-testid=stMain], [data-testid=stAppViewContainer], .block-container')) {
    if (e.scrollHeight > e.clientHeight + 1) problems.push(`khung ${e.dataset.testid || e.className} cuộn dọc (${e.scrollHeight} > ${e.clientHeight})`);
  }
  const texts = 'h1, h2, h3, button p, button span, [data-testid=stMetricLabel] p, [data-testid=stMetricValue] div, '
    + '[data-testid=stMetricDelta] div, [data-testid=stCaptionContainer], [data-testid=stMarkdownContainer] p, '
    + '[data-testid=stMarkdownContainer] li, [data-testid=stWidgetLabel] p';
  for (const e of document.querySelectorAll(texts)) {
    if (!shown(e) || !name(e) || e.closest('.st-key-slide-arrow-keys')) continue;
    if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) problems.push(`chữ tràn khung: «${name(e)}»`);
    const box = e.getBoundingClientRect();
    if (box.bottom > innerHeight + 1 || box.right > innerWidth + 1) problems.push(`ngoài màn hình: «${name(e)}»`);
  }
  for (const chart of document.querySelectorAll('[data-testid=stPlotlyChart]')) {
    if (!shown(chart)) continue;  // drawn for another size of screen
    const frame = chart.querySelector('.main-svg').getBoundingClientRect();
    if (frame.bottom > innerHeight + 1) problems.push('biểu đồ ngoài màn hình');
    for (const t of chart.querySelectorAll('text')) {
      const text = t.textContent.trim();
      if (!text) continue;
      const box = t.getBoundingClientRect();
      if (box.left < frame.left - 1 || box.right > frame.right + 1 || box.top < frame.top - 1 || box.bottom > frame.bottom + 1)
        problems.push(`chữ biểu đồ bị cắt ở mép: «${text}»`);
      if (text.endsWith('…')) problems.push(`tên bị cắt bằng «…»: «${text}»`);
    }
  }
  return problems;
}"""

CHART_FONT_SIZES = """() => [...document.querySelectorAll('[data-testid=stPlotlyChart] text')]
  .filter(t => t.textContent.trim() && t.getClientRects().length).map(t => [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize)])"""


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)])
def test_every_projector_screen_fits_the_rooms_screens(server, browser, size):
    """Every screen (the summary, each area, then the ranking, here of the one department, not published) at each
    meeting room's resolution: no scrolling, nothing cut,
    the buttons whole; at 1920×1080 every chart text is at least 18 px, readable from the back of the room."""
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{server}/trinh-chieu")
    _settled(page)
    screens = int(re.search(r"màn hình 1/(\d+)", page.inner_text("body")).group(1))
    problems = {}
    for screen in range(1, screens + 1):
        title = _title(page)
        if found := _screen_problems(page, width):
            problems[f"{screen}. {title}"] = found
        _shot(page, f"trinh-chieu-{screen}-{width}x{height}.png")
        if screen < screens:
            page.keyboard.press("PageDown")
            _wait_screen(page, screen + 1, screens)
    page.close()
    assert not problems, f"{width}×{height}: " + "; ".join(f"{k}: {v}" for k, v in problems.items())


def _wait_screen(page, number: int, screens: int) -> None:
    """Until the projector shows its screen `number` of `screens` (the caption beside the buttons says which)."""
    page.wait_for_function(f"() => document.body.innerText.includes('màn hình {number}/{screens}')", timeout=30000)
    _settled(page)


def _screen_problems(page, width: int) -> list[str]:
    """LAYOUT_PROBLEMS, the three buttons whole, and at 1920 wide every chart text at least 18 px."""
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stPlotlyChart] .main-svg')]"
                           ".some(e => e.getClientRects().length) || document.querySelector('[data-testid=stAlert]')",
                           timeout=30000)  # plotly loads lazily; a group with nothing published has no chart
    page.wait_for_timeout(500)
    found = page.evaluate(LAYOUT_PROBLEMS)
    for label in ("Trước", "Tiếp", "Thoát"):
        if not page.get_by_role("button", name=label).first.is_visible():
            found.append(f"không thấy nút «{label}»")
    if width == 1920:
        found += [f"chữ biểu đồ {size:g} px < 18 px: «{text}»" for text, size in page.evaluate(CHART_FONT_SIZES) if size < 18]
    return list(dict.fromkeys(found))


@pytest.fixture(scope="module")
def province_server(tmp_path_factory):
    """A server (sign-in off) on a data folder holding PROVINCE's published ranking beside the default department."""
    from test_browser import _require_chromium, _serve

    from scoring.store.db import Database, Settings
    from scoring.store.workspace import ensure_default_workspace

    _require_chromium()
    data_dir = tmp_path_factory.mktemp("browser-province")
    db = Database(Settings(data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'cchc.db'}"))
    ensure_default_workspace(db)
    seed_published_ranking(db)
    db.dispose()
    yield from _serve(data_dir, auth="off")


RANKING_TITLES = ("Xếp hạng năm", "Tăng, giảm hạng")


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)])
def test_every_ranking_screen_fits_the_rooms_screens(province_server, browser, size):
    """The province's ranking screens, after the department's (the clicker goes back from the summary to the last):
    a group of 14 over two screens, ties sharing a rank, the movement since the year before; at each meeting room's
    resolution nothing scrolls or is cut, and at 1920×1080 every chart text is at least 18 px."""
    width, height = size
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{province_server}/trinh-chieu")
    _settled(page)
    screens = int(re.search(r"màn hình 1/(\d+)", page.inner_text("body")).group(1))
    page.mouse.click(5, 300)
    problems, titles, number = {}, [], screens
    page.keyboard.press("PageUp")  # before the summary: the last screen
    while True:
        _wait_screen(page, number, screens)
        title = _title(page)
        if not title.startswith(RANKING_TITLES):
            break
        titles.append(title)
        if found := _screen_problems(page, width):
            problems[f"{number}. {title}"] = found
        if title == "Xếp hạng năm 2026: Sở (1/2)":
            shown = page.evaluate("() => [...document.querySelectorAll('[data-testid=stPlotlyChart] .ytick text')]"
                                  ".filter(t => t.getClientRects().length).sort((a, b) => a.getBoundingClientRect().top"
                                  " - b.getBoundingClientRect().top).map(t => t.textContent.trim())")  # top to bottom
            assert shown[:4] == ["1. Sở Kế hoạch và Đầu tư", "2. Sở Giáo dục và Đào tạo", "2. Sở Tài chính", "2. Sở Xây dựng"]
        _shot(page, f"trinh-chieu-xep-hang-{number}-{width}x{height}.png")
        page.keyboard.press("PageUp")
        number -= 1
    page.close()
    assert titles == ["Tăng, giảm hạng: năm 2026 so với năm 2025 (2/2)", "Tăng, giảm hạng: năm 2026 so với năm 2025 (1/2)",
                      "Xếp hạng năm 2026: Chưa xếp nhóm", "Xếp hạng năm 2026: Sở (2/2)", "Xếp hạng năm 2026: Sở (1/2)",
                      "Xếp hạng năm 2026: Ban, ngành"]  # the groups by name, departments in none last
    assert not problems, f"{width}×{height}: " + "; ".join(f"{k}: {v}" for k, v in problems.items())

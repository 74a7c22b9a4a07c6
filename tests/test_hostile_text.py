"""User and imported text never becomes a link, an image or markup on screen (issue 15).

Hostile text is seeded into every kind of text the app draws — the plan (activity texts, outputs, units, area
names), the criteria set (names, tier labels, units, expected evidence), the department and its units, evidence
titles, explanations — and every page is checked: in what Streamlit draws as Markdown (markdown, captions,
alerts, widget labels, radio and segmented-control options, expander, tab and metric labels, help) no link,
image or tag from the data survives unescaped. tests/test_robustness.py checks the same for the criteria text
alone; tests/test_browser.py-style test at the end checks it in a real browser, with every request recorded.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from benchmarks.generate import small_pdf
from scoring.criteria.files import criteria_set_from_dict, load_criteria_set
from scoring.defaults import bundled_criteria_path
from scoring.plan.importer import load_plan_bytes
from scoring.store import (
    assessment_state,
    assessment_store,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.db import open_database
from scoring.store.workspace import ensure_default_workspace

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
SEED_PLAN = ROOT / "data" / "ke-hoach-cchc-2026.txt"

# Every address points at a port nothing listens on, or at a reserved name: a request for one is a failure.
DATA_HOST = "127.0.0.1:9"
IMAGE = f"![ảnh](http://{DATA_HOST}/img.png)"
LINK = f"[liên kết](http://{DATA_HOST}/)"
BARE_URL = f"http://{DATA_HOST}/a"
WWW = "www.example.com"
EMAIL = "hop.thu@example.com"
IMG_TAG = f"<img src=http://{DATA_HOST}/tag.png onerror=alert(1)>"
SCRIPT = "<script>alert(1)</script>"
BOLD = "**đậm**"
FORMULA = f'=HYPERLINK("http://{DATA_HOST}/f";"y")'
HOSTILE = " ".join((IMAGE, LINK, BARE_URL, WWW, EMAIL, IMG_TAG, SCRIPT, BOLD, FORMULA))
# a unit is one cell of "Chủ trì": no comma, semicolon or " và " (they separate units)
HOSTILE_UNIT = f"Phòng {IMAGE} {LINK} {BARE_URL} {WWW} {IMG_TAG} {BOLD}"
TIER_LEAF, COUNT_LEAF, DEDUCTION_LEAF = "1.1.1", "1.3.2", "1.2.3"


def hostile(what: str) -> str:
    return f"{what} {HOSTILE}"


def _walk(node: dict):
    yield node
    for child in node.get("children", []):
        yield from _walk(child)


def hostile_criteria() -> dict:
    document = load_criteria_set(bundled_criteria_path()).to_dict()
    document["name"] = hostile("Bộ tiêu chí")
    for area in document["nodes"][:2]:
        area["name"] = hostile(f"Lĩnh vực {area['code']}")
    nodes = {node["code"]: node for area in document["nodes"] for node in _walk(area)}
    nodes["1.1"]["name"] = hostile("Nhóm")
    leaf = nodes[TIER_LEAF]
    leaf["name"], leaf["evidence"] = hostile("Tiêu chí"), hostile("Tài liệu cần có")
    for number, tier in enumerate(leaf["rule"]["tiers"]):
        tier["label"] = hostile(f"Mức {number + 1}")
    nodes[COUNT_LEAF]["rule"]["unit"] = f"văn bản {IMAGE} {BARE_URL}"
    nodes[DEDUCTION_LEAF]["rule"]["unit"] = f"lần {LINK} {WWW}"
    return document


def hostile_plan_bytes() -> bytes:
    """The bundled plan with its first area, first activity, its output and lead unit made hostile."""
    text = SEED_PLAN.read_text(encoding="utf-8")
    replacements = [
        ("CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH (", f"CHỈ ĐẠO {HOSTILE_UNIT} ("),
        ("Hoạt động 01: Ban hành Kế hoạch tuyên truyền CCHC năm 2026", f"Hoạt động 01: {HOSTILE}"),
        ("\tKế hoạch\tVăn phòng\tCác phòng thuộc Sở\tTháng 1 - 2", f"\t{hostile('Sản phẩm')}\t{HOSTILE_UNIT}\tCác phòng thuộc Sở\tTháng 1 - 2"),
        ("Mục tiêu 01: Công tác tuyên truyền", f"Mục tiêu 01: {HOSTILE} Công tác tuyên truyền"),
    ]
    for old, new in replacements:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text.encode("utf-8")


def seed_hostile_year(db) -> dict:
    """The default workspace's 2026 with hostile text everywhere; returns what the tests look for."""
    ensure_default_workspace(db)
    department = department_store.list_departments(db)[0]
    department_store.update_department(db, department.id, department.version, name=hostile("Sở"),
                           units=[*department.units, HOSTILE_UNIT], actor="an")
    year = 2026
    plan = load_plan_bytes("ke-hoach-doc-hai.txt", hostile_plan_bytes())
    plan_store.save_plan(db, department.id, plan, actor="an", year=year)
    assessment = assessment_state.get_assessment(db, department.id, year)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(hostile_criteria(), source_name="bo-tieu-chi-doc-hai.yaml"), actor="an")
    assessment_store.switch_criteria_set(db, assessment.id, assessment.settings_version, criteria_set_id=set_id, actor="an")
    same_title = evidence_store.EvidenceInput(doc_type="Báo cáo", number="12/BC", summary=hostile("Trích yếu"))
    # a file name keeps no "/" (it is cut there), so no address: its text is what the download button shows
    documents = [evidence_store.add_evidence(db, department.id, year, same_title, actor="an", criteria=[TIER_LEAF],
                                   upload=(f"bao-cao {BOLD} {WWW} {EMAIL} {n}.pdf", small_pdf(f"bao cao {n}"))) for n in range(2)]
    assert documents[0].title == documents[1].title
    evidence_store.add_evidence(db, department.id, year, evidence_store.EvidenceInput(doc_type="Kế hoạch", number="1/KH", issuer=hostile("Nơi ban hành"),
                                                                 summary=hostile("Văn bản")),
                      actor="an", criteria=[TIER_LEAF], activity_codes=["I.1"], attachment=evidence_store.ATTACH_NUMBER)
    assessment_store.save_self_score(db, assessment.id, TIER_LEAF, 0, inputs={"tier": 0}, explanation=hostile("Giải trình"), actor="an")
    return {"department_id": department.id, "assessment_id": assessment.id, "documents": [d.id for d in documents]}


@pytest.fixture
def hostile_year():
    """The app's own data folder (CCHC_DATA_DIR from conftest), seeded with hostile text."""
    db = open_database()
    seeded = seed_hostile_year(db)
    yield db, seeded
    db.dispose()


# ---------------------------------------------------------------- what Streamlit draws as Markdown

_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_UNESCAPED_SYNTAX = re.compile(
    r"(?<!\\)!\[|(?<!\\)\]\(|(?<!\\)<(?:img|script|a)\b|(?<!\\)\*\*đậm|(?<!\\)\[liên kết", re.IGNORECASE)
# what remark-gfm links by itself, found in the text once its escapes are read
_AUTOLINKED = re.compile(r"https?://|www\.|[\w.+-]@[\w-]+\.", re.IGNORECASE)


_DATA_MARK = re.compile(r"HYPERLINK|liên kết|đậm")


def live_markup(text: str) -> list[str]:
    """The link, image or tag syntax from the data that Streamlit's Markdown would make live in `text`."""
    return _UNESCAPED_SYNTAX.findall(text) + _AUTOLINKED.findall(_ESCAPE.sub(r"\1", text))


# proto fields Streamlit renders as Markdown; selectbox and multiselect options, text values and table cells are
# drawn as plain text and are not here
_MARKDOWN_FIELDS = {"body", "label", "help", "caption"}
_MARKDOWN_OPTIONS = {"Radio": "options", "Option": "content"}  # radio options; segmented control, pills (ButtonGroup)


def _markdown_texts(message, where: str):
    from google.protobuf.message import Message

    kind = type(message).__name__
    for field, value in message.ListFields():
        name, here = field.name, f"{where}.{field.name}"
        values = [value] if isinstance(value, (str, bytes, Message, int, float, bool)) else list(value)  # repeated
        for item in values:
            if isinstance(item, Message):
                yield from _markdown_texts(item, here)
            elif isinstance(item, str) and (name in _MARKDOWN_FIELDS or _MARKDOWN_OPTIONS.get(kind) == name):
                yield here, item


def drawn_markdown(at) -> list[tuple[str, str]]:
    """(where, text) of every text in the page's element tree that Streamlit renders as Markdown."""
    found: list[tuple[str, str]] = []

    import ui

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and not (type(proto).__name__ == "Html" and proto.body == ui.VIETNAMESE_WIDGET_HTML):  # static, no data
            found.extend(_markdown_texts(proto, type(proto).__name__))
        for child in (getattr(node, "children", None) or {}).values():
            visit(child)

    visit(at._tree)
    return found


# st.html is HTML, not Markdown (Tổng quan's charts, scoring.charts_html): there, "](" or "**" is text; what would be
# live is a tag or attribute the page did not write itself
_OUR_HTML_TAGS = {"figure", "figcaption", "div", "span", "br", "style"}  # "style": the pages' own static CSS
_OUR_HTML_ATTRIBUTES = {"style", "title", "role", "aria-label"}


def live_html(text: str) -> list[str]:
    """Tags and attributes in an st.html block that are not the app's own."""
    from html.parser import HTMLParser

    hits: list[str] = []

    class Tags(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag not in _OUR_HTML_TAGS:
                hits.append(f"<{tag}")
            hits.extend(name for name, _ in attrs if name not in _OUR_HTML_ATTRIBUTES)

    Tags().feed(text)
    return hits


def live_markup_on(at) -> list[tuple[str, str, list[str]]]:
    return [(where, text, hits) for where, text in drawn_markdown(at)
            if (hits := (live_html(text) if where == "Html.body" else live_markup(text)))]


def test_the_checker_sees_raw_text_and_passes_escaped_text():
    import ui
    from scoring.charts_html import html_lines

    assert live_html(f"<div>{HOSTILE}</div>") and live_html("<figure><a href='x'>y</a></figure>") == ["<a", "href"]
    assert live_html(f"<div style='x'>{html_lines(HOSTILE)}</div>") == []

    assert live_markup(HOSTILE)
    for piece in (IMAGE, LINK, BARE_URL, WWW, EMAIL, IMG_TAG, SCRIPT, BOLD):
        assert live_markup(piece), piece
        assert live_markup(ui.md(piece)) == [], piece
        assert live_markup(ui.label(piece)) == [], piece
    assert live_markup("Chấm điểm **Tổng hợp** - [1] (2)") == []  # the app's own Markdown is not the data's


def test_escaped_text_reads_as_typed():
    import ui

    unescaped = _ESCAPE.sub(r"\1", ui.md(HOSTILE)).replace(ui.WORD_JOINER, "")
    assert unescaped == HOSTILE
    assert ui.label("a\nb  c") == "a b c"


def test_distinct_options_tell_repeated_texts_apart():
    import ui

    show = ui.distinct_options([1, 2, 3], {1: "Báo cáo", 2: "Kế hoạch", 3: "Báo cáo"}.get)
    assert [show(i) for i in (1, 2, 3)] == ["Báo cáo", "Kế hoạch", "Báo cáo (2)"]
    radio = ui.distinct_options(["a"], lambda s: f"{s} {LINK}", markdown=True)
    assert live_markup(radio("a")) == []


def _app():
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page(path: str, **state):
    at = _app()
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page(path)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _pages() -> list[str]:
    source = (ROOT / "app.py").read_text(encoding="utf-8")
    return re.findall(r'\("(views/[a-z_]+\.py)"', source)


def test_every_page_is_listed():
    # a module a page imports (`from views import criteria_import`) is part of that page, not a page of its own
    sources = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "views").glob("*.py"))
    parts = {f"views/{name.strip()}.py" for names in re.findall(r"^from views import ([\w, ]+)", sources, re.MULTILINE)
             for name in names.split(",")}
    assert sorted(_pages()) == sorted(f"views/{path.name}" for path in (ROOT / "views").glob("*.py")
                                      if f"views/{path.name}" not in parts)
    assert len(_pages()) == 8


@pytest.mark.parametrize("path", _pages())
def test_no_hostile_text_becomes_markup_on_any_page(hostile_year, path):
    # Chấm điểm's two panels draw their text only while open
    at = _page(path, **({"lock-panel-open": True, "cycle-panel-open": True} if path.endswith("cham_diem.py") else {}))
    # the export page draws no data as Markdown (its file preview aside), the province page only in its table
    if not path.endswith(("xuat_tep.py", "cac_co_quan.py")):
        assert any(_DATA_MARK.search(text) for _, text in drawn_markdown(at)), "the hostile text is drawn on the page"
    found = live_markup_on(at)
    if path.endswith("trinh_chieu.py"):  # the projector opens on the summary; the hostile area is the next slide
        at.button(key="slide-next").click().run()
        assert not at.exception
        assert "HYPERLINK" in at.title[0].value
        found += live_markup_on(at)
    assert found == []


def test_the_scoring_page_shows_the_hostile_texts(hostile_year):
    """The checks above look where the data is drawn: tier options, units, evidence, explanation, headings."""
    at = _page("views/cham_diem.py")
    places = set()
    for area in at.selectbox(key="score-area").options:  # only the open criterion draws its inputs: open each
        at.selectbox(key="score-area").set_value(area.split(".")[0] if "." in area else area).run()
        places |= {where for where, text in drawn_markdown(at) if _DATA_MARK.search(text)}
        for code in [b.key.removeprefix("score-open-") for b in at.button if b.key and b.key.startswith("score-open-")]:
            at.button(key=f"score-open-{code}").click().run()
            places |= {where for where, text in drawn_markdown(at) if _DATA_MARK.search(text)}
    assert any(w.startswith("Radio") and w.endswith(".options") for w in places), places
    assert any(w.startswith("NumberInput") for w in places), places  # the count and deduction units
    assert any(w.startswith("Markdown") for w in places), places


def test_a_criterion_not_open_shows_its_hostile_name_inert_in_its_one_button(hostile_year):
    at = _page("views/cham_diem.py")
    at.button(key="score-open-1.1.2").click().run()  # another criterion open: the hostile one is a row
    assert not at.exception
    label = at.button(key=f"score-open-{TIER_LEAF}").label
    assert "HYPERLINK" in label and "liên kết" in label
    assert live_markup(label) == []
    # the facts sit in a :small[…] directive: the data's brackets are escaped, so none of them closes it early
    assert label.count(":small[") == 1 and label.endswith("]") and "]" not in label.replace("\\]", "")[:-1]


def test_plan_and_criteria_previews_keep_the_file_text_inert(hostile_year):
    at = _page("views/ke_hoach.py")
    at.file_uploader(key="plan-upload").set_value(("ke-hoach-doc-hai.txt", hostile_plan_bytes(), "text/plain"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(s.value.startswith("Đọc được") for s in at.success)  # the preview (its tables are plain text)
    assert any(_DATA_MARK.search(text) for _, text in drawn_markdown(at))
    assert live_markup_on(at) == []

    at = _page("views/cau_hinh.py")
    document = json.dumps(hostile_criteria(), ensure_ascii=False).encode()
    uploader = next(u for u in at.file_uploader if u.key and u.key.endswith("-upload"))
    uploader.set_value(("bo-tieu-chi-doc-hai.json", document, "application/json"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("HYPERLINK" in text for _, text in drawn_markdown(at))
    assert live_markup_on(at) == []


def test_messages_built_from_typed_names_are_inert(hostile_year):
    import ui

    at = _app()
    at.session_state[ui.FLASH_KEY] = [("success", f"Đã lưu tài liệu «{HOSTILE}».")]
    at.run()
    assert any("HYPERLINK" in s.value for s in at.success)
    assert live_markup_on(at) == []



def _chart_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _chart_strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _chart_strings(item)


def test_chart_text_from_the_data_is_drawn_literally(hostile_year):
    """Plotly reads tags in every text it draws (titles, tick labels, bar texts, hover labels: <a href>, <b>…);
    the only tags in the charts are the line breaks and hover boxes the charts make themselves."""
    from scoring import charts
    from scoring.assessment.snapshot import load_snapshot

    db, seeded = hostile_year
    snap = load_snapshot(db, seeded["department_id"], 2026, with_previous_year=True)
    figures = [charts.completion_by_area_figure(snap), charts.score_by_area_figure(snap), charts.completion_by_unit_figure(snap),
               charts.unit_area_heatmap(snap), charts.area_criteria_figure(snap, "1"), charts.year_comparison_figure(snap)]
    strings = [text for figure in figures for text in _chart_strings(figure.to_plotly_json())]
    assert any("HYPERLINK" in text for text in strings) and any("&lt;script&gt;" in text for text in strings)
    assert [text for text in strings if re.search(r"<(?!br>|extra>|/extra>)", text)] == []

def test_the_overviews_html_charts_write_no_tag_of_the_data(hostile_year):
    """Tổng quan draws its bar charts as HTML (scoring.charts_html): the data's text is shown, never a tag."""
    from html.parser import HTMLParser

    from scoring import charts
    from scoring.assessment.snapshot import load_snapshot
    from scoring.charts_html import bar_figure_html

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.seen: set[str] = set()
            self.attributes: set[str] = set()
            self.text = ""

        def handle_starttag(self, tag, attrs):
            self.seen.add(tag)
            self.attributes.update(name for name, _ in attrs)

        def handle_data(self, data):
            self.text += " " + data  # a long name is on several lines: one word each side of a break

    db, seeded = hostile_year
    snap = load_snapshot(db, seeded["department_id"], 2026, with_previous_year=True)
    tags = Tags()
    for figure in (charts.completion_by_area_figure(snap), charts.score_by_area_figure(snap), charts.year_comparison_figure(snap)):
        tags.feed(bar_figure_html(figure))
    assert tags.seen <= {"figure", "figcaption", "div", "span", "br"}
    assert tags.attributes <= {"style", "title", "role", "aria-label"}
    shown = " ".join(tags.text.split())
    assert SCRIPT in shown and IMG_TAG in shown  # the hostile area names are there, as text


# ---------------------------------------------------------------- options are told apart by what they show


def test_two_documents_with_one_title_both_stay_linked_when_the_tier_changes(hostile_year):
    db, seeded = hostile_year
    at = _page("views/cham_diem.py")
    evidence_key = f"s-{seeded['assessment_id']}-{TIER_LEAF}-evidence"
    linked = at.multiselect(key=evidence_key)
    assert set(seeded["documents"]) <= set(linked.value)
    assert len(set(linked.options)) == len(linked.options), "each document is an option of its own"
    at.radio(key=f"s-{seeded['assessment_id']}-{TIER_LEAF}-tier").set_value(hostile("Mức 2")).run()
    assert not at.exception, [e.value for e in at.exception]
    by_id = {e.id: e for e in evidence_store.list_evidence(db, seeded["department_id"], 2026)}
    assert all(TIER_LEAF in by_id[i].criteria for i in seeded["documents"])
    assert assessment_store.list_scores(db, seeded["assessment_id"])[TIER_LEAF].self_points == Decimal("0.5")  # the tier was saved


# ---------------------------------------------------------------- in a real browser: no request leaves for the data's addresses

# (menu entry, text of the page's heading once it is drawn)
BROWSER_PAGES = [("Tổng quan", "Tổng quan CCHC"), ("Kế hoạch", "Kế hoạch CCHC"), ("Chấm điểm", "Chấm điểm Chỉ số CCHC"),
                 ("Tài liệu kiểm chứng", "Tài liệu kiểm chứng năm"), ("Xuất, nhập tệp", "Xuất, nhập tệp"),
                 ("Cấu hình", "Cấu hình"), ("Trình chiếu", "Chỉ số CCHC năm")]  # the projector hides the menu: last
DATA_ADDRESSES = re.compile(re.escape(DATA_HOST) + r"|example\.com|mailto:", re.IGNORECASE)


def _links_and_images_to_data(page) -> list[str]:
    found = page.eval_on_selector_all(
        "a, img, image, [src], [srcset]",  # plotly's links are SVG <a xlink:href>
        "els => els.map(e => [e.tagName, e.getAttribute('href') || e.getAttribute('xlink:href') || '',"
        " e.getAttribute('src') || '', e.getAttribute('srcset') || ''].join(' '))")
    return [f for f in found if DATA_ADDRESSES.search(f)]


@pytest.mark.browser
def test_in_the_browser_no_request_leaves_and_no_link_or_image_comes_from_the_data(tmp_path):
    from test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium, _serve, _settled, _shot

    from scoring.store.db import Settings

    _require_chromium()
    folder = tmp_path / "hostile-browser"
    db = open_database(Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'cchc.db'}"))
    seed_hostile_year(db)
    db.dispose()
    serving = _serve(folder, auth="off")
    url = next(serving)
    requests: list[str] = []
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.on("request", lambda request: requests.append(request.url))
            page.goto(url)
            _settled(page)
            problems: dict[str, list[str]] = {}
            for entry, heading in BROWSER_PAGES:
                page.locator('[data-testid="stSidebarNav"]').get_by_text(entry, exact=True).click()
                page.wait_for_function(f"() => document.querySelector('h1') && document.querySelector('h1').innerText"
                                       f".includes({heading!r})", timeout=30000)
                _settled(page)
                if entry == "Trình chiếu":  # the hostile area is the second slide
                    page.get_by_role("button", name="Tiếp ▶").click()
                    page.wait_for_function("() => document.querySelector('h1').innerText.includes('HYPERLINK')", timeout=30000)
                    _settled(page)
                if entry == "Chấm điểm":
                    page.get_by_text("Chốt điểm tự chấm — chưa chốt").click()  # the lock panel lists the blockers
                    _settled(page)
                # plotly loads lazily, after the page; the projector draws each chart for three screen sizes and shows one
                if page.locator('[data-testid="stPlotlyChart"]').count():
                    page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg >> visible=true', timeout=30000)
                page.wait_for_timeout(800)
                text = page.inner_text("body")
                assert "Traceback" not in text
                problems[entry] = _links_and_images_to_data(page)
                # the escapes are invisible: the text reads as typed
                problems[entry] += [piece for piece in ("\\[", "\\]", "\\(", "\\!", "\\*", "\\<", "\\:") if piece in text]
                if entry == "Chấm điểm":
                    assert f"=HYPERLINK(\"http://{DATA_HOST}/f\";\"y\")" in text.replace("\u2060", "")
                    page.locator('[data-testid="stRadio"]').first.scroll_into_view_if_needed()
                    _shot(page, "hostile-cham-diem-1366x768.png")
                    # the hostile criterion as a row, another one open: one button whose label reads as typed
                    page.locator(".st-key-score-open-1-1-2 button").click()
                    page.wait_for_selector(".st-key-score-open-1-1-1 button", timeout=30000)
                    _settled(page)
                    row = page.locator(".st-key-score-open-1-1-1 button")
                    assert hostile("Tiêu chí") in row.inner_text().replace("\u2060", ""), row.inner_text()
                    problems[entry] += _links_and_images_to_data(page)
                    problems[entry] += [piece for piece in ("\\[", "\\]", "\\(", "\\!", "\\*", "\\<", "\\:")
                                        if piece in row.inner_text()]
                    row.scroll_into_view_if_needed()
                    _shot(page, "hostile-cham-diem-dong-1366x768.png")
                if entry == "Tài liệu kiểm chứng":
                    _shot(page, "hostile-tai-lieu-1366x768.png")
            browser.close()
    finally:
        next(serving, None)  # stops the server
    assert {entry: found for entry, found in problems.items() if found} == {}
    own = (url, "data:", "blob:", "about:")
    assert [r for r in requests if not r.startswith(own)] == []


def test_appraisal_remarks_and_the_locked_page_stay_inert(hostile_year):
    """Once the self-score is locked and appraised, the remark, the appraiser's name and the source document are
    drawn beside the self-score."""
    from datetime import date

    from scoring.assessment.appraisal import SourceDocument
    from scoring.assessment.snapshot import load_snapshot

    db, seeded = hostile_year
    assessment_id, department_id = seeded["assessment_id"], seeded["department_id"]
    for document in evidence_store.list_evidence(db, department_id, 2026):  # a document needs its number and date to lock
        meta = evidence_store.EvidenceInput(document.doc_type, document.number, date(2026, 3, 1), document.issuer, document.summary)
        evidence_store.update_evidence(db, document.id, document.version, meta, actor="an")
    scores = assessment_store.list_scores(db, assessment_id)
    for leaf in load_snapshot(db, department_id, 2026).leaves():  # all but the hostile criterion: not applicable
        if leaf.code != TIER_LEAF:
            version = scores[leaf.code].version if leaf.code in scores else 0
            assessment_store.save_self_score(db, assessment_id, leaf.code, version, inputs={}, not_applicable=True, actor="an")
    cycle_store.lock_self_score(db, assessment_id, actor="an")
    version = assessment_store.list_scores(db, assessment_id)[TIER_LEAF].version
    assessment_store.save_appraisal(db, assessment_id, TIER_LEAF, version, points="0,5", remark=hostile("Nhận xét"), actor=hostile("Thẩm định viên"),
                        source=SourceDocument(f"25/KQ {LINK}", date(2026, 12, 28)), today=date(2026, 12, 29))
    at = _page("views/cham_diem.py", **{"lock-panel-open": True, "cycle-panel-open": True})
    texts = [text for _, text in drawn_markdown(at)]
    assert any("Nhận xét" in text and "HYPERLINK" in text for text in texts)
    assert any("Thẩm định viên" in text for text in texts)
    assert live_markup_on(at) == []


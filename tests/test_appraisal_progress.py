"""An appraisal in progress is never shown as a result, and the plan's counts agree everywhere.

One assessment, locked and partly appraised: two of area 1's three criteria, nothing of area 2, and area 3's
survey criterion (which counts as appraised by the engine's rules). The partial sums (2,75 for area 1, 4,25
for the whole set) must appear on no page, in no chart and in no export; each says "đang thẩm định k/n"
instead. Once every criterion is appraised the real figures appear, and the table of points cut lists only
the area that lost points. The plan has one activity that does not apply: every count leaves it out.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from streamlit.testing.v1 import AppTest

from scoring.assessment.appraisal import SourceDocument
from scoring.assessment.engine import AppraisalProgress, LeafEntry, roll_up
from scoring.assessment.snapshot import load_snapshot
from scoring.charts import completion_by_area_figure, score_by_area_figure
from scoring.criteria.files import criteria_set_from_dict
from scoring.exports.charts import figure_svg
from scoring.exports.report import write_report
from scoring.exports.summary_pdf import summary_html, write_summary_pdf
from scoring.plan.importer import load_plan
from scoring.plan.stats import STATUS_DONE, STATUS_NOT_APPLICABLE
from scoring.store import actors, assessment_store, criteria_store, cycle_store, department_store, plan_store
from scoring.store.db import open_database

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "ke-hoach-cchc-2026.txt"  # 22 activities
APP = str(ROOT / "app.py")
YEAR = 2026

SET = {
    "name": "Bộ tiêu chí thử thẩm định dở dang",
    "year": YEAR,
    "total_max": 10,
    "nodes": [
        {"code": "1", "name": "Công tác chỉ đạo, điều hành CCHC", "max": 6, "children": [
            {"code": "1.1", "name": "Ban hành kế hoạch CCHC", "max": 2, "rule": {"kind": "value"}},
            {"code": "1.2", "name": "Báo cáo CCHC", "max": 2, "rule": {"kind": "value"}},
            {"code": "1.3", "name": "Tuyên truyền CCHC", "max": 2, "rule": {"kind": "value"}},
        ]},
        {"code": "2", "name": "Cải cách thủ tục hành chính", "max": 2, "children": [
            {"code": "2.1", "name": "Công khai thủ tục hành chính", "max": 1, "rule": {"kind": "value"}},
            {"code": "2.2", "name": "Giải quyết hồ sơ đúng hạn", "max": 1, "rule": {"kind": "value"}},
        ]},
        {"code": "3", "name": "Tác động của CCHC", "max": 2, "children": [
            {"code": "3.1", "name": "Mức độ hài lòng", "max": 2, "rule": {"kind": "survey"}},
        ]},
    ],
}
# Self: area 1 = 2 + 1,5 + 1,5 = 5 of 6; area 2 = 1 + 0,5 = 1,5 of 2; area 3 = 1,5 of 2; total 8 of 10.
SELF = {"1.1": {"value": 2}, "1.2": {"value": "1,5"}, "1.3": {"value": "1,5"},
        "2.1": {"value": 1}, "2.2": {"value": "0,5"}, "3.1": {"survey": "1,5"}}
# First appraised: 1.1 and 1.2 → a partial sum of 2,75 for area 1 and 4,25 for the set (with the survey's 1,5).
FIRST = {"1.1": "1,5", "1.2": "1,25"}
PARTIAL_SUMS = ("2,75", "4,25")
# The rest, as scored: area 1 = 4,75 (0,25 cut), area 2 = 1,5 and area 3 = 1,5 (nothing cut); total 7,75 = 77,5%.
REST = {"1.3": "2", "2.1": "1", "2.2": "0,5"}


def build(db) -> tuple[int, int]:
    """The department, its 2026 plan (I.1 not applicable, the next three done), the set, the self-score, the lock
    and the first two appraised criteria."""
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng Tôn giáo"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(db, department_id, load_plan(SEED), actor="vp")
    activities = plan_store.list_activities(db, department_id, YEAR)
    assert len(activities) == 22
    for number, activity in enumerate(activities[:4]):
        plan_store.update_activity(db, activity.id, activity.version, actor="vp",
                             status=STATUS_NOT_APPLICABLE if number == 0 else STATUS_DONE)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, YEAR, set_id)
    for code, inputs in SELF.items():
        assessment_store.save_self_score(db, assessment.id, code, 0, inputs=inputs, explanation="Theo báo cáo năm", actor="vp")
    cycle_store.lock_self_score(db, assessment.id, actor="vp")
    appraise(db, assessment.id, FIRST)
    return department_id, assessment.id


PROVINCE_RESULT = SourceDocument("25/KQ-SNV", date(2026, 12, 28))  # the Office transcribes the province's result
ROUND_1_DAY = date(2026, 12, 29)  # inside the default round 1 window


def appraise(db, assessment_id: int, points: dict[str, str]) -> None:
    for code, value in points.items():
        version = assessment_store.list_scores(db, assessment_id)[code].version
        assessment_store.save_appraisal(db, assessment_id, code, version, points=value, remark="", actor="snv",
                            source=PROVINCE_RESULT, today=ROUND_1_DAY)


@pytest.fixture
def partly(db):
    department_id, assessment_id = build(db)
    return db, department_id, assessment_id


def snapshot_of(db, department_id):
    return load_snapshot(db, department_id, YEAR)


def _no_partial_sum(text: str) -> None:
    for partial in PARTIAL_SUMS:
        assert partial not in text, f"tổng dở dang {partial} hiện ra: {text}"


# --------------------------------------------------------------------------- the core


def test_appraisal_progress_shows_points_only_once_complete():
    criteria_set = criteria_set_from_dict(SET)
    entries = {"1.1": LeafEntry("1.1", self_points=Decimal(2), appraised_points=Decimal("1.5")),
               "2.1": LeafEntry("2.1", not_applicable=True), "2.2": LeafEntry("2.2", not_applicable=True)}
    rollup = roll_up(criteria_set, entries)
    assert rollup.node("1").appraisal() == AppraisalProgress(1, 3, None)
    assert rollup.node("1").appraisal().text() == "đang thẩm định 1/3"
    assert rollup.node("1.1").appraisal().text(lambda p: f"{p} điểm") == "1.5 điểm"
    assert rollup.node("1.1").appraisal(started=False).text() == "chưa thẩm định"
    assert rollup.node("2").appraisal().text() == "không đánh giá"




def test_the_snapshot_carries_complete_appraisals_only_and_the_progress(partly):
    db, department_id, assessment_id = partly
    snap = snapshot_of(db, department_id)
    assert snap.rollup.node("1").appraised_points == Decimal("2.75")  # the engine's partial sum, for bookkeeping
    area1, area2, area3 = snap.area_summaries()
    assert (area1.appraisal.points, area1.appraisal.text()) == (None, "đang thẩm định 2/3")
    assert (area2.appraisal.points, area2.appraisal.text()) == (None, "chưa thẩm định")
    assert (area3.appraisal.points, area3.appraisal.text()) == (Decimal("1.5"), "1,5")  # the survey counts as appraised
    assert snap.appraisal().text() == "đang thẩm định 3/6"
    assert snap.points_cut_by_area() == []  # area 3 is complete but lost nothing

    appraise(db, assessment_id, REST)
    snap = snapshot_of(db, department_id)
    assert [s.appraisal.text() for s in snap.area_summaries()] == ["4,75", "1,5", "1,5"]
    assert snap.appraisal().points == Decimal("7.75") and snap.rollup.index_appraised == Decimal("77.50")
    assert [(loss.code, loss.lost) for loss in snap.points_cut_by_area()] == [("1", Decimal("0.25"))]


def test_before_any_appraisal_nothing_reads_as_appraised(db):
    """The survey criterion counts as appraised without a score of its own; until the council returns one, no
    area is appraised."""
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, YEAR, criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR))
    assessment_store.save_self_score(db, assessment.id, "3.1", 0, inputs={"survey": "1,5"}, actor="vp")
    snap = snapshot_of(db, department_id)
    assert snap.rollup.node("3").appraisal_complete  # by the engine's rule …
    assert [s.appraisal.text() for s in snap.area_summaries()] == ["chưa thẩm định"] * 3  # … but nothing is shown
    assert [t.name for t in score_by_area_figure(snap).data] == ["Điểm tối đa", "Điểm tự đánh giá"]


def test_activity_counts_leave_out_what_does_not_apply(partly):
    db, department_id, _ = partly
    snap = snapshot_of(db, department_id)
    assert (snap.activities_done, snap.activities_applicable, len(snap.activities)) == (3, 21, 22)
    assert sum(s.activities_applicable for s in snap.area_summaries()) <= 21
    assert completion_by_area_figure(snap).layout.title.text == "Tiến độ Kế hoạch CCHC năm 2026 (3/21 hoàn thành)"


# --------------------------------------------------------------------------- charts and exports


def test_the_score_chart_draws_appraised_bars_only_for_complete_areas(partly):
    db, department_id, assessment_id = partly
    figure = score_by_area_figure(snapshot_of(db, department_id))
    maximum, self_points, appraised = figure.data
    assert appraised.name == "Điểm thẩm định"
    assert list(appraised.x) == [None, None, 1.5]  # no bar for area 1's partial 2,75, none for unappraised area 2
    assert list(maximum.text) == ["5/6 (83,3%)<br>đang thẩm định 2/3", "1,5/2 (75%)<br>chưa thẩm định",
                                  "1,5/2 (75%)<br>thẩm định 1,5/2 (75%)"]
    _no_partial_sum(figure.to_json())

    appraise(db, assessment_id, REST)
    maximum, _, appraised = score_by_area_figure(snapshot_of(db, department_id)).data
    assert list(appraised.x) == [4.75, 1.5, 1.5]
    assert maximum.text[0] == "5/6 (83,3%)<br>thẩm định 4,75/6 (79,2%)"


def test_chart_labels_are_plain_text(partly):
    db, department_id, _ = partly
    snap = snapshot_of(db, department_id)
    snap.rollup.areas[1].name = '<a href="http://x">Thủ tục</a> & <b>hồ sơ</b>'
    label = score_by_area_figure(snap).data[0].y[1]
    assert "<a" not in label and "<b>" not in label
    assert label.replace("<br>", " ") == '2. &lt;a href="http://x"&gt;Thủ tục&lt;/a&gt; &amp; &lt;b&gt;hồ sơ&lt;/b&gt;'


def _report_text(snap) -> tuple[list[str], list[list[str]]]:
    buffer = io.BytesIO()
    write_report(snap, buffer, charts=False)
    document = Document(io.BytesIO(buffer.getvalue()))
    return [p.text for p in document.paragraphs], [[c.text for c in row.cells] for row in document.tables[1].rows]


def test_the_report_says_the_appraisal_is_in_progress(partly):
    db, department_id, assessment_id = partly
    paragraphs, table = _report_text(snapshot_of(db, department_id))
    assert [row[-1] for row in table] == ["Điểm thẩm định", "đang thẩm định 2/3", "chưa thẩm định", "1,5",
                                          "đang thẩm định 3/6"]
    assert "Điểm thẩm định: đang thẩm định 3/6 tiêu chí thành phần; điểm và chỉ số sau thẩm định có khi mọi " \
           "tiêu chí đã được thẩm định." in paragraphs
    assert any("đã hoàn thành 3/21 hoạt động" in p for p in paragraphs)
    _no_partial_sum("\n".join(paragraphs + [c for row in table for c in row]))

    appraise(db, assessment_id, REST)
    paragraphs, table = _report_text(snapshot_of(db, department_id))
    assert [row[-1] for row in table] == ["Điểm thẩm định", "4,75", "1,5", "1,5", "7,75"]
    assert "Điểm thẩm định: 7,75/10 điểm; Chỉ số sau thẩm định: 77,5%." in paragraphs


def test_the_report_says_whose_appraisal_results_it_shows(partly):
    db, department_id, _ = partly
    snap = snapshot_of(db, department_id)
    assert snap.appraisal_sources() == ["Văn phòng ghi theo văn bản số 25/KQ-SNV ngày 28/12/2026 («snv»)"]
    paragraphs, _ = _report_text(snap)
    assert "Kết quả thẩm định: Văn phòng ghi theo văn bản số 25/KQ-SNV ngày 28/12/2026 («snv»)." in paragraphs


def test_the_summary_says_the_appraisal_is_in_progress(partly):
    db, department_id, assessment_id = partly
    page = summary_html(snapshot_of(db, department_id), [])
    cells = re.findall(r"<td class='n'>([^<]*)</td>", page)
    assert [cells[i] for i in (3, 7, 11, 15)] == ["đang thẩm định 2/3", "chưa thẩm định", "1,5", "đang thẩm định 3/6"]
    assert "<div class='value state'>đang thẩm định 3/6</div><div class='label'>Chỉ số sau thẩm định" in page
    assert "<div class='value'>3/21</div>" in page
    _no_partial_sum(page)

    appraise(db, assessment_id, REST)
    page = summary_html(snapshot_of(db, department_id), [])
    cells = re.findall(r"<td class='n'>([^<]*)</td>", page)
    assert [cells[i] for i in (3, 7, 11, 15)] == ["4,75", "1,5", "1,5", "7,75"]
    assert "<div class='value'>77,5%</div><div class='label'>Chỉ số sau thẩm định</div>" in page


# --------------------------------------------------------------------------- pages


@pytest.fixture
def app_on_partly():
    """The app on the partly appraised assessment (built before the first start, so nothing is seeded)."""
    db = open_database()  # the scratch folder the app opens (CCHC_DATA_DIR from conftest)
    department_id, assessment_id = build(db)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    _assert_clean(at)
    return at, db, assessment_id


def _assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _open(at: AppTest, page: str) -> AppTest:
    at.switch_page(page)
    at.run()
    _assert_clean(at)
    return at


def _metrics(at: AppTest) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _page_text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [t.value for t in at.title]
    parts += [f"{m.label} {m.value} {m.delta}" for m in at.metric]
    parts += [b.label for b in at.button]  # the criteria not open: each one button that reads what it stands at
    parts += [df.value.to_csv() for df in at.dataframe]
    return "\n".join(re.sub(r"\\(.)", r"\1", p) for p in parts)


def _charts(at: AppTest) -> list[str]:
    """Each chart's figure as JSON text ("/" and "<" are escaped in the page's copy: read it back first)."""
    return [json.dumps(json.loads(element.proto.spec), ensure_ascii=False) for element in at.get("plotly_chart")]


def _html_charts(at: AppTest) -> list[str]:
    """The charts a page draws as HTML (scoring.charts_html), as their markup."""
    return [element.proto.body for element in at.get("html") if element.proto.body.startswith("<figure")]


def test_overview_shows_the_appraisal_in_progress_and_the_same_activity_count(app_on_partly):
    at, db, assessment_id = app_on_partly
    _open(at, "views/tong_quan.py")
    metrics = _metrics(at)
    assert metrics["Chỉ số sau thẩm định"] == ("—", "đang thẩm định 3/6")
    assert metrics["Hoạt động hoàn thành"][0] == "3 / 21"
    assert not any(s.value == "Điểm bị trừ khi thẩm định, theo lĩnh vực" for s in at.subheader)  # area 3 lost nothing
    charts = _html_charts(at)  # the charts by area; the two by unit are plotly, once their expander is opened
    assert len(charts) == 2 and _charts(at) == []
    assert any("đang thẩm định 2/3" in spec for spec in charts) and any("(3/21 hoàn thành)" in spec for spec in charts)
    _no_partial_sum(_page_text(at) + "\n".join(charts))

    appraise(db, assessment_id, REST)
    _open(at, "views/tong_quan.py")
    assert _metrics(at)["Chỉ số sau thẩm định"][0] == "77,5%"
    assert [s.value for s in at.subheader if s.value.startswith("Điểm bị trừ")] == ["Điểm bị trừ khi thẩm định, theo lĩnh vực"]
    losses = next(df.value for df in at.dataframe if "Bị trừ" in df.value.columns)
    assert losses.to_dict("records") == [{"Lĩnh vực": "1. Công tác chỉ đạo, điều hành CCHC", "Tự chấm": "5",
                                          "Thẩm định": "4,75", "Bị trừ": "0,25"}]


def test_projector_shows_the_appraisal_in_progress_and_the_same_activity_count(app_on_partly):
    at, db, assessment_id = app_on_partly
    _open(at, "views/trinh_chieu.py")
    metrics = _metrics(at)
    assert metrics["Kế hoạch hoàn thành"][0] == "3/21"
    assert metrics["Chỉ số sau thẩm định"] == ("—", "đang thẩm định 3/6")
    charts = _charts(at)
    assert any("(3/21 hoàn thành)" in spec for spec in charts)
    _no_partial_sum(_page_text(at) + "\n".join(charts))

    at.button(key="slide-next").click().run()
    _assert_clean(at)
    assert at.title[0].value.startswith("1. Công tác chỉ đạo")
    assert _metrics(at)["Điểm thẩm định"] == ("—", "đang thẩm định 2/3")
    _no_partial_sum(_page_text(at))
    at.button(key="slide-next").click().run()
    at.button(key="slide-next").click().run()
    assert at.title[0].value.startswith("3. Tác động")
    assert _metrics(at)["Điểm thẩm định"][0] == "1,5/2"  # the survey area counts as appraised

    appraise(db, assessment_id, REST)
    at.button(key="slide-prev").click().run()
    at.button(key="slide-prev").click().run()
    assert _metrics(at)["Điểm thẩm định"][0] == "4,75/6"


def test_scoring_page_shows_the_appraisal_in_progress(app_on_partly):
    at, db, assessment_id = app_on_partly
    _open(at, "views/cham_diem.py")
    assert _metrics(at)["Chỉ số sau thẩm định"] == ("—", "đang thẩm định 3/6")
    captions = [c.value for c in at.caption]
    assert any(c.startswith("5/6 điểm · đã chấm 3/3 tiêu chí · đang thẩm định 2/3") for c in captions)
    rows = {b.key: re.sub(r"\\(.)", r"\1", b.label) for b in at.button if b.key and b.key.startswith("score-open-")}
    assert "Thẩm định: 1,25 điểm" in rows["score-open-1.2"] and "Thẩm định: chưa thẩm định" in rows["score-open-1.3"]
    _no_partial_sum(_page_text(at))

    appraise(db, assessment_id, REST)
    _open(at, "views/cham_diem.py")
    assert _metrics(at)["Chỉ số sau thẩm định"][0] == "77,5%"
    assert any(c.value.startswith("5/6 điểm · đã chấm 3/3 tiêu chí · thẩm định 4,75/6 điểm") for c in at.caption)


# --------------------------------------------------------------------------- rendered


def _tool(name: str) -> str:
    path = os.environ.get("BROWSER_PATH") if name == "chromium" else None
    path = path or shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI cần «{name}» (scripts/test.sh cài gói Debian tương ứng).")
        pytest.skip(f"máy này không có {name}")
    return path


def test_rendered_chart_and_summary_pdf_show_the_progress_not_the_partial_sum(partly, tmp_path):
    db, department_id, _ = partly
    _tool("chromium")
    snap = snapshot_of(db, department_id)
    svg = figure_svg(score_by_area_figure(snap), width=700).decode("utf-8")  # the picture the report embeds
    assert "đang thẩm định 2/3" in svg and "chưa thẩm định" in svg
    _no_partial_sum(svg)
    target = tmp_path / "tom-tat.pdf"
    write_summary_pdf(snap, target)
    text = subprocess.run([_tool("pdftotext"), "-layout", str(target), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "đang thẩm định 3/6" in text and "đang thẩm định 2/3" in text and "3/21" in text
    _no_partial_sum(text)


def test_an_unscored_criterion_reads_as_not_scored_never_as_zero_points(db):
    from scoring.charts import area_criteria_figure
    from tests.test_cycle_store import CYCLE_SET

    department_id = department_store.create_department(db, "Sở thử", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, 2026, set_id, actor=actors.SYSTEM_ACTOR)
    snap = load_snapshot(db, department_id, 2026)
    assert list(area_criteria_figure(snap, "1").data[0].text) == ["chưa chấm", "chưa chấm"]
    assert list(score_by_area_figure(snap).data[0].text) == ["chưa chấm", "chưa chấm"]
    assessment_store.save_self_score(db, assessment.id, "1.1", 0, inputs={"tier": "Kịp thời"}, actor="vp")
    snap = load_snapshot(db, department_id, 2026)
    assert list(area_criteria_figure(snap, "1").data[0].text) == ["4/4", "chưa chấm"]
    assert list(score_by_area_figure(snap).data[0].text) == ["4/7 (tạm tính)", "chưa chấm"]

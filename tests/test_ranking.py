"""The published ranking (scoring.province.ranking): within each group, ties sharing a rank, by area, the year before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from scoring.access.auth import Principal, Role
from scoring.assessment.appraisal import SourceDocument
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import InputError
from scoring.province import groups, ranking
from scoring.store import actors, assessment_state, assessment_store, criteria_store, cycle_store, department_store
from tests.test_cycle_store import CYCLE_SET, ROUND_1_DAY

D = Decimal
RESULT = SourceDocument("25/KQ-SNV", ROUND_1_DAY)


def test_competition_ranks_share_ties_and_skip():
    assert ranking.competition_ranks([(1, D("80")), (2, D("91.5")), (3, D("80")), (4, D("70"))]) == {2: 1, 1: 2, 3: 2, 4: 4}
    assert ranking.competition_ranks([]) == {}


def _published(db, department_id, set_id, year, points_11, points_12):
    """A year scored, locked, appraised (1.1 and 1.2 at these points; survey 2,4 of 3) and published."""
    assessment = assessment_store.open_assessment(db, department_id, year, set_id, actor=actors.SYSTEM_ACTOR)
    for code, inputs in (("1.1", {"tier": "Kịp thời"}), ("1.2", {"value": "3"}), ("2.1", {"survey": "2,4"})):
        assessment_store.save_self_score(db, assessment.id, code, 0, inputs=inputs, explanation="Có tài liệu", actor="vp")
    cycle_store.lock_self_score(db, assessment.id, actor="vp")
    day = ROUND_1_DAY.replace(year=year)
    for code, points in (("1.1", points_11), ("1.2", points_12)):
        version = assessment_store.list_scores(db, assessment.id)[code].version
        assessment_store.save_appraisal(db, assessment.id, code, version, points=points, actor="vp",
                            source=SourceDocument("25/KQ-SNV", day), today=day)
    cycle_store.publish_index(db, assessment.id, actor="quantri")


@pytest.fixture
def province(db):
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(CYCLE_SET), actor=actors.SYSTEM_ACTOR)
    ids = {name: department_store.create_department(db, name, ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
           for name in ("Sở A", "Sở B", "Sở C", "Sở D", "Ban E")}
    departments = groups.create_group(db, "Sở", actor=actors.SYSTEM_ACTOR)
    boards = groups.create_group(db, "Ban, ngành", actor=actors.SYSTEM_ACTOR)
    for name, department_id in ids.items():
        version = next(d.version for d in department_store.list_departments(db) if d.id == department_id)
        groups.assign_group(db, department_id, version, boards if name.startswith("Ban") else departments, actor=actors.SYSTEM_ACTOR)
    _published(db, ids["Sở A"], set_id, 2026, 4, 2)  # 4 + 2 + 2,4 = 8,4 → 84%
    _published(db, ids["Sở B"], set_id, 2026, 4, 3)  # 9,4 → 94%
    _published(db, ids["Sở C"], set_id, 2026, 4, 2)  # 84%: level with A
    _published(db, ids["Ban E"], set_id, 2026, 2, 1)  # 5,4 → 54%
    _published(db, ids["Sở A"], set_id, 2025, 4, 3)  # the year before: A first
    _published(db, ids["Sở B"], set_id, 2025, 2, 2)
    return db, ids


def test_each_group_is_ranked_by_its_published_index_ties_sharing(province):
    db, ids = province
    boards, departments = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    assert (departments.name, boards.name) == ("Sở", "Ban, ngành")
    assert [(r.name, r.percent, r.rank) for r in departments.rows] == [
        ("Sở B", D("94.00"), 1), ("Sở A", D("84.00"), 2), ("Sở C", D("84.00"), 2), ("Sở D", None, None)]
    assert departments.rows[-1].band == ranking.NOT_PUBLISHED
    assert [(r.name, r.rank) for r in boards.rows] == [("Ban E", 1)]
    # the year before: A was first, B second
    by_name = {r.name: r for r in departments.rows}
    assert (by_name["Sở A"].previous_rank, by_name["Sở A"].change) == (1, -1)
    assert (by_name["Sở B"].previous_percent, by_name["Sở B"].change) == (D("64.00"), 1)
    assert by_name["Sở C"].change is None  # not ranked the year before
    # by area: area 1 (chỉ đạo, điều hành) points 7, 6, 6 → B first, A and C share second
    assert departments.areas[0][0] == "1"
    assert departments.area_ranks("1") == {ids["Sở B"]: 1, ids["Sở A"]: 2, ids["Sở C"]: 2}


def test_each_criterion_ranks_the_departments_by_its_appraised_points(province):
    db, ids = province
    _, departments = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    assert [code for code, _ in departments.criteria][:2] == ["1.1", "1.2"]
    assert departments.criterion_ranks("1.2") == {ids["Sở B"]: 1, ids["Sở A"]: 2, ids["Sở C"]: 2}  # 3, 2, 2 points
    assert departments.criterion_ranks("1.1") == {ids["Sở B"]: 1, ids["Sở A"]: 1, ids["Sở C"]: 1}  # all 4: one rank
    by_name = {r.name: r for r in departments.rows}
    assert by_name["Sở B"].criteria["1.2"] == (D("3"), D("3"))  # points and the criterion's maximum
    assert by_name["Sở D"].criteria == {}  # not published: not ranked by any criterion


def test_a_department_sees_its_groups_published_ranking_only(province):
    db, ids = province
    office = Principal("vanphong", "Văn phòng", Role.OFFICE, frozenset({ids["Sở D"]}))
    tables = ranking.ranking(db, 2026, viewer=office)
    assert [t.name for t in tables] == ["Sở"]  # not the other group
    assert [r.name for r in tables[0].rows] == ["Sở B", "Sở A", "Sở C", "Sở D"]
    appraiser = Principal("snv", "Sở Nội vụ", Role.APPRAISER, frozenset({ids["Sở A"], ids["Ban E"]}))
    assert [[r.name for r in t.rows] for t in ranking.ranking(db, 2026, viewer=appraiser)] == [["Ban E"], ["Sở A"]]


@pytest.mark.libreoffice
def test_the_ranking_workbook_ranks_by_formula_as_the_app_does(province, tmp_path):
    import subprocess

    from openpyxl import load_workbook

    from scoring.exports.ranking_sheet import FIRST_ROW, write_ranking_workbook
    from tests.test_exports import _require_tool

    db, _ = province
    tables = ranking.ranking(db, 2026, viewer=actors.SYSTEM_ACTOR)
    write_ranking_workbook(tables, 2026, tmp_path / "xep-hang.xlsx")
    book = load_workbook(tmp_path / "xep-hang.xlsx")
    assert book.sheetnames == ["Ban, ngành", "Sở"]
    sheet = book["Sở"]
    assert sheet.cell(FIRST_ROW, 1).value.startswith("=IF(ISNUMBER(C5),RANK(C5,$C$5:$C$8,0)")
    assert [sheet.cell(FIRST_ROW + i, 2).value for i in range(4)] == ["Sở B", "Sở A", "Sở C", "Sở D"]
    soffice = _require_tool("soffice")
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    subprocess.run([soffice, profile, "--headless", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"),
                    str(tmp_path / "xep-hang.xlsx")], check=True, capture_output=True, timeout=180)
    recalculated = load_workbook(tmp_path / "out" / "xep-hang.xlsx", data_only=True)["Sở"]
    ranks = [recalculated.cell(FIRST_ROW + i, 1).value for i in range(4)]
    assert ranks[:3] == [r.rank for r in tables[1].rows[:3]] == [1, 2, 2]  # LibreOffice ranks as the app ranks
    assert ranks[3] in ("", None)  # not published: no rank


def test_what_makes_a_published_index_stays_as_published(province):
    """The year's settings (survey share, caps, bands) and its criteria set make the index: no change once published,
    and no other set once the self-score is locked (the appraisal works on what was submitted)."""
    db, ids = province
    published = assessment_state.get_assessment(db, ids["Sở A"], 2026)
    with pytest.raises(InputError, match="Không sửa được thiết lập năm 2026. Chỉ số năm 2026 đã công bố"):
        cycle_store.save_year_settings(db, published.id, published.settings_version, cycle_store.year_settings(db, published.id),
                                actor="quantri")
    other = criteria_store.save_criteria_set(db, criteria_set_from_dict({**CYCLE_SET, "name": "Bộ khác"}), actor=actors.SYSTEM_ACTOR)
    with pytest.raises(InputError, match="Không đổi được bộ tiêu chí năm 2026. Chỉ số năm 2026 đã công bố"):
        assessment_store.switch_criteria_set(db, published.id, published.settings_version, criteria_set_id=other, actor="quantri")
    set_id = published.criteria_set_id
    locked = assessment_store.open_assessment(db, ids["Sở D"], 2027, set_id, actor=actors.SYSTEM_ACTOR)
    for code, inputs in (("1.1", {"tier": "Kịp thời"}), ("1.2", {"value": "3"}), ("2.1", {"survey": "2,4"})):
        assessment_store.save_self_score(db, locked.id, code, 0, inputs=inputs, explanation="Có tài liệu", actor="vp")
    cycle_store.lock_self_score(db, locked.id, actor="vp")
    with pytest.raises(InputError, match="điểm tự chấm đã chốt lúc .* cần quản trị viên mở lại bản tự chấm trước"):
        assessment_store.switch_criteria_set(db, locked.id, assessment_state.get_assessment(db, ids["Sở D"], 2027).settings_version,
                                 criteria_set_id=other, actor="quantri")
    assert assessment_state.get_assessment(db, ids["Sở D"], 2027).criteria_set_id == set_id


def test_the_projectors_ranking_charts_draw_names_as_text_and_ties_as_one_rank():
    from scoring.charts import rank_change_figure, ranking_figure

    def row(name, percent, rank, previous_rank=None):
        return ranking.Ranked(rank or 0, name, D(percent) if percent else None, rank, "Tốt" if rank else ranking.NOT_PUBLISHED,
                              None, previous_rank, {})

    rows = [row("Sở <b>A</b> & B", "84.5", 1, 2), row("Sở C", "80", 2, 1), row("Sở D", "80", 2, 2), row("Sở E", None, None)]
    bars = ranking_figure(rows, scale=1.5, height=640).data[0]
    assert list(bars.y) == ["1. Sở &lt;b&gt;A&lt;/b&gt; &amp; B", "2. Sở C", "2. Sở D"]  # the unpublished not drawn
    assert list(bars.text) == ["84,50% · Tốt", "80,00% · Tốt", "80,00% · Tốt"]
    assert ranking_figure(rows[:1], scale=1.5, height=640).layout.height < 640  # one bar is not stretched to the room
    change = rank_change_figure([(r.name, r) for r in rows[:3]], 2026, scale=1.5, height=640).data[0]
    assert list(change.x) == [1, -1, 0]
    assert list(change.text) == ["▲ 1 bậc (hạng 2 → 1)", "▼ 1 bậc (hạng 1 → 2)", "giữ hạng 2"]
    assert change.y[0] == "Sở &lt;b&gt;A&lt;/b&gt; &amp; B"

"""Exports: the score sheet (and taking it back), the report, the evidence bundle, the charts, the summary PDF.

Every exported file is opened again with its own library and checked against totals computed by hand for
the small criteria set below. LibreOffice recalculates the sheet's formulas (their totals must equal the
engine's) and renders the report; Chromium (through kaleido) renders the charts and prints the summary.
Without soffice/chromium those tests are skipped on a developer's machine but fail in CI.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from openpyxl import Workbook, load_workbook

from scoring.assessment.appraisal import SourceDocument
from scoring.assessment.snapshot import load_snapshot
from scoring.charts import completion_by_area_figure, score_by_area_figure
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import ConflictError, InputError
from scoring.exports.cells import put_text
from scoring.exports.charts import figure_svg, figures_png
from scoring.exports.commands import add_export_commands
from scoring.exports.evidence_bundle import INDEX_NAME, write_evidence_bundle
from scoring.exports.report import TO_BE_WRITTEN, write_report
from scoring.exports.scoresheet import write_scoresheet
from scoring.exports.scoresheet_import import (
    ScoresheetError,
    apply_scoresheet_changes,
    read_scoresheet,
)
from scoring.exports.scoresheet_layout import SHEET_EVIDENCE, SHEET_PLAN, SHEET_RULES, SHEET_SCORES
from scoring.exports.summary_pdf import summary_html, write_summary_pdf
from scoring.plan.importer import load_plan
from scoring.plan.stats import STATUS_COLOURS, STATUS_DONE, STATUS_IN_PROGRESS, STATUS_LABELS, STATUSES
from scoring.store import (
    actors,
    assessment_store,
    criteria_store,
    cycle_store,
    department_store,
    evidence_store,
    plan_store,
)
from scoring.store.evidence_files import EvidenceStore

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "data" / "ke-hoach-cchc-2026.txt"
TODAY = date(2026, 12, 20)
FORMULA_TEXT = '=HYPERLINK("http://x")'

# Every roll-up rule in a set small enough to add up by hand (expected totals in the comments).
SET = {
    "name": "Bộ tiêu chí thử nghiệm xuất",
    "template": True,
    "year": 2026,
    "total_max": 10,
    "nodes": [
        {"code": "1", "name": "Công tác chỉ đạo, điều hành CCHC", "max": 6, "children": [
            {"code": "1.1", "name": "Kế hoạch CCHC năm", "max": 3, "children": [
                {"code": "1.1.1", "name": "Ban hành kế hoạch CCHC năm", "max": 1, "activities": ["I.5"],
                 "evidence": "Kế hoạch CCHC năm",
                 "rule": {"kind": "tiers", "tiers": [{"label": "Kịp thời", "points": 1},
                                                     {"label": "Không kịp thời", "points": 0.5},
                                                     {"label": "Không ban hành", "points": 0}]}},
                {"code": "1.1.2", "name": "Mức độ thực hiện kế hoạch CCHC", "max": 2, "evidence": "Báo cáo CCHC năm",
                 "rule": {"kind": "ratio", "tiers": [{"label": "Trên 90%", "points": 2},
                                                     {"label": "Từ 70% - 90%", "points": 1},
                                                     {"label": "Dưới 70%", "points": 0}]}},
            ]},
            {"code": "1.2", "name": "Tuyên truyền CCHC", "max": 2, "cap_children": True, "children": [
                {"code": "1.2.1", "name": "Tin, bài tuyên truyền", "max": 1.5, "evidence": "Danh sách tin, bài",
                 "rule": {"kind": "count", "per_item": 0.25, "unit": "tin, bài"}},
                {"code": "1.2.2", "name": "Hình thức tuyên truyền sáng tạo", "max": 1, "evidence": "Báo cáo",
                 "rule": {"kind": "value"}},
            ]},
            {"code": "1.3", "name": "Báo cáo CCHC", "max": 1, "children": [
                {"code": "1.3.1", "name": "Báo cáo đúng hạn", "max": 1, "evidence": "Báo cáo quý",
                 "rule": {"kind": "tiers", "tiers": [{"label": "Đúng hạn", "points": 1},
                                                     {"label": "Không đúng hạn", "points": 0}]}},
                {"code": "1.3.2", "name": "Điểm trừ: báo cáo chậm", "max": 0,
                 "rule": {"kind": "deduction", "per_occurrence": 0.5, "floor": -1, "unit": "báo cáo"}},
            ]},
        ]},
        {"code": "2", "name": "Cải cách thủ tục hành chính", "max": 2, "children": [
            {"code": "2.1", "name": "Công khai thủ tục hành chính", "max": 1, "evidence": "Quyết định công bố",
             "rule": {"kind": "value"}},
            {"code": "2.2", "name": "Giải quyết hồ sơ đúng hạn", "max": 1, "evidence": "Báo cáo",
             "rule": {"kind": "tiers", "tiers": [{"label": "Đạt", "points": 1}, {"label": "Không đạt", "points": 0}]}},
        ]},
        {"code": "3", "name": "Tác động của CCHC", "max": 2, "children": [
            {"code": "3.1", "name": "Mức độ hài lòng", "max": 2, "rule": {"kind": "survey"}},
        ]},
    ],
}
# 1.1 = 1 + 1 = 2; 1.2 = min(2, 1,5 + 0,75) = 2; 1.3 = max(0, 0 − 0,5) = 0; area 1 = 4 of 6;
# area 2 = 0,5 of 1 (2.2 is "không đánh giá"); area 3 = 1,5 of 2; total 6 of 9 = 66,67%.
SELF_SCORES = {
    "1.1.1": {"tier": 0},
    "1.1.2": {"numerator": 17, "denominator": 20},
    "1.2.1": {"count": 6},
    "1.2.2": {"value": 0.75},
    "1.3.1": {"tier": 1},
    "1.3.2": {"occurrences": 1},
    "2.1": {"value": "0,5"},
    "3.1": {"survey": 1.5},
}
EXPECTED = {"1.1": 2, "1.2": 2, "1.3": 0, "1": 4, "2": Decimal("0.5"), "3": Decimal("1.5")}
EXPECTED_MAX = {"1": 6, "2": 1, "3": 2}
EXPECTED_TOTAL, EXPECTED_TOTAL_MAX, EXPECTED_INDEX = 6, 9, Decimal("66.67")


def _pdf(tag: bytes) -> bytes:
    return b"%PDF-1.4\n% " + tag + b"\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def build_workspace(db):
    """The department, the 2026 plan, the set above, the scores, an appraisal and three documents."""
    department_id = department_store.create_department(db, "Sở Dân tộc và Tôn giáo", ["Văn phòng", "Phòng CSĐT", "Phòng Tôn giáo"], actor=actors.SYSTEM_ACTOR)
    plan_store.save_plan(db, department_id, load_plan(SEED), actor="vp")
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR)
    assessment = assessment_store.open_assessment(db, department_id, 2026, set_id)
    for number, activity in enumerate(plan_store.list_activities(db, department_id, 2026)[:5]):
        plan_store.update_activity(db, activity.id, activity.version, actor="vp",
                             status=STATUS_DONE if number < 3 else STATUS_IN_PROGRESS, progress=100 if number < 3 else 50)
    for code, inputs in SELF_SCORES.items():
        explanation = FORMULA_TEXT if code == "2.1" else ""
        assessment_store.save_self_score(db, assessment.id, code, 0, inputs=inputs, explanation=explanation, actor="vp")
    assessment_store.save_self_score(db, assessment.id, "2.2", 0, inputs={}, not_applicable=True,
                         explanation="Sở không tiếp nhận hồ sơ", actor="vp")
    plan_doc = evidence_store.add_evidence(
        db, department_id, 2026,
        evidence_store.EvidenceInput(doc_type="Kế hoạch", number="15/KH-SDTTG", issued_on=date(2025, 12, 18),
                           summary="Kế hoạch CCHC năm 2026"),
        actor="vp", upload=("../../Kế hoạch.pdf", _pdf(b"ke hoach")), criteria=["1.1.1", "1.2.1"], activity_codes=["I.5"])
    same_name = evidence_store.add_evidence(
        db, department_id, 2026,
        evidence_store.EvidenceInput(doc_type="Quyết định", number="20/QĐ-SDTTG", issued_on=date(2026, 1, 5), summary="Phê duyệt"),
        actor="vp", upload=("kế hoạch.pdf", _pdf(b"quyet dinh")), criteria=["1.1.1"])
    link_only = evidence_store.add_evidence(
        db, department_id, 2026,
        evidence_store.EvidenceInput(doc_type="Báo cáo", number="-3/BC-SDTTG", issued_on=date(2026, 6, 20),
                           summary="@Báo cáo 6 tháng", link="https://example.org/bao-cao"),
        attachment=evidence_store.ATTACH_LINK, actor="vp", criteria=["1.3.1"])
    return department_id, assessment.id, (plan_doc, same_name, link_only)


LOCK_EXPLANATIONS = {  # the leaves without evidence must explain their score before the lock
    "1.1.2": "Tỷ lệ lấy từ bảng theo dõi tiến độ kế hoạch",
    "1.2.2": "Tổ chức tọa đàm trực tuyến",
    "1.3.2": "Báo cáo quý I gửi chậm 2 ngày",
}


def lock_and_appraise(db, assessment_id) -> None:
    """The department explains, then locks its self-score; the Home Affairs team cuts 1.1.1 to 0,5 in round 1."""
    stored = assessment_store.list_scores(db, assessment_id)
    for code, explanation in LOCK_EXPLANATIONS.items():
        assessment_store.save_self_score(db, assessment_id, code, stored[code].version, inputs=stored[code].inputs,
                             explanation=explanation, actor="vp")
    cycle_store.lock_self_score(db, assessment_id, actor="vp")
    version = assessment_store.list_scores(db, assessment_id)["1.1.1"].version
    assessment_store.save_appraisal(db, assessment_id, "1.1.1", version, points="0,5", remark="Ban hành sau ngày 20/12", actor="snv",
                        source=PROVINCE_RESULT, today=ROUND_1_DAY)


# No appraiser account in these tests: the Office records the province's result, inside round 1's default dates.
PROVINCE_RESULT = SourceDocument("25/KQ-SNV", date(2026, 12, 28))
ROUND_1_DAY = date(2026, 12, 29)


@pytest.fixture
def workspace(sqlite_db):
    """Self-scoring in progress: nothing locked, nothing appraised."""
    department_id, assessment_id, documents = build_workspace(sqlite_db)
    return sqlite_db, department_id, assessment_id, documents


@pytest.fixture
def appraised(workspace):
    """The same assessment after the lock and the first appraisal."""
    db, _, assessment_id, _ = workspace
    lock_and_appraise(db, assessment_id)
    return workspace


def snapshot_of(db, department_id):
    return load_snapshot(db, department_id, 2026, today=TODAY)


def _sheet_bytes(snapshot) -> bytes:
    buffer = io.BytesIO()
    write_scoresheet(snapshot, buffer)
    return buffer.getvalue()


HEADER_ROW = 8  # under the agency block, the motto and the title


def _rows_by_code(sheet) -> dict[str, int]:
    """Criterion code → row: the STT column holds the code, from the row under the header to the totals."""
    total = next(r for r in range(HEADER_ROW + 1, sheet.max_row + 1) if sheet.cell(r, 2).value == "TỔNG CỘNG")
    return {sheet.cell(row, 1).value: row for row in range(HEADER_ROW + 1, total) if sheet.cell(row, 1).value}


def _columns(sheet, header_row: int = HEADER_ROW) -> dict[str, int]:
    return {sheet.cell(header_row, c).value: c for c in range(1, sheet.max_column + 1)}


def _require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI cần «{name}» (scripts/test.sh cài gói Debian tương ứng).")
        pytest.skip(f"máy này không có {name}")
    return path


# --------------------------------------------------------------------------- safe cells


@pytest.mark.parametrize("text", [FORMULA_TEXT, "+1", "-Báo cáo", "@SUM(A1)", "\tTab", "\rCR", "=1+1"])
def test_user_text_never_becomes_a_formula(text):
    workbook = Workbook()
    put_text(workbook.active["A1"], text)
    buffer = io.BytesIO()
    workbook.save(buffer)
    cell = load_workbook(io.BytesIO(buffer.getvalue())).active["A1"]
    assert cell.data_type == "s" and cell.value == text
    assert cell.quotePrefix  # Excel keeps it text even after someone edits the cell


def test_put_text_strips_what_xlsx_cannot_hold():
    workbook = Workbook()
    cell = put_text(workbook.active["A1"], "Báo\x00cáo\x07 " + "x" * 40_000)
    assert cell.value.startswith("Báocáo ") and len(cell.value) == 32_767 and not cell.quotePrefix


# --------------------------------------------------------------------------- score sheet


def test_scoresheet_has_the_official_layout_values_and_live_formulas(appraised):
    db, department_id, _, _ = appraised
    workbook = load_workbook(io.BytesIO(_sheet_bytes(snapshot_of(db, department_id))))
    assert workbook.sheetnames == [SHEET_SCORES, SHEET_RULES, SHEET_PLAN, SHEET_EVIDENCE]
    sheet = workbook[SHEET_SCORES]
    # the agency block beside the national motto; no governing body set and no province named: left to fill in
    assert [sheet["A1"].value, sheet["A2"].value] == ["……………", "SỞ DÂN TỘC VÀ TÔN GIÁO"] and sheet["A2"].font.b
    motto = [c.value for c in sheet[1] + sheet[2] if c.value and c.column > 1]
    assert motto == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert sheet["A4"].value == "BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2026"
    assert "Bộ tiêu chí thử nghiệm xuất" in sheet["A5"].value and "Bộ tiêu chí mẫu" in sheet["A5"].value
    # STT is the criterion's code, as the province's table numbers it: no second numbering column
    assert [sheet.cell(HEADER_ROW, c).value for c in range(1, 16)] == [
        "STT", "Lĩnh vực, tiêu chí, tiêu chí thành phần", "Điểm tối đa", "Không đánh giá (x)",
        "Mức đạt được, số lượng hoặc điểm", "Tử số", "Mẫu số", "Điểm tự đánh giá",
        "Điểm thẩm định", "Nhận xét thẩm định", "Tài liệu kiểm chứng", "Giải trình", "Ghi chú",
        "Số tiêu chí được đánh giá", "Số tiêu chí đã thẩm định"]
    assert sheet.column_dimensions["N"].hidden and sheet.column_dimensions["O"].hidden  # helpers of the totals
    rows = _rows_by_code(sheet)
    assert list(rows) == ["1", "1.1", "1.1.1", "1.1.2", "1.2", "1.2.1", "1.2.2", "1.3", "1.3.1", "1.3.2",
                          "2", "2.1", "2.2", "3", "3.1"]

    # the inputs each rule takes; the points are formulas of them (values: tests/test_scoresheet_roundtrip.py)
    entries = {c: sheet.cell(rows[c], 5).value for c in ("1.1.1", "1.2.1", "1.2.2", "1.3.2", "2.1", "3.1")}
    assert entries == {"1.1.1": "Kịp thời", "1.2.1": 6, "1.2.2": 0.75, "1.3.2": 1, "2.1": 0.5, "3.1": 1.5}
    assert [sheet.cell(rows["1.1.2"], c).value for c in (6, 7)] == [17, 20]
    assert sheet.cell(rows["2.2"], 4).value == "x"
    assert sheet.cell(rows["2.2"], 3).value == f'=IF(TRIM(D{rows["2.2"]})="",1,"—")'
    assert sheet.cell(rows["1.2.1"], 8).value == (
        f'=IF(NOT(TRIM(D14)=""),"Không đánh giá",IF(TRIM(E14)="","",IF(NOT(ISNUMBER(E14)),"Không hợp lệ",'
        f'IF(OR(E14<0,E14<>INT(E14)),"Không hợp lệ",MIN(1.5,E14*0.25)))))')
    # points as the official tables write them (2, 0,5, 0,25: never 2,00), decimal comma in LibreOffice
    assert {sheet.cell(rows["1.1.1"], c).number_format for c in (3, 8, 9)} == {"[$-42A]General"}
    assert sheet.cell(rows["1.2.2"], 5).number_format == "[$-42A]General"  # an input: 0,75 as typed
    # node and grand totals are formulas over the children: capped at the applicable maximum, floored at 0
    assert sheet.cell(rows["1.2"], 3).value == f'=IF(COUNT(C{rows["1.2.1"]},C{rows["1.2.2"]})=0,"—",MIN(2,SUM(C14,C15)))'
    assert sheet.cell(rows["1.1"], 8).value == '=IF(ISNUMBER(C10),MAX(0,MIN(C10,SUM(H11,H12))),"Không đánh giá")'
    assert sheet.cell(rows["1.3"], 8).value == '=IF(ISNUMBER(C16),MAX(0,MIN(C16,SUM(H17,H18))),"Không đánh giá")'
    total_row = rows["3.1"] + 1
    assert sheet.cell(total_row, 2).value == "TỔNG CỘNG"
    assert sheet.cell(total_row, 8).value == '=IF(ISNUMBER(C24),MAX(0,MIN(C24,SUM(H9,H19,H22))),"Không đánh giá")'
    assert sheet.cell(total_row, 3).value == '=IF(COUNT(C9,C19,C22)=0,"—",SUM(C9,C19,C22))'
    # appraisal: the appraised value, survey points mirrored from the self score until appraised, and node
    # totals that wait for every leaf under them ("đang thẩm định k/n" before)
    assert sheet.cell(rows["1.1.1"], 9).value == 0.5 and sheet.cell(rows["1.1.1"], 10).value == "Ban hành sau ngày 20/12"
    assert sheet.cell(rows["3.1"], 9).value == f"=H{rows['3.1']}"
    assert sheet.cell(rows["1.1"], 9).value == (
        '=IF(OR(NOT(ISNUMBER(C10)),O10=0),"",IF(O10<N10,"đang thẩm định "&O10&"/"&N10,'
        'MAX(0,MIN(C10,SUM(N(I11)*ISNUMBER(C11),N(I12)*ISNUMBER(C12))))))')

    assert sheet.cell(rows["1.1.1"], 11).value == ("Kế hoạch số 15/KH-SDTTG ngày 18/12/2025\n"
                                                   "Quyết định số 20/QĐ-SDTTG ngày 05/01/2026")
    explanation = sheet.cell(rows["2.1"], 12)
    assert explanation.value == FORMULA_TEXT and explanation.data_type == "s" and explanation.quotePrefix
    # Ghi chú: what the evidence lacks, as the report's section II groups it
    notes = {c: sheet.cell(rows[c], 13).value for c in rows if sheet.cell(rows[c], 13).value}
    assert notes == {"1.1.2": "Chưa có tài liệu kiểm chứng.", "1.2.2": "Chưa có tài liệu kiểm chứng.",
                     "2.1": "Chưa có tài liệu kiểm chứng."}  # explained before the lock (LOCK_EXPLANATIONS)
    assert sheet.cell(rows["1"], 2).font.b and not sheet.cell(rows["1.1.1"], 2).font.b
    assert sheet.cell(rows["1.1.1"], 2).alignment.indent == 2 and sheet.cell(rows["1.1.1"], 2).alignment.wrap_text
    # under the table: the place and date, then who drew it up and the head of the department, to sign
    below = [c.value for r in range(total_row + 2, sheet.max_row + 1) for c in sheet[r] if c.value]
    assert below == ["……………, ngày      tháng      năm 2026", "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG CƠ QUAN",
                     "(Ký, ghi rõ họ tên)", "(Ký tên, đóng dấu)"]
    assert sheet.print_area.endswith(f"$M${total_row + 9}")  # room to sign and seal
    assert sheet.freeze_panes == "A9" and sheet.print_title_rows == "$8:$8"
    assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert 5 <= sheet.column_dimensions["A"].width <= 10 and 40 <= sheet.column_dimensions["B"].width <= 70
    assert {p.name: p.value for p in workbook.custom_doc_props}["cchc.year"] == 2026


def test_scoresheet_letterhead_and_date_line_come_from_the_department(workspace):
    db, department_id, _, _ = workspace
    department = department_store.list_departments(db)[0]
    department_store.update_department(db, department_id, department.version, name=department.name, units=department.units,
                           governing_body="UBND tỉnh Quảng Ninh", place="Quảng Ninh", actor="quantri")
    sheet = load_workbook(io.BytesIO(_sheet_bytes(snapshot_of(db, department_id))))[SHEET_SCORES]
    assert sheet["A1"].value == "UBND TỈNH QUẢNG NINH"
    assert "Quảng Ninh, ngày      tháng      năm 2026" in [c.value for row in sheet.iter_rows() for c in row]


def test_scoresheet_lists_the_plan_and_the_evidence_register(workspace):
    db, department_id, _, _ = workspace
    workbook = load_workbook(io.BytesIO(_sheet_bytes(snapshot_of(db, department_id))))
    plan = workbook[SHEET_PLAN]
    assert [plan.cell(3, c).value for c in (1, 2, 7, 8, 9)] == ["Mã", "Hoạt động", "Hạn", "Trạng thái", "Tiến độ"]
    activities = plan_store.list_activities(db, department_id, 2026)
    assert plan.max_row - 3 == len(activities) == 22
    first = [plan.cell(4, c).value for c in (1, 7, 8, 9)]
    assert first == ["I.1", datetime(2026, 2, 28), "Hoàn thành", 1]
    assert plan.cell(4, 7).number_format == "DD/MM/YYYY" and plan.cell(4, 9).number_format == "0%"
    assert plan.cell(7, 8).value == "Đang thực hiện" and plan.cell(7, 9).value == 0.5

    register = workbook[SHEET_EVIDENCE]
    rows = [[register.cell(r, c).value for c in (3, 4, 7, 9, 10)] for r in range(4, register.max_row + 1)]
    assert rows == [
        ["15/KH-SDTTG", datetime(2025, 12, 18), "1.1.1, 1.2.1", "Kế hoạch.pdf", None],
        ["20/QĐ-SDTTG", datetime(2026, 1, 5), "1.1.1", "kế hoạch.pdf", None],
        ["-3/BC-SDTTG", datetime(2026, 6, 20), "1.3.1", None, "https://example.org/bao-cao"],
    ]
    assert register.cell(6, 3).data_type == "s" and register.cell(6, 3).quotePrefix  # "-3/…" stays text
    assert register.cell(6, 10).hyperlink.target == "https://example.org/bao-cao"


def test_scoresheet_leaves_out_the_appraisal_columns_before_any_appraisal(workspace):
    db, department_id, _, _ = workspace
    sheet = load_workbook(io.BytesIO(_sheet_bytes(snapshot_of(db, department_id))))[SHEET_SCORES]
    assert [sheet.cell(HEADER_ROW, c).value for c in range(1, 13)] == [
        "STT", "Lĩnh vực, tiêu chí, tiêu chí thành phần", "Điểm tối đa", "Không đánh giá (x)",
        "Mức đạt được, số lượng hoặc điểm", "Tử số", "Mẫu số", "Điểm tự đánh giá",
        "Tài liệu kiểm chứng", "Giải trình", "Ghi chú", None]


def test_scoresheet_of_a_department_without_a_plan_has_an_empty_plan_sheet(sqlite_db):
    department_id = department_store.create_department(sqlite_db, "Sở Nội vụ", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    set_id = criteria_store.save_criteria_set(sqlite_db, criteria_set_from_dict(SET), actor=actors.SYSTEM_ACTOR)
    assessment_store.open_assessment(sqlite_db, department_id, 2026, set_id)
    workbook = load_workbook(io.BytesIO(_sheet_bytes(snapshot_of(sqlite_db, department_id))))
    assert workbook[SHEET_PLAN].max_row == 3 and workbook[SHEET_PLAN]["A1"].value.startswith(
        "KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2026")


def test_exports_need_an_assessment(sqlite_db):
    department_id = department_store.create_department(sqlite_db, "Sở Nội vụ", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    with pytest.raises(InputError, match="chưa có kỳ tự đánh giá"):
        write_scoresheet(snapshot_of(sqlite_db, department_id), io.BytesIO())
    with pytest.raises(InputError, match="chưa có kỳ tự đánh giá"):
        write_report(snapshot_of(sqlite_db, department_id), io.BytesIO(), charts=False)


# --------------------------------------------------------------------------- taking the sheet back


SELF, APPRAISED, REMARK, EXPLANATION, CODE = "Điểm tự đánh giá", "Điểm thẩm định", "Nhận xét thẩm định", "Giải trình", "STT"
NA, ENTRY = "Không đánh giá (x)", "Mức đạt được, số lượng hoặc điểm"


def _edited(original: bytes, edits: dict[tuple[str, str], object], header_edits: dict[int, object] | None = None) -> bytes:
    """The sheet with cells changed as a person would in Excel: (criterion code, column header) → new value."""
    workbook = load_workbook(io.BytesIO(original))
    sheet = workbook[SHEET_SCORES]
    rows, columns = _rows_by_code(sheet), _columns(sheet)
    for (code, header), value in edits.items():
        sheet.cell(rows[code], columns[header]).value = value
    for column, value in (header_edits or {}).items():
        sheet.cell(HEADER_ROW, column).value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Every rule kind's round trip: tests/test_scoresheet_roundtrip.py.


def test_unchanged_sheet_changes_nothing(workspace):
    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    changes = read_scoresheet("bang-diem.xlsx", _sheet_bytes(snapshot), snapshot)
    assert not changes and changes.changes == [] and changes.skipped == []


def test_marking_not_applicable_and_clearing_a_score(workspace):
    db, department_id, assessment_id, _ = workspace
    snapshot = snapshot_of(db, department_id)
    edited = _edited(_sheet_bytes(snapshot), {("1.2.1", NA): "X", ("2.1", ENTRY): None,
                                              ("2.1", EXPLANATION): None})
    changes = read_scoresheet("x.xlsx", edited, snapshot)
    apply_scoresheet_changes(db, assessment_id, changes, actor="an")
    scores = assessment_store.list_scores(db, assessment_id)
    assert scores["1.2.1"].not_applicable and scores["1.2.1"].inputs == {"count": 6}  # kept for when it applies again
    assert scores["2.1"].self_points is None and scores["2.1"].inputs == {} and scores["2.1"].explanation == ""


@pytest.mark.parametrize(("edits", "expected"), [
    pytest.param({("1.2.1", ENTRY): "abc"}, "Dòng 14, tiêu chí 1.2.1: ô «Mức đạt được, số lượng hoặc điểm» đang là chữ «abc»", id="not-a-number"),
    pytest.param({("1.2.1", ENTRY): 2.5}, "Dòng 14, tiêu chí 1.2.1: Số lượng «2.5» phải là số nguyên.", id="count-not-whole"),
    pytest.param({("2.1", ENTRY): 3}, "Dòng 20, tiêu chí 2.1: Điểm 3 phải từ 0 đến 1.", id="out-of-range"),
    pytest.param({("1.3.2", ENTRY): -1}, "Dòng 18, tiêu chí 1.3.2: Số lần vi phạm «-1» không được âm.", id="deduction-negative"),
    pytest.param({("1.1.2", "Mẫu số"): 0}, "Dòng 12, tiêu chí 1.1.2: Mẫu số bằng 0: không tính được tỷ lệ", id="ratio-zero"),
    pytest.param({("2.1", ENTRY): "=1/2"}, "Dòng 20, tiêu chí 2.1: ô «Mức đạt được, số lượng hoặc điểm» là công thức «=1/2», hãy nhập số.", id="formula"),
    pytest.param({("1.1.1", CODE): None}, "Dòng 11: thiếu mã tiêu chí (cột «STT»), dòng này không được nhập.", id="code-missing"),
    pytest.param({("1.1.2", CODE): "1.1.1"}, "Dòng 12, tiêu chí 1.1.1: mã trùng với dòng 11, dòng này không được nhập.", id="code-duplicated"),
    pytest.param({("1.1.2", CODE): "9.9"}, "Dòng 12, tiêu chí 9.9: mã không có trong bộ tiêu chí", id="code-unknown"),
])
def test_a_row_edited_out_of_shape_is_left_out_with_its_reason(workspace, edits, expected):
    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    edited = _edited(_sheet_bytes(snapshot), {**edits, ("1.2.2", ENTRY): 0.5})
    changes = read_scoresheet("bang-diem.xlsx", edited, snapshot)
    assert any(line.startswith(expected) for line in changes.skipped_lines()), changes.skipped_lines()
    assert len(changes.skipped) == 1
    assert [c.code for c in changes.changes] == ["1.2.2"]  # the rest of the sheet still goes in


def test_sheet_without_header_or_for_another_year_is_refused(workspace):
    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    with pytest.raises(ScoresheetError, match="Không tìm thấy dòng tiêu đề"):
        read_scoresheet("x.xlsx", _edited(_sheet_bytes(snapshot), {}, header_edits={1: "Số thứ tự"}), snapshot)
    workbook = load_workbook(io.BytesIO(_sheet_bytes(snapshot)))
    workbook[SHEET_SCORES].delete_rows(_rows_by_code(workbook[SHEET_SCORES])["3.1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    # a deleted row is not a reason to refuse the rest: that criterion keeps its stored score
    assert read_scoresheet("x.xlsx", buffer.getvalue(), snapshot).missing_codes == ["3.1"]
    other_year = dataclasses.replace(snapshot, year=2027)
    with pytest.raises(InputError, match="là bảng điểm năm 2026, không phải năm 2027"):
        read_scoresheet("x.xlsx", _sheet_bytes(snapshot), other_year)
    with pytest.raises(InputError, match="không đúng|không phải|không đọc được"):
        read_scoresheet("x.xlsx", b"not a workbook at all", snapshot)


def test_a_refusal_midway_says_what_was_already_saved(workspace, monkeypatch):
    db, department_id, assessment_id, _ = workspace
    snapshot = snapshot_of(db, department_id)
    changes = read_scoresheet("x.xlsx", _edited(_sheet_bytes(snapshot), {("1.2.2", ENTRY): 1, ("2.1", ENTRY): 1}), snapshot)
    save = assessment_store.save_self_score

    def refuse_2_1(db, assessment_id, code, *args, **kwargs):
        if code == "2.1":
            raise InputError("Điểm tự chấm đã chốt.")
        return save(db, assessment_id, code, *args, **kwargs)

    monkeypatch.setattr(assessment_store, "save_self_score", refuse_2_1)
    with pytest.raises(InputError, match="Điểm tự chấm đã chốt. Đã lưu trước đó: tiêu chí 1.2.2; các tiêu chí còn lại"):
        apply_scoresheet_changes(db, assessment_id, changes, actor="an")
    assert assessment_store.list_scores(db, assessment_id)["1.2.2"].self_points == Decimal("1")


def test_applying_stale_changes_saves_nothing(workspace):
    db, department_id, assessment_id, _ = workspace
    snapshot = snapshot_of(db, department_id)
    changes = read_scoresheet("x.xlsx", _edited(_sheet_bytes(snapshot), {("1.2.2", ENTRY): 1, ("2.1", ENTRY): 1}), snapshot)
    version = assessment_store.list_scores(db, assessment_id)["2.1"].version
    assessment_store.save_self_score(db, assessment_id, "2.1", version, inputs={"value": 0.25}, actor="bình")
    with pytest.raises(ConflictError, match="2.1"):
        apply_scoresheet_changes(db, assessment_id, changes, actor="an")
    scores = assessment_store.list_scores(db, assessment_id)
    assert scores["1.2.2"].self_points == Decimal("0.75") and scores["2.1"].self_points == Decimal("0.25")


def test_appraisal_round_trip_after_the_lock(appraised):
    db, department_id, assessment_id, _ = appraised
    snapshot = snapshot_of(db, department_id)
    edited = _edited(_sheet_bytes(snapshot), {
        ("3.1", APPRAISED): 1.25,  # the survey's points, as the council publishes them
        ("1.1.1", REMARK): "Ban hành ngày 25/12/2025, sau thời hạn",
    })
    changes = read_scoresheet("tham-dinh.xlsx", edited, snapshot)
    assert changes.summary_lines() == [
        "Tiêu chí 1.1.1 (dòng 11): nhận xét thẩm định lần 1: «Ban hành sau ngày 20/12» → "
        "«Ban hành ngày 25/12/2025, sau thời hạn»",
        "Tiêu chí 3.1 (dòng 23): điểm thẩm định lần 1: (trống) → 1,25",
    ]
    assert apply_scoresheet_changes(db, assessment_id, changes, actor="snv", source=PROVINCE_RESULT,
                                    today=ROUND_1_DAY) == ["1.1.1", "3.1"]
    scores = assessment_store.list_scores(db, assessment_id)
    assert scores["3.1"].appraised_points == Decimal("1.25") and scores["3.1"].appraisal.round1_points == Decimal("1.25")
    assert scores["1.1.1"].appraisal_remark == "Ban hành ngày 25/12/2025, sau thời hạn"
    assert scores["1.1.1"].appraised_points == Decimal("0.5")
    # appraised 1.1.1 = 0,5, 3.1 = 1,25, nothing else yet: 1,75
    assert snapshot_of(db, department_id).rollup.total.appraised_points == Decimal("1.75")


def test_the_lock_decides_which_columns_can_be_taken_back(workspace):
    db, department_id, assessment_id, _ = workspace
    before_lock = snapshot_of(db, department_id)
    with_appraisal = io.BytesIO()
    write_scoresheet(before_lock, with_appraisal, with_appraisal=True)
    changes = read_scoresheet("x.xlsx", _edited(with_appraisal.getvalue(), {("1.1.1", APPRAISED): 0.5}), before_lock)
    assert changes.skipped_lines() == [
        "Dòng 11, tiêu chí 1.1.1: năm 2026 chưa chốt điểm tự chấm nên chưa nhập được điểm thẩm định."]
    lock_and_appraise(db, assessment_id)
    after_lock = snapshot_of(db, department_id)
    changes = read_scoresheet("x.xlsx", _edited(_sheet_bytes(after_lock), {("1.2.2", ENTRY): 1}), after_lock)
    assert changes.skipped_lines()[0].startswith("Dòng 15, tiêu chí 1.2.2: điểm tự chấm năm 2026 đã chốt, không sửa được")
    changes = read_scoresheet("x.xlsx", _edited(_sheet_bytes(after_lock), {("1.1.1", APPRAISED): 0.25}), after_lock)
    assert changes.skipped_lines() == [
        "Dòng 11, tiêu chí 1.1.1: điểm thẩm định 0,25: không phải điểm của một mức "
        "(Kịp thời: 1; Không kịp thời: 0,5; Không ban hành: 0)."]


# --------------------------------------------------------------------------- LibreOffice: recalculation, rendering


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """One workspace, its sheet (as exported and with one score edited) and report, converted by LibreOffice
    once: xlsx → xlsx (recalculated formulas), and sheet + report → PDF."""
    soffice = _require_tool("soffice")
    from scoring.store.db import Database, Settings

    folder = tmp_path_factory.mktemp("libreoffice")
    db = Database(Settings(data_dir=folder / "data", database_url=f"sqlite:///{folder / 'data' / 'cchc.db'}"))
    department_id, assessment_id, _ = build_workspace(db)
    lock_and_appraise(db, assessment_id)
    snapshot = snapshot_of(db, department_id)
    sheet = _sheet_bytes(snapshot)
    (folder / "bang-diem.xlsx").write_bytes(sheet)
    (folder / "bang-diem-sua.xlsx").write_bytes(_edited(sheet, {("1.2.2", ENTRY): 0.25, ("1.3.2", ENTRY): None}))
    write_report(snapshot, folder / "bao-cao.docx", charts=False)
    out = folder / "out"
    profile = f"-env:UserInstallation={(folder / 'profile').as_uri()}"  # never collide with a running office
    for target, names in (("xlsx", ["bang-diem.xlsx", "bang-diem-sua.xlsx"]), ("pdf", ["bang-diem.xlsx", "bao-cao.docx"])):
        subprocess.run([soffice, profile, "--headless", "--convert-to", target, "--outdir", str(out),
                        *[str(folder / n) for n in names]], check=True, capture_output=True, timeout=180)
    db.dispose()
    return snapshot, out


def _pdf_text(path: Path) -> str:
    _require_tool("pdftotext")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.libreoffice
def test_libreoffice_totals_equal_the_engine(converted):
    snapshot, out = converted
    sheet = load_workbook(out / "bang-diem.xlsx", data_only=True)[SHEET_SCORES]
    rows = _rows_by_code(sheet)
    rollup = snapshot.rollup
    for code, expected in EXPECTED.items():
        assert Decimal(str(sheet.cell(rows[code], 8).value)) == Decimal(expected) == rollup.node(code).self_points
        if code in EXPECTED_MAX:
            assert sheet.cell(rows[code], 3).value == EXPECTED_MAX[code] == rollup.node(code).applicable_max
    total_row = rows["3.1"] + 1
    assert sheet.cell(total_row, 8).value == EXPECTED_TOTAL == rollup.total.self_points
    assert sheet.cell(total_row, 3).value == EXPECTED_TOTAL_MAX
    assert Decimal(str(sheet.cell(total_row + 1, 8).value)) == EXPECTED_INDEX == rollup.index_self
    # appraised: 1.1.1 cut to 0,5 and the survey counted as given; a total is a sum only once complete
    assert [sheet.cell(rows[c], 9).value for c in ("1.1", "1", "2", "3")] == [
        "đang thẩm định 1/2", "đang thẩm định 1/6", None, 1.5]  # None: "" (nothing appraised yet)
    assert sheet.cell(total_row, 9).value == "đang thẩm định 2/8"  # never the partial sum 2
    assert sheet.cell(total_row + 1, 9).value == "đang thẩm định 2/8"  # no appraised index either
    text_cell = load_workbook(out / "bang-diem.xlsx")[SHEET_SCORES].cell(rows["2.1"], 12)
    assert text_cell.value == FORMULA_TEXT and text_cell.data_type == "s"  # LibreOffice keeps it text
    # a sheet saved by LibreOffice reads back the same: nothing changed
    assert not read_scoresheet("bang-diem.xlsx", (out / "bang-diem.xlsx").read_bytes(), snapshot)


@pytest.mark.libreoffice
def test_libreoffice_totals_follow_an_edited_score(converted):
    snapshot, out = converted
    sheet = load_workbook(out / "bang-diem-sua.xlsx", data_only=True)[SHEET_SCORES]
    rows = _rows_by_code(sheet)
    # 1.2 = min(2, 1,5 + 0,25) = 1,75; 1.3 = 0 (the deduction removed); area 1 = 3,75; total 3,75 + 0,5 + 1,5
    assert [sheet.cell(rows[c], 8).value for c in ("1.2", "1.3", "1")] == [1.75, 0, 3.75]
    assert sheet.cell(rows["3.1"] + 1, 8).value == 5.75
    # the edits are read back from LibreOffice's file too (and left out: this self-score is locked)
    changes = read_scoresheet("bang-diem-sua.xlsx", (out / "bang-diem-sua.xlsx").read_bytes(), snapshot)
    assert [p.split(",")[0:2] for p in changes.skipped_lines()] == [
        ["Dòng 15", " tiêu chí 1.2.2: điểm tự chấm năm 2026 đã chốt"],
        ["Dòng 18", " tiêu chí 1.3.2: điểm tự chấm năm 2026 đã chốt"]]
    assert not changes


@pytest.mark.libreoffice
def test_libreoffice_renders_the_sheet_and_report_with_vietnamese_text(converted):
    _, out = converted
    sheet = _pdf_text(out / "bang-diem.pdf")
    assert "BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2026" in sheet
    assert FORMULA_TEXT in sheet and "Kế hoạch số 15/KH-SDTTG ngày 18/12/2025" in sheet
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "NGƯỜI LẬP BIỂU", "THỦ TRƯỞNG CƠ QUAN"):
        assert line in sheet, line
    # points as the province's table writes them, whatever the machine's language: 2 and 0,75, not 2,00 / 0.75
    area_row = next(line for line in sheet.splitlines() if "Công tác chỉ đạo, điều hành CCHC" in line)
    assert area_row.split()[8:10] == ["6", "4"], area_row  # after the code and the name: maximum, self points
    assert "0,75" in sheet and "0.75" not in sheet and ",00" not in sheet
    report = _pdf_text(out / "bao-cao.pdf")
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ DÂN TỘC VÀ TÔN GIÁO",
                 "Kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm 2026", "GIÁM ĐỐC", TO_BE_WRITTEN):
        assert line in report, line
    assert "66,67%" in report


# --------------------------------------------------------------------------- report


def test_report_follows_the_administrative_format(workspace):
    db, department_id, _, _ = workspace
    buffer = io.BytesIO()
    write_report(snapshot_of(db, department_id), buffer, charts=False)
    document = Document(io.BytesIO(buffer.getvalue()))
    section = document.sections[0]
    def mm(length) -> float:
        return round(length.mm, 1)  # Word stores twips: 210 mm comes back as 210,004 mm

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)
    assert [mm(section.top_margin), mm(section.bottom_margin), mm(section.left_margin), mm(section.right_margin)] == [
        20, 20, 30, 15]
    assert document.styles["Normal"].font.name == "Times New Roman" and document.styles["Normal"].font.size.pt == 14

    letterhead = document.tables[0]
    left = [p for p in letterhead.cell(0, 0).paragraphs if p.text]
    right = [p for p in letterhead.cell(0, 1).paragraphs if p.text]
    # no governing body set and no province named by the set: the line is left to fill in, never invented
    assert left[0].text == "……………" and not left[0].runs[0].bold
    assert left[1].text == "SỞ DÂN TỘC VÀ TÔN GIÁO" and left[1].runs[0].bold
    assert left[2].text.startswith("Số:") and left[2].text.endswith("/BC-SDTTG")
    assert [p.text for p in right[:2]] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert right[1].runs[0].bold and right[1].runs[0].underline
    assert right[2].runs[0].italic and right[2].text == "……………, ngày      tháng      năm 2026"

    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts and "Kết quả tự đánh giá, chấm điểm Chỉ số CCHC năm 2026" in texts
    headings = [t for t in texts if t[:4] in ("I. K", "II. ", "III.")]
    assert headings == ["I. KẾT QUẢ TỰ ĐÁNH GIÁ, CHẤM ĐIỂM",
                        "II. GIẢI TRÌNH CÁC TIÊU CHÍ KHÔNG CÓ HOẶC THIẾU TÀI LIỆU KIỂM CHỨNG",
                        "III. KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ, ĐỀ XUẤT"]
    assert any("Tổng điểm tự đánh giá: 6/9 điểm; Chỉ số CCHC tự đánh giá: 66,67%." == t for t in texts)

    summary = [[c.text for c in row.cells] for row in document.tables[1].rows]
    assert summary == [
        ["STT", "Lĩnh vực", "Điểm tối đa", "Điểm tự đánh giá", "Tỷ lệ đạt"],
        ["I", "Công tác chỉ đạo, điều hành CCHC", "6", "4", "66,67%"],
        ["II", "Cải cách thủ tục hành chính", "1", "0,5", "50%"],
        ["III", "Tác động của CCHC", "2", "1,5", "75%"],
        ["", "Tổng cộng", "9", "6", "66,67%"],
    ]
    # section II, grouped by what is missing: one heading and one table for the criteria expecting evidence
    # and having none — 1.1.2, 1.2.2, 2.1 (2.2 does not apply) — what each asks for stated once, in its column
    assert "1. Thiếu tài liệu kiểm chứng" in texts and texts.count("1. Thiếu tài liệu kiểm chứng") == 1
    gaps = [[c.text for c in row.cells] for row in document.tables[2].rows]
    assert gaps == [
        ["Mã", "Tiêu chí thành phần", "Tự đánh giá", "Tài liệu cần có", "Giải trình"],
        ["1.1.2", "Mức độ thực hiện kế hoạch CCHC", "1", "Báo cáo CCHC năm", TO_BE_WRITTEN],
        ["1.2.2", "Hình thức tuyên truyền sáng tạo", "0,75", "Báo cáo", TO_BE_WRITTEN],
        ["2.1", "Công khai thủ tục hành chính", "0,5", "Quyết định công bố", FORMULA_TEXT],  # the person's own words
    ]
    assert not any("Tài liệu cần có:" in t for t in texts)
    assert not any(t.startswith("2. Tài liệu kiểm chứng chưa ghi đủ") for t in texts)  # every document has both
    prompts = [r for p in document.paragraphs for r in p.runs if r.text == TO_BE_WRITTEN]
    prompts += [r for row in document.tables[2].rows for p in row.cells[4].paragraphs for r in p.runs
                if r.text == TO_BE_WRITTEN]
    assert len(prompts) == 4 and all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in prompts)
    signature = document.tables[3]
    assert signature.cell(0, 0).paragraphs[0].text == "Nơi nhận:" and signature.cell(0, 1).paragraphs[0].text == "GIÁM ĐỐC"
    assert not document.inline_shapes


def test_a_report_of_a_half_scored_year_calls_its_index_provisional(workspace):
    db, department_id, assessment_id, _ = workspace
    stored = assessment_store.list_scores(db, assessment_id)["1.1.1"]
    assessment_store.save_self_score(db, assessment_id, "1.1.1", stored.version, inputs={}, actor="vp")  # the tier taken back
    snapshot = snapshot_of(db, department_id)
    assert not snapshot.rollup.self_index.complete
    buffer = io.BytesIO()
    write_report(snapshot, buffer, charts=False)
    document = Document(io.BytesIO(buffer.getvalue()))
    summary_line = next(p.text for p in document.paragraphs if p.text.startswith("Tổng điểm tự đánh giá"))
    assert summary_line.endswith("Chỉ số CCHC tự đánh giá: 55,56% (tạm tính: đã chấm 7/8 tiêu chí).")
    total_row = [c.text for c in document.tables[1].rows[-1].cells]
    assert total_row[0:2] == ["", "Tổng cộng"] and total_row[-1].endswith("(tạm tính)")


def test_report_adds_the_appraised_points_once_appraised(appraised):
    db, department_id, _, _ = appraised
    buffer = io.BytesIO()
    write_report(snapshot_of(db, department_id), buffer, charts=False)
    document = Document(io.BytesIO(buffer.getvalue()))
    summary = [[c.text for c in row.cells] for row in document.tables[1].rows]
    assert summary == [
        ["STT", "Lĩnh vực", "Điểm tối đa", "Điểm tự đánh giá", "Tỷ lệ đạt", "Điểm thẩm định"],
        # a partly appraised area says so: a partial sum would read as points cut
        ["I", "Công tác chỉ đạo, điều hành CCHC", "6", "4", "66,67%", "đang thẩm định 1/6"],
        ["II", "Cải cách thủ tục hành chính", "1", "0,5", "50%", "chưa thẩm định"],
        ["III", "Tác động của CCHC", "2", "1,5", "75%", "1,5"],
        ["", "Tổng cộng", "9", "6", "66,67%", "đang thẩm định 2/8"],
    ]
    # every leaf without evidence is explained now: section II quotes the explanations, no prompt left there
    assert [row.cells[4].text for row in document.tables[2].rows][1:] == [
        "Tỷ lệ lấy từ bảng theo dõi tiến độ kế hoạch", "Tổ chức tọa đàm trực tuyến", FORMULA_TEXT]
    assert sum(r.text == TO_BE_WRITTEN for p in document.paragraphs for r in p.runs) == 2  # section III only
    assert TO_BE_WRITTEN not in "".join(c.text for row in document.tables[2].rows for c in row.cells)


def test_report_names_the_superior_body_when_the_set_names_the_province(workspace):
    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    snapshot.criteria_set.province = "Sơn La"
    buffer = io.BytesIO()
    write_report(snapshot, buffer, charts=False)
    document = Document(io.BytesIO(buffer.getvalue()))
    left = [p.text for p in document.tables[0].cell(0, 0).paragraphs if p.text]
    assert left[:2] == ["UBND TỈNH SƠN LA", "SỞ DÂN TỘC VÀ TÔN GIÁO"]
    assert document.tables[0].cell(0, 1).paragraphs[-1].text.startswith("Sơn La, ngày")


def test_the_departments_letterhead_wins_over_the_province_of_the_set(workspace):
    db, department_id, _, _ = workspace
    department = department_store.list_departments(db)[0]
    department_store.update_department(db, department_id, department.version, name=department.name, units=department.units,
                           governing_body="UBND tỉnh Quảng Ninh", place="Hạ Long", actor="quantri")
    snapshot = snapshot_of(db, department_id)
    snapshot.criteria_set.province = "Sơn La"
    buffer = io.BytesIO()
    write_report(snapshot, buffer, charts=False)
    document = Document(io.BytesIO(buffer.getvalue()))
    left = [p.text for p in document.tables[0].cell(0, 0).paragraphs if p.text]
    assert left[:2] == ["UBND TỈNH QUẢNG NINH", "SỞ DÂN TỘC VÀ TÔN GIÁO"]
    assert document.tables[0].cell(0, 1).paragraphs[-1].text == "Hạ Long, ngày      tháng      năm 2026"


def test_report_lists_documents_without_their_number_or_date_under_their_own_heading(workspace):
    db, department_id, _, _ = workspace
    evidence_store.add_evidence(db, department_id, 2026, evidence_store.EvidenceInput(doc_type="Báo cáo", summary="Báo cáo quý I",
                                                                   link="https://example.org/quy-1"),
                      actor="vp", attachment=evidence_store.ATTACH_LINK, criteria=["1.3.1", "3.1"])
    buffer = io.BytesIO()
    write_report(snapshot_of(db, department_id), buffer, charts=False)
    texts = [p.text for p in Document(io.BytesIO(buffer.getvalue())).paragraphs]
    heading = texts.index("2. Tài liệu kiểm chứng chưa ghi đủ số, ký hiệu, ngày ban hành")
    # one line per document, naming the criteria it serves (not the survey leaf 3.1, which is not self-scored)
    assert texts[heading + 2] == "- Báo cáo: Báo cáo quý I (tiêu chí 1.3.1): chưa có số, ký hiệu và ngày ban hành."


# --------------------------------------------------------------------------- evidence bundle


def test_evidence_bundle_has_a_folder_per_criterion_and_an_index(workspace):
    db, department_id, _, _ = workspace
    store = EvidenceStore(db.settings.evidence_dir)
    buffer = io.BytesIO()
    write_evidence_bundle(snapshot_of(db, department_id), store, buffer)
    bundle = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert sorted(bundle.namelist()) == sorted([
        "1.1.1/Kế hoạch.pdf", "1.1.1/kế hoạch (2).pdf", "1.2.1/Kế hoạch.pdf", INDEX_NAME])
    assert bundle.read("1.1.1/Kế hoạch.pdf") == bundle.read("1.2.1/Kế hoạch.pdf") == _pdf(b"ke hoach")
    assert bundle.read("1.1.1/kế hoạch (2).pdf") == _pdf(b"quyet dinh")
    assert all(not n.startswith("/") and ".." not in n.split("/") for n in bundle.namelist())

    index = load_workbook(io.BytesIO(bundle.read(INDEX_NAME))).active
    rows = [[index.cell(r, c).value for c in range(2, 10)] for r in range(5, index.max_row + 1)]
    assert rows == [
        ["1.1.1", "Ban hành kế hoạch CCHC năm", "Kế hoạch số 15/KH-SDTTG ngày 18/12/2025", "15/KH-SDTTG",
         datetime(2025, 12, 18), None, "1.1.1/Kế hoạch.pdf", None],
        ["1.1.1", "Ban hành kế hoạch CCHC năm", "Quyết định số 20/QĐ-SDTTG ngày 05/01/2026", "20/QĐ-SDTTG",
         datetime(2026, 1, 5), None, "1.1.1/kế hoạch (2).pdf", None],
        ["1.2.1", "Tin, bài tuyên truyền", "Kế hoạch số 15/KH-SDTTG ngày 18/12/2025", "15/KH-SDTTG",
         datetime(2025, 12, 18), None, "1.2.1/Kế hoạch.pdf", None],
        ["1.3.1", "Báo cáo đúng hạn", "Báo cáo số -3/BC-SDTTG ngày 20/06/2026", "-3/BC-SDTTG",
         datetime(2026, 6, 20), None, None, "https://example.org/bao-cao"],
    ]
    assert index.cell(8, 9).hyperlink.target == "https://example.org/bao-cao"
    assert index.cell(8, 5).data_type == "s" and index.cell(8, 5).quotePrefix


def test_evidence_bundle_lists_a_lost_file_instead_of_failing(workspace):
    db, department_id, _, (_, same_name, _) = workspace
    store = EvidenceStore(db.settings.evidence_dir)
    store.path_for(same_name.file_key).unlink()
    buffer = io.BytesIO()
    entries = write_evidence_bundle(snapshot_of(db, department_id), store, buffer)
    assert [e.code for e in entries if e.missing_file] == ["1.1.1"]
    bundle = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    assert "1.1.1/kế hoạch (2).pdf" not in bundle.namelist()
    index = load_workbook(io.BytesIO(bundle.read(INDEX_NAME))).active
    assert index.cell(6, 8).value == "kế hoạch.pdf (không tìm thấy tệp trong kho lưu trữ)"


# --------------------------------------------------------------------------- charts and the summary


def test_charts_use_the_status_colours_and_the_engine_points(appraised):
    db, department_id, _, _ = appraised
    snapshot = snapshot_of(db, department_id)
    completion = completion_by_area_figure(snapshot)
    assert [t.name for t in completion.data] == [STATUS_LABELS[s] for s in STATUSES]
    assert [t.marker.color for t in completion.data] == [STATUS_COLOURS[s] for s in STATUSES]
    assert completion.data[0].y[0] == "I. Công tác chỉ đạo, điều hành"
    by_status = {t.name: sum(t.x) for t in completion.data}
    assert by_status["Hoàn thành"] == 3 and by_status["Đang thực hiện"] == 2 and sum(by_status.values()) == 22
    assert completion.layout.title.text == "Tiến độ Kế hoạch CCHC năm 2026 (3/22 hoàn thành)"
    assert completion.layout.separators == ",."

    scores = score_by_area_figure(snapshot)
    assert [t.name for t in scores.data] == ["Điểm tối đa", "Điểm tự đánh giá", "Điểm thẩm định"]
    assert list(scores.data[0].x) == [6, 1, 2] and list(scores.data[1].x) == [4, 0.5, 1.5]
    assert list(scores.data[2].x) == [None, None, 1.5]  # bars only where the appraisal is complete (the survey)
    assert scores.data[0].text[0] == "4/6 (66,7%)<br>đang thẩm định 1/6"
    assert scores.layout.title.text == "Điểm tự đánh giá theo lĩnh vực — tổng 6/9 điểm (66,67%)"
    assert scores.layout.xaxis.title.text == "Điểm"


@pytest.fixture(scope="module")
def chromium():
    return _require_tool("chromium") if not os.environ.get("BROWSER_PATH") else os.environ["BROWSER_PATH"]


def test_charts_export_as_png_and_svg(workspace, chromium):
    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    completion, scores = figures_png([completion_by_area_figure(snapshot), score_by_area_figure(snapshot)], width=700, scale=2)
    for image in (completion, scores):
        assert image.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(image[16:20], "big") == 1400  # IHDR width: 700 px × scale 2
    svg = figure_svg(score_by_area_figure(snapshot), width=700).decode("utf-8")
    assert svg.startswith("<svg") and "Điểm tự đánh giá theo lĩnh vực" in svg and "4/6 (66,7%)" in svg


def test_report_embeds_both_charts(workspace, chromium):
    db, department_id, _, _ = workspace
    buffer = io.BytesIO()
    write_report(snapshot_of(db, department_id), buffer, charts=True)
    document = Document(io.BytesIO(buffer.getvalue()))
    assert len(document.inline_shapes) == 2
    captions = [p.text for p in document.paragraphs if p.text.startswith("Hình ")]
    assert captions == ["Hình 1. Điểm tự đánh giá theo lĩnh vực năm 2026", "Hình 2. Tiến độ thực hiện Kế hoạch CCHC năm 2026"]


def test_summary_pdf_is_one_page_with_the_headline_numbers(workspace, chromium, tmp_path):
    db, department_id, _, _ = workspace
    target = tmp_path / "tom-tat.pdf"
    write_summary_pdf(snapshot_of(db, department_id), target)
    _require_tool("pdfinfo")
    info = subprocess.run(["pdfinfo", str(target)], capture_output=True, text=True, check=True).stdout
    assert "Pages:           1" in info and "pts (A4)" in info
    text = _pdf_text(target)
    for expected in ("TÓM TẮT KẾT QUẢ TỰ ĐÁNH GIÁ CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM 2026", "SỞ DÂN TỘC VÀ TÔN GIÁO",
                     "66,67%", "Công tác chỉ đạo, điều hành CCHC", "Số liệu đến ngày 20/12/2026"):
        assert expected in text, expected


def test_summary_html_escapes_database_text(workspace):
    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    hostile = dataclasses.replace(snapshot, department=dataclasses.replace(snapshot.department, name="<img src=x onerror=alert(1)>"))
    page = summary_html(hostile, [])
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


# --------------------------------------------------------------------------- command line


def _run_cli(argv, capsys) -> tuple[int, str, str]:
    from scoring import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "export" not in commands.choices:  # until scoring/cli.py wires the export commands itself
        add_export_commands(commands)
    args = parser.parse_args(argv)
    try:
        code = args.handler(args, sys.stdout)
    except InputError as problem:  # what scoring.cli.main does
        print(f"Lỗi: {problem}", file=sys.stderr)
        code = cli.EXIT_BAD_INPUT
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_commands_work_on_a_fresh_data_folder(tmp_path, capsys):
    sheet = tmp_path / "bang-diem.xlsx"
    code, out, _ = _run_cli(["export", "scoresheet", "--year", "2026", "-o", str(sheet)], capsys)
    assert code == 0 and out == f"Đã ghi bảng điểm: {sheet}\n"
    workbook = load_workbook(sheet)
    assert workbook[SHEET_SCORES]["A2"].value == "SỞ DÂN TỘC VÀ TÔN GIÁO"
    assert workbook[SHEET_PLAN].max_row - 3 == 22

    report = tmp_path / "bao-cao.docx"
    code, out, _ = _run_cli(["export", "report", "--year", "2026", "--no-charts", "-o", str(report)], capsys)
    assert code == 0 and Document(report).paragraphs[0].text == "BÁO CÁO"
    bundle = tmp_path / "tai-lieu.zip"
    code, out, _ = _run_cli(["export", "evidence", "--year", "2026", "-o", str(bundle)], capsys)
    assert code == 0 and zipfile.ZipFile(bundle).namelist() == [INDEX_NAME]


def test_export_commands_report_bad_input_in_vietnamese(tmp_path, capsys):
    code, _, err = _run_cli(["export", "scoresheet", "--year", "2025", "-o", str(tmp_path / "x.xlsx")], capsys)
    assert code == 2 and "Năm 2025 của Sở Dân tộc và Tôn giáo chưa có kỳ tự đánh giá" in err
    code, _, err = _run_cli(["export", "scoresheet", "--year", "2026", "--department", "9", "-o", str(tmp_path / "x.xlsx")], capsys)
    assert code == 2 and "Không có cơ quan mã 9" in err
    code, _, err = _run_cli(["export", "scoresheet", "--year", "2026", "-o", str(tmp_path / "khong-co" / "x.xlsx")], capsys)
    assert code == 2 and "không tồn tại" in err
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]  # nothing half-written


def test_a_chart_of_unchanged_data_is_drawn_once_whatever_the_exports_that_use_it(workspace, monkeypatch):
    from scoring.exports import charts

    db, department_id, assessment_id, _ = workspace
    charts.RENDER_CACHE.clear()
    drawn: list[dict] = []

    def render(path, specs):
        drawn.extend(opts for _, opts in specs)
        return [f"<svg>{len(drawn)}</svg>".encode() if opts["format"] == "svg" else b"png" for _, opts in specs]

    monkeypatch.setattr(charts.RENDERER, "render", render)
    monkeypatch.setenv("BROWSER_PATH", "/usr/bin/chromium")
    snapshot = snapshot_of(db, department_id)
    figures = [score_by_area_figure(snapshot), completion_by_area_figure(snapshot)]
    first = charts.figures_svg(figures, width=760)
    assert len(drawn) == 2 and charts.figures_svg(figures, width=760) == first and len(drawn) == 2
    charts.figures_png(figures[:1], width=780)  # another format or size is another image
    assert len(drawn) == 3
    # the data changes: its chart is drawn again, the other (unchanged) one is not
    stored = assessment_store.list_scores(db, assessment_id)["2.1"]
    assessment_store.save_self_score(db, assessment_id, "2.1", stored.version, inputs={"value": 1}, actor="vp")
    after = snapshot_of(db, department_id)
    again = charts.figures_svg([score_by_area_figure(after), completion_by_area_figure(after)], width=760)
    assert len(drawn) == 4 and again[0] != first[0] and again[1] == first[1]


def test_the_export_page_draws_the_charts_ahead_so_the_click_finds_them(workspace, monkeypatch):
    import threading

    from scoring.exports import charts
    from scoring.exports.summary_pdf import summary_charts

    db, department_id, _, _ = workspace
    charts.RENDER_CACHE.clear()
    drawn: list[str] = []
    monkeypatch.setattr(charts.RENDERER, "start_quietly", lambda path: None)
    monkeypatch.setattr(charts.RENDERER, "render", lambda path, specs: [
        drawn.append(opts["format"]) or b"<svg/>" for _, opts in specs])
    monkeypatch.setenv("BROWSER_PATH", "/usr/bin/chromium")
    snapshot = snapshot_of(db, department_id)
    charts.warm_up(lambda: summary_charts(snapshot))
    for thread in threading.enumerate():
        if thread.name == "kaleido-warm-up":
            thread.join(timeout=30)
    assert drawn == ["svg", "svg"]
    summary_charts(snapshot_of(db, department_id))  # the export, from a fresh read of the same data
    assert drawn == ["svg", "svg"]  # nothing drawn again


def test_a_missing_browser_is_a_sentence_and_the_next_export_still_works(workspace, chromium, monkeypatch, tmp_path):
    from scoring.exports import charts
    from scoring.exports.charts import ChartExportError

    db, department_id, _, _ = workspace
    figure = score_by_area_figure(snapshot_of(db, department_id))
    charts.RENDER_CACHE.clear()  # an image drawn by an earlier test would need no browser
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "khong-co-trinh-duyet"))
    with pytest.raises(ChartExportError, match="không chạy được trình duyệt"):
        figure_svg(figure)
    monkeypatch.setenv("BROWSER_PATH", chromium)  # the kept-open browser was dropped: a new one starts
    assert figure_svg(figure).startswith(b"<svg")


def test_exports_from_several_sessions_at_once_get_their_own_images(workspace, chromium):
    import threading

    db, department_id, _, _ = workspace
    snapshot = snapshot_of(db, department_id)
    figures = {"score": score_by_area_figure(snapshot), "completion": completion_by_area_figure(snapshot)}
    results: dict[str, bytes] = {}

    def export(name: str) -> None:
        results[name] = figure_svg(figures[name], width=700)

    threads = [threading.Thread(target=export, args=(name,)) for name in figures]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert "Điểm tự đánh giá theo lĩnh vực" in results["score"].decode("utf-8")
    assert "Tiến độ Kế hoạch CCHC" in results["completion"].decode("utf-8")

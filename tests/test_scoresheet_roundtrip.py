"""The score sheet round trip: every rule kind's inputs go out as editable cells, come back through the rule,
and what the sheet's own formulas show (recalculated by LibreOffice) is what the engine rolls up.

Export → edit with openpyxl as a person would in Excel → read (preview) → save → the stored scores; rows that
cannot be taken back are listed with their row and criterion, the others are saved; the computed cells are
formulas in locked cells; "không đánh giá" rows and an appraisal in progress read the same in the sheet as in
the engine; and the import as people meet it on the "Xuất, nhập tệp" page.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest
from test_exports import (
    PROVINCE_RESULT,
    ROUND_1_DAY,
    SET,
    _require_tool,
    build_workspace,
    lock_and_appraise,
    snapshot_of,
)

from scoring.assessment.snapshot import load_snapshot
from scoring.criteria.files import criteria_set_from_dict
from scoring.errors import InputError
from scoring.exports import scoresheet_import
from scoring.exports.scoresheet import write_scoresheet
from scoring.exports.scoresheet_import import ScoresheetError, apply_scoresheet_changes, read_scoresheet
from scoring.exports.scoresheet_layout import SHEET_SCORES
from scoring.store import actors, assessment_state, assessment_store, audit_trail, criteria_store, department_store

APP = str(Path(__file__).resolve().parent.parent / "app.py")
NA, ENTRY, NUM, DEN = "Không đánh giá (x)", "Mức đạt được, số lượng hoặc điểm", "Tử số", "Mẫu số"
SHEET_RULES = "Cách chấm"
SELF, APPRAISED, REMARK, EXPLANATION, CODE = "Điểm tự đánh giá", "Điểm thẩm định", "Nhận xét thẩm định", "Giải trình", "STT"
HEADER_ROW = 8  # under the agency block, the motto and the title; STT holds the criterion's code


@pytest.fixture
def workspace(db):
    department_id, assessment_id, _ = build_workspace(db)
    return db, department_id, assessment_id


def _sheet(snapshot, **options) -> bytes:
    buffer = io.BytesIO()
    write_scoresheet(snapshot, buffer, **options)
    return buffer.getvalue()


def _layout(sheet) -> tuple[dict[str, int], dict[str, int]]:
    columns = {sheet.cell(HEADER_ROW, c).value: c for c in range(1, sheet.max_column + 1)}
    total = next(r for r in range(HEADER_ROW + 1, sheet.max_row + 1) if sheet.cell(r, 2).value == "TỔNG CỘNG")
    rows = {sheet.cell(r, columns[CODE]).value: r for r in range(HEADER_ROW + 1, total)
            if sheet.cell(r, columns[CODE]).value}
    return rows, columns


def _edited(original: bytes, edits: dict[tuple[str, str], object]) -> bytes:
    """The sheet with cells changed as a person would in Excel: (criterion code, column header) → new value."""
    workbook = load_workbook(io.BytesIO(original))
    sheet = workbook[SHEET_SCORES]
    rows, columns = _layout(sheet)
    for (code, header), value in edits.items():
        sheet.cell(rows[code], columns[header]).value = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Every rule kind edited in its own input form (the SET of test_exports: expected points in the comments).
EDITS = {
    ("1.1.1", ENTRY): "không kịp thời",  # a tier, typed in another case: 0,5
    ("1.1.2", NUM): 19, ("1.1.2", DEN): 20,  # 95% → "Trên 90%": 2
    ("1.2.1", ENTRY): 3,  # 3 tin, bài × 0,25 = 0,75
    ("1.2.2", ENTRY): 0.25,  # free points
    ("1.3.2", ENTRY): 0,  # no late report after all
    ("2.1", NA): "x",  # now "không đánh giá"
    ("2.2", NA): None, ("2.2", ENTRY): "Đạt",  # no longer "không đánh giá": 1
    ("3.1", ENTRY): 1.75,  # survey points as published
}


def test_every_rule_kind_round_trips_through_its_inputs(workspace):
    db, department_id, assessment_id = workspace
    snapshot = snapshot_of(db, department_id)
    changes = read_scoresheet("bang-diem.xlsx", _edited(_sheet(snapshot), EDITS), snapshot)
    assert changes.skipped == [] and changes.missing_codes == []
    assert changes.summary_lines() == [
        "Tiêu chí 1.1.1 (dòng 11): điểm tự đánh giá: 1 → 0,5 (Mức «Không kịp thời»: 0,5 điểm)",
        "Tiêu chí 1.1.2 (dòng 12): điểm tự đánh giá: 1 → 2 (Tỷ lệ 95% (19/20) → Trên 90%: 2 điểm)",
        "Tiêu chí 1.2.1 (dòng 14): điểm tự đánh giá: 1,5 → 0,75 (3 tin, bài × 0,25 điểm = 0,75 điểm)",
        "Tiêu chí 1.2.2 (dòng 15): điểm tự đánh giá: 0,75 → 0,25 (Chấm 0,25 điểm (tối đa 1 điểm))",
        "Tiêu chí 1.3.2 (dòng 18): điểm tự đánh giá: -0,5 → 0 (Không có báo cáo nào bị trừ điểm: 0 điểm)",
        "Tiêu chí 2.1 (dòng 20): điểm tự đánh giá: 0,5 → không đánh giá",
        "Tiêu chí 2.2 (dòng 21): điểm tự đánh giá: không đánh giá → 1 (Mức «Đạt»: 1 điểm)",
        "Tiêu chí 3.1 (dòng 23): điểm tự đánh giá: 1,5 → 1,75 (Điểm điều tra XHH theo kết quả công bố: 1,75 điểm)",
    ]
    assert assessment_store.list_scores(db, assessment_id)["1.1.2"].inputs == {"numerator": 17, "denominator": 20}  # not yet
    saved = apply_scoresheet_changes(db, assessment_id, changes, actor="an")
    assert saved == ["1.1.1", "1.1.2", "1.2.1", "1.2.2", "1.3.2", "2.1", "2.2", "3.1"]

    scores = assessment_store.list_scores(db, assessment_id)
    assert {code: (s.inputs, s.self_points, s.not_applicable) for code, s in scores.items()} == {
        "1.1.1": ({"tier": "Không kịp thời"}, Decimal("0.5"), False),
        "1.1.2": ({"numerator": 19, "denominator": 20}, Decimal("2"), False),
        "1.2.1": ({"count": 3}, Decimal("0.75"), False),
        "1.2.2": ({"value": 0.25}, Decimal("0.25"), False),
        "1.3.1": ({"tier": 1}, Decimal("0"), False),
        "1.3.2": ({"occurrences": 0}, Decimal("0"), False),
        "2.1": ({"value": "0,5"}, None, True),  # its inputs are kept for when it applies again
        "2.2": ({"tier": "Đạt"}, Decimal("1"), False),
        "3.1": ({"survey": 1.75}, Decimal("1.75"), False),
    }
    assert {e.actor for e in audit_trail.audit_log(db, department_id, entity_key="2026/1.1.2", viewer=actors.SYSTEM_ACTOR)} >= {"an"}
    after = snapshot_of(db, department_id)
    # 1.1 = 0,5 + 2; 1.2 = 0,75 + 0,25; 1.3 = 0; area 2 = 1 of 1 (2.1 left out); 3 = 1,75: 6,25 of 9
    assert (after.rollup.total.self_points, after.rollup.total.applicable_max) == (Decimal("6.25"), Decimal("9"))
    # the sheet exported now reads back as it is: nothing to change
    again = read_scoresheet("bang-diem.xlsx", _sheet(after), after)
    assert not again and again.skipped == []


def _in_the_earlier_layout(sheet_bytes: bytes) -> bytes:
    """The sheet as exported before 01/12/2026: a "Mã" column holding the code beside an STT that numbered the
    rows as positions ("I", "1", "1.2"), the table right under a title, nothing below the index row."""
    workbook = load_workbook(io.BytesIO(sheet_bytes))
    sheet = workbook[SHEET_SCORES]
    for merged in list(sheet.merged_cells.ranges):  # openpyxl does not move merges with the rows and columns
        sheet.unmerge_cells(str(merged))
    rows, _ = _layout(sheet)
    last_row = max(rows.values()) + 2  # the total and index rows
    sheet.delete_rows(last_row + 1, sheet.max_row - last_row)  # the date line and the signatures
    sheet.insert_cols(2)
    sheet.cell(HEADER_ROW, 2).value = CODE_BEFORE
    for code, row in rows.items():
        sheet.cell(row, 2).value = code
        parts = code.split(".")
        sheet.cell(row, 1).value = "IVX"[int(parts[0]) - 1] if len(parts) == 1 else ".".join(parts[1:])
    sheet.delete_rows(1, 2)  # no agency block: the title starts the sheet
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


CODE_BEFORE = "Mã"


def test_a_sheet_exported_in_the_earlier_layout_still_reads_back_by_its_code_column(workspace):
    db, department_id, assessment_id = workspace
    snapshot = snapshot_of(db, department_id)
    earlier = _in_the_earlier_layout(_sheet(snapshot))
    assert not read_scoresheet("bang-diem-cu.xlsx", earlier, snapshot)  # unchanged: nothing to take back
    workbook = load_workbook(io.BytesIO(earlier))
    sheet = workbook[SHEET_SCORES]
    header = next(r for r in range(1, 20) if sheet.cell(r, 2).value == CODE_BEFORE)
    columns = {sheet.cell(header, c).value: c for c in range(1, sheet.max_column + 1)}
    row = next(r for r in range(header + 1, sheet.max_row + 1) if sheet.cell(r, 2).value == "1.2.1")
    assert sheet.cell(row, 1).value == "2.1"  # its STT, which is another criterion's code: never read as one
    sheet.cell(row, columns[ENTRY]).value = 3
    buffer = io.BytesIO()
    workbook.save(buffer)
    changes = read_scoresheet("bang-diem-cu.xlsx", buffer.getvalue(), snapshot)
    assert changes.summary_lines() == [
        f"Tiêu chí 1.2.1 (dòng {row}): điểm tự đánh giá: 1,5 → 0,75 (3 tin, bài × 0,25 điểm = 0,75 điểm)"]
    assert changes.skipped == [] and changes.missing_codes == []


def test_changing_a_ratio_within_its_band_stores_the_new_inputs(workspace):
    db, department_id, assessment_id = workspace
    snapshot = snapshot_of(db, department_id)
    changes = read_scoresheet("x.xlsx", _edited(_sheet(snapshot), {("1.1.2", NUM): 15}), snapshot)
    assert changes.summary_lines() == [
        "Tiêu chí 1.1.2 (dòng 12): thông tin chấm: Tỷ lệ 75% (15/20) → Từ 70% - 90%: 1 điểm (điểm không đổi)"]
    apply_scoresheet_changes(db, assessment_id, changes, actor="an")
    assert assessment_store.list_scores(db, assessment_id)["1.1.2"].inputs == {"numerator": 15, "denominator": 20}


def test_computed_cells_are_formulas_in_locked_cells_and_only_inputs_are_open(workspace):
    db, department_id, _ = workspace
    workbook = load_workbook(io.BytesIO(_sheet(snapshot_of(db, department_id))))
    sheet = workbook[SHEET_SCORES]
    rows, columns = _layout(sheet)
    assert sheet.protection.sheet and not sheet.protection.password
    unlocked = {(code, header) for code, row in rows.items() for header, column in columns.items()
                if header and not sheet.cell(row, column).protection.locked}
    assert unlocked == {
        ("1.1.1", ENTRY), ("1.1.2", NUM), ("1.1.2", DEN), ("1.2.1", ENTRY), ("1.2.2", ENTRY), ("1.3.1", ENTRY),
        ("1.3.2", ENTRY), ("2.1", ENTRY), ("2.2", ENTRY), ("3.1", ENTRY),
    } | {(code, header) for code in ("1.1.1", "1.1.2", "1.2.1", "1.2.2", "1.3.1", "1.3.2", "2.1", "2.2", "3.1")
         for header in (NA, EXPLANATION)}
    for code, row in rows.items():
        for header in ("Điểm tối đa", SELF):
            assert str(sheet.cell(row, columns[header]).value).startswith("="), (code, header)
    total_row = rows["3.1"] + 1
    assert all(str(sheet.cell(r, columns[SELF]).value).startswith("=") for r in (total_row, total_row + 1))
    # the inputs as the rules take them: a tier's label, a ratio's two numbers, a count, "x" for not assessed
    assert sheet.cell(rows["1.1.1"], columns[ENTRY]).value == "Kịp thời"
    assert [sheet.cell(rows["1.1.2"], columns[h]).value for h in (NUM, DEN)] == [17, 20]
    assert sheet.cell(rows["1.2.1"], columns[ENTRY]).value == 6
    assert sheet.cell(rows["2.2"], columns[NA]).value == "x"
    # tier formulas and lists point at the labels on sheet "Cách chấm": no label is copied into a formula
    formula = sheet.cell(rows["1.1.1"], columns[SELF]).value
    assert f"'{SHEET_RULES}'!$D$" in formula and "Kịp thời" not in formula
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"}
    cell = f"{sheet.cell(rows['1.1.1'], columns[ENTRY]).coordinate}"
    assert lists[cell].startswith(f"'{SHEET_RULES}'!$D$")
    assert workbook[SHEET_RULES].protection.sheet


def test_after_the_lock_only_the_appraisal_is_open(workspace):
    db, department_id, assessment_id = workspace
    lock_and_appraise(db, assessment_id)
    sheet = load_workbook(io.BytesIO(_sheet(snapshot_of(db, department_id))))[SHEET_SCORES]
    rows, columns = _layout(sheet)
    open_headers = {header for row in rows.values() for header, column in columns.items()
                    if header and not sheet.cell(row, column).protection.locked}
    assert open_headers == {APPRAISED, REMARK}


def test_rows_that_cannot_be_taken_back_are_listed_and_the_others_saved(workspace):
    db, department_id, assessment_id = workspace
    snapshot = snapshot_of(db, department_id)
    original = _sheet(snapshot)
    workbook = load_workbook(io.BytesIO(_edited(original, {
        ("1.1.1", ENTRY): "Rất tốt",  # no such tier
        ("1.1.2", NUM): 25,  # more than the denominator 20
        ("1.2.1", ENTRY): "6",  # a count typed as text: the sheet's formula does not count it either
        ("1.2.2", ENTRY): 0.5,  # fine
        ("1.3.1", SELF): 1,  # typed over the formula
        ("1.3.2", NA): "không",  # the column takes "x" only
        ("2.1", ENTRY): 0.3,  # off the 0,25 step
        ("3.1", ENTRY): 1.75,  # fine
    })))
    sheet = workbook[SHEET_SCORES]
    rows, columns = _layout(sheet)
    sheet.cell(rows["2.2"], columns[CODE]).value = "9.9"  # an unknown code
    buffer = io.BytesIO()
    workbook.save(buffer)

    changes = read_scoresheet("bang-diem.xlsx", buffer.getvalue(), snapshot)
    assert changes.skipped_lines() == [
        "Dòng 11, tiêu chí 1.1.1: không có mức «Rất tốt»; các mức: «Kịp thời»; «Không kịp thời»; «Không ban hành».",
        "Dòng 12, tiêu chí 1.1.2: Tử số 25 lớn hơn mẫu số 20. Dòng này không được nhập.",
        "Dòng 14, tiêu chí 1.2.1: ô «Mức đạt được, số lượng hoặc điểm» đang là chữ «6», không phải số; "
        "hãy nhập số (ô định dạng số).",
        "Dòng 17, tiêu chí 1.3.1: ô «Điểm tự đánh giá» được tính từ các ô nhập của dòng, không nhập tay được "
        "(đang là «1», các ô nhập cho 0); hãy nhập mức đạt được ở cột «Mức đạt được, số lượng hoặc điểm».",
        "Dòng 18, tiêu chí 1.3.2: ô «Không đánh giá (x)» chỉ nhận «x» (không đánh giá) hoặc để trống, đang là «không».",
        "Dòng 20, tiêu chí 2.1: Điểm 0,3 không theo bước 0,25 (làm tròn xuống là 0,25). Dòng này không được nhập.",
        "Dòng 21, tiêu chí 9.9: mã không có trong bộ tiêu chí «Bộ tiêu chí thử nghiệm xuất».",
    ]
    assert changes.missing_line() == ("Bảng không có dòng của 1 tiêu chí (2.2): "
                                      "điểm đang lưu của các tiêu chí này giữ nguyên.")
    assert [c.code for c in changes.changes] == ["1.2.2", "3.1"]
    before = assessment_store.list_scores(db, assessment_id)
    assert apply_scoresheet_changes(db, assessment_id, changes, actor="an") == ["1.2.2", "3.1"]
    after = assessment_store.list_scores(db, assessment_id)
    assert (after["1.2.2"].self_points, after["3.1"].self_points) == (Decimal("0.5"), Decimal("1.75"))
    for code in ("1.1.1", "1.1.2", "1.2.1", "1.3.1", "1.3.2", "2.1", "2.2"):
        assert (after[code].inputs, after[code].version) == (before[code].inputs, before[code].version), code


def test_the_lock_decides_which_rows_are_taken_back(workspace):
    db, department_id, assessment_id = workspace
    lock_and_appraise(db, assessment_id)
    snapshot = snapshot_of(db, department_id)
    workbook = load_workbook(io.BytesIO(_sheet(snapshot)))
    sheet = workbook[SHEET_SCORES]
    rows, columns = _layout(sheet)
    sheet.cell(rows["1.2.2"], columns[ENTRY]).value = 1  # locked cell edited after lifting the protection
    sheet.cell(rows["1.2.1"], columns[APPRAISED]).value = 1
    sheet.cell(rows["1.2.1"], columns[REMARK]).value = "Có 4 tin, bài đạt yêu cầu"
    buffer = io.BytesIO()
    workbook.save(buffer)
    changes = read_scoresheet("tham-dinh.xlsx", buffer.getvalue(), snapshot)
    assert changes.skipped_lines() == [
        "Dòng 15, tiêu chí 1.2.2: điểm tự chấm năm 2026 đã chốt, không sửa được điểm tự đánh giá và giải trình "
        "(cần mở lại điểm tự chấm trước)."]
    assert apply_scoresheet_changes(db, assessment_id, changes, actor="snv", source=PROVINCE_RESULT,
                                    today=ROUND_1_DAY) == ["1.2.1"]
    stored = assessment_store.list_scores(db, assessment_id)["1.2.1"]
    assert (stored.appraised_points, stored.appraisal_remark) == (Decimal("1"), "Có 4 tin, bài đạt yêu cầu")


def test_a_sheet_without_the_input_columns_is_refused_with_what_to_do(workspace):
    db, department_id, _ = workspace
    snapshot = snapshot_of(db, department_id)
    workbook = load_workbook(io.BytesIO(_sheet(snapshot)))
    sheet = workbook[SHEET_SCORES]
    _, columns = _layout(sheet)
    for header in (NUM, DEN):
        sheet.cell(HEADER_ROW, columns[header]).value = None
    buffer = io.BytesIO()
    workbook.save(buffer)
    with pytest.raises(ScoresheetError, match="không có cột «Tử số», «Mẫu số».*Hãy xuất lại bảng điểm"):
        read_scoresheet("bang-diem-cu.xlsx", buffer.getvalue(), snapshot)


def test_an_oversized_package_is_refused_before_openpyxl_opens_it(workspace, monkeypatch):
    db, department_id, _ = workspace
    snapshot = snapshot_of(db, department_id)
    source = zipfile.ZipFile(io.BytesIO(_sheet(snapshot)))
    padded = io.BytesIO()
    with zipfile.ZipFile(padded, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            archive.writestr(item, source.read(item))
        for number in range(600):  # well under check_upload's 10 000 parts for any Office file
            archive.writestr(f"xl/media/phan-{number}.xml", "<a/>")

    def must_not_open(*args, **kwargs):
        raise AssertionError("openpyxl opened the file")

    monkeypatch.setattr(scoresheet_import, "load_workbook", must_not_open)
    with pytest.raises(InputError, match=r"«bang-diem\.xlsx» có 614 thành phần .*tối đa 500"):
        read_scoresheet("bang-diem.xlsx", padded.getvalue(), snapshot)


# --------------------------------------------------------------------------- LibreOffice recalculates


def _expected_cells(rollup, code: str):
    """What the sheet must show for a node: (maximum, self points, appraised), as the engine has it."""
    node = rollup.total if code == "" else rollup.node(code)
    if node.not_applicable:
        return "—", "Không đánh giá", None
    if node.is_leaf:
        appraised = None if node.appraised_points is None else float(node.appraised_points)
    elif node.appraised_leaves == 0:
        appraised = None
    elif node.appraised_leaves < node.applicable_leaves:
        appraised = f"đang thẩm định {node.appraised_leaves}/{node.applicable_leaves}"
    else:
        appraised = float(node.appraised_points)
    self_points = None if node.self_points is None else float(node.self_points)
    return float(node.applicable_max), self_points, appraised


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_engine_roll_up(db, tmp_path):
    """The sheet's formulas, recalculated by LibreOffice, equal the engine's roll-up: with "không đánh giá"
    rows (2.2 as stored, a whole node 1.3 and 2.1 marked in the sheet) and an appraisal in progress; and the
    same edited file imported and saved gives the engine the figures LibreOffice shows."""
    soffice = _require_tool("soffice")
    department_id, assessment_id, _ = build_workspace(db)
    lock_and_appraise(db, assessment_id)
    stored = assessment_store.list_scores(db, assessment_id)
    for code, points in (("1.2.1", "1"), ("3.1", "1.5")):
        assessment_store.save_appraisal(db, assessment_id, code, stored[code].version, points=points, actor="snv",
                            source=PROVINCE_RESULT, today=ROUND_1_DAY)
    snapshot = snapshot_of(db, department_id)
    # appraised: 1.1.1, 1.2.1 and 3.1 of 8 applicable leaves: every area total but 3 is in progress
    assert snapshot.rollup.total.appraised_leaves == 3 and snapshot.rollup.total.applicable_leaves == 8

    exported = _sheet(snapshot)
    (tmp_path / "bang-diem.xlsx").write_bytes(exported)
    out = tmp_path / "out"
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    subprocess.run([soffice, profile, "--headless", "--convert-to", "xlsx", "--outdir", str(out),
                    str(tmp_path / "bang-diem.xlsx")], check=True, capture_output=True, timeout=180)
    sheet = load_workbook(out / "bang-diem.xlsx", data_only=True)[SHEET_SCORES]
    rows, columns = _layout(sheet)
    rows[""] = rows["3.1"] + 1
    for code in [*snapshot.rollup.nodes, ""]:
        shown = tuple(sheet.cell(rows[code], columns[h]).value for h in ("Điểm tối đa", SELF, APPRAISED))
        assert shown == _expected_cells(snapshot.rollup, code), code
    assert sheet.cell(rows[""], columns[SELF]).value == 6  # 4 + 0,5 + 1,5 of 9
    assert sheet.cell(rows[""], columns[APPRAISED]).value == "đang thẩm định 3/8"  # never a partial sum
    assert sheet.cell(rows[""] + 1, columns[SELF]).value == float(snapshot.rollup.index_self) == 66.67
    assert sheet.cell(rows[""] + 1, columns[APPRAISED]).value == "đang thẩm định 3/8"
    assert sheet.cell(rows["2.2"], columns["Điểm tối đa"]).value == "—"

    # the same sheet once every leaf is appraised (and 1.3.2's deduction confirmed): complete sums, an index
    db_scores = assessment_store.list_scores(db, assessment_id)
    for code, points in (("1.1.2", "1"), ("1.2.2", "0.5"), ("1.3.1", "0"), ("1.3.2", "-0.5"), ("2.1", "0.5")):
        assessment_store.save_appraisal(db, assessment_id, code, db_scores[code].version, points=points, actor="snv",
                            source=PROVINCE_RESULT, today=ROUND_1_DAY)
    complete = snapshot_of(db, department_id)
    assert complete.rollup.index_appraised is not None
    (tmp_path / "day-du.xlsx").write_bytes(_sheet(complete))
    subprocess.run([soffice, profile, "--headless", "--convert-to", "xlsx", "--outdir", str(out),
                    str(tmp_path / "day-du.xlsx")], check=True, capture_output=True, timeout=180)
    sheet = load_workbook(out / "day-du.xlsx", data_only=True)[SHEET_SCORES]
    for code in [*complete.rollup.nodes, ""]:
        shown = tuple(sheet.cell(rows[code], columns[h]).value for h in ("Điểm tối đa", SELF, APPRAISED))
        assert shown == _expected_cells(complete.rollup, code), code
    assert sheet.cell(rows[""] + 1, columns[APPRAISED]).value == float(complete.rollup.index_appraised)


@pytest.mark.libreoffice
def test_libreoffice_totals_of_an_edited_sheet_are_what_the_import_saves(db, tmp_path):
    soffice = _require_tool("soffice")
    department_id, assessment_id, _ = build_workspace(db)
    snapshot = snapshot_of(db, department_id)
    edited = _edited(_sheet(snapshot), {
        **EDITS,
        ("1.3.1", NA): "x", ("1.3.2", NA): "x",  # the whole node 1.3 left out: its maximum goes too
        ("1.1.2", NUM): 13,  # 65% → "Dưới 70%": 0
    })
    (tmp_path / "sua.xlsx").write_bytes(edited)
    out = tmp_path / "out"
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    subprocess.run([soffice, profile, "--headless", "--convert-to", "xlsx", "--outdir", str(out),
                    str(tmp_path / "sua.xlsx")], check=True, capture_output=True, timeout=180)
    recalculated = (out / "sua.xlsx").read_bytes()
    changes = read_scoresheet("sua.xlsx", recalculated, snapshot)  # LibreOffice's own file reads back
    assert changes.skipped == [] and len(changes.changes) == 9  # EDITS and 1.3.1
    apply_scoresheet_changes(db, assessment_id, changes, actor="an")
    after = snapshot_of(db, department_id).rollup
    assert after.node("1.3").not_applicable and after.node("2").self_points == Decimal("1")
    sheet = load_workbook(io.BytesIO(recalculated), data_only=True)[SHEET_SCORES]
    rows, columns = _layout(sheet)
    rows[""] = rows["3.1"] + 1
    for code in [*after.nodes, ""]:
        shown = tuple(sheet.cell(rows[code], columns[h]).value for h in ("Điểm tối đa", SELF))
        assert shown == _expected_cells(after, code)[:2], code
    assert sheet.cell(rows[""] + 1, columns[SELF]).value == float(after.index_self)


@pytest.mark.libreoffice
def test_every_rule_formula_matches_the_rule(db, tmp_path):
    """Each rule kind's formula against scoring.criteria.rules, at band edges, steps, caps and floors, and on input the
    rule refuses ("Không hợp lệ" in the sheet, a problem for the rule). LibreOffice computes."""
    soffice = _require_tool("soffice")
    rules_set = {**SET, "total_max": 6, "nodes": [{"code": "1", "name": "Mọi cách chấm", "max": 6, "children": [
        {"code": "1.1", "name": "Tỷ lệ theo mức", "max": 2,
         "rule": {"kind": "ratio", "tiers": [{"label": "Từ 80% trở lên", "points": 2},
                                             {"label": "Từ 50% đến dưới 80%", "points": 1},
                                             {"label": "Dưới 50%", "points": 0}]}},
        {"code": "1.2", "name": "Tỷ lệ thuận", "max": 2,
         "rule": {"kind": "ratio", "proportional": True, "floor_percent": 30, "step": 0.25}},
        {"code": "1.3", "name": "Đếm", "max": 1, "rule": {"kind": "count", "per_item": 0.25, "unit": "tin"}},
        {"code": "1.4", "name": "Điểm trừ", "max": 0,
         "rule": {"kind": "deduction", "per_occurrence": 0.5, "floor": -1, "unit": "lần"}},
        {"code": "1.5", "name": "Tự do", "max": 1, "rule": {"kind": "value", "step": 0.25}},
    ]}]}
    department_id = department_store.create_department(db, "Sở Thử", ["Văn phòng"], actor=actors.SYSTEM_ACTOR)
    set_id = criteria_store.save_criteria_set(db, criteria_set_from_dict(rules_set), actor=actors.SYSTEM_ACTOR)
    assessment_store.open_assessment(db, department_id, 2026, set_id)
    snapshot = load_snapshot(db, department_id, 2026)
    criteria = snapshot.criteria_set
    # (numerator, denominator) for both ratios; the same numerator is the count, the deductions and the value
    cases = [(8, 10), (4, 5), (7999, 10000), (1, 2), (49, 100), (0, 3), (3, 3), (17, 20), (3, 10), (29, 100),
             (1, 3), (5, 4), (2, 0), (0.75, 1), (0.3, 1), (1.5, 2), (-1, 2)]
    out = tmp_path / "out"
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"
    names = []
    for number, (numerator, denominator) in enumerate(cases):
        edits = {(code, header): value for code in ("1.1", "1.2")
                 for header, value in ((NUM, numerator), (DEN, denominator))}
        edits |= {(code, ENTRY): numerator for code in ("1.3", "1.4", "1.5")}
        names.append(tmp_path / f"cach-cham-{number}.xlsx")
        names[-1].write_bytes(_edited(_sheet(snapshot), edits))
    subprocess.run([soffice, profile, "--headless", "--convert-to", "xlsx", "--outdir", str(out),
                    *map(str, names)], check=True, capture_output=True, timeout=300)
    inputs_of = {"1.3": "count", "1.4": "occurrences", "1.5": "value"}
    for path, (numerator, denominator) in zip(names, cases):
        sheet = load_workbook(out / path.name, data_only=True)[SHEET_SCORES]
        rows, columns = _layout(sheet)
        for code in ("1.1", "1.2", "1.3", "1.4", "1.5"):
            inputs = ({inputs_of[code]: numerator} if code in inputs_of
                      else {"numerator": numerator, "denominator": denominator})
            result = criteria.node(code).rule.score(inputs)
            expected = "Không hợp lệ" if result.problems else float(result.points)
            assert sheet.cell(rows[code], columns[SELF]).value == expected, (code, inputs)


# --------------------------------------------------------------------------- the page


def test_the_import_on_the_page_lists_skipped_rows_and_saves_the_rest():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    from scoring.store.db import open_database

    db = open_database()
    department = department_store.list_departments(db)[0]
    assessment = assessment_state.get_assessment(db, department.id, 2026)
    snapshot = load_snapshot(db, department.id, 2026)
    edited = _edited(_sheet(snapshot), {
        ("1.1.4", NUM): 19, ("1.1.4", DEN): 20,  # "Mức độ thực hiện kế hoạch CCHC": 95% → 2 points
        ("1.3.2", ENTRY): "nhiều",  # not a count
        ("1.1.1", ENTRY): "Ban hành không kịp thời",
    })
    at.switch_page("views/xuat_tep.py").run()
    at.file_uploader(key="scoresheet-upload").upload(
        "bang-diem.xlsx", edited, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet").run()
    assert not at.exception
    assert [e.value for e in at.error] == ["1 dòng không nhập được, điểm đang lưu của các tiêu chí này giữ nguyên:"]
    shown = [m.value.replace("\\", "") for m in at.markdown]
    assert any(line.startswith("- Dòng ") and "tiêu chí 1.3.2: ô «Mức đạt được, số lượng hoặc điểm» đang là chữ «nhiều»"
               in line for line in shown), shown
    assert [w.value for w in at.warning] == ["2 tiêu chí thay đổi:"]
    assert assessment_store.list_scores(db, assessment.id) == {}  # nothing saved before confirming
    at.button(key="scoresheet-apply").click().run()
    assert not at.exception
    scores = assessment_store.list_scores(db, assessment.id)
    assert set(scores) == {"1.1.1", "1.1.4"}
    assert (scores["1.1.4"].inputs, scores["1.1.4"].self_points) == ({"numerator": 19, "denominator": 20}, Decimal("2"))
    assert scores["1.1.1"].self_points == Decimal("0.5")
    assert any("Đã lưu 2 tiêu chí từ bảng điểm «bang-diem.xlsx»; 1 dòng không nhập được đã bỏ qua." in s.value.replace("\\", "")
               for s in at.success)

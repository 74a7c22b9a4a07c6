"""Criteria sets in the provinces' Excel layout: reading real table shapes, row errors, export and round trip."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from scoring.criteria.excel import CRITERIA_SHEET, INFO_SHEET, export_criteria_xlsx, import_criteria_xlsx
from scoring.criteria.files import load_criteria_set
from scoring.criteria.model import CriteriaSet, CriterionNode, validate
from scoring.criteria.rules import RatioRule, TiersRule, ValueRule, score_leaf
from scoring.defaults import bundled_criteria_path
from scoring.errors import InputError

D = Decimal
FIXTURES = Path(__file__).parent / "fixtures" / "criteria"


@pytest.fixture(scope="module")
def template() -> CriteriaSet:
    return load_criteria_set(bundled_criteria_path())


# --------------------------------------------------------------------------- reading


def test_ca_mau_table_with_a_two_row_merged_header():
    criteria = load_criteria_set(FIXTURES / "ca-mau-2-dong-tieu-de.xlsx")
    assert criteria.name == "TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CỦA CÁC SỞ, BAN, NGÀNH NĂM 2013"
    assert criteria.year == 2013
    assert criteria.total_max == D(7)
    assert [node.code for node in criteria.walk()] == [
        "1", "1.1", "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.2", "1.2.1", "1.2.2"
    ]
    assert criteria.parent_codes()["1.1.4"] == "1.1"
    assert criteria.node("1").name == "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CCHC"
    assert criteria.warnings == []
    assert validate(criteria) == []


def test_ca_mau_tier_rows_become_rules():
    criteria = load_criteria_set(FIXTURES / "ca-mau-2-dong-tieu-de.xlsx")
    first = criteria.node("1.1.1").rule
    assert isinstance(first, TiersRule)
    assert [(t.label, t.points) for t in first.tiers] == [
        ("Ban hành kịp thời", D(1)), ("Không kịp thời", D("0.5")), ("Không ban hành", D(0))
    ]
    plan = criteria.node("1.1.4").rule
    assert isinstance(plan, RatioRule) and plan.max_points == D(2)
    assert score_leaf(plan, {"numerator": 9, "denominator": 10}).points == D(1)  # 90% is inside "từ 70% - 90%"
    assert score_leaf(plan, {"numerator": 91, "denominator": 100}).points == D(2)
    assert score_leaf(plan, {"numerator": 7, "denominator": 10}).points == D(1)
    both = criteria.node("1.2.1").rule  # "- Đủ và đúng hạn: 1; không: 0" on one row
    assert [(t.label, t.points) for t in both.tiers] == [("Đủ và đúng hạn", D(1)), ("không", D(0))]


def test_roman_areas_bullets_inline_rules_and_fallbacks():
    criteria = load_criteria_set(FIXTURES / "so-la-ma.xlsx")
    assert [node.code for node in criteria.walk()] == ["1", "1.1", "1.2", "1.2.1", "1.2.2", "2", "2.1", "2.2"]
    assert criteria.name == "BỘ TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CCHC CÁC SỞ NĂM 2025"
    assert criteria.year == 2025
    assert criteria.node("1.1").evidence == "Kế hoạch CCHC năm"
    plan = criteria.node("1.1").rule  # "+" rows with the points in the "Điểm tối đa" column
    assert [(t.label, t.points) for t in plan.tiers] == [
        ("Ban hành đúng hạn", D(2)), ("Ban hành chậm", D(1)), ("Không ban hành", D(0))
    ]
    inline = criteria.node("1.2.1")  # the rule written inside the name cell
    assert inline.name == "Ban hành kế hoạch tuyên truyền"
    assert [(t.label, t.points) for t in inline.rule.tiers] == [("Kịp thời", D(1)), ("Không kịp thời", D("0.5"))]
    assert criteria.node("1.2").cap_children  # 1 + 2 > 2
    assert isinstance(criteria.node("2.1").rule, RatioRule)

    unread = criteria.node("1.2.2")
    assert unread.rule == ValueRule(D(2))
    assert "Cách chấm gốc (chưa đọc được): Theo mức độ đa dạng, do Hội đồng thẩm định quyết định" in unread.note
    assert criteria.node("2.2").rule == ValueRule(D(1))

    warnings = [f"{w.where}: {w.message}" for w in criteria.warnings]
    assert warnings == [
        "Dòng 9: tổng điểm các tiêu chí con của 1.2 (3) vượt điểm tối đa 2: điểm tối đa được coi là mức trần.",
        "Dòng 11: tiêu chí 1.2.2: không đọc được cách chấm «Theo mức độ đa dạng, do Hội đồng thẩm định quyết định»; "
        "tạm dùng chấm tự do từ 0 đến 2 điểm, bước 0,25.",
        "Dòng 18: tiêu chí 2.2 chưa có cách chấm; tạm dùng chấm tự do từ 0 đến 1 điểm, bước 0,25.",
        "Bảng tiêu chí: không có dòng «Tổng cộng»: tổng điểm lấy bằng tổng các lĩnh vực (7).",
    ]
    assert criteria.total_max == D(7)
    assert not any(issue.is_error for issue in validate(criteria))


def test_malformed_table_lists_every_bad_row_and_imports_nothing():
    with pytest.raises(InputError) as caught:
        load_criteria_set(FIXTURES / "loi-dinh-dang.xlsx")
    assert str(caught.value) == (
        "Tệp «loi-dinh-dang.xlsx», trang «Tiêu chí»: bảng tiêu chí có lỗi, chưa nhập gì:\n"
        "- Dòng 2: dòng cách chấm «Ban hành kịp thời: 1» không thuộc tiêu chí nào (không có STT ở phía trên).\n"
        "- Dòng 4: điểm tối đa «abc» không phải là số.\n"
        "- Dòng 5: trùng mã «1.1» (đã có ở dòng 4).\n"
        "- Dòng 6: mã «1.3.1» không có tiêu chí cha «1.3» ở phía trên.\n"
        "- Dòng 7: STT «a)» không phải mã tiêu chí (cần dạng 1, 1.1, 1.1.1 hoặc I, II).\n"
        "- Dòng 8: thiếu tên lĩnh vực/tiêu chí."
    )


def test_not_an_excel_file_and_a_sheet_without_the_table(tmp_path):
    with pytest.raises(InputError, match="không phải tệp Excel .xlsx đọc được"):
        import_criteria_xlsx(b"PK\x03\x04 not really a workbook", source_name="hong.xlsx")
    workbook = openpyxl.Workbook()
    workbook.active["A1"] = "Danh sách cán bộ"
    path = tmp_path / "khac.xlsx"
    workbook.save(path)
    with pytest.raises(InputError, match="không tìm thấy bảng tiêu chí"):
        load_criteria_set(path)


def test_total_row_that_is_not_a_number(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in (["STT", "Tiêu chí", "Điểm tối đa"], ["1", "Lĩnh vực", 1], [None, "- Đạt: 1", None],
                [None, "- Không đạt: 0", None], [None, "Tổng cộng", "một trăm"]):
        sheet.append(row)
    path = tmp_path / "tong.xlsx"
    workbook.save(path)
    with pytest.raises(InputError, match="Dòng 5: tổng điểm «một trăm» không phải là số"):
        load_criteria_set(path)


# --------------------------------------------------------------------------- writing and round trip


def test_export_then_import_gives_an_equal_set(template, tmp_path):
    path = tmp_path / "bo-tieu-chi.xlsx"
    export_criteria_xlsx(template, path)
    again = load_criteria_set(path)
    assert again == template
    assert (again.name, again.template, again.sources, again.year) == (
        template.name, template.template, template.sources, template.year
    )


def test_export_to_a_buffer(template):
    buffer = io.BytesIO()
    export_criteria_xlsx(template, buffer)
    assert import_criteria_xlsx(buffer.getvalue(), source_name="tai-ve.xlsx") == template


def test_export_layout(template, tmp_path):
    path = tmp_path / "bo.xlsx"
    export_criteria_xlsx(template, path)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == [CRITERIA_SHEET, INFO_SHEET]
    sheet = workbook[CRITERIA_SHEET]
    assert [sheet.cell(4, c).value for c in (1, 2, 3, 4)] == [
        "STT", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "Điểm tối đa", "Điểm đánh giá"
    ]
    assert [sheet.cell(5, c).value for c in (4, 5, 6)] == ["Điều tra XHH", "Tự đánh giá", "SNV đánh giá"]
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A4:A5", "C4:C5", "D4:F4"} <= merged
    rows = list(sheet.iter_rows(min_row=6, values_only=True))
    assert rows[0][:3] == ("1", "Công tác chỉ đạo, điều hành CCHC", 13)
    assert sheet.cell(6, 2).font.b and not sheet.cell(8, 2).font.b  # areas bold, criteria not
    assert rows[3][:3] == (None, "- Ban hành kịp thời (trước ngày 20/12 năm trước): 1", None)
    assert rows[-1][1:3] == ("Tổng cộng", 100)
    tier_rows = [r for r in rows if r[0] is None and r[1] and r[1].startswith("- ")]
    assert len(tier_rows) >= len(template.leaves())


def test_user_text_never_becomes_a_formula(tmp_path):
    dangerous = ["=SUM(A1:A3)", "+84 912", "-1 điểm", "@cmd"]
    leaves = [CriterionNode(f"1.{i}", text, D(1), rule=ValueRule(D(1)), evidence="=HYPERLINK(\"x\")",
                            note="@note") for i, text in enumerate(dangerous, start=1)]
    criteria = CriteriaSet(name="=Bộ tiêu chí", nodes=[CriterionNode("1", "Lĩnh vực", D(4), leaves)],
                           total_max=D(4), sources=["+nguồn"])
    path = tmp_path / "an-toan.xlsx"
    export_criteria_xlsx(criteria, path)

    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    sheet = openpyxl.load_workbook(path)[CRITERIA_SHEET]
    name_cells = [sheet.cell(row, 2) for row in range(7, 7 + 2 * len(dangerous), 2)]
    assert [cell.value for cell in name_cells] == dangerous
    assert all(cell.data_type == "s" and cell.quotePrefix for cell in name_cells)
    assert sheet.cell(1, 1).data_type == "s" and sheet.cell(1, 1).value == "=Bộ tiêu chí"

    again = load_criteria_set(path)
    assert [leaf.name for leaf in again.leaves()] == dangerous
    assert again.name == "=Bộ tiêu chí" and again.sources == ["+nguồn"]
    assert again.leaves()[0].evidence == '=HYPERLINK("x")'


def test_control_characters_in_user_text_do_not_break_the_export(tmp_path):
    leaf = CriterionNode("1.1", "Tiêu chí\x07 có ký tự lạ", D(1), rule=ValueRule(D(1)))
    criteria = CriteriaSet(name="Bộ", nodes=[CriterionNode("1", "Lĩnh vực", D(1), [leaf])], total_max=D(1))
    path = tmp_path / "ky-tu.xlsx"
    export_criteria_xlsx(criteria, path)
    assert load_criteria_set(path).node("1.1").name == "Tiêu chí có ký tự lạ"

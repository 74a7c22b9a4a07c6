"""Criteria tables in a Word annex: every quirk of the published annexes read exactly as the same table in Excel.

The quirky annex below has the title in paragraphs, a two-row header with merged cells (vertical, and
"Điểm đánh giá" across its three sub-columns), the column-number row, areas in capitals with Roman STT,
one area whose STT cell is merged with its name, a criterion whose STT and maximum are merged down over
its rule rows, rule rows with the points in the "Điểm tối đa" column, rule lines inside the name cell
(after a line break, and as paragraphs of their own), the header repeated at a page break inside a table,
three tables (the second after a page break with its own header, the third continuing without one), a
total row merged across STT and name, and a signature table after it. The same rows, with the same
merges, are written to an .xlsx: both readers must give the same set.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from annex_builder import HEADER, Table, build_docx, build_xlsx, header, row

from scoring.cli import main as cli_main
from scoring.criteria.files import CRITERIA_EXTENSIONS, load_criteria_set, load_criteria_set_bytes
from scoring.criteria.model import validate
from scoring.criteria.rules import RatioRule, TiersRule, ValueRule
from scoring.criteria.word import import_criteria_docx
from scoring.defaults import bundled_criteria_path
from scoring.errors import InputError

D = Decimal
TITLE = [
    "ỦY BAN NHÂN DÂN TỈNH SƠN LA",
    "Phụ lục I",
    "TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CỦA CÁC SỞ, BAN, NGÀNH NĂM 2025",
    "(Kèm theo Quyết định số 2211/QĐ-UBND ngày 31/8/2025 của UBND tỉnh)",
]


def quirky_tables() -> list[Table]:
    first, merges = header(0)
    first += [
        row("I", "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CCHC", "7"),
        row("1", "Kế hoạch CCHC năm", "5"),
        row("1.1", "Ban hành kế hoạch CCHC năm", "1"),  # row 5: STT and maximum merged down over its rules
        row("", "- Ban hành kịp thời: 1"),
        row("", "- Không kịp thời: 0,5"),
        row("", "- Không ban hành: 0"),
        row("1.2", "Mức độ thực hiện kế hoạch CCHC", "2"),
        row("", "+ Thực hiện trên 90% kế hoạch", "2"),
        row("", "+ Thực hiện từ 70% - 90% kế hoạch", "1"),
        row("", "+ Thực hiện dưới 70% kế hoạch", "0"),
    ]
    merges += [(5, 0, 8, 0), (5, 2, 8, 2)]
    repeated, repeated_merges = header(len(first))  # typed again where the page breaks
    first += repeated
    merges += repeated_merges
    first += [
        row("1.3", "Ban hành kế hoạch tuyên truyền CCHC\n- Kịp thời: 1\n- Không kịp thời: 0,5", "1"),
        row("1.4", ["Tổ chức hội nghị, tập huấn về CCHC", "Có tổ chức: 1", "Không tổ chức: 0"], "1"),
        row("2", "Báo cáo CCHC", "2"),
        row("2.1", "Báo cáo định kỳ gửi đúng thời gian", "1"),
        row("", "- Đủ và đúng hạn: 1; không: 0"),
        row("2.2", "Báo cáo có đầy đủ nội dung theo hướng dẫn", "1", note="Theo Công văn của Sở Nội vụ"),
        row("", "Đạt: 1"),
        row("", "Không đạt: 0"),
    ]
    second, second_merges = header(0)
    second += [
        row("II. CẢI CÁCH THỂ CHẾ", "", "3"),  # STT merged with the name cell
        row("1", "Xây dựng văn bản quy phạm pháp luật", "2"),
        row("1.1", "Tỷ lệ văn bản ban hành đúng kế hoạch", "2"),
        row("", "- Trên 90%: 2"),
        row("", "- Từ 70% - 90%: 1"),
        row("", "- Dưới 70%: 0"),
        row("1.2", "Rà soát văn bản theo quy định", "1"),
        row("", "- Có rà soát: 1"),
        row("", "- Không rà soát: 0"),
        row("2", "Kiểm tra việc thi hành văn bản", "1"),
    ]
    second_merges += [(3, 0, 3, 1)]
    third = [
        row("III", "CẢI CÁCH THỦ TỤC HÀNH CHÍNH", "2"),
        row("1", "Công khai thủ tục hành chính", "2"),
        row("", "- Đầy đủ, đúng quy định: 2"),
        row("", "- Chưa đầy đủ: 1"),
        row("", "- Không công khai: 0"),
        row("Tổng cộng", "", "12"),
        row("", "Điểm tối đa của các lĩnh vực cộng lại"),  # after the total: not part of the table
    ]
    signature = Table([["Nơi nhận:\n- Các sở, ban, ngành;\n- Lưu: VT.", "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"]])
    return [
        Table(first, merges, repeat_header_rows=2),
        Table(second, second_merges, page_break_before=True, before=["Phần II"]),
        Table(third, [(5, 0, 5, 1)]),
        signature,
    ]


@pytest.fixture(scope="module")
def quirky_docx() -> bytes:
    return build_docx(quirky_tables(), TITLE)


@pytest.fixture(scope="module")
def quirky_xlsx() -> bytes:
    return build_xlsx(quirky_tables(), TITLE)


def _without_position(issues) -> list[str]:
    return [issue.message for issue in issues]


def test_the_word_annex_reads_as_the_same_table_in_excel(quirky_docx, quirky_xlsx):
    from_word = load_criteria_set_bytes("phu-luc.docx", quirky_docx)
    from_excel = load_criteria_set_bytes("phu-luc.xlsx", quirky_xlsx)
    assert from_word == from_excel
    assert from_word.to_dict() == from_excel.to_dict()
    assert _without_position(from_word.warnings) == _without_position(from_excel.warnings)
    assert validate(from_word) == validate(from_excel)


def test_what_the_quirky_annex_holds(quirky_docx):
    criteria = load_criteria_set_bytes("phu-luc.docx", quirky_docx)
    assert criteria.name == "TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CỦA CÁC SỞ, BAN, NGÀNH NĂM 2025"
    assert criteria.year == 2025
    assert criteria.total_max == D(12)
    assert [node.code for node in criteria.walk()] == [
        "1", "1.1", "1.1.1", "1.1.2", "1.1.3", "1.1.4", "1.2", "1.2.1", "1.2.2",
        "2", "2.1", "2.1.1", "2.1.2", "2.2",
        "3", "3.1",
    ]
    parents = criteria.parent_codes()
    assert (parents["1.1.3"], parents["2.1.2"], parents["3.1"], parents["3"]) == ("1.1", "2.1", "3", None)
    assert criteria.node("1").name == "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CCHC"
    assert criteria.node("2").name == "CẢI CÁCH THỂ CHẾ"
    assert [node.max_points for node in criteria.nodes] == [D(7), D(3), D(2)]

    def tiers(code):
        rule = criteria.node(code).rule
        assert isinstance(rule, TiersRule), code
        return [(tier.label, tier.points) for tier in rule.tiers]

    assert tiers("1.1.1") == [("Ban hành kịp thời", D(1)), ("Không kịp thời", D("0.5")), ("Không ban hành", D(0))]
    assert isinstance(criteria.node("1.1.2").rule, RatioRule)  # "+" rows with their points in "Điểm tối đa"
    assert criteria.node("1.1.3").name == "Ban hành kế hoạch tuyên truyền CCHC"  # rule after a line break
    assert tiers("1.1.3") == [("Kịp thời", D(1)), ("Không kịp thời", D("0.5"))]
    assert criteria.node("1.1.4").name == "Tổ chức hội nghị, tập huấn về CCHC"  # rule in paragraphs of its own
    assert tiers("1.1.4") == [("Có tổ chức", D(1)), ("Không tổ chức", D(0))]
    assert tiers("1.2.1") == [("Đủ và đúng hạn", D(1)), ("không", D(0))]
    assert tiers("1.2.2") == [("Đạt", D(1)), ("Không đạt", D(0))]
    assert criteria.node("1.2.2").note == "Theo Công văn của Sở Nội vụ"
    assert isinstance(criteria.node("2.1.1").rule, RatioRule)
    assert criteria.node("2.1").cap_children  # 2 + 1 > 2
    assert criteria.node("2.2").rule == ValueRule(D(1))
    assert tiers("3.1") == [("Đầy đủ, đúng quy định", D(2)), ("Chưa đầy đủ", D(1)), ("Không công khai", D(0))]
    assert not any(issue.is_error for issue in validate(criteria))


def test_positions_name_the_table_and_row_of_the_word_file(quirky_docx):
    criteria = import_criteria_docx(quirky_docx, "phu-luc.docx")
    assert [f"{w.where}: {w.message}" for w in criteria.warnings] == [
        "Bảng 2, dòng 5: tổng điểm các tiêu chí con của 2.1 (3) vượt điểm tối đa 2: điểm tối đa được coi là mức trần.",
        "Bảng 2, dòng 13: tiêu chí 2.2 chưa có cách chấm; tạm dùng chấm tự do từ 0 đến 1 điểm, bước 0,25.",
    ]


def test_the_total_row_is_never_a_criterion_nor_a_tier(quirky_docx):
    criteria = load_criteria_set_bytes("phu-luc.docx", quirky_docx)
    texts = [node.name for node in criteria.walk()]
    texts += [tier.label for leaf in criteria.leaves() if isinstance(leaf.rule, TiersRule) for tier in leaf.rule.tiers]
    assert not any(re.search(r"(?i)tổng cộng|cộng lại|nơi nhận|chủ tịch", text) for text in texts)
    assert criteria.node("3.1").rule.max_points == D(2)


def _one_table(rows, merges=()) -> bytes:
    top, header_merges = header(0)
    return build_docx([Table(top + rows, [*header_merges, *merges])], ["BỘ TIÊU CHÍ NĂM 2026"])


def test_malformed_rows_are_listed_with_table_and_row_and_nothing_is_read():
    data = _one_table([
        row("", "- Ban hành kịp thời: 1"),
        row("1", "CÔNG TÁC CHỈ ĐẠO", "abc"),
        row("1.1", "Kế hoạch", "1"),
        row("1.1", "Kế hoạch lần nữa", "1"),
        row("1.3.1", "Không có cha", "1"),
        row("a)", "Không phải mã", "1"),
        row("Tổng cộng", "", "3"),
    ])
    with pytest.raises(InputError) as caught:
        load_criteria_set_bytes("loi.docx", data)
    assert str(caught.value) == (
        "Tệp «loi.docx»: bảng tiêu chí có lỗi, chưa nhập gì:\n"
        "- Bảng 1, dòng 4: dòng cách chấm «Ban hành kịp thời: 1» không thuộc tiêu chí nào (không có STT ở phía trên).\n"
        "- Bảng 1, dòng 5: điểm tối đa «abc» không phải là số.\n"
        "- Bảng 1, dòng 7: trùng mã «1.1» (đã có ở bảng 1, dòng 6).\n"
        "- Bảng 1, dòng 8: mã «1.3.1» không có tiêu chí cha «1.3» ở phía trên.\n"
        "- Bảng 1, dòng 9: STT «a)» không phải mã tiêu chí (cần dạng 1, 1.1, 1.1.1 hoặc I, II)."
    )


def test_a_total_row_that_is_not_a_number_is_named():
    data = _one_table([row("1", "Lĩnh vực", "1"), row("", "- Đạt: 1"), row("", "- Không đạt: 0"),
                       row("", "Tổng cộng", "một trăm")])
    with pytest.raises(InputError, match="Bảng 1, dòng 7: tổng điểm «một trăm» không phải là số"):
        load_criteria_set_bytes("tong.docx", data)


@pytest.fixture
def mismatched_annex(tmp_path):
    data = _one_table([
        row("1", "CÔNG TÁC CHỈ ĐẠO", "5"),
        row("1.1", "Ban hành kế hoạch", "1"), row("", "- Kịp thời: 1"), row("", "- Không kịp thời: 0"),
        row("1.2", "Báo cáo", "1"), row("", "- Đạt: 1"), row("", "- Không đạt: 0"),
        row("", "Tổng cộng", "5"),
    ])
    path = tmp_path / "lech-diem.docx"
    path.write_bytes(data)
    return path


def test_mismatched_maxima_are_named_with_both_figures_and_the_check_exits_2(mismatched_annex, capsys):
    messages = [issue.message for issue in validate(load_criteria_set_bytes("lech-diem.docx", mismatched_annex.read_bytes()))]
    assert any("tổng điểm tối đa các tiêu chí con là 2, khác điểm tối đa 5" in message for message in messages)
    assert cli_main(["criteria", "check", str(mismatched_annex)]) == 2
    out = capsys.readouterr().out
    assert "tổng điểm tối đa các tiêu chí con là 2, khác điểm tối đa 5" in out
    assert "Kết luận: KHÔNG dùng được bộ tiêu chí này" in out


def test_the_check_command_reads_a_word_annex(tmp_path, quirky_docx, capsys):
    path = tmp_path / "phu-luc.docx"
    path.write_bytes(quirky_docx)
    assert cli_main(["criteria", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Tổng điểm tối đa: 12 điểm · 3 lĩnh vực · 10 tiêu chí chấm điểm" in out
    assert "Kết luận: dùng được để chấm điểm." in out


def test_a_document_without_the_table_and_files_that_are_not_word():
    plain = docx.Document()
    plain.add_paragraph("Danh sách cán bộ")
    buffer = io.BytesIO()
    plain.save(buffer)
    with pytest.raises(InputError, match="không tìm thấy bảng tiêu chí"):
        load_criteria_set_bytes("khac.docx", buffer.getvalue())
    with pytest.raises(InputError, match=r"«cu\.docx»: không phải tệp Word \.docx đọc được.*\.doc cũ"):
        load_criteria_set_bytes("cu.docx", b"\xd0\xcf\x11\xe0 an old binary .doc")
    with pytest.raises(InputError, match="nội dung thực ra là bảng tính Excel"):
        load_criteria_set_bytes("doi-ten.docx", build_xlsx([Table([HEADER[0]])]))


def test_the_accepted_types_are_said_with_word_and_pdf(tmp_path, capsys):
    assert {".docx", ".pdf"} <= set(CRITERIA_EXTENSIONS)
    path = tmp_path / "bo.odt"
    path.write_bytes(b"x")
    assert cli_main(["criteria", "check", str(path)]) == 2
    assert "chỉ nhận .yaml, .yml, .json, .xlsx, .docx, .pdf" in capsys.readouterr().out


# --------------------------------------------------------------------------- the realistic annex fixture

ANNEX = Path(__file__).parent / "fixtures" / "criteria" / "phu-luc-tieu-chi-2026.docx"


def tree_of(criteria) -> list[tuple]:
    """What an annex carries of a set: codes, names (areas compared without case), maxima, parents, rules."""
    parents = criteria.parent_codes()
    return [(node.code, node.name.upper() if node.level == 1 else node.name, node.max_points, parents[node.code],
             node.cap_children, node.rule if node.is_leaf else None) for node in criteria.walk()]


def test_the_realistic_annex_reads_as_the_template_it_was_written_from():
    template = load_criteria_set(bundled_criteria_path())
    annex = load_criteria_set(ANNEX)
    assert annex.name == "TIÊU CHÍ XÁC ĐỊNH CHỈ SỐ CẢI CÁCH HÀNH CHÍNH CỦA CÁC SỞ, BAN, NGÀNH NĂM 2026"
    assert annex.year == 2026 and annex.total_max == template.total_max == D(100)
    assert tree_of(annex) == tree_of(template)
    assert annex.node("1.1.1").note == template.node("1.1.1").evidence  # the evidence stood in Ghi chú
    assert [f"{w.where}: {w.message}" for w in annex.warnings] == [
        "Bảng 2, dòng 28: tổng điểm các tiêu chí con của 1.3 (4) vượt điểm tối đa 3: điểm tối đa được coi là mức trần."
    ]
    assert not any(issue.is_error for issue in validate(annex))


def test_the_check_command_reads_the_realistic_annex(capsys):
    assert cli_main(["criteria", "check", str(ANNEX)]) == 0
    out = capsys.readouterr().out
    assert "Tổng điểm tối đa: 100 điểm · 8 lĩnh vực · 47 tiêu chí chấm điểm" in out
    assert "Kết luận: dùng được để chấm điểm." in out

"""Every importer refuses, before parsing, a file that would take the server's memory: Office packages
that unpack too large or hold too many parts, sheets with too many rows, text with too many lines; the
sentence names the file, comes at once, and the refusal itself needs next to no memory."""

from __future__ import annotations

import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from docx import Document

from scoring import import_limits
from scoring.criteria.excel import import_criteria_xlsx
from scoring.criteria.files import load_criteria_set_bytes
from scoring.errors import InputError
from scoring.plan.importer import load_plan_bytes


def _padded(data: bytes, part: str, megabytes: int) -> bytes:
    """The same package with `part` inflated by whitespace: a real file on the outside, a bomb inside."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == part:
                tag = b"<sheetData>" if b"<sheetData>" in content else b"<w:body>"
                content = content.replace(tag, tag + b" " * (megabytes * 1024 * 1024), 1)
            target.writestr(info, content)
    return out.getvalue()


def _workbook(rows: int, header=("STT", "Lĩnh vực/Tiêu chí", "Điểm tối đa")) -> bytes:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Tiêu chí")
    sheet.append(list(header))
    for number in range(1, rows):
        sheet.append([number, f"Tiêu chí {number}", 1])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _docx() -> bytes:
    document = Document()
    document.add_paragraph("KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM 2026")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _refused_quickly_and_lightly(read, name: str, words: str) -> None:
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(InputError) as refusal:
            read()
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"«{name}»" in str(refusal.value) and words in str(refusal.value), str(refusal.value)
    assert elapsed < 2, elapsed
    assert peak < 64 * 1024 * 1024, peak  # a refusal never builds the document


@pytest.mark.parametrize("name, make, part", [
    ("ke-hoach.xlsx", lambda: _workbook(10), "xl/worksheets/sheet1.xml"),
    ("ke-hoach.docx", _docx, "word/document.xml"),
])
def test_a_plan_package_that_unpacks_to_a_gigabyte_is_refused_before_parsing(name, make, part):
    bomb = _padded(make(), part, 200)
    assert len(bomb) < 1024 * 1024
    _refused_quickly_and_lightly(lambda: load_plan_bytes(name, bomb), name, "khi giải nén sẽ lớn 200")


def test_a_criteria_workbook_that_unpacks_too_large_is_refused_before_parsing():
    bomb = _padded(_workbook(10), "xl/worksheets/sheet1.xml", 100)
    _refused_quickly_and_lightly(lambda: import_criteria_xlsx(bomb, "bo-tieu-chi.xlsx"), "bo-tieu-chi.xlsx", "khi giải nén")


def test_a_criteria_sheet_of_forty_thousand_rows_is_refused_by_its_row_count():
    sheet = _workbook(40_000)
    assert len(sheet) < import_limits.MAX_IMPORT_UNPACKED_BYTES  # small enough to pass the size check
    _refused_quickly_and_lightly(lambda: import_criteria_xlsx(sheet, "bo-tieu-chi.xlsx"), "bo-tieu-chi.xlsx",
                                 "trang tính hơn 3.000 dòng")


def test_a_plan_sheet_with_too_many_rows_is_refused_by_its_row_count(monkeypatch):
    monkeypatch.setattr("scoring.plan.importer.MAX_PLAN_ROWS", 500)
    sheet = _workbook(2_000, header=("Mục tiêu", "Nhiệm vụ", "Hoạt động"))
    _refused_quickly_and_lightly(lambda: load_plan_bytes("ke-hoach.xlsx", sheet), "ke-hoach.xlsx", "trang tính hơn 500 dòng")


def test_a_plan_text_with_too_many_lines_is_refused():
    text = ("x\t" * 7 + "\n").encode() * (import_limits.MAX_PLAN_ROWS + 5)
    _refused_quickly_and_lightly(lambda: load_plan_bytes("ke-hoach.txt", text), "ke-hoach.txt", "tối đa 50.000")


def test_a_package_of_thousands_of_parts_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_workbook(5))) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        for number in range(import_limits.MAX_IMPORT_PARTS + 1):
            target.writestr(f"xl/media/x{number}.bin", b"")
    _refused_quickly_and_lightly(lambda: load_plan_bytes("ke-hoach.xlsx", out.getvalue()), "ke-hoach.xlsx", "thành phần")


def test_unnumbered_activities_are_numbered_in_order_in_a_large_plan():
    # numbering keeps the area's numbers as a set and its maximum: every activity still gets the next number
    header = "TT\tMục tiêu\tNhiệm vụ\tHoạt động\tKết quả/sản phẩm\tChủ trì\tPhối hợp\tThời gian hoàn thành"
    rows = [header, "I\tCẢI CÁCH THỂ CHẾ" + "\t" * 6]
    rows += [f"1\tMục tiêu 1\tNhiệm vụ 1\tViệc số {n}\tBáo cáo\tVăn phòng\t\tQuý IV" for n in range(1, 3001)]
    plan = load_plan_bytes("ke-hoach.txt", ("KẾ HOẠCH CCHC NĂM 2026\n" + "\n".join(rows)).encode())
    numbers = [a.number for a in plan.activities]
    assert numbers == list(range(1, 3001))


def test_a_criteria_word_annex_that_unpacks_too_large_is_refused_before_parsing():
    bomb = _padded(_docx(), "word/document.xml", 100)
    assert len(bomb) < 1024 * 1024
    _refused_quickly_and_lightly(lambda: load_criteria_set_bytes("phu-luc.docx", bomb), "phu-luc.docx", "khi giải nén")


def test_a_criteria_word_annex_with_too_many_table_rows_is_refused_by_its_row_count():
    document = Document()
    document.add_table(rows=1, cols=3)
    out = io.BytesIO()
    document.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    annex = io.BytesIO()
    with zipfile.ZipFile(annex, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "word/document.xml":
                start, end = content.index(b"<w:tr>"), content.index(b"</w:tr>") + len(b"</w:tr>")
                content = content[:start] + content[start:end] * 4_000 + content[end:]
            target.writestr(info, content)
    _refused_quickly_and_lightly(lambda: load_criteria_set_bytes("phu-luc.docx", annex.getvalue()), "phu-luc.docx",
                                 "các bảng hơn 3.000 dòng")

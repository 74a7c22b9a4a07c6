"""Criteria tables in a PDF: a Word annex printed to PDF reads as the Word file (and the same table in Excel);
a scanned PDF, a file that is no PDF, one of too many pages and one without a ruled table are refused in
Vietnamese before (or instead of) being parsed.

The committed fixture PDF was printed by LibreOffice (tests/fixtures/criteria/make_annex.py), so it is
read on every machine; the quirky annex of test_criteria_docx is printed here, which needs LibreOffice
(skipped without it on a developer's machine, a failure in CI, as in tests/test_exports.py).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import time
from pathlib import Path

import pypdfium2
import pytest
from annex_builder import WIDTHS_CM, build_docx, build_xlsx
from PIL import Image, ImageDraw
from test_criteria_docx import ANNEX, TITLE, quirky_tables, tree_of

from scoring.cli import main as cli_main
from scoring.criteria.files import load_criteria_set, load_criteria_set_bytes
from scoring.errors import InputError
from scoring.import_limits import MAX_CRITERIA_PDF_PAGES

ANNEX_PDF = ANNEX.with_suffix(".pdf")


def test_the_printed_annex_reads_as_its_word_file():
    from_pdf = load_criteria_set(ANNEX_PDF)
    from_word = load_criteria_set(ANNEX)
    assert from_pdf == from_word
    assert from_pdf.to_dict() == from_word.to_dict()
    assert tree_of(from_pdf) == tree_of(from_word)
    # positions name the page and the row of the page's part of the table
    assert [f"{w.where}: {w.message}" for w in from_pdf.warnings] == [
        "Trang 2, dòng 15: tổng điểm các tiêu chí con của 1.3 (4) vượt điểm tối đa 3: điểm tối đa được coi là mức trần."
    ]


def test_the_check_command_reads_the_printed_annex(capsys):
    assert cli_main(["criteria", "check", str(ANNEX_PDF)]) == 0
    out = capsys.readouterr().out
    assert "Tổng điểm tối đa: 100 điểm · 8 lĩnh vực · 47 tiêu chí chấm điểm" in out
    assert "Kết luận: dùng được để chấm điểm." in out


def _soffice() -> str:
    path = shutil.which("soffice")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI cần «soffice» (scripts/test.sh cài gói Debian tương ứng).")
        pytest.skip("máy này không có soffice")
    return path


@pytest.mark.libreoffice
def test_the_quirky_annex_printed_by_libreoffice_reads_as_the_same_table_in_excel(tmp_path):
    tables = quirky_tables()
    for table in tables[:3]:  # a criteria table laid out on the page, its rows kept whole across pages
        table.widths_cm, table.rows_stay_whole = WIDTHS_CM, True
    (tmp_path / "phu-luc.docx").write_bytes(build_docx(tables, TITLE))
    profile = f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}"  # never collide with a running office
    subprocess.run([_soffice(), profile, "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path),
                    str(tmp_path / "phu-luc.docx")], check=True, capture_output=True, timeout=180)
    from_pdf = load_criteria_set_bytes("phu-luc.pdf", (tmp_path / "phu-luc.pdf").read_bytes())
    from_excel = load_criteria_set_bytes("phu-luc.xlsx", build_xlsx(quirky_tables(), TITLE))
    assert from_pdf == from_excel
    assert from_pdf.to_dict() == from_excel.to_dict()
    assert [w.message for w in from_pdf.warnings] == [w.message for w in from_excel.warnings]
    assert [w.where for w in from_pdf.warnings] == ["Trang 3, bảng 1, dòng 5", "Trang 3, bảng 1, dòng 13"]


def _picture_pdf() -> bytes:
    """A scanned page: a picture of a table, no text layer."""
    page = Image.new("RGB", (842, 595), "white")
    draw = ImageDraw.Draw(page)
    for y in range(100, 500, 40):
        draw.line([(50, y), (790, y)], fill="black", width=2)
    draw.text((60, 110), "STT  Linh vuc/Tieu chi  Diem toi da", fill="black")
    buffer = io.BytesIO()
    page.save(buffer, format="PDF")
    return buffer.getvalue()


def test_a_scanned_pdf_is_refused_with_a_sentence_saying_it_has_no_text():
    with pytest.raises(InputError) as caught:
        load_criteria_set_bytes("ban-quet.pdf", _picture_pdf())
    assert str(caught.value) == (
        "Tệp «ban-quet.pdf» là bản quét (chỉ có hình ảnh), không có chữ để đọc. Văn phòng hãy dùng tệp Word "
        "(.docx) hoặc Excel (.xlsx) của bộ tiêu chí — xin cơ quan ban hành nếu chưa có."
    )


def _text_pdf(text: str) -> bytes:
    """A one-page PDF with a line of text and no table, written object by object."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def test_a_pdf_with_text_but_no_ruled_table_says_so():
    with pytest.raises(InputError, match=r"«thu\.pdf»: không tìm thấy bảng có đường kẻ nào trong tệp PDF"):
        load_criteria_set_bytes("thu.pdf", _text_pdf("Danh sach can bo"))


def test_a_file_that_is_no_pdf_is_refused_before_parsing():
    with pytest.raises(InputError, match=r"«doi-ten\.pdf»: không phải tệp PDF"):
        load_criteria_set_bytes("doi-ten.pdf", build_xlsx([]))
    with pytest.raises(InputError, match=r"«hong\.pdf»: tệp PDF bị hỏng"):
        load_criteria_set_bytes("hong.pdf", b"%PDF-1.7\nnot really a pdf")


def test_a_pdf_of_too_many_pages_is_refused_without_reading_its_pages():
    document = pypdfium2.PdfDocument.new()
    for _ in range(MAX_CRITERIA_PDF_PAGES + 1):
        document.new_page(842, 595)
    buffer = io.BytesIO()
    document.save(buffer)
    document.close()
    started = time.perf_counter()
    with pytest.raises(InputError) as caught:
        load_criteria_set_bytes("dai.pdf", buffer.getvalue())
    assert time.perf_counter() - started < 2
    assert str(caught.value) == "Tệp «dai.pdf» có 51 trang (tối đa 50 trang cho một tệp nhập); không đọc tệp này."


def test_pdf_and_word_are_pinned_with_what_they_need():
    pins = (Path(__file__).parent.parent / "requirements.txt").read_text(encoding="utf-8")
    for pin in ("pdfplumber==0.11.10", "pdfminer.six==", "pypdfium2==", "python-docx==1.2.0"):
        assert pin in pins

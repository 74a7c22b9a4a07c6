"""Limits every importer checks before it parses a file: plan, criteria set and score sheet.

An importer, unlike the evidence store, opens what it receives (python-docx and openpyxl build the whole
document in memory, several times larger than its XML), so one file could take the server and everybody's
session with it. Before any parser runs:

- an Office package (.docx/.xlsx is a zip) is judged by its directory alone, nothing inflated: the sizes
  its parts declare (the zip reader never inflates a part past its declared size), their number and the
  compression ratio;
- a workbook's rows (and a Word document's table rows) are counted in its sheets' (document's) XML as it
  is inflated, chunk by chunk (constant memory), and counting stops at the limit;
- text is counted by its lines;
- a PDF is checked to be one and its pages are counted from its page tree, no page read.

The limits sit far above any real plan (a few hundred rows) or criteria set (about a hundred rows) and
well below what would take the server's memory: a file over them is refused with a sentence naming the
file, in well under 2 seconds.
"""

from __future__ import annotations

import io
import re
import zipfile

from scoring.errors import InputError
from scoring.textnorm import format_number

MAX_IMPORT_UNPACKED_BYTES = 25 * 1024 * 1024  # parsed in memory: keep the parse within a few hundred MB
MAX_IMPORT_PARTS = 1_000  # a real .docx/.xlsx has a few dozen parts
MAX_IMPORT_COMPRESSION_RATIO = 100
MAX_PLAN_ROWS = 50_000
MAX_CRITERIA_ROWS = 3_000
MAX_SCORESHEET_ROWS = 5_000
MAX_TABLE_COLUMNS = 64  # a criteria table has about ten; a sheet "used" to column XFD is read no further
MAX_CRITERIA_PDF_PAGES = 50  # an annex is a few to about thirty pages; each page's tables take a parse


def check_package(name: str, data: bytes, *, max_unpacked: int = MAX_IMPORT_UNPACKED_BYTES,
                  max_parts: int = MAX_IMPORT_PARTS) -> None:
    """Refuse an Office package that would unpack to more than an importer may parse (InputError naming `name`).

    Anything that is not a readable zip passes: the importer's own check says what the file really is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, KeyError):
        return
    unpacked = sum(info.file_size for info in infos)
    if len(infos) > max_parts:
        raise InputError(f"Tệp «{name}» có {format_number(len(infos), 0)} thành phần (một tệp Word/Excel thường chỉ vài chục; "
                         f"tối đa {format_number(max_parts, 0)}), có thể là tệp độc hại; không đọc tệp này.")
    if unpacked > max_unpacked or unpacked > MAX_IMPORT_COMPRESSION_RATIO * max(len(data), 1):
        raise InputError(f"Tệp «{name}» khi giải nén sẽ lớn {_megabytes(unpacked)} (tối đa {_megabytes(max_unpacked)} "
                         "cho một tệp nhập), quá lớn hoặc có thể là tệp độc hại; không đọc tệp này. Hãy kiểm tra lại tệp, "
                         "xóa các trang tính, hình ảnh không cần thiết rồi lưu lại.")


def check_workbook_rows(name: str, data: bytes, max_rows: int) -> None:
    """Refuse a workbook with a sheet of more than `max_rows` rows.

    The rows are counted in each sheet's XML as it is inflated chunk by chunk (constant memory, no shared
    strings read, counting stops at the limit). Call after `check_package`; a package that cannot be read
    passes (the importer's own read then says why)."""
    _check_part_rows(name, data, _SHEET_PART, _ROW_TAG, max_rows,
                     f"Tệp «{name}» có trang tính hơn {format_number(max_rows, 0)} dòng "
                     f"(tối đa {format_number(max_rows, 0)}); không đọc tệp này. Hãy xóa các dòng thừa rồi lưu lại.")


def check_document_rows(name: str, data: bytes, max_rows: int) -> None:
    """Refuse a Word document whose tables have more than `max_rows` rows in all, counted as a workbook's are."""
    _check_part_rows(name, data, _DOCUMENT_PART, _TABLE_ROW_TAG, max_rows,
                     f"Tệp «{name}» có các bảng hơn {format_number(max_rows, 0)} dòng "
                     f"(tối đa {format_number(max_rows, 0)}); không đọc tệp này.")


def _check_part_rows(name: str, data: bytes, part_name: re.Pattern, row_tag: re.Pattern, max_rows: int,
                     refusal: str) -> None:
    """Refuse (with `refusal`) a package one of whose parts named `part_name` has more than `max_rows` rows."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, KeyError):
        return
    with archive:
        for info in archive.infolist():
            if part_name.fullmatch(info.filename) and _count_rows(archive, info, row_tag, max_rows) > max_rows:
                raise InputError(refusal)


_SHEET_PART = re.compile(r"xl/worksheets/[^/]+\.xml", re.IGNORECASE)
_DOCUMENT_PART = re.compile(r"word/document\.xml", re.IGNORECASE)
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")
_TABLE_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?tr[\s>/]")
_CHUNK = 1024 * 1024


def _count_rows(archive: zipfile.ZipFile, info: zipfile.ZipInfo, row_tag: re.Pattern, max_rows: int) -> int:
    """Row elements in one part, counted up to just past `max_rows`; 0 if the part cannot be read."""
    count, tail = 0, b""
    try:
        with archive.open(info) as part:
            while count <= max_rows:
                chunk = part.read(_CHUNK)
                if not chunk:
                    break
                window = tail + chunk
                count += len(row_tag.findall(window))
                tail = window[-32:]  # a tag cut in two by the chunk boundary is found whole in the next window
                count -= len(row_tag.findall(tail))  # … and not twice
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError):
        return 0
    return count


def check_pdf(name: str, data: bytes, max_pages: int) -> None:
    """Refuse what is not a PDF, or a PDF of more than `max_pages` pages, before its pages are parsed.

    The pages are counted by PDFium from the document's page tree, without reading any page's content."""
    if not data.startswith(b"%PDF-"):
        raise InputError(f"Tệp «{name}»: không phải tệp PDF (nội dung không bắt đầu bằng «%PDF-»).")
    import pypdfium2  # installed with pdfplumber; only a PDF import loads it

    try:
        document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as problem:
        if "password" in str(problem).lower():
            raise InputError(f"Tệp «{name}»: tệp PDF có mật khẩu, không đọc được.") from None
        raise InputError(f"Tệp «{name}»: tệp PDF bị hỏng, không đọc được.") from None
    try:
        pages = len(document)
    finally:
        document.close()
    if pages > max_pages:
        raise InputError(f"Tệp «{name}» có {format_number(pages, 0)} trang (tối đa {format_number(max_pages, 0)} "
                         "trang cho một tệp nhập); không đọc tệp này.")


def check_row_count(name: str, rows: int, max_rows: int, what: str = "dòng") -> None:
    if rows > max_rows:
        raise InputError(f"Tệp «{name}» có {format_number(rows, 0)} {what} (tối đa {format_number(max_rows, 0)}); không đọc tệp này.")


def _megabytes(count: int) -> str:
    if count >= 1024 ** 3:
        return f"{format_number(count / 1024 ** 3, 1)} GB"
    return f"{format_number(count / (1024 * 1024), 1)} MB"

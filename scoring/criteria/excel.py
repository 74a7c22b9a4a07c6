"""Criteria sets in the Excel layout provinces publish: STT | Lĩnh vực/Tiêu chí/Tiêu chí thành phần | Điểm tối đa | …

Reading (`import_criteria_xlsx`): the first sheet with a criteria header is turned into rows of cell texts
(merged cells resolved) and read by `scoring.criteria.table`, which says what the layout may hold and is
shared with the Word and PDF readers. Messages name the row as Excel numbers it ("Dòng 14: …"). A
"Thông tin" sheet, when there is one, gives the set's name, template flag, sources, province and year.
Note: Excel turns an STT typed as the number 1.10 into 1.1; write codes as text to keep such codes.

Writing (`export_criteria_xlsx`) produces the same layout — areas bold, rule lines in rows of their own —
plus a "Thông tin" sheet with the set's name, template flag, sources, province and year, so an exported
set reads back equal. Text is never written as a formula: every text goes through the exports' `put_text`,
which stores it as a text cell (type "s") and, when it starts with = + - @, sets Excel's quote-prefix flag
(what Excel itself records when a person types a leading apostrophe); the text stays exactly as written,
minus control characters the xlsx format cannot hold, and Excel shows it as text, never evaluating it.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.criteria.numbers import json_number
from scoring.criteria.table import SourceRow, SourceTable, cell_text, find_header, read_criteria_tables, source_bytes
from scoring.errors import InputError
from scoring.exports.cells import put_text
from scoring.import_limits import MAX_CRITERIA_ROWS, MAX_TABLE_COLUMNS, check_package, check_workbook_rows
from scoring.textnorm import fold

INFO_SHEET = "Thông tin"
CRITERIA_SHEET = "Bộ tiêu chí"

_INFO_KEYS = {
    "ten bo tieu chi": "name",
    "bo mau": "template",
    "nguon": "sources",
    "tinh": "province",
    "nam": "year",
}


# --------------------------------------------------------------------------- reading


def import_criteria_xlsx(source: bytes | str | Path | IO[bytes], source_name: str | None = None) -> CriteriaSet:
    """Read a criteria set from an .xlsx table (see scoring.criteria.table). Raises InputError listing every bad row."""
    source_name, data = source_bytes(source, source_name, "bảng tiêu chí.xlsx")
    check_package(source_name, data)  # before openpyxl builds anything in memory
    check_workbook_rows(source_name, data, MAX_CRITERIA_ROWS)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise InputError(f"Tệp «{source_name}»: không phải tệp Excel .xlsx đọc được.") from None

    for sheet in workbook.worksheets:
        if sheet.title == INFO_SHEET:
            continue
        rows = sheet_rows(sheet)
        if find_header(rows) is not None:
            info = _read_info(workbook[INFO_SHEET]) if INFO_SHEET in workbook.sheetnames else {}
            return read_criteria_tables([SourceTable(rows)], source_name, context=f", trang «{sheet.title}»", info=info)
    raise InputError(
        f"Tệp «{source_name}»: không tìm thấy bảng tiêu chí — cần một dòng tiêu đề có các cột «STT», "
        "«Lĩnh vực/Tiêu chí» và «Điểm tối đa»."
    )


def sheet_rows(sheet) -> list[SourceRow]:
    """A sheet's rows as texts, named "Dòng n" as Excel numbers them; a merged range's text is its top-left
    cell's, spread over the range for header labels."""
    width = min(sheet.max_column, MAX_TABLE_COLUMNS)
    spread: dict[tuple[int, int], str] = {}
    continued: dict[int, set[int]] = {}
    for merged in sheet.merged_cells.ranges:
        text = cell_text(sheet.cell(merged.min_row, merged.min_col).value)
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, min(merged.max_col, width) + 1):
                spread[(row, col)] = text
                if row > merged.min_row:
                    continued.setdefault(row, set()).add(col - 1)
    rows = []
    for number, values in enumerate(sheet.iter_rows(min_row=1, max_col=width, values_only=True), start=1):
        cells = tuple(cell_text(value) for value in values) + ("",) * (width - len(values))
        spread_cells = tuple(spread.get((number, col), cells[col - 1]) for col in range(1, width + 1))
        rows.append(SourceRow(cells, f"Dòng {number}", spread_cells, frozenset(continued.get(number, ()))))
    return rows


def _read_info(sheet) -> dict[str, Any]:
    info: dict[str, Any] = {"sources": []}
    for key_cell, value_cell, *_ in sheet.iter_rows(min_row=1, max_col=2, values_only=True):
        key = _INFO_KEYS.get(fold(cell_text(key_cell)).rstrip(":").strip())
        value = cell_text(value_cell)
        if key is None or not value:
            continue
        if key == "sources":
            info["sources"].append(value)
        elif key == "template":
            info["template"] = fold(value) in ("co", "x", "true", "1")
        elif key == "year":
            info["year"] = int(value) if value.isdigit() else None
        else:
            info[key] = value
    return info


# --------------------------------------------------------------------------- writing

_HEADER_TOP = ("STT", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "Điểm tối đa", "Điểm đánh giá", None, None,
               "Tài liệu kiểm chứng", "Hoạt động kế hoạch liên quan", "Ghi chú")
_HEADER_SUB = {4: "Điều tra XHH", 5: "Tự đánh giá", 6: "SNV đánh giá"}
_WIDTHS = (8, 60, 9, 10, 10, 10, 36, 14, 26)
_LINE_HEIGHT = 15  # points per wrapped line at the default 11 pt font
_THIN = Side(style="thin", color="808080")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def export_criteria_xlsx(criteria_set: CriteriaSet, target: str | Path | IO[bytes]) -> None:
    """Write a set in the provinces' layout (see the module doc) to a path or a binary buffer."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = CRITERIA_SHEET
    last_col = len(_HEADER_TOP)

    put_text(sheet.cell(1, 1), criteria_set.name)
    sheet.cell(1, 1).font = Font(bold=True, size=13)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last_col)
    subtitle = _subtitle(criteria_set)
    if subtitle:
        put_text(sheet.cell(2, 1), subtitle)
        sheet.cell(2, 1).font = Font(italic=True)
        sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last_col)

    header_row = 4
    for col, label in enumerate(_HEADER_TOP, start=1):
        if label is not None:
            sheet.cell(header_row, col, label)
        if col not in _HEADER_SUB:  # one label over both header rows; "Điểm đánh giá" spans its sub-columns instead
            sheet.merge_cells(start_row=header_row, start_column=col, end_row=header_row + 1, end_column=col)
    sheet.merge_cells(start_row=header_row, start_column=4, end_row=header_row, end_column=6)
    for col, label in _HEADER_SUB.items():
        sheet.cell(header_row + 1, col, label)
    for row in (header_row, header_row + 1):
        sheet.row_dimensions[row].height = 2 * _LINE_HEIGHT  # room for the two-line labels
        for col in range(1, last_col + 1):
            cell = sheet.cell(row, col)
            cell.font = Font(bold=True)
            cell.fill = _HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = _BORDER

    row = header_row + 2
    for node in criteria_set.walk():
        _write_node(sheet, row, node)
        row += 1
        if node.is_leaf and node.rule is not None:
            for line in node.rule.lines():
                put_text(sheet.cell(row, 2), f"- {line}")
                _style_row(sheet, row, last_col, bold=False, italic=True)
                row += 1
    sheet.cell(row, 2, "Tổng cộng")
    sheet.cell(row, 3, json_number(criteria_set.total_max))
    _style_row(sheet, row, last_col, bold=True)

    for col, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = width
    sheet.freeze_panes = sheet.cell(header_row + 2, 3)
    # Printed as the provinces print it: A4 landscape, all columns on one page width, header on every page.
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = f"{header_row}:{header_row + 1}"
    _write_info_sheet(workbook.create_sheet(INFO_SHEET), criteria_set)
    workbook.save(target)


def _subtitle(criteria_set: CriteriaSet) -> str:
    parts = []
    if criteria_set.template:
        parts.append("Bộ tiêu chí mẫu, chỉ để tham khảo")
    if criteria_set.province:
        parts.append(f"Tỉnh: {criteria_set.province}")
    if criteria_set.year:
        parts.append(f"Năm {criteria_set.year}")
    return " · ".join(parts)


def _write_node(sheet, row: int, node: CriterionNode) -> None:
    put_text(sheet.cell(row, 1), node.code)
    put_text(sheet.cell(row, 2), node.name)
    sheet.cell(row, 3, json_number(node.max_points))
    if node.evidence:
        put_text(sheet.cell(row, 7), node.evidence)
    if node.activities:
        put_text(sheet.cell(row, 8), "; ".join(node.activities))
    if node.note:
        put_text(sheet.cell(row, 9), node.note)
    _style_row(sheet, row, len(_HEADER_TOP), bold=node.level == 1)


def _style_row(sheet, row: int, last_col: int, bold: bool, italic: bool = False) -> None:
    wrapped_lines = 1
    for col in range(1, last_col + 1):
        cell = sheet.cell(row, col)
        cell.font = Font(bold=bold, italic=italic)
        cell.border = _BORDER
        cell.alignment = Alignment(vertical="top", wrap_text=True, horizontal="center" if col in (1, 3) else None)
        if isinstance(cell.value, str):
            width = _WIDTHS[col - 1]
            lines = sum(math.ceil(max(len(part), 1) / width) for part in cell.value.split("\n"))
            wrapped_lines = max(wrapped_lines, lines)
    # Spreadsheet programs do not grow rows for wrapped text in a file they open; size them for the text.
    sheet.row_dimensions[row].height = _LINE_HEIGHT * wrapped_lines


def _write_info_sheet(sheet, criteria_set: CriteriaSet) -> None:
    rows = [("Tên bộ tiêu chí", criteria_set.name), ("Bộ mẫu", "Có" if criteria_set.template else "Không")]
    rows += [("Nguồn", source) for source in criteria_set.sources]
    rows += [("Tỉnh", criteria_set.province), ("Năm", str(criteria_set.year or ""))]
    for number, (key, value) in enumerate(rows, start=1):
        sheet.cell(number, 1, key).font = Font(bold=True)
        if value:
            put_text(sheet.cell(number, 2), value)
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 90

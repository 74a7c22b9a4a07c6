"""The province's ranking table (.xlsx): one sheet per group, the published index of each department with its rank
as a formula (RANK over the group's column: ties share a rank, as scoring.province.ranking ranks them), the band, the
year before, and the points of each area, so the Department of Home Affairs can check and adjust it in Excel.
"""

from __future__ import annotations

from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from scoring.exports.cells import put_formula, put_number, put_text
from scoring.province.ranking import GroupRanking

INDEX_FORMAT = "[$-42A]0.00"  # the published index keeps its two decimals, with a decimal comma (87,50)
POINTS_FORMAT = "[$-42A]General"  # whole points without ",00", Vietnamese decimal comma (as the score sheet)
THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FIRST_ROW = 5  # rows 1–3: title, year and group, a blank; row 4: the header


def write_ranking_workbook(tables: list[GroupRanking], year: int, out: str | BinaryIO) -> None:
    book = Workbook()
    book.remove(book.active)
    for table in tables:
        _group_sheet(book, table, year)
    if not tables:
        put_text(book.create_sheet("Xếp hạng")["A1"], f"Năm {year} chưa có cơ quan nào để xếp hạng.")
    book.save(out)


def _sheet_title(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts (31 characters, none of []:*?/\\), unique in the book."""
    base = "".join(" " if c in "[]:*?/\\" else c for c in name).strip()[:28] or "Nhóm"
    title, number = base, 2
    while title in taken:
        title, number = f"{base[:26]} {number}", number + 1
    return title


def _group_sheet(book: Workbook, table: GroupRanking, year: int) -> None:
    sheet = book.create_sheet(_sheet_title(table.name, set(book.sheetnames)))
    headers = ["Hạng", "Cơ quan", f"Chỉ số {year} (%)", "Xếp loại", f"Chỉ số {year - 1} (%)", f"Hạng {year - 1}"]
    headers += [f"Lĩnh vực {code}. {name}" for code, name in table.areas]
    put_text(sheet["A1"], f"BẢNG XẾP HẠNG CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {year}")
    sheet["A1"].font = Font(bold=True, size=14)
    put_text(sheet["A2"], f"Nhóm: {table.name}. Chỉ số đã công bố; cơ quan bằng điểm cùng hạng; cơ quan chưa công bố "
                          f"không xếp hạng.")
    sheet["A2"].font = Font(italic=True)
    for column, header in enumerate(headers, start=1):
        cell = put_text(sheet.cell(FIRST_ROW - 1, column), header)
        cell.font, cell.border = Font(bold=True), BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    last = FIRST_ROW + len(table.rows) - 1
    for offset, row in enumerate(table.rows):
        number = FIRST_ROW + offset
        index_cell = f"C{number}"
        put_formula(sheet.cell(number, 1), f'=IF(ISNUMBER({index_cell}),RANK({index_cell},$C${FIRST_ROW}:$C${last},0),"")', "0")
        put_text(sheet.cell(number, 2), row.name)
        put_number(sheet.cell(number, 3), row.percent, INDEX_FORMAT)
        put_text(sheet.cell(number, 4), row.band)
        put_number(sheet.cell(number, 5), row.previous_percent, INDEX_FORMAT)
        put_number(sheet.cell(number, 6), row.previous_rank, "0")
        for column, (code, _) in enumerate(table.areas, start=7):
            put_number(sheet.cell(number, column), row.areas.get(code), POINTS_FORMAT)
        for column in range(1, len(headers) + 1):
            sheet.cell(number, column).border = BOX
    widths = [7, 38, 12, 14, 12, 9] + [14] * len(table.areas)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.row_dimensions[FIRST_ROW - 1].height = 48
    sheet.freeze_panes = f"C{FIRST_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True

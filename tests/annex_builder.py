"""Build the same criteria table as a Word annex (.docx) and as an Excel sheet (.xlsx), for the reader tests.

A table is given as rows of cell texts plus merged rectangles (first row, first column, last row, last
column; 0-based within the table), so both files have exactly the same cells and merges. In Word each
table is a table of its own, with the paragraphs given before it; in Excel the tables follow one another
on one sheet, the title (and the paragraphs before the first table) as one-cell rows above them. A cell text with "\\n" is a line break in Word (and in the
Excel cell); a list of texts is one Word paragraph each (lines joined by "\\n" in Excel).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

import docx
import openpyxl
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.shared import Cm, Pt

Cell = str | list[str]


@dataclass
class Table:
    rows: list[list[Cell]]
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)
    before: list[str] = field(default_factory=list)  # paragraphs standing before the table
    page_break_before: bool = False
    repeat_header_rows: int = 0  # Word's "repeat as header row at the top of each page"
    widths_cm: Sequence[float] | None = None
    rows_stay_whole: bool = False  # Word's "allow row to break across pages" turned off
    ruled: bool = True  # False: no borders (the emblem and signature blocks of a decision)


HEADER = [
    ["STT", "Lĩnh vực/Tiêu chí/Tiêu chí thành phần", "Điểm tối đa", "Điểm đánh giá", "", "", "Điểm đạt được",
     "Chỉ số", "Ghi chú"],
    ["", "", "", "Điều tra XHH", "Tự đánh giá", "SNV đánh giá", "", "", ""],
]
HEADER_MERGES = [(0, 0, 1, 0), (0, 1, 1, 1), (0, 2, 1, 2), (0, 3, 0, 5), (0, 6, 1, 6), (0, 7, 1, 7), (0, 8, 1, 8)]
NUMBERS = [f"({n})" for n in range(1, 10)]
WIDTHS_CM = (1.2, 10.5, 1.6, 1.7, 1.7, 1.7, 1.7, 1.4, 5.2)  # A4 landscape, 1,5 cm margins


def row(code: str = "", name: Cell = "", maximum: str = "", note: str = "") -> list[Cell]:
    """A row of the nine-column layout: STT, name, Điểm tối đa, the three Điểm đánh giá, …, Ghi chú."""
    return [code, name, maximum, "", "", "", "", "", note]


def header(at: int) -> tuple[list[list[Cell]], list[tuple[int, int, int, int]]]:
    """The two header rows and the column numbers, as rows starting at row `at` of a table."""
    merges = [(r0 + at, c0, r1 + at, c1) for r0, c0, r1, c1 in HEADER_MERGES]
    return [list(HEADER[0]), list(HEADER[1]), list(NUMBERS)], merges


def _text(cell: Cell) -> str:
    return "\n".join(cell) if isinstance(cell, list) else cell


def build_docx(tables: Sequence[Table], title: Sequence[str] = (), after: Sequence[str] = ()) -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    for margin in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, margin, Cm(1.5))
    style = document.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    for line in title:
        document.add_paragraph(line).alignment = 1
    for table_spec in tables:
        if table_spec.page_break_before:
            document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        for line in table_spec.before:
            document.add_paragraph(line)
        width = max(len(r) for r in table_spec.rows)
        table = document.add_table(rows=len(table_spec.rows), cols=width)
        if table_spec.ruled:
            table.style = "Table Grid"
        for r, cells in enumerate(table_spec.rows):
            for c, cell in enumerate(cells):
                target = table.cell(r, c)
                if isinstance(cell, list):  # one paragraph per line
                    target.text = cell[0]
                    for line in cell[1:]:
                        target.add_paragraph(line)
                elif cell:
                    target.text = cell
        for r0, c0, r1, c1 in table_spec.merges:
            table.cell(r0, c0).merge(table.cell(r1, c1))
        for tr in table._tbl.tr_lst[: table_spec.repeat_header_rows]:
            flag = OxmlElement("w:tblHeader")
            tr.get_or_add_trPr().append(flag)
        if table_spec.rows_stay_whole:
            for tr in table._tbl.tr_lst:
                tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
        if table_spec.widths_cm:
            table.autofit = False
            for grid_col, width_cm in zip(table._tbl.tblGrid.gridCol_lst, table_spec.widths_cm):
                grid_col.w = Cm(width_cm)  # LibreOffice lays the table out by its grid
            for tr in table._tbl.tr_lst:
                for tc in tr.tc_lst:
                    start = tc.grid_offset
                    tc.width = Cm(sum(table_spec.widths_cm[start:start + tc.grid_span]))
        document.add_paragraph()
    for line in after:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def build_xlsx(tables: Sequence[Table], title: Sequence[str] = (), after: Sequence[str] = ()) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Phụ lục"
    at = 1
    for line in title:
        sheet.cell(at, 1, line)
        at += 1
    for number, table_spec in enumerate(tables):
        for line in table_spec.before if number == 0 else ():  # between tables a sheet has no paragraphs
            sheet.cell(at, 1, line)
            at += 1
        for r, cells in enumerate(table_spec.rows):
            for c, cell in enumerate(cells):
                if _text(cell):
                    sheet.cell(at + r, c + 1, _text(cell))
        for r0, c0, r1, c1 in table_spec.merges:
            sheet.merge_cells(start_row=at + r0, start_column=c0 + 1, end_row=at + r1, end_column=c1 + 1)
        at += len(table_spec.rows) + 1  # a blank row where Word has the paragraph after a table
    for line in after:
        sheet.cell(at, 1, line)
        at += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()

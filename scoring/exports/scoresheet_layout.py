"""The score sheet's layout, shared by writing it and reading it back: sheet names, headers, columns per rule,
styles, row heights and print setup.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scoring.assessment.snapshot import Snapshot
from scoring.criteria.rules import CountRule, DeductionRule, RatioRule, Rule, SurveyRule, TiersRule, ValueRule
from scoring.exports.cells import put_date, put_link, put_number, put_text

SHEET_SCORES = "Bảng điểm"
SHEET_RULES = "Cách chấm"
SHEET_PLAN = "Kế hoạch"
SHEET_EVIDENCE = "Tài liệu kiểm chứng"

# Header texts of the score table; the importer finds its columns by these words.
HEADER_STT = "STT"  # holds the criterion's code: the importer matches rows by it
HEADER_CODE = "Mã"  # the code's own column in sheets exported before 01/12/2026 (STT was "I", "2.3" there)
HEADER_NAME = "Lĩnh vực, tiêu chí, tiêu chí thành phần"
HEADER_MAX = "Điểm tối đa"
HEADER_NOT_APPLICABLE = "Không đánh giá (x)"
HEADER_ENTRY = "Mức đạt được, số lượng hoặc điểm"
HEADER_NUMERATOR = "Tử số"
HEADER_DENOMINATOR = "Mẫu số"
HEADER_SELF = "Điểm tự đánh giá"
HEADER_APPRAISED = "Điểm thẩm định"
HEADER_REMARK = "Nhận xét thẩm định"
HEADER_EVIDENCE = "Tài liệu kiểm chứng"
HEADER_EXPLANATION = "Giải trình"
HEADER_NOTE = "Ghi chú"
HEADER_APPLICABLE_LEAVES = "Số tiêu chí được đánh giá"
HEADER_APPRAISED_LEAVES = "Số tiêu chí đã thẩm định"
TOTAL_LABEL = "TỔNG CỘNG"
INDEX_LABEL = "CHỈ SỐ CCHC (%)"

NOT_APPLICABLE_MARK = "x"  # what the "Không đánh giá" column holds for a leaf left out
NOT_APPLICABLE_MAX = "—"  # a left-out leaf's (or node's) maximum: it counts out of nothing
INVALID_ENTRY_TEXT = "Không hợp lệ"  # a leaf's points when its inputs are not what its rule takes
APPRAISAL_IN_PROGRESS = "đang thẩm định"  # + " k/n": an appraised total that is not complete yet

# Custom document properties: which assessment a sheet belongs to, checked again on import.
PROPERTY_DEPARTMENT = "cchc.department_id"
PROPERTY_YEAR = "cchc.year"
PROPERTY_ASSESSMENT = "cchc.assessment_id"

# Points as the official tables write them: 2, 0,5, 0,25 — "General" drops a whole number's decimals in Excel and
# LibreOffice alike ("0.##" leaves "2." in Excel). The Vietnamese locale tag makes LibreOffice write the decimal
# comma whatever the machine's language; Excel writes the separator of the machine's settings.
POINTS_FORMAT = "[$-42A]General"
INPUT_FORMAT = POINTS_FORMAT  # counts, numerators… as typed: 17, 0,75
COUNT_FORMAT = "0"  # the hidden helper counts
MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
SIGNERS = (("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"), ("THỦ TRƯỞNG CƠ QUAN", "(Ký tên, đóng dấu)"))
SIGNATURE_ROWS = 4  # room to sign and seal
FONT_NAME = "Times New Roman"  # the official forms' font; LibreOffice shows it as Liberation Serif
FONT_SIZE = 12
LINE_HEIGHT = 16.0  # points per wrapped line at FONT_SIZE

_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
AREA_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="E2EFDA")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")  # the cells a person may type in
UNLOCKED = Protection(locked=False)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(horizontal="center", vertical="top", wrap_text=True)
NUMBER_ALIGN = Alignment(horizontal="right", vertical="top", wrap_text=True)


def write_header(ws, columns, header_row: int) -> None:
    """The column headings of a sheet's table: bold, shaded, wrapped, two lines high; column widths set."""
    for index, column in enumerate(columns, start=1):
        cell = put_text(ws.cell(header_row, index), column.header)
        cell.font = cell_font(True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[header_row].height = 2 * LINE_HEIGHT + 4


def cell_font(bold: bool = False, italic: bool = False, size: int = FONT_SIZE) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float
    hidden: bool = False  # a helper column the formulas use, not shown or printed


def score_columns(with_appraisal: bool) -> list[Column]:
    columns = [
        Column("code", HEADER_STT, 8),
        Column("name", HEADER_NAME, 48),
        Column("max", HEADER_MAX, 8),
        Column("na", HEADER_NOT_APPLICABLE, 9),
        Column("entry", HEADER_ENTRY, 22),
        Column("numerator", HEADER_NUMERATOR, 7),
        Column("denominator", HEADER_DENOMINATOR, 7),
        Column("self", HEADER_SELF, 12),
    ]
    if with_appraisal:
        columns += [Column("appraised", HEADER_APPRAISED, 12), Column("remark", HEADER_REMARK, 24)]
    columns += [Column("evidence", HEADER_EVIDENCE, 34), Column("explanation", HEADER_EXPLANATION, 30),
                Column("note", HEADER_NOTE, 22)]
    if with_appraisal:
        # hidden helpers of the appraised totals: how many leaves count, how many are appraised
        columns += [Column("applicable_leaves", HEADER_APPLICABLE_LEAVES, 9, hidden=True),
                    Column("appraised_leaves", HEADER_APPRAISED_LEAVES, 9, hidden=True)]
    return columns


def has_appraisal(snapshot: Snapshot) -> bool:
    return any(s.appraised_points is not None or s.appraisal_remark for s in snapshot.scores.values())


def input_columns(rule: Rule | None) -> tuple[str, ...]:
    """The score-sheet columns holding a leaf's rule inputs (besides "Không đánh giá"); the importer reads these."""
    if rule is None:
        return ()
    if isinstance(rule, RatioRule):
        return ("numerator", "denominator")
    return ("entry",)


# The input a rule kind takes from the "Mức đạt được, số lượng hoặc điểm" column (a ratio's are its two columns).
_ENTRY_INPUT = {TiersRule: "tier", CountRule: "count", ValueRule: "value", DeductionRule: "occurrences",
                SurveyRule: "survey"}


def input_name(rule: Rule, column: str) -> str:
    """The scoring.criteria.rules input a score-sheet input column holds for this rule ("count", "numerator"…)."""
    return column if isinstance(rule, RatioRule) else _ENTRY_INPUT[type(rule)]


def protect(ws: Worksheet) -> None:
    """Locked cells cannot be typed over; no password, so a person who really needs to can lift it.
    Column widths and row heights stay adjustable."""
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


# --------------------------------------------------------------------------- sheet 1: the score table


@dataclass(frozen=True)
class TierCells:
    """Where a tiers leaf's tiers are on sheet "Cách chấm": label and points cells, one pair per tier."""

    labels: list[str]
    points: list[str]

    @property
    def label_range(self) -> str:
        return f"{self.labels[0]}:{self.labels[-1].split('!')[1]}"


@dataclass(frozen=True)
class Cells:
    """Cell addresses of the score table: `at("self", "1.2")` → "I8"."""

    col: dict[str, str]
    row_of: dict[str, int]

    def at(self, key: str, code: str) -> str:
        return f"{self.col[key]}{self.row_of[code]}"


def row_height(ws: Worksheet, row: int, columns: list[Column]) -> float:
    """Excel does not grow rows for wrapped text on its own: size each row for its longest wrapped cell."""
    lines = 1
    for index, column in enumerate(columns, start=1):
        value = ws.cell(row, index).value
        if not isinstance(value, str) or value.startswith("=") or column.hidden:
            continue
        indent = ws.cell(row, index).alignment.indent or 0
        lines = max(lines, wrapped_lines(value, column.width - 2 * indent))
    return lines * LINE_HEIGHT + 4


def wrapped_lines(text: str, width: float) -> int:
    # Column widths count Calibri digits; Times New Roman 12 fits about 1,3 Vietnamese letters per unit.
    # 1,15 leaves room for wide words, so a row is rarely cut short and seldom far too tall.
    per_line = max(4, int(width * 1.15))
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def print_setup(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.print_options.horizontalCentered = True
    ws.oddFooter.center.text = "Trang &P/&N"


# --------------------------------------------------------------------------- sheets 2 and 3


def write_table(ws: Worksheet, title: str, columns: list[Column], rows: list[list[tuple[str, object]]]) -> None:
    """A titled, bordered, filterable table; each row is a list of (kind, value) with kind text/date/int/percent/link."""
    last = get_column_letter(len(columns))
    ws.merge_cells(f"A1:{last}1")
    put_text(ws["A1"], title).font = cell_font(True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 22
    header_row = 3
    write_header(ws, columns, header_row)
    for offset, values in enumerate(rows, start=1):
        row = header_row + offset
        for index, (kind, value) in enumerate(values, start=1):
            cell = ws.cell(row, index)
            cell.border = BORDER
            cell.font = cell_font()
            if kind == "date":
                put_date(cell, value)
                cell.alignment = CENTRE
            elif kind == "int":
                put_number(cell, value, "0")
                cell.alignment = NUMBER_ALIGN
            elif kind == "percent":
                put_number(cell, None if value is None else value / 100, "0%")
                cell.alignment = NUMBER_ALIGN
            elif kind == "link":
                if value:
                    put_link(cell, value)
                cell.alignment = WRAP_TOP
            else:
                put_text(cell, value)
                cell.alignment = CENTRE if kind == "centre" else WRAP_TOP
        ws.row_dimensions[row].height = row_height(ws, row, columns)
    if rows:
        ws.auto_filter.ref = f"A{header_row}:{last}{header_row + len(rows)}"
    ws.freeze_panes = ws[f"A{header_row + 1}"]
    ws.print_title_rows = f"{header_row}:{header_row}"
    print_setup(ws)

"""The self-assessment score sheet (bảng tự đánh giá, chấm điểm) as an Excel workbook.

Sheet "Bảng điểm" follows the official table: a title block, then STT | Mã | Lĩnh vực, tiêu chí, tiêu chí
thành phần | Điểm tối đa | Điểm tự đánh giá | (Điểm thẩm định | Nhận xét thẩm định) | Tài liệu kiểm chứng |
Giải trình. Leaf scores are plain values; every node total and the grand total are live formulas that
follow the engine's roll-up (sum of the children, capped at the node's maximum where the set says
"tối đa", never below 0 where deductions could take it there), so a person who changes a score in
Excel sees the totals follow, and `read_scoresheet` can take the edited sheet back by its "Mã" column.
Sheet "Kế hoạch" lists the plan's activities and sheet "Tài liệu kiểm chứng" the evidence register.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.packaging.custom import IntProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scoring.criteria import CriterionNode
from scoring.exports.cells import put_date, put_formula, put_link, put_number, put_text
from scoring.exports.common import (
    NOT_APPLICABLE_TEXT,
    TEMPLATE_NOTE,
    evidence_reference,
    require_criteria,
)
from scoring.rules import DeductionRule, SurveyRule, vn_number
from scoring.snapshot import Snapshot
from scoring.textnorm import format_date, roman

SHEET_SCORES = "Bảng điểm"
SHEET_PLAN = "Kế hoạch"
SHEET_EVIDENCE = "Tài liệu kiểm chứng"

# Header texts of the score table; the importer finds its columns by these words.
HEADER_STT = "STT"
HEADER_CODE = "Mã"
HEADER_NAME = "Lĩnh vực, tiêu chí, tiêu chí thành phần"
HEADER_MAX = "Điểm tối đa"
HEADER_SELF = "Điểm tự đánh giá"
HEADER_APPRAISED = "Điểm thẩm định"
HEADER_REMARK = "Nhận xét thẩm định"
HEADER_EVIDENCE = "Tài liệu kiểm chứng"
HEADER_EXPLANATION = "Giải trình"
TOTAL_LABEL = "TỔNG CỘNG"
INDEX_LABEL = "CHỈ SỐ CCHC (%)"

# Custom document properties: which assessment a sheet belongs to, checked again on import.
PROPERTY_DEPARTMENT = "cchc.department_id"
PROPERTY_YEAR = "cchc.year"
PROPERTY_ASSESSMENT = "cchc.assessment_id"

POINTS_FORMAT = "0.00"
FONT_NAME = "Times New Roman"  # the official forms' font; LibreOffice shows it as Liberation Serif
FONT_SIZE = 12
LINE_HEIGHT = 16.0  # points per wrapped line at FONT_SIZE

_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEADER_FILL = PatternFill("solid", fgColor="D9E2F3")
AREA_FILL = PatternFill("solid", fgColor="F2F2F2")
TOTAL_FILL = PatternFill("solid", fgColor="E2EFDA")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
CENTRE = Alignment(horizontal="center", vertical="top", wrap_text=True)
NUMBER_ALIGN = Alignment(horizontal="right", vertical="top")


def _write_header(ws, columns, header_row: int) -> None:
    """The column headings of a sheet's table: bold, shaded, wrapped, two lines high; column widths set."""
    for index, column in enumerate(columns, start=1):
        cell = put_text(ws.cell(header_row, index), column.header)
        cell.font = _font(True)
        cell.fill = HEADER_FILL
        cell.border = BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.row_dimensions[header_row].height = 2 * LINE_HEIGHT + 4


def _font(bold: bool = False, italic: bool = False, size: int = FONT_SIZE) -> Font:
    return Font(name=FONT_NAME, size=size, bold=bold, italic=italic)


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    width: float


def score_columns(with_appraisal: bool) -> list[Column]:
    columns = [
        Column("stt", HEADER_STT, 6),
        Column("code", HEADER_CODE, 8),
        Column("name", HEADER_NAME, 58),
        Column("max", HEADER_MAX, 9),
        Column("self", HEADER_SELF, 11),
    ]
    if with_appraisal:
        columns += [Column("appraised", HEADER_APPRAISED, 11), Column("remark", HEADER_REMARK, 28)]
    columns += [Column("evidence", HEADER_EVIDENCE, 42), Column("explanation", HEADER_EXPLANATION, 36)]
    return columns


def has_appraisal(snapshot: Snapshot) -> bool:
    return any(s.appraised_points is not None or s.appraisal_remark for s in snapshot.scores.values())


def stt_label(node: CriterionNode) -> str:
    """Areas I, II…; below them the position inside the area ("1.2.3" → "2.3"), as the official tables number."""
    parts = node.code.split(".")
    if len(parts) == 1:
        return roman(int(parts[0])) if parts[0].isdigit() else node.code
    return ".".join(parts[1:])


def write_scoresheet(snapshot: Snapshot, out: str | BinaryIO, *, with_appraisal: bool | None = None) -> None:
    """Write the score sheet workbook to a path or binary file. `with_appraisal` None: the appraisal columns
    appear once the assessment holds any appraised score or remark."""
    require_criteria(snapshot)
    if with_appraisal is None:
        with_appraisal = has_appraisal(snapshot)
    workbook = Workbook()
    scores = workbook.active
    scores.title = SHEET_SCORES
    _write_score_sheet(scores, snapshot, score_columns(with_appraisal))
    _write_plan_sheet(workbook.create_sheet(SHEET_PLAN), snapshot)
    _write_evidence_sheet(workbook.create_sheet(SHEET_EVIDENCE), snapshot)
    workbook.custom_doc_props.append(IntProperty(name=PROPERTY_DEPARTMENT, value=snapshot.department.id))
    workbook.custom_doc_props.append(IntProperty(name=PROPERTY_YEAR, value=snapshot.year))
    if snapshot.assessment is not None:
        workbook.custom_doc_props.append(IntProperty(name=PROPERTY_ASSESSMENT, value=snapshot.assessment.id))
    workbook.properties.title = f"Bảng tự đánh giá Chỉ số CCHC năm {snapshot.year}"
    workbook.properties.creator = snapshot.department.name
    workbook.save(out)


# --------------------------------------------------------------------------- sheet 1: the score table


def _write_score_sheet(ws: Worksheet, snapshot: Snapshot, columns: list[Column]) -> None:
    criteria_set = require_criteria(snapshot)
    rollup = snapshot.rollup
    col = {c.key: get_column_letter(i) for i, c in enumerate(columns, start=1)}
    last = get_column_letter(len(columns))

    title_lines = [
        (f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {snapshot.year}", _font(True, size=14)),
        (f"Cơ quan: {snapshot.department.name}", _font(True)),
        (f"Bộ tiêu chí: {criteria_set.name}" + (f" ({TEMPLATE_NOTE})" if criteria_set.template else ""), _font()),
        ((f"Ngày lập: {format_date(snapshot.today)}. Các ô tổng là công thức: sửa điểm của tiêu chí thành phần, "
          "tổng điểm tự tính lại. Giữ nguyên cột «Mã» để nhập lại bảng vào phần mềm."), _font(italic=True, size=11)),
    ]
    for row, (text, font) in enumerate(title_lines, start=1):
        ws.merge_cells(f"A{row}:{last}{row}")
        cell = put_text(ws[f"A{row}"], text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center" if row == 1 else "left", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 22
    header_row = len(title_lines) + 2

    _write_header(ws, columns, header_row)

    nodes = list(criteria_set.walk())
    row_of = {node.code: header_row + 1 + i for i, node in enumerate(nodes)}
    total_row = header_row + 1 + len(nodes)
    validations: list[DataValidation] = []

    for node in nodes:
        row = row_of[node.code]
        totals = rollup.node(node.code)
        score = snapshot.score(node.code)
        for key, letter in col.items():
            cell = ws[f"{letter}{row}"]
            cell.border = BORDER
            cell.font = _font(bold=node.level == 1 or (not node.is_leaf and node.level == 2))
            if node.level == 1:
                cell.fill = AREA_FILL
            if key in ("stt", "code"):
                put_text(cell, stt_label(node) if key == "stt" else node.code)
                cell.alignment = CENTRE
            elif key == "name":
                put_text(cell, node.name)
                cell.alignment = Alignment(wrap_text=True, vertical="top", indent=node.level - 1)
            elif key == "max":
                # a node counts out of its applicable maximum: criteria marked "không đánh giá" leave it
                put_number(cell, node.max_points if node.is_leaf else totals.applicable_max, POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key in ("self", "appraised"):
                _write_points_cell(cell, key, node, snapshot, col, row_of)
            elif key == "remark" and node.is_leaf:
                put_text(cell, score.appraisal_remark)
                cell.alignment = WRAP_TOP
            elif key == "evidence" and node.is_leaf:
                put_text(cell, "\n".join(evidence_reference(e, node.code) for e in snapshot.evidence_for(node.code)))
                cell.alignment = WRAP_TOP
            elif key == "explanation" and node.is_leaf:
                put_text(cell, score.explanation)
                cell.alignment = WRAP_TOP
            else:
                cell.alignment = WRAP_TOP
        if node.is_leaf and node.rule is not None:
            validations.append(_score_validation(node, f"{col['self']}{row}"))
        ws.row_dimensions[row].height = row_height(ws, row, columns)

    _write_total_row(ws, total_row, snapshot, columns, col, row_of)
    for validation in validations:
        ws.add_data_validation(validation)

    ws.freeze_panes = ws[f"A{header_row + 1}"]
    ws.print_title_rows = f"{header_row}:{header_row}"
    print_setup(ws)


def _write_points_cell(cell, key: str, node: CriterionNode, snapshot: Snapshot, col: dict[str, str],
                       row_of: dict[str, int]) -> None:
    letter = col[key]
    row = row_of[node.code]
    score = snapshot.score(node.code)
    cell.alignment = NUMBER_ALIGN
    cell.number_format = POINTS_FORMAT
    if not node.is_leaf:
        put_formula(cell, _node_formula(node, letter, col["max"], row_of, appraisal=key == "appraised"))
        return
    if score.not_applicable:
        if key == "self":
            put_text(cell, NOT_APPLICABLE_TEXT)  # text: SUM leaves it out, as the engine does
            cell.alignment = CENTRE
        return
    if key == "self":
        put_number(cell, snapshot.rollup.node(node.code).self_points, POINTS_FORMAT)
    elif score.appraised_points is not None:
        put_number(cell, score.appraised_points, POINTS_FORMAT)
    elif isinstance(node.rule, SurveyRule):
        # published survey points are not appraised: they count the same on both sides (see scoring.engine)
        put_formula(cell, f"={col['self']}{row}", POINTS_FORMAT)


def _node_formula(node: CriterionNode, letter: str, max_letter: str, row_of: dict[str, int], appraisal: bool) -> str:
    """The engine's roll-up of one node as an Excel formula over its children's cells."""
    row = row_of[node.code]
    children = ",".join(f"{letter}{row_of[child.code]}" for child in node.children)
    return "=" + _capped_sum(f"SUM({children})", node.cap_children, node.max_points > 0 and _has_deduction(node),
                             f"{max_letter}{row}", appraisal, [f"{letter}{row_of[leaf.code]}" for leaf in node.leaves()])


def _capped_sum(sum_expression: str, cap: bool, floor_at_zero: bool, max_cell: str, appraisal: bool,
                leaf_cells: list[str]) -> str:
    expression = sum_expression
    if cap:
        expression = f"MIN({max_cell},{expression})"
    if floor_at_zero:
        expression = f"MAX(0,{expression})"
    if appraisal:
        # the engine shows no appraised total until some leaf under the node is appraised
        expression = f'IF(COUNT({",".join(leaf_cells)})=0,"",{expression})'
    return expression


def _has_deduction(node: CriterionNode) -> bool:
    return any(isinstance(leaf.rule, DeductionRule) for leaf in node.leaves())


def _write_total_row(ws: Worksheet, row: int, snapshot: Snapshot, columns: list[Column], col: dict[str, str],
                     row_of: dict[str, int]) -> None:
    criteria_set = snapshot.criteria_set
    area_rows = [row_of[area.code] for area in criteria_set.nodes]
    leaf_rows = [row_of[leaf.code] for leaf in criteria_set.leaves()]
    has_deduction = any(isinstance(leaf.rule, DeductionRule) for leaf in criteria_set.leaves())
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row, index)
        cell.border = BORDER
        cell.fill = TOTAL_FILL
        cell.font = _font(True)
        letter = get_column_letter(index)
        if column.key == "name":
            put_text(cell, TOTAL_LABEL)
            cell.alignment = Alignment(horizontal="center", vertical="top")
        elif column.key == "max":
            put_number(cell, snapshot.rollup.total.applicable_max, POINTS_FORMAT)
            cell.alignment = NUMBER_ALIGN
        elif column.key in ("self", "appraised"):
            sum_expression = "SUM(" + ",".join(f"{letter}{r}" for r in area_rows) + ")"
            # the grand total never goes below 0 (scoring.engine)
            formula = _capped_sum(sum_expression, False, has_deduction, f"{col['max']}{row}",
                                  column.key == "appraised", [f"{letter}{r}" for r in leaf_rows])
            put_formula(cell, "=" + formula, POINTS_FORMAT)
            cell.alignment = NUMBER_ALIGN
    ws.row_dimensions[row].height = LINE_HEIGHT + 4
    _write_index_row(ws, row + 1, columns, col, total_row=row, leaf_rows=leaf_rows,
                     first_row=min(row_of.values()))


def _write_index_row(ws: Worksheet, row: int, columns: list[Column], col: dict[str, str], total_row: int,
                     leaf_rows: list[int], first_row: int) -> None:
    """The index: total points as a percentage of the applicable maximum, 2 decimals, as the engine rounds.
    The appraised index, like the engine's, waits until every applicable leaf is appraised."""
    max_cell = f"{col['max']}{total_row}"
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row, index)
        cell.border = BORDER
        cell.fill = TOTAL_FILL
        cell.font = _font(True)
        if column.key == "name":
            put_text(cell, INDEX_LABEL)
            cell.alignment = Alignment(horizontal="center", vertical="top")
        elif column.key in ("self", "appraised"):
            points = f"{col[column.key]}{total_row}"
            index = f'IF(OR({points}="",{max_cell}<=0),"",ROUND({points}/{max_cell}*100,2))'
            if column.key == "appraised":
                letter = col["appraised"]
                appraised = "COUNT(" + ",".join(f"{letter}{r}" for r in leaf_rows) + ")"
                not_applicable = f'COUNTIF({col["self"]}{first_row}:{col["self"]}{total_row - 1},"{NOT_APPLICABLE_TEXT}")'
                index = f'IF({appraised}<{len(leaf_rows)}-{not_applicable},"",{index})'
            put_formula(cell, "=" + index, POINTS_FORMAT)
            cell.alignment = NUMBER_ALIGN
    ws.row_dimensions[row].height = LINE_HEIGHT + 4


def _score_validation(node: CriterionNode, cell_ref: str) -> DataValidation:
    """Excel checks what is typed against the leaf's range and shows the scoring rule as the cell's hint.
    A warning, not a stop: "Không đánh giá" is also a valid entry, and the importer checks everything again."""
    rule = node.rule
    low = rule.lowest_points
    if low == Decimal("-Infinity"):
        validation = DataValidation(type="decimal", operator="lessThanOrEqual", formula1=_excel_number(node.max_points))
    else:
        validation = DataValidation(type="decimal", operator="between", formula1=_excel_number(low),
                                    formula2=_excel_number(node.max_points))
    validation.allow_blank = True
    validation.errorStyle = "warning"
    validation.showErrorMessage = True
    validation.errorTitle = "Điểm ngoài khoảng"
    validation.error = (f"Tiêu chí {node.code}: điểm phải từ {vn_number(low)} đến {vn_number(node.max_points)}."
                        if low != Decimal("-Infinity") else f"Tiêu chí {node.code}: điểm trừ không lớn hơn 0.")
    validation.showInputMessage = True
    validation.promptTitle = f"Cách chấm {node.code}"[:32]
    validation.prompt = rule.describe()[:255]
    validation.add(cell_ref)
    return validation


def _excel_number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def row_height(ws: Worksheet, row: int, columns: list[Column]) -> float:
    """Excel does not grow rows for wrapped text on its own: size each row for its longest wrapped cell."""
    lines = 1
    for index, column in enumerate(columns, start=1):
        value = ws.cell(row, index).value
        if not isinstance(value, str) or value.startswith("="):
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


def _table(ws: Worksheet, title: str, columns: list[Column], rows: list[list[tuple[str, object]]]) -> None:
    """A titled, bordered, filterable table; each row is a list of (kind, value) with kind text/date/int/percent/link."""
    last = get_column_letter(len(columns))
    ws.merge_cells(f"A1:{last}1")
    put_text(ws["A1"], title).font = _font(True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 22
    header_row = 3
    _write_header(ws, columns, header_row)
    for offset, values in enumerate(rows, start=1):
        row = header_row + offset
        for index, (kind, value) in enumerate(values, start=1):
            cell = ws.cell(row, index)
            cell.border = BORDER
            cell.font = _font()
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


PLAN_COLUMNS = [
    Column("code", "Mã", 8), Column("text", "Hoạt động", 55), Column("output", "Kết quả/Sản phẩm", 26),
    Column("lead", "Chủ trì", 20), Column("partners", "Phối hợp", 18), Column("deadline", "Thời gian hoàn thành", 16),
    Column("due", "Hạn", 12), Column("status", "Trạng thái", 15), Column("progress", "Tiến độ", 9),
    Column("completed", "Ngày hoàn thành", 13), Column("note", "Ghi chú", 24),
]


def _write_plan_sheet(ws: Worksheet, snapshot: Snapshot) -> None:
    rows = [
        [("centre", a.code), ("text", a.text), ("text", a.output), ("text", ", ".join(a.lead)),
         ("text", ", ".join(a.partners)), ("text", a.deadline), ("date", a.due), ("centre", a.status_label),
         ("percent", a.progress), ("date", a.completed_on), ("text", a.note)]
        for a in snapshot.activities
    ]
    title = snapshot.plan.title if snapshot.plan and snapshot.plan.title else f"KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM {snapshot.year}"
    _table(ws, f"{title} — {snapshot.department.name}", PLAN_COLUMNS, rows)


EVIDENCE_COLUMNS = [
    Column("stt", "STT", 6), Column("type", "Loại văn bản", 13), Column("number", "Số, ký hiệu", 16),
    Column("date", "Ngày ban hành", 13), Column("issuer", "Cơ quan ban hành", 20), Column("summary", "Trích yếu", 45),
    Column("criteria", "Tiêu chí", 14), Column("activities", "Hoạt động", 12), Column("file", "Tệp đính kèm", 28),
    Column("link", "Đường dẫn", 30),
]


def _write_evidence_sheet(ws: Worksheet, snapshot: Snapshot) -> None:
    rows = [
        [("centre", str(i)), ("text", e.doc_type), ("text", e.number), ("date", e.issued_on), ("text", e.issuer),
         ("text", e.summary), ("text", ", ".join(e.criteria)), ("text", ", ".join(e.activities)),
         ("text", e.file_name), ("link", e.link)]
        for i, e in enumerate(snapshot.evidence, start=1)
    ]
    _table(ws, f"DANH MỤC TÀI LIỆU KIỂM CHỨNG NĂM {snapshot.year} — {snapshot.department.name}", EVIDENCE_COLUMNS, rows)

"""The self-assessment score sheet (bảng tự đánh giá, chấm điểm) as an Excel workbook.

Sheet "Bảng điểm" follows the province's table: the agency block (governing body, department) beside the
national motto, the title, then STT (the criterion's code, "1", "1.1", "1.1.1", as the province numbers it) |
Lĩnh vực, tiêu chí, tiêu chí thành phần | Điểm tối đa | the inputs of each leaf's rule | Điểm tự đánh giá |
(Điểm thẩm định | Nhận xét thẩm định) | Tài liệu kiểm chứng | Giải trình | Ghi chú (what the evidence lacks,
as the report's section II says it), and under the table the place-and-date line and the signature blocks
(NGƯỜI LẬP BIỂU, THỦ TRƯỞNG CƠ QUAN). Points read as the official tables write them: 2, 0,5, 0,25 (format
POINTS_FORMAT: never "2,00"). The inputs are what the rule scores (scoring.criteria.rules), in the form
the rule takes them: "Không đánh giá" (x), the tier chosen from a list (the tiers are on sheet "Cách chấm"),
the count, number of deductions, free points or survey points, and the numerator and denominator of a
ratio. Everything else a person sees as a figure is a formula in a locked cell: a leaf's points from its
inputs, its maximum ("—" when not assessed), and every node total, which follow the engine's roll-up
(applicable maxima; sum of the children capped at the node's maximum, never below 0 where the maximum is
positive). An appraised node total is a sum only once every applicable leaf under it is appraised; before
that it says "đang thẩm định k/n". The sheet is protected without a password so nobody types over a
formula by mistake; only the cells the yearly cycle lets a person edit now are unlocked (the self-score
inputs and explanations before the lock, the appraisal after it), and `read_scoresheet` takes exactly
those back by the "STT" column (an older sheet's "Mã" column too). Sheet "Kế hoạch" lists the plan's activities, sheet "Tài liệu kiểm chứng"
the evidence register.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.packaging.custom import IntProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scoring.assessment.snapshot import Snapshot
from scoring.criteria.model import CriterionNode
from scoring.criteria.rules import (
    KIND_LABELS,
    CountRule,
    DeductionRule,
    RatioRule,
    Rule,
    SurveyRule,
    TiersRule,
    ValueRule,
    parse_decimal,
    vn_number,
)
from scoring.exports.cells import put_date, put_formula, put_link, put_number, put_text
from scoring.exports.common import (
    NOT_APPLICABLE_TEXT,
    TEMPLATE_NOTE,
    date_line,
    evidence_reference,
    governing_body,
    incomplete_evidence,
    require_criteria,
)
from scoring.textnorm import format_date

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


def write_scoresheet(snapshot: Snapshot, out: str | BinaryIO, *, with_appraisal: bool | None = None) -> None:
    """Write the score sheet workbook to a path or binary file. `with_appraisal` None: the appraisal columns
    appear once the assessment holds any appraised score or remark."""
    require_criteria(snapshot)
    if with_appraisal is None:
        with_appraisal = has_appraisal(snapshot)
    workbook = Workbook()
    scores = workbook.active
    scores.title = SHEET_SCORES
    rules = workbook.create_sheet(SHEET_RULES)
    tier_cells = _write_rules_sheet(rules, snapshot)
    _write_score_sheet(scores, snapshot, score_columns(with_appraisal), tier_cells)
    _write_plan_sheet(workbook.create_sheet(SHEET_PLAN), snapshot)
    _write_evidence_sheet(workbook.create_sheet(SHEET_EVIDENCE), snapshot)
    workbook.custom_doc_props.append(IntProperty(name=PROPERTY_DEPARTMENT, value=snapshot.department.id))
    workbook.custom_doc_props.append(IntProperty(name=PROPERTY_YEAR, value=snapshot.year))
    if snapshot.assessment is not None:
        workbook.custom_doc_props.append(IntProperty(name=PROPERTY_ASSESSMENT, value=snapshot.assessment.id))
    workbook.properties.title = f"Bảng tự đánh giá Chỉ số CCHC năm {snapshot.year}"
    workbook.properties.creator = snapshot.department.name
    workbook.save(out)


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


def _write_score_sheet(ws: Worksheet, snapshot: Snapshot, columns: list[Column],
                       tier_cells: dict[str, TierCells]) -> None:
    criteria_set = require_criteria(snapshot)
    col = {c.key: get_column_letter(i) for i, c in enumerate(columns, start=1)}
    last = get_column_letter(sum(not c.hidden for c in columns))
    locked = snapshot.locked
    editable = {"appraised", "remark"} if locked else {"na", "entry", "numerator", "denominator", "explanation"}

    visible = [c for c in columns if not c.hidden]
    left_end, right_start = _letterhead_columns(visible)
    header_row = _write_letterhead(ws, snapshot, last, left_end, right_start)
    title_lines = [
        (f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {snapshot.year}", _font(True, size=14)),
        (f"Bộ tiêu chí: {criteria_set.name}" + (f" ({TEMPLATE_NOTE})" if criteria_set.template else ""), _font()),
        (f"Số liệu đến ngày {format_date(snapshot.today)}. " + (
            "Điểm tự chấm đã chốt; nhập điểm và nhận xét thẩm định ở các ô nền vàng. " if locked else
            f"Nhập ở các ô nền vàng: «x» nếu không đánh giá, mức đạt được (chọn trong danh sách), số lượng hoặc "
            f"điểm, tử số và mẫu số của tỷ lệ (cách chấm ở trang «{SHEET_RULES}»). ")
         + "Điểm tự đánh giá, điểm tối đa và các tổng là công thức tự tính. "
           f"Giữ nguyên cột «{HEADER_STT}» (mã tiêu chí) để nhập lại bảng vào phần mềm.", _font(italic=True, size=11)),
    ]
    for offset, (text, font) in enumerate(title_lines):
        row = header_row + offset
        ws.merge_cells(f"A{row}:{last}{row}")
        cell = put_text(ws[f"A{row}"], text)
        cell.font = font
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[header_row].height = 24
    ws.row_dimensions[header_row + 2].height = 2 * LINE_HEIGHT + 4
    header_row += len(title_lines) + 1

    _write_header(ws, columns, header_row)
    ws.row_dimensions[header_row].height = 3 * LINE_HEIGHT + 4

    nodes = list(criteria_set.walk())
    row_of = {node.code: header_row + 1 + i for i, node in enumerate(nodes)}
    total_row = header_row + 1 + len(nodes)
    cells = _Cells(col, row_of)
    validations: list[DataValidation] = []
    notes = evidence_notes(snapshot)

    for node in nodes:
        row = row_of[node.code]
        score = snapshot.score(node.code)
        inputs = input_columns(node.rule) if node.is_leaf else ()
        for key, letter in col.items():
            cell = ws[f"{letter}{row}"]
            cell.border = BORDER
            cell.font = _font(bold=node.level == 1 or (not node.is_leaf and node.level == 2))
            cell.alignment = WRAP_TOP
            if node.level == 1:
                cell.fill = AREA_FILL
            if key == "code":
                put_text(cell, node.code)
                cell.alignment = CENTRE
            elif key == "name":
                put_text(cell, node.name)
                cell.alignment = Alignment(wrap_text=True, vertical="top", indent=node.level - 1)
            elif key == "max":
                put_formula(cell, _leaf_max_formula(node, cells) if node.is_leaf else _node_max_formula(node, cells),
                            POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key == "self":
                formula = _leaf_self_formula(node, cells, tier_cells.get(node.code)) if node.is_leaf else \
                    _node_points_formula(node, cells, "self")
                put_formula(cell, formula, POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key == "appraised":
                if node.is_leaf:
                    _write_appraised_leaf(cell, node, snapshot, cells)
                else:
                    put_formula(cell, _node_points_formula(node, cells, "appraised"), POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key in ("applicable_leaves", "appraised_leaves"):
                put_formula(cell, _leaf_count_formula(node, cells, key), COUNT_FORMAT)
            elif not node.is_leaf:
                continue
            elif key == "na":
                if score.not_applicable:
                    put_text(cell, NOT_APPLICABLE_MARK)
                cell.alignment = CENTRE
            elif key in inputs:
                _write_input(cell, node.rule, key, score.inputs)
            elif key == "remark":
                put_text(cell, score.appraisal_remark)
            elif key == "evidence":
                put_text(cell, "\n".join(evidence_reference(e, node.code) for e in snapshot.evidence_for(node.code)))
            elif key == "explanation":
                put_text(cell, score.explanation)
            elif key == "note":
                put_text(cell, notes.get(node.code, ""))
            if node.is_leaf and key in editable and (key in inputs or key in ("na", "explanation", "remark", "appraised")):
                cell.protection = UNLOCKED
                cell.fill = INPUT_FILL
                validation = _input_validation(node, key, f"{letter}{row}", tier_cells.get(node.code))
                if validation is not None:
                    validations.append(validation)
        # at least two lines: a computed cell may read "Không đánh giá" or "đang thẩm định 4/11"
        ws.row_dimensions[row].height = max(row_height(ws, row, columns), 2 * LINE_HEIGHT + 4)

    _write_total_rows(ws, total_row, criteria_set, columns, cells)
    end_row = _write_signatures(ws, snapshot, total_row + 3, last, left_end, right_start)
    for validation in validations:
        ws.add_data_validation(validation)
    leaf_rows = [row_of[leaf.code] for leaf in criteria_set.leaves()]
    if leaf_rows:
        # a leaf not assessed reads greyed out, its maximum "—" and its points "Không đánh giá"
        first = header_row + 1
        ws.conditional_formatting.add(
            f"A{first}:{col['max']}{total_row - 1}",
            FormulaRule(formula=[f'TRIM(${col["na"]}{first})<>""'], font=Font(color="808080", strike=True)))
    for column in columns:
        if column.hidden:
            ws.column_dimensions[col[column.key]].hidden = True
    ws.freeze_panes = ws[f"A{header_row + 1}"]
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.print_area = f"A1:{last}{end_row}"
    print_setup(ws)
    protect(ws)


def _letterhead_columns(visible: list[Column]) -> tuple[str, str]:
    """Where the agency block ends (after the criteria's names) and the motto block starts (the last columns,
    wide enough for the motto): column letters."""
    left_end = get_column_letter(next(i for i, c in enumerate(visible, start=1) if c.key == "name"))
    width, start = 0.0, len(visible)
    while start > 1 and width < 60:
        width += visible[start - 1].width
        start -= 1
    return left_end, get_column_letter(start + 1)


def _block(ws: Worksheet, row: int, first: str, last: str, text: str, font: Font, height: float | None = None) -> None:
    ws.merge_cells(f"{first}{row}:{last}{row}")
    cell = put_text(ws[f"{first}{row}"], text)
    cell.font = font
    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    if height is not None:
        ws.row_dimensions[row].height = height


def _write_letterhead(ws: Worksheet, snapshot: Snapshot, last: str, left_end: str, right_start: str) -> int:
    """Governing body and department on the left, the national motto on the right (Decree 30/2020's layout);
    returns the first row below it."""
    _block(ws, 1, "A", left_end, governing_body(snapshot).upper(), _font(), 18)
    _block(ws, 1, right_start, last, MOTTO[0], _font(True))
    _block(ws, 2, "A", left_end, snapshot.department.name.upper(), _font(True), 18)
    _block(ws, 2, right_start, last, MOTTO[1], Font(name=FONT_NAME, size=FONT_SIZE, bold=True, underline="single"))
    return 4


def _write_signatures(ws: Worksheet, snapshot: Snapshot, row: int, last: str, left_end: str, right_start: str) -> int:
    """The place-and-date line and the two signature blocks under the table; returns the last row used."""
    _block(ws, row, right_start, last, date_line(snapshot), _font(italic=True), 18)
    (left_title, left_hint), (right_title, right_hint) = SIGNERS
    _block(ws, row + 1, "A", left_end, left_title, _font(True), 18)
    _block(ws, row + 1, right_start, last, right_title, _font(True))
    _block(ws, row + 2, "A", left_end, left_hint, _font(italic=True), 18)
    _block(ws, row + 2, right_start, last, right_hint, _font(italic=True))
    for offset in range(SIGNATURE_ROWS):
        ws.row_dimensions[row + 3 + offset].height = 18
    return row + 2 + SIGNATURE_ROWS


def evidence_notes(snapshot: Snapshot) -> dict[str, str]:
    """The "Ghi chú" of each leaf: what its evidence lacks — none attached, or a document without its number or
    date — the same groups as the report's section II."""
    notes: dict[str, list[str]] = {}
    for gap in snapshot.evidence_gaps():
        notes.setdefault(gap.code, []).append("Chưa có tài liệu kiểm chứng" +
                                              ("" if gap.has_explanation else ", chưa giải trình") + ".")
    for evidence, codes in incomplete_evidence(snapshot):
        label = evidence.title or evidence.file_name or "Tài liệu chưa có tên"
        for code in codes:
            notes.setdefault(code, []).append(f"«{label}» chưa có {' và '.join(evidence.missing_metadata)}.")
    return {code: "\n".join(lines) for code, lines in notes.items()}


@dataclass(frozen=True)
class _Cells:
    """Cell addresses of the score table: `at("self", "1.2")` → "I8"."""

    col: dict[str, str]
    row_of: dict[str, int]

    def at(self, key: str, code: str) -> str:
        return f"{self.col[key]}{self.row_of[code]}"


def _write_input(cell, rule: Rule, key: str, inputs: dict) -> None:
    """A leaf's stored input in its own form: a tier's label, a count, a numerator…"""
    cell.alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
    if isinstance(rule, TiersRule):
        choice = inputs.get("tier")
        tier = rule.find_tier(choice)
        if tier is not None or choice not in (None, ""):
            # a stored choice the set no longer has stays visible: the formula says "Không hợp lệ", as the engine does
            put_text(cell, tier.label if tier is not None else choice)
        return
    value = inputs.get(input_name(rule, key))
    number = None if value is None else parse_decimal(value)
    if number is None and value not in (None, ""):
        put_text(cell, value)  # kept as stored: the formula says "Không hợp lệ", as the engine does
        return
    put_number(cell, number, INPUT_FORMAT)


def _write_appraised_leaf(cell, node: CriterionNode, snapshot: Snapshot, cells: _Cells) -> None:
    score = snapshot.score(node.code)
    cell.number_format = POINTS_FORMAT
    if score.appraised_points is not None:
        put_number(cell, score.appraised_points, POINTS_FORMAT)
    elif isinstance(node.rule, SurveyRule):
        # published survey points are not appraised: they count the same on both sides (see scoring.assessment.engine)
        put_formula(cell, f"={cells.at('self', node.code)}", POINTS_FORMAT)


# ---- formulas: each mirrors scoring.criteria.rules / scoring.assessment.engine for one cell

def _num(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def _blank(ref: str) -> str:
    return f'TRIM({ref})=""'


def _leaf_max_formula(node: CriterionNode, cells: _Cells) -> str:
    return f'=IF({_blank(cells.at("na", node.code))},{_num(node.max_points)},"{NOT_APPLICABLE_MAX}")'


def _node_max_formula(node: CriterionNode, cells: _Cells) -> str:
    """Applicable maximum: the sum of the children's, capped at the node's own where the set says "tối đa"."""
    children = ",".join(cells.at("max", c.code) for c in node.children)
    total = f"SUM({children})"
    if node.cap_children:
        total = f"MIN({_num(node.max_points)},{total})"
    return f'=IF(COUNT({children})=0,"{NOT_APPLICABLE_MAX}",{total})'


def _clamp(expression: str, max_cell: str, declared_max: Decimal) -> str:
    """scoring.assessment.engine._clamp: at most the applicable maximum, at least 0 when the declared maximum is positive."""
    expression = f"MIN({max_cell},{expression})"
    return f"MAX(0,{expression})" if declared_max > 0 else expression


def _node_points_formula(node: CriterionNode, cells: _Cells, key: str) -> str:
    max_cell = cells.at("max", node.code)
    if key == "self":
        total = _clamp("SUM(" + ",".join(cells.at("self", c.code) for c in node.children) + ")", max_cell,
                       node.max_points)
        return f'=IF(ISNUMBER({max_cell}),{total},"{NOT_APPLICABLE_TEXT}")'
    return "=" + _appraised_total(node.code, [c.code for c in node.children], node.max_points, cells)


def _appraised_total(code: str, child_codes: list[str], declared_max: Decimal, cells: _Cells) -> str:
    """Blank until some leaf is appraised, "đang thẩm định k/n" until all are, then the clamped sum (only the
    children still assessed count: an appraised score typed on a leaf marked "x" is left out, as the engine does)."""
    max_cell = cells.at("max", code)
    applicable, appraised = cells.at("applicable_leaves", code), cells.at("appraised_leaves", code)
    terms = ",".join(f"N({cells.at('appraised', c)})*ISNUMBER({cells.at('max', c)})" for c in child_codes)
    total = _clamp(f"SUM({terms})", max_cell, declared_max)
    return (f'IF(OR(NOT(ISNUMBER({max_cell})),{appraised}=0),"",IF({appraised}<{applicable},'
            f'"{APPRAISAL_IN_PROGRESS} "&{appraised}&"/"&{applicable},{total}))')


def _leaf_count_formula(node: CriterionNode, cells: _Cells, key: str) -> str:
    if not node.is_leaf:
        return "=SUM(" + ",".join(cells.at(key, c.code) for c in node.children) + ")"
    max_cell = cells.at("max", node.code)
    if key == "applicable_leaves":
        return f"=IF(ISNUMBER({max_cell}),1,0)"
    return f"=IF(AND(ISNUMBER({max_cell}),ISNUMBER({cells.at('appraised', node.code)})),1,0)"


def _leaf_self_formula(node: CriterionNode, cells: _Cells, tiers: TierCells | None) -> str:
    """The rule's points from the row's inputs, as scoring.criteria.rules computes them; "" while not scored."""
    not_applicable = f'NOT({_blank(cells.at("na", node.code))})'
    return f'=IF({not_applicable},"{NOT_APPLICABLE_TEXT}",{_rule_expression(node, cells, tiers)})'


def _rule_expression(node: CriterionNode, cells: _Cells, tiers: TierCells | None) -> str:
    rule = node.rule
    bad = f'"{INVALID_ENTRY_TEXT}"'
    if rule is None:
        return '""'
    if isinstance(rule, RatioRule):
        n, d = cells.at("numerator", node.code), cells.at("denominator", node.code)
        if rule.proportional:
            exact = f"{_num(rule.max_points)}*{n}/{d}"
            points = f"{_num(rule.step)}*INT(ROUND({exact}/{_num(rule.step)},9))"  # rounded down to the step
            if rule.floor_percent is not None:
                points = f"IF({n}*100<{_num(rule.floor_percent)}*{d},0,{points})"
        else:
            points = bad  # a ratio in no band
            for tier in reversed([t for t in rule.tiers if t.band is not None]):
                points = f"IF({_band_test(tier.band, n, d)},{_num(tier.points)},{points})"
        return (f'IF(OR({_blank(n)},{_blank(d)}),"",IF(OR(NOT(ISNUMBER({n})),NOT(ISNUMBER({d}))),{bad},'
                f"IF(OR({n}<0,{d}<=0,{n}>{d}),{bad},{points})))")
    entry = cells.at("entry", node.code)
    if isinstance(rule, TiersRule):
        points = bad
        if tiers is not None:
            for label, value in reversed(list(zip(tiers.labels, tiers.points))):
                points = f"IF(TRIM({entry})={label},{value},{points})"
        return f'IF({_blank(entry)},"",{points})'
    if isinstance(rule, (CountRule, DeductionRule)):
        if isinstance(rule, CountRule):
            points = f"MIN({_num(rule.max_points)},{entry}*{_num(rule.per_item)})"
        else:
            points = f"-{entry}*{_num(rule.per_occurrence)}"
            if rule.floor is not None:
                points = f"MAX({_num(rule.floor)},{points})"
        valid = f"OR({entry}<0,{entry}<>INT({entry}))"
    elif isinstance(rule, ValueRule):
        points = entry
        step = _num(rule.step)
        valid = (f"OR({entry}<0,{entry}>{_num(rule.max_points)},"
                 f"ABS({entry}/{step}-ROUND({entry}/{step},0))>1E-9)")
    else:  # SurveyRule
        points = entry
        valid = f"OR({entry}<0,{entry}>{_num(rule.max_points)})"
    return (f'IF({_blank(entry)},"",IF(NOT(ISNUMBER({entry})),{bad},'
            f"IF({valid},{bad},{points})))")


def _band_test(band, numerator: str, denominator: str) -> str:
    """`Band.contains` without dividing: numerator/denominator × 100 against the ends, exact for whole numbers."""
    tests = []
    percent = f"{numerator}*100"
    if band.low is not None:
        tests.append(f"{percent}{'>=' if band.low_inclusive else '>'}{_num(band.low)}*{denominator}")
    if band.high is not None:
        tests.append(f"{percent}{'<=' if band.high_inclusive else '<'}{_num(band.high)}*{denominator}")
    if not tests:
        return "TRUE"
    return tests[0] if len(tests) == 1 else f"AND({','.join(tests)})"


def _write_total_rows(ws: Worksheet, row: int, criteria_set, columns: list[Column], cells: _Cells) -> None:
    """TỔNG CỘNG (the engine's total: applicable maxima of the areas, never below 0) and the index under it:
    points as a percentage of the applicable maximum, 2 decimals; the appraised index only once complete."""
    cells.row_of[""] = row
    area_codes = [area.code for area in criteria_set.nodes]
    maximum = cells.at("max", "")
    for index, column in enumerate(columns, start=1):
        for current in (row, row + 1):
            cell = ws.cell(current, index)
            cell.border = BORDER
            cell.fill = TOTAL_FILL
            cell.font = _font(True)
            cell.alignment = NUMBER_ALIGN
        total, percent = ws.cell(row, index), ws.cell(row + 1, index)
        if column.key == "name":
            put_text(total, TOTAL_LABEL).alignment = Alignment(horizontal="center", vertical="top")
            put_text(percent, INDEX_LABEL).alignment = Alignment(horizontal="center", vertical="top")
        elif column.key == "max":
            maxima = ",".join(cells.at("max", c) for c in area_codes)
            put_formula(total, f'=IF(COUNT({maxima})=0,"{NOT_APPLICABLE_MAX}",SUM({maxima}))', POINTS_FORMAT)
        elif column.key == "self":
            points = _clamp("SUM(" + ",".join(cells.at("self", c) for c in area_codes) + ")", maximum, criteria_set.total_max)
            put_formula(total, f'=IF(ISNUMBER({maximum}),{points},"{NOT_APPLICABLE_TEXT}")', POINTS_FORMAT)
            put_formula(percent, _index_formula(cells.at("self", ""), maximum, '""'), POINTS_FORMAT)
        elif column.key == "appraised":
            put_formula(total, "=" + _appraised_total("", area_codes, criteria_set.total_max, cells), POINTS_FORMAT)
            appraised = cells.at("appraised", "")
            put_formula(percent, _index_formula(appraised, maximum, appraised), POINTS_FORMAT)
        elif column.key in ("applicable_leaves", "appraised_leaves"):
            put_formula(total, "=SUM(" + ",".join(cells.at(column.key, c) for c in area_codes) + ")", COUNT_FORMAT)
    ws.row_dimensions[row].height = ws.row_dimensions[row + 1].height = 2 * LINE_HEIGHT + 4


def _index_formula(points: str, maximum: str, otherwise: str) -> str:
    return (f"=IF(ISNUMBER({points}),IF(AND(ISNUMBER({maximum}),N({maximum})>0),"
            f'ROUND({points}/{maximum}*100,2),""),{otherwise})')


def _input_validation(node: CriterionNode, key: str, ref: str, tiers: TierCells | None) -> DataValidation | None:
    """Excel checks what is typed in an input cell and shows, as the cell's hint, what to type there."""
    rule = node.rule
    title = f"Tiêu chí {node.code}"
    if key == "na":
        validation = DataValidation(type="list", formula1=f'"{NOT_APPLICABLE_MARK}"')
        prompt = "Ghi x nếu tiêu chí này không đánh giá: không tính điểm và điểm tối đa. Để trống: có đánh giá."
    elif key in ("explanation", "remark"):
        return None
    elif key == "appraised":
        return _appraised_validation(node, ref)
    elif isinstance(rule, TiersRule):
        if tiers is None:
            return None
        validation = DataValidation(type="list", formula1=tiers.label_range)
        prompt = "Chọn mức đạt được trong danh sách. " + rule.describe()
    elif isinstance(rule, RatioRule):
        validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        part = "Tử số" if key == "numerator" else "Mẫu số"
        prompt = f"{part} của tỷ lệ (điểm tự tính từ tử số/mẫu số). " + rule.describe()
    elif isinstance(rule, CountRule):
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
        prompt = f"Số {rule.unit} (số nguyên). " + rule.describe()
    elif isinstance(rule, DeductionRule):
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
        prompt = f"Số {rule.unit} bị trừ điểm (số nguyên, 0 nếu không có). " + rule.describe()
    else:  # free points or survey points: typed as points
        validation = DataValidation(type="decimal", operator="between", formula1="0",
                                    formula2=_num(node.max_points))
        prompt = f"Điểm từ 0 đến {vn_number(node.max_points)}. " + rule.describe()
    validation.allow_blank = True
    validation.errorStyle = "stop"
    validation.showErrorMessage = True
    validation.errorTitle = "Giá trị không hợp lệ"[:32]
    validation.error = prompt[:255]
    validation.showInputMessage = True
    validation.promptTitle = title[:32]
    validation.prompt = prompt[:255]
    validation.add(ref)
    return validation


def _appraised_validation(node: CriterionNode, ref: str) -> DataValidation:
    """The appraised score is typed as points, within the leaf's range. A warning, not a stop: the importer
    checks everything again and says which rows it left out."""
    rule = node.rule
    low = rule.lowest_points if rule is not None else Decimal(0)
    if low == Decimal("-Infinity"):
        validation = DataValidation(type="decimal", operator="lessThanOrEqual", formula1=_num(node.max_points))
    else:
        validation = DataValidation(type="decimal", operator="between", formula1=_num(low),
                                    formula2=_num(node.max_points))
    validation.allow_blank = True
    validation.errorStyle = "warning"
    validation.showErrorMessage = True
    validation.errorTitle = "Điểm ngoài khoảng"
    validation.error = (f"Tiêu chí {node.code}: điểm phải từ {vn_number(low)} đến {vn_number(node.max_points)}."
                        if low != Decimal("-Infinity") else f"Tiêu chí {node.code}: điểm trừ không lớn hơn 0.")
    validation.showInputMessage = True
    validation.promptTitle = f"Cách chấm {node.code}"[:32]
    validation.prompt = (rule.describe() if rule is not None else "")[:255]
    validation.add(ref)
    return validation


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


# --------------------------------------------------------------------------- sheet "Cách chấm"

RULE_COLUMNS = [
    Column("code", "Mã", 8), Column("name", "Tiêu chí", 48), Column("kind", "Cách chấm", 14),
    Column("tier", "Mức, cách tính", 56), Column("points", "Điểm", 9),
]


def _write_rules_sheet(ws: Worksheet, snapshot: Snapshot) -> dict[str, TierCells]:
    """Every leaf's rule, one row per tier: a person reads how each criterion is scored, and the score table's
    tier lists and tier formulas point at these cells (so no label is ever copied into a formula)."""
    criteria_set = require_criteria(snapshot)
    ws.merge_cells("A1:E1")
    put_text(ws["A1"], f"CÁCH CHẤM ĐIỂM TỪNG TIÊU CHÍ — {criteria_set.name}").font = _font(True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 22
    header_row = 3
    _write_header(ws, RULE_COLUMNS, header_row)
    row = header_row
    tier_cells: dict[str, TierCells] = {}
    quoted = f"'{SHEET_RULES}'"
    for leaf in criteria_set.leaves():
        rule = leaf.rule
        tiers = list(rule.tiers_for_display) if rule is not None else []
        lines: list[tuple[str, Decimal | None]]
        if tiers and not (isinstance(rule, RatioRule) and rule.proportional):
            lines = [(tier.line().rsplit(":", 1)[0] if isinstance(rule, RatioRule) else tier.label, tier.points)
                     for tier in tiers]
        else:
            lines = [(rule.describe() if rule is not None else "Chưa có cách chấm", None)]
        first = row + 1
        for offset, (text, points) in enumerate(lines):
            row += 1
            values = [leaf.code if offset == 0 else "", leaf.name if offset == 0 else "",
                      KIND_LABELS[rule.kind] if rule is not None and offset == 0 else ""]
            for index, value in enumerate(values, start=1):
                put_text(ws.cell(row, index), value)
            put_text(ws.cell(row, 4), text)
            put_number(ws.cell(row, 5), points, POINTS_FORMAT)
            for index in range(1, 6):
                cell = ws.cell(row, index)
                cell.border = BORDER
                cell.font = _font()
                cell.alignment = NUMBER_ALIGN if index == 5 else (CENTRE if index in (1, 3) else WRAP_TOP)
            ws.row_dimensions[row].height = row_height(ws, row, RULE_COLUMNS)
        if isinstance(rule, TiersRule) and tiers:
            tier_cells[leaf.code] = TierCells(
                labels=[f"{quoted}!$D${r}" for r in range(first, row + 1)],
                points=[f"{quoted}!$E${r}" for r in range(first, row + 1)],
            )
    ws.freeze_panes = ws[f"A{header_row + 1}"]
    ws.print_title_rows = f"{header_row}:{header_row}"
    print_setup(ws)
    protect(ws)
    return tier_cells


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

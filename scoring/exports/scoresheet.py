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

from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.packaging.custom import IntProperty
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scoring.assessment.snapshot import Snapshot
from scoring.criteria.model import CriterionNode
from scoring.criteria.numbers import parse_decimal
from scoring.criteria.rules import Rule, SurveyRule, TiersRule
from scoring.exports.cells import put_formula, put_number, put_text
from scoring.exports.common import (
    NOT_APPLICABLE_TEXT,
    TEMPLATE_NOTE,
    date_line,
    evidence_reference,
    governing_body,
    incomplete_evidence,
    require_criteria,
)
from scoring.exports.scoresheet_formulas import (
    appraised_total,
    clamp_formula,
    index_formula,
    input_validation,
    leaf_count_formula,
    leaf_max_formula,
    leaf_self_formula,
    node_max_formula,
    node_points_formula,
)
from scoring.exports.scoresheet_layout import (
    AREA_FILL,
    BORDER,
    CENTRE,
    COUNT_FORMAT,
    FONT_NAME,
    FONT_SIZE,
    HEADER_STT,
    INDEX_LABEL,
    INPUT_FILL,
    INPUT_FORMAT,
    LINE_HEIGHT,
    MOTTO,
    NOT_APPLICABLE_MARK,
    NOT_APPLICABLE_MAX,
    NUMBER_ALIGN,
    POINTS_FORMAT,
    PROPERTY_ASSESSMENT,
    PROPERTY_DEPARTMENT,
    PROPERTY_YEAR,
    SHEET_EVIDENCE,
    SHEET_PLAN,
    SHEET_RULES,
    SHEET_SCORES,
    SIGNATURE_ROWS,
    SIGNERS,
    TOTAL_FILL,
    TOTAL_LABEL,
    UNLOCKED,
    WRAP_TOP,
    Cells,
    Column,
    TierCells,
    cell_font,
    has_appraisal,
    input_columns,
    input_name,
    print_setup,
    protect,
    row_height,
    score_columns,
    write_header,
)
from scoring.exports.scoresheet_sheets import write_evidence_sheet, write_plan_sheet, write_rules_sheet
from scoring.textnorm import format_date


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
    tier_cells = write_rules_sheet(rules, snapshot)
    _write_score_sheet(scores, snapshot, score_columns(with_appraisal), tier_cells)
    write_plan_sheet(workbook.create_sheet(SHEET_PLAN), snapshot)
    write_evidence_sheet(workbook.create_sheet(SHEET_EVIDENCE), snapshot)
    workbook.custom_doc_props.append(IntProperty(name=PROPERTY_DEPARTMENT, value=snapshot.department.id))
    workbook.custom_doc_props.append(IntProperty(name=PROPERTY_YEAR, value=snapshot.year))
    if snapshot.assessment is not None:
        workbook.custom_doc_props.append(IntProperty(name=PROPERTY_ASSESSMENT, value=snapshot.assessment.id))
    workbook.properties.title = f"Bảng tự đánh giá Chỉ số CCHC năm {snapshot.year}"
    workbook.properties.creator = snapshot.department.name
    workbook.save(out)


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
        (f"BẢNG TỰ ĐÁNH GIÁ, CHẤM ĐIỂM CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {snapshot.year}", cell_font(True, size=14)),
        (f"Bộ tiêu chí: {criteria_set.name}" + (f" ({TEMPLATE_NOTE})" if criteria_set.template else ""), cell_font()),
        (f"Số liệu đến ngày {format_date(snapshot.today)}. " + (
            "Điểm tự chấm đã chốt; nhập điểm và nhận xét thẩm định ở các ô nền vàng. " if locked else
            f"Nhập ở các ô nền vàng: «x» nếu không đánh giá, mức đạt được (chọn trong danh sách), số lượng hoặc "
            f"điểm, tử số và mẫu số của tỷ lệ (cách chấm ở trang «{SHEET_RULES}»). ")
         + "Điểm tự đánh giá, điểm tối đa và các tổng là công thức tự tính. "
           f"Giữ nguyên cột «{HEADER_STT}» (mã tiêu chí) để nhập lại bảng vào phần mềm.", cell_font(italic=True, size=11)),
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

    write_header(ws, columns, header_row)
    ws.row_dimensions[header_row].height = 3 * LINE_HEIGHT + 4

    nodes = list(criteria_set.walk())
    row_of = {node.code: header_row + 1 + i for i, node in enumerate(nodes)}
    total_row = header_row + 1 + len(nodes)
    cells = Cells(col, row_of)
    validations: list[DataValidation] = []
    notes = evidence_notes(snapshot)

    for node in nodes:
        row = row_of[node.code]
        score = snapshot.score(node.code)
        inputs = input_columns(node.rule) if node.is_leaf else ()
        for key, letter in col.items():
            cell = ws[f"{letter}{row}"]
            cell.border = BORDER
            cell.font = cell_font(bold=node.level == 1 or (not node.is_leaf and node.level == 2))
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
                put_formula(cell, leaf_max_formula(node, cells) if node.is_leaf else node_max_formula(node, cells),
                            POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key == "self":
                formula = leaf_self_formula(node, cells, tier_cells.get(node.code)) if node.is_leaf else \
                    node_points_formula(node, cells, "self")
                put_formula(cell, formula, POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key == "appraised":
                if node.is_leaf:
                    _write_appraised_leaf(cell, node, snapshot, cells)
                else:
                    put_formula(cell, node_points_formula(node, cells, "appraised"), POINTS_FORMAT)
                cell.alignment = NUMBER_ALIGN
            elif key in ("applicable_leaves", "appraised_leaves"):
                put_formula(cell, leaf_count_formula(node, cells, key), COUNT_FORMAT)
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
                validation = input_validation(node, key, f"{letter}{row}", tier_cells.get(node.code))
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
    _block(ws, 1, "A", left_end, governing_body(snapshot).upper(), cell_font(), 18)
    _block(ws, 1, right_start, last, MOTTO[0], cell_font(True))
    _block(ws, 2, "A", left_end, snapshot.department.name.upper(), cell_font(True), 18)
    _block(ws, 2, right_start, last, MOTTO[1], Font(name=FONT_NAME, size=FONT_SIZE, bold=True, underline="single"))
    return 4


def _write_signatures(ws: Worksheet, snapshot: Snapshot, row: int, last: str, left_end: str, right_start: str) -> int:
    """The place-and-date line and the two signature blocks under the table; returns the last row used."""
    _block(ws, row, right_start, last, date_line(snapshot), cell_font(italic=True), 18)
    (left_title, left_hint), (right_title, right_hint) = SIGNERS
    _block(ws, row + 1, "A", left_end, left_title, cell_font(True), 18)
    _block(ws, row + 1, right_start, last, right_title, cell_font(True))
    _block(ws, row + 2, "A", left_end, left_hint, cell_font(italic=True), 18)
    _block(ws, row + 2, right_start, last, right_hint, cell_font(italic=True))
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


def _write_appraised_leaf(cell, node: CriterionNode, snapshot: Snapshot, cells: Cells) -> None:
    score = snapshot.score(node.code)
    cell.number_format = POINTS_FORMAT
    if score.appraised_points is not None:
        put_number(cell, score.appraised_points, POINTS_FORMAT)
    elif isinstance(node.rule, SurveyRule):
        # published survey points are not appraised: they count the same on both sides (see scoring.assessment.engine)
        put_formula(cell, f"={cells.at('self', node.code)}", POINTS_FORMAT)


def _write_total_rows(ws: Worksheet, row: int, criteria_set, columns: list[Column], cells: Cells) -> None:
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
            cell.font = cell_font(True)
            cell.alignment = NUMBER_ALIGN
        total, percent = ws.cell(row, index), ws.cell(row + 1, index)
        if column.key == "name":
            put_text(total, TOTAL_LABEL).alignment = Alignment(horizontal="center", vertical="top")
            put_text(percent, INDEX_LABEL).alignment = Alignment(horizontal="center", vertical="top")
        elif column.key == "max":
            maxima = ",".join(cells.at("max", c) for c in area_codes)
            put_formula(total, f'=IF(COUNT({maxima})=0,"{NOT_APPLICABLE_MAX}",SUM({maxima}))', POINTS_FORMAT)
        elif column.key == "self":
            points = clamp_formula("SUM(" + ",".join(cells.at("self", c) for c in area_codes) + ")", maximum, criteria_set.total_max)
            put_formula(total, f'=IF(ISNUMBER({maximum}),{points},"{NOT_APPLICABLE_TEXT}")', POINTS_FORMAT)
            put_formula(percent, index_formula(cells.at("self", ""), maximum, '""'), POINTS_FORMAT)
        elif column.key == "appraised":
            put_formula(total, "=" + appraised_total("", area_codes, criteria_set.total_max, cells), POINTS_FORMAT)
            appraised = cells.at("appraised", "")
            put_formula(percent, index_formula(appraised, maximum, appraised), POINTS_FORMAT)
        elif column.key in ("applicable_leaves", "appraised_leaves"):
            put_formula(total, "=SUM(" + ",".join(cells.at(column.key, c) for c in area_codes) + ")", COUNT_FORMAT)
    ws.row_dimensions[row].height = ws.row_dimensions[row + 1].height = 2 * LINE_HEIGHT + 4

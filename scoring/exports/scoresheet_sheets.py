"""The score sheet's other sheets: the rules ("Cách chấm", where the tier lists live), the plan and the evidence.
"""

from __future__ import annotations

from decimal import Decimal

from openpyxl.styles import Alignment
from openpyxl.worksheet.worksheet import Worksheet

from scoring.assessment.snapshot import Snapshot
from scoring.criteria.rules import KIND_LABELS, RatioRule, TiersRule
from scoring.exports.cells import put_number, put_text
from scoring.exports.common import (
    require_criteria,
)
from scoring.exports.scoresheet_layout import (
    BORDER,
    CENTRE,
    NUMBER_ALIGN,
    POINTS_FORMAT,
    SHEET_RULES,
    WRAP_TOP,
    Column,
    TierCells,
    cell_font,
    print_setup,
    protect,
    row_height,
    write_header,
    write_table,
)

# --------------------------------------------------------------------------- sheet "Cách chấm"

RULE_COLUMNS = [
    Column("code", "Mã", 8), Column("name", "Tiêu chí", 48), Column("kind", "Cách chấm", 14),
    Column("tier", "Mức, cách tính", 56), Column("points", "Điểm", 9),
]


def write_rules_sheet(ws: Worksheet, snapshot: Snapshot) -> dict[str, TierCells]:
    """Every leaf's rule, one row per tier: a person reads how each criterion is scored, and the score table's
    tier lists and tier formulas point at these cells (so no label is ever copied into a formula)."""
    criteria_set = require_criteria(snapshot)
    ws.merge_cells("A1:E1")
    put_text(ws["A1"], f"CÁCH CHẤM ĐIỂM TỪNG TIÊU CHÍ — {criteria_set.name}").font = cell_font(True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 22
    header_row = 3
    write_header(ws, RULE_COLUMNS, header_row)
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
                cell.font = cell_font()
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


PLAN_COLUMNS = [
    Column("code", "Mã", 8), Column("text", "Hoạt động", 55), Column("output", "Kết quả/Sản phẩm", 26),
    Column("lead", "Chủ trì", 20), Column("partners", "Phối hợp", 18), Column("deadline", "Thời gian hoàn thành", 16),
    Column("due", "Hạn", 12), Column("status", "Trạng thái", 15), Column("progress", "Tiến độ", 9),
    Column("completed", "Ngày hoàn thành", 13), Column("note", "Ghi chú", 24),
]


def write_plan_sheet(ws: Worksheet, snapshot: Snapshot) -> None:
    rows = [
        [("centre", a.code), ("text", a.text), ("text", a.output), ("text", ", ".join(a.lead)),
         ("text", ", ".join(a.partners)), ("text", a.deadline), ("date", a.due), ("centre", a.status_label),
         ("percent", a.progress), ("date", a.completed_on), ("text", a.note)]
        for a in snapshot.activities
    ]
    title = snapshot.plan.title if snapshot.plan and snapshot.plan.title else f"KẾ HOẠCH CẢI CÁCH HÀNH CHÍNH NĂM {snapshot.year}"
    write_table(ws, f"{title} — {snapshot.department.name}", PLAN_COLUMNS, rows)


EVIDENCE_COLUMNS = [
    Column("stt", "STT", 6), Column("type", "Loại văn bản", 13), Column("number", "Số, ký hiệu", 16),
    Column("date", "Ngày ban hành", 13), Column("issuer", "Cơ quan ban hành", 20), Column("summary", "Trích yếu", 45),
    Column("criteria", "Tiêu chí", 14), Column("activities", "Hoạt động", 12), Column("file", "Tệp đính kèm", 28),
    Column("link", "Đường dẫn", 30),
]


def write_evidence_sheet(ws: Worksheet, snapshot: Snapshot) -> None:
    rows = [
        [("centre", str(i)), ("text", e.doc_type), ("text", e.number), ("date", e.issued_on), ("text", e.issuer),
         ("text", e.summary), ("text", ", ".join(e.criteria)), ("text", ", ".join(e.activities)),
         ("text", e.file_name), ("link", e.link)]
        for i, e in enumerate(snapshot.evidence, start=1)
    ]
    write_table(ws, f"DANH MỤC TÀI LIỆU KIỂM CHỨNG NĂM {snapshot.year} — {snapshot.department.name}", EVIDENCE_COLUMNS, rows)

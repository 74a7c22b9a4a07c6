"""Criteria sets in the Excel layout provinces publish: STT | Lĩnh vực/Tiêu chí/Tiêu chí thành phần | Điểm tối đa | …

Reading (`import_criteria_xlsx`):
- the header row is found by its texts (STT, a name column, "Điểm tối đa"); it may span two rows whose
  cells are merged ("Điểm đánh giá" over "Điều tra XHH | Tự đánh giá | SNV đánh giá"); a row of column
  numbers "(1) (2) (3)" under it is skipped; further columns are optional: Tài liệu kiểm chứng,
  Hoạt động kế hoạch, Ghi chú, Cách chấm;
- STT codes are "1", "1.1", "1.1.1" (a trailing dot is fine) or Roman numerals for areas ("I", "II."); under
  a Roman area, codes that restart at 1 are put under the area ("1.2" in area II → "2.1.2"), codes that
  already start with the area's number are kept. A node's parent is the code without its last number;
- rows with no STT (or a "-"/"+" bullet) are the rule lines of the criterion above them, "Ban hành kịp
  thời: 1" or a label with its points in the "Điểm tối đa" column; they are read with
  `scoring.rules.parse_rule_text`. Where they cannot be read the leaf gets a free-value rule, the text is
  kept in its note and a warning says so;
- the total row ("Tổng cộng", "Tổng điểm") gives total_max and ends the table;
- children whose maxima add up to more than their parent's mean the parent caps them (cap_children);
- any malformed row makes the whole import fail with one InputError listing every row ("Dòng 14: …").
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
import re
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import openpyxl
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from scoring.criteria import CriteriaSet, CriterionNode
from scoring.errors import InputError
from scoring.exports.cells import put_text
from scoring.import_limits import MAX_CRITERIA_ROWS, check_package, check_workbook_rows
from scoring.plan import Issue
from scoring.rules import (
    DEFAULT_STEP,
    ValueRule,
    json_number,
    parse_decimal,
    parse_rule_text,
    parse_tier_line,
    vn_number,
)
from scoring.textnorm import fold, nfc, roman_value

INFO_SHEET = "Thông tin"
CRITERIA_SHEET = "Bộ tiêu chí"
HEADER_SCAN_ROWS = 40
MAX_REPORTED_ROW_ERRORS = 30

# Column roles, recognised by folded header text. Checked in this order: "name" last, its words are generic.
_ROLE_PATTERNS = (
    ("stt", re.compile(r"^(s?tt|so tt|so thu tu)$")),
    ("max", re.compile(r"\bdiem toi da\b|^toi da$")),
    ("evidence", re.compile(r"\bkiem chung\b")),
    ("activities", re.compile(r"\bhoat dong\b")),
    ("note", re.compile(r"\bghi chu\b")),
    ("rule", re.compile(r"\b(cach cham|huong dan cham|phuong phap cham|thang diem)\b")),
    ("name", re.compile(r"\b(linh vuc|tieu chi|noi dung)\b")),
)
_ROMAN = re.compile(r"X{0,3}(IX|IV|V?I{0,3})")  # areas: I … XXXIX is plenty
_DOTTED = re.compile(r"^\d+(?:\.\d+)*\.?$")
_BULLET = re.compile(r"^[-+•*–—]+\s*")
_TOTAL_ROW = re.compile(r"^(tong cong|tong diem|tong so diem)\b")
_COLUMN_NUMBER = re.compile(r"^\(?\d+\)?$")
_YEAR = re.compile(r"\bnam\s+(\d{4})\b")

_INFO_KEYS = {
    "ten bo tieu chi": "name",
    "bo mau": "template",
    "nguon": "sources",
    "tinh": "province",
    "nam": "year",
}


@dataclass
class _Row:
    """A criterion row as read, before codes are made canonical and the tree is built."""

    number: int  # Excel row number, for messages
    raw_code: str
    is_area_roman: bool
    name: str
    max_points: Decimal
    evidence: str = ""
    activities: list[str] = field(default_factory=list)
    note: str = ""
    rule_lines: list[str] = field(default_factory=list)
    code: str = ""


# --------------------------------------------------------------------------- reading


def import_criteria_xlsx(source: bytes | str | Path | IO[bytes], source_name: str | None = None) -> CriteriaSet:
    """Read a criteria set from an .xlsx table (see the module doc). Raises InputError listing every bad row."""
    if isinstance(source, (str, Path)):
        source_name = source_name or Path(source).name
        try:
            source = Path(source).read_bytes()
        except OSError as problem:
            raise InputError(f"Tệp «{source_name}»: không mở được ({problem.strerror or problem}).") from None
    source_name = source_name or "bảng tiêu chí.xlsx"
    data = source if isinstance(source, bytes) else source.read()
    check_package(source_name, data)  # before openpyxl builds anything in memory
    check_workbook_rows(source_name, data, MAX_CRITERIA_ROWS)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise InputError(f"Tệp «{source_name}»: không phải tệp Excel .xlsx đọc được.") from None

    for sheet in workbook.worksheets:
        if sheet.title == INFO_SHEET:
            continue
        header = _find_header(sheet)
        if header is not None:
            info = _read_info(workbook[INFO_SHEET]) if INFO_SHEET in workbook.sheetnames else {}
            return _read_table(sheet, header, info, source_name)
    raise InputError(
        f"Tệp «{source_name}»: không tìm thấy bảng tiêu chí — cần một dòng tiêu đề có các cột «STT», "
        "«Lĩnh vực/Tiêu chí» và «Điểm tối đa»."
    )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return nfc(str(value))


def _merged_fill(sheet) -> dict[tuple[int, int], Any]:
    """Value of every cell covered by a merged range (the top-left cell's), for reading header labels."""
    filled = {}
    for merged in sheet.merged_cells.ranges:
        value = sheet.cell(merged.min_row, merged.min_col).value
        for row in range(merged.min_row, merged.max_row + 1):
            for col in range(merged.min_col, merged.max_col + 1):
                filled[(row, col)] = value
    return filled


@dataclass
class _Header:
    row: int
    height: int
    columns: dict[str, int]  # role → 1-based column


def _find_header(sheet) -> _Header | None:
    filled = _merged_fill(sheet)
    last_row = min(sheet.max_row, HEADER_SCAN_ROWS)
    for row in range(1, last_row + 1):
        height = max(
            (m.max_row - row + 1 for m in sheet.merged_cells.ranges if m.min_row == row), default=1
        )
        labels = {}
        for col in range(1, sheet.max_column + 1):
            parts = [_cell_text(filled.get((r, col), sheet.cell(r, col).value)) for r in range(row, row + height)]
            unique = list(dict.fromkeys(p for p in parts if p))  # a vertically merged label is read once
            labels[col] = fold(" ".join(unique))
        columns: dict[str, int] = {}
        for col, label in labels.items():
            for role, pattern in _ROLE_PATTERNS:
                if role not in columns and pattern.search(label):
                    columns[role] = col
                    break
        if {"stt", "name", "max"} <= columns.keys():
            return _Header(row, height, columns)
    return None


def _read_info(sheet) -> dict[str, Any]:
    info: dict[str, Any] = {"sources": []}
    for key_cell, value_cell, *_ in sheet.iter_rows(min_row=1, max_col=2, values_only=True):
        key = _INFO_KEYS.get(fold(_cell_text(key_cell)).rstrip(":").strip())
        value = _cell_text(value_cell)
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


def _title_lines(sheet, header_row: int) -> list[str]:
    lines = []
    for row in sheet.iter_rows(min_row=1, max_row=header_row - 1, values_only=True):
        lines.extend(text for text in (_cell_text(v) for v in row) if text)
    return lines


@dataclass
class _TableRead:
    rows: list[_Row] = field(default_factory=list)
    total_max: Decimal | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)  # (row, message), reported in row order
    warnings: list[Issue] = field(default_factory=list)


def _read_table(sheet, header: _Header, info: dict[str, Any], source_name: str) -> CriteriaSet:
    table = _read_rows(sheet, header)
    _assign_codes(table.rows)
    nodes = _build_tree(table)  # built even after row errors, to report every bad row at once
    if table.errors:
        messages = [message for _, message in sorted(table.errors, key=lambda error: error[0])]
        shown = messages[:MAX_REPORTED_ROW_ERRORS]
        if len(messages) > len(shown):
            shown.append(f"… và {len(messages) - len(shown)} lỗi khác.")
        raise InputError(
            f"Tệp «{source_name}», trang «{sheet.title}»: bảng tiêu chí có lỗi, chưa nhập gì:\n"
            + "\n".join(f"- {message}" for message in shown)
        )

    title = _title_lines(sheet, header.row)
    # The first title line is often the issuing body ("ỦY BAN NHÂN DÂN TỈNH …"); prefer the line naming the set.
    titled = next((t for t in title if re.search(r"\b(tieu chi|chi so)\b", fold(t))), title[0] if title else "")
    year = info.get("year")
    if year is None and "year" not in info:
        found = next((m for m in (_YEAR.search(fold(t)) for t in title) if m), None)
        year = int(found.group(1)) if found else None
    total_max = table.total_max
    if total_max is None:
        total_max = sum((area.max_points for area in nodes), Decimal(0))
        table.warnings.append(Issue(
            "Bảng tiêu chí",
            f"không có dòng «Tổng cộng»: tổng điểm lấy bằng tổng các lĩnh vực ({vn_number(total_max)}).",
        ))
    return CriteriaSet(
        name=info.get("name") or titled or Path(source_name).stem,
        nodes=nodes,
        total_max=total_max,
        year=year,
        province=info.get("province", ""),
        template=info.get("template", False),
        sources=info.get("sources", []),
        warnings=table.warnings,
        source=source_name,
    )


def _read_rows(sheet, header: _Header) -> _TableRead:
    """The criterion rows below the header, each with the rule lines that follow it, up to the total row."""
    table = _TableRead()
    orphan_lines: list[tuple[int, str]] = []
    first_data_row = header.row + header.height

    def cell(row: int, role: str) -> Any:
        return sheet.cell(row, header.columns[role]).value if role in header.columns else None

    for number in range(first_data_row, sheet.max_row + 1):
        code_text = _cell_text(cell(number, "stt"))
        name = _cell_text(cell(number, "name"))
        raw_max = cell(number, "max")
        max_text = _cell_text(raw_max)
        rule_text = _cell_text(cell(number, "rule"))
        unnumbered = not code_text or _BULLET.fullmatch(code_text) is not None
        if not (code_text or name or max_text or rule_text):
            continue
        numbering_row = _COLUMN_NUMBER.match(name) and (not code_text or _COLUMN_NUMBER.match(code_text))
        if number == first_data_row and numbering_row:
            continue  # the "(1) (2) (3)" row some tables put under their header
        if unnumbered and _TOTAL_ROW.match(fold(name)):
            table.total_max = parse_decimal(raw_max)
            if max_text and table.total_max is None:
                table.errors.append((number, f"Dòng {number}: tổng điểm «{max_text}» không phải là số."))
            break  # what follows the total (signatures, footnotes) is not part of the table
        if unnumbered:
            line = _rule_line(name or rule_text, raw_max)
            if table.rows:
                table.rows[-1].rule_lines.append(line)
            else:
                orphan_lines.append((number, line))
            continue
        row = _criterion_row(number, code_text, name, raw_max, table.errors)
        if row is not None:
            row.evidence = _cell_text(cell(number, "evidence"))
            row.activities = [a for a in re.split(r"[;,\s]+", _cell_text(cell(number, "activities"))) if a]
            row.note = _cell_text(cell(number, "note"))
            if rule_text:
                row.rule_lines.append(rule_text)
            table.rows.append(row)

    for number, line in orphan_lines:
        table.errors.append(
            (number, f"Dòng {number}: dòng cách chấm «{line}» không thuộc tiêu chí nào (không có STT ở phía trên).")
        )
    if not table.rows and not table.errors:
        table.errors.append((first_data_row, f"Dòng {first_data_row}: bảng không có tiêu chí nào dưới dòng tiêu đề."))
    return table


def _criterion_row(number: int, code_text: str, name: str, raw_max: Any, errors: list[tuple[int, str]]) -> _Row | None:
    """A numbered row as a criterion, recording every problem it has; None when its STT is no code at all."""
    bare_code = code_text.rstrip(".")
    is_roman = bool(bare_code) and _ROMAN.fullmatch(bare_code) is not None
    if not is_roman and not _DOTTED.match(code_text):
        errors.append(
            (number, f"Dòng {number}: STT «{code_text}» không phải mã tiêu chí (cần dạng 1, 1.1, 1.1.1 hoặc I, II).")
        )
        return None
    name, inline_rule_lines = _split_inline_rule(name)
    if not name:
        errors.append((number, f"Dòng {number}: thiếu tên lĩnh vực/tiêu chí."))
    max_text = _cell_text(raw_max)
    max_points = parse_decimal(raw_max)
    if not max_text:
        errors.append((number, f"Dòng {number}: thiếu điểm tối đa."))
    elif max_points is None:
        errors.append((number, f"Dòng {number}: điểm tối đa «{max_text}» không phải là số."))
    elif max_points < 0:
        errors.append((number, f"Dòng {number}: điểm tối đa {vn_number(max_points)} không được âm."))
    return _Row(
        number=number,
        raw_code=str(roman_value(bare_code)) if is_roman else bare_code,
        is_area_roman=is_roman,
        name=name,
        max_points=max_points if max_points is not None else Decimal(0),
        rule_lines=inline_rule_lines,
    )


def _split_inline_rule(name: str) -> tuple[str, list[str]]:
    """A name cell may hold the rule too: "Ban hành kế hoạch\n- Kịp thời: 1\n- Không kịp thời: 0,5"."""
    first, *rest = name.split("\n") if name else [""]
    if rest and all(_BULLET.match(line) or parse_tier_line(line) for line in rest):
        return first, [_BULLET.sub("", line).strip() for line in rest]
    return name.replace("\n", " "), []


def _rule_line(text: str, raw_points: Any) -> str:
    """A rule row as one line: its text, plus the points from the "Điểm tối đa" column when the text has none."""
    line = _BULLET.sub("", text).strip()
    points = parse_decimal(raw_points)
    if points is not None and parse_tier_line(line) is None:
        line = f"{line}: {vn_number(points)}"
    return line


def _assign_codes(rows: list[_Row]) -> None:
    """Canonical dotted codes. Under a Roman area, codes restarting at 1 are prefixed with the area number."""
    area_rows: list[_Row] = []
    area: _Row | None = None

    def settle() -> None:
        if area is None:
            return
        prefix = f"{area.raw_code}."
        absolute = all(r.raw_code.startswith(prefix) for r in area_rows)
        for r in area_rows:
            r.code = r.raw_code if absolute else prefix + r.raw_code

    for row in rows:
        if row.is_area_roman:
            settle()
            area, area_rows = row, []
            row.code = row.raw_code
        elif area is not None:
            area_rows.append(row)
        else:
            row.code = row.raw_code
    settle()


def _build_tree(table: _TableRead) -> list[CriterionNode]:
    """The nodes under their parents (from the dotted codes), each leaf with its rule read from its rule lines."""
    errors, warnings = table.errors, table.warnings
    by_code: dict[str, tuple[CriterionNode, _Row]] = {}
    areas: list[CriterionNode] = []
    for row in table.rows:
        node = CriterionNode(row.code, row.name, row.max_points, evidence=row.evidence,
                             activities=row.activities, note=row.note)
        if row.code in by_code:
            first = by_code[row.code][1].number
            errors.append((row.number, f"Dòng {row.number}: trùng mã «{row.code}» (đã có ở dòng {first})."))
            continue
        parent_code = row.code.rpartition(".")[0]
        if not parent_code:
            areas.append(node)
        elif parent_code in by_code:
            by_code[parent_code][0].children.append(node)
        else:
            errors.append(
                (row.number, f"Dòng {row.number}: mã «{row.code}» không có tiêu chí cha «{parent_code}» ở phía trên.")
            )
            continue
        by_code[row.code] = (node, row)

    for node, row in by_code.values():
        where = f"Dòng {row.number}"
        if node.children:
            _settle_parent(node, row, where, warnings)
        else:
            _settle_leaf_rule(node, row, where, warnings)
    return areas


def _settle_parent(node: CriterionNode, row: _Row, where: str, warnings: list[Issue]) -> None:
    if row.rule_lines:
        warnings.append(Issue(where, f"tiêu chí {node.code} có tiêu chí con; bỏ qua các dòng cách chấm của nó."))
    children_sum = sum((c.max_points for c in node.children), Decimal(0))
    if children_sum > node.max_points:
        node.cap_children = True
        warnings.append(Issue(
            where,
            f"tổng điểm các tiêu chí con của {node.code} ({vn_number(children_sum)}) vượt điểm tối đa "
            f"{vn_number(node.max_points)}: điểm tối đa được coi là mức trần.",
        ))


def _settle_leaf_rule(node: CriterionNode, row: _Row, where: str, warnings: list[Issue]) -> None:
    """The leaf's rule from its rule lines; a free-value rule (and a warning) where there are none or they are unreadable."""
    text = "\n".join(row.rule_lines)
    rule = parse_rule_text(text) if text else None
    if rule is not None:
        node.rule = rule.with_max(node.max_points)
        return
    node.rule = ValueRule(node.max_points, DEFAULT_STEP)
    fallback = f"tạm dùng chấm tự do từ 0 đến {vn_number(node.max_points)} điểm, bước {vn_number(DEFAULT_STEP)}."
    if text:
        original = text.replace("\n", "; ")
        node.note = _join_note(node.note, f"Cách chấm gốc (chưa đọc được): {original}")
        warnings.append(Issue(where, f"tiêu chí {node.code}: không đọc được cách chấm «{original}»; {fallback}"))
    else:
        warnings.append(Issue(where, f"tiêu chí {node.code} chưa có cách chấm; {fallback}"))


def _join_note(note: str, addition: str) -> str:
    if addition in note:
        return note
    return f"{note}\n{addition}" if note else addition


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

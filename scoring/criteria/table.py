"""Criteria tables as provinces publish them, from any source: rows of cell texts → a CriteriaSet.

The layout: STT | Lĩnh vực/Tiêu chí/Tiêu chí thành phần | Điểm tối đa | Điểm đánh giá (Điều tra XHH | Tự
đánh giá | SNV đánh giá) | … The readers of each file kind (scoring.criteria.excel for .xlsx,
scoring.criteria.word for Word, scoring.criteria.pdf for PDF) only turn their file into `SourceTable`s —
merged cells resolved, positions named as the person sees them — and everything below is said once, here:

- the header row is found by its texts (STT, a name column, "Điểm tối đa"); it may span two rows whose
  cells are merged ("Điểm đánh giá" over "Điều tra XHH | Tự đánh giá | SNV đánh giá"); a row of column
  numbers "(1) (2) (3)" under it is skipped; further columns are optional: Tài liệu kiểm chứng,
  Hoạt động kế hoạch, Ghi chú, Cách chấm. The header repeated further down (at a page break, or at the
  top of the next table of a document) is skipped, with its column-number row;
- several tables are read as one: a later table with its own header row uses its own columns, one
  without a header continues the table above when it has as many columns;
- STT codes are "1", "1.1", "1.1.1" (a trailing dot is fine) or Roman numerals for areas ("I", "II."); an
  area whose STT cell is merged with its name cell ("I. CÔNG TÁC CHỈ ĐẠO…") is split into the two. Under a
  Roman area, codes that restart at 1 are put under the area ("1.2" in area II → "2.1.2"), codes that
  already start with the area's number are kept. A node's parent is the code without its last number;
- rows with no STT (or a "-"/"+" bullet) are the rule lines of the criterion above them, "Ban hành kịp
  thời: 1" or a label with its points in the "Điểm tối đa" column; lines after a line break in the name
  cell are rule lines too when they read as such. They are read with `scoring.criteria.rules.parse_rule_text`;
  where they cannot be read the leaf gets a free-value rule, the text is kept in its note and a warning
  says so;
- the total row ("Tổng cộng", "Tổng điểm", "Tổng số điểm"), in the name cell or in an STT cell merged with
  it, gives total_max and ends the table: it is never a criterion nor a rule line;
- children whose maxima add up to more than their parent's mean the parent caps them (cap_children);
- any malformed row makes the whole import fail with one InputError listing every row ("Dòng 14: …",
  "Bảng 2, dòng 14: …").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from scoring.criteria.model import CriteriaSet, CriterionNode, RuleFallback
from scoring.criteria.numbers import DEFAULT_STEP, parse_decimal, vn_number
from scoring.criteria.rule_text import parse_rule_text, parse_tier_line
from scoring.criteria.rules import ValueRule
from scoring.errors import InputError
from scoring.plan.model import Issue
from scoring.textnorm import fold, nfc, roman_value

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
_REQUIRED_ROLES = {"stt", "name", "max"}
_ROMAN = re.compile(r"X{0,3}(IX|IV|V?I{0,3})")  # areas: I … XXXIX is plenty
_DOTTED = re.compile(r"^\d+(?:\.\d+)*\.?$")
_CODE_THEN_NAME = re.compile(r"^(X{0,3}(?:IX|IV|V?I{0,3})|\d+(?:\.\d+)*)[.)]?\s+(\S.*)$", re.DOTALL)
_BULLET = re.compile(r"^[-+•*–—]+\s*")
_TOTAL_ROW = re.compile(r"^(tong cong|tong diem|tong so diem)\b")
_COLUMN_NUMBER = re.compile(r"^\(?\d+\)?$")
_YEAR = re.compile(r"\bnam\s+(\d{4})\b")


@dataclass(frozen=True)
class SourceRow:
    """One row of a table as its file shows it.

    `cells`: each column's own text, "" where a merged cell started in another column or row covers it.
    `spread`: the same row with a merged cell's text in every column and row it covers (header labels).
    `continued`: the columns covered by a merged cell that started in a row above (a header's height).
    `where`: how messages name the row, capitalised: "Dòng 14", "Bảng 2, dòng 5", "Trang 3, dòng 2".
    """

    cells: tuple[str, ...]
    where: str
    spread: tuple[str, ...] | None = None
    continued: frozenset[int] = frozenset()

    def spread_cells(self) -> tuple[str, ...]:
        return self.spread if self.spread is not None else self.cells


@dataclass
class SourceTable:
    """A table of a file, with the text that stands before it (a document's title paragraphs)."""

    rows: list[SourceRow]
    lines_before: list[str] = field(default_factory=list)


@dataclass
class Header:
    index: int  # of its first row in the table
    height: int
    columns: dict[str, int]  # role → 0-based column


@dataclass
class _Row:
    """A criterion row as read, before codes are made canonical and the tree is built."""

    order: int  # position in the whole stream of rows, for reporting errors in reading order
    where: str
    raw_code: str
    is_area_roman: bool
    name: str
    max_points: Decimal
    evidence: str = ""
    activities: list[str] = field(default_factory=list)
    note: str = ""
    rule_lines: list[str] = field(default_factory=list)
    code: str = ""


@dataclass
class _TableRead:
    rows: list[_Row] = field(default_factory=list)
    total_max: Decimal | None = None
    errors: list[tuple[int, str]] = field(default_factory=list)  # (order, message), reported in reading order
    warnings: list[Issue] = field(default_factory=list)


def find_header(rows: Sequence[SourceRow]) -> Header | None:
    """The first header row among the table's first rows (STT, a name column and "Điểm tối đa"), or None."""
    for index in range(min(len(rows), HEADER_SCAN_ROWS)):
        header = _header_at(rows, index)
        if header is not None:
            return header
    return None


def _header_at(rows: Sequence[SourceRow], index: int) -> Header | None:
    row = rows[index]
    height = 1
    for col in range(len(row.cells)):  # a merged label starting in this row makes the header as tall as it
        if col in row.continued:
            continue
        below = index + 1
        while below < len(rows) and col in rows[below].continued:
            below += 1
        height = max(height, below - index)
    labels = []
    for col in range(len(row.cells)):
        parts = [_at(rows[r].spread_cells(), col) for r in range(index, min(index + height, len(rows)))]
        unique = list(dict.fromkeys(p for p in parts if p))  # a vertically merged label is read once
        labels.append(fold(" ".join(unique)))
    columns: dict[str, int] = {}
    for col, label in enumerate(labels):
        for role, pattern in _ROLE_PATTERNS:
            if role not in columns and pattern.search(label):
                columns[role] = col
                break
    return Header(index, height, columns) if _REQUIRED_ROLES <= columns.keys() else None


def _at(cells: Sequence[str], col: int | None) -> str:
    return cells[col] if col is not None and col < len(cells) else ""


def read_criteria_tables(tables: Sequence[SourceTable], source_name: str, *, context: str = "",
                         info: dict[str, Any] | None = None) -> CriteriaSet:
    """The criteria set of a file's tables, read as one table from the first one with a header row.

    `context` names the part of the file in the error heading (", trang «Tiêu chí»"); `info` carries what
    an .xlsx "Thông tin" sheet declares (name, template, sources, province, year). Raises InputError."""
    info = info or {}
    title: list[str] = []
    for number, table in enumerate(tables):
        title.extend(table.lines_before)
        header = find_header(table.rows)
        if header is None:
            title.extend(_row_lines(table.rows))
            continue
        title.extend(_row_lines(table.rows[: header.index]))
        read = _read_rows(tables, number, header)
        return _criteria_set(read, title, info, source_name, context)
    raise InputError(
        f"Tệp «{source_name}»: không tìm thấy bảng tiêu chí — cần một dòng tiêu đề có các cột «STT», "
        "«Lĩnh vực/Tiêu chí» và «Điểm tối đa»."
    )


def _row_lines(rows: Sequence[SourceRow]) -> list[str]:
    lines = []
    for row in rows:
        lines.extend(dict.fromkeys(text for text in row.cells if text))
    return lines


def _criteria_set(table: _TableRead, title: list[str], info: dict[str, Any], source_name: str,
                  context: str) -> CriteriaSet:
    _assign_codes(table.rows)
    nodes = _build_tree(table)  # built even after row errors, to report every bad row at once
    if table.errors:
        messages = [message for _, message in sorted(table.errors, key=lambda error: error[0])]
        shown = messages[:MAX_REPORTED_ROW_ERRORS]
        if len(messages) > len(shown):
            shown.append(f"… và {len(messages) - len(shown)} lỗi khác.")
        raise InputError(
            f"Tệp «{source_name}»{context}: bảng tiêu chí có lỗi, chưa nhập gì:\n"
            + "\n".join(f"- {message}" for message in shown)
        )

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


def _is_header_row(row: SourceRow) -> bool:
    """The header row again (repeated at a page break or atop the next table)."""
    return _header_at([row], 0) is not None


def _read_rows(tables: Sequence[SourceTable], first_table: int, header: Header) -> _TableRead:
    """The criterion rows below the header, each with the rule lines that follow it, up to the total row."""
    table = _TableRead()
    orphan_lines: list[tuple[int, str, str]] = []
    order = 0
    columns = header.columns
    width = len(tables[first_table].rows[header.index].cells)
    first_data = (first_table, header.index + header.height)

    for number in range(first_table, len(tables)):
        rows = tables[number].rows
        start = first_data[1] if number == first_table else 0
        after_header = True  # the "(1) (2) (3)" row is only skipped right under a header
        if number != first_table:
            own = find_header(rows)
            if own is not None:
                columns, width, start = own.columns, len(rows[own.index].cells), own.index + own.height
            elif not rows or len(rows[0].cells) != width:
                _skip_foreign_table(rows, table)
                continue
            else:
                after_header = False
        for index in range(start, len(rows)):
            row = rows[index]
            order += 1
            if _is_header_row(row):
                after_header = True
                continue
            if _read_row(row, order, columns, after_header, table, orphan_lines):
                _finish(table, orphan_lines, first_data, tables)
                return table
            if any(_at(row.cells, columns.get(role)) for role in ("stt", "name", "max", "rule")):
                after_header = False  # a header's sub-column row ("Điều tra XHH | …") leaves the numbers row next
    _finish(table, orphan_lines, first_data, tables)
    return table


def _skip_foreign_table(rows: Sequence[SourceRow], table: _TableRead) -> None:
    """A later table with no header and another number of columns is not part of the criteria table; say so
    when it looks like it holds criteria (a signature block, say, needs no word)."""
    coded = next((row for row in rows if row.cells and _DOTTED.match(row.cells[0])), None)
    if coded is not None:
        table.warnings.append(Issue(
            coded.where,
            "bảng này không có dòng tiêu đề (STT, Lĩnh vực/Tiêu chí, Điểm tối đa) và số cột khác bảng tiêu chí "
            "phía trên nên không được đọc; nếu là phần tiếp của bảng tiêu chí, hãy thêm dòng tiêu đề.",
        ))


def _finish(table: _TableRead, orphan_lines: list[tuple[int, str, str]], first_data: tuple[int, int],
            tables: Sequence[SourceTable]) -> None:
    for order, where, line in orphan_lines:
        table.errors.append(
            (order, f"{where}: dòng cách chấm «{line}» không thuộc tiêu chí nào (không có STT ở phía trên).")
        )
    if not table.rows and not table.errors:
        number, index = first_data
        rows = tables[number].rows
        where = rows[min(index, len(rows) - 1)].where
        table.errors.append((0, f"{where}: bảng không có tiêu chí nào dưới dòng tiêu đề."))


def _read_row(row: SourceRow, order: int, columns: dict[str, int], after_header: bool, table: _TableRead,
              orphan_lines: list[tuple[int, str, str]]) -> bool:
    """Read one row into `table`; True at the total row, which ends the table."""

    def cell(role: str) -> str:
        return _at(row.cells, columns.get(role))

    code_text, name, max_text, rule_text = cell("stt"), cell("name"), cell("max"), cell("rule")
    if not (code_text or name or max_text or rule_text):
        return False
    if after_header and _COLUMN_NUMBER.match(name) and (not code_text or _COLUMN_NUMBER.match(code_text)):
        return False  # the "(1) (2) (3)" row some tables put under their header
    if code_text and not name:  # an STT cell merged with the name cell: "I. CÔNG TÁC…", "Tổng cộng"
        split = _CODE_THEN_NAME.match(code_text)
        if split is not None and split.group(1) and (_ROMAN.fullmatch(split.group(1)) or _DOTTED.match(split.group(1))):
            code_text, name = split.group(1), split.group(2).strip()
        elif _TOTAL_ROW.match(fold(code_text)):
            code_text, name = "", code_text
    unnumbered = not code_text or _BULLET.fullmatch(code_text) is not None
    if unnumbered and _TOTAL_ROW.match(fold(name)):
        table.total_max = parse_decimal(max_text)
        if max_text and table.total_max is None:
            table.errors.append((order, f"{row.where}: tổng điểm «{max_text}» không phải là số."))
        return True  # what follows the total (signatures, footnotes) is not part of the table
    if unnumbered:
        line = _rule_line(name or rule_text, max_text)
        if table.rows:
            table.rows[-1].rule_lines.append(line)
        else:
            orphan_lines.append((order, row.where, line))
        return False
    criterion = _criterion_row(order, row.where, code_text, name, max_text, table.errors)
    if criterion is not None:
        criterion.evidence = cell("evidence")
        criterion.activities = [a for a in re.split(r"[;,\s]+", cell("activities")) if a]
        criterion.note = cell("note")
        if rule_text:
            criterion.rule_lines.append(rule_text)
        table.rows.append(criterion)
    return False


def _criterion_row(order: int, where: str, code_text: str, name: str, max_text: str,
                   errors: list[tuple[int, str]]) -> _Row | None:
    """A numbered row as a criterion, recording every problem it has; None when its STT is no code at all."""
    bare_code = code_text.rstrip(".")
    is_roman = bool(bare_code) and _ROMAN.fullmatch(bare_code) is not None
    if not is_roman and not _DOTTED.match(code_text):
        errors.append(
            (order, f"{where}: STT «{code_text}» không phải mã tiêu chí (cần dạng 1, 1.1, 1.1.1 hoặc I, II).")
        )
        return None
    name, inline_rule_lines = _split_inline_rule(name)
    if not name:
        errors.append((order, f"{where}: thiếu tên lĩnh vực/tiêu chí."))
    max_points = parse_decimal(max_text)
    if not max_text:
        errors.append((order, f"{where}: thiếu điểm tối đa."))
    elif max_points is None:
        errors.append((order, f"{where}: điểm tối đa «{max_text}» không phải là số."))
    elif max_points < 0:
        errors.append((order, f"{where}: điểm tối đa {vn_number(max_points)} không được âm."))
    return _Row(
        order=order,
        where=where,
        raw_code=str(roman_value(bare_code)) if is_roman else bare_code,
        is_area_roman=is_roman,
        name=name,
        max_points=max_points if max_points is not None else Decimal(0),
        rule_lines=inline_rule_lines,
    )


def _split_inline_rule(name: str) -> tuple[str, list[str]]:
    """A name cell may hold the rule too: "Ban hành kế hoạch\n- Kịp thời: 1\n- Không kịp thời: 0,5"."""
    first, *rest = name.split("\n") if name else [""]
    rest = [line for line in rest if line.strip()]
    if rest and all(_BULLET.match(line) or parse_tier_line(line) for line in rest):
        return first.strip(), [_BULLET.sub("", line).strip() for line in rest]
    return " ".join(part.strip() for part in name.split("\n") if part.strip()), []


def _rule_line(text: str, points_text: str) -> str:
    """A rule row as its lines: its text, plus the points from the "Điểm tối đa" column when the text has none."""
    lines = [_BULLET.sub("", line).strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    points = parse_decimal(points_text)
    if len(lines) == 1 and points is not None and parse_tier_line(lines[0]) is None:
        lines[0] = f"{lines[0]}: {vn_number(points)}"
    return "\n".join(lines)


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


def _lower_first(where: str) -> str:
    return where[:1].lower() + where[1:]


def _build_tree(table: _TableRead) -> list[CriterionNode]:
    """The nodes under their parents (from the dotted codes), each leaf with its rule read from its rule lines."""
    errors, warnings = table.errors, table.warnings
    by_code: dict[str, tuple[CriterionNode, _Row]] = {}
    areas: list[CriterionNode] = []
    for row in table.rows:
        node = CriterionNode(row.code, row.name, row.max_points, evidence=row.evidence,
                             activities=row.activities, note=row.note)
        if row.code in by_code:
            first = _lower_first(by_code[row.code][1].where)
            errors.append((row.order, f"{row.where}: trùng mã «{row.code}» (đã có ở {first})."))
            continue
        parent_code = row.code.rpartition(".")[0]
        if not parent_code:
            areas.append(node)
        elif parent_code in by_code:
            by_code[parent_code][0].children.append(node)
        else:
            errors.append(
                (row.order, f"{row.where}: mã «{row.code}» không có tiêu chí cha «{parent_code}» ở phía trên.")
            )
            continue
        by_code[row.code] = (node, row)

    for node, row in by_code.values():
        if node.children:
            _settle_parent(node, row, warnings)
        else:
            _settle_leaf_rule(node, row, warnings)
    return areas


def _settle_parent(node: CriterionNode, row: _Row, warnings: list[Issue]) -> None:
    if row.rule_lines:
        warnings.append(Issue(row.where, f"tiêu chí {node.code} có tiêu chí con; bỏ qua các dòng cách chấm của nó."))
    children_sum = sum((c.max_points for c in node.children), Decimal(0))
    if children_sum > node.max_points:
        node.cap_children = True
        warnings.append(Issue(
            row.where,
            f"tổng điểm các tiêu chí con của {node.code} ({vn_number(children_sum)}) vượt điểm tối đa "
            f"{vn_number(node.max_points)}: điểm tối đa được coi là mức trần.",
        ))


def _settle_leaf_rule(node: CriterionNode, row: _Row, warnings: list[Issue]) -> None:
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
        node.note = _join_note(node.note, f"{UNREAD_RULE_NOTE}{original}")
        warnings.append(RuleFallback(row.where, f"tiêu chí {node.code}: không đọc được cách chấm «{original}»; {fallback}",
                                     node.code))
    else:
        warnings.append(RuleFallback(row.where, f"tiêu chí {node.code} chưa có cách chấm; {fallback}", node.code))


UNREAD_RULE_NOTE = "Cách chấm gốc (chưa đọc được): "  # the leaf's note keeps the wording the app could not read


def unread_rule_text(note: str) -> str:
    """The rule wording the reader could not read, as the leaf's note keeps it; "" when there is none."""
    for line in note.splitlines():
        if line.startswith(UNREAD_RULE_NOTE):
            return line.removeprefix(UNREAD_RULE_NOTE).strip()
    return ""


def without_unread_rule(note: str) -> str:
    """The note without the unread rule's line: once a person typed the rule, the wording it replaced is not a note."""
    return "\n".join(line for line in note.splitlines() if not line.startswith(UNREAD_RULE_NOTE))


def _join_note(note: str, addition: str) -> str:
    if addition in note:
        return note
    return f"{note}\n{addition}" if note else addition


def source_bytes(source: bytes | str | Path | IO[bytes], source_name: str | None, default_name: str) -> tuple[str, bytes]:
    """A reader's file as (name to say in messages, its bytes): a path is read (a failure named in Vietnamese), a
    file object read out, bytes taken as they are."""
    if isinstance(source, (str, Path)):
        source_name = source_name or Path(source).name
        try:
            source = Path(source).read_bytes()
        except OSError as problem:
            raise InputError(f"Tệp «{source_name}»: không mở được ({problem.strerror or problem}).") from None
    return source_name or default_name, source if isinstance(source, bytes) else source.read()


def cell_text(value: Any) -> str:
    """A cell's value as the text the table interpretation reads (numbers without a float's noise)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return nfc(str(value)).strip()

"""Read a CCHC plan from the files people actually have: tab-separated text, Word (.docx) and Excel (.xlsx).

Reading happens in two steps, so every format shares one set of rules:
1. a reader turns the file into preamble lines and table rows of cell texts (merged cells repeat their text);
2. `parse_rows` turns rows into the plan model, repairing the quirks real plans have (repeated headers,
   continuation rows, cells split across page breaks, shifted rows, two activities in one cell, merged
   cells) and recording a located warning for everything a person should confirm.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from scoring.errors import InputError
from scoring.import_limits import MAX_PLAN_ROWS, check_package, check_row_count, check_workbook_rows
from scoring.plan.deadlines import parse_deadline
from scoring.plan.model import Activity, Area, Counts, Issue, Plan
from scoring.plan.units import split_units
from scoring.store.uploads import safe_display_name, sniff_kind
from scoring.textnorm import fold, nfc

MAX_PLAN_BYTES = 20 * 1024 * 1024
PLAN_EXTENSIONS = (".txt", ".tsv", ".docx", ".xlsx")

# Logical columns of a plan table, recognised by their header text (folded: lower case, no accents).
COLUMNS = ("tt", "goal", "task", "activity", "output", "lead", "partners", "deadline")
_HEADER_PATTERNS = {
    "tt": re.compile(r"^(tt|stt|so tt)$"),
    "goal": re.compile(r"muc tieu"),
    "task": re.compile(r"nhiem vu"),
    "activity": re.compile(r"hoat dong"),
    "output": re.compile(r"ket qua|san pham"),
    "lead": re.compile(r"chu tri"),
    "partners": re.compile(r"phoi hop"),
    "deadline": re.compile(r"thoi gian|thoi han|tien do"),
}
_HEADER_NUMBERING = re.compile(r"^\(?\d+\)?[.)]?\s*")

_ROMAN_CELL = re.compile(r"^(X{0,1}(?:IX|IV|V?I{0,3}))\s*[.)]?$")
_DECLARED = re.compile(
    r"\(\s*(\d+)\s*m[uụ]c\s*ti[eê]u\s*[;,]\s*(\d+)\s*nhi[eệ]m\s*v[uụ]\s*[;,]\s*(\d+)\s*ho[aạ]t\s*[đd][oộ]ng\s*\)",
    re.IGNORECASE,
)
_DECLARED_FOLDED = re.compile(r"\(\s*(\d+)\s*muc tieu\s*[;,]\s*(\d+)\s*nhiem vu\s*[;,]\s*(\d+)\s*hoat dong\s*\)")
# Labels that open a goal, task or activity cell: "Mục tiêu 01:", "Nhiệm vụ 3:", "Hoạt động 4:".
_LABEL = {
    "goal": re.compile(r"^muc tieu\s*(\d+)?\s*[:.\-]?"),
    "task": re.compile(r"^nhiem vu\s*(\d+)?\s*[:.\-]?"),
    "activity": re.compile(r"^hoat dong\s*(\d+)?\s*[:.\-]?"),
}
# "Hoạt động N:" starting inside a cell, after the first one: two activities written in one cell.
_INNER_ACTIVITY = re.compile(r"(?<=\S)\s+(?=hoat dong\s*\d+\s*:)")
_YEAR_IN_TITLE = re.compile(r"\bnam\s+(\d{4})\b")
_ORGANISATION = re.compile(r"^(so|ban|uy ban|ubnd|van phong|thanh tra|chi cuc|trung tam)\b")
_SUPERIOR = re.compile(r"^(uy ban|ubnd)\b")
_CONDITIONAL = re.compile(r"\(\s*neu co\b")
_CARRIED_COLUMNS = ("output", "lead", "partners", "deadline")
_COLUMN_LABELS = {
    "output": "Kết quả/Sản phẩm",
    "lead": "Chủ trì",
    "partners": "Phối hợp",
    "deadline": "Thời gian hoàn thành",
}


@dataclass
class RawRow:
    where: str  # "dòng 29", "bảng 1, dòng 5", "trang «KH», dòng 7"
    cells: list[str]


@dataclass
class RawDocument:
    name: str
    preamble: list[tuple[str, str]] = field(default_factory=list)  # (where, text) before/around the table
    rows: list[RawRow] = field(default_factory=list)


# ---------------------------------------------------------------- readers


def load_plan(path: str | Path) -> Plan:
    """Read a plan file from disk; InputError (Vietnamese, naming the file) when it cannot be read as a plan."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"Không tìm thấy tệp «{path.name}».") from None
    except IsADirectoryError:
        raise InputError(f"«{path.name}» là một thư mục, không phải tệp kế hoạch.") from None
    except OSError as err:
        raise InputError(f"Không đọc được tệp «{path.name}»: {err.strerror or err}.") from None
    return load_plan_bytes(path.name, data)


def load_plan_bytes(filename: str, data: bytes) -> Plan:
    """Read a plan from uploaded bytes; the format is decided by content, the name only has to agree."""
    return parse_rows(read_document(filename, data))


def read_document(filename: str, data: bytes) -> RawDocument:
    name = safe_display_name(filename) or "tệp"  # no folders, control characters or NUL, before any message
    ext = Path(name).suffix.lower()
    if ext not in PLAN_EXTENSIONS:
        raise InputError(
            f"Tệp «{name}» không đúng định dạng: kế hoạch phải là tệp .docx, .xlsx, .txt hoặc .tsv."
        )
    if not data:
        raise InputError(f"Tệp «{name}» rỗng (0 byte), không có nội dung kế hoạch.")
    if len(data) > MAX_PLAN_BYTES:
        raise InputError(f"Tệp «{name}» quá lớn: tối đa {MAX_PLAN_BYTES // (1024 * 1024)} MB.")
    content = _sniff_container(data)
    if ext == ".docx":
        if content != "docx":
            raise InputError(f"Tệp «{name}» không phải tài liệu Word (.docx) hợp lệ: {_describe(content)}.")
        check_package(name, data)
        return _read_docx(name, data)
    if ext == ".xlsx":
        if content != "xlsx":
            raise InputError(f"Tệp «{name}» không phải bảng tính Excel (.xlsx) hợp lệ: {_describe(content)}.")
        check_package(name, data)
        check_workbook_rows(name, data, MAX_PLAN_ROWS)
        return _read_xlsx(name, data)
    if content is not None:
        raise InputError(f"Tệp «{name}» không phải văn bản: {_describe(content)}.")
    check_row_count(name, data.count(b"\n") + 1, MAX_PLAN_ROWS)
    return _read_text(name, data)


def _sniff_container(data: bytes) -> str | None:
    """What the bytes really are, for the formats people rename by mistake; None for anything else (text)."""
    kind = sniff_kind(data)  # the evidence store's check: PDF, images, and Office packages by their parts
    if kind is not None:
        return "jpeg" if kind == "jpg" else kind
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"  # legacy .doc/.xls
    if data.startswith((b"MZ", b"\x7fELF")):
        return "executable"
    if data.startswith(b"PK\x03\x04"):
        return "zip" if zipfile.is_zipfile(io.BytesIO(data)) else "broken-zip"
    return None


def _describe(content: str | None) -> str:
    return {
        "pdf": "nội dung thực ra là tệp PDF",
        "png": "nội dung thực ra là ảnh PNG",
        "jpeg": "nội dung thực ra là ảnh JPEG",
        "ole": "đây là định dạng Office cũ (.doc/.xls), hãy lưu lại thành .docx hoặc .xlsx",
        "executable": "nội dung là chương trình chạy được, không được phép",
        "broken-zip": "tệp bị hỏng hoặc không đầy đủ",
        "zip": "đây là tệp nén .zip, không phải tài liệu Office",
        "docx": "nội dung thực ra là tài liệu Word (.docx)",
        "xlsx": "nội dung thực ra là bảng tính Excel (.xlsx)",
        None: "nội dung không phải định dạng Office",
    }[content]


def _decode_text(name: str, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"  # Excel's "Unicode Text" export: UTF-16 with BOM, CRLF
    else:
        encoding = "utf-8"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise InputError(
            f"Tệp «{name}» không đọc được: không phải văn bản UTF-8 hoặc UTF-16. "
            "Hãy lưu lại với mã hóa UTF-8 (hoặc «Unicode Text» từ Excel)."
        ) from None
    if "\x00" in text or sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\t\r\n\f") > 8:
        raise InputError(f"Tệp «{name}» là tệp nhị phân, không phải văn bản kế hoạch.")
    return text


def _read_text(name: str, data: bytes) -> RawDocument:
    text = _decode_text(name, data)
    doc = RawDocument(name)
    for number, line in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        where = f"dòng {number}"
        if "\t" in line:
            doc.rows.append(RawRow(where, [nfc(cell) for cell in line.split("\t")]))
        elif nfc(line):
            doc.rows.append(RawRow(where, [nfc(line)]))
    return doc


def _read_docx(name: str, data: bytes) -> RawDocument:
    import docx  # imported here: only a .docx upload pays for loading python-docx

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # python-docx raises several types for damaged packages
        raise InputError(f"Tệp «{name}» không mở được bằng Word (.docx): tệp bị hỏng ({type(err).__name__}).") from None
    doc = RawDocument(name)
    for number, paragraph in enumerate(document.paragraphs, start=1):
        if nfc(paragraph.text):
            doc.preamble.append((f"đoạn {number}", nfc(paragraph.text)))
    for table_number, table in enumerate(document.tables, start=1):
        for row_number, row in enumerate(table.rows, start=1):
            # row.cells repeats a merged cell's object for every grid column it spans, vertical merges included
            cells = [nfc(cell.text) for cell in row.cells]
            doc.rows.append(RawRow(f"bảng {table_number}, dòng {row_number}", cells))
    if not doc.rows:
        raise InputError(f"Tệp «{name}» không có bảng kế hoạch nào (cần một bảng có cột Mục tiêu, Nhiệm vụ, Hoạt động).")
    return doc


def _read_xlsx(name: str, data: bytes) -> RawDocument:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as err:  # openpyxl raises many types for damaged workbooks
        raise InputError(f"Tệp «{name}» không mở được bằng Excel (.xlsx): tệp bị hỏng ({type(err).__name__}).") from None
    for sheet in workbook.worksheets:
        grid = _sheet_grid(sheet)
        if any(_header_columns(cells) for cells in grid):
            doc = RawDocument(name)
            for row_number, cells in enumerate(grid, start=1):
                where = f"trang «{sheet.title}», dòng {row_number}"
                if not any(cells):
                    continue
                doc.rows.append(RawRow(where, cells))
            return doc
    raise InputError(
        f"Tệp «{name}» không có trang tính nào chứa bảng kế hoạch "
        "(cần dòng tiêu đề có các cột Mục tiêu, Nhiệm vụ, Hoạt động)."
    )


def _sheet_grid(sheet) -> list[list[str]]:
    grid = [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    # Merged ranges keep their text only in the top-left cell: repeat it, as Word does, so one rule serves both.
    for merged in sheet.merged_cells.ranges:
        top_left = grid[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(grid) else ""
        for r in range(merged.min_row - 1, min(merged.max_row, len(grid))):
            row = grid[r]
            while len(row) < merged.max_col:
                row.append("")
            for c in range(merged.min_col - 1, merged.max_col):
                row[c] = top_left
    return grid


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return nfc(str(value))


# ---------------------------------------------------------------- parsing


def _header_columns(cells: list[str]) -> dict[str, int] | None:
    """Map logical columns to positions when `cells` is the plan's header row, else None."""
    mapping: dict[str, int] = {}
    for index, cell in enumerate(cells):
        folded = _HEADER_NUMBERING.sub("", fold(cell))
        for column, pattern in _HEADER_PATTERNS.items():
            if column not in mapping and pattern.search(folded) and len(folded) < 60:
                mapping[column] = index
                break
    if {"goal", "task", "activity"} <= mapping.keys() and len(mapping) >= 5:
        return mapping
    return None


def _area_heading(cells: list[str]) -> tuple[str, str] | None:
    """("IV", "CẢI CÁCH TỔ CHỨC BỘ MÁY (...)") when the row opens a reform area."""
    filled = [c for c in cells if c]
    if not filled:
        return None
    match = _ROMAN_CELL.match(filled[0].upper())
    if not match or not match.group(1):
        return None
    # merged heading cells repeat the same text across the row: the heading is the one distinct text left
    rest = list(dict.fromkeys(filled[1:]))
    if len(rest) != 1:
        return None
    return match.group(1), rest[0]


def _split_declared(heading: str) -> tuple[str, Counts | None]:
    match = _DECLARED_FOLDED.search(fold(heading))
    if not match:
        return heading, None
    counts = Counts(*(int(n) for n in match.groups()))
    original = _DECLARED.search(heading)
    name = (heading[: original.start()] + heading[original.end():]) if original else heading
    return nfc(name).rstrip(" :-"), counts


def _label_number(kind: str, text: str) -> tuple[bool, int | None]:
    match = _LABEL[kind].match(fold(text))
    if not match:
        return False, None
    return True, int(match.group(1)) if match.group(1) else None


def _realign(cells: dict[str, str], where: str, warnings: list[Issue]) -> dict[str, str]:
    """A row whose labelled cell stands one or more columns right of its own column is moved back.

    Page layout in Word sometimes drops an empty cell, so "Nhiệm vụ 3: ..." lands in the activity column
    and everything after it moves along. The label tells where the text belongs.
    """
    order = list(COLUMNS)
    values = [cells.get(c, "") for c in order] + [cells.get("_extra", "")]
    for kind in ("goal", "task", "activity"):
        home = order.index(kind)
        if values[home]:
            continue
        for offset in (1, 2):
            found = home + offset
            if found < len(order) and values[found] and _label_number(kind, values[found])[0]:
                if any(values[home:found]):
                    break
                values = values[:home] + values[found:] + [""] * offset
                warnings.append(Issue(where, f"Nội dung «{_short(values[home])}» nằm lệch cột; đã đưa về cột {_kind_label(kind)}."))
                break
    realigned = dict(zip(order, values))
    return realigned


def _kind_label(kind: str) -> str:
    return {"goal": "Mục tiêu", "task": "Nhiệm vụ", "activity": "Hoạt động"}[kind]


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _split_activities(text: str) -> list[str]:
    folded = fold(text)
    # positions in the folded text equal positions in the NFC text: fold() keeps one char per char
    starts = [m.end() for m in _INNER_ACTIVITY.finditer(folded)] if len(folded) == len(text) else []
    if not starts:
        return [text]
    pieces, previous = [], 0
    for start in starts:
        pieces.append(text[previous:start].strip())
        previous = start
    pieces.append(text[previous:].strip())
    return [p for p in pieces if p]


@dataclass
class _State:
    area: Area | None = None
    tt: str = ""
    goal: str = ""
    goal_labelled: bool = False
    task: str = ""
    task_labelled: bool = False
    last_activity: Activity | None = None
    carried: dict[str, str] = field(default_factory=dict)  # last filled output/lead/partners/deadline
    next_number: int = 1
    taken: set[int] = field(default_factory=set)  # activity numbers already used in the area
    highest: int = 0  # the largest of them

    def __post_init__(self) -> None:
        # an area heading met again continues that area: its numbers stay taken (a set and its maximum, so
        # that numbering an activity costs the same in a plan of 40 or of 40.000 activities)
        if self.area is not None and not self.taken:
            self.taken = {a.number for a in self.area.activities}
            self.highest = max(self.taken, default=0)


def parse_rows(doc: RawDocument) -> Plan:
    """Turn a document's rows into a Plan; never raises for odd rows (they become warnings)."""
    warnings: list[Issue] = []
    plan = Plan(title="", year=None, source=doc.name)
    columns: dict[str, int] | None = None
    preamble = list(doc.preamble)
    state = _State()
    pending: list[tuple[RawRow, dict[str, str]]] = []  # activity rows are parsed once the year is known

    for row in doc.rows:
        mapping = _header_columns(row.cells)
        if mapping:
            columns = mapping  # a header repeated at a page break re-states the same columns
            continue
        if columns is None:
            text = " ".join(dict.fromkeys(c for c in row.cells if c))
            if text:
                preamble.append((row.where, text))
            continue
        heading = _area_heading(row.cells)
        if heading:
            code, text = heading
            name, declared = _split_declared(text)
            existing = next((a for a in plan.areas if a.code == code), None)
            if existing is not None:
                # an area heading repeated (at a page break, or pasted twice): its rows continue the same area
                state = _State(area=existing, goal=existing.goals[-1] if existing.goals else "",
                               task=existing.tasks[-1] if existing.tasks else "")
                warnings.append(Issue(row.where, f"Tiêu đề lĩnh vực {code} lặp lại; các dòng sau được gộp vào lĩnh vực {code} phía trên."))
                continue
            state = _State(area=Area(code=code, name=name, declared=declared))
            plan.areas.append(state.area)
            if declared is None:
                warnings.append(Issue(row.where, f"Lĩnh vực {code} không ghi số mục tiêu, nhiệm vụ, hoạt động; không đối chiếu được số lượng."))
            continue
        cells = {c: (row.cells[i] if i < len(row.cells) else "") for c, i in columns.items()}
        last = max(columns.values())
        cells["_extra"] = row.cells[last + 1] if last + 1 < len(row.cells) else ""
        if not any(cells.values()):
            continue
        if state.area is None:
            warnings.append(Issue(row.where, f"Bỏ qua dòng nằm trước lĩnh vực đầu tiên: «{_short(' '.join(c for c in row.cells if c))}»."))
            continue
        pending.append((row, cells))
        _absorb_row(row, cells, state, warnings)

    _read_title(plan, preamble, warnings)
    if not plan.areas:
        raise InputError(
            f"Tệp «{doc.name}» không có bảng kế hoạch: không tìm thấy dòng tiêu đề (Mục tiêu, Nhiệm vụ, Hoạt động) "
            "và các lĩnh vực đánh số La Mã (I, II, ...)."
        )
    year = plan.year
    for activity in plan.activities:
        deadline = parse_deadline(activity.deadline, year) if year else None
        if deadline is not None:
            activity.due = deadline.due
            activity.deadline_kind = deadline.kind
        if not activity.deadline:
            warnings.append(Issue(activity.where, f"Hoạt động {activity.id} không có thời gian hoàn thành."))
        elif deadline is not None and deadline.kind == "unparsed":
            warnings.append(Issue(activity.where, f"Hoạt động {activity.id}: không hiểu thời hạn «{activity.deadline}», chưa xác định được ngày."))
    _unify_unit_spelling(plan)
    _check_counts(plan, warnings)
    plan.warnings = _dedupe(warnings)
    return plan


def _absorb_row(row: RawRow, cells: dict[str, str], state: _State, warnings: list[Issue]) -> None:
    cells = _realign(cells, row.where, warnings)
    area = state.area
    assert area is not None

    # merged cells repeat the text above: only a different text opens a new TT, goal or task
    new_tt = bool(cells["tt"]) and cells["tt"] != state.tt
    state.tt = cells["tt"] or state.tt
    goal_text = cells["goal"] if cells["goal"] != state.goal else ""
    if goal_text:
        labelled, _ = _label_number("goal", goal_text)
        if not labelled and state.goal_labelled and not new_tt:
            state.goal = _join(state.goal, goal_text)  # the goal cell was split across a page break
            area.goals[-1] = state.goal
            warnings.append(Issue(row.where, f"Ô mục tiêu bị ngắt trang, đã nối vào mục tiêu phía trên: «{_short(goal_text)}»."))
        else:
            state.goal, state.goal_labelled = goal_text, labelled
            state.task, state.task_labelled = "", False
            area.goals.append(goal_text)

    task_text = cells["task"] if cells["task"] != state.task else ""
    if task_text:
        labelled, _ = _label_number("task", task_text)
        if not labelled and state.task_labelled and not goal_text:
            previous, state.task = state.task, _join(state.task, task_text)  # cell split across a page break
            area.tasks[-1] = state.task
            for activity in area.activities:
                if activity.task == previous:
                    activity.task = state.task
            warnings.append(Issue(row.where, f"Ô nhiệm vụ bị ngắt trang, đã nối vào nhiệm vụ phía trên: «{_short(task_text)}»."))
        else:
            state.task, state.task_labelled = task_text, labelled
            area.tasks.append(task_text)

    activity_text = cells["activity"]
    if not activity_text:
        if any(cells[c] for c in _CARRIED_COLUMNS) and state.last_activity is not None:
            _continue_activity(state.last_activity, cells, row.where, warnings)
        return
    if not state.goal:
        warnings.append(Issue(row.where, "Hoạt động không thuộc mục tiêu nào (ô Mục tiêu trống từ đầu lĩnh vực)."))
    if state.task == "":
        warnings.append(Issue(row.where, "Hoạt động không thuộc nhiệm vụ nào (ô Nhiệm vụ trống)."))

    labelled, _ = _label_number("activity", activity_text)
    if (
        not labelled
        and state.last_activity is not None
        and state.last_activity.text
        and _label_number("activity", state.last_activity.text)[0]
        and not new_tt
        and not goal_text
        and not task_text
    ):
        # labelled plan, unlabelled text under an activity: the activity cell was split across a page break
        _continue_activity(state.last_activity, cells, row.where, warnings, text=activity_text)
        return

    for column in _CARRIED_COLUMNS:
        if cells[column]:
            state.carried[column] = cells[column]
        elif column in state.carried:
            cells[column] = state.carried[column]
            warnings.append(
                Issue(row.where, f"Ô «{_COLUMN_LABELS[column]}» trống (ô gộp trong bản gốc?): đã lấy theo dòng trên «{_short(cells[column])}», cần kiểm tra lại.")
            )

    pieces = _split_activities(activity_text)
    if len(pieces) > 1:
        warnings.append(Issue(row.where, f"Một ô chứa {len(pieces)} hoạt động; đã tách thành {len(pieces)} hoạt động cùng kết quả, đơn vị và thời hạn."))
    for piece in pieces:
        _add_activity(piece, cells, row.where, state, warnings)


def _add_activity(text: str, cells: dict[str, str], where: str, state: _State, warnings: list[Issue]) -> None:
    area = state.area
    assert area is not None
    labelled, number = _label_number("activity", text)
    taken = state.taken
    if number is None or number in taken:
        if number in taken:
            warnings.append(Issue(where, f"Số hoạt động {number} bị trùng trong lĩnh vực {area.code}; đã đánh số lại."))
        number = max(state.highest, state.next_number - 1) + 1
    taken.add(number)
    state.highest = max(state.highest, number)
    state.next_number = number + 1
    activity = Activity(
        id=f"{area.code}.{number}",
        area=area.code,
        number=number,
        goal=state.goal,
        task=state.task,
        text=text,
        output=cells["output"],
        lead=split_units(cells["lead"]),
        partners=split_units(cells["partners"]),
        deadline=cells["deadline"],
        conditional=bool(_CONDITIONAL.search(fold(text))),
        where=where,
    )
    area.activities.append(activity)
    state.last_activity = activity


def _continue_activity(activity: Activity, cells: dict[str, str], where: str, warnings: list[Issue], text: str = "") -> None:
    """A row that only continues the activity above (its cells were split across a page break)."""
    if text:
        activity.text = _join(activity.text, text)
    if cells["output"]:
        activity.output = _join(activity.output, cells["output"])
    for column in ("lead", "partners"):
        extra = [u for u in split_units(cells[column]) if u not in getattr(activity, column)]
        getattr(activity, column).extend(extra)
    if cells["deadline"] and not activity.deadline:
        activity.deadline = cells["deadline"]
    warnings.append(Issue(where, f"Dòng tiếp nối của hoạt động {activity.id} (ngắt trang); đã nối vào hoạt động đó."))


def _unify_unit_spelling(plan: Plan) -> None:
    """One spelling per unit across the plan: the first one met ("PHÒNG ĐĂNG KÝ" = "Phòng Đăng ký")."""
    spelling: dict[str, str] = {}
    for activity in plan.activities:
        for column in ("lead", "partners"):
            names = [spelling.setdefault(fold(name), name) for name in getattr(activity, column)]
            setattr(activity, column, list(dict.fromkeys(names)))


def _join(first: str, second: str) -> str:
    return nfc(f"{first} {second}")


def _read_title(plan: Plan, preamble: list[tuple[str, str]], warnings: list[Issue]) -> None:
    for where, text in preamble:
        folded = fold(text)
        if not plan.title and folded.startswith("ke hoach"):
            plan.title = text
            year = _YEAR_IN_TITLE.search(folded)
            if year:
                plan.year = int(year.group(1))
        elif not plan.title and _ORGANISATION.match(folded) and text.upper() == text:
            # the letterhead names the superior body first ("UBND TỈNH ..."), then the issuing one
            if not plan.organisation or not _SUPERIOR.match(folded):
                plan.organisation = text
    if not plan.title:
        warnings.append(Issue("đầu tệp", "Không tìm thấy tiêu đề «KẾ HOẠCH ...» trước bảng kế hoạch."))
    if plan.year is None:
        warnings.append(Issue("tiêu đề", "Tiêu đề không ghi năm kế hoạch («... NĂM 2026»): chưa tính được ngày đến hạn."))


def _check_counts(plan: Plan, warnings: list[Issue]) -> None:
    for area in plan.areas:
        if area.declared is None:
            continue
        parsed = area.parsed
        for label, declared_n, parsed_n in (
            ("mục tiêu", area.declared.goals, parsed.goals),
            ("nhiệm vụ", area.declared.tasks, parsed.tasks),
            ("hoạt động", area.declared.activities, parsed.activities),
        ):
            if declared_n != parsed_n:
                warnings.append(
                    Issue(f"lĩnh vực {area.code}", f"Lĩnh vực {area.code} ghi {declared_n} {label} nhưng đọc được {parsed_n}.")
                )


def _dedupe(warnings: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(warnings))

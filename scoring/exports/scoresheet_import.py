"""Taking a filled score sheet back: what changed, checked against the rules, then saved through scoring.store.

`read_scoresheet` reads the "Bảng điểm" sheet written by `write_scoresheet` (or one edited in Excel or
LibreOffice): rows are matched by the criterion's code — the "STT" column, or the "Mã" column of a sheet exported
in the earlier layout (where STT numbered "I", "2.3") — and reading stops at the index row, above the signatures; and each leaf's inputs are read back in the form its rule
takes them — "Không đánh giá" (x), the tier's label, the count, the number of deductions, the free or survey
points, a ratio's numerator and denominator — together with the explanation, appraised score and appraisal
remark. The inputs are scored through the rule (as `assessment_store.save_self_score` does again when saving), so
the points stored are the points the sheet's own formulas show. The computed cells (points, maxima, totals)
are never read as data.

Only what makes the whole file unusable refuses it (not an .xlsx, too large, another year or department, no
header row): `ScoresheetError`/`InputError`, nothing changed. A row that cannot be taken back — a code that is
unknown or repeated, an input the rule cannot score, a change the yearly cycle does not allow yet (self
scores and explanations once the self-score is locked, appraised scores before it) — is left out and listed
in `ScoresheetChanges.skipped` with its row, criterion code and a Vietnamese reason; the other rows are saved
once the person confirms.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scoring.assessment.appraisal import SourceDocument
from scoring.assessment.snapshot import Snapshot
from scoring.criteria.model import CriterionNode
from scoring.criteria.numbers import is_on_step, json_number, parse_decimal, vn_number
from scoring.criteria.rules import (
    CountRule,
    DeductionRule,
    RatioRule,
    Rule,
    SurveyRule,
    TiersRule,
    ValueRule,
    score_leaf,
)
from scoring.errors import ConflictError, InputError
from scoring.exports.common import NOT_APPLICABLE_TEXT, require_criteria
from scoring.exports.scoresheet_layout import (
    HEADER_APPRAISED,
    HEADER_CODE,
    HEADER_DENOMINATOR,
    HEADER_ENTRY,
    HEADER_EXPLANATION,
    HEADER_NAME,
    HEADER_NOT_APPLICABLE,
    HEADER_NUMERATOR,
    HEADER_REMARK,
    HEADER_SELF,
    HEADER_STT,
    INDEX_LABEL,
    NOT_APPLICABLE_MARK,
    PROPERTY_DEPARTMENT,
    PROPERTY_YEAR,
    SHEET_SCORES,
    TOTAL_LABEL,
    input_columns,
    input_name,
)
from scoring.import_limits import MAX_SCORESHEET_ROWS, check_package, check_workbook_rows
from scoring.store import actors, assessment_store
from scoring.store.db import Database
from scoring.store.uploads import check_upload, safe_display_name
from scoring.textnorm import fold, nfc

MAX_SCORESHEET_BYTES = 10 * 1024 * 1024
# A score sheet is a few hundred kB unpacked and about twenty parts; check_upload's limits are for any Office
# document, scoring.import_limits' for what an importer parses.
MAX_SCORESHEET_PARTS = 500
HEADER_SEARCH_ROWS = 30
MAX_REPORTED_ERRORS = 30

# Header words (folded) that name each column we read; other spellings people use are accepted too.
_HEADER_KEYS = {
    "code": {fold(HEADER_CODE), "ma tieu chi", "ma so"},
    "stt": {fold(HEADER_STT)},  # the code itself in this layout; only a numbering where a "Mã" column exists
    "name": {fold(HEADER_NAME), "ten tieu chi", "linh vuc, tieu chi"},
    "na": {fold(HEADER_NOT_APPLICABLE), fold(NOT_APPLICABLE_TEXT)},
    "entry": {fold(HEADER_ENTRY)},
    "numerator": {fold(HEADER_NUMERATOR)},
    "denominator": {fold(HEADER_DENOMINATOR)},
    "self": {fold(HEADER_SELF)},
    "appraised": {fold(HEADER_APPRAISED), "diem snv danh gia", "snv danh gia"},
    "remark": {fold(HEADER_REMARK)},
    "explanation": {fold(HEADER_EXPLANATION), "giai trinh, ghi chu"},
}
_REQUIRED = ("code", "na", "entry", "numerator", "denominator")
_COLUMN_NAMES = {"na": HEADER_NOT_APPLICABLE, "entry": HEADER_ENTRY, "numerator": HEADER_NUMERATOR,
                 "denominator": HEADER_DENOMINATOR, "self": HEADER_SELF, "appraised": HEADER_APPRAISED}
_SKIPPED_LABELS = {fold(TOTAL_LABEL), fold(INDEX_LABEL)}
_NOT_APPLICABLE_WORDS = {fold(NOT_APPLICABLE_MARK), fold(NOT_APPLICABLE_TEXT)}


class ScoresheetError(InputError):
    """The sheet cannot be taken back at all; `problems` are the Vietnamese lines, also in the message."""

    def __init__(self, filename: str, problems: list[str]):
        self.problems = problems
        shown = problems[:MAX_REPORTED_ERRORS]
        more = len(problems) - len(shown)
        lines = [f"Tệp «{filename}» chưa nhập được, chưa có thay đổi nào được lưu:"]
        lines += [f"- {p}" for p in shown]
        if more > 0:
            lines.append(f"- … và {more} lỗi khác.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class SkippedRow:
    """A row left out of the import, and why (the stored score of its criterion stays as it is)."""

    row: int
    code: str  # "" when the row lost its code
    reason: str

    def line(self) -> str:
        where = f"Dòng {self.row}, tiêu chí {self.code}" if self.code else f"Dòng {self.row}"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class LeafChange:
    """What the sheet changes for one leaf (old → new), and what to store for it."""

    code: str
    name: str
    row: int  # row in the sheet, for messages
    expected_version: int  # the stored score's version the sheet was compared with
    inputs: dict[str, Any]  # the rule inputs to store (the stored ones when the score itself is unchanged)
    old_points: Decimal | None
    new_points: Decimal | None
    old_not_applicable: bool
    new_not_applicable: bool
    old_explanation: str
    new_explanation: str
    old_appraised: Decimal | None
    new_appraised: Decimal | None
    old_remark: str
    new_remark: str
    appraisal_round: int = 1  # which appraisal round an appraised score or remark goes to
    inputs_changed: bool = False  # the rule inputs differ from the stored ones (the points may not)
    scoring_text: str = ""  # how the rule scores the new inputs: "Tỷ lệ 95,00% (19/20) → Trên 90%: 2 điểm"

    @property
    def self_changed(self) -> bool:
        return (self.old_not_applicable != self.new_not_applicable or self.old_points != self.new_points
                or self.inputs_changed)

    @property
    def explanation_changed(self) -> bool:
        return self.old_explanation != self.new_explanation

    @property
    def appraisal_changed(self) -> bool:
        return self.old_appraised != self.new_appraised or self.old_remark != self.new_remark

    def descriptions(self) -> list[str]:
        """One Vietnamese line per changed field: "điểm tự đánh giá: 0,5 → 1 (Mức «Kịp thời»: 1 điểm)"."""
        lines = []
        detail = f" ({self.scoring_text})" if self.scoring_text and not self.new_not_applicable else ""
        if self.old_not_applicable != self.new_not_applicable or self.old_points != self.new_points:
            lines.append(f"điểm tự đánh giá: {_points_text(self.old_points, self.old_not_applicable)} → "
                         f"{_points_text(self.new_points, self.new_not_applicable)}{detail}")
        elif self.inputs_changed:
            lines.append(f"thông tin chấm: {self.scoring_text or 'đã sửa'} (điểm không đổi)")
        if self.explanation_changed:
            lines.append(f"giải trình: {_quoted(self.old_explanation)} → {_quoted(self.new_explanation)}")
        if self.old_appraised != self.new_appraised:
            lines.append(f"điểm thẩm định lần {self.appraisal_round}: {_points_text(self.old_appraised)} → "
                         f"{_points_text(self.new_appraised)}")
        if self.old_remark != self.new_remark:
            lines.append(f"nhận xét thẩm định lần {self.appraisal_round}: {_quoted(self.old_remark)} → "
                         f"{_quoted(self.new_remark)}")
        return lines


def _points_text(points: Decimal | None, not_applicable: bool = False) -> str:
    if not_applicable:
        return NOT_APPLICABLE_TEXT.lower()
    return "(trống)" if points is None else vn_number(points)


def _quoted(text: str) -> str:
    return f"«{text}»" if text else "(trống)"


@dataclass(frozen=True)
class ScoresheetChanges:
    source_name: str
    department_id: int
    year: int
    assessment_id: int
    changes: list[LeafChange] = field(default_factory=list)
    skipped: list[SkippedRow] = field(default_factory=list)  # rows left out, each with its reason
    missing_codes: list[str] = field(default_factory=list)  # leaves with no row in the sheet: left as stored

    def __bool__(self) -> bool:
        return bool(self.changes)

    def summary_lines(self) -> list[str]:
        """For the confirmation step: "Tiêu chí 1.1.1 (dòng 9): điểm tự đánh giá: 0,5 → 1"."""
        return [f"Tiêu chí {c.code} (dòng {c.row}): {'; '.join(c.descriptions())}" for c in self.changes]

    def skipped_lines(self) -> list[str]:
        """Every row left out: "Dòng 12, tiêu chí 1.2.1: …"."""
        return [s.line() for s in self.skipped]

    def missing_line(self) -> str:
        """The criteria the sheet has no row for ("" when none): their stored scores stay."""
        if not self.missing_codes:
            return ""
        shown = ", ".join(self.missing_codes[:15]) + ("…" if len(self.missing_codes) > 15 else "")
        return (f"Bảng không có dòng của {len(self.missing_codes)} tiêu chí ({shown}): "
                "điểm đang lưu của các tiêu chí này giữ nguyên.")


# --------------------------------------------------------------------------- reading


def read_scoresheet(filename: str, data: bytes, snapshot: Snapshot) -> ScoresheetChanges:
    """The changes a filled score sheet makes to the snapshot's assessment, and the rows it leaves out.
    ScoresheetError (or InputError) only when the file as a whole cannot be read."""
    criteria_set = require_criteria(snapshot)
    name = safe_display_name(filename) or "bảng điểm"  # no folders, control characters or NUL in any message
    workbook = _open_workbook(name, data)
    _check_belongs_to(workbook, name, snapshot)
    sheet, header_row, columns = _find_table(workbook, name)
    code_header = _text(sheet.cell(header_row, columns["code"]).value)

    skipped: list[SkippedRow] = []
    changes: list[LeafChange] = []
    seen: dict[str, int] = {}
    for row in range(header_row + 1, sheet.max_row + 1):
        values = {key: sheet.cell(row, column).value for key, column in columns.items()}
        label = values.get("name")
        if isinstance(label, str) and fold(label) == fold(INDEX_LABEL):
            break  # the table ends here: the place, date and signatures follow
        code = _code_text(values.get("code"))
        if not code:
            if _row_needs_code(values):
                skipped.append(SkippedRow(row, "", f"thiếu mã tiêu chí (cột «{code_header}»), dòng này không được nhập."))
            continue
        if code in seen:
            skipped.append(SkippedRow(row, code, f"mã trùng với dòng {seen[code]}, dòng này không được nhập."))
            continue
        seen[code] = row
        node = criteria_set.node(code)
        if node is None:
            skipped.append(SkippedRow(row, code, f"mã không có trong bộ tiêu chí «{criteria_set.name}»."))
            continue
        if not node.is_leaf:
            continue  # node totals are formulas of the leaves: nothing to take back
        try:
            change = _leaf_change(node, row, values, columns, snapshot)
        except _RowSkipped as skip:
            skipped.append(SkippedRow(row, code, skip.reason))
            continue
        if change is not None:
            changes.append(change)
    missing = [leaf.code for leaf in criteria_set.leaves() if leaf.code not in seen]
    return ScoresheetChanges(name, snapshot.department.id, snapshot.year, snapshot.assessment.id, changes,
                             skipped, missing)


def _open_workbook(name: str, data: bytes):
    if not name.lower().endswith(".xlsx"):
        raise InputError(f"Tệp «{name}»: bảng điểm phải là tệp Excel .xlsx (tệp phần mềm đã xuất).")
    checked = check_upload(name, data, max_bytes=MAX_SCORESHEET_BYTES)  # size, real xlsx, zip-bomb guards
    check_package(checked.display_name, data, max_parts=MAX_SCORESHEET_PARTS)  # nothing inflated yet
    check_workbook_rows(checked.display_name, data, MAX_SCORESHEET_ROWS)
    try:
        return load_workbook(io.BytesIO(data), data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as problem:
        raise InputError(f"Tệp «{checked.display_name}»: không đọc được bảng tính ({problem}).") from None


def _check_belongs_to(workbook, name: str, snapshot: Snapshot) -> None:
    """Sheets this app wrote carry their department and year; refuse one meant for another assessment."""
    properties = {p.name: p.value for p in workbook.custom_doc_props}
    year = _whole_number(properties.get(PROPERTY_YEAR))
    department = _whole_number(properties.get(PROPERTY_DEPARTMENT))
    if year is not None and year != snapshot.year:
        raise InputError(f"Tệp «{name}» là bảng điểm năm {year}, không phải năm {snapshot.year}.")
    if department is not None and department != snapshot.department.id:
        raise InputError(f"Tệp «{name}» là bảng điểm của cơ quan khác, không phải {snapshot.department.name}.")


def _whole_number(value: Any) -> int | None:
    """A stamped property, or None when absent or edited into something else (then the check is skipped)."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _find_table(workbook, name: str) -> tuple[Worksheet, int, dict[str, int]]:
    """The sheet, its header row and the column of each known header (1-based)."""
    sheets = [workbook[SHEET_SCORES]] if SHEET_SCORES in workbook.sheetnames else list(workbook.worksheets)
    for sheet in sheets:
        for row in range(1, min(sheet.max_row, HEADER_SEARCH_ROWS) + 1):
            columns: dict[str, int] = {}
            for column in range(1, sheet.max_column + 1):
                value = sheet.cell(row, column).value
                if not isinstance(value, str):
                    continue
                key = next((k for k, words in _HEADER_KEYS.items() if fold(value) in words), None)
                if key and key not in columns:
                    columns[key] = column
            stt = columns.pop("stt", None)
            if stt is not None and "code" not in columns:
                columns["code"] = stt  # this layout: STT is the code
            if "code" in columns and "self" in columns:
                missing = [k for k in _REQUIRED if k not in columns]
                if missing:
                    names = ", ".join(f"«{_COLUMN_NAMES[k]}»" for k in missing)
                    raise ScoresheetError(name, [(
                        f"Bảng điểm không có cột {names} (bảng theo mẫu cũ hoặc đã bị xóa cột): điểm được tính từ "
                        "các cột này. Hãy xuất lại bảng điểm từ phần mềm, nhập vào bảng mới rồi tải lên."
                    )])
                return sheet, row, columns
    raise ScoresheetError(name, [(
        f"Không tìm thấy dòng tiêu đề có các cột «{HEADER_STT}» và «{HEADER_SELF}» trong {HEADER_SEARCH_ROWS} "
        f"dòng đầu của trang «{SHEET_SCORES}». Hãy dùng bảng điểm do phần mềm xuất ra và không xóa, sửa dòng tiêu đề."
    )])


def _code_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).removesuffix(".0")  # a code retyped in Excel may have become a number: 1.2
    return nfc(str(value))


def _row_needs_code(values: dict[str, Any]) -> bool:
    """A row without a code is fine when blank or the total/index rows; anything else lost its code."""
    label = values.get("name")
    if isinstance(label, str) and fold(label) in _SKIPPED_LABELS:
        return False
    return any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values.values())


# --------------------------------------------------------------------------- one leaf row


class _RowSkipped(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


_BLANK = object()


def _leaf_change(node: CriterionNode, row: int, values: dict[str, Any], columns: dict[str, int],
                 snapshot: Snapshot) -> LeafChange | None:
    """The row's change to its leaf, None when it changes nothing; _RowSkipped when it cannot be taken back."""
    stored = snapshot.score(node.code)
    rule = node.rule
    new_na = _not_applicable(values.get("na"))
    new_inputs = _inputs(node, values) if rule is not None else dict(stored.inputs)
    inputs_changed = rule is not None and _canonical(rule, new_inputs) != _canonical(rule, stored.inputs)
    new_points, scoring_text = stored.self_points, ""
    if rule is not None and (inputs_changed or new_na != stored.not_applicable):
        result = score_leaf(rule, new_inputs)
        if result.problems:
            raise _RowSkipped(" ".join(result.problems) + " Dòng này không được nhập.")
        new_points = None if new_na else result.points
        scoring_text = result.explanation if result.points is not None else ""
    elif new_na:
        new_points = None
    if not inputs_changed:
        new_inputs = dict(stored.inputs)  # "17/20" stored as text stays as it was stored
    _check_typed_points(rule, values.get("self"), new_points, new_na)

    new_explanation = stored.explanation
    if "explanation" in columns:
        new_explanation = nfc(_text(values.get("explanation")))

    new_appraised, new_remark = stored.appraised_points, stored.appraisal_remark
    if "appraised" in columns:
        new_appraised = _appraised(node, values.get("appraised"), row, columns, stored.appraised_points)
    if "remark" in columns:
        new_remark = nfc(_text(values.get("remark")))

    change = LeafChange(
        code=node.code, name=node.name, row=row, expected_version=stored.version, inputs=new_inputs,
        old_points=stored.self_points, new_points=new_points, old_not_applicable=stored.not_applicable,
        new_not_applicable=new_na, old_explanation=stored.explanation, new_explanation=new_explanation,
        old_appraised=stored.appraised_points, new_appraised=new_appraised,
        old_remark=stored.appraisal_remark, new_remark=new_remark,
        # the sheet shows the final appraisal: an edit goes to the round that produced it
        appraisal_round=2 if stored.appraisal.round2_points is not None else 1,
        inputs_changed=inputs_changed, scoring_text=scoring_text,
    )
    if not (change.self_changed or change.explanation_changed or change.appraisal_changed):
        return None
    # Self-scores are edited before the lock (chốt điểm), appraisals after it: say so now, not half-way through.
    locked = snapshot.assessment.locked_at is not None
    if locked and (change.self_changed or change.explanation_changed):
        raise _RowSkipped(f"điểm tự chấm năm {snapshot.year} đã chốt, không sửa được điểm tự đánh giá và giải trình "
                          "(cần mở lại điểm tự chấm trước).")
    if not locked and change.appraisal_changed:
        raise _RowSkipped(f"năm {snapshot.year} chưa chốt điểm tự chấm nên chưa nhập được điểm thẩm định.")
    return change


def _check_typed_points(rule: Rule | None, self_cell: Any, points: Decimal | None, not_applicable: bool) -> None:
    """The points cell is a formula of the row's inputs. A sheet saved as values still reads back when each
    value is what the inputs give; a number typed over the formula is not taken for an input."""
    if rule is None or (_is_blank(self_cell) and points is None) or _is_formula(self_cell):
        return
    if not_applicable and isinstance(self_cell, str) and fold(self_cell) == fold(NOT_APPLICABLE_TEXT):
        return
    typed = parse_decimal(self_cell) if isinstance(self_cell, (int, float)) else None
    if typed is not None and points is not None and not not_applicable and typed == points:
        return
    raise _RowSkipped(
        f"ô «{HEADER_SELF}» được tính từ các ô nhập của dòng, không nhập tay được (đang là «{_text(self_cell)}», "
        f"các ô nhập cho {_points_text(points, not_applicable)}); hãy nhập {_what_to_type(rule)}.")


def _what_to_type(rule: Rule) -> str:
    if isinstance(rule, RatioRule):
        return f"tử số và mẫu số ở cột «{HEADER_NUMERATOR}», «{HEADER_DENOMINATOR}»"
    if isinstance(rule, TiersRule):
        return f"mức đạt được ở cột «{HEADER_ENTRY}»"
    return f"số liệu hoặc điểm ở cột «{HEADER_ENTRY}»"


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _not_applicable(value: Any) -> bool:
    if _is_blank(value):
        return False
    if isinstance(value, str) and fold(value) in _NOT_APPLICABLE_WORDS:
        return True
    raise _RowSkipped(f"ô «{HEADER_NOT_APPLICABLE}» chỉ nhận «{NOT_APPLICABLE_MARK}» (không đánh giá) hoặc để trống, "
                      f"đang là «{_text(value)}».")


def _inputs(node: CriterionNode, values: dict[str, Any]) -> dict[str, Any]:
    """The rule inputs the row's input cells hold, in the form scoring.criteria.rules takes them; blank cells are left out."""
    rule = node.rule
    inputs: dict[str, Any] = {}
    if isinstance(rule, TiersRule):
        value = values.get("entry")
        if _is_blank(value):
            return inputs
        if _is_formula(value):
            raise _RowSkipped(f"ô «{HEADER_ENTRY}» là công thức «{value[:40]}», hãy chọn một mức trong danh sách.")
        typed = " ".join(_text(value).split()).casefold()
        tier = next((t for t in rule.tiers if " ".join(t.label.split()).casefold() == typed), None)
        if tier is None:  # matched as the sheet's formula matches it: whole label, any case
            options = "; ".join(f"«{t.label}»" for t in rule.tiers)
            raise _RowSkipped(f"không có mức «{_text(value)}»; các mức: {options}.")
        return {"tier": tier.label}
    for key in input_columns(rule):
        number = _number(values.get(key), key)
        if number is not _BLANK:
            inputs[input_name(rule, key)] = json_number(number)
    return inputs


def _number(value: Any, key: str) -> Decimal | object:
    """A number cell as a Decimal (_BLANK when empty). Text is refused even when it reads as a number: the
    sheet's formulas do not count it either, so the import must not."""
    column = f"ô «{_COLUMN_NAMES[key]}»"
    if _is_blank(value):
        return _BLANK
    if _is_formula(value):
        raise _RowSkipped(f"{column} là công thức «{value[:40]}», hãy nhập số.")
    if isinstance(value, (bool, datetime, date)) or not isinstance(value, (int, float)):
        raise _RowSkipped(f"{column} đang là chữ «{_text(value)}», không phải số; hãy nhập số (ô định dạng số).")
    number = parse_decimal(value)
    if number is None:
        raise _RowSkipped(f"{column}: «{_text(value)}» không phải là số.")
    if isinstance(value, float):
        number = number.quantize(Decimal("1e-9")).normalize()  # 0.30000000000000004 typed as 0.3
    return number


def _appraised(node: CriterionNode, value: Any, row: int, columns: dict[str, int],
               stored: Decimal | None) -> Decimal | None:
    if _is_formula(value) and isinstance(node.rule, SurveyRule) and _is_self_mirror(value, row, columns):
        return None  # the exported survey row: appraised = self until the council says otherwise
    number = _number(value, "appraised")
    if number is _BLANK:
        return None
    if number != stored:
        problem = _range_problem(node, number) or _achievable_problem(node.rule, number)
        if problem:
            raise _RowSkipped(f"điểm thẩm định {vn_number(number)}: {problem}.")
    return number


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _canonical(rule: Rule, inputs: dict) -> tuple:
    """Inputs compared by meaning: tier 0 and its label are the same choice, 17 and "17" the same count."""
    if isinstance(rule, TiersRule):
        choice = inputs.get("tier")
        tier = rule.find_tier(choice) if not _is_blank(choice) else None
        return ("tier", tier.label if tier is not None else (None if _is_blank(choice) else str(choice)))
    items = []
    for key, value in sorted(inputs.items()):
        if _is_blank(value):
            continue
        number = parse_decimal(value)
        items.append((key, number.normalize() if number is not None else str(value)))
    return tuple(items)


def _is_self_mirror(formula: str, row: int, columns: dict[str, int]) -> bool:
    return formula.replace("$", "").upper() == f"={get_column_letter(columns['self'])}{row}"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _range_problem(node: CriterionNode, points: Decimal) -> str | None:
    low = node.rule.lowest_points if node.rule is not None else Decimal(0)
    if points > node.max_points or points < low:
        if low == Decimal("-Infinity"):
            return "điểm trừ phải từ 0 trở xuống"
        return f"phải từ {vn_number(low)} đến {vn_number(node.max_points)}"
    return None


def _achievable_problem(rule: Rule | None, points: Decimal) -> str | None:
    """Why the rule can never give these points (None when it can), for appraised scores."""
    if rule is None:
        return "tiêu chí chưa có cách chấm"
    if isinstance(rule, TiersRule) or (isinstance(rule, RatioRule) and not rule.proportional):
        if any(t.points == points for t in rule.tiers):
            return None
        return "không phải điểm của một mức (" + "; ".join(t.line() for t in rule.tiers) + ")"
    if isinstance(rule, (ValueRule, RatioRule)):
        if is_on_step(points, rule.step):
            return None
        return f"không theo bước {vn_number(rule.step)} điểm"
    if isinstance(rule, CountRule):
        if points == rule.max_points or is_on_step(points, rule.per_item):
            return None
        return f"không phải bội số của {vn_number(rule.per_item)} điểm mỗi {rule.unit}"
    if isinstance(rule, DeductionRule):
        if points == rule.floor or is_on_step(-points, rule.per_occurrence):
            return None
        return f"không phải bội số của {vn_number(rule.per_occurrence)} điểm trừ mỗi {rule.unit}"
    return None  # survey points are entered as published


# --------------------------------------------------------------------------- applying


def apply_scoresheet_changes(db: Database, assessment_id: int, changes: ScoresheetChanges,
                             actor: actors.Actor, *, source: SourceDocument | None = None,
                             today: date | None = None) -> list[str]:
    """Save the changes through scoring.store (audited); returns the codes saved, in sheet order.

    Appraisal changes follow the cycle like any appraisal write (scoring.assessment.cycle.may_write): where the Office
    transcribes them, `source` is the province's document they come from.

    Every score is first checked against the version the sheet was compared with: if anyone saved one of
    these criteria since, ConflictError names them and nothing is saved. A write the store still
    refuses (someone saving in the same second, a locked self-score, a permission) stops there; when some
    criteria were already saved, the error says which.
    """
    if changes.assessment_id != assessment_id:
        raise InputError(f"Tệp «{changes.source_name}» được đọc cho một kỳ đánh giá khác; hãy tải lên lại.")
    current = assessment_store.list_scores(db, assessment_id)
    moved = [c.code for c in changes.changes
             if (current[c.code].version if c.code in current else 0) != c.expected_version]
    if moved:
        raise ConflictError(
            f"Điểm của tiêu chí {', '.join(moved)} vừa được sửa sau khi bảng điểm được đọc. Chưa lưu thay đổi nào: "
            "hãy tải lên lại tệp để so với điểm mới nhất."
        )
    saved: list[str] = []
    for change in changes.changes:
        version = change.expected_version
        try:
            if change.self_changed or change.explanation_changed:
                view, _ = assessment_store.save_self_score(db, assessment_id, change.code, version, inputs=change.inputs,
                                               not_applicable=change.new_not_applicable,
                                               explanation=change.new_explanation, actor=actor)
                version = view.version
            if change.appraisal_changed:
                assessment_store.save_appraisal(db, assessment_id, change.code, version, points=change.new_appraised,
                                    remark=change.new_remark, round_number=change.appraisal_round, source=source,
                                    actor=actor, today=today)
        except InputError as problem:
            if not saved:
                raise  # nothing saved: the store's own error (conflict, lock, permission) as it is
            done = f"{problem} Đã lưu trước đó: tiêu chí {', '.join(saved)}; các tiêu chí còn lại chưa được lưu."
            raise (ConflictError(done) if isinstance(problem, ConflictError) else InputError(done)) from problem
        saved.append(change.code)
    return saved

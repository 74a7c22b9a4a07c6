"""Taking a filled score sheet back: what changed, checked against the rules, then saved through the repository.

`read_scoresheet` reads the "Bảng điểm" sheet written by `write_scoresheet` (or one edited in Excel or
LibreOffice): rows are matched by the "Mã" column, and every leaf whose self score, "Không đánh giá"
mark, explanation, appraised score or appraisal remark differs from the stored one becomes a
`LeafChange` (old → new). A sheet edited out of shape — header row not found, a code missing,
unknown or repeated, a score that is not a number or that the rule cannot give — raises
`ScoresheetError` listing every bad row in Vietnamese, and nothing is changed. So does a change the
yearly cycle does not allow yet: self scores and explanations once the self-score is locked (chốt
điểm), appraised scores before it.

Stored self scores always come from a rule's inputs (see `repository.save_self_score`), so a number
typed in the sheet is turned back into the inputs that give it: the tier with those points, the
free value, the survey points, or the count / number of deductions when only one count gives them.
Where the points alone cannot say what the inputs were — a ratio (which numerator and denominator?),
or a count at its cap (4 items or 10?) — the row is reported as an error asking the person to score
that criterion on the scoring page instead, rather than inventing inputs.
"""

from __future__ import annotations

import io
import math
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scoring import repository as repo
from scoring.criteria import CriterionNode
from scoring.cycle import SourceDocument
from scoring.db import Database
from scoring.errors import ConflictError, InputError
from scoring.evidence_files import check_upload
from scoring.exports.common import NOT_APPLICABLE_TEXT, require_criteria
from scoring.exports.scoresheet import (
    HEADER_APPRAISED,
    HEADER_CODE,
    HEADER_EXPLANATION,
    HEADER_NAME,
    HEADER_REMARK,
    HEADER_SELF,
    INDEX_LABEL,
    PROPERTY_DEPARTMENT,
    PROPERTY_YEAR,
    SHEET_SCORES,
    TOTAL_LABEL,
)
from scoring.rules import (
    CountRule,
    DeductionRule,
    RatioRule,
    Rule,
    SurveyRule,
    TiersRule,
    ValueRule,
    is_on_step,
    json_number,
    parse_decimal,
    score_leaf,
    vn_number,
)
from scoring.snapshot import Snapshot
from scoring.textnorm import fold, nfc

MAX_SCORESHEET_BYTES = 10 * 1024 * 1024
HEADER_SEARCH_ROWS = 30
MAX_REPORTED_ERRORS = 30

# Header words (folded) that name each column we read; other spellings people use are accepted too.
_HEADER_KEYS = {
    "code": {fold(HEADER_CODE), "ma tieu chi", "ma so"},
    "name": {fold(HEADER_NAME), "ten tieu chi", "linh vuc, tieu chi"},
    "self": {fold(HEADER_SELF), "diem tu cham", "tu danh gia", "diem tu danh gia, cham diem"},
    "appraised": {fold(HEADER_APPRAISED), "diem snv danh gia", "snv danh gia"},
    "remark": {fold(HEADER_REMARK)},
    "explanation": {fold(HEADER_EXPLANATION), "giai trinh, ghi chu"},
}
_COLUMN_NAMES = {"self": HEADER_SELF, "appraised": HEADER_APPRAISED}
_SKIPPED_LABELS = {fold(TOTAL_LABEL), fold(INDEX_LABEL)}


class ScoresheetError(InputError):
    """The sheet cannot be taken back; `problems` are the Vietnamese lines ("Dòng 14: …"), also in the message."""

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

    @property
    def self_changed(self) -> bool:
        return self.old_not_applicable != self.new_not_applicable or self.old_points != self.new_points

    @property
    def explanation_changed(self) -> bool:
        return self.old_explanation != self.new_explanation

    @property
    def appraisal_changed(self) -> bool:
        return self.old_appraised != self.new_appraised or self.old_remark != self.new_remark

    def descriptions(self) -> list[str]:
        """One Vietnamese line per changed field: "điểm tự đánh giá: 0,5 → 1"."""
        lines = []
        if self.self_changed:
            lines.append(f"điểm tự đánh giá: {_points_text(self.old_points, self.old_not_applicable)} → "
                         f"{_points_text(self.new_points, self.new_not_applicable)}")
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

    def __bool__(self) -> bool:
        return bool(self.changes)

    def summary_lines(self) -> list[str]:
        """For the confirmation step: "Tiêu chí 1.1.1 (dòng 9): điểm tự đánh giá: 0,5 → 1"."""
        return [f"Tiêu chí {c.code} (dòng {c.row}): {'; '.join(c.descriptions())}" for c in self.changes]


# --------------------------------------------------------------------------- reading


def read_scoresheet(filename: str, data: bytes, snapshot: Snapshot) -> ScoresheetChanges:
    """The changes a filled score sheet makes to the snapshot's assessment; ScoresheetError if it cannot be read."""
    criteria_set = require_criteria(snapshot)
    name = nfc(filename) or "bảng điểm"
    workbook = _open_workbook(name, data)
    _check_belongs_to(workbook, name, snapshot)
    sheet, header_row, columns = _find_table(workbook, name)

    problems: list[str] = []
    changes: list[LeafChange] = []
    seen: dict[str, int] = {}
    for row in range(header_row + 1, sheet.max_row + 1):
        values = {key: sheet.cell(row, column).value for key, column in columns.items()}
        code = _code_text(values.get("code"))
        if not code:
            if _row_needs_code(values):
                problems.append(f"Dòng {row}: thiếu mã tiêu chí (cột «{HEADER_CODE}»).")
            continue
        if code in seen:
            problems.append(f"Dòng {row}: mã «{code}» trùng với dòng {seen[code]}.")
            continue
        seen[code] = row
        node = criteria_set.node(code)
        if node is None:
            problems.append(f"Dòng {row}: mã «{code}» không có trong bộ tiêu chí «{criteria_set.name}».")
            continue
        if not node.is_leaf:
            continue  # node totals are formulas of the leaves: nothing to take back
        change = _leaf_change(node, row, values, columns, snapshot, problems)
        if change is not None:
            changes.append(change)
    missing = [leaf.code for leaf in criteria_set.leaves() if leaf.code not in seen]
    if missing:
        problems.append(f"Bảng thiếu dòng của {len(missing)} tiêu chí: {', '.join(missing[:15])}"
                        + ("…" if len(missing) > 15 else "") + " (không được xóa dòng hay sửa mã).")
    if problems:
        raise ScoresheetError(name, problems)
    return ScoresheetChanges(name, snapshot.department.id, snapshot.year, snapshot.assessment.id, changes)


def _open_workbook(name: str, data: bytes):
    if not name.lower().endswith(".xlsx"):
        raise InputError(f"Tệp «{name}»: bảng điểm phải là tệp Excel .xlsx (tệp phần mềm đã xuất).")
    checked = check_upload(name, data, max_bytes=MAX_SCORESHEET_BYTES)  # size, real xlsx, zip-bomb guards
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
            if "code" in columns and "self" in columns:
                return sheet, row, columns
    raise ScoresheetError(name, [(
        f"Không tìm thấy dòng tiêu đề có các cột «{HEADER_CODE}» và «{HEADER_SELF}» trong {HEADER_SEARCH_ROWS} "
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

_BLANK = object()
_NOT_APPLICABLE = object()


def _leaf_change(node: CriterionNode, row: int, values: dict[str, Any], columns: dict[str, int],
                 snapshot: Snapshot, problems: list[str]) -> LeafChange | None:
    stored = snapshot.score(node.code)
    before = len(problems)
    where = f"tiêu chí {node.code}"

    entered = _score_cell(values.get("self"), row, "self", node, columns, problems)
    if entered is _NOT_APPLICABLE:
        new_points, new_na = None, True
    elif entered is _BLANK:
        new_points, new_na = None, False
    else:
        new_points, new_na = entered, False
    inputs = dict(stored.inputs)
    self_changed = new_na != stored.not_applicable or (not new_na and new_points != stored.self_points)
    if self_changed and new_points is not None:
        problem = _range_problem(node, new_points)
        if problem is None:
            derived, problem = _inputs_for_points(node.rule, new_points, stored.inputs)
        if problem:
            problems.append(f"Dòng {row}: điểm tự đánh giá {vn_number(new_points)} của {where}: {problem}.")
        else:
            inputs = derived
    elif self_changed and not new_na:
        inputs = {}  # the score was deleted in the sheet: the leaf goes back to "not scored yet"

    new_explanation = stored.explanation
    if "explanation" in columns:
        new_explanation = nfc(_text(values.get("explanation")))

    new_appraised, new_remark = stored.appraised_points, stored.appraisal_remark
    if "appraised" in columns:
        appraised = _score_cell(values.get("appraised"), row, "appraised", node, columns, problems)
        new_appraised = None if appraised is _BLANK else appraised
        if new_appraised is not None and new_appraised != stored.appraised_points:
            problem = _range_problem(node, new_appraised) or _achievable_problem(node.rule, new_appraised)
            if problem:
                problems.append(f"Dòng {row}: điểm thẩm định {vn_number(new_appraised)} của {where}: {problem}.")
    if "remark" in columns:
        new_remark = nfc(_text(values.get("remark")))

    if len(problems) > before:
        return None
    change = LeafChange(
        code=node.code, name=node.name, row=row, expected_version=stored.version, inputs=inputs,
        old_points=stored.self_points, new_points=new_points, old_not_applicable=stored.not_applicable,
        new_not_applicable=new_na, old_explanation=stored.explanation, new_explanation=new_explanation,
        old_appraised=stored.appraised_points, new_appraised=new_appraised,
        old_remark=stored.appraisal_remark, new_remark=new_remark,
        # the sheet shows the final appraisal: an edit goes to the round that produced it
        appraisal_round=2 if stored.appraisal.round2_points is not None else 1,
    )
    if not (change.self_changed or change.explanation_changed or change.appraisal_changed):
        return None
    # Self-scores are edited before the lock (chốt điểm), appraisals after it: say so now, not half-way through.
    locked = snapshot.assessment.locked_at is not None
    if locked and (change.self_changed or change.explanation_changed):
        problems.append(f"Dòng {row}: điểm tự chấm năm {snapshot.year} đã chốt, không sửa được điểm tự đánh giá "
                        f"và giải trình của {where} (cần mở lại điểm tự chấm trước).")
        return None
    if not locked and change.appraisal_changed:
        problems.append(f"Dòng {row}: năm {snapshot.year} chưa chốt điểm tự chấm nên chưa nhập được điểm thẩm định "
                        f"của {where}.")
        return None
    return change


def _score_cell(value: Any, row: int, key: str, node: CriterionNode, columns: dict[str, int],
                problems: list[str]) -> Any:
    """A score cell as _BLANK, _NOT_APPLICABLE (self column only) or a Decimal; a problem line otherwise."""
    column_name = _COLUMN_NAMES[key]
    where = f"(cột «{column_name}», tiêu chí {node.code})"
    if value is None or (isinstance(value, str) and not value.strip()):
        return _BLANK
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("="):
            if key == "appraised" and isinstance(node.rule, SurveyRule) and _is_self_mirror(text, row, columns):
                return _BLANK  # the exported survey row: appraised = self until the council says otherwise
            problems.append(f"Dòng {row}: ô điểm là công thức «{text[:40]}», hãy nhập số {where}.")
            return None
        if key == "self" and fold(text) == fold(NOT_APPLICABLE_TEXT):
            return _NOT_APPLICABLE
    if isinstance(value, (bool, datetime, date)):
        problems.append(f"Dòng {row}: điểm «{_text(value)}» không phải là số {where}.")
        return None
    number = parse_decimal(value)
    if number is None:
        problems.append(f"Dòng {row}: điểm «{_text(value)}» không phải là số {where}.")
        return None
    if isinstance(value, float):
        number = number.quantize(Decimal("1e-9")).normalize()  # 0.30000000000000004 typed as 0.3
    return number


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


def _inputs_for_points(rule: Rule | None, points: Decimal, stored_inputs: dict) -> tuple[dict | None, str | None]:
    """The rule inputs that give exactly `points`, or why a bare number cannot say what they are."""
    if rule is None:
        return None, "tiêu chí chưa có cách chấm"
    if stored_inputs and score_leaf(rule, stored_inputs).points == points:
        return dict(stored_inputs), None  # e.g. "Không đánh giá" taken off a leaf scored before
    achievable = _achievable_problem(rule, points)
    if achievable:
        return None, achievable
    on_page = "hãy chấm tiêu chí này trên trang Chấm điểm"
    match rule:
        case TiersRule():
            tier = next(t for t in rule.tiers if t.points == points)
            return {"tier": tier.label}, None
        case ValueRule():
            return {"value": json_number(points)}, None
        case SurveyRule():
            return {"survey": json_number(points)}, None
        case CountRule():
            if points == rule.max_points and points > 0:
                needed = math.ceil(points / rule.per_item)
                return None, (f"điểm tối đa ứng với từ {vn_number(needed)} {rule.unit} trở lên, bảng điểm không "
                              f"cho biết số {rule.unit} thực tế; {on_page}")
            return {"count": int(points / rule.per_item)}, None
        case DeductionRule():
            if rule.floor is not None and points == rule.floor and points < 0:
                return None, (f"mức trừ tối đa ứng với nhiều số {rule.unit} khác nhau, bảng điểm không cho biết "
                              f"số {rule.unit} thực tế; {on_page}")
            return {"occurrences": int(-points / rule.per_occurrence)}, None
        case RatioRule():
            return None, f"điểm theo tỷ lệ được tính từ tử số và mẫu số, bảng điểm không có hai số này; {on_page}"
    return None, on_page


# --------------------------------------------------------------------------- applying


def apply_scoresheet_changes(db: Database, assessment_id: int, changes: ScoresheetChanges,
                             actor: repo.Actor, *, source: SourceDocument | None = None,
                             today: date | None = None) -> list[str]:
    """Save the changes through the repository (audited); returns the codes saved, in sheet order.

    Appraisal changes follow the cycle like any appraisal write (scoring.cycle.may_write): where the Office
    transcribes them, `source` is the province's document they come from.

    Every score is first checked against the version the sheet was compared with: if anyone saved one of
    these criteria since, ConflictError names them and nothing is saved. A write the repository still
    refuses (someone saving in the same second, a locked self-score, a permission) stops there; when some
    criteria were already saved, the error says which.
    """
    if changes.assessment_id != assessment_id:
        raise InputError(f"Tệp «{changes.source_name}» được đọc cho một kỳ đánh giá khác; hãy tải lên lại.")
    current = repo.list_scores(db, assessment_id)
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
                view, _ = repo.save_self_score(db, assessment_id, change.code, version, inputs=change.inputs,
                                               not_applicable=change.new_not_applicable,
                                               explanation=change.new_explanation, actor=actor)
                version = view.version
            if change.appraisal_changed:
                repo.save_appraisal(db, assessment_id, change.code, version, points=change.new_appraised,
                                    remark=change.new_remark, round_number=change.appraisal_round, source=source,
                                    actor=actor, today=today)
        except InputError as problem:
            if not saved:
                raise  # nothing saved: the repository's own error (conflict, lock, permission) as it is
            done = f"{problem} Đã lưu trước đó: tiêu chí {', '.join(saved)}; các tiêu chí còn lại chưa được lưu."
            raise (ConflictError(done) if isinstance(problem, ConflictError) else InputError(done)) from problem
        saved.append(change.code)
    return saved

"""An imported criteria set as a draft the Office corrects before it is saved as a year's set.

A file read by `criteria.load_criteria_set_bytes` becomes a `CriteriaDraft`: the set as read, plus what the
Office typed over it, field by field, as text. `draft_rows` gives one editable row per node (areas, criteria,
sub-criteria, in document order) with the rule as the app understood it in a Vietnamese sentence, and a flag
on the leaves whose rule the reader could not read and replaced by a free value. `build_draft` applies what
was typed and checks the result exactly as a set file is checked — the JSON Schema (`criteria_set_from_dict`'s
check, with the same sentences) and then `criteria.validate` — and names the criterion and the field of each
problem, so a page can show it at that row.

The rule of a leaf is typed as rule lines ("Kịp thời: 1; Không kịp thời: 0,5", "Mỗi tin, bài: 0,25 điểm"),
the wording `Rule.lines()` writes and `rules.parse_rule_text` reads. A rule the Office did not retype stays
exactly as read (its step, unit and bands included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from scoring.criteria.files import criteria_set_from_dict, nearest_code, schema_error_text, schema_validator
from scoring.criteria.model import CriteriaSet, CriterionNode, RuleFallback, validate
from scoring.criteria.numbers import json_number, parse_decimal, vn_number
from scoring.criteria.rule_text import parse_rule_text
from scoring.criteria.rules import (
    KIND_LABELS,
    CountRule,
    DeductionRule,
    RatioRule,
    Rule,
    SurveyRule,
    TiersRule,
    ValueRule,
)
from scoring.criteria.table import unread_rule_text, without_unread_rule
from scoring.errors import InputError
from scoring.textnorm import nfc

# The fields a person edits, by the label the page shows (messages name them the same way).
FIELD_NAME = "Tên"
FIELD_MAX = "Điểm tối đa"
FIELD_RULE = "Cách chấm"
FIELD_EVIDENCE = "Tài liệu kiểm chứng"
FIELD_ACTIVITIES = "Hoạt động liên quan"
FIELD_CODE = "Mã"
EDITABLE_FIELDS = (FIELD_NAME, FIELD_MAX, FIELD_RULE, FIELD_EVIDENCE, FIELD_ACTIVITIES)
# The set as a whole: its name and declared total are edited as the fields of code WHOLE_SET.
WHOLE_SET = ""
FIELD_SET_NAME = "Tên bộ tiêu chí"
FIELD_TOTAL = "Tổng điểm tối đa"

LEVEL_LABELS = {1: "Lĩnh vực", 2: "Tiêu chí"}
SUB_CRITERION = "Tiêu chí thành phần"

RULE_HELP = (
    "Viết các mức dạng «Tên mức: điểm», cách nhau bằng dấu «;» (ít nhất 2 mức; mức theo tỷ lệ thì tên nêu khoảng %, "
    "ví dụ «Từ 70% đến dưới 90%: 1»), hoặc một câu: «Mỗi tin, bài: 0,25 điểm», «Mỗi báo cáo chậm: trừ 0,5 điểm», "
    "«Điểm = tỷ lệ đạt × điểm tối đa», «Điểm điều tra xã hội học», «Chấm tự do từ 0 đến điểm tối đa»"
)
_ACTIVITY_SEPARATORS = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class DraftProblem:
    """What is wrong (or worth a look) in a draft: the criterion's code (WHOLE_SET for the set), the field, a sentence."""

    code: str
    field: str
    message: str
    is_error: bool = True

    def sentence(self) -> str:
        where = f"Tiêu chí {self.code}" if self.code != WHOLE_SET else "Bộ tiêu chí"
        return f"{where}, «{self.field}»: {self.message}"


@dataclass(frozen=True)
class DraftRow:
    """One node of the draft as a page shows it: the typed text of each editable field, and what the app read."""

    code: str
    level: int
    level_label: str
    is_leaf: bool
    name: str
    max_text: str
    rule_text: str  # leaves only ("" for a node with children)
    understood: str  # the rule (or, for a node with children, how its points come) in a sentence
    evidence: str
    activities_text: str
    fallback: bool  # a leaf whose rule the reader could not read: still the free value it put instead
    original_rule: str  # for a fallback leaf, the rule text the reader could not read ("" when there was none)

    def typed(self, field_name: str) -> str:
        return {FIELD_NAME: self.name, FIELD_MAX: self.max_text, FIELD_RULE: self.rule_text,
                FIELD_EVIDENCE: self.evidence, FIELD_ACTIVITIES: self.activities_text}[field_name]


@dataclass
class CriteriaDraft:
    """A set as read from a file and what the Office typed over it (code → field → text). The set is never changed."""

    original: CriteriaSet
    source_name: str
    fallback_codes: frozenset[str]
    edits: dict[str, dict[str, str]] = field(default_factory=dict)
    # what reading the set gives each field, and the last build: a page builds the draft on every run
    _read_texts: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)
    _last_build: tuple[object, DraftResult] | None = field(default=None, repr=False, compare=False)

    def typed(self, code: str, field_name: str) -> str | None:
        return self.edits.get(code, {}).get(field_name)

    def edited_count(self) -> int:
        return sum(len(fields) for fields in self.edits.values())


@dataclass(frozen=True)
class DraftResult:
    """The set the draft makes (None while it has errors) and every problem, errors first."""

    criteria_set: CriteriaSet | None
    problems: list[DraftProblem]

    @property
    def errors(self) -> list[DraftProblem]:
        return [p for p in self.problems if p.is_error]

    def at(self, code: str) -> list[DraftProblem]:
        return [p for p in self.problems if p.code == code]


# --------------------------------------------------------------------------- starting a draft


def fallback_codes(criteria_set: CriteriaSet) -> frozenset[str]:
    """The leaves whose rule the reader replaced by a free value, because the rule text was unreadable or missing
    (the reader's RuleFallback warnings). A free value the file itself asked for ("Chấm tự do từ 0 đến điểm tối
    đa") has no such warning."""
    fell_back = {w.code for w in criteria_set.warnings if isinstance(w, RuleFallback)}
    return frozenset(leaf.code for leaf in criteria_set.leaves() if leaf.code in fell_back and isinstance(leaf.rule, ValueRule))


def start_draft(criteria_set: CriteriaSet, source_name: str = "") -> CriteriaDraft:
    return CriteriaDraft(criteria_set, source_name or criteria_set.source, fallback_codes(criteria_set))


def edit(draft: CriteriaDraft, code: str, field_name: str, text: str | None) -> None:
    """Record what was typed in one field; typing back what was read forgets the edit."""
    text = nfc(text or "")
    shown = _read_text(draft, code, field_name)
    fields = draft.edits.setdefault(code, {})
    if text == shown:
        fields.pop(field_name, None)
    else:
        fields[field_name] = text
    if not fields:
        draft.edits.pop(code, None)


def _read_text(draft: CriteriaDraft, code: str, field_name: str) -> str:
    """A field as read from the file, as the page shows it for editing."""
    found = draft._read_texts.get((code, field_name))
    if found is None:
        found = draft._read_texts[(code, field_name)] = _text_as_read(draft, code, field_name)
    return found


def _text_as_read(draft: CriteriaDraft, code: str, field_name: str) -> str:
    if code == WHOLE_SET:
        return {FIELD_SET_NAME: draft.original.name, FIELD_TOTAL: vn_number(draft.original.total_max)}[field_name]
    node = draft.original.node(code)
    if node is None:
        raise InputError(f"Bản nháp không có tiêu chí «{code}».")
    return {
        FIELD_NAME: node.name,
        FIELD_MAX: vn_number(node.max_points),
        FIELD_RULE: rule_text(node.rule) if node.is_leaf and node.rule is not None else "",
        FIELD_EVIDENCE: node.evidence,
        FIELD_ACTIVITIES: ", ".join(node.activities),
    }[field_name]


def current_text(draft: CriteriaDraft, code: str, field_name: str) -> str:
    """What the field shows now: as typed, or as read."""
    typed = draft.typed(code, field_name)
    return typed if typed is not None else _read_text(draft, code, field_name)


# --------------------------------------------------------------------------- the rule as text and as understood


def rule_text(rule: Rule) -> str:
    """A rule as the editable rule lines on one line, "Kịp thời: 1; Không kịp thời: 0,5"."""
    return "; ".join(rule.lines())


def _points(value: Decimal) -> str:
    return f"{vn_number(value)} điểm"


def rule_understood(rule: Rule | None, max_points: Decimal, *, fallback: bool = False) -> str:
    """How the app will score a leaf, in one Vietnamese sentence: "Chọn mức: Kịp thời → 1 điểm; …"."""
    if rule is None:
        return "Chưa có cách chấm"
    label = KIND_LABELS[rule.kind]
    match rule:
        case TiersRule():
            return f"{label}: " + "; ".join(f"{t.label} → {_points(t.points)}" for t in rule.tiers)
        case RatioRule(proportional=True):
            text = (f"{label}: điểm = tử số/mẫu số × {_points(max_points)}, làm tròn xuống bội số "
                    f"{vn_number(rule.step)}")
            if rule.floor_percent is not None:
                text += f"; tỷ lệ dưới {vn_number(rule.floor_percent)}% → 0 điểm"
            return text
        case RatioRule():
            return f"{label} (tử số/mẫu số): " + "; ".join(
                f"{t.band.describe() if t.band is not None else t.label + ' (chưa rõ khoảng %)'} → {_points(t.points)}"
                for t in rule.tiers)
        case CountRule():
            return f"{label}: mỗi {rule.unit} {_points(rule.per_item)}, tối đa {_points(max_points)}"
        case DeductionRule():
            text = f"{label}: mỗi {rule.unit} trừ {_points(rule.per_occurrence)}"
            return text + (f", trừ tối đa {_points(-rule.floor)}" if rule.floor is not None else ", không giới hạn")
        case SurveyRule():
            return f"{label}: nhập điểm tỉnh công bố, từ 0 đến {_points(max_points)}"
        case ValueRule():
            scale = f"từ 0 đến {_points(max_points)}, bước {vn_number(rule.step)}"
            if fallback:
                return f"Giá trị tự do (không đọc được quy tắc): {scale}"
            return f"{label}: {scale}"
    return f"{label}: {rule.describe()}"  # pragma: no cover - every kind is matched above


def _parent_understood(node: CriterionNode, max_points: Decimal | None) -> str:
    cap = f", tối đa {_points(max_points)}" if node.cap_children and max_points is not None else ""
    return f"Cộng điểm {len(node.children)} tiêu chí con{cap}"


# --------------------------------------------------------------------------- rows


def draft_rows(draft: CriteriaDraft) -> list[DraftRow]:
    """Every node in document order, with what is typed and what the app reads from it."""
    rows = []
    for node in draft.original.walk():
        code = node.code
        typed = {f: current_text(draft, code, f) for f in EDITABLE_FIELDS}
        max_points = parse_decimal(typed[FIELD_MAX])
        rule, _ = _typed_rule(draft, node, max_points) if node.is_leaf else (None, None)
        still_fallback = code in draft.fallback_codes and draft.typed(code, FIELD_RULE) is None
        if not node.is_leaf:
            understood = _parent_understood(node, max_points)
        elif max_points is None:
            understood = "Chưa hiểu được: điểm tối đa không phải là số"
        elif rule is None:
            understood = "Chưa đọc được cách chấm đã gõ"
        else:
            understood = rule_understood(rule, max_points, fallback=still_fallback)
        original = unread_rule_text(node.note) if code in draft.fallback_codes else ""
        rows.append(DraftRow(
            code=code, level=node.level, level_label=LEVEL_LABELS.get(node.level, SUB_CRITERION), is_leaf=node.is_leaf,
            name=typed[FIELD_NAME], max_text=typed[FIELD_MAX], rule_text=typed[FIELD_RULE], understood=understood,
            evidence=typed[FIELD_EVIDENCE], activities_text=typed[FIELD_ACTIVITIES], fallback=still_fallback,
            original_rule=original,
        ))
    return rows


def _typed_rule(draft: CriteriaDraft, node: CriterionNode, max_points: Decimal | None) -> tuple[Rule | None, str | None]:
    """The leaf's rule from what is shown in its rule field, on the maximum shown (or the one read while that is
    not a number); (None, why) when the typed text is not a rule."""
    maximum = max_points if max_points is not None else node.max_points
    typed = draft.typed(node.code, FIELD_RULE)
    if typed is None:  # not retyped: the rule exactly as read
        return (node.rule.with_max(maximum) if node.rule is not None else None), None
    if not typed.strip():
        return None, "chưa có cách chấm. " + RULE_HELP + "."
    rule = parse_rule_text(typed)
    if rule is None:
        return None, f"không đọc được «{typed}». {RULE_HELP}."
    return rule.with_max(maximum), None


# --------------------------------------------------------------------------- applying the draft


def build_draft(draft: CriteriaDraft, activity_ids: set[str] | None = None) -> DraftResult:
    """The set the draft makes, checked as a set file is: each typed field, then the JSON Schema, then `validate`
    (its warnings included, as problems that are not errors). The set is None while any error remains.
    Built again only when something was typed since the last build (or the plan's activities changed)."""
    key = (repr(sorted((code, sorted(fields.items())) for code, fields in draft.edits.items())),
           None if activity_ids is None else frozenset(activity_ids))
    if draft._last_build is not None and draft._last_build[0] == key:
        return draft._last_build[1]
    result = _build(draft, activity_ids)
    draft._last_build = (key, result)
    return result


def _build(draft: CriteriaDraft, activity_ids: set[str] | None) -> DraftResult:
    problems: list[DraftProblem] = []

    def error(code: str, field_name: str, message: str) -> None:
        problems.append(DraftProblem(code, field_name, message))

    document = draft.original.to_dict()
    set_name = current_text(draft, WHOLE_SET, FIELD_SET_NAME).strip()
    document["name"] = set_name
    if not set_name:
        error(WHOLE_SET, FIELD_SET_NAME, "không được để trống.")
    total_text = current_text(draft, WHOLE_SET, FIELD_TOTAL)
    total = parse_decimal(total_text)
    if total is None:
        error(WHOLE_SET, FIELD_TOTAL, _not_a_number(total_text))
    else:
        document["total_max"] = json_number(total)

    def apply(data: dict) -> None:
        node = draft.original.node(data["code"])
        code = node.code
        data["name"] = current_text(draft, code, FIELD_NAME).strip()
        if not data["name"]:
            error(code, FIELD_NAME, "không được để trống.")
        max_text = current_text(draft, code, FIELD_MAX)
        max_points = parse_decimal(max_text)
        if max_points is None:
            error(code, FIELD_MAX, _not_a_number(max_text))
        else:
            data["max"] = json_number(max_points)
        evidence = current_text(draft, code, FIELD_EVIDENCE).strip()
        data.pop("evidence", None)
        if evidence:
            data["evidence"] = evidence
        activities = [a for a in _ACTIVITY_SEPARATORS.split(current_text(draft, code, FIELD_ACTIVITIES)) if a]
        data.pop("activities", None)
        if activities:
            data["activities"] = activities
        if node.is_leaf:
            rule, why = _typed_rule(draft, node, max_points)
            if why is not None:
                error(code, FIELD_RULE, why)
            elif rule is not None:
                data["rule"] = rule.to_dict()
                if draft.typed(code, FIELD_RULE) is not None and data.get("note"):
                    data["note"] = without_unread_rule(data["note"])
                    if not data["note"]:
                        del data["note"]
        elif draft.typed(code, FIELD_RULE):
            error(code, FIELD_RULE, "tiêu chí có tiêu chí con nên không có cách chấm riêng (điểm là tổng các tiêu chí con); "
                                    "hãy để trống ô này.")
        for child in data.get("children") or []:
            apply(child)

    for area in document["nodes"]:
        apply(area)
    if problems:
        return DraftResult(None, problems)

    try:
        built = criteria_set_from_dict(document, draft.source_name)  # the schema check of a set file (remembered when passed)
    except InputError as refusal:
        # said again error by error, each at its criterion and field, in the same sentences
        for err in schema_validator().iter_errors(document):
            path = list(err.absolute_path)
            code = nearest_code(document, path) or WHOLE_SET
            problems.append(DraftProblem(code, _field_of_path(code, path), schema_error_text(err, document)))
        return DraftResult(None, problems or [DraftProblem(WHOLE_SET, FIELD_SET_NAME, str(refusal))])
    for issue in validate(built, activity_ids):
        code = issue.where.removeprefix("Tiêu chí ").strip() if issue.where.startswith("Tiêu chí ") else WHOLE_SET
        problems.append(DraftProblem(code, _field_of_issue(code, issue.message), issue.message, issue.is_error))
    problems.sort(key=lambda p: not p.is_error)
    return DraftResult(None if any(p.is_error for p in problems) else built, problems)


def _not_a_number(text: str) -> str:
    return f"«{text.strip()}» không phải là số (ví dụ 0,5 hoặc 2)."


def _field_of_path(code: str, path: list) -> str:
    """The field a schema error's path ends in (`nodes[0].children[1].rule.tiers[0].label` → Cách chấm)."""
    names = [step for step in path if isinstance(step, str)]
    if code == WHOLE_SET:
        return FIELD_TOTAL if "total_max" in names else FIELD_SET_NAME
    if "rule" in names:
        return FIELD_RULE
    last = names[-1] if names else ""
    return {"name": FIELD_NAME, "max": FIELD_MAX, "evidence": FIELD_EVIDENCE, "activities": FIELD_ACTIVITIES}.get(last, FIELD_CODE)


def _field_of_issue(code: str, message: str) -> str:
    """The field a finding of `validate` is about, from what it says (see criteria.validate)."""
    if code == WHOLE_SET:
        return FIELD_SET_NAME if "tên bộ tiêu chí" in message else FIELD_TOTAL
    if "liên kết" in message:
        return FIELD_ACTIVITIES
    if message.startswith("chưa có tên"):
        return FIELD_NAME
    if message.startswith("mã «") or "xuất hiện" in message:
        return FIELD_CODE
    if "cách chấm" in message:
        return FIELD_RULE
    return FIELD_MAX


AUDIT_FIELD_LENGTH = 60  # audit_log.field


def draft_corrections(draft: CriteriaDraft) -> dict[str, tuple[str, str]]:
    """What the Office changed from the file, for the audit: "sửa 1.2.2: Điểm tối đa" → (as read, as typed)."""
    changes = {}
    for code, fields in draft.edits.items():
        for field_name, typed in fields.items():
            label = f"sửa {code}: {field_name}" if code != WHOLE_SET else f"sửa: {field_name}"
            changes[label[:AUDIT_FIELD_LENGTH]] = (_read_text(draft, code, field_name), typed)
    return changes


# --------------------------------------------------------------------------- tiers row by row


def typed_tiers(draft: CriteriaDraft, code: str) -> list[tuple[str, str]]:
    """A leaf's tiers as (label, points) rows to edit one by one, from the rule its field shows now; no rows for a
    rule without tiers (a free value, a count…) or a typed text that is no rule yet."""
    node = draft.original.node(code)
    if node is None or not node.is_leaf:
        return []
    rule, _ = _typed_rule(draft, node, node.max_points)
    if not isinstance(rule, (TiersRule, RatioRule)) or (isinstance(rule, RatioRule) and rule.proportional):
        return []
    rows = []
    for tier in rule.tiers:
        label, _, points = tier.line().rpartition(":")  # a band tier's line says its band when its label does not
        rows.append((label.strip(), points.strip()))
    return rows


def set_tiers(draft: CriteriaDraft, code: str, rows: list[tuple[str | None, str | None]]) -> None:
    """Tiers typed row by row become the leaf's rule ("Kịp thời: 1; Không kịp thời: 0,5"), checked as the rule field
    is when the draft is built. Raises InputError naming the tier when a row cannot be one; the draft is then unchanged."""
    lines = []
    for number, (label, points) in enumerate(rows, start=1):
        label, points = nfc(label or "").strip(), nfc(points or "").strip()
        if not label and not points:
            continue  # an empty row left in the table
        where = f"Tiêu chí {code}, mức {number}"
        if not label:
            raise InputError(f"{where}: chưa có tên mức.")
        if ";" in label or "\n" in label:
            raise InputError(f"{where}: tên mức không được chứa dấu «;» hay xuống dòng (dấu «;» ngăn các mức).")
        value = parse_decimal(points)
        if value is None:
            raise InputError(f"{where}: điểm {_not_a_number(points) if points else 'chưa có (ví dụ 0,5 hoặc 2).'}")
        lines.append(f"{label}: {vn_number(value)}")
    edit(draft, code, FIELD_RULE, "; ".join(lines))

"""The criteria-set model (bộ tiêu chí Chỉ số CCHC) and its validation: the tree, its rules, what is wrong with it.

Readers of every file kind (scoring.criteria.files for YAML/JSON and the dispatch, scoring.criteria.table and
its sources for the provinces' tables) build these objects; this module imports none of them, so there is
no import circle between the model and its readers. `scoring.criteria.files` re-exports every name here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from scoring.criteria.numbers import json_number, vn_number
from scoring.criteria.rules import DeductionRule, Rule
from scoring.plan.model import Issue
from scoring.textnorm import nfc

SEVERITY_ERROR = "error"
SEVERITY_WARNING = "warning"

# --------------------------------------------------------------------------- model


@dataclass
class CriterionNode:
    """An area, criterion or sub-criterion. Leaves (no children) carry the rule, evidence and plan links."""

    code: str  # "1", "1.2", "1.2.1": the parent's code plus one number
    name: str
    max_points: Decimal
    children: list[CriterionNode] = field(default_factory=list)
    rule: Rule | None = None
    evidence: str = ""  # tài liệu kiểm chứng expected
    activities: list[str] = field(default_factory=list)  # plan activity ids, "I.5"
    cap_children: bool = False
    note: str = ""  # ghi chú

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def level(self) -> int:
        """1 for an area, 2 for a criterion, 3 for a sub-criterion…"""
        return self.code.count(".") + 1

    def set_max_points(self, max_points: Decimal) -> None:
        """Change the maximum and the rule's with it (a rule scores against its leaf's maximum)."""
        self.max_points = max_points
        if self.rule is not None:
            self.rule = self.rule.with_max(max_points)

    def walk(self) -> Iterator[CriterionNode]:
        """This node and everything below it, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> list[CriterionNode]:
        return [node for node in self.walk() if node.is_leaf]

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"code": self.code, "name": self.name, "max": json_number(self.max_points)}
        if self.cap_children:
            data["cap_children"] = True
        if self.rule is not None:
            data["rule"] = self.rule.to_dict()
        if self.evidence:
            data["evidence"] = self.evidence
        if self.activities:
            data["activities"] = list(self.activities)
        if self.note:
            data["note"] = self.note
        if self.children:
            data["children"] = [child.to_dict() for child in self.children]
        return data


@dataclass
class CriteriaSet:
    name: str
    nodes: list[CriterionNode]  # the areas, in order
    total_max: Decimal
    year: int | None = None
    province: str = ""
    template: bool = False  # a template to adapt, not a province's issued set
    sources: list[str] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list, compare=False)  # what reading the file noticed
    source: str = field(default="", compare=False)  # the file it was read from

    def areas(self) -> list[CriterionNode]:
        return list(self.nodes)

    def walk(self) -> Iterator[CriterionNode]:
        for area in self.nodes:
            yield from area.walk()

    def leaves(self) -> list[CriterionNode]:
        return [node for node in self.walk() if node.is_leaf]

    def node(self, code: str) -> CriterionNode | None:
        # An index by code, checked on every hit and rebuilt on a miss: a set being built (the Excel reader
        # adds children as it reads) is never answered from a stale index.
        index = self.__dict__.get("_index")
        found = index.get(code) if index is not None else None
        if found is not None and found.code == code:
            return found
        index = {}
        for node in self.walk():
            index.setdefault(node.code, node)
        self.__dict__["_index"] = index
        return index.get(code)

    def area_of(self, code: str) -> str | None:
        """The code of the area a node belongs to (itself for an area); None for a code not in the set."""
        for area in self.nodes:
            if any(node.code == code for node in area.walk()):
                return area.code
        return None

    def parent_codes(self) -> dict[str, str | None]:
        """Each node's code → its parent's code (None for areas), from the tree itself."""
        parents: dict[str, str | None] = {}

        def visit(node: CriterionNode, parent: str | None) -> None:
            parents.setdefault(node.code, parent)
            for child in node.children:
                visit(child, node.code)

        for area in self.nodes:
            visit(area, None)
        return parents

    def to_dict(self) -> dict:
        """Plain data in the file format (the inverse of `criteria_set_from_dict`)."""
        return {
            "name": self.name,
            "template": self.template,
            "sources": list(self.sources),
            "province": self.province or None,
            "year": self.year,
            "total_max": json_number(self.total_max),
            "nodes": [area.to_dict() for area in self.nodes],
        }

    def to_check_json(self, activity_ids: set[str] | None = None) -> dict:
        """The `criteria check --json` object: the flat node list plus every warning and error (errors
        have messages starting "Lỗi:")."""
        parents = self.parent_codes()
        nodes = []
        for node in self.walk():
            rule = None
            if node.is_leaf and node.rule is not None:
                rule = node.rule.to_dict()
                rule.setdefault("tiers", [])  # present for every kind, so readers need no special case
            nodes.append(
                {
                    "code": node.code,
                    "name": node.name,
                    "max": json_number(node.max_points),
                    "parent": parents.get(node.code),
                    "rule": rule,
                }
            )
        issues = [*self.warnings, *validate(self, activity_ids)]
        return {
            "name": self.name,
            "total_max": json_number(self.total_max),
            "nodes": nodes,
            "warnings": [_issue_for_report(issue).as_dict() for issue in issues],
        }


@dataclass(frozen=True)
class CriteriaIssue(Issue):
    """A validation finding. Errors make the set unusable for scoring; warnings are for a person to look at."""

    severity: str = SEVERITY_WARNING

    @property
    def is_error(self) -> bool:
        return self.severity == SEVERITY_ERROR


@dataclass(frozen=True)
class RuleFallback(Issue):
    """A reader's warning that leaf `code`'s rule was missing or unreadable and a free value stands in for it: what
    the import preview highlights (scoring.criteria.draft)."""

    code: str = ""


def has_errors(issues: list[Issue]) -> bool:
    return any(getattr(issue, "is_error", False) for issue in issues)


def _issue_for_report(issue: Issue) -> Issue:
    if getattr(issue, "is_error", False):
        return Issue(issue.where, f"Lỗi: {issue.message}")
    return issue


# --------------------------------------------------------------------------- validation


def validate(criteria_set: CriteriaSet, activity_ids: set[str] | None = None) -> list[CriteriaIssue]:
    """Every problem of a set, errors first within each place; never raises.

    Errors (unusable): no areas, a missing or malformed or duplicated code, a code not nested under its
    parent's, an empty name, a negative maximum, children's maxima not adding up to the parent's (unless
    `cap_children`, where they must reach it), areas not adding up to `total_max`, a leaf without a rule or
    with a rule that contradicts its maximum. Warnings: links to activities the plan does not have (only
    when `activity_ids` is given), a top tier below the maximum, gaps or overlaps of percentage bands, a rule
    on a node with children, and the like.
    """
    issues: list[CriteriaIssue] = []

    def error(where: str, message: str) -> None:
        issues.append(CriteriaIssue(where, message, SEVERITY_ERROR))

    def warn(where: str, message: str) -> None:
        issues.append(CriteriaIssue(where, message, SEVERITY_WARNING))

    whole = "Bộ tiêu chí"
    if not nfc(criteria_set.name):
        warn(whole, "chưa có tên bộ tiêu chí.")
    if not criteria_set.nodes:
        error(whole, "không có lĩnh vực nào.")
        return issues

    seen = Counter(node.code for node in criteria_set.walk())
    for code, times in seen.items():
        if times > 1:
            error(f"Tiêu chí {code}", f"mã «{code}» xuất hiện {times} lần; mỗi mã chỉ được dùng một lần.")

    def check(node: CriterionNode, parent: CriterionNode | None) -> None:
        where = f"Tiêu chí {node.code}" if node.code else "Tiêu chí (không mã)"
        _check_code(node, parent, where, error)
        if not nfc(node.name):
            error(where, "chưa có tên.")
        if node.max_points < 0:
            error(where, f"điểm tối đa {vn_number(node.max_points)} không được âm.")
        if node.is_leaf:
            _check_leaf(node, where, activity_ids, error, warn)
        else:
            _check_children_sum(node, where, error, warn)
            if node.rule is not None:
                warn(where, "có tiêu chí con nên cách chấm của chính nó bị bỏ qua (điểm là tổng các tiêu chí con).")
            if node.activities:
                warn(where, "có tiêu chí con; liên kết hoạt động nên đặt ở tiêu chí thành phần.")
        for child in node.children:
            check(child, node)

    for area in criteria_set.nodes:
        check(area, None)

    area_sum = sum((area.max_points for area in criteria_set.nodes), Decimal(0))
    if area_sum != criteria_set.total_max:
        error(
            whole,
            f"tổng điểm tối đa các lĩnh vực là {vn_number(area_sum)}, khác tổng điểm khai báo "
            f"{vn_number(criteria_set.total_max)}.",
        )
    return issues


def _check_code(node: CriterionNode, parent: CriterionNode | None, where: str, error) -> None:
    parts = node.code.split(".")
    if not node.code or not all(part.isdigit() for part in parts):
        error(where, f"mã «{node.code}» không đúng dạng (cần dạng 1, 1.2, 1.2.1).")
        return
    if parent is None:
        if len(parts) != 1:
            error(where, f"lĩnh vực phải có mã một cấp (như «1»), không phải «{node.code}».")
    elif node.code.rpartition(".")[0] != parent.code:
        error(where, f"mã «{node.code}» không nằm dưới mã của tiêu chí cha «{parent.code}» (cần dạng {parent.code}.n).")


def _check_leaf(node: CriterionNode, where: str, activity_ids, error, warn) -> None:
    if node.cap_children:
        warn(where, "đánh dấu cap_children nhưng không có tiêu chí con.")
    if node.rule is None:
        error(where, "là tiêu chí chấm điểm nhưng chưa có cách chấm (rule).")
    else:
        if node.rule.max_points != node.max_points:
            error(
                where,
                f"cách chấm đang tính trên điểm tối đa {vn_number(node.rule.max_points)}, khác điểm tối đa "
                f"{vn_number(node.max_points)} của tiêu chí (đổi điểm tối đa bằng CriterionNode.set_max_points).",
            )
        for problem in node.rule.consistency_problems():
            (error if problem.is_error else warn)(where, f"cách chấm: {problem.message}.")
        if node.max_points == 0 and not isinstance(node.rule, DeductionRule):
            warn(where, "điểm tối đa bằng 0: tiêu chí không đóng góp điểm nào.")
    if activity_ids is not None:
        unknown = [a for a in node.activities if a not in activity_ids]
        if unknown:
            names = ", ".join(f"«{a}»" for a in unknown)
            warn(where, f"liên kết tới hoạt động không có trong kế hoạch: {names}.")


def _check_children_sum(node: CriterionNode, where: str, error, warn) -> None:
    children_sum = sum((child.max_points for child in node.children), Decimal(0))
    total, own = vn_number(children_sum), vn_number(node.max_points)
    if node.cap_children:
        if children_sum < node.max_points:
            error(where, f"tổng điểm tối đa các tiêu chí con ({total}) nhỏ hơn điểm tối đa {own}: không đạt được.")
        elif children_sum == node.max_points:
            warn(where, "đánh dấu cap_children nhưng tổng điểm các tiêu chí con vừa bằng điểm tối đa (không cần).")
    elif children_sum != node.max_points:
        error(
            where,
            f"tổng điểm tối đa các tiêu chí con là {total}, khác điểm tối đa {own} "
            "(nếu bộ tiêu chí cho phép vượt và lấy tối đa, đặt cap_children: true).",
        )

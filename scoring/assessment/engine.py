"""Roll an assessment's leaf scores up the criteria tree, and suggest scores the plan already decides.

Roll-up rules (per node, from the leaves up), following the official methods as par-index.md describes them:
- A leaf marked not applicable (không đánh giá) leaves both its points and its maximum out; a node whose
  leaves are all not applicable is not applicable itself. The index is points / applicable maximum, so a
  set without a survey is automatically rescaled, as the methods require.
- A node's maximum is the sum of its applicable children's maxima, capped at its own maximum when it is
  `cap_children` (the official sets' "tối đa n điểm").
- A node's points are the sum of its children's points — deductions (negative) included — capped at its
  applicable maximum. A node with a positive maximum never goes below 0: a deduction takes away at most
  what the criterion earned, never points of a neighbouring criterion (the official tables never show a
  negative criterion score). A block made only of deductions (maximum 0, the "điểm trừ" block some sets
  keep apart) keeps its negative sum, which lowers its parent or the grand total; the grand total itself
  never goes below 0.
- Self points (tự chấm) of a leaf: `self_points` when typed directly, otherwise the rule's score of the
  inputs. Unscored leaves count as 0 in sums and are counted, so a page can say what is left.
- Appraised points (thẩm định) work the same way from `appraised_points`. Survey leaves are neither
  self-scored nor appraised: the published survey points count on both sides unless an appraised value is
  given. A node's gap (self − appraised) and the appraised index exist only once every applicable leaf
  under it is appraised, so a half-done appraisal never reads as a cut.
- What is shown of a node's appraisal is its `AppraisalProgress`: the appraised points once complete,
  otherwise "đang thẩm định k/n" (the `appraised_points` of an unfinished node is a partial sum, kept for
  the sheet's own bookkeeping, never a figure to show).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable

from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.criteria.numbers import parse_decimal, vn_number
from scoring.criteria.rules import LeafResult, RatioRule, SurveyRule, Tier, TiersRule, score_leaf
from scoring.plan.model import Issue
from scoring.plan.stats import STATUS_DONE, STATUS_NOT_APPLICABLE
from scoring.textnorm import fold, format_number, format_percent, format_points

ZERO = Decimal(0)
PERCENT_QUANTUM = Decimal("0.01")


@dataclass
class LeafEntry:
    """What an assessment holds for one leaf."""

    code: str
    inputs: dict[str, Any] = field(default_factory=dict)  # the rule kind's inputs, see scoring.criteria.rules
    not_applicable: bool = False  # không đánh giá: out of points and maximum
    self_points: Decimal | None = None  # typed directly; wins over the inputs
    appraised_points: Decimal | None = None  # điểm thẩm định of the Home Affairs team, None until appraised
    appraisal_remark: str = ""


NOT_APPRAISED_TEXT = "chưa thẩm định"
APPRAISAL_NOT_APPLICABLE_TEXT = "không đánh giá"


@dataclass(frozen=True)
class AppraisalProgress:
    """Where the appraisal of one node stands, as every page, chart and export shows it: the appraised
    points only once every applicable leaf under the node is appraised, otherwise how far it has got."""

    appraised_leaves: int
    applicable_leaves: int
    points: Decimal | None = None  # the appraised total; None until complete (a partial sum would read as a cut)

    @property
    def complete(self) -> bool:
        return self.points is not None

    @property
    def in_progress(self) -> bool:
        return not self.complete and self.appraised_leaves > 0

    def text(self, figure: Callable[[Decimal], str] = format_number) -> str:
        """`figure(points)` once complete; else "đang thẩm định 4/11" or "chưa thẩm định"."""
        if self.complete:
            return figure(self.points)
        if self.applicable_leaves == 0:
            return APPRAISAL_NOT_APPLICABLE_TEXT
        if self.in_progress:
            return f"đang thẩm định {self.appraised_leaves}/{self.applicable_leaves}"
        return NOT_APPRAISED_TEXT


@dataclass(frozen=True)
class SelfIndex:
    """The self-assessed index as it may be shown. While some applicable leaves are unscored the percentage is
    provisional (unscored leaves count as 0) and says so; with nothing scored there is no index yet, not 0%."""

    percent: Decimal | None
    scored: int
    applicable: int

    @property
    def complete(self) -> bool:
        return self.applicable > 0 and self.scored >= self.applicable

    def figure(self, decimals: int = 2) -> str:
        """ "87,50%", or "—" while nothing is scored."""
        return format_percent(self.percent, decimals) if self.percent is not None and self.scored > 0 else "—"

    def note(self) -> str:
        """What keeps the figure from being a result: "" once every applicable leaf is scored."""
        if self.complete:
            return ""
        if self.scored == 0:
            return "chưa chấm tiêu chí nào"
        return f"tạm tính: đã chấm {self.scored}/{self.applicable} tiêu chí"

    def text(self, decimals: int = 2, *, brief: bool = False) -> str:
        """The figure with its note, for a line of text: "41,20% (tạm tính: đã chấm 20/47 tiêu chí)"; `brief`
        for a table cell: "41,20% (tạm tính)"."""
        if self.complete:
            return self.figure(decimals)
        if brief:
            return "— (chưa chấm)" if self.scored == 0 else f"{self.figure(decimals)} (tạm tính)"
        return f"{self.figure(decimals)} ({self.note()})"


@dataclass
class NodeTotals:
    code: str
    name: str
    level: int
    is_leaf: bool
    max_points: Decimal  # as the set declares it
    applicable_max: Decimal  # what the node counts out of in this assessment
    not_applicable: bool
    self_points: Decimal | None  # leaves: None when unscored; other nodes: the capped sum
    appraised_points: Decimal | None  # None until some leaf under it is appraised
    gap: Decimal | None  # self − appraised, once every applicable leaf is appraised
    applicable_leaves: int
    scored_leaves: int
    appraised_leaves: int
    explanation: str = ""  # leaves: how the points came about
    problems: list[str] = field(default_factory=list)  # leaves: what is wrong with the entry
    appraisal_remark: str = ""

    @property
    def unscored_leaves(self) -> int:
        return self.applicable_leaves - self.scored_leaves

    @property
    def self_index(self) -> SelfIndex:
        """Self points as a share of the applicable maximum, provisional while leaves under the node are unscored."""
        return SelfIndex(_percentage(self.self_points, self.applicable_max), self.scored_leaves, self.applicable_leaves)

    @property
    def appraisal_complete(self) -> bool:
        return self.applicable_leaves > 0 and self.appraised_leaves == self.applicable_leaves

    def appraisal(self, started: bool = True) -> AppraisalProgress:
        """The node's appraisal as it may be shown. `started` False (the council has returned no score yet)
        reads as not appraised, although survey leaves count as appraised without a score of their own."""
        if not started or self.not_applicable:
            return AppraisalProgress(0, self.applicable_leaves)
        return AppraisalProgress(self.appraised_leaves, self.applicable_leaves,
                                 self.appraised_points if self.appraisal_complete else None)


@dataclass
class Rollup:
    nodes: dict[str, NodeTotals]  # every node by code, in document order
    areas: list[NodeTotals]
    total: NodeTotals  # the whole set, code ""
    problems: list[Issue] = field(default_factory=list)

    @property
    def index_self(self) -> Decimal | None:
        """Self-assessed index: points as a percentage of the applicable maximum (2 decimals)."""
        return _percentage(self.total.self_points, self.total.applicable_max)

    @property
    def self_index(self) -> SelfIndex:
        """The self-assessed index with how much of it is scored: what screens and exports show."""
        return self.total.self_index

    @property
    def index_appraised(self) -> Decimal | None:
        """Appraised index, once every applicable leaf is appraised; None before."""
        if not self.total.appraisal_complete:
            return None
        return _percentage(self.total.appraised_points, self.total.applicable_max)

    def node(self, code: str) -> NodeTotals | None:
        return self.nodes.get(code)


def _percentage(points: Decimal | None, maximum: Decimal) -> Decimal | None:
    if points is None or maximum <= 0:
        return None
    return (points / maximum * 100).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)


def _clamp(points: Decimal, maximum: Decimal, declared_max: Decimal) -> Decimal:
    points = min(points, maximum)
    return max(points, ZERO) if declared_max > 0 else points


def _checked_points(value: Any, leaf: CriterionNode, what: str, problems: list[str]) -> Decimal | None:
    """A directly typed score, if it is a number within what the leaf can score; else a problem."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = parse_decimal(value)
    if number is None:
        problems.append(f"{what} «{value}» không phải là số.")
        return None
    lowest = leaf.rule.lowest_points if leaf.rule is not None else ZERO
    if number > leaf.max_points or number < lowest:
        low = "" if lowest == Decimal("-Infinity") else f"từ {vn_number(lowest)} "
        problems.append(f"{what} {vn_number(number)} phải {low}đến {vn_number(leaf.max_points)}.")
        return None
    return number


def _leaf_totals(leaf: CriterionNode, entry: LeafEntry | None) -> NodeTotals:
    common = dict(code=leaf.code, name=leaf.name, level=leaf.level, is_leaf=True, max_points=leaf.max_points)
    if entry is not None and entry.not_applicable:
        return NodeTotals(**common, applicable_max=ZERO, not_applicable=True, self_points=None,
                          appraised_points=None, gap=None, applicable_leaves=0, scored_leaves=0,
                          appraised_leaves=0, explanation="Không đánh giá (không tính điểm và điểm tối đa).",
                          appraisal_remark=entry.appraisal_remark)
    problems: list[str] = []
    entry = entry or LeafEntry(leaf.code)
    self_points = _checked_points(entry.self_points, leaf, "Điểm tự chấm", problems)
    if self_points is not None:
        explanation = f"Điểm tự chấm nhập trực tiếp: {format_points(self_points)}"
    elif leaf.rule is None:
        result = LeafResult(None, "Chưa có cách chấm.", ["Tiêu chí chưa có cách chấm trong bộ tiêu chí."])
        explanation, self_points = result.explanation, None
        problems.extend(result.problems)
    else:
        result = score_leaf(leaf.rule, entry.inputs)
        explanation, self_points = result.explanation, result.points
        problems.extend(result.problems)
    appraised = _checked_points(entry.appraised_points, leaf, "Điểm thẩm định", problems)
    if appraised is None and isinstance(leaf.rule, SurveyRule):
        appraised = self_points  # published survey points: not appraised, they count the same on both sides
    gap = self_points - appraised if self_points is not None and appraised is not None else None
    return NodeTotals(**common, applicable_max=leaf.max_points, not_applicable=False, self_points=self_points,
                      appraised_points=appraised, gap=gap, applicable_leaves=1,
                      scored_leaves=int(self_points is not None), appraised_leaves=int(appraised is not None),
                      explanation=explanation, problems=problems, appraisal_remark=entry.appraisal_remark)


def combined_totals(code: str, name: str, level: int, declared_max: Decimal, cap: bool,
             children: list[NodeTotals]) -> NodeTotals:
    applicable = [c for c in children if not c.not_applicable]
    common = dict(code=code, name=name, level=level, is_leaf=False, max_points=declared_max)
    if not applicable:
        return NodeTotals(**common, applicable_max=ZERO, not_applicable=True, self_points=None,
                          appraised_points=None, gap=None, applicable_leaves=0, scored_leaves=0, appraised_leaves=0)
    applicable_max = sum((c.applicable_max for c in applicable), ZERO)
    if cap:
        applicable_max = min(applicable_max, declared_max)
    self_sum = sum((c.self_points or ZERO for c in applicable), ZERO)
    self_points = _clamp(self_sum, applicable_max, declared_max)
    appraised_leaves = sum(c.appraised_leaves for c in applicable)
    appraised = None
    if appraised_leaves:
        appraised_sum = sum((c.appraised_points or ZERO for c in applicable), ZERO)
        appraised = _clamp(appraised_sum, applicable_max, declared_max)
    applicable_leaves = sum(c.applicable_leaves for c in applicable)
    complete = appraised_leaves == applicable_leaves
    return NodeTotals(**common, applicable_max=applicable_max, not_applicable=False, self_points=self_points,
                      appraised_points=appraised, gap=self_points - appraised if complete else None,
                      applicable_leaves=applicable_leaves,
                      scored_leaves=sum(c.scored_leaves for c in applicable), appraised_leaves=appraised_leaves)


def roll_up(criteria_set: CriteriaSet, entries: dict[str, LeafEntry]) -> Rollup:
    """Per-node, per-area and total points of an assessment (see the module doc for the rules)."""
    totals: dict[str, NodeTotals] = {}

    def visit(node: CriterionNode) -> NodeTotals:
        if node.is_leaf:
            result = _leaf_totals(node, entries.get(node.code))
        else:
            result = _node_totals(node, [visit(child) for child in node.children])
        totals[node.code] = result
        return result

    for area in criteria_set.nodes:
        visit(area)
    return _finish(criteria_set, {node.code: totals[node.code] for node in criteria_set.walk()}, entries)


def roll_up_after_change(criteria_set: CriteriaSet, previous: Rollup, entries: dict[str, LeafEntry], code: str) -> Rollup:
    """The roll-up once only leaf `code`'s entry has changed: that leaf and its ancestors are worked out
    again, every other node is taken from `previous` (the roll-up of the same entries before the change).
    The same result as roll_up(criteria_set, entries), for a fraction of the work on a page that saves one
    score at a time."""
    leaf = criteria_set.node(code)
    if leaf is None or not leaf.is_leaf or code not in previous.nodes:
        return roll_up(criteria_set, entries)
    nodes = dict(previous.nodes)
    nodes[code] = _leaf_totals(leaf, entries.get(code))
    parents = criteria_set.parent_codes()
    parent = parents.get(code)
    while parent is not None:
        node = criteria_set.node(parent)
        nodes[parent] = _node_totals(node, [nodes[child.code] for child in node.children])
        parent = parents.get(parent)
    return _finish(criteria_set, nodes, entries)


def _node_totals(node: CriterionNode, children: list[NodeTotals]) -> NodeTotals:
    return combined_totals(node.code, node.name, node.level, node.max_points, node.cap_children, children)


def _finish(criteria_set: CriteriaSet, nodes: dict[str, NodeTotals], entries: dict[str, LeafEntry]) -> Rollup:
    """The total and the problems, from every node's totals in document order."""
    areas = [nodes[area.code] for area in criteria_set.nodes]
    # The total has a positive maximum, so combined_totals already keeps it at or above 0.
    total = combined_totals("", "Tổng cộng", 0, criteria_set.total_max, False, areas)
    problems = [Issue(f"Tiêu chí {code}", problem) for code, totals in nodes.items() if totals.is_leaf for problem in totals.problems]
    for code in entries:
        node = criteria_set.node(code)
        if node is None:
            problems.append(Issue(f"Tiêu chí {code}", "không có trong bộ tiêu chí; điểm này không được tính."))
        elif not node.is_leaf:
            problems.append(Issue(f"Tiêu chí {code}", "có tiêu chí con; điểm được cộng từ tiêu chí con, "
                                                      "điểm nhập cho chính nó không được tính."))
    return Rollup(nodes=nodes, areas=areas, total=total, problems=problems)


# --------------------------------------------------------------------------- suggestions from the plan


@dataclass
class LinkedActivityState:
    """What the plan knows about an activity a leaf draws on (statuses as in scoring.plan.stats)."""

    id: str
    status: str
    due: date | None = None
    evidence_dates: list[date] = field(default_factory=list)  # dates of its evidence documents

    @property
    def applicable(self) -> bool:
        return self.status != STATUS_NOT_APPLICABLE

    @property
    def done(self) -> bool:
        return self.status == STATUS_DONE

    @property
    def done_on_time(self) -> bool | None:
        """True/False when done with dated evidence (the earliest document decides); None when it cannot tell."""
        if not self.done or not self.evidence_dates:
            return None
        return self.due is None or min(self.evidence_dates) <= self.due


@dataclass(frozen=True)
class Suggestion:
    inputs: dict[str, Any]  # what to put in the leaf's entry
    points: Decimal
    reason: str


_PLAN_COMPLETION = re.compile(r"\bmuc do (thuc hien|hoan thanh) ke hoach\b")
_WHOLE_CCHC_PLAN = re.compile(r"\bke hoach (cchc|cai cach hanh chinh)\b")
# Late-tier wording, in order of preference: "không kịp thời" is unambiguous, "chậm" can also be "chấm".
_LATE_TIER = (
    re.compile(r"\bkhong kip thoi\b"),
    re.compile(r"\b(qua han|tre han|khong dung han|sau thoi han)\b"),
    re.compile(r"\bcham\b"),
)


def is_plan_completion(leaf: CriterionNode) -> bool:
    """A ratio leaf named like "Mức độ thực hiện kế hoạch…": its score is the plan's completion ratio."""
    return isinstance(leaf.rule, RatioRule) and bool(_PLAN_COMPLETION.search(fold(leaf.name)))


def uses_whole_plan(leaf: CriterionNode) -> bool:
    """True for "Mức độ thực hiện kế hoạch CCHC": pass every activity of the plan to `suggest_points`,
    not only the leaf's own links."""
    return is_plan_completion(leaf) and bool(_WHOLE_CCHC_PLAN.search(fold(leaf.name)))


def suggest_points(leaf: CriterionNode, linked_activity_states: list[LinkedActivityState]) -> Suggestion | None:
    """A score the plan decides, with its Vietnamese reason; None where the plan does not decide it.

    - "Mức độ thực hiện kế hoạch…" ratio leaves: numerator/denominator = done/applicable activities given.
    - Tiers leaves: every applicable activity done with evidence dated on/before its due date → the top
      tier; all done but some late → the tier worded as late ("không kịp thời", "chậm"…) if there is one.
      Anything not done yet, or done without dated evidence, is left to a person.
    """
    applicable = [s for s in linked_activity_states if s.applicable]
    if not applicable or leaf.rule is None:
        return None
    ids = ", ".join(s.id for s in applicable)
    if is_plan_completion(leaf):
        done = sum(s.done for s in applicable)
        inputs = {"numerator": done, "denominator": len(applicable)}
        result = score_leaf(leaf.rule, inputs)
        if result.points is None:
            return None
        reason = (f"Kế hoạch: {done}/{len(applicable)} hoạt động áp dụng đã hoàn thành. {result.explanation}")
        return Suggestion(inputs, result.points, reason)
    if not isinstance(leaf.rule, TiersRule) or not all(s.done for s in applicable):
        return None
    timeliness = [s.done_on_time for s in applicable]
    if None in timeliness:
        return None
    if all(timeliness):
        tier = _top_tier(leaf.rule)
        reason = (f"Các hoạt động liên kết ({ids}) đã hoàn thành, tài liệu kiểm chứng đúng hạn "
                  f"→ mức «{tier.label}»: {format_points(tier.points)}")
    else:
        tier = _late_tier(leaf.rule)
        if tier is None:
            return None
        late = ", ".join(s.id for s in applicable if not s.done_on_time)
        reason = (f"Các hoạt động liên kết đã hoàn thành nhưng {late} có tài liệu kiểm chứng sau hạn "
                  f"→ mức «{tier.label}»: {format_points(tier.points)}")
    return Suggestion({"tier": tier.label}, tier.points, reason)


def _top_tier(rule: TiersRule) -> Tier:
    return max(rule.tiers, key=lambda t: t.points)  # max keeps the first of equal tiers


def _late_tier(rule: TiersRule) -> Tier | None:
    top = _top_tier(rule)
    for pattern in _LATE_TIER:
        for tier in rule.tiers:
            if tier is not top and pattern.search(fold(tier.label)):
                return tier
    return None


def describe_index(rollup: Rollup) -> str:
    """One line for headers and reports: "Tự chấm 87,5/100 điểm (87,5%)"."""
    total = rollup.total
    text = f"Tự chấm {vn_number(total.self_points or ZERO)}/{vn_number(total.applicable_max)} điểm"
    reading = rollup.self_index
    if reading.complete:
        text += f" ({reading.figure()})"
    elif reading.scored:
        text += f" ({reading.figure()}, {reading.note()})"
    else:
        text += f" ({reading.note()})"
    if rollup.index_appraised is not None:
        text += (f"; thẩm định {vn_number(total.appraised_points)}/{vn_number(total.applicable_max)} điểm "
                 f"({format_percent(rollup.index_appraised, 2)})")
    return text

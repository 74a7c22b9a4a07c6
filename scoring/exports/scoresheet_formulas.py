"""The score sheet's formulas: a leaf's points from its inputs by its rule, each node's total and maximum, the index,
and the data validation of every input cell, so the sheet stays right when it is edited in Excel or LibreOffice.
"""

from __future__ import annotations

from decimal import Decimal

from openpyxl.worksheet.datavalidation import DataValidation

from scoring.criteria.model import CriterionNode
from scoring.criteria.numbers import vn_number
from scoring.criteria.rules import CountRule, DeductionRule, RatioRule, TiersRule, ValueRule
from scoring.exports.common import (
    NOT_APPLICABLE_TEXT,
)
from scoring.exports.scoresheet_layout import (
    APPRAISAL_IN_PROGRESS,
    INVALID_ENTRY_TEXT,
    NOT_APPLICABLE_MARK,
    NOT_APPLICABLE_MAX,
    Cells,
    TierCells,
)

# ---- formulas: each mirrors scoring.criteria.rules / scoring.assessment.engine for one cell

def _num(value: Decimal | int) -> str:
    return format(Decimal(value).normalize(), "f")


def _blank(ref: str) -> str:
    return f'TRIM({ref})=""'


def leaf_max_formula(node: CriterionNode, cells: Cells) -> str:
    return f'=IF({_blank(cells.at("na", node.code))},{_num(node.max_points)},"{NOT_APPLICABLE_MAX}")'


def node_max_formula(node: CriterionNode, cells: Cells) -> str:
    """Applicable maximum: the sum of the children's, capped at the node's own where the set says "tối đa"."""
    children = ",".join(cells.at("max", c.code) for c in node.children)
    total = f"SUM({children})"
    if node.cap_children:
        total = f"MIN({_num(node.max_points)},{total})"
    return f'=IF(COUNT({children})=0,"{NOT_APPLICABLE_MAX}",{total})'


def clamp_formula(expression: str, max_cell: str, declared_max: Decimal) -> str:
    """scoring.assessment.engine.clamp_formula: at most the applicable maximum, at least 0 when the declared maximum is positive."""
    expression = f"MIN({max_cell},{expression})"
    return f"MAX(0,{expression})" if declared_max > 0 else expression


def node_points_formula(node: CriterionNode, cells: Cells, key: str) -> str:
    max_cell = cells.at("max", node.code)
    if key == "self":
        total = clamp_formula("SUM(" + ",".join(cells.at("self", c.code) for c in node.children) + ")", max_cell,
                       node.max_points)
        return f'=IF(ISNUMBER({max_cell}),{total},"{NOT_APPLICABLE_TEXT}")'
    return "=" + appraised_total(node.code, [c.code for c in node.children], node.max_points, cells)


def appraised_total(code: str, child_codes: list[str], declared_max: Decimal, cells: Cells) -> str:
    """Blank until some leaf is appraised, "đang thẩm định k/n" until all are, then the clamped sum (only the
    children still assessed count: an appraised score typed on a leaf marked "x" is left out, as the engine does)."""
    max_cell = cells.at("max", code)
    applicable, appraised = cells.at("applicable_leaves", code), cells.at("appraised_leaves", code)
    terms = ",".join(f"N({cells.at('appraised', c)})*ISNUMBER({cells.at('max', c)})" for c in child_codes)
    total = clamp_formula(f"SUM({terms})", max_cell, declared_max)
    return (f'IF(OR(NOT(ISNUMBER({max_cell})),{appraised}=0),"",IF({appraised}<{applicable},'
            f'"{APPRAISAL_IN_PROGRESS} "&{appraised}&"/"&{applicable},{total}))')


def leaf_count_formula(node: CriterionNode, cells: Cells, key: str) -> str:
    if not node.is_leaf:
        return "=SUM(" + ",".join(cells.at(key, c.code) for c in node.children) + ")"
    max_cell = cells.at("max", node.code)
    if key == "applicable_leaves":
        return f"=IF(ISNUMBER({max_cell}),1,0)"
    return f"=IF(AND(ISNUMBER({max_cell}),ISNUMBER({cells.at('appraised', node.code)})),1,0)"


def leaf_self_formula(node: CriterionNode, cells: Cells, tiers: TierCells | None) -> str:
    """The rule's points from the row's inputs, as scoring.criteria.rules computes them; "" while not scored."""
    not_applicable = f'NOT({_blank(cells.at("na", node.code))})'
    return f'=IF({not_applicable},"{NOT_APPLICABLE_TEXT}",{_rule_expression(node, cells, tiers)})'


def _rule_expression(node: CriterionNode, cells: Cells, tiers: TierCells | None) -> str:
    rule = node.rule
    bad = f'"{INVALID_ENTRY_TEXT}"'
    if rule is None:
        return '""'
    if isinstance(rule, RatioRule):
        n, d = cells.at("numerator", node.code), cells.at("denominator", node.code)
        if rule.proportional:
            exact = f"{_num(rule.max_points)}*{n}/{d}"
            points = f"{_num(rule.step)}*INT(ROUND({exact}/{_num(rule.step)},9))"  # rounded down to the step
            if rule.floor_percent is not None:
                points = f"IF({n}*100<{_num(rule.floor_percent)}*{d},0,{points})"
        else:
            points = bad  # a ratio in no band
            for tier in reversed([t for t in rule.tiers if t.band is not None]):
                points = f"IF({_band_test(tier.band, n, d)},{_num(tier.points)},{points})"
        return (f'IF(OR({_blank(n)},{_blank(d)}),"",IF(OR(NOT(ISNUMBER({n})),NOT(ISNUMBER({d}))),{bad},'
                f"IF(OR({n}<0,{d}<=0,{n}>{d}),{bad},{points})))")
    entry = cells.at("entry", node.code)
    if isinstance(rule, TiersRule):
        points = bad
        if tiers is not None:
            for label, value in reversed(list(zip(tiers.labels, tiers.points))):
                points = f"IF(TRIM({entry})={label},{value},{points})"
        return f'IF({_blank(entry)},"",{points})'
    if isinstance(rule, (CountRule, DeductionRule)):
        if isinstance(rule, CountRule):
            points = f"MIN({_num(rule.max_points)},{entry}*{_num(rule.per_item)})"
        else:
            points = f"-{entry}*{_num(rule.per_occurrence)}"
            if rule.floor is not None:
                points = f"MAX({_num(rule.floor)},{points})"
        valid = f"OR({entry}<0,{entry}<>INT({entry}))"
    elif isinstance(rule, ValueRule):
        points = entry
        step = _num(rule.step)
        valid = (f"OR({entry}<0,{entry}>{_num(rule.max_points)},"
                 f"ABS({entry}/{step}-ROUND({entry}/{step},0))>1E-9)")
    else:  # SurveyRule
        points = entry
        valid = f"OR({entry}<0,{entry}>{_num(rule.max_points)})"
    return (f'IF({_blank(entry)},"",IF(NOT(ISNUMBER({entry})),{bad},'
            f"IF({valid},{bad},{points})))")


def _band_test(band, numerator: str, denominator: str) -> str:
    """`Band.contains` without dividing: numerator/denominator × 100 against the ends, exact for whole numbers."""
    tests = []
    percent = f"{numerator}*100"
    if band.low is not None:
        tests.append(f"{percent}{'>=' if band.low_inclusive else '>'}{_num(band.low)}*{denominator}")
    if band.high is not None:
        tests.append(f"{percent}{'<=' if band.high_inclusive else '<'}{_num(band.high)}*{denominator}")
    if not tests:
        return "TRUE"
    return tests[0] if len(tests) == 1 else f"AND({','.join(tests)})"


def index_formula(points: str, maximum: str, otherwise: str) -> str:
    return (f"=IF(ISNUMBER({points}),IF(AND(ISNUMBER({maximum}),N({maximum})>0),"
            f'ROUND({points}/{maximum}*100,2),""),{otherwise})')


def input_validation(node: CriterionNode, key: str, ref: str, tiers: TierCells | None) -> DataValidation | None:
    """Excel checks what is typed in an input cell and shows, as the cell's hint, what to type there."""
    rule = node.rule
    title = f"Tiêu chí {node.code}"
    if key == "na":
        validation = DataValidation(type="list", formula1=f'"{NOT_APPLICABLE_MARK}"')
        prompt = "Ghi x nếu tiêu chí này không đánh giá: không tính điểm và điểm tối đa. Để trống: có đánh giá."
    elif key in ("explanation", "remark"):
        return None
    elif key == "appraised":
        return _appraised_validation(node, ref)
    elif isinstance(rule, TiersRule):
        if tiers is None:
            return None
        validation = DataValidation(type="list", formula1=tiers.label_range)
        prompt = "Chọn mức đạt được trong danh sách. " + rule.describe()
    elif isinstance(rule, RatioRule):
        validation = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0")
        part = "Tử số" if key == "numerator" else "Mẫu số"
        prompt = f"{part} của tỷ lệ (điểm tự tính từ tử số/mẫu số). " + rule.describe()
    elif isinstance(rule, CountRule):
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
        prompt = f"Số {rule.unit} (số nguyên). " + rule.describe()
    elif isinstance(rule, DeductionRule):
        validation = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
        prompt = f"Số {rule.unit} bị trừ điểm (số nguyên, 0 nếu không có). " + rule.describe()
    else:  # free points or survey points: typed as points
        validation = DataValidation(type="decimal", operator="between", formula1="0",
                                    formula2=_num(node.max_points))
        prompt = f"Điểm từ 0 đến {vn_number(node.max_points)}. " + rule.describe()
    validation.allow_blank = True
    validation.errorStyle = "stop"
    validation.showErrorMessage = True
    validation.errorTitle = "Giá trị không hợp lệ"[:32]
    validation.error = prompt[:255]
    validation.showInputMessage = True
    validation.promptTitle = title[:32]
    validation.prompt = prompt[:255]
    validation.add(ref)
    return validation


def _appraised_validation(node: CriterionNode, ref: str) -> DataValidation:
    """The appraised score is typed as points, within the leaf's range. A warning, not a stop: the importer
    checks everything again and says which rows it left out."""
    rule = node.rule
    low = rule.lowest_points if rule is not None else Decimal(0)
    if low == Decimal("-Infinity"):
        validation = DataValidation(type="decimal", operator="lessThanOrEqual", formula1=_num(node.max_points))
    else:
        validation = DataValidation(type="decimal", operator="between", formula1=_num(low),
                                    formula2=_num(node.max_points))
    validation.allow_blank = True
    validation.errorStyle = "warning"
    validation.showErrorMessage = True
    validation.errorTitle = "Điểm ngoài khoảng"
    validation.error = (f"Tiêu chí {node.code}: điểm phải từ {vn_number(low)} đến {vn_number(node.max_points)}."
                        if low != Decimal("-Infinity") else f"Tiêu chí {node.code}: điểm trừ không lớn hơn 0.")
    validation.showInputMessage = True
    validation.promptTitle = f"Cách chấm {node.code}"[:32]
    validation.prompt = (rule.describe() if rule is not None else "")[:255]
    validation.add(ref)
    return validation

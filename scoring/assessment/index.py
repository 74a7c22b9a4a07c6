"""The published index (chỉ số công bố), computed step by step so that every step can be shown to users.

1. The criteria part: the appraised (or self) points of every applicable non-survey leaf, rolled up by the
   engine's own rules (scoring.assessment.engine: "không đánh giá" leaves leave points and maximum out, caps, deductions).
2. The survey part (điều tra XHH): the set's survey leaves, or, for a set that has none, the published total
   `survey_points` out of the year's `survey_share`. In a year without a survey the part is left out
   entirely, so the index is the criteria part rescaled to 100 ("quy đổi phần thẩm định về thang 100").
3. Bonus and penalty (điểm thưởng / điểm trừ) are points of the same table, each capped by the year's
   settings, added to the achieved total before dividing — as the engine already treats a set's own
   deduction block (it lowers the total, never the maximum). In a year without a survey they are therefore
   rescaled with the rest of the total.
4. Index = achieved / applicable maximum × 100, rounded half-up to 2 decimals, then kept within 0..100 %.
5. The band is read from that rounded percentage: 89,995% is published as 90,00% and is group A.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from scoring.assessment.engine import PERCENT_QUANTUM, NodeTotals, Rollup, combined_totals
from scoring.assessment.settings import Band, YearSettings, band_for, band_range_text
from scoring.criteria.model import CriteriaSet, CriterionNode
from scoring.criteria.numbers import parse_decimal, vn_number
from scoring.criteria.rules import RuleKind
from scoring.errors import InputError
from scoring.textnorm import format_percent, format_points

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- the published index


def is_survey_leaf(node: CriterionNode) -> bool:
    """Survey leaves (điều tra XHH) are neither self-scored nor appraised: their points are entered as published."""
    return node.is_leaf and node.rule is not None and node.rule.kind == RuleKind.SURVEY


@dataclass(frozen=True)
class Step:
    """One line of the index explanation: what, how much, and why (caps, exclusions, formulas)."""

    label: str
    value: Decimal | None  # None: not known yet, or a step without a number (the band)
    note: str = ""
    unit: str = "điểm"  # "điểm" or "%"

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        return format_percent(self.value, 2) if self.unit == "%" else format_points(self.value)


@dataclass(frozen=True)
class IndexBreakdown:
    """The index from leaf points to the band. `percent` is None when points are still missing (`problems` say which)."""

    steps: tuple[Step, ...]
    basis: str  # "thẩm định" or "tự chấm"
    survey_included: bool
    achieved_points: Decimal | None
    applicable_max: Decimal
    percent: Decimal | None
    band: Band | None
    problems: tuple[str, ...] = ()


def final_index(
    rollup: Rollup,
    settings: YearSettings,
    bonus: Decimal | int | str | None,
    penalty: Decimal | int | str | None,
    survey_points: Decimal | int | str | None = None,
    use_appraised: bool = True,
    *,
    criteria_set: CriteriaSet,
) -> IndexBreakdown:
    """The published index of `rollup` (computed with `criteria_set`), every step explained (module doc).

    `bonus` and `penalty` are the points proposed (penalty as a positive number); each is capped by the
    settings. `survey_points` is the published survey total; without it the set's survey leaves supply it.
    Raises InputError for a negative bonus or penalty, or survey points outside the survey part's maximum.
    """
    bonus_asked = _non_negative(bonus, "Điểm thưởng")
    penalty_asked = _non_negative(penalty, "Điểm trừ")
    survey_given = None if survey_points is None else _non_negative(survey_points, "Điểm điều tra XHH")
    basis = "thẩm định" if use_appraised else "tự chấm"
    steps: list[Step] = []
    problems: list[str] = []

    criteria_part = _part_totals(criteria_set, rollup, lambda leaf: not is_survey_leaf(leaf))
    criteria_step = _criteria_part_step(criteria_set, rollup, criteria_part, use_appraised, basis, problems)
    criteria_points, criteria_max = criteria_step.points, criteria_step.max
    steps.append(criteria_step.step)

    survey_part = _part_totals(criteria_set, rollup, is_survey_leaf)
    survey_step = _survey_part_step(criteria_set, settings, survey_part, survey_given, use_appraised, problems)
    steps.append(survey_step.step)

    bonus_counted = min(bonus_asked, settings.bonus_cap)
    penalty_counted = min(penalty_asked, settings.penalty_cap)
    steps.append(_capped_step("Điểm thưởng", bonus_asked, bonus_counted, settings.bonus_cap, "tính"))
    steps.append(_capped_step("Điểm trừ", penalty_asked, penalty_counted, settings.penalty_cap, "trừ"))

    known = criteria_points is not None and (not settings.survey_run or survey_step.points is not None)
    achieved = None
    if known:
        survey_counted = survey_step.points if settings.survey_run else ZERO
        achieved = criteria_points + survey_counted + bonus_counted - penalty_counted
        terms = [vn_number(criteria_points)]
        if settings.survey_run:
            terms.append(vn_number(survey_counted))
        formula = " + ".join(terms) + f" + {vn_number(bonus_counted)} − {vn_number(penalty_counted)}"
        steps.append(Step("Tổng điểm đạt được", achieved, f"{formula} = {vn_number(achieved)}"))
    else:
        steps.append(Step("Tổng điểm đạt được", None, "Chưa đủ điểm để cộng (xem các bước trên)."))

    maximum = criteria_max + survey_step.max
    if settings.survey_run:
        max_note = f"{vn_number(criteria_max)} (các tiêu chí) + {vn_number(survey_step.max)} (điều tra XHH)"
    else:
        max_note = f"Chỉ phần các tiêu chí: {vn_number(criteria_max)} (năm không điều tra XHH)"
    steps.append(Step("Tổng điểm tối đa áp dụng", maximum, max_note))

    index_label = (
        "Chỉ số = tổng điểm / tối đa" if settings.survey_run
        else f"Năm không điều tra XHH: quy đổi phần {basis} về thang 100"
    )
    percent = None
    if maximum <= 0:
        problems.append("Không có tiêu chí nào được đánh giá: không tính được chỉ số.")
        steps.append(Step(index_label, None, "Tổng điểm tối đa áp dụng bằng 0.", "%"))
    elif achieved is None:
        steps.append(Step(index_label, None, "Chưa tính được: còn thiếu điểm.", "%"))
    else:
        exact = (achieved / maximum * HUNDRED).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)
        percent = min(max(exact, ZERO), HUNDRED)
        note = f"{vn_number(achieved)} / {vn_number(maximum)} × 100 = {format_percent(exact, 2)}"
        if exact > HUNDRED:
            note += "; chỉ số không vượt quá 100%"
        elif exact < 0:
            note += "; chỉ số không thấp hơn 0%"
        steps.append(Step(index_label, percent, note, "%"))

    band = None
    if percent is None:
        steps.append(Step("Xếp loại: chưa xác định", None, "Cần có chỉ số để xếp loại."))
    else:
        band = band_for(percent, settings)
        range_text = band_range_text(band, settings.bands)
        steps.append(Step(f"Xếp loại: {band.label}", None, f"Chỉ số {format_percent(percent, 2)}: {range_text}."))

    return IndexBreakdown(
        steps=tuple(steps),
        basis=basis,
        survey_included=settings.survey_run,
        achieved_points=achieved,
        applicable_max=maximum,
        percent=percent,
        band=band,
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class _PartStep:
    step: Step
    points: Decimal | None  # None while missing: the index waits for it
    max: Decimal  # the part's applicable maximum (0 for the survey in a year without one)


def _criteria_part_step(criteria_set: CriteriaSet, rollup: Rollup, part: NodeTotals, use_appraised: bool,
                        basis: str, problems: list[str]) -> _PartStep:
    label = f"Điểm {basis} các tiêu chí (không tính điều tra XHH)"
    if part.not_applicable:
        return _PartStep(Step(label, ZERO, "Không có tiêu chí nào được đánh giá."), ZERO, ZERO)
    notes = []
    left_out = sum(
        1 for leaf in criteria_set.leaves() if not is_survey_leaf(leaf) and rollup.nodes[leaf.code].not_applicable
    )
    if left_out:
        notes.append(f"{left_out} tiêu chí không đánh giá: không tính điểm và điểm tối đa")
    done = part.appraised_leaves if use_appraised else part.scored_leaves
    missing = part.applicable_leaves - done
    if use_appraised and missing:
        # A half-done appraisal must not read as a cut (as in the engine): no points until every leaf is in.
        problems.append(f"Còn {missing}/{part.applicable_leaves} tiêu chí chưa thẩm định: chưa tính được chỉ số.")
        notes.insert(0, f"còn {missing} tiêu chí chưa thẩm định")
        return _PartStep(Step(label, None, _sentence(notes)), None, part.applicable_max)
    points = part.appraised_points if use_appraised else part.self_points
    notes.insert(0, f"{vn_number(points)}/{vn_number(part.applicable_max)} điểm tối đa áp dụng")
    if missing:  # self-scoring in progress: the engine counts unscored leaves as 0, and so does this estimate
        problems.append(f"Còn {missing}/{part.applicable_leaves} tiêu chí chưa tự chấm (đang tính 0 điểm).")
        notes.append(f"còn {missing} tiêu chí chưa tự chấm, tính 0 điểm")
    return _PartStep(Step(label, points, _sentence(notes)), points, part.applicable_max)


def _survey_part_step(criteria_set: CriteriaSet, settings: YearSettings, part: NodeTotals,
                      survey_given: Decimal | None, use_appraised: bool, problems: list[str]) -> _PartStep:
    label = "Điểm điều tra XHH"
    set_has_survey = not part.not_applicable
    if not settings.survey_run:
        note = f"Năm {settings.year} không điều tra XHH: không tính"
        if set_has_survey:
            note += f" (các tiêu chí điều tra XHH, tối đa {vn_number(part.applicable_max)} điểm, để ra ngoài)"
        if survey_given is not None:
            problems.append("Đã nhập điểm điều tra XHH nhưng năm này không điều tra XHH: điểm đó không được tính.")
        return _PartStep(Step(label, None, note + "."), None, ZERO)

    share = settings.survey_share
    if set_has_survey:
        # The issued criteria set governs its own maxima; the year's share is a cross-check.
        survey_max = part.applicable_max
        if survey_max != share:
            problems.append(
                f"Phần điều tra XHH trong bộ tiêu chí tối đa {vn_number(survey_max)} điểm, khác tỷ trọng "
                f"{vn_number(share)} điểm trong thiết lập năm {settings.year}; chỉ số tính theo bộ tiêu chí."
            )
    else:
        survey_max = share
        if criteria_set.total_max + share != HUNDRED:
            problems.append(
                f"Bộ tiêu chí ({vn_number(criteria_set.total_max)} điểm) không có phần điều tra XHH; cộng tỷ trọng "
                f"điều tra {vn_number(share)} điểm thành {vn_number(criteria_set.total_max + share)}, không phải "
                "100: kiểm tra lại tỷ trọng trong thiết lập năm."
            )

    if survey_given is not None:
        if survey_given > survey_max:
            raise InputError(
                f"Điểm điều tra XHH {vn_number(survey_given)} vượt điểm tối đa {vn_number(survey_max)} của phần "
                "điều tra XHH."
            )
        note = f"{vn_number(survey_given)}/{vn_number(survey_max)} điểm, theo kết quả tỉnh công bố"
        return _PartStep(Step(label, survey_given, note + "."), survey_given, survey_max)
    if not set_has_survey:
        problems.append("Chưa có điểm điều tra XHH: chưa tính được chỉ số.")
        missing_step = Step(label, None, f"Chưa có kết quả (tối đa {vn_number(survey_max)} điểm).")
        return _PartStep(missing_step, None, survey_max)
    entered = part.appraised_leaves if use_appraised else part.scored_leaves
    missing = part.applicable_leaves - entered
    if missing:
        problems.append(f"Còn {missing}/{part.applicable_leaves} tiêu chí điều tra XHH chưa có điểm: "
                        "chưa tính được chỉ số.")
        return _PartStep(Step(label, None, f"Còn {missing} tiêu chí điều tra XHH chưa có điểm."), None, survey_max)
    points = part.appraised_points if use_appraised else part.self_points
    note = (f"{vn_number(points)}/{vn_number(survey_max)} điểm, cộng từ {part.applicable_leaves} tiêu chí "
            "điều tra XHH.")
    return _PartStep(Step(label, points, note), points, survey_max)


def _capped_step(what: str, asked: Decimal, counted: Decimal, cap: Decimal, verb: str) -> Step:
    note = ""
    if asked > cap:
        note = (f"Đề nghị {format_points(asked)}, vượt mức tối đa {format_points(cap)}: "
                f"chỉ {verb} {format_points(cap)}.")
    return Step(f"{what} (tối đa {format_points(cap)})", counted, note)


def _sentence(parts: list[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:] + "." if text else ""


def _non_negative(value: Decimal | int | str | None, what: str) -> Decimal:
    if value is None or (isinstance(value, str) and not value.strip()):
        return ZERO
    number = parse_decimal(value)
    if number is None:
        raise InputError(f"{what} «{value}» không phải là số.")
    if number < 0:
        raise InputError(f"{what} phải nhập số không âm (đang là {vn_number(number)}).")
    return number


# --------------------------------------------------------------------------- parts of a roll-up


def retotal(criteria_set: CriteriaSet, leaf_totals: Callable[[CriterionNode], NodeTotals]
             ) -> tuple[dict[str, NodeTotals], NodeTotals]:
    """Roll up again from given leaf totals with the engine's own combination, so caps and clamps match."""
    nodes: dict[str, NodeTotals] = {}

    def visit(node: CriterionNode) -> NodeTotals:
        if node.is_leaf:
            result = leaf_totals(node)
        else:
            children = [visit(child) for child in node.children]
            result = combined_totals(node.code, node.name, node.level, node.max_points, node.cap_children, children)
        nodes[node.code] = result
        return result

    areas = [visit(area) for area in criteria_set.nodes]
    return nodes, combined_totals("", "Tổng cộng", 0, criteria_set.total_max, False, areas)


def rollup_leaf(rollup: Rollup, leaf: CriterionNode) -> NodeTotals:
    totals = rollup.nodes.get(leaf.code)
    if totals is None or not totals.is_leaf:
        raise InputError(f"Kết quả chấm điểm không khớp bộ tiêu chí: thiếu tiêu chí {leaf.code}.")
    return totals


def _left_out(totals: NodeTotals) -> NodeTotals:
    return dataclasses.replace(totals, applicable_max=ZERO, not_applicable=True, self_points=None,
                               appraised_points=None, gap=None, applicable_leaves=0, scored_leaves=0,
                               appraised_leaves=0)


def _part_totals(criteria_set: CriteriaSet, rollup: Rollup, belongs: Callable[[CriterionNode], bool]) -> NodeTotals:
    """The whole set's totals counting only the leaves that `belongs` keeps (the others as not applicable)."""
    _, total = retotal(
        criteria_set, lambda leaf: rollup_leaf(rollup, leaf) if belongs(leaf) else _left_out(rollup_leaf(rollup, leaf))
    )
    return total

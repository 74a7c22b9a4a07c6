"""How one leaf of a criteria set is scored: the rule kinds and scoring a leaf from what was entered.

Every rule knows its leaf's maximum (`max_points`, injected by the loader from the node, 0 for a deduction)
so that `score_leaf(rule, inputs)` needs nothing else. Arithmetic is exact: points are `Decimal`, ratios
are compared as `Fraction`s, so "exactly 80%" lands in the band that includes 80% and totals add up to the
quarter point.

Inputs per kind (missing or empty input means "not scored yet", never a problem):
    tiers      {"tier": 0-based index or the tier's label}
    ratio      {"numerator": 17, "denominator": 20}
    count      {"count": 3}
    value      {"value": "0,75"}
    deduction  {"occurrences": 2}
    survey     {"survey": 3.5}
Numbers may be int, Decimal, float or text with a Vietnamese decimal comma ("0,75").

Rounding: the only computed points that can fall between steps are the proportional ratio's
(a / b × maximum); they are rounded DOWN to the rule's step (0,25 by default), so a unit never gets
more than it earned. A free value (`value`) is typed by a person and must already be on its step;
an off-step value is rejected with the rounded-down value suggested, rather than silently changed.

Reading a rule from the province's wording is scoring.criteria.rule_text; numbers and bands have modules of their own.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any, ClassVar

from scoring.criteria.bands import Band, band_problems, parse_band
from scoring.criteria.numbers import (
    DEFAULT_STEP,
    is_on_step,
    json_number,
    parse_decimal,
    percent_text,
    round_down_to_step,
    vn_number,
)
from scoring.errors import InputError
from scoring.textnorm import fold, format_number, format_points, nfc


class RuleKind(StrEnum):
    TIERS = "tiers"
    RATIO = "ratio"
    COUNT = "count"
    VALUE = "value"
    DEDUCTION = "deduction"
    SURVEY = "survey"


KIND_LABELS = {
    RuleKind.TIERS: "Chọn mức",
    RuleKind.RATIO: "Theo tỷ lệ",
    RuleKind.COUNT: "Đếm số lượng",
    RuleKind.VALUE: "Chấm tự do",
    RuleKind.DEDUCTION: "Điểm trừ",
    RuleKind.SURVEY: "Điều tra XHH",
}


@dataclass(frozen=True)
class LeafResult:
    """Points of one leaf (None when not scored or the input is unusable), how they came about, what is wrong."""

    points: Decimal | None
    explanation: str
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RuleProblem:
    """Inconsistency between a rule and its leaf (found by `Rule.consistency_problems`); errors make a set unusable."""

    message: str
    is_error: bool


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Tier:
    """One choosable level: "Ban hành kịp thời: 1". In a ratio rule, `band` says which percentages earn it."""

    label: str
    points: Decimal
    band: Band | None = None

    def to_dict(self) -> dict:
        data = {"label": self.label, "points": json_number(self.points)}
        if self.band is not None:
            data.update(self.band.to_dict())
        return data

    def line(self) -> str:
        """The tier as a rule line, "Ban hành kịp thời: 1"; a band label that does not say its band gets it added."""
        label = self.label
        if self.band is not None and parse_band(label) != self.band:
            label = f"{label} ({self.band.describe()})"
        return f"{label}: {vn_number(self.points)}"


@dataclass(frozen=True)
class Rule(ABC):
    """A leaf's scoring rule. `max_points` is the leaf's maximum (0 for a deduction)."""

    max_points: Decimal
    kind: ClassVar[RuleKind]

    @abstractmethod
    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        """Points from the inputs of this kind (see the module doc); bad input → points None and a problem."""

    @abstractmethod
    def lines(self) -> list[str]:
        """The rule as Vietnamese rule lines, one per row in the Excel layout; `parse_rule_text` reads them back."""

    def params(self) -> dict:
        """The kind's own settings (the parts of `to_dict` besides kind and tiers)."""
        return {}

    @property
    def tiers_for_display(self) -> tuple[Tier, ...]:
        return ()

    @property
    def lowest_points(self) -> Decimal:
        """The least a leaf of this rule can score (below 0 only for deductions)."""
        return Decimal(0)

    def to_dict(self) -> dict:
        """Plain data for YAML/JSON files (the maximum stays on the node, not repeated here)."""
        data: dict[str, Any] = {"kind": str(self.kind)}
        if self.tiers_for_display:
            data["tiers"] = [tier.to_dict() for tier in self.tiers_for_display]
        data.update(self.params())
        return data

    def describe(self) -> str:
        return "; ".join(self.lines())

    def consistency_problems(self) -> list[RuleProblem]:
        if self.max_points < 0:
            return [RuleProblem("điểm tối đa không được âm (chỉ tiêu chí điểm trừ có điểm tối đa 0)", True)]
        return []

    def with_max(self, max_points: Decimal) -> Rule:
        return dataclasses.replace(self, max_points=max_points)


def _not_scored(what: str) -> LeafResult:
    return LeafResult(None, f"Chưa chấm: chưa nhập {what}.")


def _bad_input(explanation: str, problem: str) -> LeafResult:
    return LeafResult(None, explanation, [problem])


def _read_number(inputs: Mapping[str, Any], key: str) -> tuple[bool, Decimal | None, Any]:
    """(present, number or None, raw): absent/empty inputs are "not scored", not an error."""
    raw = inputs.get(key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return False, None, raw
    return True, parse_decimal(raw), raw


def _read_points(inputs: Mapping[str, Any], key: str, label: str, unscored: str,
                 maximum: Decimal) -> tuple[Decimal | None, LeafResult | None]:
    """(points, None) for a number from 0 to `maximum`; (None, result) when absent or unusable."""
    present, value, raw = _read_number(inputs, key)
    if not present:
        return None, _not_scored(unscored)
    if value is None:
        return None, _bad_input("Không chấm được.", f"{label} «{raw}» không phải là số.")
    if value < 0 or value > maximum:
        return None, _bad_input("Không chấm được.", f"{label} {vn_number(value)} phải từ 0 đến {vn_number(maximum)}.")
    return value, None


def _read_whole(inputs: Mapping[str, Any], key: str, what: str) -> tuple[int | None, LeafResult | None]:
    """A non-negative whole number input (a count of items or occurrences), or the result to return instead."""
    present, number, raw = _read_number(inputs, key)
    if not present:
        return None, _not_scored(what)
    if number is None:
        return None, _bad_input("Không chấm được.", f"{what.capitalize()} «{raw}» không phải là số.")
    if number < 0:
        return None, _bad_input("Không chấm được.", f"{what.capitalize()} «{raw}» không được âm.")
    if number != number.to_integral_value():
        return None, _bad_input("Không chấm được.", f"{what.capitalize()} «{raw}» phải là số nguyên.")
    return int(number), None


def _top_tier_problems(tiers: tuple[Tier, ...], max_points: Decimal) -> list[RuleProblem]:
    """The best tier must reach the leaf's maximum exactly: above it is an error, below it a warning."""
    top = max(t.points for t in tiers)
    if top > max_points:
        return [RuleProblem(f"có mức {vn_number(top)} điểm, vượt điểm tối đa {vn_number(max_points)}", True)]
    if top < max_points:
        return [RuleProblem(f"mức cao nhất chỉ {vn_number(top)} điểm, không đạt được điểm tối đa {vn_number(max_points)}", False)]
    return []


@dataclass(frozen=True)
class TiersRule(Rule):
    """Choose one tier: "Ban hành đúng hạn: 1; chậm: 0,5; không ban hành: 0"."""

    tiers: tuple[Tier, ...] = ()
    kind: ClassVar[RuleKind] = RuleKind.TIERS

    @property
    def tiers_for_display(self) -> tuple[Tier, ...]:
        return self.tiers

    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        choice = inputs.get("tier")
        if choice is None or (isinstance(choice, str) and not choice.strip()):
            return _not_scored("mức đạt được")
        tier = self.find_tier(choice)
        if tier is None:
            options = "; ".join(f"«{t.label}»" for t in self.tiers)
            return _bad_input("Không chấm được.", f"Không có mức «{choice}». Các mức: {options}.")
        return LeafResult(tier.points, f"Mức «{tier.label}»: {format_points(tier.points)}")

    def find_tier(self, choice: Any) -> Tier | None:
        """The tier meant by a 0-based index or a label (matched whatever its case or diacritics)."""
        if isinstance(choice, int) and not isinstance(choice, bool):
            return self.tiers[choice] if 0 <= choice < len(self.tiers) else None
        if isinstance(choice, str):
            wanted = fold(choice)
            return next((t for t in self.tiers if fold(t.label) == wanted), None)
        return None

    def lines(self) -> list[str]:
        return [tier.line() for tier in self.tiers]

    def consistency_problems(self) -> list[RuleProblem]:
        problems = super().consistency_problems()
        if len(self.tiers) < 2:
            problems.append(RuleProblem("cách chấm theo mức cần ít nhất 2 mức", True))
        if not self.tiers:
            return problems
        problems.extend(_top_tier_problems(self.tiers, self.max_points))
        if any(t.points < 0 for t in self.tiers):
            problems.append(RuleProblem("điểm của một mức không được âm (dùng cách chấm điểm trừ)", True))
        return problems


@dataclass(frozen=True)
class RatioRule(Rule):
    """Numerator / denominator entered. Either tiers by percentage band, or proportional: a/b × maximum.

    Proportional points are rounded DOWN to `step`; below `floor_percent` (if set) they are 0.
    """

    tiers: tuple[Tier, ...] = ()
    proportional: bool = False
    floor_percent: Decimal | None = None
    step: Decimal = DEFAULT_STEP
    kind: ClassVar[RuleKind] = RuleKind.RATIO

    @property
    def tiers_for_display(self) -> tuple[Tier, ...]:
        return self.tiers

    def params(self) -> dict:
        if not self.proportional:
            return {}
        data: dict[str, Any] = {"proportional": True}
        if self.floor_percent is not None:
            data["floor_percent"] = json_number(self.floor_percent)
        if self.step != DEFAULT_STEP:
            data["step"] = json_number(self.step)
        return data

    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        has_numerator, numerator, raw_numerator = _read_number(inputs, "numerator")
        has_denominator, denominator, raw_denominator = _read_number(inputs, "denominator")
        if not (has_numerator and has_denominator):
            return _not_scored("tử số và mẫu số của tỷ lệ")
        for number, raw, name in ((numerator, raw_numerator, "Tử số"), (denominator, raw_denominator, "Mẫu số")):
            if number is None:
                return _bad_input("Không tính được tỷ lệ.", f"{name} «{raw}» không phải là số.")
            if number < 0:
                return _bad_input("Không tính được tỷ lệ.", f"{name} «{raw}» không được âm.")
        if denominator == 0:
            return _bad_input(
                "Không tính được tỷ lệ.",
                "Mẫu số bằng 0: không tính được tỷ lệ (nếu không có việc nào để tính, hãy đánh dấu «không đánh giá»).",
            )
        if numerator > denominator:
            return _bad_input(
                "Không tính được tỷ lệ.",
                f"Tử số {vn_number(numerator)} lớn hơn mẫu số {vn_number(denominator)}.",
            )
        percent = Fraction(numerator) / Fraction(denominator) * 100
        shown = f"Tỷ lệ {percent_text(percent)} ({vn_number(numerator)}/{vn_number(denominator)})"
        if self.proportional:
            return self._score_proportional(percent, shown)
        tier = next((t for t in self.tiers if t.band is not None and t.band.contains(percent)), None)
        if tier is None:
            return _bad_input(shown, f"{shown} không thuộc mức nào của cách chấm.")
        return LeafResult(tier.points, f"{shown} → {tier.label}: {format_points(tier.points)}")

    def _score_proportional(self, percent: Fraction, shown: str) -> LeafResult:
        if self.floor_percent is not None and percent < Fraction(self.floor_percent):
            return LeafResult(Decimal(0), f"{shown} dưới {vn_number(self.floor_percent)}% → {format_points(0)}")
        exact = Fraction(self.max_points) * percent / 100
        raw = Decimal(exact.numerator) / Decimal(exact.denominator)
        points = round_down_to_step(raw, self.step)
        product = f"{shown} × {format_points(self.max_points)} = {format_number(raw, 4)}"
        if points == raw:
            return LeafResult(points, f"{product} điểm")
        return LeafResult(points, f"{product} → làm tròn xuống bội số {vn_number(self.step)}: {format_points(points)}")

    def lines(self) -> list[str]:
        if not self.proportional:
            return [tier.line() for tier in self.tiers]
        text = f"Điểm = tỷ lệ đạt × điểm tối đa, làm tròn xuống bội số {vn_number(self.step)}"
        if self.floor_percent is not None:
            text += f" (tỷ lệ dưới {vn_number(self.floor_percent)}%: 0 điểm)"
        return [text]

    def consistency_problems(self) -> list[RuleProblem]:
        problems = super().consistency_problems()
        if self.proportional:
            if self.tiers:
                problems.append(RuleProblem("cách chấm tỷ lệ thuận không dùng các mức (các mức bị bỏ qua)", False))
            if self.step <= 0:
                problems.append(RuleProblem("bước làm tròn phải lớn hơn 0", True))
            elif not is_on_step(self.max_points, self.step):
                problems.append(
                    RuleProblem(f"điểm tối đa không phải bội số của bước {vn_number(self.step)}: không đạt được", False)
                )
            return problems
        if not self.tiers:
            return [*problems, RuleProblem("cách chấm theo tỷ lệ cần các mức tỷ lệ", True)]
        if any(t.band is None for t in self.tiers):
            problems.append(RuleProblem("mỗi mức của cách chấm theo tỷ lệ phải nêu khoảng tỷ lệ (%)", True))
            return problems
        problems.extend(_top_tier_problems(self.tiers, self.max_points))
        problems.extend(RuleProblem(f"các mức tỷ lệ: {p}", False) for p in band_problems([t.band for t in self.tiers]))
        return problems


@dataclass(frozen=True)
class CountRule(Rule):
    """Points per item up to the maximum: "Mỗi tin, bài: 0,25 điểm"."""

    per_item: Decimal = DEFAULT_STEP
    unit: str = "mục"
    kind: ClassVar[RuleKind] = RuleKind.COUNT

    def params(self) -> dict:
        return {"per_item": json_number(self.per_item), "unit": self.unit}

    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        count, early = _read_whole(inputs, "count", "số lượng")
        if early is not None:
            return early
        earned = count * self.per_item
        text = f"{count} {self.unit} × {format_points(self.per_item)} = {format_points(earned)}"
        if earned > self.max_points:
            return LeafResult(self.max_points, f"{text}, tối đa {format_points(self.max_points)}")
        return LeafResult(earned, text)

    def lines(self) -> list[str]:
        return [f"Mỗi {self.unit}: {vn_number(self.per_item)} điểm (tối đa bằng điểm tối đa)"]

    def consistency_problems(self) -> list[RuleProblem]:
        problems = super().consistency_problems()
        if self.per_item <= 0:
            problems.append(RuleProblem("điểm cho mỗi mục phải lớn hơn 0", True))
        return problems


@dataclass(frozen=True)
class ValueRule(Rule):
    """A free value from 0 to the maximum, on a step (0,25 by default). Off-step values are rejected."""

    step: Decimal = DEFAULT_STEP
    kind: ClassVar[RuleKind] = RuleKind.VALUE

    def params(self) -> dict:
        return {} if self.step == DEFAULT_STEP else {"step": json_number(self.step)}

    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        value, early = _read_points(inputs, "value", "Điểm", "điểm", self.max_points)
        if early is not None:
            return early
        if not is_on_step(value, self.step):
            suggestion = round_down_to_step(value, self.step)
            return _bad_input(
                "Không chấm được.",
                f"Điểm {vn_number(value)} không theo bước {vn_number(self.step)} "
                f"(làm tròn xuống là {vn_number(suggestion)}).",
            )
        return LeafResult(value, f"Chấm {format_points(value)} (tối đa {format_points(self.max_points)})")

    def lines(self) -> list[str]:
        return [f"Chấm tự do từ 0 đến điểm tối đa, bước {vn_number(self.step)} điểm"]

    def consistency_problems(self) -> list[RuleProblem]:
        problems = super().consistency_problems()
        if self.step <= 0:
            problems.append(RuleProblem("bước điểm phải lớn hơn 0", True))
        elif not is_on_step(self.max_points, self.step):
            problems.append(
                RuleProblem(f"điểm tối đa không phải bội số của bước {vn_number(self.step)}: không chấm đủ được", False)
            )
        return problems


@dataclass(frozen=True)
class DeductionRule(Rule):
    """Điểm trừ: minus `per_occurrence` for each late or wrong report, never below `floor` (None: no floor)."""

    per_occurrence: Decimal = DEFAULT_STEP
    floor: Decimal | None = None
    unit: str = "lần"
    kind: ClassVar[RuleKind] = RuleKind.DEDUCTION

    @property
    def lowest_points(self) -> Decimal:
        return self.floor if self.floor is not None else Decimal("-Infinity")

    def params(self) -> dict:
        data: dict[str, Any] = {"per_occurrence": json_number(self.per_occurrence), "unit": self.unit}
        if self.floor is not None:
            data["floor"] = json_number(self.floor)
        return data

    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        occurrences, early = _read_whole(inputs, "occurrences", "số lần vi phạm")
        if early is not None:
            return early
        if occurrences == 0:
            return LeafResult(Decimal(0), f"Không có {self.unit} nào bị trừ điểm: {format_points(0)}")
        deducted = occurrences * self.per_occurrence
        text = f"{occurrences} {self.unit} × {format_points(self.per_occurrence)}: trừ {format_points(deducted)}"
        if self.floor is not None and -deducted < self.floor:
            capped = f"{text}, trừ tối đa {format_points(-self.floor)} → {format_points(self.floor)}"
            return LeafResult(self.floor, capped)
        return LeafResult(-deducted, f"{text} → {format_points(-deducted)}")

    def lines(self) -> list[str]:
        text = f"Mỗi {self.unit}: trừ {vn_number(self.per_occurrence)} điểm"
        if self.floor is not None:
            text += f" (trừ tối đa {vn_number(-self.floor)} điểm)"
        return [text]

    def consistency_problems(self) -> list[RuleProblem]:
        problems = []
        if self.max_points != 0:
            problems.append(RuleProblem("tiêu chí điểm trừ phải có điểm tối đa bằng 0", True))
        if self.per_occurrence <= 0:
            problems.append(RuleProblem("số điểm trừ mỗi lần phải lớn hơn 0", True))
        if self.floor is not None and self.floor >= 0:
            problems.append(RuleProblem("mức trừ tối đa (floor) phải là số âm", True))
        return problems


@dataclass(frozen=True)
class SurveyRule(Rule):
    """Points from the province's sociological survey (điều tra XHH), entered as published, 0 to the maximum."""

    kind: ClassVar[RuleKind] = RuleKind.SURVEY

    def score(self, inputs: Mapping[str, Any]) -> LeafResult:
        value, early = _read_points(inputs, "survey", "Điểm điều tra", "điểm điều tra xã hội học", self.max_points)
        if early is not None:
            return early
        return LeafResult(value, f"Điểm điều tra XHH theo kết quả công bố: {format_points(value)}")

    def lines(self) -> list[str]:
        return ["Điểm điều tra xã hội học, nhập theo kết quả tỉnh công bố"]


RULE_CLASSES: dict[RuleKind, type[Rule]] = {
    cls.kind: cls for cls in (TiersRule, RatioRule, CountRule, ValueRule, DeductionRule, SurveyRule)
}


def score_leaf(rule: Rule, inputs: Mapping[str, Any] | None) -> LeafResult:
    """Score one leaf. Never raises for bad input: points None and a Vietnamese problem instead."""
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        return _bad_input("Không chấm được.", "Dữ liệu chấm điểm không đúng dạng (cần các cặp tên: giá trị).")
    return rule.score(inputs)


# --------------------------------------------------------------------------- plain data ↔ rules


def _decimal_field(data: Mapping, key: str, default: Decimal | None = None) -> Decimal | None:
    if key not in data or data[key] is None:
        return default
    number = parse_decimal(data[key])
    if number is None:
        raise InputError(f"Trường «{key}» của cách chấm phải là số (đang là «{data[key]}»).")
    return number


def _tier_from_dict(data: Mapping, with_band: bool) -> Tier:
    band = None
    if with_band:
        band = Band(
            low=_decimal_field(data, "low"),
            low_inclusive=bool(data.get("low_inclusive", True)),
            high=_decimal_field(data, "high"),
            high_inclusive=bool(data.get("high_inclusive", True)),
        )
        if band.low is None and band.high is None:
            band = parse_band(str(data.get("label", "")))
    return Tier(label=nfc(str(data.get("label", ""))), points=_decimal_field(data, "points", Decimal(0)), band=band)


def rule_from_dict(data: Mapping, max_points: Decimal) -> Rule:
    """A rule from plain data (a set file's `rule:`), for a leaf whose maximum is `max_points`.

    Raises InputError for an unknown kind or a non-numeric field; shape checks belong to the JSON Schema.
    A ratio tier without `low`/`high` takes its band from its label ("Trên 90%").
    """
    try:
        kind = RuleKind(data.get("kind"))
    except ValueError:
        kinds = ", ".join(k.value for k in RuleKind)
        raise InputError(f"Loại cách chấm «{data.get('kind')}» không hợp lệ; chỉ nhận: {kinds}.") from None
    tiers = tuple(_tier_from_dict(t, kind is RuleKind.RATIO) for t in data.get("tiers") or ())
    match kind:
        case RuleKind.TIERS:
            return TiersRule(max_points, tiers)
        case RuleKind.RATIO:
            return RatioRule(
                max_points,
                tiers,
                proportional=bool(data.get("proportional", False)),
                floor_percent=_decimal_field(data, "floor_percent"),
                step=_decimal_field(data, "step", DEFAULT_STEP),
            )
        case RuleKind.COUNT:
            return CountRule(
                max_points, _decimal_field(data, "per_item", DEFAULT_STEP), nfc(str(data.get("unit") or "mục"))
            )
        case RuleKind.VALUE:
            return ValueRule(max_points, _decimal_field(data, "step", DEFAULT_STEP))
        case RuleKind.DEDUCTION:
            return DeductionRule(
                max_points,
                _decimal_field(data, "per_occurrence", DEFAULT_STEP),
                _decimal_field(data, "floor"),
                nfc(str(data.get("unit") or "lần")),
            )
        case RuleKind.SURVEY:
            return SurveyRule(max_points)
    raise AssertionError(kind)  # pragma: no cover - the match is exhaustive over RuleKind

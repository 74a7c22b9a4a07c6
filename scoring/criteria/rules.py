"""How one leaf of a criteria set is scored: the rule kinds, scoring a leaf from what was entered, reading rule text.

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
"""

from __future__ import annotations

import dataclasses
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import Any, ClassVar

from scoring.errors import InputError
from scoring.textnorm import fold, format_number, format_points, nfc

DEFAULT_STEP = Decimal("0.25")
HUNDRED = Decimal(100)


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


# --------------------------------------------------------------------------- numbers


def parse_decimal(value: Any) -> Decimal | None:
    """A number from what a person or a spreadsheet gives: 0.75, Decimal, "0,75", "1.234,5". None if not a number.

    Text with a comma reads the comma as the decimal mark and dots as thousands separators; text with only
    a dot reads the dot as the decimal mark (scores like "1.5" are far more common than "1.500" points).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))  # repr is the shortest text that round-trips: 0.1 → "0.1"
        return number if number.is_finite() else None
    if not isinstance(value, str):
        return None
    text = re.sub(r"\s+", "", nfc(value)).replace("\u2212", "-")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?|[-+]?\.\d+", text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above only lets valid literals through
        return None


def round_down_to_step(value: Decimal, step: Decimal) -> Decimal:
    """The largest multiple of `step` not above `value` (1,7 with step 0,25 → 1,5)."""
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def is_on_step(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def vn_number(value: Decimal | int) -> str:
    """Every significant digit, Vietnamese style ("0,125", "2"): for text that must read back exactly."""
    value = Decimal(value)
    exponent = value.normalize().as_tuple().exponent
    decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    return format_number(value, decimals)


def json_number(value: Decimal | None) -> int | float | None:
    """A Decimal as a plain JSON/YAML number: integral values as int, others as float (quarters are exact)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _percent_text(percent: Fraction) -> str:
    return f"{format_number(Decimal(percent.numerator) / Decimal(percent.denominator), 2)}%"


# --------------------------------------------------------------------------- percentage bands


@dataclass(frozen=True)
class Band:
    """A percentage interval with exact ends: "từ 80% đến dưới 100%" is [80, 100)."""

    low: Decimal | None = None
    low_inclusive: bool = True
    high: Decimal | None = None
    high_inclusive: bool = True

    def contains(self, percent: Fraction) -> bool:
        if self.low is not None:
            low = Fraction(self.low)
            if percent < low or (percent == low and not self.low_inclusive):
                return False
        if self.high is not None:
            high = Fraction(self.high)
            if percent > high or (percent == high and not self.high_inclusive):
                return False
        return True

    def describe(self) -> str:
        """Canonical Vietnamese wording; `parse_band` reads it back to this same band."""
        low, high = self.low, self.high
        if low is not None and high is not None:
            if low == high and self.low_inclusive and self.high_inclusive:
                return f"Đạt {vn_number(low)}%"
            start = "Từ" if self.low_inclusive else "Trên"
            end = "" if self.high_inclusive else "dưới "
            return f"{start} {vn_number(low)}% đến {end}{vn_number(high)}%"
        if low is not None:
            return f"Từ {vn_number(low)}% trở lên" if self.low_inclusive else f"Trên {vn_number(low)}%"
        if high is not None:
            return f"Không quá {vn_number(high)}%" if self.high_inclusive else f"Dưới {vn_number(high)}%"
        return "Mọi tỷ lệ"

    def to_dict(self) -> dict:
        data: dict[str, Any] = {}
        if self.low is not None:
            data["low"] = json_number(self.low)
            if not self.low_inclusive:
                data["low_inclusive"] = False
        if self.high is not None:
            data["high"] = json_number(self.high)
            if not self.high_inclusive:
                data["high_inclusive"] = False
        return data


_PCT = r"(\d+(?:[.,]\d+)?)\s*%"
_PCT_OPTIONAL_SIGN = r"(\d+(?:[.,]\d+)?)\s*%?"
# Folded text (accent-free, lower case). A range: "từ 70% - 90%", "từ 80% đến dưới 100%", "trên 70% đến 90%".
_RANGE = re.compile(
    rf"(?:\b(tu|tren|hon|lon hon)\s+)?{_PCT_OPTIONAL_SIGN}\s*(?:-|den|toi)\s*"
    rf"(?:\b(duoi|nho hon|it hon|chua den|chua dat)\s+)?{_PCT}"
)
# "hơn" alone means "above"; after nhỏ/ít/thấp it means "below" and belongs to _HIGH_EXCLUSIVE.
_LOW_EXCLUSIVE = re.compile(rf"(?:\b(?:tren|(?<!nho )(?<!it )(?<!thap )hon|vuot)\s+|>\s*){_PCT}")
_LOW_INCLUSIVE = re.compile(rf"(?:\b(?:tu|it nhat|toi thieu)\s+|>=\s*|≥\s*){_PCT}|{_PCT}\s*tro len")
_HIGH_EXCLUSIVE = re.compile(rf"(?:\b(?:duoi|nho hon|it hon|thap hon|chua dat|khong dat)\s+|<\s*){_PCT}")
_HIGH_INCLUSIVE = re.compile(rf"(?:\b(?:khong qua|toi da)\s+|<=\s*|≤\s*){_PCT}|{_PCT}\s*tro xuong")
_ANY_PCT = re.compile(_PCT)


def parse_band(label: str) -> Band | None:
    """The percentage band a tier label names, or None when it names none (or several that do not form a range)."""
    text = fold(label).replace("–", "-").replace("—", "-")
    text = re.sub(r"\s*-\s*", " - ", text)

    def number(raw: str) -> Decimal:
        return Decimal(raw.replace(",", "."))

    found = _RANGE.search(text)
    if found:
        opener, low, closer, high = found.groups()
        low_inclusive = opener not in ("tren", "hon", "lon hon")
        return Band(number(low), low_inclusive, number(high), closer is None)
    if len(_ANY_PCT.findall(text)) != 1:
        return None
    if found := _LOW_EXCLUSIVE.search(text):
        return Band(low=number(found.group(1)), low_inclusive=False)
    if found := _LOW_INCLUSIVE.search(text):
        return Band(low=number(found.group(1) or found.group(2)))
    if found := _HIGH_EXCLUSIVE.search(text):
        return Band(high=number(found.group(1)), high_inclusive=False)
    if found := _HIGH_INCLUSIVE.search(text):
        return Band(high=number(found.group(1) or found.group(2)))
    value = number(_ANY_PCT.search(text).group(1))
    return Band(value, True, value, True)


def band_problems(bands: list[Band]) -> list[str]:
    """Percentages from 0% to 100% that no band covers, or that two bands both cover (exact, not sampled).

    Coverage only changes at band ends, so checking every end and every midpoint between ends is exhaustive.
    """
    ends = {Fraction(0), Fraction(100)}
    for band in bands:
        for end in (band.low, band.high):
            if end is not None and 0 <= end <= 100:
                ends.add(Fraction(end))
    ordered = sorted(ends)
    probes = ordered + [(a + b) / 2 for a, b in zip(ordered, ordered[1:])]
    uncovered, doubled = [], []
    for percent in sorted(probes):
        covering = sum(band.contains(percent) for band in bands)
        if covering == 0:
            uncovered.append(percent)
        elif covering > 1:
            doubled.append(percent)
    problems = []
    if uncovered:
        problems.append(f"tỷ lệ {_percent_text(uncovered[0])} không thuộc mức nào")
    if doubled:
        problems.append(f"tỷ lệ {_percent_text(doubled[0])} thuộc nhiều mức cùng lúc (chấm theo mức đầu tiên)")
    return problems


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
        shown = f"Tỷ lệ {_percent_text(percent)} ({vn_number(numerator)}/{vn_number(denominator)})"
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


# --------------------------------------------------------------------------- reading rule text

_NUM = r"\d+(?:[.,]\d+)?"
_BULLET = re.compile(r"^(?:[-+•*–—]+|[a-zđ]\)|\d+\))\s*", re.IGNORECASE)
_TIER_COLON = re.compile(rf"^(?P<label>.+?)\s*[:：]\s*(?:được\s+)?(?P<points>{_NUM})\s*(?:điểm|đ)?\s*\.?$", re.I)
_TIER_PAREN = re.compile(rf"^(?P<label>.+?)\s*\(\s*(?:được\s+)?(?P<points>{_NUM})\s*(?:điểm|đ)\s*\)\s*\.?$", re.I)


def _rule_pieces(text: str) -> list[str]:
    pieces = []
    for piece in re.split(r"[\n;]", nfc(text)):
        piece = _BULLET.sub("", piece.strip()).strip()
        if piece:
            pieces.append(piece)
    return pieces


def parse_tier_line(text: str) -> Tier | None:
    """One tier line, "Ban hành kịp thời: 1" or "Không kịp thời (0,5 điểm)", or None."""
    piece = _BULLET.sub("", nfc(text)).strip()
    found = _TIER_COLON.match(piece) or _TIER_PAREN.match(piece)
    if not found:
        return None
    label = found.group("label").strip(" -–:")
    points = parse_decimal(found.group("points"))
    if not label or points is None:
        return None
    return Tier(label, points, parse_band(label))


def parse_tier_text(text: str) -> Rule | None:
    """Tier lines (one per line or separated by ";") → a tiers rule, or a ratio rule when every tier names a
    percentage band. None when a line is not "label: points", or there are fewer than two tiers.

    Lines ending with ":" ("Cách chấm:") are headings and skipped. The rule's `max_points` is its top tier;
    callers set the leaf's maximum with `Rule.with_max`.
    """
    tiers = []
    for piece in _rule_pieces(text or ""):
        if piece.endswith((":", "：")):
            continue
        tier = parse_tier_line(piece)
        if tier is None:
            return None
        tiers.append(tier)
    if len(tiers) < 2:
        return None
    top = max(t.points for t in tiers)
    if all(t.band is not None for t in tiers):
        return RatioRule(top, tuple(tiers))
    return TiersRule(top, tuple(Tier(t.label, t.points) for t in tiers))


_DEDUCTION_TEXT = re.compile(rf"^mỗi\s+(?P<unit>.+?)\s*[:：]?\s*(?:bị\s+)?trừ\s+(?P<per>{_NUM})\s*(?:điểm|đ)", re.I)
_DEDUCTION_CAP = re.compile(rf"(?:trừ\s+tối\s+đa|tối\s+đa\s+trừ|không\s+quá)\s+(?P<cap>{_NUM})\s*(?:điểm|đ)", re.I)
_COUNT_TEXT = re.compile(rf"^mỗi\s+(?P<unit>.+?)\s*[:：]?\s*(?:được\s+)?(?:cộng\s+)?(?P<per>{_NUM})\s*(?:điểm|đ)", re.I)
_STEP_TEXT = re.compile(rf"(?:boi so|buoc)\s+(?P<step>{_NUM})")
_FLOOR_TEXT = re.compile(rf"duoi\s+(?P<floor>{_NUM})\s*%\s*[:：]?\s*(?:duoc\s+)?0\b")


def parse_rule_text(text: str) -> Rule | None:
    """Any rule text the importer meets: tier lines first (`parse_tier_text`), then one-statement rules —
    "Mỗi báo cáo chậm: trừ 0,5 điểm (trừ tối đa 2 điểm)" (deduction), "Mỗi tin, bài: 0,25 điểm" (count),
    "điều tra xã hội học" (survey), "tỷ lệ × điểm tối đa" (proportional), "chấm tự do" (value) — which are
    also the wordings `Rule.lines()` writes. None when nothing fits. `max_points` must be set by the caller.
    """
    rule = parse_tier_text(text)
    if rule is not None:
        return rule
    statement = " ".join(_rule_pieces(text or ""))
    if not statement:
        return None
    folded = fold(statement)
    unset = Decimal(0)
    if found := _DEDUCTION_TEXT.match(statement):
        cap = _DEDUCTION_CAP.search(statement)
        floor = -parse_decimal(cap.group("cap")) if cap else None
        return DeductionRule(unset, parse_decimal(found.group("per")), floor, found.group("unit").strip())
    if found := _COUNT_TEXT.match(statement):
        return CountRule(unset, parse_decimal(found.group("per")), found.group("unit").strip())
    if "dieu tra xa hoi hoc" in folded or "dieu tra xhh" in folded or "khao sat" in folded:
        return SurveyRule(unset)
    step = _STEP_TEXT.search(folded)
    step_value = parse_decimal(step.group("step")) if step else DEFAULT_STEP
    if "ty le" in folded and ("diem toi da" in folded or "ty le thuan" in folded):
        floor = _FLOOR_TEXT.search(folded)
        floor_value = parse_decimal(floor.group("floor")) if floor else None
        return RatioRule(unset, proportional=True, floor_percent=floor_value, step=step_value)
    if "cham tu do" in folded or re.search(r"\btu 0 den\b", folded):
        return ValueRule(unset, step_value)
    return None

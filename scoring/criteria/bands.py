"""Percentage bands of a ratio rule ("Từ 70% đến dưới 90%"): reading their labels and checking that they cover 0–100 %.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from scoring.criteria.numbers import json_number, percent_text, vn_number
from scoring.textnorm import fold

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
        problems.append(f"tỷ lệ {percent_text(uncovered[0])} không thuộc mức nào")
    if doubled:
        problems.append(f"tỷ lệ {percent_text(doubled[0])} thuộc nhiều mức cùng lúc (chấm theo mức đầu tiên)")
    return problems

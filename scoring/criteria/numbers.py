"""Numbers as the criteria and the people who score them write them: decimal commas, steps of 0,25, JSON numbers.
"""

from __future__ import annotations

import re
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from scoring.textnorm import format_number, nfc

DEFAULT_STEP = Decimal("0.25")
HUNDRED = Decimal(100)


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


def percent_text(percent: Fraction) -> str:
    return f"{format_number(Decimal(percent.numerator) / Decimal(percent.denominator), 2)}%"

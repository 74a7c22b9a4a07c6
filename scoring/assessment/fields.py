"""Reading stored JSON back into the cycle's objects: each field checked, a malformed one named in an InputError.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from scoring.criteria.numbers import parse_decimal
from scoring.errors import InputError
from scoring.textnorm import nfc

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- reading stored dicts


def required_mapping(data: Any, what: str) -> Mapping:
    if not isinstance(data, Mapping):
        raise InputError(f"Dữ liệu {what} không đúng dạng (cần các cặp tên: giá trị).")
    return data


def text_field(data: Mapping, key: str, where: str, default: str | None = None) -> str:
    value = data.get(key)
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise InputError(f"Dữ liệu {where} không đúng dạng: trường «{key}» phải là chữ.")
    return nfc(value)


def decimal_field(data: Mapping, key: str, where: str, default: Decimal | None = ZERO) -> Decimal | None:
    if data.get(key) is None:
        return default
    number = parse_decimal(data[key])
    if number is None:
        raise InputError(f"Dữ liệu {where} không đúng dạng: trường «{key}» phải là số (đang là «{data[key]}»).")
    return number


def date_field(data: Mapping, key: str, where: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"Dữ liệu {where} không đúng dạng: ngày «{value}» ở trường «{key}» không đọc được.") from None


def datetime_field(data: Mapping, key: str, where: str) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InputError(f"Dữ liệu {where} không đúng dạng: thời điểm «{value}» ở trường «{key}» không đọc được.") from None

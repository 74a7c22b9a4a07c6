"""Due dates from the plan's "Thời gian hoàn thành" cells, relative to the plan year.

The cell is free text ("Tháng 1 - 2", "Quý III", "Trước ngày 15/12", "Hàng năm", "Khi có sự
thay đổi"). `parse_deadline` turns it into a date where one can be set, always keeps the text as
written, and never raises: what it cannot read comes back as kind "unparsed" for the caller
to warn about. Matching runs on folded text (accent-free, lower-case), so "HÀNG NĂM", "Hàng Năm"
and decomposed Unicode read alike. Dates are day/month, as Vietnamese writes them.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from scoring.textnorm import fold


class DeadlineKind(StrEnum):
    """What a deadline cell turned out to be; the values are plain strings ("date", ...)."""

    DATE = "date"  # a due date could be set
    CONDITIONAL = "conditional"  # triggered by an event ("Khi có sự thay đổi"): no date
    MISSING = "missing"  # empty cell
    UNPARSED = "unparsed"  # text we could not read: no date, the caller warns


@dataclass(frozen=True)
class Deadline:
    text: str  # as written in the plan
    due: date | None
    kind: str  # a DeadlineKind value

    @property
    def has_date(self) -> bool:
        return self.due is not None


_YEAR = r"([0-9]{4})(?![0-9])"
# "/2026", "/26", "-2026", " năm 2026", "/ năm 2026" after a month or quarter.
_YEAR_SUFFIX = rf"(?:\s*[/.-]\s*(?:nam\s*)?([0-9]{{4}}|[0-9]{{2}})(?![0-9])|\s*,?\s*nam\s*{_YEAR})?"
_MONTH = r"([0-9]{1,2})(?![0-9])"
_QUARTER = r"(iv|i{1,3}|[1-4])(?![0-9a-z])"
_RANGE_DASH = r"\s*(?:-|–|—|den|toi)\s*"

# "ngày 15 tháng 12 năm 2026": the written-out date, before the month rules read "tháng 12 năm 2026".
_LONG_DATE = re.compile(rf"(?<![0-9])([0-9]{{1,2}})\s*thang\s*{_MONTH}(?:\s*,?\s*nam\s*{_YEAR})?")
# "Tháng 1 - 2", "tháng 01 đến tháng 02", "Tháng 11 - 12/2026".
_MONTH_RANGE = re.compile(rf"\bthang\s*{_MONTH}{_RANGE_DASH}(?:thang\s*)?{_MONTH}{_YEAR_SUFFIX}")
# "Tháng 12", "Tháng 12/2026", "tháng 6 năm 2027".
_MONTH_ONLY = re.compile(rf"\bthang\s*{_MONTH}{_YEAR_SUFFIX}")
# "15/12/2026", "15-12-2026", "15.12", "Trước 20/12".
_NUMERIC_DATE = re.compile(
    r"(?<![0-9])([0-9]{1,2})\s*[/.-]\s*([0-9]{1,2})(?:\s*[/.-]\s*([0-9]{4}|[0-9]{2}))?(?![0-9])"
)
# "Quý III", "Quý 3", "Quý II/2027", "quý IV năm 2026", "Quý I - II".
_QUARTER_RANGE = re.compile(rf"\bquy\s*{_QUARTER}(?:{_RANGE_DASH}(?:quy\s*)?{_QUARTER})?{_YEAR_SUFFIX}")
# "6 tháng đầu năm" / "6 tháng cuối năm" / "nửa đầu năm".
_HALF_YEAR = re.compile(rf"\b(?:6|06|sau) thang (dau|cuoi) nam(?:\s*{_YEAR})?|\bnua (dau|cuoi) nam(?:\s*{_YEAR})?")
# Whole-year wording: the work runs through the year, so it is due on 31/12.
_WHOLE_YEAR = re.compile(
    r"\b(?:trong nam|hang nam|thuong xuyen|ca nam|suot nam|cuoi nam|dinh ky|hang quy|hang thang|lien tuc)\b"
)
_YEAR_ALONE = re.compile(rf"^(?:nam\s*)?{_YEAR}$")
_YEAR_WRITTEN = re.compile(rf"\bnam\s*{_YEAR}")
# Event-triggered wording: no date can be set until the event happens.
_CONDITIONAL = re.compile(
    r"\b(?:khi|sau khi|neu|theo yeu cau|theo chi dao|theo huong dan|phat sinh|tuy theo|tuy thuoc)\b"
)
# "Trước ngày 20/12 năm trước": relative to the plan year when no year is written.
_NEXT_YEAR = re.compile(r"\bnam (?:sau|tiep theo|ke tiep)\b")
_PREVIOUS_YEAR = re.compile(r"\bnam (?:truoc|ngoai)\b")

_ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _last_day_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _quarter_number(token: str) -> int:
    return _ROMAN_QUARTERS.get(token) or int(token)


def _year(written: str | None, default: int) -> int:
    if not written:
        return default
    year = int(written)
    return year + 2000 if len(written) == 2 else year


def _written_year(*groups: str | None) -> str | None:
    return next((group for group in groups if group), None)


def _due_date(folded: str, default_year: int) -> date | None:
    """The due date the folded text states, or None when no rule reads it. May raise ValueError."""
    if match := _LONG_DATE.search(folded):
        day, month, year = match.groups()
        return date(_year(year, default_year), int(month), int(day))
    if match := _MONTH_RANGE.search(folded):
        first, last, *years = match.groups()
        if int(last) < int(first):
            raise ValueError("month range runs backwards")
        return _last_day_of_month(_year(_written_year(*years), default_year), int(last))
    if match := _MONTH_ONLY.search(folded):
        month, *years = match.groups()
        return _last_day_of_month(_year(_written_year(*years), default_year), int(month))
    if match := _NUMERIC_DATE.search(folded):
        day, month, year = match.groups()
        return date(_year(year, default_year), int(month), int(day))
    if match := _QUARTER_RANGE.search(folded):
        first, last, *years = match.groups()
        quarter = _quarter_number(last or first)
        if quarter < _quarter_number(first):
            raise ValueError("quarter range runs backwards")
        return _last_day_of_month(_year(_written_year(*years), default_year), quarter * 3)
    if match := _HALF_YEAR.search(folded):
        half_a, year_a, half_b, year_b = match.groups()
        month = 6 if (half_a or half_b) == "dau" else 12
        return _last_day_of_month(_year(_written_year(year_a, year_b), default_year), month)
    if match := _YEAR_ALONE.match(folded):
        return date(int(match.group(1)), 12, 31)
    if _WHOLE_YEAR.search(folded) or _YEAR_WRITTEN.search(folded):
        written = _YEAR_WRITTEN.search(folded)
        return date(_year(written.group(1) if written else None, default_year), 12, 31)
    return None


def parse_deadline(text: str | None, plan_year: int) -> Deadline:
    """Read a "Thời gian hoàn thành" cell; never raises. `text` is kept exactly as given."""
    original = "" if text is None else str(text)
    folded = " ".join(fold(original).split())
    if not folded:
        return Deadline(original, None, DeadlineKind.MISSING)
    default_year = plan_year
    if _NEXT_YEAR.search(folded):
        default_year += 1
    elif _PREVIOUS_YEAR.search(folded):
        default_year -= 1
    try:
        due = _due_date(folded, default_year)
    except (ValueError, OverflowError):  # 31/02, month 13, a year out of the calendar's range
        return Deadline(original, None, DeadlineKind.UNPARSED)
    if due is not None:
        return Deadline(original, due, DeadlineKind.DATE)
    if _CONDITIONAL.search(folded):
        return Deadline(original, None, DeadlineKind.CONDITIONAL)
    return Deadline(original, None, DeadlineKind.UNPARSED)


def is_overdue(due: date | None, done: bool, today: date) -> bool:
    """Past its due date and not done. Due today is not overdue yet; no date is never overdue."""
    return due is not None and not done and today > due

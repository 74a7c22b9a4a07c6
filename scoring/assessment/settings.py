"""A year's settings (thiết lập năm): the appraisal rounds and their dates, the survey's share, the caps on bonus and
penalty, and the bands (xếp loại) of the published index; their checks, and copying them to the next year.

Pure core: what gets stored turns into plain JSON-ready dicts with `to_dict` and back with `from_dict`, which
raises InputError on malformed data.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from scoring.assessment.fields import date_field, decimal_field, required_mapping, text_field
from scoring.criteria.numbers import json_number, vn_number
from scoring.errors import InputError
from scoring.textnorm import format_date, format_percent, nfc

ZERO = Decimal(0)
HUNDRED = Decimal(100)


# --------------------------------------------------------------------------- rounds

# Round codes are stored: Vietnamese slugs, like the activity statuses in scoring.plan.stats.
ROUND_SELF_SCORING = "tu_cham"
ROUND_APPRAISAL_1 = "tham_dinh_1"
ROUND_EXPLANATION = "giai_trinh"
ROUND_APPRAISAL_2 = "tham_dinh_2"
ROUND_ORDER = (ROUND_SELF_SCORING, ROUND_APPRAISAL_1, ROUND_EXPLANATION, ROUND_APPRAISAL_2)
ROUND_LABELS = {
    ROUND_SELF_SCORING: "Tự chấm điểm",
    ROUND_APPRAISAL_1: "Thẩm định lần 1",
    ROUND_EXPLANATION: "Giải trình",
    ROUND_APPRAISAL_2: "Thẩm định lần 2",
}


@dataclass(frozen=True)
class Round:
    """One step of the year's cycle with its dates (both inclusive). A round without dates is not scheduled."""

    code: str  # one of ROUND_ORDER
    label: str
    opens: date | None = None
    closes: date | None = None

    def is_open_on(self, day: date) -> bool:
        """Within the round's dates; an unscheduled round (no dates) is never open by date."""
        if self.opens is None and self.closes is None:
            return False
        return (self.opens is None or self.opens <= day) and (self.closes is None or day <= self.closes)

    def period_text(self) -> str:
        """"01/11/2026 – 20/12/2026", as the settings page and reminders show it."""
        if self.opens is None and self.closes is None:
            return "chưa đặt lịch"
        return f"{format_date(self.opens)} – {format_date(self.closes)}"

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "label": self.label,
            "opens": self.opens.isoformat() if self.opens else None,
            "closes": self.closes.isoformat() if self.closes else None,
        }

    @staticmethod
    def from_dict(data: Any) -> Round:
        data = required_mapping(data, "vòng chấm điểm")
        code = text_field(data, "code", "vòng chấm điểm")
        where = f"vòng «{code}»"
        return Round(
            code=code,
            label=text_field(data, "label", where, default=ROUND_LABELS.get(code, code)),
            opens=date_field(data, "opens", where),
            closes=date_field(data, "closes", where),
        )


# --------------------------------------------------------------------------- bands


@dataclass(frozen=True)
class Band:
    """A classification of the published index (xếp loại): from `min_percent` (inclusive) up to the next band.

    Not to be confused with scoring.criteria.rules.Band, the percentage interval of a ratio rule's tier.
    """

    label: str  # "Nhóm A", "Tốt"
    min_percent: Decimal
    code: str  # stored and compared; the label may be reworded

    def to_dict(self) -> dict:
        return {"label": self.label, "min_percent": json_number(self.min_percent), "code": self.code}

    @staticmethod
    def from_dict(data: Any) -> Band:
        data = required_mapping(data, "mức xếp loại")
        label = text_field(data, "label", "mức xếp loại")
        where = f"mức xếp loại «{label}»"
        return Band(label=label, min_percent=decimal_field(data, "min_percent", where), code=text_field(data, "code", where))


# Provinces' groups for departments (2024 onwards): A from 90%, B from 80% to under 90%, C under 80%.
PROVINCE_GROUP_BANDS = (
    Band("Nhóm A", Decimal(90), "A"),
    Band("Nhóm B", Decimal(80), "B"),
    Band("Nhóm C", ZERO, "C"),
)
# The four grades other provinces publish. The thresholds are this app's choice, to edit per the province's
# decision: 90 and 80 keep the same top lines as the groups above, and 65 puts "Yếu" at about two thirds.
QUALITY_GRADE_BANDS = (
    Band("Tốt", Decimal(90), "tot"),
    Band("Khá", Decimal(80), "kha"),
    Band("Trung bình", Decimal(65), "trung_binh"),
    Band("Yếu", ZERO, "yeu"),
)


# --------------------------------------------------------------------------- year settings

DEFAULT_SURVEY_SHARE = Decimal(30)  # one province's departments: about 70 appraised + 30 survey (par-index.md)
# Bonus and penalty caps are set by each province's yearly decision. Defaults: a bonus of at most 3 points
# rewards initiatives without lifting a unit a whole band (bands are 10 points wide); a penalty of up to
# 5 points lets serious breaches weigh more than any bonus. Both are meant to be edited.
DEFAULT_BONUS_CAP = Decimal(3)
DEFAULT_PENALTY_CAP = Decimal(5)


@dataclass(frozen=True)
class YearSettings:
    """How one scoring year runs: its rounds, the survey split, the bonus/penalty caps and the bands.

    `survey_share` is the survey part's weight in points out of 100 (30 → 70 appraised + 30 survey). A year
    without a survey (`survey_run` False) rescales the appraised part to 100: the only method the official
    guidance describes, so it is not a choice here.
    """

    year: int
    rounds: tuple[Round, ...]
    survey_run: bool = True
    survey_share: Decimal = DEFAULT_SURVEY_SHARE
    bonus_cap: Decimal = DEFAULT_BONUS_CAP
    penalty_cap: Decimal = DEFAULT_PENALTY_CAP
    bands: tuple[Band, ...] = PROVINCE_GROUP_BANDS

    def get_round(self, code: str) -> Round | None:
        return next((r for r in self.rounds if r.code == code), None)

    def open_rounds(self, day: date) -> list[Round]:
        """The rounds open on `day` (the settings allow a shared first/last day, hence a list)."""
        return [r for r in self.rounds if r.is_open_on(day)]

    def to_dict(self) -> dict:
        return {
            "year": self.year,
            "rounds": [r.to_dict() for r in self.rounds],
            "survey_run": self.survey_run,
            "survey_share": json_number(self.survey_share),
            "bonus_cap": json_number(self.bonus_cap),
            "penalty_cap": json_number(self.penalty_cap),
            "bands": [b.to_dict() for b in self.bands],
        }

    @staticmethod
    def from_dict(data: Any) -> YearSettings:
        """Settings from stored data. Keys added after the data was saved take the year's defaults."""
        data = required_mapping(data, "thiết lập năm")
        year = data.get("year")
        if not isinstance(year, int) or isinstance(year, bool):
            raise InputError(f"Thiết lập năm không đúng dạng: năm «{year}» phải là số nguyên.")
        defaults = default_settings(year)
        where = f"thiết lập năm {year}"
        rounds = data.get("rounds")
        bands = data.get("bands")
        for key, value in (("rounds", rounds), ("bands", bands)):
            if value is not None and not isinstance(value, list):
                raise InputError(f"Thiết lập năm {year} không đúng dạng: trường «{key}» phải là danh sách.")
        survey_run = data.get("survey_run", defaults.survey_run)
        if not isinstance(survey_run, bool):
            raise InputError(f"Thiết lập năm {year} không đúng dạng: trường «survey_run» phải là true hoặc false.")
        return YearSettings(
            year=year,
            rounds=defaults.rounds if rounds is None else tuple(Round.from_dict(r) for r in rounds),
            survey_run=survey_run,
            survey_share=decimal_field(data, "survey_share", where, defaults.survey_share),
            bonus_cap=decimal_field(data, "bonus_cap", where, defaults.bonus_cap),
            penalty_cap=decimal_field(data, "penalty_cap", where, defaults.penalty_cap),
            bands=defaults.bands if bands is None else tuple(Band.from_dict(b) for b in bands),
        )


def default_settings(year: int, bands: tuple[Band, ...] = PROVINCE_GROUP_BANDS) -> YearSettings:
    """Defaults for a scoring year, to be edited to the province's plan for that year.

    Rounds: self-scoring 01/11 – 20/12 of the year; appraisal 1 21/12 – 15/01 of the next year; explanation
    16/01 – 25/01; appraisal 2 26/01 – 10/02, leaving the rest of Q1 for the survey and publication.
    """
    following = year + 1
    rounds = (
        Round(ROUND_SELF_SCORING, ROUND_LABELS[ROUND_SELF_SCORING], date(year, 11, 1), date(year, 12, 20)),
        Round(ROUND_APPRAISAL_1, ROUND_LABELS[ROUND_APPRAISAL_1], date(year, 12, 21), date(following, 1, 15)),
        Round(ROUND_EXPLANATION, ROUND_LABELS[ROUND_EXPLANATION], date(following, 1, 16), date(following, 1, 25)),
        Round(ROUND_APPRAISAL_2, ROUND_LABELS[ROUND_APPRAISAL_2], date(following, 1, 26), date(following, 2, 10)),
    )
    return YearSettings(year=year, rounds=rounds, bands=tuple(bands))


def copy_forward(settings: YearSettings, new_year: int) -> YearSettings:
    """The same settings for `new_year`, every date moved by the difference in years (29/02 → 28/02)."""
    shift = new_year - settings.year

    def moved(day: date | None) -> date | None:
        return None if day is None else _shift_years(day, shift)

    rounds = tuple(dataclasses.replace(r, opens=moved(r.opens), closes=moved(r.closes)) for r in settings.rounds)
    return dataclasses.replace(settings, year=new_year, rounds=rounds)


def _shift_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a year that has none
        return day.replace(year=day.year + years, day=28)


def settings_problems(settings: YearSettings) -> list[str]:
    """Everything wrong with a year's settings, in Vietnamese; empty when they can be used."""
    problems: list[str] = []
    if not 2000 <= settings.year <= 2100:
        problems.append(f"Năm chấm điểm {settings.year} không hợp lệ (cần từ 2000 đến 2100).")
    problems.extend(_round_problems(settings.rounds))
    share = settings.survey_share
    if not ZERO <= share <= HUNDRED:
        problems.append(f"Tỷ trọng điều tra XHH phải từ 0 đến 100 điểm (đang là {vn_number(share)}).")
    elif settings.survey_run and share == 0:
        problems.append("Năm có điều tra XHH nhưng tỷ trọng điều tra XHH bằng 0 điểm.")
    for cap, what in ((settings.bonus_cap, "điểm thưởng"), (settings.penalty_cap, "điểm trừ")):
        if cap < 0:
            problems.append(f"Mức tối đa {what} không được âm (đang là {vn_number(cap)}).")
    problems.extend(_band_problems(settings.bands))
    return problems


def _round_problems(rounds: tuple[Round, ...]) -> list[str]:
    problems = []
    codes = [r.code for r in rounds]
    for code in ROUND_ORDER:
        if code not in codes:
            problems.append(f"Thiếu vòng «{ROUND_LABELS[code]}».")
        elif codes.count(code) > 1:
            problems.append(f"Vòng «{ROUND_LABELS[code]}» được khai báo {codes.count(code)} lần.")
    for code in dict.fromkeys(codes):
        if code not in ROUND_ORDER:
            problems.append(f"Vòng có mã «{code}» không thuộc quy trình (chỉ nhận: {', '.join(ROUND_ORDER)}).")
    known = [code for code in codes if code in ROUND_ORDER]
    if known != sorted(known, key=ROUND_ORDER.index):
        labels = " → ".join(ROUND_LABELS[code] for code in ROUND_ORDER)
        problems.append(f"Các vòng phải theo thứ tự: {labels}.")
    previous: Round | None = None  # the latest round so far that has a closing date
    for r in rounds:
        if not nfc(r.label):
            problems.append(f"Vòng có mã «{r.code}» chưa có tên.")
        if r.opens and r.closes and r.opens > r.closes:
            problems.append(
                f"Vòng «{r.label}»: ngày bắt đầu {format_date(r.opens)} sau ngày kết thúc {format_date(r.closes)}."
            )
        # A round may start on the day the previous one ends (a unit can lock in the morning), not before.
        if previous is not None and r.opens and r.opens < previous.closes:
            problems.append(
                f"Vòng «{r.label}» bắt đầu {format_date(r.opens)}, trước khi vòng «{previous.label}» "
                f"kết thúc ({format_date(previous.closes)})."
            )
        if r.closes:
            previous = r
    return problems


def _band_problems(bands: tuple[Band, ...]) -> list[str]:
    if not bands:
        return ["Chưa có mức xếp loại nào."]
    problems = []
    codes = [b.code for b in bands]
    for position, band in enumerate(bands, start=1):
        if not nfc(band.label):
            problems.append(f"Mức xếp loại thứ {position} chưa có tên.")
        if not nfc(band.code):
            problems.append(f"Mức xếp loại «{band.label}» chưa có mã.")
        elif codes.count(band.code) > 1 and codes.index(band.code) == position - 1:  # once, at its first use
            problems.append(f"Mã xếp loại «{band.code}» được dùng {codes.count(band.code)} lần.")
        if not ZERO <= band.min_percent <= HUNDRED:
            problems.append(
                f"Ngưỡng của mức «{band.label}» phải từ 0% đến 100% (đang là {vn_number(band.min_percent)}%)."
            )
    for higher, lower in itertools.pairwise(bands):
        if lower.min_percent >= higher.min_percent:
            problems.append(
                f"Các mức xếp loại phải xếp từ cao xuống thấp, không trùng ngưỡng: «{lower.label}» (từ "
                f"{vn_number(lower.min_percent)}%) đứng sau «{higher.label}» (từ {vn_number(higher.min_percent)}%)."
            )
    lowest = bands[-1]
    if lowest.min_percent > 0:
        problems.append(
            f"Mức thấp nhất «{lowest.label}» bắt đầu từ {vn_number(lowest.min_percent)}%: chỉ số thấp hơn không "
            "có xếp loại (đặt ngưỡng của mức thấp nhất là 0%)."
        )
    return problems


def band_for(percent: Decimal, settings: YearSettings) -> Band:
    """The band of a published (already rounded) percentage: the first band, from the top, it reaches."""
    for band in settings.bands:
        if percent >= band.min_percent:
            return band
    raise InputError(
        f"Chỉ số {format_percent(percent, 2)} không thuộc mức xếp loại nào của năm {settings.year}: "
        "hãy kiểm tra các mức xếp loại trong thiết lập năm."
    )


def band_range_text(band: Band, bands: tuple[Band, ...]) -> str:
    """The band's interval as rules are written: "từ 80% đến dưới 90%", "từ 90% trở lên", "dưới 80%"."""
    position = bands.index(band)
    upper = bands[position - 1].min_percent if position > 0 else None
    low = vn_number(band.min_percent)
    if upper is None:
        return f"từ {low}% trở lên"
    if band.min_percent == 0:
        return f"dưới {vn_number(upper)}%"
    return f"từ {low}% đến dưới {vn_number(upper)}%"
